"""Spaces and panes through the REST API, against a real jupyter-server and a real tmux."""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from .conftest import needs_tmux, wait_for

pytestmark = needs_tmux


async def make_space(api, root: Path, name: str = "proj") -> dict:
    (root / name).mkdir(exist_ok=True)
    code, space = await api("POST", body={"path": name})
    assert code == 201, space
    return space


async def screen_text(api, space_id: str, pane_id: str, lines: int = 0) -> str:
    code, body = await api("GET", space_id, "panes", pane_id, "screen", lines=str(lines))
    assert code == 200, body
    return body["text"]


async def test_space_lifecycle_and_workspace_file(api, jp_root_dir):
    space = await make_space(api, jp_root_dir)
    assert space["path"] == "proj" and space["name"] == "proj" and space["panes"] == []
    assert (jp_root_dir / "proj/.jupyter-spaces/space.json").is_file()
    assert (jp_root_dir / "proj/.jupyter-spaces/.gitignore").is_file()

    code, listing = await api("GET")
    assert code == 200 and [s["id"] for s in listing["spaces"]] == [space["id"]]
    assert listing["host"]["durable"] is True and listing["host"]["tmux"].startswith("tmux")

    code, renamed = await api("PATCH", space["id"], body={"name": "Renamed"})
    assert code == 200 and renamed["name"] == "Renamed"

    code, _ = await api("DELETE", space["id"])
    assert code == 204
    assert (jp_root_dir / "proj/.jupyter-spaces/space.json").is_file(), "DELETE keeps files"
    code, body = await api("GET", space["id"])
    assert code == 404 and "no space" in body["message"]


async def test_command_pane_runs_in_tmux_not_under_the_server(api, jp_root_dir):
    space = await make_space(api, jp_root_dir)
    (jp_root_dir / "proj/sub").mkdir()
    code, pane = await api(
        "POST",
        space["id"],
        "panes",
        body={
            "kind": "command",
            "argv": ["sh", "-c", "pwd; echo $GREETING; exec cat"],
            "cwd": "sub",
            "title": "cat",
            "env": {"GREETING": "hello there"},
        },
    )
    assert code == 201, pane
    assert pane["state"] == "running" and pane["kind"] == "command" and pane["cwd"] == "sub"
    proc = psutil.Process(pane["pid"])
    ancestors = {p.pid for p in proc.parents()}
    assert os.getpid() not in ancestors, "pane processes must not be children of jupyter-server"

    async def shows_greeting():
        text = await screen_text(api, space["id"], pane["id"])
        return "hello there" in text and str(jp_root_dir / "proj/sub") in text

    await wait_for(shows_greeting)
    code, _ = await api(
        "POST", space["id"], "panes", pane["id"], "input", body={"text": "ping;'\\\n"}
    )
    assert code == 204
    await wait_for(lambda: _contains(api, space["id"], pane["id"], "ping;'\\"))

    code, got = await api("GET", space["id"], "panes", pane["id"])
    assert code == 200 and got["title"] == "cat" and got["pid"] == pane["pid"]
    code, doc = await api("GET", space["id"])
    assert doc["layout"] == {"type": "pane", "pane": pane["id"]}

    code, _ = await api("DELETE", space["id"], "panes", pane["id"])
    assert code == 204
    await wait_for(lambda: _not_running(pane["pid"]))


async def _contains(api, space_id, pane_id, needle):
    return needle in await screen_text(api, space_id, pane_id)


async def _not_running(pid):
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


async def test_exited_pane_reports_its_status(api, jp_root_dir):
    space = await make_space(api, jp_root_dir)
    code, pane = await api(
        "POST", space["id"], "panes", body={"kind": "command", "argv": ["sh", "-c", "exit 7"]}
    )
    assert code == 201

    async def exited():
        _, p = await api("GET", space["id"], "panes", pane["id"])
        return p if p["state"] == "exited" else None

    p = await wait_for(exited)
    assert p["exit_code"] == 7 and p["pid"] is None
    code, body = await api("POST", space["id"], "panes", pane["id"], "input", body={"text": "x"})
    assert code == 409 and "exited" in body["message"]


async def test_shell_pane_is_a_login_shell_in_the_space(api, jp_root_dir):
    space = await make_space(api, jp_root_dir)
    code, pane = await api("POST", space["id"], "panes", body={"kind": "shell"})
    assert code == 201 and pane["argv"][-1] == "-l"
    await api("POST", space["id"], "panes", pane["id"], "input", body={"text": "echo $((6*7))\r"})
    await wait_for(lambda: _contains(api, space["id"], pane["id"], "42"))
    assert psutil.Process(pane["pid"]).cwd() == str(jp_root_dir / "proj")


async def test_vanished_session_is_gone(api, jp_root_dir, tmux_dir):
    import subprocess

    space = await make_space(api, jp_root_dir)
    _, pane = await api("POST", space["id"], "panes", body={"kind": "command", "argv": ["cat"]})
    subprocess.run(
        [
            "tmux",
            "-S",
            str(tmux_dir / "s/tmux.sock"),
            "kill-session",
            "-t",
            f"jsp_{space['id']}_{pane['id']}",
        ],
        check=True,
    )
    _, p = await api("GET", space["id"], "panes", pane["id"])
    assert p["state"] == "gone" and p["pid"] is None


async def test_pane_killed_by_a_signal(api, jp_root_dir):
    import signal

    space = await make_space(api, jp_root_dir)
    _, pane = await api("POST", space["id"], "panes", body={"kind": "command", "argv": ["cat"]})
    os.kill(pane["pid"], signal.SIGTERM)

    async def exited():
        _, p = await api("GET", space["id"], "panes", pane["id"])
        return p if p["state"] == "exited" else None

    # Killed at once: tmux 3.3a sometimes loses this child's SIGCHLD; it must still be seen.
    p = await wait_for(exited)
    assert p["exit_code"] == 128 + signal.SIGTERM and p["exit_signal"] == "TERM"


async def test_restart_runs_the_launch_command_again(api, jp_root_dir, tmux_dir):
    import subprocess

    space = await make_space(api, jp_root_dir)
    argv = ["sh", "-c", "echo started-$$; exec cat"]
    _, pane = await api("POST", space["id"], "panes", body={"kind": "command", "argv": argv})
    await wait_for(lambda: _contains(api, space["id"], pane["id"], "started-"))
    code, again = await api("POST", space["id"], "panes", pane["id"], "restart")
    assert code == 200 and again["state"] == "running" and again["pid"] != pane["pid"]
    await wait_for(lambda: _not_running(pane["pid"]))
    await wait_for(lambda: _contains(api, space["id"], pane["id"], f"started-{again['pid']}"))
    # A pane whose tmux session vanished is started again too.
    name = f"jsp_{space['id']}_{pane['id']}"
    subprocess.run(["tmux", "-S", str(tmux_dir / "s/tmux.sock"), "kill-session", "-t", name])
    code, third = await api("POST", space["id"], "panes", pane["id"], "restart")
    assert code == 200 and third["state"] == "running"
    code, body = await api("POST", space["id"], "panes", "nopane99", "restart")
    assert code == 404 and body["message"]


@needs_tmux
async def test_a_command_that_cannot_start_says_why_on_its_first_line(api, jp_root_dir):
    (jp_root_dir / "p").mkdir()
    (jp_root_dir / "p" / "notes.txt").write_text("not a program\n")
    _, space = await api("POST", body={"path": "p"})
    cases = [
        (["no-such-program-xyz", "-v"], 127, "no-such-program-xyz: command not found on PATH"),
        ([str(jp_root_dir / "p" / "notes.txt")], 126, "not an executable file"),
        ([str(jp_root_dir / "p" / "gone")], 127, "no such file"),
    ]
    for argv, status, why in cases:
        code, pane = await api("POST", space["id"], "panes", body={"kind": "command", "argv": argv})
        assert code == 201, pane

        async def exited(pane_id: str = pane["id"]) -> object:
            _, got = await api("GET", space["id"], "panes", pane_id)
            return got if got["state"] == "exited" else None

        got = await wait_for(exited)
        assert got["exit_code"] == status
        _, screen = await api("GET", space["id"], "panes", pane["id"], "screen")
        first = screen["text"].splitlines()[0]
        assert why in first and f"(exit status {status})" in first, screen["text"]
        assert "Pane is dead" not in screen["text"]
