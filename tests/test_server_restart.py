"""A real ``jupyter server`` subprocess is killed with SIGKILL while panes run; a new server adopts
them: same processes, same screen and history, still interactive."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import websockets

from .channel import Channel
from .conftest import needs_tmux
from .server_process import ServerProcess
from .test_channel import PASTE, PASTE_PROGRAM, paste

pytestmark = needs_tmux


@pytest.fixture
def sockdir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="jsp-", dir="/tmp"))
    yield d
    subprocess.run(["tmux", "-S", str(d / "tmux.sock"), "kill-server"], capture_output=True)
    shutil.rmtree(d, ignore_errors=True)


def wait(predicate, timeout: float = 15):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {predicate}")


async def connect(srv: ServerProcess, space_id: str, pane_id: str, history: int) -> Channel:
    url = f"{srv.ws_url}/api/spaces/{space_id}/panes/{pane_id}/channel?history={history}"
    ws = await websockets.connect(
        url, additional_headers={"Authorization": f"token {srv.token}"}, max_size=None
    )

    class Adapter:  # websockets -> the two calls Channel uses
        async def read_message(self):  # type: ignore[no-untyped-def]
            try:
                return await ws.recv()
            except websockets.ConnectionClosed:
                return None

        async def write_message(self, raw):  # type: ignore[no-untyped-def]
            await ws.send(raw)

    ch = Channel(Adapter(), 24, 80, history=history)
    ch.close = ws.close  # type: ignore[attr-defined]
    assert await ch.recv() == ["setup", {}]
    return ch


async def attach_and_type(srv: ServerProcess, space_id: str, pane_id: str) -> Channel:
    ch = await connect(srv, space_id, pane_id, 5000)
    await ch.until(lambda c: "hist-3000" in c.text and "READY>" in c.display())
    await ch.send("stdin", "echo after-$((20+3))\r")
    await ch.until(lambda c: "after-23" in c.display())
    await ch.close()  # type: ignore[attr-defined]
    return ch


def test_panes_survive_sigkill_and_are_adopted(tmp_path: Path, sockdir: Path) -> None:
    root = tmp_path / "root"
    (root / "proj").mkdir(parents=True)
    srv = ServerProcess(root, sockdir, tmp_path / "data").start()
    try:
        code, space = srv.request("POST", "/api/spaces", {"path": "proj"})
        assert code == 201, space
        sid = space["id"]
        code, shell = srv.request(
            "POST",
            f"/api/spaces/{sid}/panes",
            {
                "kind": "command",
                "argv": ["bash", "--norc", "--noprofile", "-i"],
                "env": {"PS1": "READY> "},
                "title": "shell",
            },
        )
        assert code == 201, shell
        code, ticker = srv.request(
            "POST",
            f"/api/spaces/{sid}/panes",
            {
                "kind": "command",
                "argv": ["sh", "-c", "i=0; while true; do i=$((i+1)); sleep 0.2; done"],
                "title": "ticker",
            },
        )
        assert code == 201, ticker
        text = "for i in $(seq 1 3000); do echo hist-$i; done\r"
        srv.request("POST", f"/api/spaces/{sid}/panes/{shell['id']}/input", {"text": text})

        def screen() -> str:
            _, body = srv.request("GET", f"/api/spaces/{sid}/panes/{shell['id']}/screen?lines=5000")
            return str(body["text"])

        wait(lambda: "hist-3000" in screen() and screen().rstrip().endswith("READY>"))
        before = screen()
        old_pid = srv.pid
        srv.kill()
        assert not psutil.pid_exists(old_pid) or psutil.Process(old_pid).status() == "zombie"
        for pane in (shell, ticker):
            assert psutil.Process(pane["pid"]).is_running(), "the pane outlived the server"

        srv.start()
        code, listing = srv.request("GET", "/api/spaces")
        assert code == 200 and listing["host"]["durable"]
        (got,) = listing["spaces"]
        by_id = {p["id"]: p for p in got["panes"]}
        for pane in (shell, ticker):
            assert by_id[pane["id"]]["state"] == "running"
            assert by_id[pane["id"]]["pid"] == pane["pid"], "the same process, adopted"
            assert by_id[pane["id"]]["title"] == pane["title"]
        assert screen() == before, "screen and history read back unchanged"
        lines = [ln for ln in before.splitlines() if ln.startswith("hist-")]
        assert lines == [f"hist-{i}" for i in range(1, 3001)]
        assert "adopted 2 running pane(s)" in srv.log.read_text()

        ch = asyncio.run(attach_and_type(srv, sid, shell["id"]))
        rows = ["".join(c.data for c in row.values()).rstrip() for row in ch.screen.history.top]
        seen = [r for r in rows + ch.display().splitlines() if r.startswith("hist-")]
        assert seen == [f"hist-{i}" for i in range(1, 3001)], "history arrives whole, in order"
    finally:
        srv.stop()


def test_unknown_sessions_are_reported_and_left_alone(tmp_path: Path, sockdir: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    srv = ServerProcess(root, sockdir, tmp_path / "data").start()
    try:
        srv.request("GET", "/api/spaces")
        tmux = ["tmux", "-S", str(sockdir / "tmux.sock")]
        subprocess.run([*tmux, "new-session", "-d", "-s", "someone-elses", "sleep 600"], check=True)
        srv.kill()
        srv.start()
        _, listing = srv.request("GET", "/api/spaces")
        assert listing["host"]["unknown_sessions"] == ["someone-elses"]
        out = subprocess.run([*tmux, "has-session", "-t", "someone-elses"], capture_output=True)
        assert out.returncode == 0, "sessions that are not ours are never killed"
    finally:
        srv.stop()


def test_modes_tmux_cannot_report_survive_sigkill(tmp_path: Path, sockdir: Path) -> None:
    """Bracketed paste, set once while nobody watched, and focus events, set while a client
    watched: after a SIGKILL and a new server, the redraw turns both on and a paste arrives
    bracketed."""
    root = tmp_path / "root"
    (root / "proj").mkdir(parents=True)
    script, got = tmp_path / "paste.py", tmp_path / "got"
    script.write_text(PASTE_PROGRAM)
    srv = ServerProcess(root, sockdir, tmp_path / "data").start()

    async def watch(sid: str, pid: str, keys: str) -> tuple[str, bytes]:
        ch = await connect(srv, sid, pid, 0)
        try:
            await ch.drain()
            redraw = ch.text
            before = got.read_bytes()
            await ch.send("stdin", paste(ch.screen, PASTE) + keys)
            want = before + f"\x1b[200~{PASTE}\x1b[201~{keys}".encode()
            wait(lambda: got.read_bytes() == want)
            if keys:  # the program's answer (focus events on) reached the client
                await ch.until(lambda c: "\x1b[?1004h" in c.text[len(redraw) :])
            return redraw, got.read_bytes()
        finally:
            await ch.close()  # type: ignore[attr-defined]

    try:
        code, space = srv.request("POST", "/api/spaces", {"path": "proj"})
        assert code == 201, space
        sid = space["id"]
        argv = [sys.executable, str(script), str(got)]
        code, pane = srv.request(
            "POST", f"/api/spaces/{sid}/panes", {"kind": "command", "argv": argv}
        )
        assert code == 201, pane
        wait(lambda: got.with_suffix(".ready").exists())
        redraw, _ = asyncio.run(watch(sid, pane["id"], "\x06"))
        assert "\x1b[?2004h" in redraw and "\x1b[?1004h" not in redraw

        srv.kill()
        srv.start()
        redraw, received = asyncio.run(watch(sid, pane["id"], ""))
        assert "\x1b[?2004h" in redraw, "bracketed paste is on after the restart"
        assert "\x1b[?1004h" in redraw, "focus events, kept in tmux, are on after the restart"
        assert received.endswith(f"\x1b[200~{PASTE}\x1b[201~".encode())
        assert psutil.Process(pane["pid"]).is_running()
    finally:
        srv.stop()


def test_sigint_without_a_terminal_stops_the_server(tmp_path: Path, sockdir: Path) -> None:
    """JupyterHub's LocalProcessSpawner stops a server with SIGINT, and the server has no
    terminal: jupyter-server then ends its loop with KeyboardInterrupt and Python waits for
    every non-daemon thread. The session watcher's thread must not be one (it was: the server
    never exited), so the stop is quick and the final captures run."""
    from .agent_env import environ, make_agent_env

    agents = make_agent_env(tmp_path)
    root = tmp_path / "root"
    root.mkdir()
    srv = ServerProcess(root, sockdir, tmp_path / "data", env=environ(agents)).start()
    try:
        wait(lambda: "agent sessions indexed" in srv.log.read_text())
        assert srv.proc is not None
        srv.proc.send_signal(signal.SIGINT)
        try:
            srv.proc.wait(60)
        except subprocess.TimeoutExpired:
            raise AssertionError("the server did not exit after SIGINT") from None
    finally:
        srv.stop()
