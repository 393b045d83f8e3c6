"""Reading the index's usage table: the events every usage view is computed from, and the
figures a session listing shows (totals with sub-agents, the sub-agents nested).

A usage row counts when its part is active (Codex's archived duplicate of a live thread is not)
and it is not a Claude sub-agent's replay of a response its parent counts (``dup``). A session's
*root* is its parent for a sub-agent, itself otherwise.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .model import Session, Tokens

_ROOT = "CASE WHEN s.is_subagent = 1 AND s.parent_id IS NOT NULL THEN s.parent_id ELSE s.id END"


@dataclass(slots=True)
class UsageRow:
    """One counted usage event with its session's facts."""

    time: float
    agent: str
    session_id: str
    root_id: str
    cwd: str | None
    model: str | None
    input: int
    output: int
    cache_read: int
    cache_creation: int
    reasoning: int

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]


class UsageQueries:
    """Mixed into :class:`~jupyter_spaces.agents.index.SessionIndex`."""

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def usage_events(
        self,
        since: float | None = None,
        until: float | None = None,
        *,
        agent: str | None = None,
        model: str | None = None,
    ) -> Iterator[UsageRow]:
        """Counted usage events with ``since <= time < until``, oldest first."""
        where = ["u.dup = 0", "s.data != '{}'"]
        args: list[Any] = []
        if since is not None:
            where.append("u.time >= ?")
            args.append(since)
        if until is not None:
            where.append("u.time < ?")
            args.append(until)
        if agent is not None:
            where.append("s.agent = ?")
            args.append(agent)
        if model is not None:
            where.append("u.model = ?")
            args.append(model)
        sql = (
            f"SELECT u.time, s.agent, s.id, {_ROOT}, s.cwd, u.model, u.input, u.output, "
            "u.cache_read, u.cache_creation, u.reasoning FROM usage u "
            "JOIN parts p ON p.pid = u.pid AND p.active = 1 JOIN sessions s ON s.sid = p.sid "
            f"WHERE {' AND '.join(where)} ORDER BY u.time"
        )
        for r in self._conn().execute(sql, args):
            yield UsageRow(*r)

    def usage_totals(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Tokens]:
        """Counted tokens of each (agent, root session id), its sub-agents included."""
        out: dict[tuple[str, str], Tokens] = {}
        conn = self._conn()
        for agent, root in set(keys):
            row = conn.execute(
                "SELECT COALESCE(SUM(u.input), 0), COALESCE(SUM(u.output), 0), "
                "COALESCE(SUM(u.cache_read), 0), COALESCE(SUM(u.cache_creation), 0), "
                "COALESCE(SUM(u.reasoning), 0) FROM sessions s "
                "JOIN parts p ON p.sid = s.sid AND p.active = 1 "
                "JOIN usage u ON u.pid = p.pid AND u.dup = 0 WHERE s.sid IN ("
                "SELECT sid FROM sessions WHERE agent = ?1 AND id = ?2 UNION ALL "
                "SELECT sid FROM sessions WHERE agent = ?1 AND parent_id = ?2 AND is_subagent = 1)",
                (agent, root),
            ).fetchone()
            i, o, cr, cc, r = row
            out[(agent, root)] = Tokens(i, o, cr, cc, r, i + o + cr + cc)
        return out

    def subagents_of(self, agent: str, session_id: str) -> list[Session]:
        """The sub-agent sessions whose parent is ``session_id``, oldest first."""
        rows = (
            self._conn()
            .execute(
                "SELECT data FROM sessions WHERE agent = ? AND parent_id = ? AND is_subagent = 1 "
                "AND data != '{}' ORDER BY started, id",
                (agent, session_id),
            )
            .fetchall()
        )
        return [Session.from_dict(json.loads(r[0])) for r in rows]

    def subagent_usage(self, agent: str, session_id: str) -> Tokens:
        """A sub-agent's own counted tokens (its replays of the parent's responses left out)."""
        i, o, cr, cc, r = (
            self._conn()
            .execute(
                "SELECT COALESCE(SUM(u.input), 0), COALESCE(SUM(u.output), 0), "
                "COALESCE(SUM(u.cache_read), 0), COALESCE(SUM(u.cache_creation), 0), "
                "COALESCE(SUM(u.reasoning), 0) FROM sessions s "
                "JOIN parts p ON p.sid = s.sid AND p.active = 1 "
                "JOIN usage u ON u.pid = p.pid AND u.dup = 0 WHERE s.agent = ? AND s.id = ?",
                (agent, session_id),
            )
            .fetchone()
        )
        return Tokens(i, o, cr, cc, r, i + o + cr + cc)
