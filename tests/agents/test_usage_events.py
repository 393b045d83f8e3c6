"""Usage events in the index: one per model response after each CLI's de-duplication rules,
kept when transcripts go, re-derived when they change, sub-agents counted with their session."""

from __future__ import annotations

import os
from pathlib import Path

from jupyter_spaces.agents import SessionIndex
from jupyter_spaces.agents.usage_queries import UsageRow

from .fixtures import (
    append,
    c_assistant,
    c_user,
    claude_project,
    g_meta,
    g_reply,
    g_user,
    gemini_chats,
    line,
    text,
    tool_use,
    usage,
    write_lines,
    x_meta,
    x_tokens,
    x_turn,
    x_user,
)

SID = "3f0c9a52-7d1e-4b8a-9c55-1e2f3a4b5c6d"
TID = "0199a0b1-2c3d-7e4f-8a9b-0c1d2e3f4a5b"
GID = "6d1f2e3a-4b5c-4d6e-8f70-8192a3b4c5d6"
CWD = "/home/alice/app"


def u(i: int, o: int, cr: int = 0, cc: int = 0) -> dict[str, int]:
    return {
        "input_tokens": i,
        "output_tokens": o,
        "cache_read_input_tokens": cr,
        "cache_creation_input_tokens": cc,
    }


def events(index: SessionIndex, **kw: object) -> list[UsageRow]:
    return list(index.usage_events(**kw))  # type: ignore[arg-type]


def sums(rows: list[UsageRow]) -> tuple[int, int, int, int, int]:
    return (
        sum(r.input for r in rows),
        sum(r.output for r in rows),
        sum(r.cache_read for r in rows),
        sum(r.cache_creation for r in rows),
        sum(r.reasoning for r in rows),
    )


def test_claude_repeated_lines_of_one_response_are_one_event(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    path = claude_project(roots["claude"], CWD) / f"{SID}.jsonl"
    write_lines(
        path,
        [
            c_user(SID, "hi", 0),
            # One response, three content blocks: the same id, requestId and usage each time,
            # the first with a streaming placeholder.
            c_assistant(SID, "msg_1", {"type": "thinking", "thinking": "…"}, 1, usage=u(1, 1)),
            c_assistant(SID, "msg_1", text("a"), 2, usage=u(10, 5, 1000, 100)),
            c_assistant(SID, "msg_1", tool_use("Read", {"file_path": "x"}), 3, u(10, 5, 1000, 100)),
            c_assistant(SID, "msg_2", text("b"), 4, usage=u(3, 7, 2000, 0)),
        ],
    )
    index.sync()
    rows = events(index)
    assert [(r.model, r.session_id, r.root_id, r.cwd) for r in rows] == [
        ("claude-sonnet-4-5", SID, SID, CWD)
    ] * 2
    assert sums(rows) == (13, 12, 3000, 100, 0)
    assert rows[0].time == 1772442001.0  # the response's first line, 09:00:01
    s = index.get("claude", SID)
    assert s is not None and (s.tokens.input, s.tokens.output) == (13, 12)

    # The same response again in a later append (a re-written block): still one event.
    append(path, line(c_assistant(SID, "msg_2", text("b"), 5, usage=u(3, 9, 2000, 0))))
    index.sync()
    rows = events(index)
    assert len(rows) == 2 and sums(rows) == (13, 14, 3000, 100, 0)
    assert rows[1].time == 1772442004.0  # kept from its first line


def test_claude_bedrock_ids_without_request_id(index: SessionIndex, roots: dict[str, Path]) -> None:
    model = "converse/jp.anthropic.claude-haiku-4-5-20251001-v1:0"
    recs = []
    for n, block in enumerate([text("a"), tool_use("Bash", {"command": "ls"})], start=1):
        r = c_assistant(SID, "msg_bdrk_01abc", block, n, usage=u(4, 40, 500, 60), model=model)
        del r["requestId"]
        recs.append(r)
    write_lines(claude_project(roots["claude"], CWD) / f"{SID}.jsonl", [c_user(SID, "x", 0), *recs])
    index.sync()
    rows = events(index)
    assert len(rows) == 1 and rows[0].model == model
    assert sums(rows) == (4, 40, 500, 60, 0)


def test_claude_subagents_nested_and_counted_once(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    proj = claude_project(roots["claude"], CWD)
    write_lines(
        proj / f"{SID}.jsonl",
        [c_user(SID, "parent", 0), c_assistant(SID, "msg_p", text("go"), 1, usage=u(5, 7, 900))],
    )
    side = {"isSidechain": True, "agentId": "a1"}
    write_lines(
        proj / SID / "subagents" / "agent-a1.jsonl",
        [
            # A replay of the parent's response (same id, another requestId): counted once.
            c_assistant(SID, "msg_p", text("go"), 1, usage=u(5, 7, 900), request_id="r2", **side),
            c_user(SID, "find it", 2, **side),
            c_assistant(SID, "msg_s", text("found"), 3, usage=u(1, 2, 30, 4), **side),
        ],
    )
    # Compaction runs as a sub-agent from about 2.1.39; the older flat agent-*.jsonl names its
    # parent in sessionId.
    write_lines(
        proj / SID / "subagents" / "agent-acompact-7f.jsonl",
        [c_assistant(SID, "msg_c", text("summary"), 4, usage=u(0, 50, 0, 121_689))],
    )
    write_lines(
        proj / "agent-ffee01.jsonl",
        [
            c_user(SID, "legacy task", 5, isSidechain=True),
            c_assistant(SID, "msg_l", text("done"), 6, usage=u(2, 3), isSidechain=True),
        ],
    )
    index.sync()
    rows = events(index)
    assert {r.root_id for r in rows} == {SID}
    assert sorted(r.session_id for r in rows) == sorted([SID, "a1", "acompact-7f", "ffee01"])
    total = index.usage_totals([("claude", SID)])[("claude", SID)]
    assert (total.input, total.output, total.cache_read, total.cache_creation) == (
        5 + 1 + 0 + 2,
        7 + 2 + 50 + 3,
        900 + 30,
        4 + 121_689,
    )
    subs = {s.id for s in index.subagents_of("claude", SID)}
    assert subs == {"a1", "acompact-7f", "ffee01"}
    assert index.subagent_usage("claude", "a1").output == 2  # its replay left out
    assert [h.session.id for h in index.search()] == [SID]  # not listed as sessions of their own


def test_gone_sessions_keep_usage_and_rewrites_re_derive(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    path = claude_project(roots["claude"], CWD) / f"{SID}.jsonl"
    write_lines(
        path,
        [
            c_user(SID, "x", 0),
            c_assistant(SID, "m1", text("a"), 1, usage=u(1, 1)),
            c_assistant(SID, "m2", text("b"), 2, usage=u(2, 2)),
        ],
    )
    index.sync()
    assert len(events(index)) == 2
    # Rewritten shorter (same path, new content): the events are those of the new content.
    write_lines(path, [c_user(SID, "x", 0), c_assistant(SID, "m3", text("c"), 3, usage=u(9, 9))])
    os.utime(path, ns=(0, path.stat().st_mtime_ns + 10**9))
    index.sync()
    assert [(r.input, r.output) for r in events(index)] == [(9, 9)]
    path.unlink()
    index.sync()
    s = index.get("claude", SID)
    assert s is not None and s.gone
    assert [(r.input, r.output) for r in events(index)] == [(9, 9)]


def test_codex_running_totals_and_repeated_counts(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    from .fixtures import codex_path

    a, b = usage(1000, 800, 50, 20), usage(1600, 1200, 90, 30)
    write_lines(
        codex_path(roots["codex"], TID),
        [
            x_meta(TID, "2026-02-10T14:03:11.000Z"),
            x_turn("2026-02-10T14:03:12.000Z", model="gpt-5-codex"),
            *x_user("2026-02-10T14:03:12.100Z", "hello"),
            x_tokens("2026-02-10T14:03:20.000Z", a, a),
            x_tokens("2026-02-10T14:03:20.500Z", a, a),  # the same totals again: no response
            x_turn("2026-02-10T14:04:00.000Z", model="gpt-5.1-codex"),
            x_tokens("2026-02-10T14:04:10.000Z", b, usage(600, 400, 40, 10)),
            x_tokens("2026-02-10T14:04:11.000Z", b, usage(600, 400, 40, 10)),
        ],
    )
    index.sync()
    rows = events(index, agent="codex")
    assert [(r.model, r.input, r.cache_read, r.output, r.reasoning) for r in rows] == [
        ("gpt-5-codex", 200, 800, 50, 20),
        ("gpt-5.1-codex", 200, 400, 40, 10),
    ]
    assert events(index, model="gpt-5.1-codex")[0].time == rows[1].time


def test_gemini_upserts_and_thoughts_as_reasoning(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    chats = gemini_chats(roots["gemini"], "app", CWD)
    tok1 = {"input": 8200, "output": 64, "cached": 6000, "thoughts": 120, "tool": 0, "total": 8384}
    tok2 = {"input": 9000, "output": 80, "cached": 7000, "thoughts": 20, "tool": 0, "total": 9100}
    path = write_lines(
        chats / "session-2026-05-04T08-12-6d1f2e3a.jsonl",
        [
            g_meta(GID),
            g_user("u1", "hello", 5),
            g_reply("r1", "", 9, tokens=tok1),
            g_reply("r1", "done", 9, tokens=tok2),  # the same message re-appended: last wins
            g_user("u2", "more", 20),
            g_reply("r2", "ok", 25, tokens=tok1),
        ],
    )
    index.sync()
    rows = events(index, agent="gemini")
    assert [(r.input, r.cache_read, r.output, r.reasoning) for r in rows] == [
        (2000, 7000, 100, 20),
        (2200, 6000, 184, 120),
    ]
    append(path, line({"$rewindTo": "u2"}))
    index.sync()
    assert len(events(index, agent="gemini")) == 1
