"""Permission to edit is not permission to run: with an authorizer that grants read and write on
``spaces`` but not execute, nothing that starts a process or types into one gets through (as
jupyter-server asks execute for kernels and terminals), and editing still works."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth.authorizer import Authorizer
from tornado.httpclient import HTTPClientError

from .conftest import needs_tmux

pytestmark = needs_tmux


class WriteNoExecute(Authorizer):
    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return not (resource == "spaces" and action == "execute")


@pytest.fixture
def jp_server_config(jp_server_config):  # type: ignore[no-untyped-def]
    return {
        **jp_server_config,
        "ServerApp": {**jp_server_config["ServerApp"], "authorizer_class": WriteNoExecute},
    }


# Every route that starts a process or types into one, with a body that would otherwise do it.
RUNS = [
    ("POST", "{space}/panes", {"kind": "command", "argv": ["touch", "ran"]}),
    ("POST", "{space}/panes", {"kind": "shell"}),
    ("POST", "{space}/panes", {"kind": "agent", "agent": "custom", "argv": ["touch", "ran"]}),
    ("POST", "{space}/panes/abcd1234/input", {"text": "touch ran\r"}),
    ("POST", "{space}/panes/abcd1234/restart", {}),
    ("POST", "{space}/trust", {"plan_sha256": "0" * 64}),
    ("POST", "{space}/snapshots/20260101-120000-abcd/restore", {"stop_running": True}),
    ("POST", "sessions/claude/0b0e4c1e-3d7c-4a51-9a56-1f1a1f1a1f1a/resume", {}),
    ("PATCH", "{space}/panes/abcd1234", {"autorestart": True}),
]


async def test_running_needs_execute_and_editing_does_not(
    jp_fetch, jp_ws_fetch, jp_root_dir: Path, tmux_dir: Path
):
    async def call(method: str, path: str, body: Any) -> tuple[int, Any]:
        try:
            data = None if body is None else json.dumps(body)
            parts = [p for p in path.split("/") if p]
            r = await jp_fetch("api", "spaces", *parts, method=method, body=data)
        except HTTPClientError as e:
            assert e.response is not None
            return e.code, json.loads(e.response.body or b"null")
        return r.code, json.loads(r.body) if r.body else None

    (jp_root_dir / "proj").mkdir()
    code, space = await call("POST", "", {"path": "proj"})
    assert code == 201, space  # creating a space writes a file and runs nothing
    sid = space["id"]
    for method, path, body in RUNS:
        code, reply = await call(method, path.format(space=sid), body)
        assert code == 403, (method, path, code, reply)
    with pytest.raises(HTTPClientError) as e:
        await jp_ws_fetch("api", "spaces", sid, "panes", "abcd1234", "channel")
    assert e.value.code == 403
    # Editing is still allowed, and nothing ran.
    code, renamed = await call("PATCH", sid, {"name": "renamed"})
    assert code == 200 and renamed["name"] == "renamed"
    code, plan = await call("GET", f"{sid}/plan", None)
    assert code == 200 and plan["plans"] == []
    assert not (jp_root_dir / "proj" / "ran").exists()
    sock = tmux_dir / "s" / "tmux.sock"
    live = subprocess.run(["tmux", "-S", str(sock), "ls"], capture_output=True, text=True)
    assert live.stdout == ""
