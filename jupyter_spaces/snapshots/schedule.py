"""When snapshots are taken by themselves, and a space's own choice of schedule and retention.

``snapshot_schedule`` (a server setting) and a space's own ``schedule`` are written ``off``,
``hourly``, ``daily``, or a whole number with a unit: ``90s``, ``30m``, ``2h``, ``1d``.

A space's own settings are kept in ``.jupyter-spaces/snapshots/policy.json`` beside the snapshots
they are about, not in ``space.json``: the snapshots are this machine's and git-ignored, so the
choice of how often to take them and how long to keep them is too; it never shows up as a change
in the project's repository, needs no trust, and ``jupyter spaces prune`` reads it without a
server. The file is plain data (a schedule and four counts), checked when read; a copy from
elsewhere can at most make snapshots more or less frequent. A file that fails the checks is
ignored (the server settings apply) and reported, never used in part.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SpacesError
from ..safefs import read_nofollow
from ..store import atomic_write_text
from .ids import snapshots_dir
from .retention import RULES, Policy, check_count

POLICY_FILE = "policy.json"
_SCHEDULE_RE = re.compile(r"([0-9]{1,7})([smhd])", re.ASCII)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
NAMED = {"off": None, "hourly": 3600.0, "daily": 86400.0}
MIN_INTERVAL = 1.0
MAX_INTERVAL = 366 * 86400.0


def parse_schedule(text: object) -> float | None:
    """Seconds between scheduled snapshots, or None for ``off``; ValueError if malformed."""
    if not isinstance(text, str):
        raise ValueError("a schedule is a string: off, hourly, daily, or e.g. 30m, 2h, 1d")
    value = text.strip().lower()
    if value in NAMED:
        return NAMED[value]
    m = _SCHEDULE_RE.fullmatch(value)
    if m is None:
        raise ValueError(
            f"{text[:40]!r} is not a schedule: off, hourly, daily, or a whole number with a "
            "unit s, m, h or d (90s, 30m, 2h, 1d)"
        )
    seconds = float(int(m.group(1)) * _UNITS[m.group(2)])
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise ValueError(f"a schedule must be from 1s to 366d, not {text!r}")
    return seconds


@dataclass
class SpacePolicy:
    """A space's own schedule and retention rules; None/absent: the server's settings."""

    schedule: str | None = None
    keep: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"schedule": self.schedule, "keep": dict(self.keep)}

    def policy(self, default: Policy) -> Policy:
        return default.replace(self.keep)

    @classmethod
    def from_json(cls, doc: object) -> SpacePolicy:
        """Checked as a request body is (SpacesError 400 with the reason)."""
        if not isinstance(doc, dict):
            raise SpacesError(400, "snapshot settings are a JSON object")
        unknown = sorted(set(doc) - {"schedule", "keep"})
        if unknown:
            raise SpacesError(400, f"unknown snapshot setting {unknown[0]!r}; use schedule, keep")
        schedule = doc.get("schedule")
        if schedule is not None:
            try:
                parse_schedule(schedule)
            except ValueError as e:
                raise SpacesError(400, f"schedule: {e}") from None
            schedule = str(schedule).strip().lower()
        keep = doc.get("keep") or {}
        if not isinstance(keep, dict):
            raise SpacesError(400, f"keep is an object with some of {', '.join(RULES)}")
        unknown = sorted(set(keep) - set(RULES))
        if unknown:
            raise SpacesError(
                400, f"unknown retention rule {unknown[0]!r}; the rules are {', '.join(RULES)}"
            )
        checked = {k: check_count(k, v) for k, v in keep.items() if v is not None}
        if checked.get("last", 1) < 1:
            raise SpacesError(400, "last must be at least 1: the newest snapshot is always kept")
        return cls(schedule, checked)

    def merged(self, changes: Mapping[str, Any]) -> SpacePolicy:
        """This policy with a PATCH applied: a key set to null goes back to the server's value."""
        doc = self.to_json()
        if "schedule" in changes:
            doc["schedule"] = changes["schedule"]
        if "keep" in changes:
            keep = changes["keep"]
            if not isinstance(keep, dict):
                raise SpacesError(400, f"keep is an object with some of {', '.join(RULES)}")
            merged = {**doc["keep"], **keep}
            doc["keep"] = {k: v for k, v in merged.items() if v is not None}
        return SpacePolicy.from_json(doc)


def read_policy(space_dir: Path) -> tuple[SpacePolicy, str | None]:
    """The space's own settings and, when its file is there but unusable, why (then ignored)."""
    path = snapshots_dir(space_dir) / POLICY_FILE
    try:
        data = read_nofollow(path, 64 * 1024)
    except FileNotFoundError:
        return SpacePolicy(), None
    except OSError as e:
        return SpacePolicy(), f"{POLICY_FILE} cannot be read: {e.strerror or e}"
    try:
        return SpacePolicy.from_json(json.loads(data.decode("utf-8"))), None
    except (ValueError, RecursionError) as e:
        return SpacePolicy(), f"{POLICY_FILE} is not valid JSON: {e}"
    except SpacesError as e:
        return SpacePolicy(), f"{POLICY_FILE} is ignored: {e.message}"


def write_policy(space_dir: Path, policy: SpacePolicy) -> None:
    parent = snapshots_dir(space_dir, create=True)
    atomic_write_text(parent / POLICY_FILE, json.dumps(policy.to_json(), indent=2) + "\n")
