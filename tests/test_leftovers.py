"""The end-of-run check finds a process a test left behind, whoever its parent is now."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import pytest

from . import leftovers


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_a_marked_process_is_found_and_an_unmarked_one_is_not() -> None:
    run_id = f"probe-{os.getpid()}"
    env = dict(os.environ, **{leftovers.MARK: run_id})
    # Double fork through sh: the sleeper's parent is init, as for a tmux server.
    out = subprocess.run(
        ["sh", "-c", "sleep 600 >/dev/null 2>&1 & echo $!"], env=env, capture_output=True, text=True
    )
    pid = int(out.stdout)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        found = leftovers.marked(run_id)
        assert pid in found and "sleep 600" in found[pid]
        assert other.pid not in found
        assert leftovers.check(run_id, grace=0) == {pid: found[pid]}  # and it is killed
        assert leftovers.check(run_id, grace=5) == {}
    finally:
        other.kill()
        other.wait()
        with contextlib.suppress(OSError):
            os.kill(pid, 9)
