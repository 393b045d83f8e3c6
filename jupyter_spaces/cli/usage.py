"""``jupyter spaces usage``: the usage report from the session index, with no server running.

The index is brought up to date first (as ``jupyter spaces export`` does), unless ``--no-sync``.
Spaces come from the registry, time per state from the agent state history beside the index
(read only when it exists); prices from genai-prices and ``SpacesApp.usage_price_overrides``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from ..agents import SessionIndex, default_index_path
from ..registry import Registry
from ..usage.pricing import PriceOverrideError, Pricer
from ..usage.report import (
    DIMS,
    Interval,
    UsageQueryError,
    flat_rows,
    parse_query,
    report,
    space_finder,
)
from .base import _Command, _Parser, _UsageError


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="jupyter spaces usage",
        description="Tokens, estimated cost (list price, genai-prices) and time of the agents' "
        "model responses, from the agent session index; no server needed.",
    )
    p.add_argument("--by", default="day", help=f"one or two of {', '.join(DIMS)} (default: day)")
    p.add_argument("--since", help="ISO-8601 time or date, POSIX seconds, or 24h / 7d / 4w back")
    p.add_argument("--until", help="as --since; events before it")
    p.add_argument(
        "--tz", help="IANA time zone of the time buckets (default: $TZ if it names one, else UTC)"
    )
    p.add_argument("--agent", help="claude, codex or gemini")
    p.add_argument("--space", help="a space id: sessions in its folder")
    p.add_argument("--model", help="a model name as the CLI wrote it")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the report as JSON")
    out.add_argument("--csv", action="store_true", help="print the rows as CSV")
    p.add_argument("--index", metavar="PATH", help="session index to read (default: the server's)")
    p.add_argument("--no-sync", action="store_true", help="do not scan the agents' folders first")
    return p


class UsageApp(_Command):
    name = "jupyter-spaces-usage"
    description = "Tokens, cost and time per day, model, space, session… (no server needed)."

    options: argparse.Namespace

    def initialize(self, argv: Any = None) -> None:
        try:
            self.options = _parser().parse_args(sys.argv[1:] if argv is None else argv)
        except _UsageError as e:
            _fail(f"{e} (see `jupyter spaces usage --help`)", 2)
        self.json_output = self.options.json
        self.load_config_file()

    def start(self) -> None:
        o = self.options
        app = self.settings()
        registry = Registry(Path(app.registry_path))
        spaces = [(i, str(e["dir"])) for i, e in registry.entries().items()]
        args = {
            k: v
            for k, v in {
                "by": o.by,
                "since": o.since,
                "until": o.until,
                "tz": o.tz or _env_tz(),
                "agent": o.agent,
                "space": o.space,
                "model": o.model,
            }.items()
            if v is not None
        }
        try:
            query = parse_query(args, [i for i, _ in spaces])
            pricer = Pricer(app.usage_price_overrides)
        except (UsageQueryError, PriceOverrideError) as e:
            _fail(str(e), 2)
        index_path = Path(o.index) if o.index else _index_path(app)
        if o.no_sync and not index_path.is_file():
            _fail(f"no session index at {index_path} (leave out --no-sync to build it)", 1)
        try:
            index = SessionIndex(index_path, roots=app.agent_roots or None)
        except (OSError, sqlite3.Error) as e:
            _fail(f"cannot open the session index {index_path}: {e}", 1)
        now = time.time()
        try:
            if not o.no_sync:
                index.sync(agents=[query.agent] if query.agent else None)
            intervals = _intervals(index_path.parent / "agent-states.sqlite", query, now)

            def title_of(agent: str, sid: str) -> str | None:
                s = index.get(agent, sid)
                return s.title if s else None

            result = report(
                index.usage_events(query.since, query.until, agent=query.agent, model=query.model),
                query,
                pricer,
                space_finder(spaces),
                intervals,
                title_of,
                now=now,
            )
        finally:
            index.close()
        if o.json:
            print(json.dumps(result, indent=2))
        elif o.csv:
            print(_csv(flat_rows(result)), end="")
        else:
            print(_table(result))


def _env_tz() -> str | None:
    tz = os.environ.get("TZ", "").lstrip(":")
    return tz if tz and "/" in tz and not tz.startswith("/") else None


def _index_path(app: Any) -> Path:
    configured = app.sessions_index_path if app.has_trait("sessions_index_path") else None
    return Path(configured) if configured else default_index_path()


def _intervals(path: Path, query: Any, now: float) -> list[Interval]:
    if not path.is_file():
        return []
    lo = query.since if query.since is not None else 0.0
    hi = query.until if query.until is not None else math.inf
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute(
                'SELECT space_id, agent, session_id, state, start, COALESCE("end", ?) '
                'FROM intervals WHERE start < ? AND COALESCE("end", ?) > ?',
                (now, min(hi, now + 1), now, lo),
            ).fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return []  # no history yet (or an older one): tokens without time
    return [Interval(*r) for r in rows]


def _csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return buf.getvalue()


def _table(result: dict[str, Any]) -> str:
    rows = flat_rows(result)
    if not rows:
        return "no usage in this range"
    cols = [c for c in rows[0] if c not in ("block_end", "active", "unpriced_tokens")]
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)) for row in cells]
    t = result["totals"]
    cost = "unknown (unpriced models)" if t["cost_usd"] is None else f"${t['cost_usd']:.2f}"
    lines.append(f"total cost: {cost}, {result['estimate']}")
    return "\n".join(lines)


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


def _fail(message: str, status: int) -> NoReturn:
    print(f"jupyter spaces usage: {message}", file=sys.stderr)
    sys.exit(status)
