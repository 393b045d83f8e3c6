"""The machine restarts: the server is SIGKILLed and the whole tmux server dies with every
process. A new server brings each space back from its workspace file: shells fresh below their
old text, agents resumed by session id in their own folder, command panes waiting for Enter.
A workspace file this user's server did not write starts nothing until it is trusted."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .agent_env import AgentEnv, environ, make_agent_env
from .conftest import needs_tmux
from .server_process import ServerProcess
from .test_server_restart import wait

pytestmark = needs_tmux


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[tuple[Path, Path, AgentEnv]]:
    """(root, socket dir, fake agents) that outlive one server, as a home and a project do."""
    sock = Path(tempfile.mkdtemp(prefix="jsp-", dir="/tmp"))
    env = make_agent_env(tmp_path)
    root = tmp_path / "root"
    root.mkdir()
    yield root, sock, env
    kill_tmux(sock)
    shutil.rmtree(sock, ignore_errors=True)


def kill_tmux(sock: Path) -> None:
    subprocess.run(["tmux", "-S", str(sock / "tmux.sock"), "kill-server"], capture_output=True)


def server(root: Path, sock: Path, env: AgentEnv, data: Path) -> ServerProcess:
    return ServerProcess(
        root,
        sock,
        data,
        env={**environ(env), "SHELL": "/bin/bash", "HOME": str(data / "home")},
        capture_interval=0.3,
        poll_interval=0.3,
    ).start()


def screen(srv: ServerProcess, space_id: str, pane_id: str) -> str:
    code, body = srv.request("GET", f"/api/spaces/{space_id}/panes/{pane_id}/screen?lines=500")
    assert code == 200, body
    return str(body["text"])


def type_in(srv: ServerProcess, space_id: str, pane_id: str, text: str) -> None:
    code, body = srv.request(
        "POST", f"/api/spaces/{space_id}/panes/{pane_id}/input", {"text": text}
    )
    assert code == 204, body


def test_everything_comes_back_after_the_machine_restarts(machine, tmp_path):
    root, sock, agents = machine
    (root / "proj" / "src").mkdir(parents=True)
    data = tmp_path / "data"
    srv = server(root, sock, agents, data)
    try:
        _, space = srv.request("POST", "/api/spaces", {"path": "proj"})
        sid = space["id"]
        _, shell = srv.request(
            "POST", f"/api/spaces/{sid}/panes", {"kind": "shell", "cwd": "src", "title": "sh"}
        )
        _, cmd = srv.request(
            "POST",
            f"/api/spaces/{sid}/panes",
            {
                "kind": "command",
                "argv": ["sh", "-c", "echo RAN-$((40+2)); exec cat"],
                "title": "server",
                "next_to": shell["id"],
                "direction": "column",
            },
        )
        _, agent = srv.request(
            "POST", f"/api/spaces/{sid}/panes", {"kind": "agent", "agent": "claude", "model": "m"}
        )
        type_in(srv, sid, shell["id"], "echo before-the-$((6*7))-restart\r")
        wait(lambda: "before-the-42-restart" in screen(srv, sid, shell["id"]))
        wait(lambda: agents.calls("claude"))
        type_in(srv, sid, agent["id"], "hello agent\r")
        wait(lambda: "reply to hello agent" in screen(srv, sid, agent["id"]))
        capture = root / "proj" / ".jupyter-spaces" / "screens" / f"{shell['id']}.txt"
        wait(lambda: capture.exists() and "before-the-42-restart" in capture.read_text())
        _, before = srv.request("GET", f"/api/spaces/{sid}")
    finally:
        srv.kill()
    kill_tmux(sock)  # the machine restarts: every process is gone

    srv = server(root, sock, agents, data)
    try:
        _, after = srv.request("GET", f"/api/spaces/{sid}")
        assert after["layout"] == before["layout"] and after["trusted"] is True
        assert [(p["id"], p["title"], p["kind"]) for p in after["panes"]] == [
            (p["id"], p["title"], p["kind"]) for p in before["panes"]
        ]
        assert {p["state"] for p in after["panes"]} == {"running"}

        text = wait(lambda: (t := screen(srv, sid, shell["id"])) and "restored from" in t and t)
        assert text.index("before-the-42-restart") < text.index("restored from")
        type_in(srv, sid, shell["id"], "pwd\r")
        wait(lambda: str(root / "proj" / "src") in screen(srv, sid, shell["id"]).split("pwd")[-1])

        # The resumed claude records its start a moment after the server answers.
        calls = wait(lambda: (c := agents.calls("claude")) and len(c) >= 2 and c)
        assert len(calls) == 2
        assert calls[-1]["argv"] == ["--resume", agent["session_id"], "--model", "m"]
        assert calls[-1]["cwd"] == str(root / "proj")
        # The resumed agent starts as `starting`, then its hooks say it waits at its prompt.
        url = f"/api/spaces/{sid}/panes/{agent['id']}"
        wait(lambda: srv.request("GET", url)[1]["agent_state"] == "idle")
        timeline = [s["state"] for s in srv.request("GET", f"{url}/states")[1]["states"]]
        assert timeline[-2:] == ["starting", "idle"], timeline

        wait(
            lambda: (
                "Press Enter to run: sh -c 'echo RAN-$((40+2)); exec cat'"
                in screen(srv, sid, cmd["id"])
            )
        )
        assert "RAN-42" not in screen(srv, sid, cmd["id"])
        type_in(srv, sid, cmd["id"], "\r")
        wait(lambda: "RAN-42" in screen(srv, sid, cmd["id"]))
        pids = {p["id"]: p["pid"] for p in srv.request("GET", f"/api/spaces/{sid}")[1]["panes"]}
    finally:
        srv.kill()

    # Starting again with tmux alive adopts the panes; nothing is started twice.
    srv = server(root, sock, agents, data)
    try:
        _, again = srv.request("GET", f"/api/spaces/{sid}")
        assert {p["id"]: p["pid"] for p in again["panes"]} == pids
        assert len(agents.calls("claude")) == 2
    finally:
        srv.stop()


def test_an_untrusted_workspace_file_starts_nothing_until_trusted(machine, tmp_path):
    root, sock, agents = machine
    data = tmp_path / "data"
    (root / "mine").mkdir()
    srv = server(root, sock, agents, data)
    try:
        _, mine = srv.request("POST", "/api/spaces", {"path": "mine"})
        srv.request(
            "POST",
            f"/api/spaces/{mine['id']}/panes",
            {"kind": "command", "argv": ["sh", "-c", "touch ran; exec cat"], "autorestart": False},
        )
    finally:
        srv.stop()
    # The folder comes to another machine with git clone: same file, no signature there.
    cloned = root / "cloned"
    shutil.copytree(root / "mine", cloned)
    doc = json.loads((cloned / ".jupyter-spaces" / "space.json").read_text())
    doc["id"] = "c10ned00"
    (pane,) = doc["panes"].values()
    pane["argv"] = pane["launch"]["argv"] = ["sh", "-c", "touch ran; exec cat"]
    (cloned / ".jupyter-spaces" / "space.json").write_text(json.dumps(doc))
    (cloned / "ran").unlink(missing_ok=True)
    kill_tmux(sock)

    srv = server(root, sock, agents, data)
    try:
        code, space = srv.request("POST", "/api/spaces", {"path": "cloned"})
        assert code == 201 and space["trusted"] is False
        assert [p["state"] for p in space["panes"]] == ["gone"]
        live = subprocess.run(
            ["tmux", "-S", str(sock / "tmux.sock"), "list-sessions", "-F", "#S"],
            capture_output=True,
            text=True,
        ).stdout
        assert "c10ned00" not in live and not (cloned / "ran").exists()
        for method, path, body in [
            ("POST", "/panes", {"kind": "shell"}),
            ("PATCH", "", {"name": "x"}),
            ("POST", f"/panes/{pane['id']}/restart", None),
        ]:
            code, reply = srv.request(method, f"/api/spaces/c10ned00{path}", body or {})
            assert code == 409 and reply["reason"] == "untrusted", reply
        # The plan shows exactly what trusting starts; a trust names that plan.
        code, plan = srv.request("GET", "/api/spaces/c10ned00/plan")
        assert code == 200 and plan["trusted"] is False, plan
        (shown,) = plan["plans"]
        assert shown["argv"] == ["sh", "-c", "touch ran; exec cat"]
        assert shown["waits_for_enter"] is True and shown["cwd"] == "cloned"
        assert shown["env"]["JUPYTER_SPACES_PANE"] == pane["id"]
        code, reply = srv.request("POST", "/api/spaces/c10ned00/trust", {"plan_sha256": "0" * 64})
        assert code == 409 and reply["reason"] == "changed", reply
        for body in ({}, {"sha256": space["file_sha256"]}, {"plan_sha256": 5}):
            code, reply = srv.request("POST", "/api/spaces/c10ned00/trust", body)
            assert code == 400, reply
        assert not srv.request("GET", "/api/spaces/c10ned00")[1]["trusted"]
        code, trusted = srv.request(
            "POST", "/api/spaces/c10ned00/trust", {"plan_sha256": plan["plan_sha256"]}
        )
        assert code == 200 and trusted["trusted"] is True
        assert [p["state"] for p in trusted["panes"]] == ["running"]
        wait(lambda: "Press Enter to run" in screen(srv, "c10ned00", pane["id"]))
        assert not (cloned / "ran").exists()
        # A hand edit makes it untrusted again.
        doc["name"] = "edited"
        (cloned / ".jupyter-spaces" / "space.json").write_text(json.dumps(doc))
        _, edited = srv.request("GET", "/api/spaces/c10ned00")
        assert edited["trusted"] is False and edited["name"] == "edited"
    finally:
        srv.stop()
