"""Which workspace files this user trusts: nbformat's notary idea, applied to ``space.json``.

A workspace file names commands to run. One that arrives with ``git clone``, or that someone edited
by hand, must not start anything until the user says so. Every file this user's server writes is
signed: the HMAC-SHA256 of its exact bytes, under a secret kept in the user's Jupyter data dir, is
recorded in a small SQLite database beside it. A file is trusted when its signature is recorded.
Nothing is written into ``space.json`` itself, so the file stays the same on every machine and in
git.

A signature covers the folder as well as the bytes (its *scope*): a copy of a project (a second
clone, a ``git worktree``) holds the same bytes, and trusting one folder must not make the other
one's panes start. A missing database, or a new ``trust_dir``, means nothing is trusted.

A trust given by a person may also record the digest of the run plans they were shown (see
``plan.py``); the server starts such a file's panes only while its plans still have that digest.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path

# Old signatures are dropped past this many (the most recently seen stay), as nbformat does.
CACHE_SIZE = 65535


class Notary:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.secret_path = self.directory / "trust-secret"
        self.db_path = self.directory / "trusted.sqlite"
        self._secret: bytes | None = None
        self._lock = threading.Lock()

    def _key(self) -> bytes:
        if self._secret is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            try:
                self._secret = self.secret_path.read_bytes()
            except FileNotFoundError:
                secret = secrets.token_bytes(32)
                try:
                    # O_EXCL: two servers starting at once must not end up with two secrets.
                    fd = os.open(self.secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except FileExistsError:
                    self._secret = self.secret_path.read_bytes()
                else:
                    with os.fdopen(fd, "wb") as f:
                        f.write(secret)
                        f.flush()
                        os.fsync(f.fileno())
                    self._secret = secret
            if not self._secret:
                raise OSError(f"the trust secret {self.secret_path} is empty")
        return self._secret

    def sign(self, data: bytes, scope: str) -> str:
        # The NUL keeps (scope, data) pairs apart: no folder path holds one.
        return hmac.new(
            self._key(), scope.encode("utf-8") + b"\0" + data, hashlib.sha256
        ).hexdigest()

    def _legacy_sign(self, data: bytes) -> str:
        return hmac.new(self._key(), data, hashlib.sha256).hexdigest()

    def _db(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.db_path, timeout=10, isolation_level=None)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS signatures (sig TEXT PRIMARY KEY, last_seen REAL NOT NULL)"
        )
        columns = {row[1] for row in conn.execute("PRAGMA table_info(signatures)")}
        if "plan" not in columns:
            conn.execute("ALTER TABLE signatures ADD COLUMN plan TEXT")
        return conn

    def trust(self, data: bytes, scope: str, plan: str | None = None) -> None:
        """Record ``data`` (a file's bytes) as trusted in ``scope`` (its folder), with the digest
        of the run plans the user was shown, if a person gave this trust."""
        sig = self.sign(data, scope)
        with self._lock:
            conn = self._db()
            try:
                conn.execute(
                    "INSERT OR REPLACE INTO signatures (sig, last_seen, plan) VALUES (?, ?, ?)",
                    (sig, time.time(), plan),
                )
                conn.execute(
                    "DELETE FROM signatures WHERE sig NOT IN "
                    "(SELECT sig FROM signatures ORDER BY last_seen DESC LIMIT ?)",
                    (CACHE_SIZE,),
                )
            finally:
                conn.close()

    def forget(self, data: bytes, scope: str) -> None:
        """Withdraw a trust (one whose reviewed plan no longer matches what would run)."""
        if not self.db_path.exists():
            return
        with self._lock:
            conn = self._db()
            try:
                conn.execute("DELETE FROM signatures WHERE sig = ?", (self.sign(data, scope),))
            finally:
                conn.close()

    def _row(self, sig: str) -> tuple[str | None] | None:
        with self._lock:
            conn = self._db()
            try:
                row = conn.execute("SELECT plan FROM signatures WHERE sig = ?", (sig,)).fetchone()
            finally:
                conn.close()
        return None if row is None else (row[0],)

    def is_trusted(self, data: bytes, scope: str) -> bool:
        if not self.db_path.exists():
            return False  # nothing was ever trusted here; don't create a secret to say so
        return self._row(self.sign(data, scope)) is not None

    def trusted_plan(self, data: bytes, scope: str) -> tuple[bool, str | None]:
        """(whether ``data`` is trusted in ``scope``, the plan digest its trust recorded)."""
        if not self.db_path.exists():
            return False, None
        row = self._row(self.sign(data, scope))
        return (row is not None), (row[0] if row else None)

    def legacy_trusted(self, data: bytes) -> bool:
        """Whether ``data`` was signed by a version that did not bind signatures to folders."""
        if not self.db_path.exists():
            return False
        return self._row(self._legacy_sign(data)) is not None
