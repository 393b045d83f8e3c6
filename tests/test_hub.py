"""jupyter-spaces under a real JupyterHub (LocalProcessSpawner, real OS users, the npm proxy, all
on 127.0.0.1): each user's panes and tmux server run as that user, behind a 0700 socket folder
they own; another user, and the hub's own admin service, get nothing of them; and the activity
the hub sees follows ``activity_policy`` and ``max_keepalive_hours``.

Every request goes through the hub's proxy with the user's own token, as their browser's would.
The module's fixture stops every server, the hub and its proxy, and removes the users it made,
also when a test fails. Skipped, saying why, where users cannot be created (not root) or the
hub's tools are missing (scripts/ensure-hub.sh installs them).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from . import leftovers
from .agents.fixtures import c_user, claude_project, write_lines
from .hubs import Hub, User, create_user, missing, remove_user

WHY = missing()
pytestmark = [
    pytest.mark.skipif(WHY is not None, reason=WHY or ""),
    pytest.mark.timeout(400),
]

# alice's panes keep her server alive for 20 s after her own last activity, then no longer.
KEEPALIVE_S = 20.0
TICKER = ["sh", "-c", "while true; do echo tick; sleep 1; done"]


@pytest.fixture(scope="module")
def hub() -> Iterator[tuple[Hub, User, User]]:
    users: list[User] = []
    hub: Hub | None = None
    try:
        alice, bob = create_user("jspa"), create_user("jspb")
        users += [alice, bob]
        for user, words in ((alice, "the zebra of alice"), (bob, "the okapi of bob")):
            project = user.home / "proj"
            project.mkdir()
            sid = str(uuid.uuid4())
            claude = user.home / ".claude"
            write_lines(
                claude_project(claude, str(project)) / f"{sid}.jsonl",
                [c_user(sid, words, 0, cwd=str(project))],
            )
            user.chown(project)
            user.chown(claude)
        hub = Hub(
            users,
            per_user={alice.name: {"max_keepalive_hours": KEEPALIVE_S / 3600}},
        ).start()
        hub.spawn(alice.name)
        hub.spawn(bob.name)
        yield hub, alice, bob
    finally:
        try:
            if hub is not None:
                hub.stop()
        finally:
            for user in users:
                remove_user(user)


def _space(hub: Hub, user: User) -> str:
    code, spaces = hub.user_api(user, "GET", "/api/spaces")
    assert code == 200, spaces
    for space in spaces["spaces"]:
        if space["path"] == "proj":
            return str(space["id"])
    code, space = hub.user_api(user, "POST", "/api/spaces", {"path": "proj"})
    assert code == 201, space
    return str(space["id"])


def _pane(hub: Hub, user: User, sid: str, body: dict[str, Any]) -> dict[str, Any]:
    code, pane = hub.user_api(user, "POST", f"/api/spaces/{sid}/panes", body)
    assert code == 201, pane
    return dict(pane)


def _uid_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^Uid:\s+(\d+)\s+(\d+)", status, re.M)
    assert match, status
    assert match.group(1) == match.group(2)  # real and effective
    return int(match.group(1))


def _wait(check: Any, timeout: float = 20, interval: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s; last value: {last!r}")


def _screen(hub: Hub, user: User, sid: str, pid: str) -> str:
    code, screen = hub.user_api(user, "GET", f"/api/spaces/{sid}/panes/{pid}/screen")
    assert code == 200, screen
    return str(screen["text"])


def test_each_users_panes_and_tmux_server_run_as_that_user(hub: tuple[Hub, User, User]) -> None:
    h, alice, bob = hub
    for user in (alice, bob):
        sid = _space(h, user)
        pane = _pane(h, user, sid, {"kind": "shell"})
        assert _uid_of(pane["pid"]) == user.uid
        code, _ = h.user_api(
            user, "POST", f"/api/spaces/{sid}/panes/{pane['id']}/input", {"text": "id -u\r"}
        )
        assert code == 204 or code == 200
        _wait(lambda u=user, s=sid, p=pane["id"]: f"\n{u.uid}" in _screen(h, u, s, p))
        # The tmux server behind the user's socket, and every process in it.
        sock = user.socket_dir / "tmux.sock"
        from jupyter_spaces.host.clients import socket_server_pid

        server = socket_server_pid(sock)
        assert server is not None and _uid_of(server) == user.uid
        st = user.socket_dir.stat()
        assert (st.st_uid, st.st_mode & 0o777) == (user.uid, 0o700)
        assert sock.stat().st_uid == user.uid
    # Each server said who it runs for, and found nothing wrong with it (the hub's log holds
    # the single-user servers' output).
    log = h.log.read_text(errors="replace")
    for user in (alice, bob):
        assert f"jupyter-spaces: JupyterHub user {user.name!r}, uid {user.uid}" in log
    assert "runs as root" not in log and "panes would run as uid" not in log


def test_another_user_and_the_admin_service_get_nothing(hub: tuple[Hub, User, User]) -> None:
    h, alice, bob = hub
    sid = _space(h, alice)
    pane = _pane(h, alice, sid, {"kind": "shell"})
    base = f"/api/spaces/{sid}"
    pane_path = f"{base}/panes/{pane['id']}"
    admin = User("service", 0, 0, Path("/"), token=h.service_token)
    for intruder in (bob, admin):
        for method, path, body in (
            ("GET", "/api/spaces", None),
            ("GET", base, None),
            ("GET", f"{pane_path}/screen", None),
            ("POST", f"{pane_path}/input", {"text": "touch /tmp/owned\r"}),
            ("POST", f"{base}/panes", {"kind": "shell"}),
            ("GET", "/api/spaces/sessions", None),
        ):
            code, body_ = h.user_api(alice, method, path, body, as_user=intruder)
            assert code in (403, 404), (intruder.name, method, path, code, body_)
        # The pane channel: refused at the handshake.
        url = f"ws://127.0.0.1:{h.port}/user/{alice.name}{pane_path}/channel"
        with pytest.raises(InvalidStatus) as refused:
            connect(url, additional_headers={"Authorization": f"token {intruder.token}"})
        assert refused.value.response.status_code in (403, 404)
    assert not Path("/tmp/owned").exists()
    # alice herself gets her channel through the same proxy (the refusals were not a fault).
    with connect(url, additional_headers={"Authorization": f"token {alice.token}"}) as ws:
        assert '"setup"' in str(ws.recv(timeout=20))

    # bob cannot reach alice's tmux socket as his own uid, not even to look at it.
    sock = alice.socket_dir / "tmux.sock"
    out = bob.run(["tmux", "-S", str(sock), "list-sessions"])
    assert out.returncode != 0 and "ermission denied" in out.stderr, out
    out = bob.run(["ls", str(alice.socket_dir)])
    assert out.returncode != 0
    # ...nor start a space in alice's folders from his own server.
    for path in (f"../{alice.name}/proj", str(alice.home / "proj")):
        code, body = h.user_api(bob, "POST", "/api/spaces", {"path": path})
        assert 400 <= code < 500, (path, code, body)


def test_each_users_session_list_holds_only_their_own(hub: tuple[Hub, User, User]) -> None:
    h, alice, bob = hub

    def titles(user: User) -> list[str] | None:
        code, body = h.user_api(user, "GET", "/api/spaces/sessions")
        assert code == 200, body
        found = [s["title"] for s in body["sessions"]]
        return found or None

    assert _wait(lambda: titles(alice)) == ["the zebra of alice"]
    assert _wait(lambda: titles(bob)) == ["the okapi of bob"]


def _running(h: Hub, user: User) -> dict[str, Any] | None:
    """The user's server as the hub has it, or None once stopped or stopping (culled)."""
    server = h.server(user.name)
    if server is None or not server.get("ready") or server.get("pending"):
        return None
    return server


def _at(server: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(server["last_activity"]).replace("Z", "+00:00"))


def test_the_culler_stops_chatty_commands_not_working_agents_until_the_keepalive(
    hub: tuple[Hub, User, User], tmp_path: Path
) -> None:
    """Default policy ``agents``, jupyterhub-idle-culler with an 8 s timeout: bob, whose only
    pane is a command printing every second (a dev server's log), is culled, and the activity
    the hub had of him never moved after his last request; alice, whose agent pane works (a
    custom agent that prints, so 'working'), is not culled while her keep-alive lasts (20 s
    after her last request), and is culled after it though her agent still works. Runs last:
    it ends both servers."""
    h, alice, bob = hub
    bob_sid = _space(h, bob)
    bob_pane = _pane(h, bob, bob_sid, {"kind": "command", "argv": TICKER})
    bob_done = datetime.now(timezone.utc)
    alice_sid = _space(h, alice)
    agent = _pane(h, alice, alice_sid, {"kind": "agent", "agent": "custom", "argv": TICKER})
    alice_done = datetime.now(timezone.utc)
    limit = alice_done + timedelta(seconds=KEEPALIVE_S)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "JUPYTERHUB_API_TOKEN": h.service_token,
        leftovers.MARK: os.environ.get(leftovers.MARK, ""),
    }
    argv = [sys.executable, "-m", "jupyterhub_idle_culler", f"--url={h.url}/hub/api"]
    argv += ["--timeout=8", "--cull-every=1"]
    log_path = tmp_path / "culler.log"
    with log_path.open("wb") as log:
        culler = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    seen: dict[str, list[datetime]] = {alice.name: [], bob.name: []}
    culled: dict[str, datetime] = {}
    bob_ticks: int | None = None
    alice_state: str | None = None
    pane_path = f"/api/spaces/{alice_sid}/panes/{agent['id']}"
    try:
        deadline = time.monotonic() + KEEPALIVE_S + 40
        while time.monotonic() < deadline and alice.name not in culled:
            now = datetime.now(timezone.utc)
            for user in (alice, bob):
                if user.name in culled:
                    continue
                server = _running(h, user)
                if server is None:
                    culled[user.name] = now
                else:
                    seen[user.name].append(_at(server))
            if bob.name not in culled:  # a read: it must not count as activity either
                bob_ticks = _screen(h, bob, bob_sid, bob_pane["id"]).count("tick")
            if alice.name not in culled and now > limit:
                code, pane = h.user_api(alice, "GET", pane_path)
                if code == 200:
                    alice_state = pane["agent_state"]
            time.sleep(1)
    finally:
        culler.terminate()
        culler.wait(10)
    log_text = log_path.read_text(errors="replace")[-3000:]

    # bob: his command printed all along, yet the hub's activity of him never moved after his
    # last request, and the culler stopped him while alice's agent kept her.
    assert bob_ticks is not None and bob_ticks > 3
    assert seen[bob.name] and max(seen[bob.name]) <= bob_done + timedelta(seconds=1), seen
    assert bob.name in culled, log_text
    assert culled[bob.name] < limit, (culled, limit)
    # alice: active well past her last request, never past the keep-alive; culled after it,
    # with her agent still working (the keep-alive ended, not the work).
    assert max(seen[alice.name]) > alice_done + timedelta(seconds=KEEPALIVE_S / 2), seen
    assert max(seen[alice.name]) <= limit + timedelta(seconds=1), (seen, limit)
    assert alice.name in culled, log_text
    assert culled[alice.name] > limit, (culled, limit)
    assert alice_state == "working"
