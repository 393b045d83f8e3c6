"""Processes the tests left running (tmux servers, jupyter-servers, browsers, pane programs).

Every process a test run starts inherits ``JUPYTER_SPACES_TEST_RUN`` (set by ``scripts/test.sh``,
or by ``conftest.py`` for a bare ``pytest``), and tmux passes it on to its server and panes, so a
scan of ``/proc/*/environ`` finds whatever a test forgot to stop, whoever its parent is now.

``python -m tests.leftovers`` lists them, stops them and exits 1 if there were any.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

MARK = "JUPYTER_SPACES_TEST_RUN"


def _ancestors() -> set[int]:
    """This process and its parents: the test command itself carries the mark too."""
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rpartition(")")[2].split()[1])
    return pids


def marked(run_id: str) -> dict[int, str]:
    """pid -> command line of every live process with ``MARK=run_id`` in its environment."""
    needle = f"{MARK}={run_id}".encode()
    mine = _ancestors()
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            if (entry / "stat").read_text().rpartition(")")[2].split()[0] == "Z":
                continue  # exited, only not yet reaped by its parent
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        found[int(entry.name)] = cmd.strip()
    return found


def check(run_id: str, grace: float = 10.0) -> dict[int, str]:
    """Processes still there after ``grace`` seconds (teardowns may still be finishing); they
    are then killed so one bad test does not load the machine for the next run."""
    deadline = time.monotonic() + grace
    left = marked(run_id)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = marked(run_id)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return left


def report(left: dict[int, str]) -> str:
    lines = [f"{len(left)} process(es) started by the tests were still running (now killed):"]
    lines += [f"  {pid}  {cmd[:200]}" for pid, cmd in sorted(left.items())]
    return "\n".join(lines)


def main() -> int:
    run_id = os.environ.get(MARK)
    if not run_id or not Path("/proc/self/environ").exists():
        return 0  # not a marked run, or no /proc to look in
    left = check(run_id)
    if left:
        print(report(left), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
