"""Retention: which snapshots a policy keeps, in the style of backup tools' ``forget`` rules.

A snapshot is kept when any rule keeps it:

- ``last`` N: the newest N snapshots;
- ``hourly`` H: for every clock hour (UTC) in the last H hours, the newest snapshot of that hour;
- ``daily`` D: for every day (UTC) in the last D days, the newest snapshot of that day;
- ``weekly`` W: for every ISO week (Monday to Sunday, UTC) in the last W weeks, the newest of it;
- a snapshot with a name, or one the user pinned, is never removed by a policy (nor by any
  prune); neither is one that cannot be read (delete it by its id).

"In the last H hours" is by age (as restic's ``--keep-within-hourly``), so a space left alone for
a month keeps its newest ``last`` snapshots and its named and pinned ones, not a stale day of
hourly ones. Every decision takes ``now`` as an argument, so tests set the clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from ..errors import SpacesError
from .ids import id_time

RULES = ("last", "hourly", "daily", "weekly")
MAX_RULE = 100000


@dataclass(frozen=True)
class Policy:
    last: int = 10
    hourly: int = 24
    daily: int = 7
    weekly: int = 4

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    def replace(self, changes: Mapping[str, Any]) -> Policy:
        """This policy with some rules changed; 400 for an unknown rule or a bad count."""
        unknown = sorted(set(changes) - set(RULES))
        if unknown:
            raise SpacesError(
                400, f"unknown retention rule {unknown[0]!r}; the rules are {', '.join(RULES)}"
            )
        values = self.to_json()
        for key, value in changes.items():
            if value is not None:  # null: this policy's own value
                values[key] = check_count(key, value)
        if values["last"] < 1:
            raise SpacesError(400, "last must be at least 1: the newest snapshot is always kept")
        return Policy(**values)


def check_count(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RULE:
        raise SpacesError(400, f"{key} must be a whole number from 0 to {MAX_RULE}")
    return value


def _bucket(rule: str, t: datetime) -> tuple[int, ...]:
    if rule == "hourly":
        return (t.year, t.month, t.day, t.hour)
    if rule == "daily":
        return (t.year, t.month, t.day)
    iso = t.isocalendar()
    return (iso[0], iso[1])


_WINDOW = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1)}


def decide(
    snapshots: Sequence[Mapping[str, Any]], policy: Policy, now: datetime
) -> dict[str, list[str]]:
    """For each snapshot (as listed: newest first, with ``id``, ``status``, ``name``,
    ``pinned``), the reasons it is kept; an empty list means the policy removes it."""
    reasons: dict[str, list[str]] = {s["id"]: [] for s in snapshots}
    readable = []
    for s in snapshots:
        if s.get("status", "ok") != "ok":
            reasons[s["id"]].append("unreadable")
            continue
        if s.get("pinned"):
            reasons[s["id"]].append("pinned")
        if s.get("name"):
            reasons[s["id"]].append("named")
        readable.append(s)
    order = {s["id"]: i for i, s in enumerate(snapshots)}
    newest_first = sorted(readable, key=lambda s: (-id_time(s["id"]).timestamp(), order[s["id"]]))
    for s in newest_first[: policy.last]:
        reasons[s["id"]].append("last")
    for rule in ("hourly", "daily", "weekly"):
        count = getattr(policy, rule)
        if not count:
            continue
        horizon = now - _WINDOW[rule] * count
        seen: set[tuple[int, ...]] = set()
        for s in newest_first:
            t = id_time(s["id"])
            if t <= horizon:
                break
            bucket = _bucket(rule, t)
            if bucket not in seen:
                seen.add(bucket)
                reasons[s["id"]].append(rule)
    return reasons
