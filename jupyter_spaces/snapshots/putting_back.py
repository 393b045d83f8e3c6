"""Putting a snapshot's transcripts and screens back where they came from, never through a
link and never outside the agents' own folders."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..restore import SCREENS_DIR
from . import blobs
from .ids import (
    _screens_dir,
)
from .reading import (
    Snapshot,
    _corrupt,
)


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
        if "file" in t:  # version 1: a copy in the snapshot's folder
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
            _copy_out(snap, t, tmp)
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


def _copy_out(snap: Snapshot, item: Mapping[str, Any], target: str | Path) -> None:
    """Write a file the snapshot holds to ``target`` (a new path): from its chunks (version 2)
    or its copy in the snapshot's folder (version 1)."""
    if "chunks" in item:
        try:
            blobs.write_file(snap.dir.parent, item["chunks"], target, float(item["mtime"]))
        except blobs.BlobError as e:
            raise _corrupt(snap.id, str(e)) from None
    else:
        shutil.copy2(snap.dir / item["file"], target)


def put_back_screens(snap: Snapshot, space_dir: Path) -> list[str]:
    """Replace the space's captured screens with the snapshot's; returns the pane ids."""
    src = snap.dir / SCREENS_DIR
    stored = {s["pane"]: s for s in snap.manifest.get("screens", [])}
    done = []
    for pane in snap.manifest["panes"]:
        name = f"{pane['id']}.txt"
        item: Mapping[str, Any]
        if snap.manifest["version"] >= 2:
            if pane["id"] not in stored:
                continue
            item = stored[pane["id"]]
        else:
            source = src / name
            if source.is_symlink() or not source.is_file():
                continue
            item = {"file": f"{SCREENS_DIR}/{name}"}
        dst = _screens_dir(space_dir, create=True)
        assert dst is not None
        target = dst / name
        tmp = dst / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            _copy_out(snap, item, tmp)
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        done.append(pane["id"])
    return done
