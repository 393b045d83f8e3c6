"""Searching and reading the session index: full-text queries made safe, and the hits."""

from __future__ import annotations

import html
import json
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .index_schema import PART_SHIFT
from .model import Message, Session, iso_to_epoch

# Snippet highlight markers inside SQLite (private-use characters no transcript contains), turned
# into <mark> after HTML-escaping the snippet.
_HL_OPEN, _HL_CLOSE = "\ue000", "\ue001"
_TERM = re.compile(r'"([^"]*)"?|(\S+)')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SearchQueryError(ValueError):
    """A full-text query that SQLite rejects (raw FTS5 syntax); the message says why."""


@dataclass
class SearchHit:
    """A session found by ``search``; ``snippet`` is HTML-safe text with ``<mark>`` around the
    matched terms, from the session's latest matching message (None without a full-text query);
    ``matches`` counts matching messages."""

    session: Session
    snippet: str | None = None
    matches: int = 0

    def to_json(self) -> dict[str, Any]:
        d = self.session.to_json()
        d["snippet"] = self.snippet
        d["matches"] = self.matches
        return d


def fts_query(q: str) -> str | None:
    """A user's words as a safe FTS5 query: every term quoted (so ``"``, ``*``, ``NEAR(``, ``-``,
    ``AND`` are plain text), ``"a phrase"`` kept as a phrase, a trailing ``*`` kept as a prefix
    search; terms are ANDed. None when nothing searchable is left."""
    # FTS5 reads a NUL as the end of the query text; no control character is a search term.
    q = _CONTROL.sub(" ", q)
    terms = []
    for m in _TERM.finditer(q):
        phrase, word = m.group(1), m.group(2)
        prefix = False
        if phrase is None:
            prefix = word.endswith("*")
            phrase = word.rstrip("*")
        if not any(ch.isalnum() for ch in phrase):
            continue
        terms.append('"' + phrase.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " ".join(terms) or None


def _epoch(t: float | datetime | str | None) -> float | None:
    if t is None or isinstance(t, float | int):
        return t
    if isinstance(t, datetime):
        return t.timestamp()
    v = iso_to_epoch(t)
    if v is None:
        raise ValueError(f"not an ISO-8601 time: {t!r}")
    return v


class SessionQueries:
    """The reading half of :class:`~jupyter_spaces.agents.index.SessionIndex` (mixed into it)."""

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError  # SessionIndex's own, one connection per thread

    def get(self, agent: str, session_id: str) -> Session | None:
        row = (
            self._conn()
            .execute(
                "SELECT data FROM sessions WHERE agent = ? AND id = ? AND data != '{}'",
                (agent, session_id),
            )
            .fetchone()
        )
        return Session.from_dict(json.loads(row[0])) if row else None

    def messages(
        self, agent: str, session_id: str, limit: int = 200, offset: int = 0
    ) -> list[Message]:
        """The session's messages in transcript order (only the files that count for it)."""
        rows = (
            self._conn()
            .execute(
                "SELECT p.session_id, m.seq, m.sub, m.role, m.kind, m.text, m.time FROM sessions s "
                "JOIN parts p ON p.sid = s.sid AND p.active = 1 JOIN messages m ON m.pid = p.pid "
                "WHERE s.agent = ? AND s.id = ? ORDER BY p.pid, m.seq, m.sub LIMIT ? OFFSET ?",
                (agent, session_id, limit, offset),
            )
            .fetchall()
        )
        return [Message(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]

    def sessions_under(
        self,
        directory: str | Path,
        *,
        agent: str | None = None,
        subagents: bool = False,
        limit: int = 1000,
    ) -> list[Session]:
        """Sessions whose cwd is ``directory`` or inside it, most recent first."""
        where, args = _under(directory)
        if agent is not None:
            where.append("s.agent = ?")
            args.append(agent)
        if not subagents:
            where.append("s.is_subagent = 0")
        rows = (
            self._conn()
            .execute(
                f"SELECT s.data FROM sessions s WHERE {' AND '.join(where)} AND s.data != '{{}}' "
                "ORDER BY s.last_activity DESC LIMIT ?",
                (*args, limit),
            )
            .fetchall()
        )
        return [Session.from_dict(json.loads(r[0])) for r in rows]

    def search(
        self,
        q: str | None = None,
        agent: str | None = None,
        cwd: str | None = None,
        since: float | datetime | str | None = None,
        until: float | datetime | str | None = None,
        limit: int = 50,
        offset: int = 0,
        *,
        under: str | Path | None = None,
        subagents: bool = False,
        gone: bool = True,
        order: str = "relevance",
        raw: bool = False,
    ) -> list[SearchHit]:
        """Sessions, newest first, or with ``q`` those whose messages match it, the session with
        the most matching messages first (``order="recent"``: newest first). ``since`` and
        ``until`` bound the last activity (``since <= t < until``); ``cwd`` is exact, ``under``
        takes a folder and everything inside it; sub-agents are left out unless ``subagents``,
        sessions whose transcript is gone are in unless ``gone=False``.

        ``q`` is a list of words, each matched as typed (see ``fts_query``); with ``raw`` it is
        FTS5 syntax and a syntax error raises SearchQueryError."""
        where = ["s.data != '{}'"]
        args: list[Any] = []
        if agent is not None:
            where.append("s.agent = ?")
            args.append(agent)
        if cwd is not None:
            where.append("s.cwd = ?")
            args.append(os.path.normpath(cwd))
        if under is not None:
            cond_under, args_under = _under(under)
            where += cond_under
            args += args_under
        lo, hi = _epoch(since), _epoch(until)
        if lo is not None:
            where.append("s.last_activity >= ?")
            args.append(lo)
        if hi is not None:
            where.append("s.last_activity < ?")
            args.append(hi)
        if not subagents:
            where.append("s.is_subagent = 0")
        if not gone:
            where.append("s.gone = 0")
        cond = " AND ".join(where)
        if order not in ("relevance", "recent"):
            raise ValueError(f"order must be 'relevance' or 'recent', not {order!r}")
        match = ((q.strip() or None) if raw else fts_query(q)) if q else None
        conn = self._conn()
        if match is None:
            rows = conn.execute(
                f"SELECT s.data FROM sessions s WHERE {cond} "
                "ORDER BY s.last_activity DESC, s.sid DESC LIMIT ? OFFSET ?",
                (*args, limit, offset),
            ).fetchall()
            return [SearchHit(Session.from_dict(json.loads(r[0]))) for r in rows]
        # Relevance = how many messages match (bm25 would score every hit of a common word).
        by = "best.n DESC, s.last_activity DESC" if order == "relevance" else "s.last_activity DESC"
        sql = (
            "WITH hits AS (SELECT rowid >> ? AS pid, COUNT(*) AS n, MAX(rowid) AS mid"
            "  FROM messages_fts WHERE messages_fts MATCH ? GROUP BY 1),"
            " best AS (SELECT p.sid AS sid, SUM(h.n) AS n, MAX(h.mid) AS mid FROM hits h"
            "  JOIN parts p ON p.pid = h.pid AND p.active = 1"
            f"  JOIN sessions s ON s.sid = p.sid WHERE {cond} GROUP BY p.sid)"
            " SELECT s.data, best.n, best.mid FROM best JOIN sessions s ON s.sid = best.sid"
            f" ORDER BY {by} LIMIT ? OFFSET ?"
        )
        try:
            rows = conn.execute(sql, (PART_SHIFT, match, *args, limit, offset)).fetchall()
            # Snippets of the chosen messages (each session's latest match). Without a prefix
            # term, one rowid lookup each (a seek in the doclists: a common word's pass over
            # all its hits costs several times more); with one, a single pass over the hits,
            # as every lookup would rebuild the prefix's merged hit list.
            chosen = json.dumps([r[2] for r in rows])
            sql = (
                "SELECT rowid, snippet(messages_fts, 0, ?, ?, '…', 16) FROM messages_fts "
                "WHERE messages_fts MATCH ? AND rowid IN (SELECT value FROM json_each(?))"
                if "*" not in match
                else "SELECT mid, s FROM (SELECT rowid AS mid, CASE WHEN rowid IN "
                "(SELECT value FROM json_each(?4)) "
                "THEN snippet(messages_fts, 0, ?1, ?2, '…', 16) "
                "END AS s FROM messages_fts WHERE messages_fts MATCH ?3) "
                "WHERE s IS NOT NULL"
            )
            snippets = (
                dict(conn.execute(sql, (_HL_OPEN, _HL_CLOSE, match, chosen)).fetchall())
                if rows
                else {}
            )
        except sqlite3.OperationalError as e:
            # Expected only with ``raw``; quoted terms are always valid FTS5.
            raise SearchQueryError(f"bad full-text query {q!r}: {e}") from e
        return [
            SearchHit(
                Session.from_dict(json.loads(data)),
                snippet=_highlight(snippets[mid]) if mid in snippets else None,
                matches=n,
            )
            for data, n, mid in rows
        ]


def _under(directory: str | Path) -> tuple[list[str], list[Any]]:
    """A condition on ``s.cwd``: ``directory`` itself or anything inside it."""
    base = os.path.normpath(os.path.abspath(directory)).rstrip(os.sep)
    # Range on the cwd index: everything that starts with "<base>/" sorts below "<base>0".
    return (
        ["(s.cwd = ? OR (s.cwd >= ? AND s.cwd < ?))"],
        [base or os.sep, base + os.sep, base + chr(ord(os.sep) + 1)],
    )


def _highlight(snippet: str) -> str:
    return (
        html.escape(snippet, quote=False).replace(_HL_OPEN, "<mark>").replace(_HL_CLOSE, "</mark>")
    )
