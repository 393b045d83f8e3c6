"""What counts as server activity for JupyterHub's idle culler (``activity_policy``,
``max_keepalive_hours``), recorded in jupyter-server's ``last_activity_times`` hook; reads and
the event bus are not activity. A real server and real tmux; the hub itself is in test_hub.py."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from jupyter_spaces.host.tmux import PaneInfo
from jupyter_spaces.services.activity import INPUT_KEY, PANES_KEY, Activity, utc
from jupyter_spaces.services.settings import SpacesSettings

from .conftest import needs_tmux, wait_for

TICKER = ["sh", "-c", "while true; do echo tick; sleep 0.3; done"]


def _settings(**kw: Any) -> SpacesSettings:
    p = Path("/nonexistent")
    return SpacesSettings(root=p, registry_path=p, trust_dir=p, sessions_index_path=p, **kw)


def _info(activity: float, dead: bool = False) -> PaneInfo:
    return PaneInfo(
        session="s",
        pane_id="%1",
        pid=1,
        closed=dead,
        dead=dead,
        exit_status=None,
        exit_signal=None,
        cols=80,
        rows=24,
        current_path="/",
        current_command="sh",
        activity=activity,
    )


def test_policy_and_keepalive_arithmetic() -> None:
    """The panes' entry by policy, never later than the user's last activity + the keep-alive."""
    started = datetime(2030, 1, 1, tzinfo=timezone.utc)
    web: dict[str, Any] = {"started": started, "last_activity_times": {}}
    busy = [False]
    settings = _settings(activity_policy="agents", max_keepalive_hours=1.0)
    activity = Activity(settings, logging.getLogger("t"), lambda: busy[0], web)
    t0 = started.timestamp()
    infos = {("a", "1"): _info(t0 + 100)}
    activity.update(infos, now=t0 + 200)
    assert PANES_KEY not in web["last_activity_times"]  # output is not work under 'agents'
    busy[0] = True
    activity.update(infos, now=t0 + 200)
    assert web["last_activity_times"][PANES_KEY] == utc(t0 + 200)
    activity.update(infos, now=t0 + 7200)  # two hours on: capped at start + 1 h
    assert web["last_activity_times"][PANES_KEY] == started + timedelta(hours=1)
    web["api_last_activity"] = started + timedelta(hours=2)  # the user came back
    activity.update(infos, now=t0 + 7300)
    assert web["last_activity_times"][PANES_KEY] == utc(t0 + 7300)

    settings.activity_policy = "output"
    activity.update({("a", "1"): _info(t0 + 7200), ("a", "2"): _info(t0 + 9000, dead=True)})
    assert web["last_activity_times"][PANES_KEY] == utc(t0 + 7300)  # never goes back
    activity.update({("a", "1"): _info(t0 + 7500)})
    assert web["last_activity_times"][PANES_KEY] == utc(t0 + 7500)

    settings.activity_policy = "none"
    activity.update({("a", "1"): _info(t0 + 7600)})
    assert PANES_KEY not in web["last_activity_times"]
    activity.typed()  # typing counts whatever the policy
    assert INPUT_KEY in web["last_activity_times"]


@pytest.fixture
def manager(jp_serverapp: Any) -> Any:
    return jp_serverapp.web_app.settings["spaces_manager"]


async def _space(api: Any, root: Path) -> str:
    (root / "p").mkdir()
    code, space = await api("POST", body={"path": "p"})
    assert code == 201, space
    return str(space["id"])


def _times(jp_serverapp: Any) -> dict[str, datetime]:
    times: dict[str, datetime] = jp_serverapp.web_app.settings["last_activity_times"]
    return times


@needs_tmux
async def test_agents_policy_counts_a_working_agent_not_a_chatty_command(
    api: Any, jp_root_dir: Path, jp_serverapp: Any, manager: Any
) -> None:
    sid = await _space(api, jp_root_dir)
    code, _ = await api("POST", sid, "panes", body={"kind": "command", "argv": TICKER})
    assert code == 201
    await asyncio.sleep(2.0)  # several polls of a pane printing three lines a second
    assert PANES_KEY not in _times(jp_serverapp)
    assert manager.agent_states.busy() is False

    code, pane = await api(
        "POST", sid, "panes", body={"kind": "agent", "agent": "custom", "argv": TICKER}
    )
    assert code == 201, pane
    # A custom agent that prints is 'working' (the agent state service's heuristic).
    first = await wait_for(lambda: asyncio.sleep(0, _times(jp_serverapp).get(PANES_KEY)))
    assert manager.agent_states.busy() is True

    async def advanced() -> Any:
        value = _times(jp_serverapp)[PANES_KEY]
        return value if value > first else None

    later = await wait_for(advanced, timeout=5)
    assert jp_serverapp.web_app.last_activity() >= later


@needs_tmux
async def test_output_policy_counts_any_output(
    api: Any, jp_root_dir: Path, jp_serverapp: Any, manager: Any
) -> None:
    manager.settings.activity_policy = "output"
    sid = await _space(api, jp_root_dir)
    await api("POST", sid, "panes", body={"kind": "command", "argv": TICKER})
    first = await wait_for(lambda: asyncio.sleep(0, _times(jp_serverapp).get(PANES_KEY)))

    async def advanced() -> Any:
        value = _times(jp_serverapp)[PANES_KEY]
        return value if value > first else None

    await wait_for(advanced, timeout=6)


@needs_tmux
async def test_keepalive_ends_and_the_user_extends_it(
    api: Any, jp_root_dir: Path, jp_serverapp: Any, manager: Any
) -> None:
    manager.settings.max_keepalive_hours = 1.5 / 3600  # 1.5 s
    sid = await _space(api, jp_root_dir)
    await api("POST", sid, "panes", body={"kind": "agent", "agent": "custom", "argv": TICKER})
    await wait_for(lambda: asyncio.sleep(0, _times(jp_serverapp).get(PANES_KEY)))
    await asyncio.sleep(3.0)  # the keep-alive is over; the agent still works
    assert manager.agent_states.busy() is True
    user = manager.activity.user_last_activity()
    capped = _times(jp_serverapp)[PANES_KEY]
    assert capped <= user + timedelta(seconds=1.5)
    assert datetime.now(timezone.utc) - capped > timedelta(seconds=1)
    await asyncio.sleep(1.0)
    assert _times(jp_serverapp)[PANES_KEY] == capped  # stays put: the culler may act
    # A change through the API is the user's own activity: panes count again after it.
    await api("PATCH", sid, body={"name": "back"})
    await wait_for(lambda: asyncio.sleep(0, _times(jp_serverapp)[PANES_KEY] > capped), timeout=5)


@needs_tmux
async def test_reads_and_the_event_bus_are_not_activity_typing_is(
    api: Any, jp_root_dir: Path, jp_serverapp: Any, jp_ws_fetch: Any, manager: Any
) -> None:
    manager.settings.activity_policy = "none"
    settings = jp_serverapp.web_app.settings
    sid = await _space(api, jp_root_dir)
    code, pane = await api("POST", sid, "panes", body={"kind": "shell"})
    assert code == 201
    after_post = settings["api_last_activity"]
    events = await jp_ws_fetch("api", "events", "subscribe")
    await asyncio.sleep(0.05)
    # What a front end does on its own: list, re-read, read a screen, search sessions.
    for parts in ((), (sid,), (sid, "panes", pane["id"], "screen"), ("sessions",)):
        code, _ = await api("GET", *parts)
        assert code == 200, parts
    await api("PATCH", sid, "panes", pane["id"], body={"title": "t"})
    changed = settings["api_last_activity"]
    assert changed > after_post  # a change is counted, as jupyter-server counts requests
    event = json.loads(await asyncio.wait_for(events.read_message(), 10))
    assert event is not None  # the event bus delivered, and...
    await api("GET", sid)
    assert settings["api_last_activity"] == changed  # ...neither it nor the re-read counted
    events.close()
    assert INPUT_KEY not in _times(jp_serverapp)

    channel = await jp_ws_fetch("api", "spaces", sid, "panes", pane["id"], "channel")
    channel.write_message(json.dumps(["stdin", "echo hi\r"]))
    await wait_for(lambda: asyncio.sleep(0, _times(jp_serverapp).get(INPUT_KEY)))
    channel.close()
    assert PANES_KEY not in _times(jp_serverapp)  # 'none': the panes themselves never count
