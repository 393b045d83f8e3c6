"""Cold restore after a machine restart, and what autosave costs when nothing changes.

    python benchmarks/cold_restore.py [--panes 16] [--lines 10000] [--seconds 60]

1. A real ``jupyter server`` (subprocess) with one space of N shell panes, each of which printed
   ``--lines`` lines; the benchmark waits until every pane's text (10 000 lines of history) is
   captured. Then the server is SIGKILLed and the private tmux server killed: every process is
   gone, as after a reboot.
2. A new server starts. Measured: from the server process's start until every pane is live again
   (running, its old text and "restored from" line on the screen), polling the REST API; and the
   restore step alone, as the server logs it.
3. Idle cost: server CPU time over ``--seconds`` with every pane idle, once with captures every 30 s
   (the default) and once with captures off, and what one capture round costs with nothing
   changed (captures every 0.2 s).

Prints a table; targets: all panes live <= 2 s after start, autosave < 1 % of one core.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.server_process import ServerProcess


def wait(predicate, timeout: float = 120, step: float = 0.02):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(f"timed out waiting for {predicate}")


def start(root: Path, sock: Path, data: Path, **spaces: object) -> ServerProcess:
    return ServerProcess(root, sock, data, env={"SHELL": "/bin/bash"}, **spaces).start(timeout=60)


def cpu_seconds(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


def build(root: Path, sock: Path, data: Path, panes: int, lines: int) -> tuple[str, list[str]]:
    srv = start(root, sock, data, capture_interval=0.5)
    try:
        _, space = srv.request("POST", "/api/spaces", {"path": "proj"})
        sid = space["id"]
        ids = []
        for i in range(panes):
            _, pane = srv.request("POST", f"/api/spaces/{sid}/panes", {"kind": "shell"})
            ids.append(pane["id"])
            cmd = f"for i in $(seq 1 {lines}); do echo pane{i}-line-$i; done\r"
            srv.request("POST", f"/api/spaces/{sid}/panes/{pane['id']}/input", {"text": cmd})
        screens = root / "proj" / ".jupyter-spaces" / "screens"
        for i, pane_id in enumerate(ids):
            f = screens / f"{pane_id}.txt"
            wait(lambda f=f, i=i: f.exists() and f"pane{i}-line-{lines}" in f.read_text())
        return sid, ids
    finally:
        srv.kill()


def restore(root: Path, sock: Path, data: Path, sid: str, ids: list[str]) -> dict[str, float]:
    t0 = time.monotonic()
    srv = start(root, sock, data)
    try:
        api_up = time.monotonic() - t0

        def all_running() -> bool:
            _, space = srv.request("GET", f"/api/spaces/{sid}")
            return all(p["state"] == "running" for p in space["panes"])

        wait(all_running)
        running = time.monotonic() - t0

        def shows_restored(pane_id: str) -> bool:
            code, body = srv.request("GET", f"/api/spaces/{sid}/panes/{pane_id}/screen?lines=0")
            return code == 200 and "restored from" in body["text"]

        for pane_id in ids:
            wait(lambda p=pane_id: shows_restored(p))
        live = time.monotonic() - t0
        _, body = srv.request("GET", f"/api/spaces/{sid}/panes/{ids[0]}/screen?lines=20000")
        kept = len(re.findall(r"pane0-line-\d+", body["text"]))
        logged = re.search(r"restored (\d+) pane\(s\) in ([\d.]+) s", srv.log.read_text())
        return {
            "api_up": api_up,
            "running": running,
            "live": live,
            "restore_step": float(logged.group(2)) if logged else float("nan"),
            "restored": float(logged.group(1)) if logged else 0,
            "kept_lines": kept,
        }
    finally:
        srv.stop()


def bare_start(work: Path) -> float:
    """Process start -> API answers for a server with no spaces: the start-up cost that is not
    ours to cut (Python, jupyter-server, the extensions loading)."""
    sock = Path(tempfile.mkdtemp(prefix="jsp-", dir="/tmp"))
    (work / "bare").mkdir(exist_ok=True)
    t0 = time.monotonic()
    srv = start(work / "bare", sock, work / "bare-data")
    took = time.monotonic() - t0
    srv.stop()
    subprocess.run(["tmux", "-S", str(sock / "tmux.sock"), "kill-server"], capture_output=True)
    shutil.rmtree(sock, ignore_errors=True)
    return took


def idle_cpu(root: Path, sock: Path, data: Path, seconds: float, interval: float) -> float:
    """Server CPU seconds per minute with every pane idle."""
    srv = start(root, sock, data, capture_interval=interval)
    try:
        time.sleep(3)  # start-up work done
        c0, t0 = cpu_seconds(srv.pid), time.monotonic()
        time.sleep(seconds)
        used = cpu_seconds(srv.pid) - c0
        return used / (time.monotonic() - t0) * 60
    finally:
        srv.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--panes", type=int, default=16)
    ap.add_argument("--lines", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jsp-bench-"))
    sock = Path(tempfile.mkdtemp(prefix="jsp-", dir="/tmp"))
    root, data = work / "root", work / "data"
    (root / "proj").mkdir(parents=True)

    def kill_tmux() -> None:
        subprocess.run(["tmux", "-S", str(sock / "tmux.sock"), "kill-server"], capture_output=True)

    try:
        print(f"building a space of {args.panes} panes x {args.lines} lines ...", flush=True)
        sid, ids = build(root, sock, data, args.panes, args.lines)
        size = sum(f.stat().st_size for f in (root / "proj/.jupyter-spaces/screens").iterdir())
        kill_tmux()
        print("restoring ...", flush=True)
        bare = min(bare_start(work) for _ in range(3))
        r = restore(root, sock, data, sid, ids)
        print(f"idle CPU, {args.seconds:g} s each ...", flush=True)
        default = idle_cpu(root, sock, data, args.seconds, 30.0)
        off = idle_cpu(root, sock, data, args.seconds, 1e9)
        busy = idle_cpu(root, sock, data, args.seconds, 0.2)
    finally:
        kill_tmux()
        shutil.rmtree(sock, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)

    rounds_per_min = 60 / 0.2
    per_round_ms = max(busy - off, 0) / rounds_per_min * 1000
    autosave_pct = max(default - off, 0) / 60 * 100
    verdict = "PASS" if r["live"] <= 2 else "FAIL"
    print()
    print(f"{args.panes} panes, {args.lines} lines each; captures on disk: {size / 1e6:.1f} MB")
    print()
    print("| measurement | result | target | |")
    print("|---|---|---|---|")
    print(
        f"| a server with no spaces: process start -> API answers (best of 3) | {bare:.2f} s | | |"
    )
    print(f"| this server: process start -> API answers | {r['api_up']:.2f} s | | |")
    print(f"| server process start -> all {args.panes} panes running | {r['running']:.2f} s | | |")
    print(
        f"| server process start -> all {args.panes} panes live (old text + restored line) "
        f"| {r['live']:.2f} s | <= 2 s | {verdict} |"
    )
    print(
        f"| restore step alone (server log, {r['restored']:.0f} panes) "
        f"| {r['restore_step']:.2f} s | | |"
    )
    print(
        f"| all panes live, minus a bare server's start (what restoring adds) "
        f"| {r['live'] - bare:.2f} s | <= 2 s | {'PASS' if r['live'] - bare <= 2 else 'FAIL'} |"
    )
    print(f"| lines of pane 0 back on its screen/history | {r['kept_lines']} | {args.lines} | |")
    print(f"| server CPU, idle, captures every 30 s (default) | {default:.3f} s/min | | |")
    print(f"| server CPU, idle, captures off | {off:.3f} s/min | | |")
    print(
        f"| autosave cost, nothing changed (default minus off) | {autosave_pct:.3f} % of a core "
        f"| < 1 % | {'PASS' if autosave_pct < 1 else 'FAIL'} |"
    )
    print(
        f"| one capture round with nothing changed ({args.panes} panes; from captures every "
        f"0.2 s) | {per_round_ms:.2f} ms | | |"
    )


if __name__ == "__main__":
    main()
