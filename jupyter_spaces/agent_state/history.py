"""Every agent state change, kept in a small SQLite file so time per state can be summed.

One row per interval: a pane was in ``state`` from ``start`` until ``end`` (NULL while it still
is). The file is the user's own (beside the session index in the Jupyter data dir); it outlives
server restarts, and the intervals a restart interrupted are closed when the server sees the
pane again.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model import AgentState

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS intervals(
      id INTEGER PRIMARY KEY,
      space_id TEXT NOT NULL,
      pane_id TEXT NOT NULL,
      agent TEXT,
      session_id TEXT,
      state TEXT NOT NULL,
      source TEXT NOT NULL,
      reason TEXT,
      start REAL NOT NULL,
      "end" REAL)""",
    "CREATE INDEX IF NOT EXISTS intervals_pane ON intervals(space_id, pane_id, start)",
    "CREATE INDEX IF NOT EXISTS intervals_start ON intervals(start)",
    'CREATE INDEX IF NOT EXISTS intervals_open ON intervals("end") WHERE "end" IS NULL',
)
GROUPS = ("pane", "space", "session", "day", "agent")


@dataclass(frozen=True)
class Open:
    """The interval a pane is in, as the history last recorded it."""

    state: str
    start: float
    source: str
    reason: str | None
    session_id: str | None


class StateHistory:
    """Thread-safe (one connection behind a lock; every write is one small transaction)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            for statement in _SCHEMA:
                self._db.execute(statement)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def open_intervals(self) -> dict[tuple[str, str], Open]:
        with self._lock:
            rows = self._db.execute(
                "SELECT space_id, pane_id, state, start, source, reason, session_id "
                'FROM intervals WHERE "end" IS NULL'
            ).fetchall()
        return {(r[0], r[1]): Open(r[2], r[3], r[4], r[5], r[6]) for r in rows}

    def change(
        self,
        space_id: str,
        pane_id: str,
        agent: str | None,
        session_id: str | None,
        new: AgentState,
    ) -> None:
        """The pane entered ``new`` at ``new.since``: its open interval ends there."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._close(space_id, pane_id, new.since)
            self._db.execute(
                "INSERT INTO intervals(space_id, pane_id, agent, session_id, state, source, "
                "reason, start) VALUES (?,?,?,?,?,?,?,?)",
                (
                    space_id,
                    pane_id,
                    agent,
                    session_id,
                    new.state,
                    new.source,
                    new.reason,
                    new.since,
                ),
            )

    def end(self, space_id: str, pane_id: str, at: float) -> None:
        """The pane left its state at ``at`` and entered none (it was removed)."""
        with self._lock, self._db:
            self._close(space_id, pane_id, at)

    def _close(self, space_id: str, pane_id: str, at: float) -> None:
        self._db.execute(
            'UPDATE intervals SET "end" = MAX(start, ?) '
            'WHERE space_id = ? AND pane_id = ? AND "end" IS NULL',
            (at, space_id, pane_id),
        )

    def timeline(self, space_id: str, pane_id: str, since: float = 0.0) -> list[dict[str, Any]]:
        """The pane's intervals that end after ``since`` (the open one too), oldest first."""
        with self._lock:
            rows = self._db.execute(
                'SELECT state, start, "end", source, reason, agent, session_id FROM intervals '
                'WHERE space_id = ? AND pane_id = ? AND ("end" IS NULL OR "end" >= ?) '
                "ORDER BY start, id",
                (space_id, pane_id, since),
            ).fetchall()
        keys = ("state", "start", "end", "source", "reason", "agent", "session_id")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def intervals(self, since: float, until: float, now: float) -> list[dict[str, Any]]:
        """The intervals that overlap ``[since, until)``, an open one ending at ``now``."""
        with self._lock:
            rows = self._db.execute(
                'SELECT space_id, pane_id, agent, session_id, state, start, COALESCE("end", ?) '
                'FROM intervals WHERE start < ? AND COALESCE("end", ?) > ? ORDER BY start, id',
                (now, until, now, since),
            ).fetchall()
        keys = ("space_id", "pane_id", "agent", "session_id", "state", "start", "end")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def seconds_per_state(
        self, by: str, since: float, until: float, now: float
    ) -> list[dict[str, Any]]:
        """Seconds spent in each state between ``since`` and ``until``, grouped ``by`` pane,
        space, session, day (UTC) or agent; an open interval counts up to ``now``. By day, an
        interval counts on the day it began."""
        if by not in GROUPS:
            raise ValueError(f"by must be one of {', '.join(GROUPS)}")
        key = {
            "pane": "space_id || '/' || pane_id",
            "space": "space_id",
            "session": "COALESCE(agent, '') || ':' || COALESCE(session_id, '')",
            "day": "date(MAX(start, :since), 'unixepoch')",
            "agent": "COALESCE(agent, '')",
        }[by]
        sql = (
            f'SELECT {key} AS k, state, SUM(MIN(COALESCE("end", :now), :until) '
            "- MAX(start, :since)) FROM intervals "
            'WHERE start < :until AND COALESCE("end", :now) > :since '
            "GROUP BY k, state ORDER BY k, state"
        )
        with self._lock:
            rows = self._db.execute(sql, {"since": since, "until": until, "now": now}).fetchall()
        return [{"key": k, "state": s, "seconds": round(max(v, 0.0), 3)} for k, s, v in rows]
