from __future__ import annotations

import json
from pathlib import Path

from jupyter_spaces.agents import SessionIndex
from jupyter_spaces.agents.claude import FORMAT

from .fixtures import (
    append,
    c_assistant,
    c_user,
    claude_project,
    line,
    text,
    tool_result,
    tool_use,
    write_lines,
)

SID = "3f0c9a52-7d1e-4b8a-9c55-1e2f3a4b5c6d"
SID2 = "9a9a9a9a-1111-4222-8333-444455556666"
CWD = "/home/alice/app"


def main_file(root: Path, sid: str = SID) -> Path:
    return claude_project(root, CWD) / f"{sid}.jsonl"


def test_metadata_first_prompt_and_title_precedence(tmp_path: Path) -> None:
    p = write_lines(
        main_file(tmp_path),
        [
            {"type": "summary", "summary": "Legacy summary", "leafUuid": "x"},
            c_user(SID, "<local-command-caveat>Caveat: ...</local-command-caveat>", 0, isMeta=True),
            c_user(SID, "<command-name>/model</command-name><command-args>opus</command-args>", 1),
            c_user(SID, "Summary of the earlier conversation", 2, isCompactSummary=True),
            c_user(SID, "[Request interrupted by user]", 3),
            c_user(SID, [text("Add a --dry-run\n  flag to deploy.sh")], 4),
            c_assistant(SID, "msg_1", text("Reading it."), 5),
            c_assistant(SID, "msg_2", text("Done."), 6, model="claude-opus-4-1"),
            c_user(SID, tool_result("#!/bin/sh"), 7),
            {"type": "ai-title", "aiTitle": "First AI title", "sessionId": SID},
            {"type": "ai-title", "aiTitle": "Dry-run flag for deploy", "sessionId": SID},
        ],
    )
    r = FORMAT.parse_file(str(p), None)
    s = r.sessions[SID]
    assert s.first_prompt == "Add a --dry-run flag to deploy.sh"
    assert (s.title, s.title_source) == ("Dry-run flag for deploy", "ai")
    assert s.cwd == CWD and s.git_branch == "main" and s.version == "2.1.50"
    assert s.models == ["claude-sonnet-4-5", "claude-opus-4-1"]
    assert s.message_count == 3  # one prompt, two responses; no tool results, harness, summary
    assert s.started is not None and s.last_activity is not None
    assert s.last_activity - s.started == 7
    kinds = [(m.kind, m.text) for m in r.messages]
    assert ("summary", "Summary of the earlier conversation") in kinds
    assert ("tool_result", "#!/bin/sh") in kinds
    assert not any("Caveat" in t for _, t in kinds)  # isMeta is injected context, not shown

    append(p, line({"type": "custom-title", "customTitle": "deploy dry-run", "sessionId": SID}))
    r2 = FORMAT.parse_file(str(p), r.state)
    assert r2.sessions[SID].title == "deploy dry-run"
    assert r2.messages == []


def test_title_falls_back_to_summary_prompt_and_slash_command(tmp_path: Path) -> None:
    p = write_lines(
        main_file(tmp_path),
        [
            c_user(SID, "<command-name>/init</command-name>\n<command-args></command-args>", 0),
        ],
    )
    s = FORMAT.parse_file(str(p), None).sessions[SID]
    assert (s.title, s.title_source, s.first_prompt) == ("/init", "command", None)
    p.write_text(
        line({"type": "summary", "summary": "Old title", "leafUuid": "u"})
        + line(c_user(SID, "hello", 1))
    )
    s = FORMAT.parse_file(str(p), None).sessions[SID]
    assert (s.title, s.title_source) == ("Old title", "summary")


def test_a_placeholder_on_the_last_line_does_not_undercount(tmp_path: Path) -> None:
    # The transcript ends inside a response whose latest block still carries a streaming
    # placeholder (the session is running, or was killed): the full usage seen earlier counts.
    full = {
        "input_tokens": 3,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 1000,
        "output_tokens": 600,
    }
    partial = {**full, "output_tokens": 12}
    p = write_lines(
        main_file(tmp_path),
        [
            c_user(SID, "go", 0),
            c_assistant(SID, "msg_A", {"type": "thinking", "thinking": "hm"}, 1, usage=full),
        ],
    )
    r = FORMAT.parse_file(str(p), None)
    append(p, line(c_assistant(SID, "msg_A", text("Let me look."), 2, usage=partial)))
    r2 = FORMAT.parse_file(str(p), r.state)
    t = r2.sessions[SID].tokens
    assert (t.output, t.total) == (600, 1703)
    assert r2.sessions[SID].message_count == 2
    # Once the real final usage arrives (larger), it counts.
    append(
        p, line(c_assistant(SID, "msg_A", text("Done."), 3, usage={**full, "output_tokens": 650}))
    )
    t3 = FORMAT.parse_file(str(p), r2.state).sessions[SID].tokens
    assert (t3.output, t3.total) == (650, 1753)


def test_content_block_repeats_count_usage_once(tmp_path: Path) -> None:
    u1 = {
        "input_tokens": 3,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 1000,
        "output_tokens": 1,
    }
    u_final = {**u1, "output_tokens": 40}
    p = write_lines(
        main_file(tmp_path),
        [
            c_user(SID, "go", 0),
            c_assistant(SID, "msg_A", {"type": "thinking", "thinking": "hm"}, 1, usage=u1),
            c_assistant(SID, "msg_A", text("Let me look."), 2, usage=u1),
            c_assistant(SID, "msg_A", tool_use("Read", {"file_path": "/a"}), 3, usage=u_final),
            c_user(SID, tool_result("x"), 4),
            c_assistant(SID, "msg_B", text("ok"), 5, usage={"input_tokens": 1, "output_tokens": 2}),
        ],
    )
    r = FORMAT.parse_file(str(p), None)
    t = r.sessions[SID].tokens
    # msg_A counted once with its last line's usage; msg_B once.
    assert (t.input, t.output, t.cache_creation, t.cache_read) == (4, 42, 100, 1000)
    assert t.total == 4 + 42 + 100 + 1000
    assert r.sessions[SID].message_count == 3

    # The next block of msg_B arrives in a later append: still one response.
    append(
        p,
        line(
            c_assistant(
                SID,
                "msg_B",
                tool_use("Bash", {"command": "ls"}),
                6,
                usage={"input_tokens": 1, "output_tokens": 9},
            )
        ),
    )
    r2 = FORMAT.parse_file(str(p), r.state)
    t2 = r2.sessions[SID].tokens
    assert (t2.input, t2.output) == (4, 49)
    assert r2.sessions[SID].message_count == 3


def test_partial_last_line_waits_for_its_newline(tmp_path: Path) -> None:
    first = line(c_user(SID, "first prompt", 0))
    second = line(c_assistant(SID, "msg_1", text("a reply"), 1))
    p = main_file(tmp_path)
    p.parent.mkdir(parents=True)
    p.write_text(first + second[:40])
    r = FORMAT.parse_file(str(p), None)
    assert r.state.offset == len(first.encode())
    assert [m.text for m in r.messages] == ["first prompt"]
    assert r.malformed == 0 and r.sessions[SID].message_count == 1

    append(p, second[40:])
    r2 = FORMAT.parse_file(str(p), r.state)
    assert not r2.reset
    assert r2.bytes_read == len(second.encode())
    assert [m.text for m in r2.messages] == ["a reply"]
    assert r2.sessions[SID].message_count == 2
    assert r2.state.offset == p.stat().st_size


def test_malformed_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    p = main_file(tmp_path)
    p.parent.mkdir(parents=True)
    p.write_text(
        line(c_user(SID, "hello", 0))
        + '{"type":"user", broken\n'
        + "[1, 2]\n"
        + "\n"
        + line({"type": "brand-new-record-kind", "whatever": {"x": 1}})
        + line(c_assistant(SID, "m", text("hi"), 1))
    )
    r = FORMAT.parse_file(str(p), None)
    assert r.malformed == 2 and r.state.malformed == 2
    assert r.sessions[SID].message_count == 2
    append(p, "not json at all\n")
    r2 = FORMAT.parse_file(str(p), r.state)
    assert r2.malformed == 1 and r2.state.malformed == 3


def test_inline_sidechain_counts_tokens_but_is_not_the_conversation(tmp_path: Path) -> None:
    p = write_lines(
        main_file(tmp_path),
        [
            c_user(SID, "Task for the sub-agent", 0, isSidechain=True),
            c_assistant(SID, "msg_side", text("side work"), 1, isSidechain=True),
            c_user(SID, "the real prompt", 2),
        ],
    )
    r = FORMAT.parse_file(str(p), None)
    s = r.sessions[SID]
    assert s.first_prompt == "the real prompt"
    assert s.message_count == 1
    assert s.tokens.total == 1115
    assert [m.text for m in r.messages] == ["the real prompt"]


def test_records_of_another_session_in_one_file_are_grouped_by_session_id(tmp_path: Path) -> None:
    p = write_lines(
        main_file(tmp_path),
        [
            c_user(SID, "one", 0),
            c_user(SID2, "two", 1),
            c_assistant(SID2, "m2", text("reply two"), 2),
        ],
    )
    r = FORMAT.parse_file(str(p), None)
    assert set(r.sessions) == {SID, SID2}
    assert r.sessions[SID2].message_count == 2
    assert {m.session_id for m in r.messages} == {SID, SID2}


def test_subagents_new_and_legacy_layout(index: SessionIndex, roots: dict[str, Path]) -> None:
    root = roots["claude"]
    shared = {
        "input_tokens": 5,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 50_000,
        "output_tokens": 7,
    }
    write_lines(
        main_file(root),
        [
            c_user(SID, "parent prompt", 0),
            c_assistant(SID, "msg_parent", text("spawning"), 1, usage=shared),
        ],
    )
    sub = claude_project(root, CWD) / SID / "subagents" / "agent-a1b2c3.jsonl"
    write_lines(
        sub,
        [
            # The replayed parent response (same id, other requestId) must not count twice.
            c_assistant(
                SID,
                "msg_parent",
                text("spawning"),
                1,
                usage=shared,
                isSidechain=True,
                agentId="a1b2c3",
                request_id="req_other",
            ),
            c_user(SID, "Find the deploy script", 2, isSidechain=True, agentId="a1b2c3"),
            c_assistant(
                SID,
                "msg_sub",
                text("found it"),
                3,
                isSidechain=True,
                agentId="a1b2c3",
                usage={"input_tokens": 1, "output_tokens": 2},
            ),
        ],
    )
    sub.with_name("agent-a1b2c3.meta.json").write_text(json.dumps({"agentType": "Explore"}))
    write_lines(
        claude_project(root, CWD) / "agent-ffee01.jsonl",
        [
            c_user(SID, "legacy sub task", 4, isSidechain=True, agentId="ffee01"),
        ],
    )
    stats = index.sync()
    assert stats.files_parsed == 3

    s = index.get("claude", "a1b2c3")
    assert s is not None and s.is_subagent and s.parent_id == SID
    assert not s.resumable and "sub-agent" in (s.resume_reason or "")
    assert s.first_prompt == "Find the deploy script"
    assert s.meta["agent_type"] == "Explore"
    assert (s.tokens.input, s.tokens.output, s.tokens.cache_read) == (1, 2, 0)
    legacy = index.get("claude", "ffee01")
    assert legacy is not None and legacy.is_subagent and legacy.parent_id == SID
    parent = index.get("claude", SID)
    assert parent is not None and parent.tokens.cache_read == 50_000 and parent.resumable
    assert parent.resume_argv == ["claude", "--resume", SID] and parent.resume_cwd == CWD

    listed = [h.session.id for h in index.search()]
    assert listed == [SID]
    assert {h.session.id for h in index.search(subagents=True)} == {SID, "a1b2c3", "ffee01"}


def test_subagent_parsed_before_its_parent_is_deduplicated(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    root = roots["claude"]
    shared = {"input_tokens": 5, "cache_read_input_tokens": 900, "output_tokens": 7}
    sub = claude_project(root, CWD) / SID / "subagents" / "agent-b2.jsonl"
    write_lines(
        sub, [c_assistant(SID, "msg_p", text("x"), 1, usage=shared, isSidechain=True, agentId="b2")]
    )
    index.sync()
    s = index.get("claude", "b2")
    assert s is not None and s.tokens.cache_read == 900  # parent unknown yet
    write_lines(
        main_file(root),
        [c_user(SID, "p", 0), c_assistant(SID, "msg_p", text("x"), 1, usage=shared)],
    )
    index.sync()
    s = index.get("claude", "b2")
    assert s is not None and s.tokens.total == 0


def test_roots_from_environment(tmp_path: Path) -> None:
    a, b, home = tmp_path / "a", tmp_path / "b", tmp_path / "home"
    for d in (a, b, home / ".claude", home / ".config" / "claude"):
        d.mkdir(parents=True)
    roots = FORMAT.default_roots({"CLAUDE_CONFIG_DIR": f"{a}, {b},{tmp_path / 'missing'}"}, home)
    assert roots == [a, b]  # the variable replaces the home-directory locations
    assert FORMAT.default_roots({}, home) == [home / ".config" / "claude", home / ".claude"]
