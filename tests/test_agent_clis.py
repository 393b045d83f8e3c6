"""GET /api/spaces says which agent CLIs panes can start (the front end's buttons and tiles)."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

from jupyter_spaces.agents.launch import agent_clis


def test_agent_clis_reports_what_is_on_the_path(tmp_path: Path) -> None:
    exe = tmp_path / "codex"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    clis = {c["agent"]: c for c in agent_clis({"PATH": str(tmp_path)})}
    assert set(clis) == {"claude", "codex", "gemini"}
    assert clis["codex"]["installed"] is True and clis["codex"]["path"] == str(exe)
    assert clis["claude"]["installed"] is False and clis["claude"]["path"] is None
    assert "npm install -g" in str(clis["claude"]["install_hint"])
    assert clis["gemini"]["name"] == "Gemini CLI"


async def test_listing_carries_the_agents(api, jp_root_dir: Path) -> None:
    # A listing alone leaves the server's teardown waiting (as for any test whose only request
    # is a GET): make a space first, as the other API tests do.
    (jp_root_dir / "proj").mkdir()
    code, _ = await api("POST", body={"path": "proj"})
    assert code == 201
    code, listing = await api("GET")
    assert code == 200
    by_agent = {a["agent"]: a for a in listing["agents"]}
    assert set(by_agent) == {"claude", "codex", "gemini"}
    for agent, cli in by_agent.items():
        assert cli["installed"] is (shutil.which(agent) is not None)
