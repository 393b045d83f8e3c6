"""Usage reports: the index's usage events (and the agent state history's intervals) grouped by
one or two dimensions, priced per event at its own time.

Every view (REST, CLI, ``%spaces usage``) is this one query. Dimensions:

* time: ``hour``, ``day``, ``week`` (from Monday), ``month`` in the time zone ``tz`` (an IANA name,
  zoneinfo: a day is midnight to midnight local time, 23 or 25 hours long on DST changes);
  ``block``: Claude's 5-hour windows as ccusage computes them (a block starts at the hour of the
  first event after the previous block ended, lasts five hours; events ordered by time);
* ``agent``, ``model``, ``space`` (the space whose folder holds the session's cwd), ``session``
  (the root session: a sub-agent's usage is its parent's).

A row has its dimension values, ``tokens``, ``cost_usd`` (None when any of its events is
unpriced; ``unpriced_tokens`` counts those), ``sessions`` (distinct root sessions), and
``seconds`` per agent state where time applies (not with ``model``, whose time is unknown).
"""

from __future__ import annotations

import math
import re
import time as _time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..agents.model import AGENT_NAMES
from ..agents.usage_queries import UsageRow
from .pricing import Pricer

TIME_DIMS = ("hour", "day", "week", "month", "block")
DIMS = (*TIME_DIMS, "agent", "model", "space", "session")
STATES = ("working", "needs_input", "idle")
PARAMS = ("by", "since", "until", "tz", "agent", "space", "model")
BLOCK_SECONDS = 5 * 3600
TOKEN_KEYS = ("input", "output", "cache_read", "cache_creation", "reasoning")
ESTIMATE = "estimate at list price (genai-prices), not a bill"
_RELATIVE = re.compile(r"(\d{1,5})([hdw])")


class UsageQueryError(ValueError):
    """A bad usage query; the message says which parameter and why."""


@dataclass
class UsageQuery:
    by: tuple[str, ...] = ("day",)
    since: float | None = None
    until: float | None = None
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    agent: str | None = None
    space: str | None = None
    model: str | None = None


@dataclass
class Interval:
    """One agent state interval from the state history."""

    space_id: str
    agent: str | None
    session_id: str | None
    state: str
    start: float
    end: float


def parse_query(
    args: Mapping[str, str], spaces: Iterable[str], now: float | None = None
) -> UsageQuery:
    """A query from request parameters, or UsageQueryError saying what is wrong."""
    unknown = sorted(k for k in args if k not in PARAMS and not k.isdigit())
    if unknown:
        raise UsageQueryError(
            f"unknown parameter(s) {', '.join(unknown)}; allowed: {', '.join(PARAMS)}"
        )
    q = UsageQuery()
    tz_name = args.get("tz") or "UTC"
    q.tz = parse_tz(tz_name)
    by = args.get("by")
    if by is not None:
        q.by = parse_by(by)
    now = _time.time() if now is None else now
    for key in ("since", "until"):
        raw = args.get(key)
        if raw:
            setattr(q, key, parse_when(raw, key, q.tz, now))
    if q.since is not None and q.until is not None and q.since >= q.until:
        raise UsageQueryError("since must be before until")
    agent = args.get("agent")
    if agent:
        if agent not in AGENT_NAMES:
            raise UsageQueryError(f"agent must be one of {', '.join(AGENT_NAMES)}, not {agent!r}")
        q.agent = agent
    space = args.get("space")
    if space:
        if space not in set(spaces):
            raise UsageQueryError(f"space: no space {space[:64]!r}")
        q.space = space
    model = args.get("model")
    if model is not None and model != "":
        if len(model) > 256 or not model.isprintable():
            raise UsageQueryError("model must be a model name of at most 256 printable characters")
        q.model = model
    return q


def parse_by(raw: str) -> tuple[str, ...]:
    dims = tuple(d.strip() for d in raw.split(","))
    if not raw.strip() or not all(dims):
        raise UsageQueryError(f"by must name one or two of {', '.join(DIMS)}")
    bad = [d for d in dims if d not in DIMS]
    if bad:
        raise UsageQueryError(
            f"by: unknown dimension(s) {', '.join(b[:32] for b in bad)}; allowed: {', '.join(DIMS)}"
        )
    if len(dims) > 2:
        raise UsageQueryError("by takes at most two dimensions")
    if len(set(dims)) != len(dims):
        raise UsageQueryError("by names the same dimension twice")
    if sum(d in TIME_DIMS for d in dims) > 1:
        raise UsageQueryError("by takes at most one time dimension (hour, day, week, month, block)")
    return dims


def parse_tz(name: str) -> ZoneInfo:
    if len(name) > 64 or not re.fullmatch(r"[A-Za-z0-9_+\-/]+", name) or ".." in name:
        raise UsageQueryError(f"tz must be an IANA time zone such as Europe/Berlin, not {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UsageQueryError(f"tz: unknown time zone {name!r}") from None


def parse_when(raw: str, what: str, tz: ZoneInfo, now: float) -> float:
    """POSIX seconds of ``raw``: POSIX seconds, an ISO-8601 time (naive: in ``tz``), a date (its
    midnight in ``tz``) or a span back from now (``24h``, ``7d``, ``4w``)."""
    m = _RELATIVE.fullmatch(raw)
    try:
        if m:
            t = now - int(m.group(1)) * {"h": 3600, "d": 86400, "w": 7 * 86400}[m.group(2)]
        else:
            t = float(raw)
    except ValueError:
        t = math.nan
        try:
            dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            dt = None
        if dt is not None:
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=tz)
            try:
                t = dt.timestamp()
            except (OverflowError, OSError, ValueError):
                t = math.nan
    if not math.isfinite(t) or not 0 <= t <= 32503680000:
        raise UsageQueryError(
            f"{what} must be an ISO-8601 time or date, POSIX seconds, or a span such as 7d, "
            f"not {raw[:64]!r}"
        )
    return t


def space_finder(spaces: Iterable[tuple[str, str]]) -> Callable[[str | None], str | None]:
    """``space_of(cwd)``: the space whose folder holds ``cwd`` (the deepest when they nest)."""
    dirs = sorted(((d.rstrip("/") or "/", i) for i, d in spaces), key=lambda x: -len(x[0]))

    def space_of(cwd: str | None) -> str | None:
        if not cwd:
            return None
        for d, space_id in dirs:
            if cwd == d or cwd.startswith(d.rstrip("/") + "/"):
                return space_id
        return None

    return space_of


def flat_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A report's rows as flat records (for CSV and tables): dimensions, then the figures."""
    out = []
    for row in result["rows"]:
        flat = {k: v for k, v in row.items() if k not in ("tokens", "seconds")}
        for k in ("cost_usd", "unpriced_tokens", "sessions"):
            flat.pop(k, None)
        flat.update(row["tokens"])
        flat.update(
            cost_usd=row["cost_usd"],
            unpriced_tokens=row["unpriced_tokens"],
            sessions=row["sessions"],
        )
        for state, sec in (row.get("seconds") or {}).items():
            flat[f"{state}_seconds"] = sec
        out.append(flat)
    return out


# -- buckets ----------------------------------------------------------------------------------


def _midnight(d: date, tz: ZoneInfo) -> float:
    return datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()


def bucket(t: float, dim: str, tz: ZoneInfo) -> tuple[str, float, float]:
    """The ``dim`` bucket holding ``t``: its label, start and end (POSIX seconds)."""
    local = datetime.fromtimestamp(t, tz)
    if dim == "hour":
        start = local.replace(minute=0, second=0, microsecond=0)
        s = start.timestamp()
        if s > t:  # the hour of a fold, or a zone whose offset is not whole hours
            s -= 3600
            start = datetime.fromtimestamp(s, tz)
        return start.isoformat(), s, s + 3600
    d = local.date()
    if dim == "day":
        return d.isoformat(), _midnight(d, tz), _midnight(d + timedelta(days=1), tz)
    if dim == "week":
        monday = d - timedelta(days=d.weekday())
        return monday.isoformat(), _midnight(monday, tz), _midnight(monday + timedelta(7), tz)
    if dim == "month":
        first = d.replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        return first.strftime("%Y-%m"), _midnight(first, tz), _midnight(nxt, tz)
    raise ValueError(dim)


def blocks(times: Iterable[float]) -> list[tuple[float, float]]:
    """Claude's 5-hour blocks over sorted event times: (start, end) each."""
    out: list[tuple[float, float]] = []
    last: float | None = None
    for t in times:
        if not out or t >= out[-1][1] or (last is not None and t - last >= BLOCK_SECONDS):
            start = t - t % 3600
            out.append((start, start + BLOCK_SECONDS))
        last = t
    return out


def _iso(t: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(t, tz).isoformat()


# -- the report -------------------------------------------------------------------------------


@dataclass
class _Acc:
    tokens: list[int] = field(default_factory=lambda: [0] * 5)
    cost: float = 0.0
    unpriced: int = 0
    sessions: set[tuple[str, str]] = field(default_factory=set)
    seconds: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self, with_seconds: bool) -> dict[str, Any]:
        d: dict[str, Any] = {
            "tokens": dict(zip(TOKEN_KEYS, self.tokens, strict=True)),
            "cost_usd": None if self.unpriced else round(self.cost, 6),
            "unpriced_tokens": self.unpriced,
            "sessions": len(self.sessions),
        }
        if with_seconds:
            d["seconds"] = {s: round(self.seconds.get(s, 0.0), 3) for s in STATES}
        return d


def report(
    events: Iterable[UsageRow],
    query: UsageQuery,
    pricer: Pricer,
    space_of: Callable[[str | None], str | None],
    intervals: Iterable[Interval] = (),
    title_of: Callable[[str, str], str | None] = lambda agent, sid: None,
    now: float | None = None,
) -> dict[str, Any]:
    """The report of ``query`` (``events`` already filtered by time, agent and model)."""
    now = _time.time() if now is None else now
    tz = query.tz
    by = query.by
    rows = [e for e in events if query.space is None or space_of(e.cwd) == query.space]
    rows.sort(key=lambda e: e.time)
    block_list = blocks(e.time for e in rows) if "block" in by else []
    accs: dict[tuple[Any, ...], _Acc] = {}
    totals = _Acc()
    bi = 0
    labels: dict[int, str] = {}
    for e in rows:
        keys: list[Any] = []
        for dim in by:
            if dim == "block":
                while bi + 1 < len(block_list) and e.time >= block_list[bi + 1][0]:
                    bi += 1
                keys.append(block_list[bi][0])
            elif dim in TIME_DIMS:
                # Every zone's offset is a multiple of 15 minutes: one lookup per quarter hour.
                q = int(e.time // 900)
                label = labels.get(q)
                if label is None:
                    label = labels[q] = bucket(q * 900.0, dim, tz)[0]
                keys.append(label)
            elif dim == "agent":
                keys.append(e.agent)
            elif dim == "model":
                keys.append(e.model)
            elif dim == "space":
                keys.append(space_of(e.cwd))
            else:
                keys.append((e.agent, e.root_id))
        cost = pricer.cost(
            e.agent, e.model, e.time, e.input, e.output, e.cache_read, e.cache_creation
        )
        row_acc = accs.setdefault(tuple(keys), _Acc())
        if "session" in by and "space_id" not in row_acc.extra:
            row_acc.extra["space_id"] = space_of(e.cwd)
        for acc in (row_acc, totals):
            acc.tokens = [
                a + b
                for a, b in zip(
                    acc.tokens,
                    (e.input, e.output, e.cache_read, e.cache_creation, e.reasoning),
                    strict=True,
                )
            ]
            if cost is None:
                acc.unpriced += e.input + e.output + e.cache_read + e.cache_creation
            else:
                acc.cost += cost
            acc.sessions.add((e.agent, e.root_id))
    with_seconds = "model" not in by and query.model is None
    if with_seconds:
        _add_seconds(accs, intervals, query, block_list, now)
    out_rows: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for row_keys, acc in accs.items():
        d: dict[str, Any] = {}
        for dim, k in zip(by, row_keys, strict=True):
            if dim == "block":
                d["block"] = _iso(k, tz)
                d["block_end"] = _iso(k + BLOCK_SECONDS, tz)
                d["active"] = k <= now < k + BLOCK_SECONDS
                if d["active"]:
                    _burn(d, acc, k, now)
            elif dim == "session":
                agent, sid = k
                d.update(agent=agent, session_id=sid, title=title_of(agent, sid))
                d["space_id"] = acc.extra.get("space_id")
            else:
                d[dim] = k
        d.update(acc.row(with_seconds))
        out_rows.append((row_keys, d))
    out_rows.sort(key=lambda kd: _order(by, kd))
    return {
        "by": list(by),
        "tz": str(tz),
        "since": _iso(query.since, tz) if query.since is not None else None,
        "until": _iso(query.until, tz) if query.until is not None else None,
        "rows": [d for _, d in out_rows],
        "totals": totals.row(False),
        "estimate": ESTIMATE,
    }


def _burn(d: dict[str, Any], acc: _Acc, start: float, now: float) -> None:
    """The active block's burn rate per hour so far, and its projection to the block's end."""
    elapsed = max(now - start, 60.0)
    tokens = sum(acc.tokens[:4])
    d["burn_rate_per_hour"] = {
        "tokens": round(tokens / elapsed * 3600),
        "cost_usd": None if acc.unpriced else round(acc.cost / elapsed * 3600, 6),
    }
    left = start + BLOCK_SECONDS - now
    d["projected"] = {
        "tokens": round(tokens + tokens / elapsed * left),
        "cost_usd": None if acc.unpriced else round(acc.cost + acc.cost / elapsed * left, 6),
    }


def _order(by: tuple[str, ...], kd: tuple[tuple[Any, ...], dict[str, Any]]) -> tuple[Any, ...]:
    keys, d = kd
    out: list[Any] = []
    for dim, k in zip(by, keys, strict=True):
        if dim in TIME_DIMS:
            out.append((0, k))
        else:
            total = sum(d["tokens"].values())
            out.append((1, -total, str(k)))
    return tuple(out)


def _add_seconds(
    accs: dict[tuple[Any, ...], _Acc],
    intervals: Iterable[Interval],
    query: UsageQuery,
    block_list: list[tuple[float, float]],
    now: float,
) -> None:
    """Seconds per state into the rows their intervals fall in (split at bucket edges)."""
    lo = query.since if query.since is not None else -math.inf
    hi = min(query.until if query.until is not None else math.inf, now)
    for iv in intervals:
        if iv.state not in STATES:
            continue
        if query.agent is not None and iv.agent != query.agent:
            continue
        if query.space is not None and iv.space_id != query.space:
            continue
        start, end = max(iv.start, lo), min(iv.end, hi)
        if end <= start:
            continue
        for keys, s, e in _split(iv, query.by, query.tz, block_list, start, end):
            acc = accs.setdefault(keys, _Acc())
            acc.seconds[iv.state] = acc.seconds.get(iv.state, 0.0) + (e - s)
            if "session" in query.by and iv.space_id:
                acc.extra.setdefault("space_id", iv.space_id)


def _split(
    iv: Interval,
    by: tuple[str, ...],
    tz: ZoneInfo,
    block_list: list[tuple[float, float]],
    start: float,
    end: float,
) -> Iterable[tuple[tuple[Any, ...], float, float]]:
    static: dict[str, Any] = {
        "agent": iv.agent,
        "space": iv.space_id,
        "session": (iv.agent or "", iv.session_id or ""),
    }
    time_dim = next((d for d in by if d in TIME_DIMS), None)
    pieces: list[tuple[Any, float, float]] = []
    if time_dim is None:
        pieces = [(None, start, end)]
    elif time_dim == "block":
        for bs, be in block_list:
            s, e = max(start, bs), min(end, be)
            if e > s:
                pieces.append((bs, s, e))
    else:
        t = start
        while t < end:
            label, _bs, be = bucket(t, time_dim, tz)
            e = min(end, be)
            pieces.append((label, t, e))
            t = e
    for label, s, e in pieces:
        keys = tuple(label if d in TIME_DIMS else static[d] for d in by)
        yield keys, s, e
