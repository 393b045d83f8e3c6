"""GET /api/spaces/usage against a real server: rows by time, session and space, sub-agents in
their session, price overrides from the settings, and a 400 with the reason for every bad
parameter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .agent_env import AgentEnv, agent_env  # noqa: F401 - fixture
from .agents.fixtures import c_assistant, c_user, claude_project, text, write_lines
from .conftest import needs_tmux, wait_for
from .test_usage_report import BAD_PARAMETERS

pytestmark = needs_tmux

A = "5b1c9d3e-1111-4a2b-8c3d-aaaaaaaaaaaa"
U = {"input_tokens": 1000, "output_tokens": 100, "cache_read_input_tokens": 5000}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    jp_server_config["SpacesApp"]["usage_price_overrides"] = {
        "house-model": {"input": 1.0, "output": 2.0, "cache_read": 0.5}
    }
    return jp_server_config


def corpus(env: AgentEnv, root: Path) -> None:
    cwd = str(root / "proj")
    proj = claude_project(env.claude, cwd)
    write_lines(
        proj / f"{A}.jsonl",
        [
            c_user(A, "count", 0, cwd=cwd),
            c_assistant(A, "m1", text("a"), 1, cwd=cwd, usage=U),
            c_assistant(A, "m2", text("b"), 2, cwd=cwd, usage=U, model="house-model"),
        ],
    )
    side = {"isSidechain": True, "agentId": "ab12"}
    write_lines(
        proj / A / "subagents" / "agent-ab12.jsonl",
        [
            c_assistant(A, "m1", text("a"), 1, cwd=cwd, usage=U, request_id="r9", **side),
            c_assistant(A, "m3", text("c"), 3, cwd=cwd, usage=U, model="mystery-1", **side),
        ],
    )


async def test_usage_rows_and_overrides(agent_env, api, jp_root_dir):  # noqa: F811
    (jp_root_dir / "proj").mkdir()
    corpus(agent_env, jp_root_dir)
    _, space = await api("POST", body={"path": "proj"})

    async def indexed() -> Any:
        code, body = await api("GET", "usage", by="session")
        assert code == 200, body
        return body if body["rows"] else None

    body = await wait_for(indexed)
    [row] = body["rows"]
    assert (row["agent"], row["session_id"], row["space_id"]) == ("claude", A, space["id"])
    assert row["title"] == "count" and row["sessions"] == 1
    # m1 once (the sub-agent's replay is not counted), m2, and the sub-agent's own m3.
    assert row["tokens"] == {
        "input": 3000,
        "output": 300,
        "cache_read": 15000,
        "cache_creation": 0,
        "reasoning": 0,
    }
    assert row["cost_usd"] is None and row["unpriced_tokens"] == 6100  # mystery-1
    assert row["seconds"] == {"working": 0.0, "needs_input": 0.0, "idle": 0.0}

    code, body = await api("GET", "usage", by="model,day", tz="Europe/Berlin")
    assert code == 200
    by_model = {r["model"]: r for r in body["rows"]}
    assert set(by_model) == {"claude-sonnet-4-5", "house-model", "mystery-1"}
    assert by_model["house-model"]["day"] == "2026-03-02"
    assert by_model["house-model"]["cost_usd"] == pytest.approx((1000 + 200 + 2500) / 1e6)
    # Sonnet 4.5: 1000 x $3 + 100 x $15 + 5000 x $0.30 per MTok.
    assert by_model["claude-sonnet-4-5"]["cost_usd"] == pytest.approx(0.006)
    assert "seconds" not in by_model["house-model"]

    code, body = await api("GET", "usage", by="space", space=space["id"], agent="claude")
    assert code == 200 and [r["space"] for r in body["rows"]] == [space["id"]]
    code, body = await api("GET", "usage", by="day", since="2026-04-01")
    assert code == 200 and body["rows"] == []
    code, body = await api("GET", "usage", by="block", model="house-model")
    assert code == 200 and body["rows"][0]["block"] == "2026-03-02T09:00:00+00:00"

    # A sessions listing shows the same total, the sub-agent nested.
    code, one = await api("GET", "sessions", "claude", A)
    assert code == 200 and one["tokens_total"]["input"] == 3000
    assert [s["id"] for s in one["subagents"]] == ["ab12"]

    for args, reason in BAD_PARAMETERS:
        if "space" in args:
            args = {"space": "nope"}
        code, err = await api("GET", "usage", **args)
        assert code == 400, (args, err)
        assert reason in err["message"], (args, err)
