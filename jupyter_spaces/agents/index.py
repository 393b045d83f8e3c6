"""The session index: SQLite (WAL) with an FTS5 table over message text.

Per file it stores ``(dev, inode, size, mtime_ns)``, the offset of the last complete line and the
parser's state, so that a re-scan with nothing changed only stats files, an appended file is parsed
from where the last parse stopped, and a file whose inode changed or that shrank is re-read from 0.
A file that vanished keeps its rows (its sessions stay listed, marked ``gone``): the CLIs delete old
transcripts, the index is then the only copy of their metadata and text.

Tables: ``files`` (one row per transcript or title file), ``parts`` (what one file holds of one
session, as JSON), ``sessions`` (the merge of a session's parts, with the columns that queries
filter on), ``messages`` + ``messages_fts`` (external-content FTS5, kept in step by triggers), and
``titles`` (Codex thread names). Writes happen under one lock, in transactions committed about once
a second, so that a cold index of thousands of files is a few large transactions and readers (each
thread has its own connection) see consistent sessions meanwhile.

The tables are in :mod:`.index_schema`, the queries in :mod:`.search`. The writer stays one module
of about 700 lines for now: its steps share one lock, batch and transaction, and the tests patch
``COMMIT_EVERY`` and ``PARSE_STEP`` here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import claude, codex, gemini
from .base import (
    PARSE_STEP,
    SETTLE_SECONDS,
    AgentFormat,
    FileState,
    Incomplete,
    ParseResult,
    Part,
    TooLarge,
    storable,
)
from .index_schema import _SCHEMA, _TABLES, PART_SHIFT, SCHEMA_VERSION
from .model import AGENT_NAMES, Session
from .search import SearchHit as SearchHit
from .search import SearchQueryError as SearchQueryError
from .search import SessionQueries
from .search import fts_query as fts_query
from .usage_queries import UsageQueries

log = logging.getLogger(__name__)

FORMATS: dict[str, AgentFormat] = {
    "claude": claude.FORMAT,
    "codex": codex.FORMAT,
    "gemini": gemini.FORMAT,
}

# How long one write transaction may grow before it is committed, so readers see progress.
COMMIT_EVERY = 1.0


@dataclass
class SyncStats:
    files_seen: int = 0
    files_parsed: int = 0
    bytes_read: int = 0
    malformed_lines: int = 0
    files_gone: int = 0
    sessions_updated: int = 0
    errors: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Batch:
    touched: set[tuple[str, str]] = field(default_factory=set)
    started: float = field(default_factory=time.monotonic)


def default_index_path() -> Path:
    """``<jupyter data dir>/spaces/agent-sessions.sqlite``."""
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "spaces" / "agent-sessions.sqlite"


class SessionIndex(SessionQueries, UsageQueries):
    """Thread-safe: any thread may query (each gets its own connection); ``sync``/``sync_file``
    serialise on one lock. ``roots`` maps an agent name to the directories to scan (defaults:
    each CLI's environment overrides and home-directory locations)."""

    def __init__(
        self, path: str | Path, roots: Mapping[str, Sequence[str | Path]] | None = None
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._roots = {a: [Path(p) for p in r] for a, r in (roots or {}).items()}
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._hash_roots: dict[str, str] = {}
        self._closed = False
        self._init_schema()

    # -- connections ---------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("the session index is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # Each thread has its own connection; close() may run on another thread.
            conn = sqlite3.connect(
                self.path, timeout=30, check_same_thread=False, isolation_level=None
            )
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute("PRAGMA cache_size = -65536")
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    def _init_schema(self) -> None:
        with self._write_lock:
            conn = self._conn()
            conn.execute("PRAGMA journal_mode = WAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                for name in _TABLES:  # their indexes and triggers go with them
                    conn.execute(f"DROP TABLE IF EXISTS {name}")
                for stmt in _SCHEMA:
                    conn.execute(stmt)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._write_lock, self._conns_lock:
            self._closed = True
            for c in self._conns:
                c.close()
            self._conns.clear()

    def roots(self, agent: str) -> list[Path]:
        if agent in self._roots:
            return self._roots[agent]
        return FORMATS[agent].default_roots()

    # -- writing -------------------------------------------------------------------------------

    def sync(
        self,
        agents: Iterable[str] | None = None,
        roots: Mapping[str, Sequence[str | Path]] | None = None,
    ) -> SyncStats:
        """Scan the roots of ``agents`` (all by default), parse what changed, mark what vanished.
        ``roots`` overrides the directories for this call (and selects the agents if ``agents``
        is not given)."""
        t0 = time.monotonic()
        if agents is None:
            agents = list(roots) if roots else list(AGENT_NAMES)
        stats = SyncStats()
        with self._writing(stats) as (conn, batch):
            for agent in agents:
                fmt = FORMATS[agent]
                rts = (
                    [Path(p) for p in roots[agent]]
                    if roots and agent in roots
                    else self.roots(agent)
                )
                self._sync_agent(conn, fmt, rts, stats, batch)
        stats.seconds = time.monotonic() - t0
        return stats

    def sync_file(self, path: str | Path) -> SyncStats:
        """Bring one file up to date (for a file watcher): parse what was appended, re-read it if
        rewritten, mark it gone if deleted. Files outside every agent's roots are ignored."""
        t0 = time.monotonic()
        path = os.path.abspath(path)
        stats = SyncStats()
        if not storable(path):
            return stats  # not valid UTF-8: never indexed (see base.storable)
        with self._writing(stats) as (conn, batch):
            for agent, fmt in FORMATS.items():
                rts = self.roots(agent)
                if isinstance(fmt, codex.CodexFormat) and path in fmt.title_files(rts):
                    self._sync_titles(conn, path, stats, batch)
                elif fmt.owns(path, rts) or self._known(conn, path, agent):
                    self._sync_one(conn, fmt, path, stats, batch)
        stats.seconds = time.monotonic() - t0
        return stats

    @contextmanager
    def _writing(self, stats: SyncStats) -> Iterator[tuple[sqlite3.Connection, _Batch]]:
        """One write transaction: the batch is flushed and committed, or all of it rolls back."""
        with self._write_lock:
            conn = self._conn()
            batch = _Batch()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn, batch
                self._finish(conn, batch, stats)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _known(self, conn: sqlite3.Connection, path: str, agent: str) -> bool:
        return (
            conn.execute(
                "SELECT 1 FROM files WHERE path = ? AND agent = ?", (path, agent)
            ).fetchone()
            is not None
        )

    def _sync_one(
        self, conn: sqlite3.Connection, fmt: AgentFormat, path: str, stats: SyncStats, batch: _Batch
    ) -> None:
        row = conn.execute(
            "SELECT id, dev, ino, size, mtime_ns, offset, state, gone FROM files WHERE path = ?",
            (path,),
        ).fetchone()
        try:
            st = os.stat(path)
        except OSError:
            if row is not None and not row[7]:
                self._mark_gone(conn, row[0], stats, batch)
            return
        stats.files_seen += 1
        if not _unchanged(row, st):
            self._parse(conn, fmt, path, st, row, stats, batch)

    def _sync_agent(
        self,
        conn: sqlite3.Connection,
        fmt: AgentFormat,
        rts: list[Path],
        stats: SyncStats,
        batch: _Batch,
    ) -> None:
        known: dict[str, tuple[Any, ...]] = {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT path, id, dev, ino, size, mtime_ns, offset, state, gone FROM files "
                "WHERE agent = ? AND role = 'transcript'",
                (fmt.name,),
            )
        }
        seen: set[str] = set()
        for path in fmt.iter_files(rts):
            try:
                st = os.stat(path)
            except OSError:
                continue
            seen.add(path)
            stats.files_seen += 1
            row = known.get(path)
            if _unchanged(row, st):
                continue
            self._parse(conn, fmt, path, st, row, stats, batch)
        for path, row in known.items():
            if path not in seen and not row[7] and not os.path.exists(path):
                self._mark_gone(conn, row[0], stats, batch)
        if isinstance(fmt, codex.CodexFormat):
            for path in fmt.title_files(rts):
                self._sync_titles(conn, path, stats, batch)

    def _parse(
        self,
        conn: sqlite3.Connection,
        fmt: AgentFormat,
        path: str,
        st: os.stat_result,
        row: tuple[Any, ...] | None,
        stats: SyncStats,
        batch: _Batch,
    ) -> None:
        """Parse ``path`` (``row``: id, dev, ino, size, mtime_ns, offset, state, gone) in steps
        of at most PARSE_STEP bytes, each applied (and possibly committed) before the next."""
        file_id: int | None = row[0] if row is not None else None
        state: FileState | None = None
        if (
            row is not None
            and row[6]
            and row[1] == st.st_dev
            and row[2] == st.st_ino
            and st.st_size >= row[5]
        ):
            state = FileState.loads(row[6])
        parsed = False
        while True:
            try:
                res = fmt.parse_file(path, state, PARSE_STEP)
            except (Incomplete, TooLarge) as e:
                # Caught mid-rewrite: the unchanged stat row makes the next sync retry. Still
                # broken long after its last change, or too large: skipped and counted until
                # the file changes again, so that it is not re-read on every scan.
                if isinstance(e, Incomplete) and time.time() - st.st_mtime < SETTLE_SECONDS:
                    break
                stats.malformed_lines += 1
                old = FileState.loads(row[6]) if row is not None and row[6] else FileState()
                bad = FileState(st.st_size, old.malformed + 1, old.data)
                file_id = self._store_file(conn, fmt.name, path, st, file_id, bad, str(e))
                break
            except OSError:
                break  # vanished or unreadable since the walk; the next sync decides
            except Exception as e:  # a parser bug must not stop the index; retried on change
                self._failed(conn, fmt.name, path, st, file_id, e, stats)
                break
            parsed = True
            stats.bytes_read += res.bytes_read
            stats.malformed_lines += res.malformed
            before = file_id
            conn.execute("SAVEPOINT parsed_file")
            try:
                file_id = self._store_file(
                    conn, fmt.name, path, st, file_id, res.state, None, complete=res.complete
                )
                self._apply(conn, fmt.name, file_id, st, res, batch)
            except Exception as e:  # an index bug: this file is left out, the scan goes on
                conn.execute("ROLLBACK TO parsed_file")
                conn.execute("RELEASE parsed_file")
                self._failed(conn, fmt.name, path, st, before, e, stats)
                break
            conn.execute("RELEASE parsed_file")
            self._maybe_commit(conn, batch, stats)
            if res.complete:
                break
            state = res.state
        stats.files_parsed += parsed

    def _failed(
        self,
        conn: sqlite3.Connection,
        agent: str,
        path: str,
        st: os.stat_result,
        file_id: int | None,
        e: Exception,
        stats: SyncStats,
    ) -> None:
        """Record that ``path`` could not be indexed: with its stat, so it is tried again only
        once it changes (then from the start)."""
        log.warning("agent index: cannot index %s: %s", path, e, exc_info=True)
        stats.errors += 1
        self._store_file(conn, agent, path, st, file_id, None, str(e)[:1000])

    def _maybe_commit(self, conn: sqlite3.Connection, batch: _Batch, stats: SyncStats) -> None:
        if time.monotonic() - batch.started > COMMIT_EVERY:
            self._finish(conn, batch, stats)
            conn.execute("COMMIT")
            conn.execute("BEGIN IMMEDIATE")
            batch.started = time.monotonic()

    def _store_file(
        self,
        conn: sqlite3.Connection,
        agent: str,
        path: str,
        st: os.stat_result,
        file_id: int | None,
        state: FileState | None,
        error: str | None,
        role: str = "transcript",
        complete: bool = True,
    ) -> int:
        # A file read only partly (a commit between steps) must not look up to date if the
        # process stops before the next step: no mtime, so the next sync continues it.
        values = (
            st.st_dev,
            st.st_ino,
            st.st_size,
            st.st_mtime_ns if complete else None,
            state.offset if state else 0,
            state.malformed if state else 0,
            state.dumps() if state else None,
            error,
        )
        if file_id is None:
            cur = conn.execute(
                "INSERT INTO files(path, agent, role, dev, ino, size, mtime_ns, offset, "
                "malformed, state, error) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (path, agent, role, *values),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid
        conn.execute(
            "UPDATE files SET dev=?, ino=?, size=?, mtime_ns=?, offset=?, malformed=?, state=?, "
            "error=?, gone=0 WHERE id=?",
            (*values, file_id),
        )
        return file_id

    def _apply(
        self,
        conn: sqlite3.Connection,
        agent: str,
        file_id: int,
        st: os.stat_result,
        res: ParseResult,
        batch: _Batch,
    ) -> None:
        if res.reset:
            old = conn.execute(
                "SELECT pid, session_id FROM parts WHERE file_id = ?", (file_id,)
            ).fetchall()
            conn.executemany("DELETE FROM messages WHERE pid = ?", [(p,) for p, _ in old])
            conn.executemany("DELETE FROM usage WHERE pid = ?", [(p,) for p, _ in old])
            conn.execute("DELETE FROM parts WHERE file_id = ?", (file_id,))
            batch.touched.update((agent, s) for _, s in old)
        for old_id, new_id in res.renamed.items():
            if old_id == new_id:
                continue
            # A file renamed back and forth may still hold a part under the new id: the renamed
            # part (the current content) replaces it.
            stale = conn.execute(
                "SELECT pid FROM parts WHERE file_id = ? AND session_id = ?", (file_id, new_id)
            ).fetchone()
            if (
                stale is not None
                and conn.execute(
                    "SELECT 1 FROM parts WHERE file_id = ? AND session_id = ?", (file_id, old_id)
                ).fetchone()
            ):
                conn.execute("DELETE FROM messages WHERE pid = ?", stale)
                conn.execute("DELETE FROM usage WHERE pid = ?", stale)
                conn.execute("DELETE FROM parts WHERE pid = ?", stale)
            conn.execute(
                "UPDATE parts SET session_id = ?, sid = ? WHERE file_id = ? AND session_id = ?",
                (new_id, self._sid(conn, agent, new_id), file_id, old_id),
            )
            batch.touched.update(((agent, old_id), (agent, new_id)))
        pids: dict[str, int] = {}
        next_n: dict[str, int] = {}
        for session_id, s in res.sessions.items():
            if s.last_activity is None:
                s.last_activity = st.st_mtime
            pids[session_id], next_n[session_id] = conn.execute(
                "INSERT INTO parts(file_id, sid, session_id, data) VALUES (?,?,?,?) "
                "ON CONFLICT(file_id, session_id) DO UPDATE SET data = excluded.data, "
                "sid = excluded.sid RETURNING pid, next_n",
                (
                    file_id,
                    self._sid(conn, agent, session_id),
                    session_id,
                    json.dumps(s.to_dict(), separators=(",", ":")),
                ),
            ).fetchone()
            batch.touched.add((agent, session_id))
        for session_id, seq in res.truncate.items():
            if session_id in pids:
                conn.execute(
                    "DELETE FROM messages WHERE pid = ? AND seq >= ?", (pids[session_id], seq)
                )
        for session_id, seqs in res.replaced.items():
            if session_id in pids:
                conn.executemany(
                    "DELETE FROM messages WHERE pid = ? AND seq = ?",
                    [(pids[session_id], q) for q in seqs],
                )
        rows = []
        for m in res.messages:
            if m.session_id not in pids:
                continue  # a parser listed no session for it; nothing to attach it to
            pid = pids[m.session_id]
            n = next_n[m.session_id]
            next_n[m.session_id] = n + 1
            rows.append(
                ((pid << PART_SHIFT) + n, pid, m.seq, m.sub, m.role, m.kind, m.time, m.text)
            )
        conn.executemany(
            "INSERT INTO messages(mid, pid, seq, sub, role, kind, time, text) "
            "VALUES (?,?,?,?,?,?,?,?)",
            rows,
        )
        conn.executemany(
            "UPDATE parts SET next_n = ? WHERE pid = ?",
            [(next_n[s], pids[s]) for s in {m.session_id for m in res.messages} if s in pids],
        )
        self._apply_usage(conn, res, pids)

    def _apply_usage(
        self, conn: sqlite3.Connection, res: ParseResult, pids: dict[str, int]
    ) -> None:
        conn.executemany(
            "DELETE FROM usage WHERE pid = ?", [(pids[s],) for s in res.usage_replace if s in pids]
        )
        # A response seen again keeps its first time and model; its tokens grow only.
        conn.executemany(
            "INSERT INTO usage(pid, key, time, model, input, output, cache_read, cache_creation, "
            "reasoning) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(pid, key) DO UPDATE SET "
            "input = excluded.input, output = excluded.output, "
            "cache_read = excluded.cache_read, cache_creation = excluded.cache_creation, "
            "reasoning = excluded.reasoning, model = COALESCE(usage.model, excluded.model) "
            "WHERE excluded.input + excluded.output + excluded.cache_read "
            "+ excluded.cache_creation > usage.input + usage.output + usage.cache_read "
            "+ usage.cache_creation",
            [
                (
                    pids[e.session_id],
                    e.key,
                    e.time,
                    e.model,
                    e.input,
                    e.output,
                    e.cache_read,
                    e.cache_creation,
                    e.reasoning,
                )
                for e in res.usage
                if e.session_id in pids
            ],
        )

    def _sid(self, conn: sqlite3.Connection, agent: str, session_id: str) -> int:
        row = conn.execute(
            "INSERT INTO sessions(agent, id) VALUES (?, ?) ON CONFLICT(agent, id) "
            "DO UPDATE SET id = id RETURNING sid",
            (agent, session_id),
        ).fetchone()
        return int(row[0])

    def _mark_gone(
        self, conn: sqlite3.Connection, file_id: int, stats: SyncStats, batch: _Batch
    ) -> None:
        conn.execute("UPDATE files SET gone = 1 WHERE id = ?", (file_id,))
        stats.files_gone += 1
        agent = conn.execute("SELECT agent FROM files WHERE id = ?", (file_id,)).fetchone()[0]
        batch.touched.update(
            (agent, r[0])
            for r in conn.execute("SELECT session_id FROM parts WHERE file_id = ?", (file_id,))
        )

    def _sync_titles(
        self, conn: sqlite3.Connection, path: str, stats: SyncStats, batch: _Batch
    ) -> None:
        row = conn.execute(
            "SELECT id, dev, ino, size, mtime_ns, offset, state, gone FROM files WHERE path = ?",
            (path,),
        ).fetchone()
        try:
            st = os.stat(path)
        except OSError:
            return
        stats.files_seen += 1
        if row is not None and tuple(row[1:5]) == (
            st.st_dev,
            st.st_ino,
            st.st_size,
            st.st_mtime_ns,
        ):
            return
        offset = row[5] if row is not None and row[2] == st.st_ino and st.st_size >= row[5] else 0
        try:
            titles, offset, read, bad = codex.read_titles(path, offset)
        except OSError:
            return
        stats.files_parsed += 1
        stats.bytes_read += read
        stats.malformed_lines += bad
        self._store_file(
            conn, "codex", path, st, row[0] if row else None, FileState(offset, bad), None, "titles"
        )
        conn.executemany(
            "INSERT INTO titles(agent, id, title) VALUES ('codex', ?, ?) "
            "ON CONFLICT(agent, id) DO UPDATE SET title = excluded.title",
            titles.items(),
        )
        batch.touched.update(("codex", i) for i in titles)

    # -- merging -------------------------------------------------------------------------------

    def _finish(self, conn: sqlite3.Connection, batch: _Batch, stats: SyncStats) -> None:
        """Re-merge the sessions touched since the last commit."""
        touched = batch.touched
        batch.touched = set()
        if not touched:
            return
        # Sub-agents last: their tokens depend on their parent's (Claude replays).
        parents = [i for a, i in touched if a == "claude"]
        children = {
            ("claude", r[0])
            for chunk in _chunks(parents, 500)
            for r in conn.execute(
                "SELECT id FROM sessions WHERE agent = 'claude' AND parent_id IN "
                f"({','.join('?' * len(chunk))})",
                chunk,
            )
        }
        order = sorted(touched - children) + sorted(children)
        parent_ids: dict[str, set[str]] = {}
        for agent, session_id in order:
            if agent in FORMATS:
                stats.sessions_updated += self._safe_merge(
                    conn, agent, session_id, parent_ids, stats
                )
        # New cwds may name the root of a legacy Gemini hash folder.
        for session_id in self._learn_hash_roots(conn):
            stats.sessions_updated += self._safe_merge(
                conn, "gemini", session_id, parent_ids, stats
            )

    def _safe_merge(
        self,
        conn: sqlite3.Connection,
        agent: str,
        session_id: str,
        parent_ids: dict[str, set[str]],
        stats: SyncStats,
    ) -> int:
        """``_merge``, except that a session it fails on keeps its last merge and the scan goes
        on (one odd session must not roll back everything else)."""
        conn.execute("SAVEPOINT merge")
        try:
            n = self._merge(conn, agent, session_id, parent_ids)
        except Exception as e:
            conn.execute("ROLLBACK TO merge")
            conn.execute("RELEASE merge")
            log.warning("agent index: cannot merge %s session %r: %s", agent, session_id, e)
            stats.errors += 1
            return 0
        conn.execute("RELEASE merge")
        return n

    def _merge(
        self, conn: sqlite3.Connection, agent: str, session_id: str, parent_ids: dict[str, set[str]]
    ) -> int:
        rows = conn.execute(
            "SELECT p.pid, p.data, f.path, f.gone, f.state, s.sid FROM parts p "
            "JOIN files f ON f.id = p.file_id JOIN sessions s ON s.sid = p.sid "
            "WHERE s.agent = ? AND s.id = ?",
            (agent, session_id),
        ).fetchall()
        if not rows:
            conn.execute("DELETE FROM sessions WHERE agent = ? AND id = ?", (agent, session_id))
            return 0
        fmt = FORMATS[agent]
        parts = [Part(Session.from_dict(json.loads(r[1])), r[2], bool(r[3])) for r in rows]
        s, active = fmt.merge(parts)
        if agent == "codex":
            t = conn.execute(
                "SELECT title FROM titles WHERE agent = 'codex' AND id = ?", (session_id,)
            ).fetchone()
            if t is not None and t[0].strip():
                s.title, s.title_source = t[0], "thread_name"
        elif agent == "claude" and s.is_subagent and s.parent_id:
            # Responses the parent session already counts are this sub-agent's replays.
            conn.execute(
                "UPDATE usage SET dup = EXISTS(SELECT 1 FROM sessions ps "
                "JOIN parts pp ON pp.sid = ps.sid JOIN usage pu ON pu.pid = pp.pid "
                "WHERE ps.agent = 'claude' AND ps.id = ? AND pu.key = usage.key) "
                "WHERE pid IN (SELECT pid FROM parts WHERE sid = ?)",
                (s.parent_id, rows[0][5]),
            )
            ids = parent_ids.get(s.parent_id)
            if ids is None:
                ids = parent_ids[s.parent_id] = self._claude_usage_ids(conn, s.parent_id)
            for r in rows:
                if r[4]:
                    dup = claude.replayed_tokens(FileState.loads(r[4]).data, ids)
                    for k in ("input", "output", "cache_read", "cache_creation", "total"):
                        setattr(s.tokens, k, getattr(s.tokens, k) - getattr(dup, k))
        elif agent == "gemini" and not s.cwd:
            h = s.meta.get("project_hash")
            if isinstance(h, str) and h in self._hash_roots:
                s.cwd = self._hash_roots[h]
                gemini.FORMAT.fill_resume(s)
        conn.executemany(
            "UPDATE parts SET active = ? WHERE pid = ?", [(r[2] in active, r[0]) for r in rows]
        )
        conn.execute(
            "UPDATE sessions SET cwd=?, started=?, last_activity=?, is_subagent=?, parent_id=?, "
            "gone=?, data=? WHERE sid=?",
            (
                s.cwd,
                s.started,
                s.last_activity,
                s.is_subagent,
                s.parent_id,
                s.gone,
                json.dumps(s.to_dict(), separators=(",", ":")),
                rows[0][5],
            ),
        )
        return 1

    def _claude_usage_ids(self, conn: sqlite3.Connection, parent_id: str) -> set[str]:
        ids: set[str] = set()
        for (state,) in conn.execute(
            "SELECT f.state FROM parts p JOIN files f ON f.id = p.file_id "
            "JOIN sessions s ON s.sid = p.sid WHERE s.agent = 'claude' AND s.id = ?",
            (parent_id,),
        ):
            if state:
                ids |= claude.usage_ids(FileState.loads(state).data)
        return ids

    def _learn_hash_roots(self, conn: sqlite3.Connection) -> list[str]:
        """Legacy Gemini folders are named sha256(project root) (and records carry it as
        ``projectHash``): try every known cwd and every root in projects.json against the
        unresolved hashes. Returns the ids of the sessions that can now be resolved."""
        unresolved = conn.execute(
            "SELECT id, json_extract(data, '$.meta.project_hash') FROM sessions "
            "WHERE agent = 'gemini' AND cwd IS NULL AND data != '{}'"
        ).fetchall()
        wanted = {h for _, h in unresolved if h and h not in self._hash_roots}
        if wanted:
            candidates = {r[0] for r in conn.execute("SELECT DISTINCT cwd FROM sessions") if r[0]}
            for root in self.roots("gemini"):
                candidates.update(gemini.registered_roots(root))
            for c in candidates:
                h = hashlib.sha256(c.encode()).hexdigest()
                if h in wanted:
                    self._hash_roots[h] = c
        return [i for i, h in unresolved if h in self._hash_roots]


def _unchanged(row: tuple[Any, ...] | None, st: os.stat_result) -> bool:
    """Whether a ``files`` row (id, dev, ino, size, mtime_ns, offset, state, gone) still
    describes the file."""
    return (
        row is not None
        and not row[7]
        and row[1] == st.st_dev
        and row[2] == st.st_ino
        and row[3] == st.st_size
        and row[4] == st.st_mtime_ns
    )


def _chunks(items: list[str], n: int) -> Iterable[list[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
