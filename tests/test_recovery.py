"""Recovery from a wedged or killed tmux, against a real tmux and real jupyter-server processes:
control clients die with the server that started them, a starting server clears clients left by
a dead one, a stopped tmux server is reported with what to do and is picked up again by itself,
and a killed one is replaced by the next pane start, all without restarting jupyter-server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from jupyter_spaces.host.tmux import TmuxNotAnswering, TmuxServer, socket_server_pid

from .conftest import kill_tmux_servers, needs_tmux
from .server_process import ServerProcess

pytestmark = needs_tmux


@pytest.fixture
def sockdir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="jsp-", dir="/tmp"))
    try:
        yield d
    finally:
        # A test that failed half-way may leave the server stopped: it could not exit.
        pid = socket_server_pid(d / "tmux.sock")
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        kill_tmux_servers(d)
        shutil.rmtree(d, ignore_errors=True)


def wait(predicate: Callable[[], Any], timeout: float = 30, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or predicate}; last value {value!r}")


def tmux(sockdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["tmux", "-S", str(sockdir / "tmux.sock"), *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def control_clients(sockdir: Path) -> list[int]:
    out = tmux(sockdir, "list-clients", "-F", "#{client_pid} #{client_control_mode}")
    return [
        int(pid)
        for pid, control in (ln.split() for ln in out.stdout.splitlines())
        if control == "1"
    ]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def doctor(tmp_path: Path, sockdir: Path) -> dict[str, dict[str, str]]:
    config = tmp_path / "doctor-config"
    config.mkdir(exist_ok=True)
    settings = {"socket_dir": str(sockdir), "tmux_timeout": 2}
    (config / "jupyter_server_config.json").write_text(json.dumps({"SpacesApp": settings}))
    out = subprocess.run(
        [sys.executable, "-m", "jupyter_spaces.cli", "doctor", "--json"],
        capture_output=True,
        text=True,
        env=dict(os.environ, JUPYTER_CONFIG_DIR=str(config)),
        timeout=120,
    )
    return {c["check"]: c for c in json.loads(out.stdout)}


def make_pane(srv: ServerProcess, argv: list[str]) -> tuple[str, dict[str, Any]]:
    code, space = srv.request("GET", "/api/spaces")
    if code == 200 and space["spaces"]:
        sid = space["spaces"][0]["id"]
    else:
        code, space = srv.request("POST", "/api/spaces", {"path": "proj"})
        assert code == 201, space
        sid = space["id"]
    code, pane = srv.request("POST", f"/api/spaces/{sid}/panes", {"kind": "command", "argv": argv})
    assert code == 201, pane
    return sid, pane


def pane_state(srv: ServerProcess, sid: str, pane_id: str) -> str:
    code, pane = srv.request("GET", f"/api/spaces/{sid}/panes/{pane_id}")
    assert code == 200, pane
    return str(pane["state"])


async def watch_then(srv: ServerProcess, sid: str, pane_id: str, action: Callable[[], Any]) -> Any:
    """Hold a pane channel open (so a control client runs) while ``action`` runs."""
    url = f"{srv.ws_url}/api/spaces/{sid}/panes/{pane_id}/channel"
    headers = {"Authorization": f"token {srv.token}"}
    async with websockets.connect(url, additional_headers=headers) as ws:
        assert json.loads(await ws.recv()) == ["setup", {}]
        return await asyncio.to_thread(action)


def root_with_project(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "proj").mkdir(parents=True)
    return root


def test_control_clients_die_with_a_sigkilled_server_and_a_new_one_clears_stale_ones(
    tmp_path: Path, sockdir: Path
) -> None:
    srv = ServerProcess(root_with_project(tmp_path), sockdir, tmp_path / "data", poll_interval=0.3)
    fifo = tmp_path / "stdin"
    holder: int | None = None
    try:
        srv.start()
        sid, pane = make_pane(srv, ["cat"])

        def kill_server() -> list[int]:
            clients = wait(lambda: control_clients(sockdir), what="a control client")
            srv.kill()
            return list(clients)

        clients = asyncio.run(watch_then(srv, sid, pane["id"], kill_server))
        wait(lambda: not any(alive(pid) for pid in clients), 15, "control clients to die")
        assert control_clients(sockdir) == []
        assert alive(pane["pid"]), "the pane itself outlives the server"

        # A control client left by an older server: no owner mark, adopted by init, and its
        # stdin held open by someone else, so nothing ever tells it to go.
        os.mkfifo(fifo)
        holder = os.open(fifo, os.O_RDWR)
        session = f"=jsp_{sid}_{pane['id']}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
        subprocess.run(
            [
                "sh",
                "-c",
                'tmux -S "$1" -C attach -t "$2" <"$3" >/dev/null 2>&1 &',
                "sh",
                str(sockdir / "tmux.sock"),
                session,
                str(fifo),
            ],
            env=env,
            check=True,
        )
        (stale,) = wait(lambda: control_clients(sockdir), what="the stale client")
        srv.start()
        wait(lambda: not alive(stale), 15, "the stale client to be killed")
        assert control_clients(sockdir) == []
        assert "left by a server that is gone" in srv.log.read_text()
        assert pane_state(srv, sid, pane["id"]) == "running"
    finally:
        srv.stop()
        if holder is not None:
            os.close(holder)


def test_a_stopped_tmux_server_is_reported_and_picked_up_again(
    tmp_path: Path, sockdir: Path
) -> None:
    srv = ServerProcess(
        root_with_project(tmp_path), sockdir, tmp_path / "data", poll_interval=0.3, tmux_timeout=2
    )
    tmux_pid: int | None = None
    try:
        srv.start()
        sid, pane = make_pane(srv, ["cat"])
        tmux_pid = socket_server_pid(sockdir / "tmux.sock")
        assert tmux_pid is not None
        os.kill(tmux_pid, signal.SIGSTOP)

        def reported() -> str | None:
            _, listing = srv.request("GET", "/api/spaces")
            return None if listing["host"]["durable"] else listing["host"]["message"]

        message = wait(reported, what="the server to notice")
        assert "does not answer" in message and f"kill -CONT {tmux_pid}" in message, message
        assert pane_state(srv, sid, pane["id"]) == "gone"
        code, body = srv.request(
            "POST", f"/api/spaces/{sid}/panes/{pane['id']}/input", {"text": "x"}
        )
        assert code == 503 and "does not answer" in body["message"], body
        # Creating a pane asks tmux again before it refuses.
        code, body = srv.request(
            "POST", f"/api/spaces/{sid}/panes", {"kind": "command", "argv": ["cat"]}
        )
        assert code >= 500 and "does not answer" in body["message"], body

        checks = doctor(tmp_path, sockdir)
        assert checks["tmux server"]["status"] == "FAIL", checks
        assert f"kill -CONT {tmux_pid}" in checks["tmux server"]["detail"]

        os.kill(tmux_pid, signal.SIGCONT)
        wait(lambda: reported() is None, what="recovery without a restart")
        assert pane_state(srv, sid, pane["id"]) == "running"
        assert pane_state(srv, sid, make_pane(srv, ["cat"])[1]["id"]) == "running"
    finally:
        if tmux_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(tmux_pid, signal.SIGCONT)
        srv.stop()


def test_a_killed_tmux_server_shows_panes_gone_and_the_next_pane_starts_a_new_one(
    tmp_path: Path, sockdir: Path
) -> None:
    srv = ServerProcess(root_with_project(tmp_path), sockdir, tmp_path / "data", poll_interval=0.3)
    try:
        srv.start()
        sid, pane = make_pane(srv, ["cat"])
        old = socket_server_pid(sockdir / "tmux.sock")
        assert old is not None
        os.kill(old, signal.SIGKILL)  # the socket file stays behind, dead
        wait(lambda: not alive(old), what="tmux to die")
        wait(lambda: pane_state(srv, sid, pane["id"]) == "gone", what="the pane to be gone")
        _, listing = srv.request("GET", "/api/spaces")
        assert listing["host"]["durable"], listing["host"]

        checks = doctor(tmp_path, sockdir)
        assert checks["tmux server"]["status"] == "WARN", checks
        assert "not running" in checks["tmux server"]["detail"]

        code, body = srv.request("POST", f"/api/spaces/{sid}/panes/{pane['id']}/restart")
        assert code == 200 and body["state"] == "running", body
        new = socket_server_pid(sockdir / "tmux.sock")
        assert new is not None and new != old
        _, other = make_pane(srv, ["cat"])
        assert pane_state(srv, sid, other["id"]) == "running"
    finally:
        srv.stop()


async def test_a_stopped_server_times_out_and_answers_again(sockdir: Path) -> None:
    server = TmuxServer(sockdir / "s", timeout=1)
    server.prepare()
    await server.new_pane("jsp_aaaa_bbbb", ["cat"], "/tmp", {})
    pid = socket_server_pid(server.socket_path)
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        with pytest.raises(TmuxNotAnswering, match=f"kill -CONT {pid}"):
            await server.list_panes()
        assert server.failure and not await server.probe()
    finally:
        os.kill(pid, signal.SIGCONT)
    for _ in range(100):  # a loaded machine may need a moment after the stop
        if await server.probe():
            break
    assert server.failure is None and "jsp_aaaa_bbbb" in await server.list_panes()


def test_a_control_client_dies_with_the_process_that_started_it(sockdir: Path) -> None:
    server = TmuxServer(sockdir / "s")
    server.prepare()
    asyncio.run(server.new_pane("jsp_aaaa_bbbb", ["cat"], "/tmp", {}))
    # A child that starts a control client and then hangs, as a jupyter-server would.
    code = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from jupyter_spaces.host.control import ControlClient\n"
        "from jupyter_spaces.host.tmux import TmuxServer\n"
        "async def main():\n"
        "    c = ControlClient(TmuxServer(Path(sys.argv[1])), 'jsp_aaaa_bbbb',\n"
        "                      lambda d: None, lambda n, a: None, lambda r: None)\n"
        "    await c.start(pause_after=5)\n"
        "    print(c.proc.pid, flush=True)\n"
        "    await asyncio.sleep(600)\n"
        "asyncio.run(main())\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(sockdir / "s")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        client = int(child.stdout.readline())
        assert alive(client)
        child.kill()
        child.wait()
        wait(lambda: not alive(client), 15, "the control client to die")
    finally:
        child.kill()
        child.wait()
