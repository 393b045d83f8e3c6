"""Without tmux the extension still loads, says so in the API, and refuses durable panes with a
message that says how to install tmux."""

from __future__ import annotations

import pytest


@pytest.fixture
def jp_server_config(jp_server_config):  # type: ignore[no-untyped-def]
    spaces = {**jp_server_config["SpacesApp"], "tmux_command": "/nonexistent/tmux"}
    return {**jp_server_config, "SpacesApp": spaces}


async def test_without_tmux(api, jp_root_dir):
    code, listing = await api("GET")
    assert code == 200 and listing["host"]["durable"] is False and listing["host"]["tmux"] is None
    assert "apt-get install tmux" in listing["host"]["message"]
    (jp_root_dir / "p").mkdir()
    code, space = await api("POST", body={"path": "p"})
    assert code == 201, "spaces are files; they work without tmux"
    code, reply = await api("POST", space["id"], "panes", body={"kind": "shell"})
    assert code == 503 and "install" in reply["message"]
    _, again = await api("GET", space["id"])
    assert again["panes"] == [], "nothing was added"
