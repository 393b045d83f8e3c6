"""Scheduled and agent_ended snapshots from a real server subprocess with real tmux: with a
short schedule a space with activity gets snapshots and an idle one none; a space's own
schedule overrides the server's; an agent exiting in its pane, or an agent pane closed, leaves
an agent_ended snapshot that holds the conversation."""

from __future__ import annotations

import time

from . import test_cold_restore as cold
from .conftest import needs_tmux
from .server_process import ServerProcess
from .test_server_restart import wait

pytestmark = needs_tmux
machine = cold.machine


def listed(srv: ServerProcess, sid: str) -> list[dict]:
    code, got = srv.request("GET", f"/api/spaces/{sid}/snapshots")
    assert code == 200, got
    return list(got["snapshots"])


def scheduled(srv: ServerProcess, sid: str) -> int:
    return sum(1 for s in listed(srv, sid) if s["reason"] == "scheduled")


def test_an_active_space_gets_scheduled_snapshots_and_an_idle_one_none(machine, tmp_path):
    root, sock, agents = machine
    for name in ("busy", "idle"):
        (root / name).mkdir()
    srv = ServerProcess(
        root,
        sock,
        tmp_path / "data",
        env=cold.environ(agents),
        poll_interval=0.3,
        snapshot_schedule="1s",
        snapshot_keep_last=1000,
    ).start()
    try:
        _, busy = srv.request("POST", "/api/spaces", {"path": "busy"})
        _, idle = srv.request("POST", "/api/spaces", {"path": "idle"})
        srv.request(
            "POST",
            f"/api/spaces/{busy['id']}/panes",
            {"kind": "command", "argv": ["sh", "-c", "while :; do date; sleep 0.3; done"]},
        )
        srv.request("POST", f"/api/spaces/{idle['id']}/panes", {"kind": "command", "argv": ["cat"]})
        # Creating a space and its pane is activity: each may get one snapshot for it. Then the
        # idle one prints nothing and nobody types into it.
        wait(lambda: scheduled(srv, busy["id"]) >= 1)
        time.sleep(2.5)
        idle_before = [s["id"] for s in listed(srv, idle["id"])]
        busy_before = scheduled(srv, busy["id"])
        time.sleep(4)
        assert [s["id"] for s in listed(srv, idle["id"])] == idle_before
        assert scheduled(srv, busy["id"]) >= busy_before + 2
        newest = listed(srv, busy["id"])[0]
        assert newest["reason"] == "scheduled" and newest["panes"][0]["screen_bytes"] > 0
        # The space's own schedule wins: off, and the busy space gets no more.
        code, got = srv.request(
            "PATCH", f"/api/spaces/{busy['id']}/snapshots/settings", {"schedule": "off"}
        )
        assert code == 200 and got["effective"]["schedule"] == "off"
        time.sleep(1.5)  # a snapshot already under way may still land
        stopped = scheduled(srv, busy["id"])
        time.sleep(3)
        assert scheduled(srv, busy["id"]) == stopped
    finally:
        srv.stop()


def test_an_agent_ending_leaves_an_agent_ended_snapshot(machine, tmp_path):
    root, sock, agents = machine
    (root / "proj").mkdir()
    srv = cold.server(root, sock, agents, tmp_path / "data")
    try:
        _, space = srv.request("POST", "/api/spaces", {"path": "proj"})
        sid = space["id"]
        _, agent = srv.request(
            "POST", f"/api/spaces/{sid}/panes", {"kind": "agent", "agent": "claude"}
        )
        wait(lambda: agents.calls("claude"))
        cold.type_in(srv, sid, agent["id"], "hello agent\r")
        wait(lambda: "reply to hello agent" in cold.screen(srv, sid, agent["id"]))
        time.sleep(1.0)  # the server has seen the agent run (it looks every poll_interval)
        cold.type_in(srv, sid, agent["id"], "exit\r")  # the agent quits; its shell stays
        snap = wait(
            lambda: next((s for s in listed(srv, sid) if s["reason"] == "agent_ended"), None)
        )
        pane = next(p for p in snap["panes"] if p["id"] == agent["id"])
        assert pane["transcript"] is True and pane["session_id"] == agent["session_id"]
        _, now = srv.request("GET", f"/api/spaces/{sid}/panes/{agent['id']}")
        assert now["state"] == "running", "the pane's shell took over"

        # Closing an agent pane ends its session too: the snapshot still has the pane.
        _, second = srv.request(
            "POST", f"/api/spaces/{sid}/panes", {"kind": "agent", "agent": "claude"}
        )
        wait(lambda: len(agents.calls("claude")) >= 2)
        cold.type_in(srv, sid, second["id"], "second one\r")
        wait(lambda: "reply to second one" in cold.screen(srv, sid, second["id"]))
        code, _ = srv.request("DELETE", f"/api/spaces/{sid}/panes/{second['id']}")
        assert code == 204
        ended = wait(
            lambda: [
                s
                for s in listed(srv, sid)
                if s["reason"] == "agent_ended" and any(p["id"] == second["id"] for p in s["panes"])
            ]
        )
        pane = next(p for p in ended[0]["panes"] if p["id"] == second["id"])
        assert pane["transcript"] is True
    finally:
        srv.stop()
