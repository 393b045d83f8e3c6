"""The usage report without a server: prices at each event's time, unpriced models, overrides,
time zones and DST, Claude's 5-hour blocks, time per state, and every bad parameter."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from jupyter_spaces.agents.usage_queries import UsageRow
from jupyter_spaces.usage.pricing import PriceOverrideError, Pricer, check_overrides, vendor_model
from jupyter_spaces.usage.report import (
    Interval,
    UsageQueryError,
    blocks,
    bucket,
    parse_query,
    report,
)

M = 1_000_000


def ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def ev(
    t: str,
    model: str | None = "claude-sonnet-4-5",
    agent: str = "claude",
    sid: str = "s1",
    root: str | None = None,
    cwd: str | None = "/p/a",
    i: int = 0,
    o: int = 0,
    cr: int = 0,
    cc: int = 0,
    r: int = 0,
) -> UsageRow:
    return UsageRow(ts(t), agent, sid, root or sid, cwd, model, i, o, cr, cc, r)


def space_of(cwd: str | None) -> str | None:
    return {"/p/a": "a", "/p/b": "b"}.get(cwd or "")


def run(events: list[UsageRow], pricer: Pricer | None = None, **args: str) -> dict:
    q = parse_query(args, ["a", "b"], now=ts("2026-11-01T00:00:00+00:00"))
    return report(events, q, pricer or Pricer(), space_of, now=ts("2026-11-01T00:00:00+00:00"))


def test_price_in_force_at_each_event() -> None:
    # genai-prices has claude-opus-4-6 input at $10/MTok until 2026-03-12, $5 from 2026-03-13.
    before = ev("2026-03-12T12:00:00+00:00", "claude-opus-4-6", i=M)
    after = ev("2026-03-13T12:00:00+00:00", "claude-opus-4-6", i=M)
    rows = run([before, after], by="day")["rows"]
    assert [(r["day"], r["cost_usd"]) for r in rows] == [("2026-03-12", 10.0), ("2026-03-13", 5.0)]


def test_unpriced_model_is_never_zero() -> None:
    out = run(
        [
            ev("2026-03-01T10:00:00+00:00", "claude-sonnet-4-5", i=100_000),
            ev("2026-03-01T11:00:00+00:00", "some-inhouse-model", i=1000, o=20),
            ev("2026-03-01T11:00:00+00:00", None, agent="codex", i=5),
        ],
        by="model",
    )
    by_model = {r["model"]: r for r in out["rows"]}
    assert by_model["claude-sonnet-4-5"]["cost_usd"] == pytest.approx(0.3)
    assert by_model["claude-sonnet-4-5"]["unpriced_tokens"] == 0
    assert by_model["some-inhouse-model"]["cost_usd"] is None
    assert by_model["some-inhouse-model"]["unpriced_tokens"] == 1020
    assert by_model[None]["cost_usd"] is None
    assert out["totals"]["cost_usd"] is None and out["totals"]["unpriced_tokens"] == 1025
    assert "estimate" in out["estimate"]


def test_overrides_bedrock_names_and_cache_rates() -> None:
    p = Pricer({"some-inhouse-model": {"input": 2.0, "output": 8.0}})
    assert p.cost("claude", "some-inhouse-model", 0.0, M, M, 0, 0) == 10.0
    assert vendor_model("converse/jp.anthropic.claude-haiku-4-5-20251001-v1:0") == (
        "claude-haiku-4-5-20251001"
    )
    t = ts("2026-03-01T00:00:00+00:00")
    bedrock = p.cost(
        "claude", "converse/jp.anthropic.claude-haiku-4-5-20251001-v1:0", t, M, 0, 0, 0
    )
    assert bedrock == p.cost("claude", "claude-haiku-4-5-20251001", t, M, 0, 0, 0) == 1.0
    # Sonnet 4.5 up to 200k input tokens a request: $0.30 cache read, $3.75 cache write per
    # MTok; beyond, the long-context tier ($0.60 for a cache read), per request.
    k = 100_000
    assert p.cost("claude", "claude-sonnet-4-5", t, 0, 0, k, 0) == pytest.approx(0.03)
    assert p.cost("claude", "claude-sonnet-4-5", t, 0, 0, 0, k) == pytest.approx(0.375)
    assert p.cost("claude", "claude-sonnet-4-5", t, 0, 0, M, 0) == pytest.approx(0.6)
    assert p.cost("codex", "gpt-5-codex", t, M, 0, 0, 0) == pytest.approx(1.25)
    assert p.cost("gemini", "gemini-2.5-pro", t, 0, M, 0, 0) == pytest.approx(10.0)
    for bad, reason in [
        ([], "must map model names"),
        ({"m": 3}, "must map rates"),
        ({"m": {"inptu": 1}}, "unknown rate"),
        ({"m": {"input": -1}}, "USD per million"),
        ({"m": {"input": True}}, "USD per million"),
    ]:
        with pytest.raises(PriceOverrideError, match=reason):
            check_overrides(bad)


def test_dst_day_buckets() -> None:
    ny = ZoneInfo("America/New_York")
    # 2026-03-08: clocks go forward at 02:00, the day is 23 hours long.
    label, start, end = bucket(ts("2026-03-08T12:00:00-04:00"), "day", ny)
    assert label == "2026-03-08" and end - start == 23 * 3600
    label, start, end = bucket(ts("2026-11-01T12:00:00-05:00"), "day", ny)
    assert label == "2026-11-01" and end - start == 25 * 3600
    # 03:30 UTC on 2026-03-08 is still 2026-03-07 in New York, and 04:30 UTC on 2026-11-02 is
    # 23:30 on 2026-11-01 (EST); in UTC both are the next day.
    events = [
        ev("2026-03-08T03:30:00+00:00", i=1),
        ev("2026-03-08T05:30:00+00:00", i=10),
        ev("2026-11-02T04:30:00+00:00", i=100),
    ]
    rows = run(events, by="day", tz="America/New_York")["rows"]
    assert [(r["day"], r["tokens"]["input"]) for r in rows] == [
        ("2026-03-07", 1),
        ("2026-03-08", 10),
        ("2026-11-01", 100),
    ]
    rows = run(events, by="day")["rows"]
    assert [(r["day"], r["tokens"]["input"]) for r in rows] == [
        ("2026-03-08", 11),
        ("2026-11-02", 100),
    ]
    hours = run(events[:2], by="hour", tz="America/New_York")["rows"]
    assert [r["hour"] for r in hours] == ["2026-03-07T22:00:00-05:00", "2026-03-08T00:00:00-05:00"]
    assert [r["month"] for r in run(events, by="month", tz="Asia/Kolkata")["rows"]] == [
        "2026-03",
        "2026-11",
    ]
    weeks = run(events, by="week")["rows"]
    assert [w["week"] for w in weeks] == ["2026-03-02", "2026-11-02"]


def test_five_hour_blocks() -> None:
    times = [
        ts(t)
        for t in (
            "2026-03-01T09:20:00+00:00",
            "2026-03-01T13:59:00+00:00",
            "2026-03-01T14:00:00+00:00",
            "2026-03-02T08:00:00+00:00",
        )
    ]
    assert blocks(times) == [
        (ts("2026-03-01T09:00:00+00:00"), ts("2026-03-01T14:00:00+00:00")),
        (ts("2026-03-01T14:00:00+00:00"), ts("2026-03-01T19:00:00+00:00")),
        (ts("2026-03-02T08:00:00+00:00"), ts("2026-03-02T13:00:00+00:00")),
    ]
    events = [
        ev("2026-03-01T09:20:00+00:00", i=1),
        ev("2026-03-01T13:59:00+00:00", i=2),
        ev("2026-03-01T14:00:00+00:00", i=4),
    ]
    rows = run(events, by="block")["rows"]
    assert [(r["block"], r["block_end"], r["tokens"]["input"], r["active"]) for r in rows] == [
        ("2026-03-01T09:00:00+00:00", "2026-03-01T14:00:00+00:00", 3, False),
        ("2026-03-01T14:00:00+00:00", "2026-03-01T19:00:00+00:00", 4, False),
    ]


def test_active_block_burn_rate_and_projection() -> None:
    q = parse_query({"by": "block"}, [])
    now = ts("2026-03-01T11:00:00+00:00")
    events = [
        ev("2026-03-01T10:30:00+00:00", "house", i=1000),
        ev("2026-03-01T10:59:00+00:00", "house", o=1000),
    ]
    out = report(events, q, Pricer({"house": {"input": 1.0, "output": 1.0}}), space_of, now=now)
    [row] = out["rows"]
    assert row["active"] and row["block"] == "2026-03-01T10:00:00+00:00"
    assert row["burn_rate_per_hour"] == {"tokens": 2000, "cost_usd": 0.002}
    assert row["projected"] == {"tokens": 10000, "cost_usd": 0.01}


def test_two_dimensions_sessions_and_space_filter() -> None:
    events = [
        ev("2026-03-01T10:00:00+00:00", sid="s1", i=5),
        ev("2026-03-01T10:01:00+00:00", sid="sub", root="s1", i=7),  # a sub-agent of s1
        ev("2026-03-01T10:02:00+00:00", sid="s2", cwd="/p/b", agent="codex", model="gpt-5", i=1),
    ]
    out = run(events, by="agent,day")
    assert [(r["agent"], r["day"], r["sessions"]) for r in out["rows"]] == [
        ("claude", "2026-03-01", 1),
        ("codex", "2026-03-01", 1),
    ]
    out = run(events, by="session")
    assert [(r["session_id"], r["space_id"], r["tokens"]["input"]) for r in out["rows"]] == [
        ("s1", "a", 12),
        ("s2", "b", 1),
    ]
    assert [r["space"] for r in run(events, by="space", space="b")["rows"]] == ["b"]


def test_seconds_per_state_split_at_day_edges() -> None:
    q = parse_query({"by": "day,space"}, ["a"], now=ts("2026-11-01T00:00:00+00:00"))
    intervals = [
        Interval(
            "a",
            "claude",
            "s1",
            "working",
            ts("2026-03-01T23:00:00+00:00"),
            ts("2026-03-02T01:00:00+00:00"),
        ),
        Interval(
            "a",
            "claude",
            "s1",
            "needs_input",
            ts("2026-03-02T01:00:00+00:00"),
            ts("2026-03-02T01:30:00+00:00"),
        ),
        Interval(
            "a",
            "claude",
            "s1",
            "exited",
            ts("2026-03-02T01:30:00+00:00"),
            ts("2026-03-02T05:30:00+00:00"),
        ),
    ]
    out = report([ev("2026-03-01T23:30:00+00:00", i=1)], q, Pricer(), space_of, intervals)
    assert [(r["day"], r["space"], r["seconds"]) for r in out["rows"]] == [
        ("2026-03-01", "a", {"working": 3600.0, "needs_input": 0.0, "idle": 0.0}),
        ("2026-03-02", "a", {"working": 3600.0, "needs_input": 1800.0, "idle": 0.0}),
    ]
    assert "seconds" not in run([ev("2026-03-01T23:30:00+00:00", i=1)], by="model")["rows"][0]


BAD_PARAMETERS: list[tuple[dict[str, str], str]] = [
    ({"bogus": "1"}, "unknown parameter(s) bogus"),
    ({"by": ""}, "by must name one or two"),
    ({"by": "day,"}, "by must name one or two"),
    ({"by": "year"}, "unknown dimension(s) year"),
    ({"by": "day,agent,model"}, "at most two"),
    ({"by": "agent,agent"}, "same dimension twice"),
    ({"by": "day,hour"}, "at most one time dimension"),
    ({"since": "yesterday"}, "since must be an ISO-8601"),
    ({"until": "2026-13-01"}, "until must be an ISO-8601"),
    ({"since": "nan"}, "since must be"),
    ({"since": "1e300"}, "since must be"),
    ({"since": "99999w"}, "since must be"),
    ({"since": "2026-03-02", "until": "2026-03-01"}, "since must be before until"),
    ({"tz": "Mars/Olympus"}, "unknown time zone"),
    ({"tz": "../../etc/passwd"}, "IANA time zone"),
    ({"agent": "cursor"}, "agent must be one of"),
    ({"space": "nope"}, "no space 'nope'"),
    ({"model": "x" * 300}, "model must be"),
]


@pytest.mark.parametrize("args, reason", BAD_PARAMETERS)
def test_bad_parameters(args: dict[str, str], reason: str) -> None:
    with pytest.raises(UsageQueryError) as e:
        parse_query(args, ["a"])
    assert reason in str(e.value)


def test_times_in_the_query_zone() -> None:
    q = parse_query(
        {"since": "2026-03-08", "until": "2026-03-09T00:00:00", "tz": "America/New_York"}, []
    )
    assert q.since == ts("2026-03-08T00:00:00-05:00") and q.until == ts("2026-03-09T00:00:00-04:00")
    q = parse_query({"since": "7d"}, [], now=1_000_000_000.0)
    assert q.since == 1_000_000_000.0 - 7 * 86400
    assert parse_query({"since": "1700000000"}, []).since == 1700000000.0
    assert (
        datetime.fromtimestamp(
            parse_query({"since": "2026-01-01Z"}, []).since or 0, timezone.utc
        ).year
        == 2026
    )


def test_fast_prices_equal_genai_prices_across_tiers() -> None:
    import random

    from genai_prices import Usage, calc_price

    rnd = random.Random(14)
    t = ts("2026-03-01T00:00:00+00:00")
    when = datetime.fromtimestamp(t, timezone.utc)
    p = Pricer()
    for agent, model, provider in (
        ("claude", "claude-sonnet-4-5", "anthropic"),
        ("gemini", "gemini-2.5-pro", "google"),
        ("codex", "gpt-5", "openai"),
    ):
        for _ in range(200):
            i, o, cr, cc = (rnd.choice([0, rnd.randrange(1, 400_000)]) for _ in range(4))
            exact = calc_price(
                Usage(
                    input_tokens=i + cr + cc,
                    output_tokens=o,
                    cache_read_tokens=cr,
                    cache_write_tokens=cc,
                ),
                model,
                provider_id=provider,
                genai_request_timestamp=when,
            ).total_price
            assert p.cost(agent, model, t, i, o, cr, cc) == pytest.approx(float(exact), rel=1e-9)
