"""Agent state: how fast a signal becomes a state change, and what tracking costs (issue 13).

Starts a real ``jupyter server`` with jupyter-spaces and the test suite's fake agent CLIs, then:

1. **Signal to API.** For 50 changes, the time from an agent's signal to the ``agent_state``
   announcement on the event bus (what the API's clients get; the pane JSON holds the same):
   - *hooks*: the exact hook command Claude Code would run (``report.py``, from the pane's
     ``--settings``) is run with a hook's JSON, alternating ``UserPromptSubmit``/``Stop``;
   - *transcript*: a Codex pane's rollout gets a ``task_started``/``task_complete`` line (no
     hook: seen through the session index's file watch).
2. **Idle cost.** CPU used by jupyter-server and the private tmux server over ``--idle``
   seconds with 16 idle agent panes, beside the same server with 16 shell panes (no states
   to track) — the difference is what tracking costs, as % of one core.

The browser half (signal to notification) is measured by
``labextension/ui-tests/agentstate-bench.mjs``.

    python benchmarks/agent_state.py [--changes 50] [--idle 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.agent_env import environ, make_agent_env
from tests.server_process import ServerProcess

TARGET_P95_MS = 500.0
TARGET_IDLE_CPU = 1.0
PANES = 16


class Bus:
    """The server's event bus, read in the background: agent_state arrivals by pane."""

    def __init__(self, srv: ServerProcess) -> None:
        self.srv = srv
        self.arrivals: dict[str, list[tuple[float, str]]] = {}

    async def __aenter__(self) -> Bus:
        self.ws = await websockets.connect(
            f"{self.srv.ws_url}/api/events/subscribe",
            additional_headers={"Authorization": f"token {self.srv.token}"},
        )
        self.task = asyncio.ensure_future(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.task.cancel()
        await self.ws.close()

    async def _read(self) -> None:
        async for raw in self.ws:
            event = json.loads(raw)
            if event.get("action") == "agent_state":
                got = (time.perf_counter(), event["state"])
                self.arrivals.setdefault(event["pane_id"], []).append(got)

    async def wait(self, pane_id: str, state: str, after: float, timeout: float = 10) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            for t, s in self.arrivals.get(pane_id, []):
                if s == state and t >= after:
                    return t
            await asyncio.sleep(0.001)
        raise TimeoutError(f"{pane_id} did not reach {state}")


def hook_command(srv: ServerProcess, pane_pid: int) -> str:
    """The Stop hook command the server gave this pane's claude (from its argv)."""
    for p in psutil.Process(pane_pid).children(recursive=True):
        argv = p.cmdline()
        if "--settings" in argv:
            settings = json.loads(argv[argv.index("--settings") + 1])
            return str(settings["hooks"]["Stop"][0]["hooks"][0]["command"])
    raise RuntimeError("no claude with --settings under the pane")


def percentiles(ms: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return q[49], q[94]


async def signal_to_api(srv: ServerProcess, sid: str, n: int) -> dict[str, list[float]]:
    code, claude = srv.request(
        "POST", f"/api/spaces/{sid}/panes", {"kind": "agent", "agent": "claude"}
    )
    assert code == 201, claude
    code, codex = srv.request(
        "POST", f"/api/spaces/{sid}/panes", {"kind": "agent", "agent": "codex"}
    )
    assert code == 201, codex
    out: dict[str, list[float]] = {"hooks": [], "transcript": []}
    async with Bus(srv) as bus:
        await bus.wait(claude["id"], "idle", 0, timeout=30)
        command = hook_command(srv, claude["pid"])
        for i in range(n):
            event, state = ("UserPromptSubmit", "working") if i % 2 == 0 else ("Stop", "idle")
            payload = json.dumps({"hook_event_name": event, "session_id": claude["session_id"]})
            t0 = time.perf_counter()
            proc = await asyncio.create_subprocess_exec("sh", "-c", command, stdin=subprocess.PIPE)
            await proc.communicate(payload.encode())
            t1 = await bus.wait(claude["id"], state, t0)
            out["hooks"].append((t1 - t0) * 1000)

        rollout = await find_rollout(srv, sid, codex["id"])
        await bus.wait(codex["id"], "idle", 0, timeout=30)
        for i in range(n):
            kind, state = ("task_started", "working") if i % 2 == 0 else ("task_complete", "idle")
            line = {
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
                + f".{int(time.time() * 1000) % 1000:03d}Z",
                "type": "event_msg",
                "payload": {"type": kind},
            }
            await asyncio.sleep(0.01)  # a record newer than the state it replaces
            t0 = time.perf_counter()
            with open(rollout, "a") as f:
                f.write(json.dumps(line) + "\n")
            t1 = await bus.wait(codex["id"], state, t0)
            out["transcript"].append((t1 - t0) * 1000)
    return out


async def find_rollout(srv: ServerProcess, sid: str, pane_id: str) -> Path:
    """The rollout of the Codex pane, once the server matched its session."""
    for _ in range(300):
        _, pane = srv.request("GET", f"/api/spaces/{sid}/panes/{pane_id}")
        if pane.get("session_id"):
            home = Path(srv.env["CODEX_HOME"])
            [path] = home.glob(f"sessions/*/*/*/rollout-*-{pane['session_id']}.jsonl")
            return path
        await asyncio.sleep(0.1)
    raise RuntimeError("the Codex pane's session was never matched")


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def idle_cpu(base: Path, kind: str, seconds: float) -> float:
    """% of one core used by jupyter-server + tmux with 16 idle panes of ``kind``."""
    agents = make_agent_env(base)
    sock = Path(tempfile.mkdtemp(prefix="jsp-", dir="/tmp"))
    root = base / "root"
    (root / "proj").mkdir(parents=True)
    srv = ServerProcess(root, sock, base / "data", env=environ(agents))
    try:
        srv.start()
        _, space = srv.request("POST", "/api/spaces", {"path": "proj"})
        body = {"kind": "agent", "agent": "claude"} if kind == "agent" else {"kind": "shell"}
        for _ in range(PANES):
            code, pane = srv.request("POST", f"/api/spaces/{space['id']}/panes", body)
            assert code == 201, pane
        time.sleep(5)  # let the agents reach their prompts
        tmux = subprocess.run(
            ["tmux", "-S", str(sock / "tmux.sock"), "display", "-p", "#{pid}"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        pids = [srv.pid, int(tmux)]
        c0, t0 = cpu_seconds(pids), time.monotonic()
        time.sleep(seconds)
        return 100 * (cpu_seconds(pids) - c0) / (time.monotonic() - t0)
    finally:
        srv.stop()
        subprocess.run(["tmux", "-S", str(sock / "tmux.sock"), "kill-server"], capture_output=True)
        shutil.rmtree(sock, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--changes", type=int, default=50)
    ap.add_argument("--idle", type=float, default=60.0)
    args = ap.parse_args()

    base = Path(tempfile.mkdtemp(prefix="jsp-bench-"))
    try:
        agents = make_agent_env(base / "latency")
        sock = Path(tempfile.mkdtemp(prefix="jsp-", dir="/tmp"))
        root = base / "latency" / "root"
        (root / "proj").mkdir(parents=True)
        srv = ServerProcess(root, sock, base / "latency" / "data", env=environ(agents))
        try:
            srv.start()
            _, space = srv.request("POST", "/api/spaces", {"path": "proj"})
            lat = asyncio.run(signal_to_api(srv, space["id"], args.changes))
        finally:
            srv.stop()
            subprocess.run(
                ["tmux", "-S", str(sock / "tmux.sock"), "kill-server"], capture_output=True
            )
            shutil.rmtree(sock, ignore_errors=True)
        shells = idle_cpu(base / "idle-shells", "shell", args.idle)
        agent = idle_cpu(base / "idle-agents", "agent", args.idle)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    rows: list[tuple[str, str, str, str]] = []
    for source, ms in lat.items():
        p50, p95 = percentiles(ms)
        target = f"p95 <= {TARGET_P95_MS:.0f} ms" if source == "hooks" else "(file watch)"
        rows.append((f"signal -> API, {source}", f"{p50:.0f} ms", f"{p95:.0f} ms", target))
    rows.append((f"idle CPU, {PANES} shell panes", f"{shells:.2f} %", "", "(no states)"))
    rows.append((f"idle CPU, {PANES} agent panes", f"{agent:.2f} %", "", ""))
    rows.append(
        (
            "state tracking cost",
            f"{agent - shells:.2f} %",
            "",
            f"< {TARGET_IDLE_CPU:.0f} % of a core",
        )
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'p50 / value':>12}  {'p95':>8}  target")
    for name, a, b, target in rows:
        print(f"{name:<{width}}  {a:>12}  {b:>8}  {target}")
    print(
        f"({args.changes} changes per source; idle over {args.idle:.0f} s; {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
