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
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
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
from .model import AGENT_NAMES, Message, Session, iso_to_epoch

log = logging.getLogger(__name__)

FORMATS: dict[str, AgentFormat] = {
    "claude": claude.FORMAT,
    "codex": codex.FORMAT,
    "gemini": gemini.FORMAT,
}

# Bump when the schema or the parsers' state layout changes: the index is then rebuilt (sessions
# whose transcripts are already gone are lost with it, which is acceptable for a rare upgrade).
SCHEMA_VERSION = 1
# How long one write transaction may grow before it is committed, so readers see progress.
COMMIT_EVERY = 1.0
# A message's rowid is (part id << PART_SHIFT) + its ordinal in the part, so that full-text hits
# group by part (and so by session) from the FTS index alone, without a join per hit.
PART_SHIFT = 28
# Snippet highlight markers inside SQLite (private-use characters no transcript contains), turned
# into <mark> after HTML-escaping the snippet.
_HL_OPEN, _HL_CLOSE = "\ue000", "\ue001"
_TERM = re.compile(r'"([^"]*)"?|(\S+)')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_SCHEMA = (
    """CREATE TABLE files(
      id INTEGER PRIMARY KEY,
      path TEXT NOT NULL UNIQUE,
      agent TEXT NOT NULL,
      role TEXT NOT NULL,
      dev INTEGER, ino INTEGER, size INTEGER, mtime_ns INTEGER,
      offset INTEGER NOT NULL DEFAULT 0,
      malformed INTEGER NOT NULL DEFAULT 0,
      state TEXT,
      gone INTEGER NOT NULL DEFAULT 0,
      error TEXT)""",
    """CREATE TABLE sessions(
      sid INTEGER PRIMARY KEY,
      agent TEXT NOT NULL,
      id TEXT NOT NULL,
      cwd TEXT,
      started REAL,
      last_activity REAL,
      is_subagent INTEGER NOT NULL DEFAULT 0,
      parent_id TEXT,
      gone INTEGER NOT NULL DEFAULT 0,
      data TEXT NOT NULL DEFAULT '{}',
      UNIQUE(agent, id))""",
    "CREATE INDEX sessions_last ON sessions(last_activity)",
    "CREATE INDEX sessions_cwd ON sessions(cwd)",
    "CREATE INDEX sessions_parent ON sessions(agent, parent_id)",
    """CREATE TABLE parts(
      pid INTEGER PRIMARY KEY,
      file_id INTEGER NOT NULL,
      sid INTEGER NOT NULL,
      session_id TEXT NOT NULL,
      active INTEGER NOT NULL DEFAULT 1,
      next_n INTEGER NOT NULL DEFAULT 0,
      data TEXT NOT NULL,
      UNIQUE(file_id, session_id))""",
    "CREATE INDEX parts_sid ON parts(sid)",
    """CREATE TABLE messages(
      mid INTEGER PRIMARY KEY,
      pid INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      sub INTEGER NOT NULL,
      role TEXT NOT NULL,
      kind TEXT NOT NULL,
      time TEXT,
      text TEXT NOT NULL)""",
    "CREATE INDEX messages_order ON messages(pid, seq, sub)",
    """CREATE VIRTUAL TABLE messages_fts USING fts5(
      text, content='messages', content_rowid='mid', tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
      INSERT INTO messages_fts(rowid, text) VALUES (new.mid, new.text);
    END""",
    """CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
      INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.mid, old.text);
    END""",
    """CREATE TABLE titles(
      agent TEXT NOT NULL,
      id TEXT NOT NULL,
      title TEXT NOT NULL,
      PRIMARY KEY(agent, id))""",
)
_TABLES = ("messages_fts", "messages", "parts", "sessions", "files", "titles")


class SearchQueryError(ValueError):
    """A full-text query that SQLite rejects (raw FTS5 syntax); the message says why."""


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


@dataclass
class _Batch:
    touched: set[tuple[str, str]] = field(default_factory=set)
    started: float = field(default_factory=time.monotonic)


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


def default_index_path() -> Path:
    """``<jupyter data dir>/spaces/agent-sessions.sqlite``."""
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "spaces" / "agent-sessions.sqlite"


class SessionIndex:
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

    # -- reading -------------------------------------------------------------------------------

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


def _highlight(snippet: str) -> str:
    return (
        html.escape(snippet, quote=False).replace(_HL_OPEN, "<mark>").replace(_HL_CLOSE, "</mark>")
    )


def _chunks(items: list[str], n: int) -> Iterable[list[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
