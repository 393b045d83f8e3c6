"""Which workspace files this user trusts: nbformat's notary idea, applied to ``space.json``.

A workspace file names commands to run. One that arrives with ``git clone``, or that someone edited
by hand, must not start anything until the user says so. Every file this user's server writes is
signed: the HMAC-SHA256 of its exact bytes, under a secret kept in the user's Jupyter data dir, is
recorded in a small SQLite database beside it. A file is trusted when its signature is recorded.
Nothing is written into ``space.json`` itself, so the file stays the same on every machine and in
git.
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

    def sign(self, data: bytes) -> str:
        return hmac.new(self._key(), data, hashlib.sha256).hexdigest()

    def _db(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.db_path, timeout=10, isolation_level=None)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS signatures (sig TEXT PRIMARY KEY, last_seen REAL NOT NULL)"
        )
        return conn

    def trust(self, data: bytes) -> None:
        """Record ``data`` (a workspace file's bytes) as trusted."""
        sig = self.sign(data)
        with self._lock:
            conn = self._db()
            try:
                conn.execute("INSERT OR REPLACE INTO signatures VALUES (?, ?)", (sig, time.time()))
                conn.execute(
                    "DELETE FROM signatures WHERE sig NOT IN "
                    "(SELECT sig FROM signatures ORDER BY last_seen DESC LIMIT ?)",
                    (CACHE_SIZE,),
                )
            finally:
                conn.close()

    def is_trusted(self, data: bytes) -> bool:
        sig = self.sign(data)
        with self._lock:
            conn = self._db()
            try:
                row = conn.execute("SELECT 1 FROM signatures WHERE sig = ?", (sig,)).fetchone()
            finally:
                conn.close()
        return row is not None

    def file_trusted(self, path: Path) -> bool:
        try:
            return self.is_trusted(Path(path).read_bytes())
        except FileNotFoundError:
            return False
