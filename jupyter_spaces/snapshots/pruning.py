"""Deleting snapshots: one, those a retention policy does not keep, or all but the newest few
and those younger than a cut-off; then the blobs no snapshot uses any more. Pinning."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..errors import SpacesError
from . import blobs
from .ids import (
    PIN_FILE,
    id_time,
    snapshot_dir,
    snapshots_dir,
)
from .reading import Snapshot, _listing, read
from .retention import Policy, decide


def delete(space_dir: Path, snapshot_id: object) -> None:
    folder = snapshot_dir(space_dir, snapshot_id)
    if folder.is_symlink() or not folder.is_dir():
        raise SpacesError(404, f"no snapshot {snapshot_id}")
    with blobs.locked(folder.parent):
        _remove(folder)
        _collect(space_dir)


def _remove(folder: Path) -> None:
    # Renamed out of the id namespace first: a half-deleted snapshot is never listed.
    trash = folder.with_name(f".del-{folder.name}-{secrets.token_hex(4)}")
    os.rename(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _collect(space_dir: Path) -> tuple[int, int]:
    """Remove the blobs no snapshot uses (the caller holds the lock). While any snapshot cannot
    be read (corrupt, or from a newer version) nothing is removed: it may use them."""
    listed, good = _listing(space_dir)
    if len(good) != len(listed):
        return 0, 0
    referenced = {c for snap in good for c in snap.chunks()}
    return blobs.collect(snapshots_dir(space_dir), referenced)


def prune(
    space_dir: Path,
    keep: int | None,
    older_than_days: float | None,
    now: datetime | None = None,
) -> dict[str, list[str]]:
    """Delete snapshots that no given rule keeps: ``keep`` keeps the newest N, ``older_than_days``
    keeps those younger than that. With both, a snapshot goes only when it is outside the newest
    N *and* older than the age (the newest N always stay). Named and pinned snapshots stay."""
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
    deleted: list[str] = []
    kept: list[str] = []
    parent = snapshots_dir(space_dir)
    if not parent.is_dir():
        return {"deleted": deleted, "kept": kept}
    with blobs.locked(parent):
        listed, _ = _listing(space_dir)
        for rank, s in enumerate(listed):
            snapshot_id = s["id"]
            kept_by_count = keep is not None and rank < keep
            kept_by_age = older_than_days is not None and now - id_time(snapshot_id) < timedelta(
                days=older_than_days
            )
            if kept_by_count or kept_by_age or s.get("pinned") or s.get("name"):
                kept.append(snapshot_id)
                continue
            folder = parent / snapshot_id
            if folder.is_symlink() or not folder.is_dir():
                continue
            _remove(folder)
            deleted.append(snapshot_id)
        if deleted:
            _collect(space_dir)
    return {"deleted": deleted, "kept": kept}


def apply_policy(
    space_dir: Path, policy: Policy, now: datetime | None = None, dry_run: bool = False
) -> dict[str, Any]:
    """Remove the snapshots ``policy`` does not keep (none with ``dry_run``); returns what was
    (or would be) deleted, what is kept and why, and the bytes freed (or that would be)."""
    now = now or datetime.now(timezone.utc)
    result: dict[str, Any] = {
        "dry_run": dry_run,
        "policy": policy.to_json(),
        "deleted": [],
        "kept": [],
        "reasons": {},
        "freed_bytes": 0,
    }
    parent = snapshots_dir(space_dir)
    if not parent.is_dir():
        return result
    with blobs.locked(parent):
        listed, good = _listing(space_dir)
        reasons = decide(listed, policy, now)
        doomed = [s["id"] for s in listed if not reasons[s["id"]]]
        result["deleted"] = doomed
        result["kept"] = [s["id"] for s in listed if reasons[s["id"]]]
        result["reasons"] = {k: v for k, v in reasons.items() if v}
        if dry_run:
            result["freed_bytes"] = _would_free(good, set(doomed), len(good) == len(listed))
            return result
        before = blobs.disk_bytes(parent)
        for snapshot_id in doomed:
            folder = parent / snapshot_id
            if not folder.is_symlink() and folder.is_dir():
                _remove(folder)
        if doomed:
            _collect(space_dir)
        result["freed_bytes"] = max(0, before - blobs.disk_bytes(parent))
    return result


def _would_free(good: list[Snapshot], doomed: set[str], collectable: bool) -> int:
    total = 0
    kept_chunks: set[str] = set()
    for snap in good:
        if snap.id not in doomed:
            kept_chunks.update(snap.chunks())
    freed_chunks: dict[str, int] = {}
    for snap in good:
        if snap.id not in doomed:
            continue
        total += snap.own_bytes()
        if not collectable:
            continue
        for item in snap.stored():
            for c, n in blobs.item_chunks(item):
                if c not in kept_chunks:
                    freed_chunks[c] = n
    return total + sum(freed_chunks.values())


def set_pinned(space_dir: Path, snapshot_id: object, pinned: bool) -> None:
    """Pin a snapshot (no prune or policy removes it) or unpin it. A marker file beside the
    manifest: the signed manifest is never rewritten."""
    snap = read(space_dir, snapshot_id)
    marker = snap.dir / PIN_FILE
    if pinned:
        if marker.is_symlink():
            marker.unlink()
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        os.close(fd)
    else:
        with contextlib.suppress(FileNotFoundError):
            marker.unlink()
