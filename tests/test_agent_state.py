"""Agent state end to end: the fake CLIs give the signals the real ones give (their hooks, Codex's
notify and rollout, the bell), a real server and real tmux turn them into states, which are
announced, recorded, and kept across a server restart."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_spaces.app import EVENTS_SCHEMA_ID

from .agent_env import AgentEnv, agent_env, environ, make_agent_env  # noqa: F401 - fixture
from .conftest import needs_tmux, wait_for
from .server_process import ServerProcess
from .test_agent_panes import agent_pane
from .test_api_panes import make_space, screen_text

pytestmark = needs_tmux


class States:
    """Every agent_state event, by pane, read from the event bus in the background."""

    def __init__(self) -> None:
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.fetch: Any = None
        self.ws: Any = None
        self.task: asyncio.Future[None] | None = None

    async def start(self) -> None:
        self.ws = await self.fetch("api", "events", "subscribe")

        async def read() -> None:
            while True:
                message = await self.ws.read_message()
                if message is None:
                    return
                event = json.loads(message)
                if event["schema_id"] == EVENTS_SCHEMA_ID and event.get("action") == "agent_state":
                    self.events.setdefault(event["pane_id"], []).append(event)

        self.task = asyncio.ensure_future(read())

    def of(self, pane_id: str) -> list[tuple[str, str]]:
        return [(e["state"], e["source"]) for e in self.events.get(pane_id, [])]

    async def reach(self, pane_id: str, state: str, timeout: float = 20) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            got = self.events.get(pane_id, [])
            return got[-1] if got and got[-1]["state"] == state else None

        try:
            return await wait_for(check, timeout=timeout, interval=0.05)
        except AssertionError:
            raise AssertionError(f"{pane_id} never reached {state}: {self.of(pane_id)}") from None


@pytest.fixture
def states(jp_ws_fetch) -> Iterator[States]:  # type: ignore[no-untyped-def]
    """Start it with ``await states.start()`` (fixtures here cannot be coroutines); the
    reader and its socket are stopped at the end, also when the test fails."""
    seen = States()
    seen.fetch = jp_ws_fetch
    yield seen
    if seen.task is not None:
        seen.task.cancel()
    if seen.ws is not None:
        seen.ws.close()


async def type_line(api, space_id: str, pane_id: str, text: str) -> None:  # type: ignore[no-untyped-def]
    code, body = await api("POST", space_id, "panes", pane_id, "input", body={"text": text + "\r"})
    assert code == 204, body


async def pane_json(api, space_id: str, pane_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    code, pane = await api("GET", space_id, "panes", pane_id)
    assert code == 200, pane
    return pane


@pytest.mark.parametrize(
    "agent, source",
    [("claude", "hooks"), ("gemini", "hooks"), ("codex", "transcript")],
)
async def test_each_state_is_reached_in_order_with_its_source(
    agent_env: AgentEnv,  # noqa: F811
    api,
    jp_root_dir,
    states: States,
    agent: str,
    source: str,
):
    await states.start()
    space = await make_space(api, jp_root_dir)
    sid = space["id"]
    pane = await agent_pane(api, sid, agent=agent)
    pid = pane["id"]
    assert pane["agent_state"] == "starting" and pane["agent_state_source"] == "heuristic"
    await states.reach(pid, "idle")
    await type_line(api, sid, pid, "ask to list files")
    asked = await states.reach(pid, "needs_input")
    await type_line(api, sid, pid, "yes")
    await wait_for(lambda: _says(api, sid, pid, "reply to ask to list files (yes)"), timeout=20)
    await states.reach(pid, "idle")
    await type_line(api, sid, pid, "slow thinking")
    working = await states.reach(pid, "working")
    done = await states.reach(pid, "idle")
    assert done["working_seconds"] >= 1.5, done
    await type_line(api, sid, pid, "exit")
    await states.reach(pid, "exited")

    got = [s for s, _ in states.of(pid)]
    assert got[0] == "starting" and got[-1] == "exited", got
    assert _in_order(got, ["starting", "idle", "needs_input", "working", "idle", "exited"]), got
    if agent == "codex":
        # Codex tells approvals to the terminal only: the bell, while it works.
        assert (asked["source"], asked["reason"]) == ("heuristic", "bell")
        # The rollout's task_complete and notify both end a turn; whichever is seen first.
        assert working["source"] == "transcript" and done["source"] in ("transcript", "hooks")
    else:
        assert asked["source"] == source and asked["reason"] == "permission"
        assert working["source"] == done["source"] == source
    final = await pane_json(api, sid, pid)
    assert final["agent_state"] == "exited" and final["foreground"]

    code, timeline = await api("GET", sid, "panes", pid, "states")
    assert code == 200, timeline
    recorded = [s["state"] for s in timeline["states"]]
    assert recorded == got, (recorded, got)
    assert all(s["end"] is not None for s in timeline["states"][:-1])
    assert timeline["states"][-1]["end"] is None


async def _says(api, sid: str, pid: str, text: str) -> bool:  # type: ignore[no-untyped-def]
    return text in await screen_text(api, sid, pid, 200)


def _in_order(got: list[str], wanted: list[str]) -> bool:
    it = iter(got)
    return all(any(g == w for g in it) for w in wanted)


async def test_four_agents_in_one_folder_each_keep_their_own_states(
    agent_env: AgentEnv,  # noqa: F811
    api,
    jp_root_dir,
    states: States,
):
    """Two claude and two gemini panes in one folder, driven at once through different
    sequences: every state lands on the pane whose agent gave it."""
    await states.start()
    space = await make_space(api, jp_root_dir)
    sid = space["id"]
    panes = [(await agent_pane(api, sid, agent=a))["id"] for a in ("claude", "gemini") * 2]
    for pid in panes:
        await states.reach(pid, "idle")
    # 0 asks and waits; 1 works slowly; 2 asks and waits; 3 exits.
    await asyncio.gather(
        type_line(api, sid, panes[0], "ask first"),
        type_line(api, sid, panes[1], "slow second"),
        type_line(api, sid, panes[2], "ask third"),
        type_line(api, sid, panes[3], "exit"),
    )
    await asyncio.gather(
        states.reach(panes[0], "needs_input"),
        states.reach(panes[2], "needs_input"),
        states.reach(panes[3], "exited"),
    )
    await states.reach(panes[1], "idle")
    assert "needs_input" not in [s for s, _ in states.of(panes[1])]
    assert "needs_input" not in [s for s, _ in states.of(panes[3])]
    _, listed = await api("GET", sid)
    assert listed["needs_input"] == 2
    by_id = {p["id"]: p["agent_state"] for p in listed["panes"]}
    assert by_id == {
        panes[0]: "needs_input",
        panes[1]: "idle",
        panes[2]: "needs_input",
        panes[3]: "exited",
    }
    await type_line(api, sid, panes[2], "no")
    await states.reach(panes[2], "idle")
    assert (await pane_json(api, sid, panes[0]))["agent_state"] == "needs_input"


async def test_the_users_own_claude_hooks_still_run(
    agent_env: AgentEnv,  # noqa: F811
    api,
    jp_root_dir,
    states: States,
    tmp_path,
):
    """Claude Code merges the hooks of every settings source: ours come with --settings,
    the user's own in their settings.json keep running beside them."""
    await states.start()
    mark = tmp_path / "user-hook-ran"
    user_hook = {"type": "command", "command": f"cat >> {mark}"}
    (agent_env.claude / "settings.json").write_text(
        json.dumps({"hooks": {"Stop": [{"hooks": [user_hook]}]}})
    )
    space = await make_space(api, jp_root_dir)
    pane = await agent_pane(api, space["id"], agent="claude")
    await states.reach(pane["id"], "idle")
    await type_line(api, space["id"], pane["id"], "hello")
    turn = ["starting", "idle", "working", "idle"]
    await wait_for(lambda: asyncio.sleep(0, [s for s, _ in states.of(pane["id"])] == turn))
    await wait_for(lambda: asyncio.sleep(0, mark.exists() and "Stop" in mark.read_text()))


async def test_a_custom_agent_is_followed_by_its_output(
    agent_env: AgentEnv,  # noqa: F811
    api,
    jp_root_dir,
    states: States,
):
    await states.start()
    space = await make_space(api, jp_root_dir)
    argv = [
        "sh",
        "-c",
        "read x; i=0; while [ $i -lt 20 ]; do echo busy; sleep 0.2; i=$((i+1)); done",
    ]
    code, pane = await api(
        "POST", space["id"], "panes", body={"kind": "agent", "agent": "custom", "argv": argv}
    )
    assert code == 201, pane
    await asyncio.sleep(1.5)  # output needs a new second: tmux keeps its time in seconds
    await type_line(api, space["id"], pane["id"], "go")
    working = await states.reach(pane["id"], "working")
    assert working["source"] == "heuristic"
    # It ends by itself; the wrapper reports the exit and the login shell takes over.
    exited = await states.reach(pane["id"], "exited")
    assert exited["source"] == "hooks"


async def test_forged_states_change_nothing_and_are_logged(
    agent_env: AgentEnv,  # noqa: F811
    api,
    jp_root_dir,
    jp_serverapp,
    states: States,
):
    """Any process in a pane can write its pane's option: what is not a state this server
    would write is ignored (once logged), and a state for a pane no space has goes nowhere."""
    await states.start()
    space = await make_space(api, jp_root_dir)
    sid = space["id"]
    pane = await agent_pane(api, sid, agent="claude")
    pid = pane["id"]
    await states.reach(pid, "idle")
    manager = jp_serverapp.web_app.settings["spaces_manager"]
    tmux = manager.panes.tmux
    logged: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: logged.append(record.getMessage())  # type: ignore[method-assign]
    manager.agent_states.log.addHandler(handler)
    name = f"jsp_{sid}_{pid}"
    now = f"{time.time():.3f}"
    forged = [
        "bogus 1 hooks -",
        f"needs_input {now} hooks permission extra",
        f"needs_input {now} friends -",
        "needs_input nan hooks -",
        f"needs_input {now} hooks Permission",
        "|".join([f"working {now} hooks -"] * 40),
        f"needs_input {now} hooks -\njsp_{sid}_{pid} needs_input {now} hooks -",
        f"needs_input {now} hooks -;idle {now} hooks -",
    ]
    for value in forged:
        await tmux.set_pane_options(name, {"@jsp-agent-state": value}, "jsp-agent-state")
        await asyncio.sleep(0.4)
        got = await pane_json(api, sid, pid)
        assert got["agent_state"] == "idle", (value, got)
    assert [s for s, _ in states.of(pid)] == ["starting", "idle"]
    manager.agent_states.log.removeHandler(handler)
    assert sum("ignored agent state" in line for line in logged) == len(forged), logged
    # A session that is no pane of any space: nothing is announced, nothing recorded.
    await tmux.run(["new-session", "-d", "-s", "jsp_zzzz_yyyy", "sleep", "30"])
    try:
        await tmux.set_pane_options(
            "jsp_zzzz_yyyy", {"@jsp-agent-state": f"needs_input {now} hooks -"}, "jsp-agent-state"
        )
        await asyncio.sleep(0.6)
        assert "yyyy" not in states.events
        code, body = await api("GET", sid, "panes", "yyyy", "states")
        assert code == 404, body
    finally:
        await tmux.kill("jsp_zzzz_yyyy")


async def test_states_history_refuses_bad_queries(
    agent_env: AgentEnv,  # noqa: F811
    api,
    jp_root_dir,
):
    space = await make_space(api, jp_root_dir)
    pane = await agent_pane(api, space["id"], agent="claude")
    for params, status, message in [
        ({"since": "yesterday"}, 400, "since must be an ISO-8601 time"),
        ({"since": "nan"}, 400, "since must be an ISO-8601 time"),
        ({"until": "1"}, 400, "unknown parameter(s) until"),
    ]:
        code, body = await api("GET", space["id"], "panes", pane["id"], "states", **params)
        assert (code, message in body["message"]) == (status, True), (params, body)
    code, body = await api("GET", space["id"], "panes", "nope", "states")
    assert code == 404
    code, body = await api("GET", "nosuch00", "panes", pane["id"], "states")
    assert code == 404
    code, body = await api(
        "GET", space["id"], "panes", pane["id"], "states", since="2999-01-01T00:00:00Z"
    )
    assert code == 200 and [s["state"] for s in body["states"]] in (["starting"], ["idle"], [])


def test_a_waiting_agent_still_waits_after_the_server_is_killed(tmp_path: Path) -> None:
    """SIGKILL of jupyter-server while a claude pane asks for permission: the next server
    reports needs_input for it (the state lives in tmux), and the history keeps one interval."""
    agents = make_agent_env(tmp_path)
    sock = Path(tempfile.mkdtemp(prefix="jsp-", dir="/tmp"))
    root = tmp_path / "root"
    (root / "proj").mkdir(parents=True)
    srv = ServerProcess(root, sock, tmp_path / "data", env=environ(agents), poll_interval=0.3)
    try:
        srv.start()
        code, space = srv.request("POST", "/api/spaces", {"path": "proj"})
        assert code == 201, space
        sid = space["id"]
        code, pane = srv.request(
            "POST", f"/api/spaces/{sid}/panes", {"kind": "agent", "agent": "claude"}
        )
        assert code == 201, pane
        url = f"/api/spaces/{sid}/panes/{pane['id']}"

        def state() -> str:
            return str(srv.request("GET", url)[1]["agent_state"])

        _until(lambda: state() == "idle")
        srv.request("POST", f"{url}/input", {"text": "ask to deploy\r"})
        _until(lambda: state() == "needs_input")
        before = srv.request("GET", f"{url}/states")[1]["states"]
        srv.kill()
        srv.start()
        _, again = srv.request("GET", url)
        assert (again["agent_state"], again["agent_state_reason"]) == ("needs_input", "permission")
        _until(lambda: srv.request("GET", f"{url}/states")[1]["states"] == before)
        srv.request("POST", f"{url}/input", {"text": "yes\r"})
        _until(lambda: state() == "idle")
        after = [s["state"] for s in srv.request("GET", f"{url}/states")[1]["states"]]
        assert after[: len(before)] == [s["state"] for s in before] and after[-1] == "idle"
    finally:
        srv.stop()
        subprocess.run(["tmux", "-S", str(sock / "tmux.sock"), "kill-server"], capture_output=True)
        shutil.rmtree(sock, ignore_errors=True)


def _until(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_restart_does_not_split_an_interval(tmp_path: Path) -> None:
    """A pane still in the state it had when the server was killed keeps one interval: the
    option's times (to the millisecond) match what the history recorded."""
    sock = Path(tempfile.mkdtemp(prefix="jsp-", dir="/tmp"))
    root = tmp_path / "root"
    (root / "proj").mkdir(parents=True)
    srv = ServerProcess(root, sock, tmp_path / "data", poll_interval=0.3)
    try:
        srv.start()
        _, space = srv.request("POST", "/api/spaces", {"path": "proj"})
        body = {"kind": "agent", "agent": "custom", "argv": ["sleep", "600"]}
        code, pane = srv.request("POST", f"/api/spaces/{space['id']}/panes", body)
        assert code == 201, pane
        url = f"/api/spaces/{space['id']}/panes/{pane['id']}/states"
        before = srv.request("GET", url)[1]["states"]
        assert [s["state"] for s in before] == ["starting"]
        srv.kill()
        srv.start()
        time.sleep(1)  # a few polls
        assert srv.request("GET", url)[1]["states"] == before
    finally:
        srv.stop()
        subprocess.run(["tmux", "-S", str(sock / "tmux.sock"), "kill-server"], capture_output=True)
        shutil.rmtree(sock, ignore_errors=True)
