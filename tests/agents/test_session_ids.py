"""``valid_session_id``: what may be taken for a session id of each CLI (and of custom agents)."""

from __future__ import annotations

import pytest

from jupyter_spaces.agents import valid_session_id

UUID = "3f0c9a52-7d1e-4b8a-9c55-1e2f3a4b5c6d"


@pytest.mark.parametrize("agent", ["claude", "codex", "gemini"])
def test_cli_ids_are_uuids(agent: str) -> None:
    assert valid_session_id(agent, UUID)
    assert valid_session_id(agent, UUID.upper())
    assert valid_session_id(agent, "0199a9d9-0000-7000-8000-000000000000")  # UUIDv7 (Codex)
    for bad in [
        "",
        UUID + "\x00",
        UUID + "\n",
        "../" + UUID,
        "-" + UUID,
        UUID[:-1],
        "abc",
        None,
        7,
    ]:
        assert not valid_session_id(agent, bad), bad


def test_custom_agent_ids() -> None:
    for good in ["a", "ses_01HX", "run:2026-05-04.1", "x" * 128, UUID]:
        assert valid_session_id("aider", good), good
    for bad in ["", "-rf", "--help", "x" * 129, "a/b", "..", ".", "a\x00", "a b", "é", "$(id)"]:
        assert not valid_session_id("aider", bad), bad
