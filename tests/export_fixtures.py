"""One small but complete session per agent CLI, for the export tests.

Each has a prompt, a reply, a tool call with its result and a summary-like record, written with
the generators of ``tests/agents/fixtures.py`` (plus the Codex tool records they lack).
``EXPECTED[agent]`` lists the (kind, cell type, words in the source or outputs) the notebook must
show, in order, after the title cell.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .agents.fixtures import (
    c_assistant,
    c_user,
    claude_project,
    codex_path,
    g_meta,
    g_reply,
    g_user,
    gemini_chats,
    text,
    tool_result,
    tool_use,
    usage,
    write_lines,
    x,
    x_assistant,
    x_meta,
    x_tokens,
    x_turn,
    x_user,
)

CLAUDE_ID = "c1a0de00-0000-4000-8000-000000000001"
CODEX_ID = "019c4a2e-1b7f-7c11-9a3e-4d5e6f708192"
GEMINI_ID = "6d1f2e3a-4b5c-4d6e-8f70-8192a3b4c5d6"
IDS = {"claude": CLAUDE_ID, "codex": CODEX_ID, "gemini": GEMINI_ID}
CWD = "/home/alice/app"

PROMPT = "Add a `--dry-run` flag to deploy.sh"
REPLY = "Done: **deploy.sh** now has a dry-run mode."
RESULT = "#!/bin/sh\necho deploying"


def x_call(ts: str, name: str, arguments: str, call_id: str = "call_1") -> dict[str, Any]:
    return x(
        ts,
        "response_item",
        {"type": "function_call", "name": name, "arguments": arguments, "call_id": call_id},
    )


def x_output(ts: str, output: str, call_id: str = "call_1") -> dict[str, Any]:
    return x(
        ts, "response_item", {"type": "function_call_output", "call_id": call_id, "output": output}
    )


def write_claude(root: Path, sid: str = CLAUDE_ID, cwd: str = CWD) -> Path:
    return write_lines(
        claude_project(root, cwd) / f"{sid}.jsonl",
        [
            c_user(sid, PROMPT, 0, cwd=cwd),
            c_assistant(sid, "m1", tool_use("Read", {"file_path": "deploy.sh"}), 1, cwd=cwd),
            c_user(sid, tool_result(RESULT), 2, cwd=cwd),
            c_assistant(sid, "m2", text(REPLY), 3, cwd=cwd, request_id="req_2"),
            c_user(sid, "Summary of the work so far: a dry-run flag.", 4, cwd=cwd,
                   isCompactSummary=True),
            c_user(sid, "<command-name>/cost</command-name>", 5, cwd=cwd),
        ],
    )  # fmt: skip


TURN_USAGE = usage(1200, 1000, 80, 20)


def write_codex(root: Path, tid: str = CODEX_ID, cwd: str = CWD) -> Path:
    return write_lines(
        codex_path(root, tid),
        [
            x_meta(tid, "2026-02-10T14:03:11.470Z", cwd),
            x_turn("2026-02-10T14:03:12.000Z", cwd),
            *x_user("2026-02-10T14:03:15.003Z", PROMPT),
            x_call("2026-02-10T14:03:16.000Z", "shell", '{"command": "cat deploy.sh"}'),
            x_output("2026-02-10T14:03:17.000Z", RESULT),
            x_assistant("2026-02-10T14:03:18.000Z", REPLY),
            x_tokens("2026-02-10T14:03:18.500Z", TURN_USAGE, TURN_USAGE),
            x("2026-02-10T14:03:19.000Z", "compacted",
              {"message": "Summary of the work so far: a dry-run flag."}),
        ],
    )  # fmt: skip


def write_gemini(root: Path, sid: str = GEMINI_ID, cwd: str = CWD) -> Path:
    call = {
        "id": "read_file-1",
        "name": "read_file",
        "args": {"absolute_path": "deploy.sh"},
        "status": "success",
        "timestamp": "2026-05-04T08:12:09.500Z",
        "resultDisplay": RESULT,
    }
    chats = gemini_chats(root / ".gemini", "my-app", cwd)
    return write_lines(
        chats / f"session-2026-05-04T08-12-{sid[:8]}.jsonl",
        [
            g_meta(sid),
            g_user("u1", PROMPT, 5),
            g_reply("r1", "", 8, calls=[call]),
            g_reply("r2", REPLY, 9),
            # Gemini keeps no compaction summary in the transcript: its summary is the title,
            # and CLI notices are "info" records.
            {"$set": {"summary": "Dry-run flag for deploy.sh"}},
            {"id": "i1", "timestamp": "2026-05-04T08:12:10.000Z", "type": "info",
             "content": "Summary saved. Session can be resumed."},
        ],
    )  # fmt: skip


WRITERS = {"claude": write_claude, "codex": write_codex, "gemini": write_gemini}

# (message kind, cell type, text expected in the cell's source or outputs)
_CALL = ("tool_call", "code", "deploy.sh")
_USER = ("user", "markdown", "--dry-run")
_REPLY = ("assistant", "markdown", "dry-run mode")
_SUMMARY = ("summary", "markdown", "Summary of the work so far")
EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "claude": [_USER, _CALL, _REPLY, _SUMMARY, ("harness", "markdown", "/cost")],
    "codex": [_USER, _CALL, _REPLY, _SUMMARY],
    "gemini": [_USER, _CALL, _REPLY, ("info", "markdown", "Summary saved")],
}
