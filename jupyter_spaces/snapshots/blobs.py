"""The content-addressed store that snapshots share: ``snapshots/blobs/<aa>/<sha256>``.

A file (a transcript, a screen) is kept as a list of chunks of at most ``CHUNK`` bytes, each
stored once under the sha256 of its bytes. Agent transcripts only ever grow at the end, so a
snapshot of a 90 MB transcript that grew 1 MB since the last one stores the few chunks at its end
and shares the rest; a screen that did not change is one chunk already there.

Rules that keep it safe against a crash (``kill -9``) at any point:

- A blob is written to a ``.tmp-*`` file, fsynced and renamed to its name: a blob under its
  hash always holds exactly those bytes (and is checked against it whenever it is read).
- Blobs are never changed or overwritten once named (mode 0444); putting a file back always
  copies it, so nothing outside can write through a shared file.
- Every writer of snapshots holds ``snapshots/.lock`` (``flock``) while it builds a snapshot
  or removes blobs, so the clean-up never removes a blob a snapshot being built has just
  reused. A crash leaves at most unreferenced blobs and temporary files: the next clean-up
  (after a delete or a prune) removes them.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BLOBS_DIR = "blobs"
LOCK_FILE = ".lock"
CHUNK = 256 * 1024
CHUNK_RE = re.compile(r"[0-9a-f]{64}", re.ASCII)


class BlobError(Exception):
    """A blob is missing or does not hold the bytes its name says."""


@contextlib.contextmanager
def locked(parent: Path) -> Iterator[None]:
    """Hold the snapshots folder's lock (across processes: the server and ``jupyter spaces``)."""
    fd = os.open(parent / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def blob_path(parent: Path, digest: str) -> Path:
    if not CHUNK_RE.fullmatch(digest):
        raise BlobError(f"{digest[:80]!r} is not a blob name")
    return parent / BLOBS_DIR / digest[:2] / digest


def chunk_sizes(size: int, count: int) -> list[int]:
    """The byte count of each of ``count`` chunks of a file of ``size`` bytes."""
    if count == 0:
        return []
    return [CHUNK] * (count - 1) + [size - CHUNK * (count - 1)]


def item_chunks(item: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(digest, size) of each chunk of a file a version 2 manifest lists (none for version 1)."""
    chunks = item.get("chunks")
    if not isinstance(chunks, list):
        return []
    return list(zip(chunks, chunk_sizes(int(item["bytes"]), len(chunks)), strict=True))


@dataclass
class Writer:
    """Stores files as chunks in ``parent/blobs`` (the caller holds :func:`locked`)."""

    parent: Path
    new_bytes: int = 0  # bytes written as new blobs by this writer
    _dirs: set[Path] = field(default_factory=set)

    def put_file(self, source: str | Path) -> tuple[list[str], int, float]:
        """(chunk digests, size, mtime) of ``source``, its new chunks stored. Raises
        FileNotFoundError if it is gone. The file is read once, chunk by chunk."""
        chunks: list[str] = []
        size = 0
        with open(source, "rb") as f:
            mtime = os.fstat(f.fileno()).st_mtime
            while True:
                data = f.read(CHUNK)
                if not data and chunks:
                    break
                chunks.append(self.put(data))
                size += len(data)
                if len(data) < CHUNK:
                    break
        return chunks, size, mtime

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = blob_path(self.parent, digest)
        if target.is_file() and not target.is_symlink() and target.stat().st_size == len(data):
            return digest
        folder = target.parent
        folder.mkdir(parents=True, exist_ok=True)
        if folder.is_symlink():
            raise OSError(errno.ELOOP, "a blob folder is a symbolic link", str(folder))
        tmp = folder / f".tmp-{digest[:16]}-{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o444)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        self._dirs.add(folder)
        self.new_bytes += len(data)
        return digest

    def sync(self) -> None:
        """fsync the folders new blobs were named in (before the manifest names them)."""
        for folder in self._dirs:
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self._dirs.clear()


def read_chunks(parent: Path, chunks: Iterable[str]) -> Iterator[bytes]:
    """The bytes of each chunk, each checked against its name (BlobError if not)."""
    for digest in chunks:
        path = blob_path(parent, digest)
        if path.is_symlink():
            raise BlobError(f"blob {digest[:12]} is a symbolic link")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BlobError(f"blob {digest[:12]} is missing") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise BlobError(f"blob {digest[:12]} does not hold the bytes its name says")
        yield data


def write_file(parent: Path, chunks: Iterable[str], target: Path | str, mtime: float) -> None:
    """Write the file made of ``chunks`` to ``target`` (a new file: a copy, never a link to a
    blob) with the given mtime. Removes what it wrote if a chunk is bad."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            for data in read_chunks(parent, chunks):
                f.write(data)
        os.utime(target, (mtime, mtime))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(target)
        raise


def collect(parent: Path, referenced: set[str]) -> tuple[int, int]:
    """Remove every blob not in ``referenced`` and every temporary file left in the store
    (the caller holds :func:`locked`, so no writer is at work). Returns (files, bytes) freed."""
    files = freed = 0
    root = parent / BLOBS_DIR
    if root.is_symlink() or not root.is_dir():
        return 0, 0
    for sub in os.scandir(root):
        if sub.is_symlink() or not sub.is_dir():
            continue
        for entry in os.scandir(sub.path):
            if entry.name in referenced and not entry.is_symlink():
                continue
            with contextlib.suppress(OSError):
                size = entry.stat(follow_symlinks=False).st_size
                os.unlink(entry.path)
                files += 1
                freed += size
        with contextlib.suppress(OSError):
            os.rmdir(sub.path)  # only when empty
    return files, freed


def disk_bytes(parent: Path) -> int:
    """Bytes of every file under the snapshots folder, each inode counted once (shared blobs,
    and hard links if anyone made some, count once)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for dirpath, dirnames, filenames in os.walk(parent):
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
        for name in filenames:
            with contextlib.suppress(OSError):
                st = os.lstat(os.path.join(dirpath, name))
                key = (st.st_dev, st.st_ino)
                if key not in seen and not os.path.islink(os.path.join(dirpath, name)):
                    seen.add(key)
                    total += st.st_size
    return total
