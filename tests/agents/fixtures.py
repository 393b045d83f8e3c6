"""Writers of synthetic session files in each CLI's documented shape (agent-formats.md)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import zstandard


def line(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":")) + "\n"


def write_lines(path: Path, objs: list[Any], extra: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line(o) for o in objs) + extra)
    return path


def append(path: Path, text: str) -> int:
    with open(path, "a") as f:
        f.write(text)
    return len(text.encode())


# -- Claude Code ------------------------------------------------------------------------------


def claude_project(root: Path, cwd: str) -> Path:
    enc = "".join(c if c.isalnum() else "-" for c in cwd)
    return root / "projects" / enc


def c_user(sid: str, text: Any, n: int, cwd: str = "/home/alice/app", **kw: Any) -> dict[str, Any]:
    return {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": cwd,
        "sessionId": sid,
        "version": "2.1.50",
        "gitBranch": "main",
        "type": "user",
        "message": {"role": "user", "content": text},
        "uuid": f"u-{sid[:4]}-{n}",
        "timestamp": f"2026-03-02T09:{n // 60:02d}:{n % 60:02d}.000Z",
        **kw,
    }


def c_assistant(
    sid: str,
    msg_id: str,
    block: dict[str, Any],
    n: int,
    usage: dict[str, int] | None = None,
    model: str = "claude-sonnet-4-5",
    cwd: str = "/home/alice/app",
    request_id: str = "req_1",
    **kw: Any,
) -> dict[str, Any]:
    return {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": cwd,
        "sessionId": sid,
        "version": "2.1.50",
        "gitBranch": "main",
        "type": "assistant",
        "requestId": request_id,
        "message": {
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [block],
            "stop_reason": None,
            "usage": usage
            or {
                "input_tokens": 10,
                "cache_creation_input_tokens": 100,
                "cache_read_input_tokens": 1000,
                "output_tokens": 5,
            },
        },
        "uuid": f"a-{sid[:4]}-{n}",
        "timestamp": f"2026-03-02T09:{n // 60:02d}:{n % 60:02d}.000Z",
        **kw,
    }


def text(t: str) -> dict[str, Any]:
    return {"type": "text", "text": t}


def tool_use(name: str, inp: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": "toolu_1", "name": name, "input": inp}


def tool_result(content: str) -> list[dict[str, Any]]:
    return [{"type": "tool_result", "tool_use_id": "toolu_1", "content": content}]


# -- Codex CLI --------------------------------------------------------------------------------


def x(ts: str, type_: str, payload: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"timestamp": ts, "type": type_, "payload": payload, **kw}


def x_meta(
    tid: str, ts: str, cwd: str = "/home/alice/app", source: Any = "cli", **kw: Any
) -> dict[str, Any]:
    return x(
        ts,
        "session_meta",
        {
            "id": tid,
            "timestamp": ts,
            "cwd": cwd,
            "originator": "codex_cli_rs",
            "cli_version": "0.98.0",
            "source": source,
            "model_provider": "openai",
            **kw,
        },
        git={"commit_hash": "0" * 40, "branch": "main", "repository_url": "git@x:a/b"},
    )


def x_turn(ts: str, cwd: str = "/home/alice/app", model: str = "gpt-5-codex") -> dict[str, Any]:
    return x(
        ts,
        "turn_context",
        {
            "cwd": cwd,
            "approval_policy": "on-request",
            "sandbox_policy": {"type": "workspace-write"},
            "model": model,
            "effort": "medium",
            "summary": "auto",
        },
    )


def x_user(ts: str, message: str) -> list[dict[str, Any]]:
    return [
        x(
            ts,
            "response_item",
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": message}],
            },
        ),
        x(ts, "event_msg", {"type": "user_message", "message": message, "images": []}),
    ]


def x_env(ts: str, cwd: str = "/home/alice/app") -> dict[str, Any]:
    env = f"<environment_context>\n  <cwd>{cwd}</cwd>\n</environment_context>"
    return x(
        ts,
        "response_item",
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": env}]},
    )


def x_assistant(ts: str, t: str) -> dict[str, Any]:
    return x(
        ts,
        "response_item",
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": t}]},
    )


def usage(inp: int, cached: int, out: int, reasoning: int = 0) -> dict[str, int]:
    return {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out,
    }


def x_tokens(ts: str, total: dict[str, int], last: dict[str, int]) -> dict[str, Any]:
    return x(
        ts,
        "event_msg",
        {
            "type": "token_count",
            "info": {
                "total_token_usage": total,
                "last_token_usage": last,
                "model_context_window": 272000,
            },
            "rate_limits": None,
        },
    )


def codex_path(root: Path, tid: str, archived: bool = False, suffix: str = ".jsonl") -> Path:
    name = f"rollout-2026-02-10T14-03-11-{tid}{suffix}"
    if archived:
        return root / "archived_sessions" / name
    return root / "sessions" / "2026" / "02" / "10" / name


def write_zst(path: Path, objs: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(line(o) for o in objs).encode()
    path.write_bytes(zstandard.ZstdCompressor().compress(data))
    return path


# -- Gemini CLI -------------------------------------------------------------------------------


def gemini_chats(root: Path, slug: str, project_root: str | None) -> Path:
    proj = root / "tmp" / slug
    (proj / "chats").mkdir(parents=True, exist_ok=True)
    if project_root is not None:
        (proj / ".project_root").write_text(project_root)
    return proj / "chats"


def gemini_hash(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()


def g_meta(sid: str, kind: str = "main", project_hash: str = "9f" * 32) -> dict[str, Any]:
    return {
        "sessionId": sid,
        "projectHash": project_hash,
        "startTime": "2026-05-04T08:12:00.101Z",
        "lastUpdated": "2026-05-04T08:12:00.101Z",
        "kind": kind,
    }


def g_user(mid: str, t: str, n: int = 5, **kw: Any) -> dict[str, Any]:
    return {
        "id": mid,
        "timestamp": f"2026-05-04T08:12:{n:02d}.000Z",
        "type": "user",
        "content": [{"text": t}],
        **kw,
    }


def g_reply(
    mid: str,
    t: str,
    n: int = 9,
    tokens: dict[str, int] | None = None,
    calls: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "id": mid,
        "timestamp": f"2026-05-04T08:12:{n:02d}.000Z",
        "type": "gemini",
        "content": t,
        "toolCalls": calls or [],
        "thoughts": [],
        "model": "gemini-2.5-pro",
        "tokens": tokens
        or {"input": 8200, "output": 64, "cached": 6000, "thoughts": 120, "tool": 0, "total": 8384},
    }


def touch_later(path: Path, seconds: float = 5) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + int(seconds * 1e9)))
