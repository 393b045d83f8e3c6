from __future__ import annotations

import json
from pathlib import Path

from jupyter_spaces.agents import SessionIndex
from jupyter_spaces.agents.base import Part
from jupyter_spaces.agents.codex import FORMAT, filename_id

from .fixtures import (
    append,
    codex_path,
    line,
    usage,
    write_lines,
    write_zst,
    x,
    x_assistant,
    x_env,
    x_meta,
    x_tokens,
    x_turn,
    x_user,
)

TID = "019c4a2e-1b7f-7c11-9a3e-4d5e6f708192"
PARENT = "019c4a2e-0000-7000-8000-000000000001"
T0 = "2026-02-10T14:03:11.470Z"
U1 = usage(9100, 6400, 520, 320)


def rollout(tid: str = TID, cwd: str = "/home/alice/app") -> list[dict]:
    return [
        x_meta(tid, T0, cwd),
        x_turn("2026-02-10T14:03:15.001Z", cwd),
        x_env("2026-02-10T14:03:15.002Z", cwd),
        *x_user("2026-02-10T14:03:15.003Z", "## My request for Codex:\nAdd a --dry-run flag"),
        x(
            "2026-02-10T14:03:19.420Z",
            "response_item",
            {
                "type": "function_call",
                "name": "shell",
                "call_id": "c1",
                "arguments": json.dumps({"command": ["cat", "deploy.sh"]}),
            },
        ),
        x(
            "2026-02-10T14:03:19.900Z",
            "response_item",
            {
                "type": "function_call_output",
                "call_id": "c1",
                "output": json.dumps(
                    {"output": "#!/bin/sh\necho hi", "metadata": {"exit_code": 0}}
                ),
            },
        ),
        x_assistant("2026-02-10T14:03:24.000Z", "Added the flag."),
        x_tokens("2026-02-10T14:03:25.000Z", U1, U1),
        # The same token_count repeated (e.g. with a rate-limit update) must add nothing.
        x_tokens("2026-02-10T14:03:25.100Z", U1, U1),
    ]


def test_modern_rollout(tmp_path: Path) -> None:
    p = write_lines(codex_path(tmp_path, TID), rollout())
    r = FORMAT.parse_file(str(p), None)
    s = r.sessions[TID]
    assert s.format == "codex-rollout" and s.cwd == "/home/alice/app"
    assert s.first_prompt == "Add a --dry-run flag"  # prefix stripped, env context skipped
    assert s.title == "Add a --dry-run flag" and s.title_source == "prompt"
    assert s.models == ["gpt-5-codex"] and s.version == "0.98.0" and s.git_branch == "main"
    assert s.message_count == 2
    t = s.tokens
    assert (t.input, t.cache_read, t.output, t.reasoning, t.total) == (2700, 6400, 520, 320, 9620)
    kinds = [m.kind for m in r.messages]
    assert kinds == ["user", "tool_call", "tool_result", "assistant"]
    assert r.messages[2].text == "#!/bin/sh\necho hi"
    assert not any("environment_context" in m.text for m in r.messages)

    # A second turn appended later, in another directory: the resume cwd follows turn_context.
    more = [
        x_turn("2026-02-11T10:00:00.000Z", "/home/alice/app/sub"),
        *x_user("2026-02-11T10:00:01.000Z", "Now the tests"),
        x_tokens(
            "2026-02-11T10:00:09.000Z", usage(20000, 15000, 900, 100), usage(10900, 8600, 380, 0)
        ),
    ]
    append(p, "".join(line(o) for o in more))
    r2 = FORMAT.parse_file(str(p), r.state)
    s2 = r2.sessions[TID]
    assert s2.tokens.total == 20900 and s2.message_count == 3
    assert [m.text for m in r2.messages] == ["Now the tests"]
    s2_merged, active = FORMAT.merge([Part(s2, str(p))])
    assert s2_merged.resume_argv == ["codex", "resume", TID]
    assert s2_merged.resume_cwd == "/home/alice/app/sub"
    assert active == {str(p)}


def test_subagent_replay_of_parent_history_is_not_counted(tmp_path: Path) -> None:
    spawn = {"subagent": {"thread_spawn": {"parent_thread_id": PARENT, "depth": 1}}}
    replay_ts = "2026-02-10T15:00:00.{:03d}Z"
    p = write_lines(
        codex_path(tmp_path, TID),
        [
            x_meta(TID, "2026-02-10T15:00:00.001Z", source=spawn),
            # The parent's meta and history, copied in the same second.
            x_meta(PARENT, replay_ts.format(2)),
            x_turn(replay_ts.format(3), "/elsewhere", "gpt-parent"),
            *x_user(replay_ts.format(4), "parent's own prompt"),
            x_assistant(replay_ts.format(5), "parent's answer"),
            x_tokens(replay_ts.format(6), usage(50000, 40000, 2000), usage(50000, 40000, 2000)),
            # The sub-agent's own work.
            x_turn("2026-02-10T15:00:02.000Z", "/home/alice/app", "gpt-5-codex-mini"),
            *x_user("2026-02-10T15:00:02.001Z", "Investigate the flaky test"),
            x_assistant("2026-02-10T15:00:09.000Z", "It races on the port."),
            x_tokens("2026-02-10T15:00:09.500Z", usage(51000, 40500, 2100), usage(1000, 500, 100)),
        ],
    )
    r = FORMAT.parse_file(str(p), None)
    s = r.sessions[TID]
    assert s.is_subagent and s.parent_id == PARENT
    assert s.first_prompt == "Investigate the flaky test"
    assert s.models == ["gpt-5-codex-mini"]
    assert (s.tokens.input, s.tokens.cache_read, s.tokens.output) == (500, 500, 100)
    assert [m.text for m in r.messages] == ["Investigate the flaky test", "It races on the port."]
    merged, _ = FORMAT.merge([Part(s, str(p))])
    assert not merged.resumable and "sub-agent" in (merged.resume_reason or "")


def test_fork_is_resumable_and_skips_the_replay(tmp_path: Path) -> None:
    p = write_lines(
        codex_path(tmp_path, TID),
        [
            x_meta(TID, "2026-02-10T15:00:00.001Z", forked_from_id=PARENT),
            x_meta(PARENT, "2026-02-10T15:00:00.002Z"),
            *x_user("2026-02-10T15:00:00.003Z", "old prompt"),
            x_tokens("2026-02-10T15:00:00.004Z", usage(100, 0, 10), usage(100, 0, 10)),
            *x_user("2026-02-10T15:01:00.000Z", "new direction"),
            # Fresh thread totals after the replay are lower than the parent's: a reset.
            x_tokens("2026-02-10T15:01:05.000Z", usage(30, 0, 3), usage(30, 0, 3)),
        ],
    )
    s = FORMAT.parse_file(str(p), None).sessions[TID]
    assert s.first_prompt == "new direction" and s.tokens.total == 33
    assert s.meta["forked_from_id"] == PARENT and not s.is_subagent
    merged, _ = FORMAT.merge([Part(s, str(p))])
    assert merged.resumable


def test_legacy_rust_header_is_indexed_but_not_resumable(tmp_path: Path) -> None:
    tid = "5973b6c0-94b8-487b-a530-2aeb6098ae0e"
    p = write_lines(
        codex_path(tmp_path, tid),
        [
            {
                "id": tid,
                "timestamp": "2025-08-01T10:00:00.000Z",
                "instructions": None,
                "git": {"commit_hash": "abc", "branch": "dev"},
            },
            {"record_type": "state"},
            {
                "type": "message",
                "role": "user",
                "content": [
                    {
                        "type": "input_text",
                        "text": (
                            "<environment_context>\n<cwd>/srv/legacy</cwd>\n</environment_context>"
                        ),
                    }
                ],
            },
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Port it to Rust"}],
            },
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "On it."}],
            },
            {"record_type": "state", "extra": 1},
        ],
    )
    r = FORMAT.parse_file(str(p), None)
    s = r.sessions[tid]
    assert s.format == "codex-legacy-header"
    assert s.first_prompt == "Port it to Rust" and s.cwd == "/srv/legacy"
    assert s.git_branch == "dev" and s.message_count == 2
    merged, _ = FORMAT.merge([Part(s, str(p))])
    assert not merged.resumable and "September 2025" in (merged.resume_reason or "")


def test_typescript_json_rollout(tmp_path: Path) -> None:
    tid = "0b4b7a7e-1c1c-4d4d-8e8e-9f9f9f9f9f9f"
    p = tmp_path / "sessions" / f"rollout-2025-04-20-{tid}.json"
    p.parent.mkdir(parents=True)
    p.write_text(
        json.dumps(
            {
                "session": {"timestamp": "2025-04-20T08:00:00.000Z", "id": tid, "instructions": ""},
                "items": [
                    {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": "explain this repo"}],
                    },
                    {
                        "type": "message",
                        "role": "assistant",
                        "content": [{"type": "output_text", "text": "It is a CLI."}],
                    },
                ],
            },
            indent=2,
        )
    )
    assert list(FORMAT.iter_files([tmp_path])) == [str(p)]
    s = FORMAT.parse_file(str(p), None).sessions[tid]
    assert s.format == "codex-ts-json" and s.first_prompt == "explain this repo"
    merged, _ = FORMAT.merge([Part(s, str(p))])
    assert not merged.resumable and "TypeScript" in (merged.resume_reason or "")


def test_archived_zstd_rollout_and_duplicate_in_sessions(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    root = roots["codex"]
    archived_only = "019c0000-aaaa-7bbb-8ccc-000000000001"
    z = write_zst(
        codex_path(root, archived_only, archived=True, suffix=".jsonl.zst"),
        rollout(archived_only)[:-1],
    )
    # The same thread both live and archived (compressed): the live one counts.
    write_zst(codex_path(root, TID, archived=True, suffix=".jsonl.zst"), rollout())
    live = write_lines(codex_path(root, TID), rollout())
    stats = index.sync()
    assert stats.files_parsed == 3 and stats.bytes_read > 0
    s = index.get("codex", archived_only)
    assert s is not None and s.first_prompt == "Add a --dry-run flag"
    assert s.meta["archived"] is True and s.resumable
    assert "unconfirmed" in (s.resume_reason or "")
    assert s.files == [str(z)]
    both = index.get("codex", TID)
    assert both is not None and both.meta["archived"] is False and len(both.files) == 2
    assert len(index.messages("codex", TID)) == 4  # one copy, not two
    assert len(index.search("flag")) == 2
    assert [str(live)] == [f for f in both.files if f.endswith(".jsonl")]


def test_thread_names_from_session_index(index: SessionIndex, roots: dict[str, Path]) -> None:
    root = roots["codex"]
    write_lines(codex_path(root, TID), rollout())
    titles = root / "session_index.jsonl"
    write_lines(
        titles,
        [
            {"id": TID, "thread_name": "first name", "updated_at": "2026-02-10T14:05:00Z"},
            {"id": TID, "thread_name": "Deploy dry-run", "updated_at": "2026-02-10T14:06:00Z"},
        ],
    )
    index.sync()
    s = index.get("codex", TID)
    assert s is not None and (s.title, s.title_source) == ("Deploy dry-run", "thread_name")
    append(titles, line({"id": TID, "thread_name": "Renamed", "updated_at": "x"}))
    stats = index.sync_file(titles)
    assert stats.bytes_read < 200
    s = index.get("codex", TID)
    assert s is not None and s.title == "Renamed"


def test_filename_ids() -> None:
    assert filename_id(f"/x/rollout-2026-02-10T14-03-11-{TID}.jsonl") == TID
    assert filename_id(f"/x/rollout-2026-02-10T14-03-11-{TID}_{PARENT}.jsonl.zst") == TID
    assert filename_id("/x/rollout-2025-04-20-0b4b7a7e-1c1c-4d4d-8e8e-9f9f9f9f9f9f.json") == (
        "0b4b7a7e-1c1c-4d4d-8e8e-9f9f9f9f9f9f"
    )


def test_roots_from_environment(tmp_path: Path) -> None:
    a, home = tmp_path / "a", tmp_path / "home"
    a.mkdir()
    (home / ".codex").mkdir(parents=True)
    assert FORMAT.default_roots({"CODEX_HOME": str(a)}, home) == [a]
    assert FORMAT.default_roots({}, home) == [home / ".codex"]
