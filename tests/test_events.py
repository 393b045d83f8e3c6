"""Every change to spaces and panes is announced on jupyter-server's event bus, which front ends
read from /api/events/subscribe."""

from __future__ import annotations

import asyncio
import json

from jupyter_spaces.app import EVENTS_SCHEMA_ID

from .conftest import needs_tmux

pytestmark = needs_tmux


async def next_event(ws, **match):  # type: ignore[no-untyped-def]
    while True:
        event = json.loads(await asyncio.wait_for(ws.read_message(), 10))
        if event["schema_id"] == EVENTS_SCHEMA_ID and all(
            event.get(k) == v for k, v in match.items()
        ):
            return event


async def test_changes_are_announced(api, jp_root_dir, jp_ws_fetch):
    ws = await jp_ws_fetch("api", "events", "subscribe")
    (jp_root_dir / "p").mkdir()
    _, space = await api("POST", body={"path": "p"})
    sid = space["id"]
    await next_event(ws, action="space_created", space_id=sid)
    _, pane = await api(
        "POST", sid, "panes", body={"kind": "command", "argv": ["sh", "-c", "read x; exit 3"]}
    )
    await next_event(ws, action="pane_created", space_id=sid, pane_id=pane["id"])
    await api("PATCH", sid, "panes", pane["id"], body={"title": "reader"})
    await next_event(ws, action="pane_updated", pane_id=pane["id"])
    await api("POST", sid, "panes", pane["id"], "input", body={"text": "go\r"})
    # Nobody watches the pane: its exit is still noticed and announced, with the status.
    event = await next_event(ws, action="pane_state", pane_id=pane["id"], state="exited")
    assert event["exit_code"] == 3
    await api("PATCH", sid, body={"name": "renamed"})
    await next_event(ws, action="space_updated", space_id=sid)
    await api("DELETE", sid, "panes", pane["id"])
    await next_event(ws, action="pane_deleted", pane_id=pane["id"])
    await api("DELETE", sid)
    await next_event(ws, action="space_deleted", space_id=sid)
