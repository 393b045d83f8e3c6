"""Snapshots: dated copies of a space in ``<space>/.jupyter-spaces/snapshots/<id>/``.

A snapshot holds the workspace file as it was (byte for byte), the captured screen text of its
panes, and a whole copy of every agent transcript its panes reference: the CLIs delete
transcripts after 30 days by default, and a snapshot is meant to be restorable after that. The
folder is git-ignored (the ``.gitignore`` of ``.jupyter-spaces`` keeps only ``space.json``), since
screens and transcripts can hold secrets.

Layout of one snapshot::

    snapshot.json            the manifest (id, name, time, panes, transcripts and where they were)
    space.json               the workspace file, unchanged
    screens/<pane>.txt       captured screen text (mtime = the pane's last output)
    transcripts/<nnnnn>      transcript copies; the manifest maps each to its original path

A snapshot is built in a hidden temporary folder beside the others and renamed into place, so a
crash never leaves half a snapshot under a valid id. Ids are ``YYYYMMDD-HHMMSS-xxxx`` (UTC time and
four random hex digits) and sort by time; anything else is refused (404) before a path is built.

The manifest carries the sha256 of ``space.json`` and is signed with the trust notary when the
server (or ``jupyter spaces``) writes it. On restore, transcripts go back only from a signed
snapshot (one this user made), only where the file is missing (an existing transcript is never
overwritten), and only inside the agents' transcript folders (never, say, a CLI's settings file).
Whether the restored workspace file is trusted is decided by its own bytes, as for any
workspace file: a snapshot of an untrusted space comes back untrusted.

Every function raises :class:`~jupyter_spaces.errors.SpacesError` with the HTTP status a client
gets (404 unknown or malformed id, 400 corrupt, 409 ``newer``), and changes nothing when it does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .errors import SpacesError
from .model import SCHEMA_VERSION, Space, WorkspaceError, validate_schema
from .restore import SCREENS_DIR
from .safefs import UnsafePath, state_subdir
from .store import STATE_DIR, _fsync_dir, atomic_write_text

SNAPSHOT_VERSION = 1
SNAPSHOTS_DIR = "snapshots"
MANIFEST = "snapshot.json"
SPACE_COPY = "space.json"
TRANSCRIPTS_DIR = "transcripts"
MAX_NAME = 200
# A manifest is a few kilobytes; a huge one is not ours.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
# Files of one session's side folder (Claude sub-agents, tool results) copied at most.
MAX_SIDE_FILES = 10000

ID_RE = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{4}", re.ASCII)
_TIME_FORMAT = "%Y%m%d-%H%M%S"
_COPY_RE = re.compile(rf"{TRANSCRIPTS_DIR}/[0-9]{{5}}", re.ASCII)
_PANE_ID_RE = re.compile(r"[a-z0-9]{4,32}", re.ASCII)


# -- paths and ids ------------------------------------------------------------------------------


def snapshots_dir(space_dir: Path, create: bool = False) -> Path:
    """``<space>/.jupyter-spaces/snapshots``, never through a link (409 if one is planted)."""
    try:
        return state_subdir(Path(space_dir), SNAPSHOTS_DIR, create=create)
    except FileNotFoundError:
        return Path(space_dir) / STATE_DIR / SNAPSHOTS_DIR  # absent: nothing is found there
    except UnsafePath as e:
        raise SpacesError(409, f"snapshots cannot be used: {e}") from None


def _screens_dir(space_dir: Path, create: bool = False) -> Path | None:
    try:
        return state_subdir(Path(space_dir), SCREENS_DIR, create=create)
    except FileNotFoundError:
        return None
    except UnsafePath as e:
        raise SpacesError(409, f"screens cannot be used: {e}") from None


def valid_snapshot_id(snapshot_id: object) -> bool:
    return isinstance(snapshot_id, str) and ID_RE.fullmatch(snapshot_id) is not None


def snapshot_dir(space_dir: Path, snapshot_id: object) -> Path:
    """The folder of a snapshot; 404 for anything that is not an id (never a path)."""
    if not valid_snapshot_id(snapshot_id):
        shown = repr(snapshot_id)[:80]
        raise SpacesError(404, f"no snapshot {shown}: snapshot ids look like 20260101-120000-abcd")
    assert isinstance(snapshot_id, str)
    return snapshots_dir(space_dir) / snapshot_id


def new_id(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return f"{now.astimezone(timezone.utc).strftime(_TIME_FORMAT)}-{secrets.token_hex(2)}"


def id_time(snapshot_id: str) -> datetime:
    return datetime.strptime(snapshot_id[:15], _TIME_FORMAT).replace(tzinfo=timezone.utc)


def check_name(name: object) -> str:
    if name is None:
        return ""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise SpacesError(400, f"name must be 1 to {MAX_NAME} characters")
    if any(not ch.isprintable() for ch in name):
        raise SpacesError(400, "name may not hold control characters")
    return name.strip()


# -- what goes in -------------------------------------------------------------------------------


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
    sign: Callable[[bytes], None] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Write a snapshot of the space in ``space_dir`` whose workspace file is ``space_bytes``;
    returns its manifest. ``sign`` records the manifest's bytes as this user's."""
    try:
        doc = json.loads(space_bytes.decode("utf-8"))
        space = Space.from_json(doc, allow_newer=True)
    except (ValueError, WorkspaceError) as e:
        raise SpacesError(
            409, f"the space cannot be snapshotted: space.json is not valid: {e}"
        ) from None
    now = now or datetime.now(timezone.utc)
    parent = snapshots_dir(space_dir, create=True)
    _remove_leftovers(parent)
    snapshot_id = new_id(now)
    while (parent / snapshot_id).exists():
        snapshot_id = new_id(now)
    tmp = parent / f".tmp-{snapshot_id}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        manifest = _build(tmp, space_dir, space, space_bytes, transcripts, snapshot_id, name, now)
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
    src_screens = _screens_dir(space_dir)
    for pane_id in space.panes:
        if src_screens is None:
            break
        src = src_screens / f"{pane_id}.txt"
        if src.is_file() and not src.is_symlink():
            (tmp / SCREENS_DIR).mkdir(exist_ok=True)
            shutil.copy2(src, tmp / SCREENS_DIR / src.name)  # keeps mtime: "restored from <time>"
            screens[pane_id] = src.stat().st_size
            total += screens[pane_id]
    copies: list[dict[str, Any]] = []
    missing: list[dict[str, str]] = []
    copied: set[tuple[str, str]] = set()
    for source in transcripts:
        got = 0
        for path in source.files:
            target = f"{TRANSCRIPTS_DIR}/{len(copies):05d}"
            (tmp / TRANSCRIPTS_DIR).mkdir(exist_ok=True)
            try:
                shutil.copy2(path, tmp / target)
            except FileNotFoundError:
                continue  # deleted between listing and copying
            size = (tmp / target).stat().st_size
            total += size
            got += 1
            copies.append(
                {
                    "agent": source.agent,
                    "session_id": source.session_id,
                    "path": os.path.abspath(path),
                    "file": target,
                    "bytes": size,
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
        "missing_transcripts": missing,
        "transcripts": copies,
    }


# -- reading ------------------------------------------------------------------------------------


@dataclass
class Snapshot:
    dir: Path
    manifest: dict[str, Any]
    manifest_bytes: bytes

    @property
    def id(self) -> str:
        return str(self.manifest["id"])

    def public(self) -> dict[str, Any]:
        """The manifest as the API shows it (original transcript paths stay server-side)."""
        m = self.manifest
        return {
            "id": m["id"],
            "name": m["name"],
            "created": m["created"],
            "space_id": m["space_id"],
            "space_name": m["space_name"],
            "panes": m["panes"],
            "bytes": m["bytes"],
            "missing_transcripts": m["missing_transcripts"],
            "transcripts": len(m["transcripts"]),
            "status": "ok",
            "message": None,
        }


def _corrupt(snapshot_id: str, why: str) -> SpacesError:
    return SpacesError(400, f"snapshot {snapshot_id} is corrupt: {why}", "corrupt")


def read(space_dir: Path, snapshot_id: object) -> Snapshot:
    """A snapshot's checked manifest: 404 unknown, 400 corrupt, 409 ``newer``."""
    folder = snapshot_dir(space_dir, snapshot_id)
    assert isinstance(snapshot_id, str)
    if folder.is_symlink() or not folder.is_dir():
        raise SpacesError(404, f"no snapshot {snapshot_id}")
    path = folder / MANIFEST
    try:
        with path.open("rb") as f:
            data = f.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        raise _corrupt(snapshot_id, f"{MANIFEST} is missing") from None
    except OSError as e:
        raise _corrupt(snapshot_id, f"{MANIFEST} cannot be read: {e.strerror or e}") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise _corrupt(snapshot_id, f"{MANIFEST} is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        m = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as e:
        raise _corrupt(snapshot_id, f"{MANIFEST} is not valid JSON ({e})") from None
    if not isinstance(m, dict):
        raise _corrupt(snapshot_id, f"{MANIFEST} does not hold a JSON object")
    version = m.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _corrupt(snapshot_id, "it has no valid version number")
    if version > SNAPSHOT_VERSION:
        raise SpacesError(
            409,
            f"snapshot {snapshot_id} was made by a newer jupyter-spaces (snapshot version "
            f"{version}; this one reads {SNAPSHOT_VERSION}); upgrade to use it",
            "newer",
        )
    _check_manifest(m, snapshot_id)
    return Snapshot(folder, m, data)


def _check_manifest(m: dict[str, Any], snapshot_id: str) -> None:
    def need(key: str, kind: type | tuple[type, ...]) -> Any:
        value = m.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise _corrupt(snapshot_id, f"{key!r} is missing or has the wrong type")
        return value

    if need("id", str) != snapshot_id:
        raise _corrupt(snapshot_id, f"its manifest names another snapshot ({m['id']!r})")
    for key in ("name", "created", "space_id", "space_name", "space_sha256"):
        need(key, str)
    need("bytes", int)
    for pane in need("panes", list):
        if not isinstance(pane, dict) or not _PANE_ID_RE.fullmatch(str(pane.get("id", ""))):
            raise _corrupt(snapshot_id, "a pane entry is malformed")
    for item in need("missing_transcripts", list):
        if not isinstance(item, dict):
            raise _corrupt(snapshot_id, "a missing_transcripts entry is malformed")
    for t in need("transcripts", list):
        ok = (
            isinstance(t, dict)
            and isinstance(t.get("agent"), str)
            and isinstance(t.get("session_id"), str)
            and isinstance(t.get("path"), str)
            and isinstance(t.get("file"), str)
            and _COPY_RE.fullmatch(t["file"]) is not None
        )
        if not ok:
            raise _corrupt(snapshot_id, "a transcript entry is malformed")


def _newest_first(space_dir: Path) -> list[str]:
    """Snapshot ids, newest first: by the time in the id, then (within one second) by when the
    manifest was written."""
    parent = snapshots_dir(space_dir)
    try:
        names = [n for n in os.listdir(parent) if valid_snapshot_id(n)]
    except (FileNotFoundError, NotADirectoryError):
        return []

    def key(name: str) -> tuple[str, int, str]:
        try:
            written = (parent / name / MANIFEST).stat().st_mtime_ns
        except OSError:
            written = 0
        return (name[:15], written, name)

    return sorted(names, key=key, reverse=True)


def list_snapshots(space_dir: Path) -> list[dict[str, Any]]:
    """Every snapshot, newest first; corrupt and newer ones are listed with their status, so
    they can be seen and deleted."""
    out = []
    for snapshot_id in _newest_first(space_dir):
        try:
            out.append(read(space_dir, snapshot_id).public())
        except SpacesError as e:
            if e.status_code == 404:
                continue  # a stray file or link under an id-like name
            out.append(
                {
                    "id": snapshot_id,
                    "name": "",
                    "created": id_time(snapshot_id).isoformat().replace("+00:00", "Z"),
                    "status": e.code or "corrupt",
                    "message": e.message,
                }
            )
    return out


def load_space(snap: Snapshot, space_id: str) -> tuple[dict[str, Any], bytes]:
    """The snapshot's workspace document, checked as a restore needs it."""
    try:
        data = (snap.dir / SPACE_COPY).read_bytes()
    except OSError as e:
        raise _corrupt(snap.id, f"its space.json cannot be read: {e.strerror or e}") from None
    if _sha256(data) != snap.manifest["space_sha256"]:
        raise _corrupt(snap.id, "its space.json does not match the manifest")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as e:
        raise _corrupt(snap.id, f"its space.json is not valid JSON ({e})") from None
    if not isinstance(doc, dict):
        raise _corrupt(snap.id, "its space.json does not hold a JSON object")
    version = doc.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise SpacesError(
            409,
            f"snapshot {snap.id} holds a workspace file of a newer jupyter-spaces (schema "
            f"version {version}; this one reads {SCHEMA_VERSION})",
            "newer",
        )
    try:
        validate_schema(doc)
        Space.from_json(doc)
    except WorkspaceError as e:
        raise _corrupt(snap.id, f"its space.json is not a valid workspace file: {e}") from None
    if doc.get("id") != space_id:
        raise SpacesError(
            400, f"snapshot {snap.id} belongs to space {doc.get('id')!r}, not {space_id}"
        )
    return doc, data


def layout(snap: Snapshot) -> Any:
    """The layout the snapshot holds (None when its space.json cannot be read)."""
    with contextlib.suppress(OSError, ValueError, RecursionError):
        doc = json.loads((snap.dir / SPACE_COPY).read_bytes())
        if isinstance(doc, dict):
            return doc.get("layout")
    return None


# -- deleting -----------------------------------------------------------------------------------


def delete(space_dir: Path, snapshot_id: object) -> None:
    folder = snapshot_dir(space_dir, snapshot_id)
    if folder.is_symlink() or not folder.is_dir():
        raise SpacesError(404, f"no snapshot {snapshot_id}")
    _remove(folder)


def _remove(folder: Path) -> None:
    # Renamed out of the id namespace first: a half-deleted snapshot is never listed.
    trash = folder.with_name(f".del-{folder.name}-{secrets.token_hex(4)}")
    os.rename(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)


def prune(
    space_dir: Path,
    keep: int | None,
    older_than_days: float | None,
    now: datetime | None = None,
) -> dict[str, list[str]]:
    """Delete snapshots that no given rule keeps: ``keep`` keeps the newest N, ``older_than_days``
    keeps those younger than that. With both, a snapshot goes only when it is outside the newest
    N *and* older than the age (the newest N always stay)."""
    if keep is None and older_than_days is None:
        raise SpacesError(400, "prune needs keep, older_than_days, or both")
    if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool) or keep < 0):
        raise SpacesError(400, "keep must be a whole number, 0 or more")
    if older_than_days is not None and (
        isinstance(older_than_days, bool)
        or not isinstance(older_than_days, (int, float))
        or not 0 <= older_than_days <= 36500
    ):
        raise SpacesError(400, "older_than_days must be a number of days from 0 to 36500")
    now = now or datetime.now(timezone.utc)
    deleted, kept = [], []
    for rank, snapshot_id in enumerate(_newest_first(space_dir)):
        kept_by_count = keep is not None and rank < keep
        kept_by_age = older_than_days is not None and now - id_time(snapshot_id) < timedelta(
            days=older_than_days
        )
        if kept_by_count or kept_by_age:
            kept.append(snapshot_id)
            continue
        folder = snapshots_dir(space_dir) / snapshot_id
        if folder.is_symlink() or not folder.is_dir():
            continue
        _remove(folder)
        deleted.append(snapshot_id)
    return {"deleted": deleted, "kept": kept}


# -- putting back -------------------------------------------------------------------------------


def transcript_areas(agent: str, roots: Sequence[Path]) -> list[Path]:
    """The folders under an agent's roots that hold only transcripts: the only places a
    restore writes to (never the CLI's settings beside them)."""
    subdirs = {
        "claude": ["projects"],
        "codex": ["sessions", "archived_sessions"],
        "gemini": ["tmp"],  # its roots are the .gemini folders (see GeminiFormat.owns)
    }.get(agent, [])
    return [Path(root) / sub for root in roots for sub in subdirs]


def _real_inside(path: str, areas: Sequence[Path]) -> bool:
    """``path`` (absolute, normalised) resolves inside one of ``areas``; symlinks on the way
    are followed, so a link out of an area does not count."""
    if not os.path.isabs(path) or "\x00" in path or os.path.normpath(path) != path:
        return False
    real = os.path.realpath(path)
    for area in areas:
        base = os.path.realpath(area)
        if real.startswith(base.rstrip(os.sep) + os.sep):
            return True
    return False


@dataclass
class PutBack:
    restored: list[str] = field(default_factory=list)  # copied back to their original paths
    present: list[str] = field(default_factory=list)  # already there: left alone
    refused: list[str] = field(default_factory=list)  # outside the transcript folders


def put_back_transcripts(snap: Snapshot, roots: Mapping[str, Sequence[Path]]) -> PutBack:
    """Copy each transcript of the snapshot to its original path when that is missing."""
    result = PutBack()
    for t in snap.manifest["transcripts"]:
        target = t["path"]
        if not _real_inside(target, transcript_areas(t["agent"], roots.get(t["agent"], []))):
            result.refused.append(target)
            continue
        if os.path.lexists(target):
            result.present.append(target)
            continue
        source = snap.dir / t["file"]
        if source.is_symlink() or not source.is_file():
            raise _corrupt(snap.id, f"the copy {t['file']} is missing")
        parent = os.path.dirname(target)
        os.makedirs(parent, exist_ok=True)
        if not _real_inside(target, transcript_areas(t["agent"], roots.get(t["agent"], []))):
            result.refused.append(target)  # the folder just made is reached through a link out
            continue
        tmp = os.path.join(parent, f".{os.path.basename(target)}.{secrets.token_hex(4)}.tmp")
        try:
            shutil.copy2(source, tmp)
            try:
                os.link(tmp, target)  # fails if the CLI wrote the file meanwhile: keep theirs
            except FileExistsError:
                result.present.append(target)
                continue
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        result.restored.append(target)
    return result


def put_back_screens(snap: Snapshot, space_dir: Path) -> list[str]:
    """Replace the space's captured screens with the snapshot's; returns the pane ids."""
    src = snap.dir / SCREENS_DIR
    done = []
    for pane in snap.manifest["panes"]:
        source = src / f"{pane['id']}.txt"
        if source.is_symlink() or not source.is_file():
            continue
        dst = _screens_dir(space_dir, create=True)
        assert dst is not None
        target = dst / source.name
        tmp = dst / f".{source.name}.{secrets.token_hex(4)}.tmp"
        try:
            shutil.copy2(source, tmp)
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        done.append(pane["id"])
    return done
