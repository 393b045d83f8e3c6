"""Folders under a space's ``.jupyter-spaces`` that are safe to write into and read from.

A repository can carry symbolic links (git stores them), so a cloned ``.jupyter-spaces`` may be a
link, or hold ``screens`` or ``snapshots`` links that point anywhere: at another project, at
``~/.ssh``, outside the server's root. Nothing jupyter-spaces writes or reads back under a space's
state folder goes through a link: each folder on the way is checked with ``lstat`` (created if
asked), and files are opened with ``O_NOFOLLOW``. A link is refused with ``UnsafePath``, whose
message says which path and why, and the space is shown as broken rather than used.

Checks and use are not one atomic step; what this closes is the hostile *file* (a link that
arrived with the project), not a hostile process racing the server, which could already do as
the user does.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

# The folder beside the notebooks that holds a space's files (``store`` re-exports it).
STATE_DIR = ".jupyter-spaces"


class UnsafePath(OSError):
    """A path under a space's state folder is a symbolic link or not a folder."""


def real_dir(path: Path, *, create: bool = False, mode: int = 0o755) -> Path:
    """``path`` if it is a folder and no link (created with ``mode`` if missing and ``create``);
    otherwise UnsafePath. Only the last component is checked: callers walk down from a folder
    they checked (see ``state_subdir``)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if not create:
            raise
        # Made meanwhile by another writer: checked below like any other.
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, mode)
        st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePath(f"{path} is a symbolic link; jupyter-spaces does not write through links")
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePath(f"{path} is not a folder")
    return path


def check_space_dir(space_dir: Path) -> Path:
    """A space's folder is stored resolved; if it now resolves elsewhere, a folder on its way
    was replaced by a link."""
    if os.path.realpath(space_dir) != str(space_dir):
        raise UnsafePath(f"{space_dir} now leads through a symbolic link")
    return space_dir


def state_subdir(space_dir: Path, *parts: str, create: bool = False) -> Path:
    """``<space_dir>/.jupyter-spaces/<parts…>``, each folder checked (and made if ``create``)."""
    path = real_dir(check_space_dir(Path(space_dir)) / STATE_DIR, create=create)
    for part in parts:
        path = real_dir(path / part, create=create)
    return path


def read_nofollow(path: Path, limit: int) -> bytes:
    """Up to ``limit`` bytes of a regular file that is not a link (UnsafePath otherwise)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        if e.errno == errno.ELOOP:  # the last component is a link
            raise UnsafePath(f"{path} is a symbolic link") from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePath(f"{path} is not a regular file")
        chunks: list[bytes] = []
        left = limit
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
