"""Taking a snapshot: the space's document, its screens and its agents' transcripts, written
to a hidden folder and renamed into place whole; the screens and transcripts as chunks in the
blob store the snapshots of the space share (``blobs.py``)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import SpacesError
from ..model import Space, WorkspaceError
from ..store import _fsync_dir, atomic_write_text
from . import blobs
from .ids import (
    MANIFEST,
    MAX_SIDE_FILES,
    REASONS,
    SNAPSHOT_VERSION,
    SPACE_COPY,
    _screens_dir,
    new_id,
    snapshots_dir,
)


@dataclass
class TranscriptSource:
    """An agent session a pane references, and its files on disk now (empty: not found)."""

    agent: str
    session_id: str
    files: list[str] = field(default_factory=list)


def session_files(files: Iterable[str], session_id: str) -> list[str]:
    """The existing transcript ``files`` of a session plus what sits in a folder named after the
    session beside each of them (Claude's ``<id>/subagents/``, Gemini's ``chats/<id>/``)."""
    out: list[str] = []
    for f in files:
        if os.path.isfile(f) and f not in out:
            out.append(f)
        side = os.path.join(os.path.dirname(f), session_id)
        if not os.path.isdir(side) or os.path.islink(side):
            continue
        for dirpath, dirnames, filenames in os.walk(side):
            dirnames[:] = sorted(
                d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))
            )
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                if os.path.isfile(path) and not os.path.islink(path) and path not in out:
                    out.append(path)
                    if len(out) >= MAX_SIDE_FILES:
                        return out
    return out


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def create(
    space_dir: Path,
    space_bytes: bytes,
    transcripts: Sequence[TranscriptSource],
    *,
    name: str = "",
    reason: str = "manual",
    sign: Callable[[bytes], None] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Write a snapshot of the space in ``space_dir`` whose workspace file is ``space_bytes``;
    returns its manifest. ``sign`` records the manifest's bytes as this user's."""
    if reason not in REASONS:
        raise SpacesError(400, f"reason must be one of {', '.join(REASONS)}")
    try:
        doc = json.loads(space_bytes.decode("utf-8"))
        space = Space.from_json(doc, allow_newer=True)
    except (ValueError, WorkspaceError) as e:
        raise SpacesError(
            409, f"the space cannot be snapshotted: space.json is not valid: {e}"
        ) from None
    now = now or datetime.now(timezone.utc)
    parent = snapshots_dir(space_dir, create=True)
    with blobs.locked(parent):
        _remove_leftovers(parent)
        snapshot_id = new_id(now)
        while (parent / snapshot_id).exists():
            snapshot_id = new_id(now)
        tmp = parent / f".tmp-{snapshot_id}-{secrets.token_hex(4)}"
        tmp.mkdir()
        try:
            writer = blobs.Writer(parent)
            manifest = _build(
                tmp, writer, space_dir, space, space_bytes, transcripts, snapshot_id, name, now
            )
            manifest["reason"] = reason
            manifest["new_bytes"] = writer.new_bytes + len(space_bytes)
            writer.sync()  # the blobs are on disk before a manifest names them
            text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
            atomic_write_text(tmp / MANIFEST, text)
            if sign is not None:
                sign(text.encode("utf-8"))
            _fsync_dir(tmp)
            os.rename(tmp, parent / snapshot_id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _fsync_dir(parent)
    return manifest


# A hidden build or delete folder older than this was cut short by a crash.
STALE_SECONDS = 3600


def _remove_leftovers(parent: Path) -> None:
    for entry in os.scandir(parent):
        if not entry.name.startswith((".tmp-", ".del-")) or entry.is_symlink():
            continue
        with contextlib.suppress(OSError):
            if time.time() - entry.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(entry.path, ignore_errors=True)


def _build(
    tmp: Path,
    writer: blobs.Writer,
    space_dir: Path,
    space: Space,
    space_bytes: bytes,
    transcripts: Sequence[TranscriptSource],
    snapshot_id: str,
    name: str,
    now: datetime,
) -> dict[str, Any]:
    (tmp / SPACE_COPY).write_bytes(space_bytes)
    total = len(space_bytes)
    screens: dict[str, int] = {}
    screen_files: list[dict[str, Any]] = []
    src_screens = _screens_dir(space_dir)
    for pane_id in space.panes:
        if src_screens is None:
            break
        src = src_screens / f"{pane_id}.txt"
        if src.is_file() and not src.is_symlink():
            try:
                # mtime kept: "restored from <time>"
                chunks, size, mtime = writer.put_file(src)
            except FileNotFoundError:
                continue
            screens[pane_id] = size
            total += size
            screen_files.append({"pane": pane_id, "chunks": chunks, "bytes": size, "mtime": mtime})
    copies: list[dict[str, Any]] = []
    missing: list[dict[str, str]] = []
    copied: set[tuple[str, str]] = set()
    for source in transcripts:
        got = 0
        for path in source.files:
            try:
                chunks, size, mtime = writer.put_file(path)
            except FileNotFoundError:
                continue  # deleted between listing and copying
            total += size
            got += 1
            copies.append(
                {
                    "agent": source.agent,
                    "session_id": source.session_id,
                    "path": os.path.abspath(path),
                    "chunks": chunks,
                    "bytes": size,
                    "mtime": mtime,
                }
            )
        if got:
            copied.add((source.agent, source.session_id))
        else:
            missing.append({"agent": source.agent, "session_id": source.session_id})
    panes = [
        {
            "id": p.id,
            "title": p.title,
            "kind": p.kind,
            "agent": p.agent,
            "session_id": p.session_id,
            "screen_bytes": screens.get(p.id, 0),
            "transcript": (p.agent or "", p.session_id or "") in copied,
        }
        for p in space.panes.values()
    ]
    return {
        "format": "jupyter-spaces-snapshot",
        "version": SNAPSHOT_VERSION,
        "id": snapshot_id,
        "name": name,
        "created": now.astimezone(timezone.utc)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
        "space_id": space.id,
        "space_name": space.name,
        "space_sha256": _sha256(space_bytes),
        "panes": panes,
        "bytes": total,
        "chunk_size": blobs.CHUNK,
        "screens": screen_files,
        "missing_transcripts": missing,
        "transcripts": copies,
    }
