"""Where snapshots live, their ids and names, and the limits on what a manifest holds."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone
from pathlib import Path

from ..errors import SpacesError
from ..restore import SCREENS_DIR
from ..safefs import UnsafePath, state_subdir
from ..store import STATE_DIR

# 1: every file copied into the snapshot's folder; 2: screens and transcripts as chunks in the
# shared blob store (``blobs.py``), with the reason the snapshot was taken. Both are read.
SNAPSHOT_VERSION = 2
SNAPSHOTS_DIR = "snapshots"
MANIFEST = "snapshot.json"
SPACE_COPY = "space.json"
TRANSCRIPTS_DIR = "transcripts"
MAX_NAME = 200
# Why a snapshot was taken (v1 snapshots read as "manual").
REASONS = (
    "manual",
    "scheduled",
    "before_restore",
    "before_trust",
    "agent_ended",
    "before_delete",
)
PIN_FILE = "pinned"
# A manifest is a few kilobytes; a huge one is not ours.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
# Files of one session's side folder (Claude sub-agents, tool results) copied at most.
MAX_SIDE_FILES = 10000

ID_RE = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{4}", re.ASCII)
_TIME_FORMAT = "%Y%m%d-%H%M%S"
_COPY_RE = re.compile(rf"{TRANSCRIPTS_DIR}/[0-9]{{5}}", re.ASCII)
_PANE_ID_RE = re.compile(r"[a-z0-9]{4,32}", re.ASCII)


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
