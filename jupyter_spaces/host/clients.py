"""Control clients left behind by a jupyter-server that is gone, and the pid behind a socket
(Linux: read from /proc). The private server's start-up uses these to clean up after a crash.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .commands import parse_session_name

# Set in the environment of each control client to the pid of the server that started it, so a
# later server can tell a client whose starter died (its parent is no longer that pid).
CONTROL_OWNER = "JUPYTER_SPACES_CONTROL_OWNER"

PR_SET_PDEATHSIG = 1  # Linux prctl: a signal the kernel sends when the parent dies


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()


def die_with(parent: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child die with ``parent``, however it dies (SIGKILL
    too): a control client must never outlive its jupyter-server (an orphan holds the pane's
    output, and a tmux server asked to exit waits on it). Elsewhere stdin EOF does it."""
    prctl = _PRCTL
    if prctl is None:
        return None

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # died before the signal was armed
            os._exit(1)

    return hook


@dataclass(frozen=True)
class ClientInfo:
    """One client attached to the private server (our control clients, or a user's tmux)."""

    pid: int
    control: bool
    session: str
    name: str


def _proc_ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[1])


def _proc_env(pid: int, key: str) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    prefix = key.encode() + b"="
    for item in raw.split(b"\0"):
        if item.startswith(prefix):
            return item[len(prefix) :].decode(errors="replace")
    return None


def is_stale(client: ClientInfo) -> bool:
    """A control client whose jupyter-server is gone (Linux: read from /proc).

    Ours carry CONTROL_OWNER: stale once their parent is not that pid any more. One without it
    (from a version before the mark) is stale when its parent is no jupyter process and it is
    attached to one of our sessions; a user's own ``tmux -C`` elsewhere is never touched.
    """
    if not client.control:
        return False
    ppid = _proc_ppid(client.pid)
    if ppid is None:
        return False  # gone already, or no /proc to judge by
    owner = _proc_env(client.pid, CONTROL_OWNER)
    if owner is not None:
        return owner != str(ppid)
    try:  # init, or a subreaper such as systemd --user, adopted it
        parent = Path(f"/proc/{ppid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"jupyter" not in parent and parse_session_name(client.session) is not None


def socket_server_pid(socket_path: Path) -> int | None:
    """The pid of the process listening on ``socket_path`` (Linux), even when it does not
    answer: found through /proc/net/unix and the socket inodes in /proc/*/fd."""
    try:
        table = Path("/proc/net/unix").read_text().splitlines()[1:]
    except OSError:
        return None
    inodes = {
        f"socket:[{f[6]}]" for f in (line.split() for line in table) if f[7:8] == [str(socket_path)]
    }
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return int(proc.name)
        except OSError:
            continue
    return None
