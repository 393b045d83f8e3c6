"""``%spaces usage``: the server's usage report (``GET /api/spaces/usage``) in a notebook.

A pandas DataFrame when pandas can be imported (one row per report row: the dimensions, the
token counts, ``cost_usd``, ``unpriced_tokens``, ``sessions`` and ``<state>_seconds``), a table
otherwise. Nothing here imports the server side: the figures come over HTTP.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from .context import AGENTS, SpacesContext
from .parsing import _Parser, _parser
from .results import Result, _html_table, _text_table, esc

DIMS = ("hour", "day", "week", "month", "block", "agent", "model", "space", "session")


def flat_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's rows as flat records: dimensions, tokens, cost, sessions, seconds."""
    out = []
    for row in report.get("rows") or []:
        flat = {
            k: v
            for k, v in row.items()
            if k not in ("tokens", "seconds", "cost_usd", "unpriced_tokens", "sessions")
        }
        flat.update(row.get("tokens") or {})
        flat["cost_usd"] = row.get("cost_usd")
        flat["unpriced_tokens"] = row.get("unpriced_tokens")
        flat["sessions"] = row.get("sessions")
        for state, sec in (row.get("seconds") or {}).items():
            flat[f"{state}_seconds"] = sec
        out.append(flat)
    return out


class UsageTable(Result):
    """The report without pandas: a table, and the raw report as ``.report``."""

    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report
        self.rows = flat_rows(report)
        self.columns = [c for c in (self.rows[0] if self.rows else {}) if c != "block_end"]

    def _cells(self) -> list[list[str]]:
        return [
            ["-" if r.get(c) is None else str(r.get(c)) for c in self.columns] for r in self.rows
        ]

    def footer(self) -> str:
        t = self.report.get("totals") or {}
        cost = t.get("cost_usd")
        shown = "unknown (unpriced models)" if cost is None else f"${cost:.2f}"
        return f"total cost {shown}: {self.report.get('estimate', 'an estimate')}"

    def text(self) -> str:
        if not self.rows:
            return "no usage in this range"
        return _text_table(self.columns, self._cells()) + "\n" + self.footer()

    def _repr_html_(self) -> str:
        if not self.rows:
            return "<p>no usage in this range</p>"
        return (
            _html_table(self.columns, self._cells()) + f"<p><small>{esc(self.footer())}</small></p>"
        )


class UsageCommands(SpacesContext):
    def _p_usage(self) -> _Parser:
        p = _parser("usage", "Tokens, estimated cost and time of the agents' model responses.")
        p.add_argument("--by", default="day", help=f"one or two of {', '.join(DIMS)} (default day)")
        p.add_argument("--since", help="ISO-8601 time or date, POSIX seconds, or 24h / 7d / 4w")
        p.add_argument("--until", help="as --since; before it")
        p.add_argument("--tz", help="IANA time zone of the buckets (default: $TZ, else UTC)")
        p.add_argument("--agent", choices=AGENTS)
        p.add_argument(
            "--space", nargs="?", const="", help="only this space (alone: the linked space)"
        )
        p.add_argument("--model", help="only this model")
        p.add_argument("--table", action="store_true", help="a table even when pandas is installed")
        return p

    def do_usage(self, args: argparse.Namespace) -> Any:
        query: dict[str, Any] = {"by": args.by}
        for key in ("since", "until", "model", "agent"):
            if getattr(args, key):
                query[key] = getattr(args, key)
        tz = args.tz or _env_tz()
        if tz:
            query["tz"] = tz
        if args.space is not None:
            query["space"] = self.space(args.space or None)["id"]
        report = self.client.usage(**query)
        if not args.table:
            try:
                import pandas as pd
            except ImportError:
                pass
            else:
                df = pd.DataFrame(flat_rows(report))
                df.attrs["report"] = report
                return df
        return UsageTable(report)


def _env_tz() -> str | None:
    tz = os.environ.get("TZ", "").lstrip(":")
    return tz if tz and "/" in tz and not tz.startswith("/") else None
