"""The state an agent's transcript shows, for CLIs whose hooks do not tell everything.

Only the file's tail is read: the last complete records decide. Each CLI's rule, with its
sources, is in docs/agent-signals.md:

- claude: a user prompt or tool result, or an assistant message that calls a tool: working;
  an assistant message that ends its turn (``stop_reason`` ``end_turn``): idle; the line
  Claude Code writes when the user interrupts (``[Request interrupted by user``): idle.
- codex: ``task_started`` or ``user_message`` events: working; ``task_complete`` or
  ``turn_aborted``: idle; an approval request event: needs_input.
- gemini: a ``user`` record: working; a ``gemini`` record whose tool calls all finished: idle.

A transcript with no turn yet means the CLI reached its prompt: idle.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from ..agents.model import iso_to_epoch

TAIL_BYTES = 256 * 1024

Seen = tuple[str, float, str | None]  # (state, time of the record, reason)


def read_tail(path: str, limit: int = TAIL_BYTES) -> list[dict[str, Any]]:
    """The complete JSON records in the last ``limit`` bytes of ``path`` (oldest first)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        f.seek(max(0, size - limit))
        data = f.read(limit)
    lines = data.split(b"\n")
    if size > limit:
        lines = lines[1:]  # the first line is cut
    if lines and not data.endswith(b"\n"):
        lines = lines[:-1]  # still being written
    out = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


def _when(record: dict[str, Any], default: float) -> float:
    t = record.get("timestamp")
    got = iso_to_epoch(t) if isinstance(t, str) else None
    return got if got is not None else default


def claude(records: Iterable[dict[str, Any]], mtime: float) -> Seen | None:
    seen: Seen | None = None
    for r in records:
        if r.get("isSidechain") or r.get("type") not in ("user", "assistant"):
            continue
        message = r.get("message")
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        blocks = content if isinstance(content, list) else []
        kinds = {b.get("type") for b in blocks if isinstance(b, dict)}
        if r["type"] == "user":
            if _interrupted(content):
                seen = ("idle", _when(r, mtime), "interrupted")
            elif isinstance(content, str) or "text" in kinds or "tool_result" in kinds:
                seen = ("working", _when(r, mtime), None)
        elif "tool_use" in kinds or message.get("stop_reason") == "tool_use":
            seen = ("working", _when(r, mtime), None)
        elif message.get("stop_reason") in ("end_turn", "stop_sequence", "max_tokens"):
            seen = ("idle", _when(r, mtime), None)
    return seen


def _interrupted(content: object) -> bool:
    """Claude Code writes this user line when the user interrupts a turn (Esc)."""
    texts = (
        [content]
        if isinstance(content, str)
        else [b.get("text") for b in content if isinstance(b, dict)]
        if isinstance(content, list)
        else []
    )
    return any(isinstance(t, str) and t.startswith("[Request interrupted by user") for t in texts)


_CODEX_EVENTS = {
    "task_started": ("working", None),
    "user_message": ("working", None),
    "task_complete": ("idle", None),
    "turn_aborted": ("idle", None),
    "exec_approval_request": ("needs_input", "permission"),
    "apply_patch_approval_request": ("needs_input", "permission"),
    "request_user_input": ("needs_input", "question"),
}


def codex(records: Iterable[dict[str, Any]], mtime: float) -> Seen | None:
    seen: Seen | None = None
    for r in records:
        payload = r.get("payload")
        if not isinstance(payload, dict):
            continue
        if r.get("type") == "session_meta" and seen is None:
            seen = ("idle", _when(r, mtime), None)
        elif r.get("type") == "event_msg":
            hit = _CODEX_EVENTS.get(str(payload.get("type")))
            if hit is not None:
                seen = (hit[0], _when(r, mtime), hit[1])
        elif r.get("type") == "response_item" and payload.get("type") in (
            "function_call",
            "function_call_output",
            "custom_tool_call",
            "custom_tool_call_output",
            "local_shell_call",
        ):
            seen = ("working", _when(r, mtime), None)
    return seen


def gemini(records: Iterable[dict[str, Any]], mtime: float) -> Seen | None:
    seen: Seen | None = None
    for r in records:
        kind = r.get("type")
        if "sessionId" in r and "type" not in r and seen is None:
            seen = ("idle", _when(r, mtime), None)  # the metadata line: at its prompt
        elif kind == "user":
            seen = ("working", _when(r, mtime), None)
        elif kind == "gemini":
            calls = r.get("toolCalls")
            pending = isinstance(calls, list) and any(
                isinstance(c, dict) and c.get("status") not in ("success", "error", "cancelled")
                for c in calls
            )
            seen = ("working" if pending else "idle", _when(r, mtime), None)
    return seen


READERS = {"claude": claude, "codex": codex, "gemini": gemini}


def transcript_state(agent: str, path: str) -> Seen | None:
    """What the transcript at ``path`` shows of ``agent``'s turn; None if it tells nothing
    (or cannot be read)."""
    reader = READERS.get(agent)
    if reader is None:
        return None
    try:
        mtime = os.stat(path).st_mtime
        return reader(read_tail(path), mtime)
    except OSError:
        return None
