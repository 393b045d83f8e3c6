"""Retention over a simulated month of hourly snapshots (the clock is set by the test): exactly
what the policy says stays, never a named or pinned snapshot; the dry run removes nothing and
says the same; the legacy prune keeps named and pinned ones too."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from jupyter_spaces import snapshots as snaps
from jupyter_spaces.errors import SpacesError

from .test_snapshots import make_space, take

START = datetime(2026, 3, 2, 0, 30, tzinfo=timezone.utc)  # a Monday


def expected(times: list[datetime], policy: snaps.Policy, now: datetime) -> set[datetime]:
    """The policy written out the plain way, to check ``decide`` against."""
    newest = sorted(times, reverse=True)
    keep = set(newest[: policy.last])
    for count, size, key in (
        (policy.hourly, timedelta(hours=1), lambda t: (t.date(), t.hour)),
        (policy.daily, timedelta(days=1), lambda t: t.date()),
        (policy.weekly, timedelta(weeks=1), lambda t: t.isocalendar()[:2]),
    ):
        seen = set()
        for t in newest:
            if now - t >= size * count:
                break
            if key(t) not in seen:
                seen.add(key(t))
                keep.add(t)
    return keep


def test_a_month_of_hourly_snapshots_is_thinned_exactly_as_the_policy_says(tmp_path):
    folder = tmp_path / "proj"
    make_space(folder)
    policy = snaps.Policy(last=5, hourly=24, daily=7, weekly=4)
    times: dict[str, datetime] = {}
    named = pinned = ""
    # 31 days, a snapshot every hour at :30 (the schedule), each followed by the policy as the
    # server applies it; on day 3 one is named, on day 5 one is pinned.
    for hour in range(31 * 24):
        now = START + timedelta(hours=hour)
        m = take(folder, now=now, name="release" if hour == 2 * 24 + 7 else "")
        times[m["id"]] = now
        if m["name"]:
            named = m["id"]
        if hour == 4 * 24 + 13:
            pinned = m["id"]
            snaps.set_pinned(folder, pinned, True)
        snaps.apply_policy(folder, policy, now=now)
    now = START + timedelta(hours=31 * 24 - 1)
    left = [s["id"] for s in snaps.list_snapshots(folder)]
    assert named in left and pinned in left
    # What stays is what the policy keeps among what stayed before (policies compose: a
    # snapshot kept yesterday as "newest of its day" is judged again today).
    want = expected([times[i] for i in left], policy, now) | {times[named], times[pinned]}
    assert {times[i] for i in left} == want
    # Concretely: the last 24 hours hourly, one a day for the 7 days, one a week for 4 weeks.
    recent = [i for i in left if now - times[i] < timedelta(hours=24)]
    assert len(recent) == 24
    days = {times[i].date() for i in left if now - times[i] < timedelta(days=7)}
    assert len(days) == 7
    older = [i for i in left if now - times[i] >= timedelta(weeks=4)]
    assert set(older) <= {named, pinned}
    assert len(left) <= 24 + 7 + 4 + 2 + 1
    # Applying it again changes nothing; a dry run a week later lists exactly what the
    # real run then removes, and removes nothing itself.
    assert snaps.apply_policy(folder, policy, now=now)["deleted"] == []
    later = now + timedelta(days=7)
    dry = snaps.apply_policy(folder, policy, now=later, dry_run=True)
    assert dry["dry_run"] and dry["deleted"]
    assert [s["id"] for s in snaps.list_snapshots(folder)] == left
    real = snaps.apply_policy(folder, policy, now=later)
    assert real["deleted"] == dry["deleted"] and real["freed_bytes"] == dry["freed_bytes"] > 0
    assert named not in real["deleted"] and pinned not in real["deleted"]
    assert set(dry["reasons"][named]) >= {"named"} and "pinned" in dry["reasons"][pinned]
    # Unpinned, the policy may take it; named ones stay whatever.
    snaps.set_pinned(folder, pinned, False)
    gone = snaps.apply_policy(folder, policy, now=later)["deleted"]
    assert gone == [pinned]
    assert named in [s["id"] for s in snaps.list_snapshots(folder)]


def test_decide_keeps_unreadable_ones_and_the_newest_n():
    listed = [
        {"id": "20260310-120000-aaaa", "status": "ok", "name": "", "pinned": False},
        {"id": "20260309-120000-bbbb", "status": "corrupt"},
        {"id": "20260101-120000-cccc", "status": "ok", "name": "", "pinned": False},
    ]
    now = datetime(2026, 3, 10, 13, tzinfo=timezone.utc)
    got = snaps.decide(listed, snaps.Policy(last=1, hourly=0, daily=0, weekly=0), now)
    assert got == {
        "20260310-120000-aaaa": ["last"],
        "20260309-120000-bbbb": ["unreadable"],
        "20260101-120000-cccc": [],
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"last": 0},
        {"last": -1},
        {"hourly": 1.5},
        {"daily": True},
        {"weekly": "2"},
        {"monthly": 3},
        {"hourly": 10**9},
    ],
)
def test_bad_rules_are_refused(changes):
    with pytest.raises(SpacesError) as e:
        snaps.Policy().replace(changes)
    assert e.value.status_code == 400 and e.value.message


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("off", None), ("hourly", 3600), ("Daily", 86400), ("90s", 90), ("30m", 1800), ("1d", 86400)],
)
def test_schedules(text, seconds):
    assert snaps.parse_schedule(text) == seconds


@pytest.mark.parametrize("bad", ["", "0s", "1.5h", "-1h", "1w", "h", "367d", "1 h", "٣h", 3600])
def test_bad_schedules(bad):
    with pytest.raises(ValueError):
        snaps.parse_schedule(bad)


def test_a_space_policy_file_is_data_checked_when_read(tmp_path):
    folder = tmp_path / "proj"
    make_space(folder)
    assert snaps.read_policy(folder) == (snaps.SpacePolicy(), None)
    snaps.write_policy(folder, snaps.SpacePolicy("2h", {"last": 3}))
    own, problem = snaps.read_policy(folder)
    assert problem is None and own.schedule == "2h" and own.keep == {"last": 3}
    assert own.policy(snaps.Policy()) == snaps.Policy(last=3)
    path = snaps.snapshots_dir(folder) / "policy.json"
    for text in ('{"schedule": "rm -rf /"}', '{"keep": {"last": 0}}', "[", '{"run": "x"}'):
        path.write_text(text)
        own, problem = snaps.read_policy(folder)
        assert own == snaps.SpacePolicy() and problem, text
