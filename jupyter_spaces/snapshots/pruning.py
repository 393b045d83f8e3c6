"""Deleting snapshots: one, or all but the newest few and those younger than a cut-off."""

from __future__ import annotations

import os
import secrets
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..errors import SpacesError
from .ids import (
    id_time,
    snapshot_dir,
    snapshots_dir,
)
from .reading import (
    _newest_first,
)


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
