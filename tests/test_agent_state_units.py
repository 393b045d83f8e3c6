"""The pieces of agent state on their own: the hook program's mappings, the option's format,
the history's sums, the transcript readers, and the flags each CLI is given."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_spaces.agent_state import model, report, turns
from jupyter_spaces.agent_state.history import StateHistory
from jupyter_spaces.agent_state.instrument import REPORTER, Reporter, gemini_settings, with_hooks
from jupyter_spaces.agent_state.model import AgentState, parse, parse_trail, trail_value
from jupyter_spaces.host.tmux import AGENT_STATE_OPTION


def test_the_hook_program_names_what_the_server_reads() -> None:
    assert (report.OPTION, report.CHANNEL, report.TRAIL) == (
        model.OPTION,
        model.CHANNEL,
        model.TRAIL,
    )
    assert model.OPTION == AGENT_STATE_OPTION


@pytest.mark.parametrize(
    "event, expected",
    [
        ({"hook_event_name": "SessionStart", "source": "startup"}, ("idle", None)),
        ({"hook_event_name": "SessionStart", "source": "compact"}, None),
        ({"hook_event_name": "UserPromptSubmit", "prompt": "hi"}, ("working", None)),
        ({"hook_event_name": "PreToolUse", "tool_name": "Bash"}, ("working", None)),
        (
            {"hook_event_name": "PreToolUse", "tool_name": "AskUserQuestion"},
            ("needs_input", "question"),
        ),
        ({"hook_event_name": "PermissionRequest"}, ("needs_input", "permission")),
        (
            {"hook_event_name": "PermissionRequest", "agent_id": "sub1"},
            ("needs_input", "permission"),
        ),
        ({"hook_event_name": "PreToolUse", "tool_name": "Bash", "agent_id": "sub1"}, None),
        (
            {"hook_event_name": "Notification", "notification_type": "permission_prompt"},
            ("needs_input", "permission"),
        ),
        ({"hook_event_name": "Notification", "notification_type": "auth_success"}, None),
        (
            {"hook_event_name": "Notification", "message": "Claude needs your permission to use X"},
            ("needs_input", "permission"),
        ),
        (
            {"hook_event_name": "Notification", "message": "Claude is waiting for your input"},
            ("idle", "idle_prompt"),
        ),
        ({"hook_event_name": "Stop"}, ("idle", None)),
        ({"hook_event_name": "StopFailure", "error": "x"}, ("idle", "error")),
        ({"hook_event_name": "SessionEnd", "reason": "clear"}, None),
        ({"hook_event_name": "SessionEnd", "reason": "logout"}, ("exited", None)),
        ({"hook_event_name": "Unknown"}, None),
        ({"hook_event_name": 5}, None),
        ({}, None),
    ],
)
def test_claude_events(event: dict, expected: tuple | None) -> None:
    assert report.claude_state(event) == expected


def test_gemini_and_codex_events() -> None:
    assert report.gemini_state({"hook_event_name": "BeforeAgent"}) == ("working", None)
    assert report.gemini_state({"hook_event_name": "AfterAgent"}) == ("idle", None)
    assert report.gemini_state(
        {"hook_event_name": "Notification", "notification_type": "ToolPermission"}
    ) == ("needs_input", "permission")
    assert report.gemini_state({"hook_event_name": "SessionEnd", "reason": "clear"}) is None
    assert report.codex_state({"type": "agent-turn-complete"}) == ("idle", None)
    assert report.codex_state({"type": "something-else"}) is None
    assert report.state_of("codex", ['{"type": "agent-turn-complete"}'], "") == ("idle", None)
    assert report.state_of("exited", [], "") == ("exited", None)
    for junk in ("", "not json", "[1, 2]", '"a string"', "{"):
        assert report.state_of("claude", [], junk) is None


def test_the_hook_program_never_fails_nor_prints(tmp_path: Path) -> None:
    """Whatever it is given, it exits 0 and prints nothing (a hook's output reaches the
    model; a failing hook shows errors to the user)."""
    cases = [
        ([], ""),
        (["tmux", "/nonexistent.sock", "jsp_a_b", "claude"], '{"hook_event_name": "Stop"}'),
        (["tmux", "/nonexistent.sock", "not a session", "claude"], "{}"),
        (["/no/such/tmux", str(tmp_path / "s"), "jsp_a_b", "claude"], '{"hook_event_name":"Stop"}'),
        (["tmux", "x", "jsp_a_b", "claude"], "\xff\xfe garbage"),
    ]
    for args, stdin in cases:
        done = subprocess.run(
            [sys.executable, "-I", "-S", str(REPORTER), *args],
            input=stdin.encode("utf-8", "surrogateescape"),
            capture_output=True,
            timeout=30,
        )
        assert (done.returncode, done.stdout, done.stderr) == (0, b"", b""), (args, done)


def test_option_values() -> None:
    s = AgentState("needs_input", 1764331234.5, "hooks", "permission")
    assert parse(s.option_value()) == s
    assert parse("") is None
    trail = [AgentState("idle", 1.0, "hooks"), s]
    assert parse_trail(trail_value(trail)) == trail
    assert trail_value([AgentState("idle", float(i), "hooks") for i in range(20)]).count("|") == 7
    for bad in (
        "idle",
        "idle 1 hooks",
        "sleeping 1 hooks -",
        "idle 1 ghosts -",
        "idle -1 hooks -",
        "idle 1e9 hooks -",
        "idle 1 hooks Perm",
        "idle 1 hooks " + "a" * 40,
        "idle  1 hooks -",
        "!idle 1 hooks -",
    ):
        with pytest.raises(ValueError):
            parse_trail(bad)
    with pytest.raises(ValueError):
        parse_trail("|".join(["idle 1 hooks -"] * 33))


def test_history_sums_time_per_state(tmp_path: Path) -> None:
    h = StateHistory(tmp_path / "states.sqlite")
    day = 86400.0 * 20000  # a midnight, UTC
    h.change("s1", "p1", "claude", "c1", AgentState("starting", day + 0, "heuristic"))
    h.change("s1", "p1", "claude", "c1", AgentState("idle", day + 10, "hooks"))
    h.change("s1", "p1", "claude", "c1", AgentState("working", day + 70, "hooks"))
    h.change("s1", "p1", "claude", "c1", AgentState("needs_input", day + 100, "hooks"))
    h.change("s2", "p9", "codex", "x1", AgentState("working", day + 50, "transcript"))
    h.end("s2", "p9", day + 80)
    got = h.seconds_per_state("space", day, day + 200, now=day + 130)
    assert got == [
        {"key": "s1", "state": "idle", "seconds": 60.0},
        {"key": "s1", "state": "needs_input", "seconds": 30.0},
        {"key": "s1", "state": "starting", "seconds": 10.0},
        {"key": "s1", "state": "working", "seconds": 30.0},
        {"key": "s2", "state": "working", "seconds": 30.0},
    ]
    window = h.seconds_per_state("session", day + 60, day + 90, now=day + 130)
    assert {(r["key"], r["state"]): r["seconds"] for r in window} == {
        ("claude:c1", "idle"): 10.0,
        ("claude:c1", "working"): 20.0,
        ("codex:x1", "working"): 20.0,
    }
    by_day = h.seconds_per_state("day", day, day + 200, now=day + 130)
    assert {r["key"] for r in by_day} == {"2024-10-04"}
    assert [s["state"] for s in h.timeline("s1", "p1", day + 65)] == [
        "idle",
        "working",
        "needs_input",
    ]
    assert set(h.open_intervals()) == {("s1", "p1")}
    with pytest.raises(ValueError):
        h.seconds_per_state("week", 0, 1, 1)
    h.close()
    # Kept across restarts.
    again = StateHistory(tmp_path / "states.sqlite")
    assert again.open_intervals()[("s1", "p1")].state == "needs_input"
    again.close()


def _jsonl(path: Path, records: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def test_transcript_readers(tmp_path: Path) -> None:
    t = "2026-11-28T10:00:00.000Z"
    prompt = {"type": "user", "timestamp": t, "message": {"role": "user", "content": "hi"}}
    tool = {
        "type": "assistant",
        "timestamp": t,
        "message": {"content": [{"type": "tool_use", "id": "t", "name": "Bash"}]},
    }
    end = {
        "type": "assistant",
        "timestamp": t,
        "message": {"content": [{"type": "text", "text": "done"}], "stop_reason": "end_turn"},
    }
    stop = {
        "type": "user",
        "timestamp": t,
        "message": {"content": [{"type": "text", "text": "[Request interrupted by user]"}]},
    }
    claude = tmp_path / "c.jsonl"
    assert turns.transcript_state("claude", _jsonl(claude, [prompt]))[0] == "working"
    assert turns.transcript_state("claude", _jsonl(claude, [prompt, tool]))[0] == "working"
    assert turns.transcript_state("claude", _jsonl(claude, [prompt, end]))[0] == "idle"
    got = turns.transcript_state("claude", _jsonl(claude, [prompt, tool, stop]))
    assert got is not None and (got[0], got[2]) == ("idle", "interrupted")
    # A last line still being written is not read.
    claude.write_text(json.dumps(prompt) + "\n" + json.dumps(end)[:30])
    assert turns.transcript_state("claude", str(claude))[0] == "working"

    meta = {"timestamp": t, "type": "session_meta", "payload": {"id": "x"}}
    started = {"timestamp": t, "type": "event_msg", "payload": {"type": "task_started"}}
    complete = {"timestamp": t, "type": "event_msg", "payload": {"type": "task_complete"}}
    codex = tmp_path / "r.jsonl"
    assert turns.transcript_state("codex", _jsonl(codex, [meta]))[0] == "idle"
    assert turns.transcript_state("codex", _jsonl(codex, [meta, started]))[0] == "working"
    assert turns.transcript_state("codex", _jsonl(codex, [meta, started, complete]))[0] == "idle"

    g = tmp_path / "g.jsonl"
    head = {"sessionId": "s", "startTime": t}
    user = {"type": "user", "timestamp": t, "content": [{"text": "hi"}]}
    pending = {"type": "gemini", "timestamp": t, "toolCalls": [{"status": "executing"}]}
    answer = {"type": "gemini", "timestamp": t, "content": "ok"}
    assert turns.transcript_state("gemini", _jsonl(g, [head]))[0] == "idle"
    assert turns.transcript_state("gemini", _jsonl(g, [head, user, pending]))[0] == "working"
    assert turns.transcript_state("gemini", _jsonl(g, [head, user, answer]))[0] == "idle"
    assert turns.transcript_state("gemini", str(tmp_path / "missing")) is None
    assert turns.transcript_state("custom", str(g)) is None


def test_flags_for_each_cli(tmp_path: Path) -> None:
    r = Reporter("/usr/bin/tmux", tmp_path / "tmux.sock", "jsp_a_b")
    claude = with_hooks("claude", ["claude", "--resume", "x"], r.argv())
    assert claude[0] == "claude" and claude[1] == "--settings" and claude[3:] == ["--resume", "x"]
    hooks = json.loads(claude[2])["hooks"]
    assert {"UserPromptSubmit", "PermissionRequest", "Stop", "SessionEnd"} <= set(hooks)
    assert hooks["Stop"][0]["hooks"][0]["command"].endswith("jsp_a_b claude")
    codex = with_hooks("codex", ["codex", "resume", "x"], r.argv())
    assert codex[1] == "-c" and codex[2].startswith("notify=[") and codex[3:] == ["resume", "x"]
    assert json.loads(codex[2][len("notify=") :])[-1] == "codex"
    assert with_hooks("custom", ["my-agent"], r.argv()) == ["my-agent"]
    assert with_hooks("gemini", ["gemini"], r.argv()) == ["gemini"]


def test_gemini_settings_keep_the_machines_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = tmp_path / "system.json"
    theirs = {"type": "command", "command": "echo theirs"}
    system.write_text(
        json.dumps({"general": {"x": 1}, "hooks": {"AfterAgent": [{"hooks": [theirs]}]}})
    )
    monkeypatch.setattr("jupyter_spaces.agent_state.instrument.GEMINI_SYSTEM_SETTINGS", system)
    r = Reporter("/usr/bin/tmux", tmp_path / "tmux.sock", "jsp_a_b")
    path = gemini_settings(tmp_path / "agents" / "jsp_a_b.gemini.json", r)
    got = json.loads(path.read_text())
    assert got["general"] == {"x": 1}
    after = got["hooks"]["AfterAgent"]
    assert after[0]["hooks"] == [theirs] and after[1]["hooks"][0]["command"].endswith("gemini")
    assert path.stat().st_mode & 0o777 == 0o600
