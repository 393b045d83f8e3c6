from __future__ import annotations

import json
from pathlib import Path

from jupyter_spaces.agents import SessionIndex
from jupyter_spaces.agents.base import Part
from jupyter_spaces.agents.gemini import FORMAT

from .fixtures import (
    append,
    g_meta,
    g_reply,
    g_user,
    gemini_chats,
    gemini_hash,
    line,
    touch_later,
    write_lines,
)

GID = "6d1f2e3a-4b5c-4d6e-8f70-8192a3b4c5d6"
ROOT = "/home/alice/src/my-app"
TOK = {"input": 8200, "output": 64, "cached": 6000, "thoughts": 120, "tool": 0, "total": 8384}


def chat(chats: Path, name: str = "session-2026-05-04T08-12-6d1f2e3a.jsonl") -> Path:
    return chats / name


def texts(index: SessionIndex, sid: str = GID) -> list[str]:
    return [m.text for m in index.messages("gemini", sid)]


def test_jsonl_session(tmp_path: Path) -> None:
    chats = gemini_chats(tmp_path, "my-app", ROOT)
    p = write_lines(
        chat(chats),
        [
            g_meta(GID),
            g_user(
                "u0", "<session_context>date, platform, a directory listing</session_context>", 1
            ),
            g_user(
                "u1",
                "Add a --dry-run flag\n--- Content from referenced files ---\nbody",
                5,
                displayContent=[{"text": "Add a --dry-run flag @deploy.sh"}],
            ),
            {"$set": {"lastUpdated": "2026-05-04T08:12:05.002Z"}},
            g_reply(
                "g1",
                "Reading deploy.sh",
                tokens=TOK,
                calls=[
                    {
                        "id": "read_file-1",
                        "name": "read_file",
                        "args": {"absolute_path": "/d.sh"},
                        "status": "success",
                        "timestamp": "t",
                        "resultDisplay": "#!/bin/sh",
                    }
                ],
            ),
            {"brandNew": "record shape"},
        ],
    )
    r = FORMAT.parse_file(str(p), None)
    s = r.sessions[GID]
    assert s.cwd == ROOT and s.format == "gemini-jsonl"
    assert s.first_prompt == "Add a --dry-run flag @deploy.sh"
    assert (s.title, s.title_source) == ("Add a --dry-run flag @deploy.sh", "prompt")
    assert s.models == ["gemini-2.5-pro"] and s.message_count == 2
    # input includes cached here (total == input + output + thoughts + tool)
    t = s.tokens
    assert (t.input, t.cache_read, t.output, t.reasoning, t.total) == (2200, 6000, 184, 120, 8384)
    assert [m.kind for m in r.messages] == ["user", "assistant", "tool_call", "tool_result"]

    append(p, line({"$set": {"summary": "Add dry-run flag to deploy script"}}))
    s2 = FORMAT.parse_file(str(p), r.state).sessions[GID]
    assert (s2.title, s2.title_source) == ("Add dry-run flag to deploy script", "summary")
    merged, _ = FORMAT.merge([Part(s2, str(p))])
    assert merged.resume_argv == ["gemini", "--resume", GID] and merged.resume_cwd == ROOT


def test_upserts_keep_first_position_and_last_version(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    chats = gemini_chats(roots["gemini"], "my-app", ROOT)
    p = write_lines(
        chat(chats),
        [
            g_meta(GID),
            g_user("u1", "first question", 1),
            g_reply("g1", "thinking about it", 2, tokens={"input": 100, "output": 1, "total": 101}),
            g_user("u2", "second question", 3),
        ],
    )
    index.sync()
    assert texts(index) == ["first question", "thinking about it", "second question"]
    # g1 re-appended twice as its tool calls and tokens change: same place, last version only.
    append(
        p, line(g_reply("g1", "final answer", 2, tokens={"input": 100, "output": 50, "total": 150}))
    )
    append(
        p,
        line(
            g_reply("g1", "final answer v2", 2, tokens={"input": 100, "output": 70, "total": 170})
        ),
    )
    stats = index.sync()
    assert stats.files_parsed == 1
    assert texts(index) == ["first question", "final answer v2", "second question"]
    s = index.get("gemini", GID)
    assert s is not None and s.tokens.total == 170 and s.message_count == 3
    assert index.search("thinking") == []
    assert [h.session.id for h in index.search("v2")] == [GID]


def test_set_messages_replaces_the_list(index: SessionIndex, roots: dict[str, Path]) -> None:
    chats = gemini_chats(roots["gemini"], "my-app", ROOT)
    p = write_lines(
        chat(chats),
        [
            g_meta(GID),
            g_user("u1", "alpha question", 1),
            g_reply("g1", "alpha answer", 2, tokens=TOK),
        ],
    )
    index.sync()
    append(
        p,
        line(
            {
                "$set": {
                    "messages": [
                        g_user("c1", "compressed summary of alpha", 4),
                    ]
                }
            }
        )
        + line(g_reply("g2", "beta answer", 5, tokens={"input": 10, "output": 1, "total": 11})),
    )
    index.sync()
    assert texts(index) == ["compressed summary of alpha", "beta answer"]
    s = index.get("gemini", GID)
    assert s is not None and s.tokens.total == 11 and s.message_count == 2
    assert s.first_prompt == "compressed summary of alpha"
    assert index.search("alpha answer") == []


def test_rewind_drops_the_message_and_everything_after(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    chats = gemini_chats(roots["gemini"], "my-app", ROOT)
    p = write_lines(
        chat(chats),
        [
            g_meta(GID),
            g_user("u1", "keep me", 1),
            g_reply("g1", "kept reply", 2, tokens={"input": 5, "output": 5, "total": 10}),
            g_user("u2", "regret this", 3),
            g_reply("g2", "regretted reply", 4, tokens={"input": 50, "output": 50, "total": 100}),
        ],
    )
    index.sync()
    append(p, line({"$rewindTo": "u2"}) + line(g_user("u3", "better question", 5)))
    index.sync()
    assert texts(index) == ["keep me", "kept reply", "better question"]
    s = index.get("gemini", GID)
    assert s is not None and s.tokens.total == 10

    # In one batch: rewind, then upsert a surviving message, then an unknown id clears all.
    append(p, line({"$rewindTo": "g1"}) + line(g_user("u1", "keep me (edited)", 1)))
    index.sync()
    assert texts(index) == ["keep me (edited)"]
    append(p, line({"$rewindTo": "no-such-id"}) + line(g_user("u9", "fresh start", 9)))
    index.sync()
    assert texts(index) == ["fresh start"]
    s = index.get("gemini", GID)
    assert s is not None and s.tokens.total == 0 and s.first_prompt == "fresh start"


def test_ignored_user_content_is_not_the_first_prompt(tmp_path: Path) -> None:
    chats = gemini_chats(tmp_path, "my-app", ROOT)
    p = write_lines(
        chat(chats),
        [
            g_meta(GID),
            g_user("u1", "/compress", 1),
            g_user("u2", "?", 2),
            {
                "id": "u3",
                "timestamp": "t",
                "type": "user",
                "content": [
                    {"text": "<hook_context>injected</hook_context>"},
                    {"text": "real words"},
                ],
            },
        ],
    )
    s = FORMAT.parse_file(str(p), None).sessions[GID]
    assert s.first_prompt == "real words"


def test_legacy_json_rewritten_in_place(index: SessionIndex, roots: dict[str, Path]) -> None:
    chats = gemini_chats(roots["gemini"], "my-app", ROOT)
    p = chat(chats, "session-2025-09-01T10-00-6d1f2e3a.json")

    def write(messages: list[dict], summary: str | None = None) -> None:
        doc = {**g_meta(GID), "messages": messages}
        if summary:
            doc["summary"] = summary
        p.write_text(json.dumps(doc, indent=2))

    write([g_user("u1", "legacy question", 1), g_reply("g1", "a long legacy answer " * 20, 2)])
    index.sync()
    assert texts(index) == ["legacy question", "a long legacy answer " * 20]
    ino = p.stat().st_ino
    write([g_user("u1", "legacy question", 1), g_reply("g1", "short", 2)], summary="Legacy")
    touch_later(p)
    assert p.stat().st_ino == ino  # same inode, smaller: re-read from 0
    stats = index.sync()
    assert stats.files_parsed == 1
    assert texts(index) == ["legacy question", "short"]
    s = index.get("gemini", GID)
    assert s is not None and s.title == "Legacy" and s.format == "gemini-json" and s.resumable

    # Caught half-written: keep what we had and retry on the next sync.
    p.write_text(json.dumps({**g_meta(GID), "messages": []})[:40])
    touch_later(p, 10)
    stats = index.sync()
    assert stats.errors == 0 and texts(index) == ["legacy question", "short"]
    write([g_user("u1", "legacy question", 1), g_reply("g1", "done", 2)])
    touch_later(p, 20)
    index.sync()
    assert texts(index) == ["legacy question", "done"]

    # A resumed legacy session continues as .jsonl with the same id: the later one counts.
    j = write_lines(
        chat(chats),
        [
            {**g_meta(GID), "lastUpdated": "2026-05-05T00:00:00.000Z"},
            g_user("u1", "legacy question", 1),
            g_reply("g1", "continued in jsonl", 2),
        ],
    )
    index.sync()
    s = index.get("gemini", GID)
    assert s is not None and sorted(s.files) == sorted([str(p), str(j)])
    assert s.format == "gemini-jsonl"
    assert texts(index) == ["legacy question", "continued in jsonl"]


def test_project_roots_slug_registry_and_legacy_hash(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    g = roots["gemini"]
    (g / "projects.json").write_text(json.dumps({"projects": {"/srv/registered": "registered"}}))
    write_lines(chat(gemini_chats(g, "registered", None)), [g_meta("a" * 8), g_user("u", "x")])
    legacy_root = "/home/alice/src/old-app"
    write_lines(
        chat(gemini_chats(g, gemini_hash(legacy_root), None)),
        [g_meta("b" * 8, project_hash=gemini_hash(legacy_root)), g_user("u", "y")],
    )
    # A .json of v0.2..v0.38 in a hash folder: the folder name is the hash too.
    (gemini_chats(g, gemini_hash("/nowhere/known"), None) / "session-x.json").write_text(
        json.dumps({"sessionId": "c" * 8, "messages": [g_user("u", "z")]})
    )
    index.sync()
    reg = index.get("gemini", "a" * 8)
    assert reg is not None and reg.cwd == "/srv/registered"
    unknown = index.get("gemini", "b" * 8)
    assert unknown is not None and unknown.cwd is None and not unknown.resumable
    # Another CLI's session in that folder reveals the hash's root.
    from .fixtures import c_user, claude_project

    write_lines(
        claude_project(roots["claude"], legacy_root) / "s1.jsonl",
        [c_user("s1", "hello", 0, cwd=legacy_root)],
    )
    index.sync()
    resolved = index.get("gemini", "b" * 8)
    assert resolved is not None and resolved.cwd == legacy_root and resolved.resumable
    assert resolved.resume_cwd == legacy_root
    still = index.get("gemini", "c" * 8)
    assert still is not None and still.cwd is None


def test_subagent_sessions(index: SessionIndex, roots: dict[str, Path]) -> None:
    chats = gemini_chats(roots["gemini"], "my-app", ROOT)
    write_lines(chat(chats), [g_meta(GID), g_user("u1", "parent", 1)])
    write_lines(
        chats / GID / "7e7e7e7e-0000-4000-8000-000000000000.jsonl",
        [
            g_meta("7e7e7e7e-0000-4000-8000-000000000000", kind="subagent"),
            g_user("s1", "sub task", 1),
        ],
    )
    index.sync()
    s = index.get("gemini", "7e7e7e7e-0000-4000-8000-000000000000")
    assert s is not None and s.is_subagent and s.parent_id == GID and s.cwd == ROOT
    assert not s.resumable
    assert [h.session.id for h in index.search()] == [GID]


def test_session_id_patch_renames(index: SessionIndex, roots: dict[str, Path]) -> None:
    chats = gemini_chats(roots["gemini"], "my-app", ROOT)
    p = write_lines(chat(chats), [g_meta(GID), g_user("u1", "before rename", 1)])
    index.sync()
    append(p, line({"$set": {"sessionId": "new-id"}}) + line(g_user("u2", "after rename", 2)))
    index.sync()
    assert index.get("gemini", GID) is None
    assert texts(index, "new-id") == ["before rename", "after rename"]


def test_roots_from_environment(tmp_path: Path) -> None:
    (tmp_path / "gh" / ".gemini").mkdir(parents=True)
    (tmp_path / "home" / ".gemini").mkdir(parents=True)
    assert FORMAT.default_roots({"GEMINI_CLI_HOME": str(tmp_path / "gh")}, tmp_path / "home") == [
        tmp_path / "gh" / ".gemini"
    ]
    assert FORMAT.default_roots({}, tmp_path / "home") == [tmp_path / "home" / ".gemini"]
    assert FORMAT.default_roots({}, tmp_path / "none") == []
