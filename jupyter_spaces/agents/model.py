"""What the index knows about an agent session, independent of the CLI that wrote it.

Token totals are normalised so that the three CLIs compare: ``input`` is *uncached* input,
``cache_read`` and ``cache_creation`` are the cached parts, ``output`` includes reasoning/thinking
tokens (``reasoning`` repeats that subset for display), and ``total`` is
``input + cache_read + cache_creation + output``. Claude reports those four numbers directly; Codex
and Gemini report input *including* the cached part, which the parsers subtract.

Times: ``Session.started``/``last_activity`` are POSIX seconds (UTC) so that the index can filter on
them; ``Message.time`` is the ISO-8601 text the CLI wrote, untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Literal

AgentName = Literal["claude", "codex", "gemini"]
AGENT_NAMES: tuple[AgentName, ...] = ("claude", "codex", "gemini")

# Message kinds. ``role`` says who produced it ("user", "assistant", "tool", "system").
USER = "user"  # something a person typed
ASSISTANT = "assistant"  # model prose
TOOL_CALL = "tool_call"  # the model asked for a tool; text is "name: brief arguments"
TOOL_RESULT = "tool_result"  # what the tool answered, truncated
SUMMARY = "summary"  # compaction summary written by the model, not typed by anyone
HARNESS = "harness"  # CLI-generated user-role text (slash-command echoes, local output)
INFO = "info"  # CLI notices, warnings and errors

# Long tool payloads would dominate the full-text index and say little about the conversation.
TOOL_TEXT_CAP = 1000
# A pasted log in a prompt is still worth finding, but not megabytes of it.
MESSAGE_TEXT_CAP = 100_000
PROMPT_CAP = 500
TITLE_CAP = 200
# Times outside 1970..3000 are not session times; later than 9999 would not even format as ISO.
_EPOCH_MAX = 32503680000.0

# Session ids, per CLI (agent-formats.md): Claude Code, Codex and Gemini name sessions by UUID.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Custom agents: a conservative id alphabet that is safe in a path, an argv and a URL.
_CUSTOM_ID = re.compile(r"[A-Za-z0-9._:][A-Za-z0-9._:-]{0,127}")


def valid_session_id(agent: str, sid: object) -> bool:
    """Whether ``sid`` can be a session id of ``agent``: a UUID for claude, codex and gemini;
    1-128 of ``[A-Za-z0-9._:-]`` not starting with ``-`` for any other (custom) agent. Checked
    before an id reaches a lookup, an argv or a path, so a NUL, ``../`` or an option never does."""
    if not isinstance(sid, str):
        return False
    if agent in AGENT_NAMES:
        return _UUID.fullmatch(sid) is not None
    return _CUSTOM_ID.fullmatch(sid) is not None and sid not in (".", "..")


@dataclass(slots=True)
class Tokens:
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_creation: int = 0
    reasoning: int = 0
    total: int = 0

    def add(self, other: Tokens) -> None:
        self.input += other.input
        self.output += other.output
        self.cache_read += other.cache_read
        self.cache_creation += other.cache_creation
        self.reasoning += other.reasoning
        self.total += other.total

    def as_list(self) -> list[int]:
        return [
            self.input,
            self.output,
            self.cache_read,
            self.cache_creation,
            self.reasoning,
            self.total,
        ]

    @classmethod
    def from_list(cls, values: list[int]) -> Tokens:
        return cls(*values)

    def to_dict(self) -> dict[str, int]:
        return {
            "input": self.input,
            "output": self.output,
            "cache_read": self.cache_read,
            "cache_creation": self.cache_creation,
            "reasoning": self.reasoning,
            "total": self.total,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Tokens:
        return cls(**{k: int(d.get(k, 0)) for k in cls.__slots__})  # type: ignore[attr-defined]


@dataclass(slots=True)
class UsageEvent:
    """One model response's usage, after the CLI's de-duplication rules (normalised as ``Tokens``:
    ``input`` is uncached input, ``output`` includes ``reasoning``).

    ``key`` names the response inside its file's share of the session (Claude: the API message
    id; Codex: the ordinal of the ``token_count`` that moved the running total; Gemini: the
    message id), so that a re-read line replaces, never adds. ``time`` is POSIX seconds (UTC)."""

    session_id: str
    key: str
    time: float
    model: str | None
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_creation: int = 0
    reasoning: int = 0

    def total(self) -> int:
        return self.input + self.output + self.cache_read + self.cache_creation


@dataclass(slots=True)
class Message:
    """One searchable piece of a transcript.

    ``(seq, sub)`` orders messages inside one file: ``seq`` is the record's position, ``sub`` the
    piece within a record (a Gemini reply carries its text and its tool calls in one record).
    """

    session_id: str
    seq: int
    sub: int
    role: str
    kind: str
    text: str
    time: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "kind": self.kind,
            "text": self.text,
            "time": self.time,
        }


@dataclass
class Session:
    """One agent session (a conversation that can, in principle, be resumed).

    ``resumable`` is False for sub-agents, legacy formats and sessions whose directory is unknown;
    ``resume_reason`` then says why in a sentence (for resumable sessions it may hold a caveat).
    ``resume_argv`` is to be run with ``cwd=resume_cwd`` (never through a shell).
    ``meta`` holds CLI-specific extras, e.g. ``project_hash`` (Gemini), ``source`` and
    ``forked_from_id`` (Codex), ``agent_type`` (Claude sub-agents), ``archived`` (Codex).
    """

    agent: str
    id: str
    title: str | None = None
    title_source: str | None = None  # custom | ai | summary | thread_name | prompt | command
    cwd: str | None = None
    started: float | None = None
    last_activity: float | None = None
    first_prompt: str | None = None
    models: list[str] = field(default_factory=list)
    message_count: int = 0
    tokens: Tokens = field(default_factory=Tokens)
    is_subagent: bool = False
    parent_id: str | None = None
    resumable: bool = False
    resume_reason: str | None = None
    resume_argv: list[str] | None = None
    resume_cwd: str | None = None
    files: list[str] = field(default_factory=list)
    gone: bool = False
    format: str = ""
    version: str | None = None
    git_branch: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; times as POSIX seconds (see ``to_json`` for ISO text)."""
        return {
            "agent": self.agent,
            "id": self.id,
            "title": self.title,
            "title_source": self.title_source,
            "cwd": self.cwd,
            "started": self.started,
            "last_activity": self.last_activity,
            "first_prompt": self.first_prompt,
            "models": list(self.models),
            "message_count": self.message_count,
            "tokens": self.tokens.to_dict(),
            "is_subagent": self.is_subagent,
            "parent_id": self.parent_id,
            "resumable": self.resumable,
            "resume_reason": self.resume_reason,
            "resume_argv": self.resume_argv,
            "resume_cwd": self.resume_cwd,
            "files": list(self.files),
            "gone": self.gone,
            "format": self.format,
            "version": self.version,
            "git_branch": self.git_branch,
            "meta": dict(self.meta),
        }

    def to_json(self) -> dict[str, Any]:
        """Like ``to_dict`` with ISO-8601 UTC times, for an HTTP answer."""
        d = self.to_dict()
        d["started"] = epoch_to_iso(self.started)
        d["last_activity"] = epoch_to_iso(self.last_activity)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Session:
        known = {k: v for k, v in d.items() if k in _SESSION_FIELDS}
        known["tokens"] = Tokens.from_dict(d.get("tokens") or {})
        return cls(**known)


_SESSION_FIELDS = frozenset(Session.__dataclass_fields__)


@lru_cache(maxsize=4096)
def iso_to_epoch(text: str) -> float | None:
    """POSIX seconds of an ISO-8601 time; naive times are taken as UTC; None if unparsable or
    outside 1970..3000."""
    try:
        # Python 3.10's fromisoformat does not take a "Z" suffix.
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        t = dt.timestamp()
    except (ValueError, OverflowError):
        return None
    return t if 0 <= t <= _EPOCH_MAX else None


def epoch_to_iso(t: float | None) -> str | None:
    if t is None:
        return None
    try:
        return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds")
    except (ValueError, OverflowError, OSError):
        return None  # not a time (an index written before times were bounded)


def clean_line(text: str, cap: int) -> str:
    """One display line: whitespace runs (newlines included) become one space, non-printables go."""
    out = " ".join(text.split())
    if not out.isprintable():
        out = "".join(ch for ch in out if ch.isprintable())
    return out[:cap]
