"""Agent state end to end: the fake CLIs give the signals the real ones give (their hooks, Codex's
notify and rollout, the bell), a real server and real tmux turn them into states, which are
announced, recorded, and kept across a server restart."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_spaces.app import EVENTS_SCHEMA_ID

from .agent_env import AgentEnv, agent_env  # noqa: F401 - fixture
from .conftest import needs_tmux, wait_for
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
