"""Claude Code transcripts: ``<root>/projects/<encoded-cwd>/<sessionId>.jsonl``.

Reference: agent-formats.md section 1. Rules implemented here:

* roots: every directory of a comma-separated ``CLAUDE_CONFIG_DIR``, plus ``~/.config/claude``
  and ``~/.claude`` (which versions used ``~/.config/claude`` is UNCONFIRMED, so both are scanned);
* sub-agents: ``<session>/subagents/agent-<id>.jsonl`` (>= 2.1.2) and legacy
  ``<project>/agent-<id>.jsonl`` are sessions of their own (id = agentId, parent = sessionId,
  never resumable); 1.x sidechain lines inline in the main file (``isSidechain``) count towards
  tokens but are neither messages nor the first prompt;
* one file may hold records of several session ids (a ``/resume`` bug appended to the previously
  active file): records are grouped by their ``sessionId``, records without one go to the file's;
* tokens: one line per content block repeats the response's ``usage``, so usage is kept per
  ``message.id`` (the line with the largest total wins: earlier blocks may carry streaming
  placeholders, and so may the last line of a transcript cut off mid-response) and summed once;
  sub-agent files replay parent responses with the same id, which ``replayed_tokens`` lets the
  index subtract;
* title: latest ``custom-title`` > latest ``ai-title`` > ``summary`` (legacy 1.x) > first prompt >
  first slash command; first prompt skips meta, compact summaries, tool results, harness markup.

The folder name is never decoded (lossy); ``cwd`` comes from the records.

Why one module of over 400 lines: one CLI's file format, whose rules (grouping, de-duplication,
titles) depend on each other; split, each part would need the others to be read.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .base import (
    AgentFormat,
    FileState,
    ParseResult,
    Part,
    as_int,
    as_path,
    as_ts,
    dedupe_roots,
    is_inside,
    merge_common,
    not_resumable,
    parse_lines,
    resumable,
    walk,
)
from .model import (
    ASSISTANT,
    HARNESS,
    INFO,
    MESSAGE_TEXT_CAP,
    PROMPT_CAP,
    SUMMARY,
    TITLE_CAP,
    TOOL_CALL,
    TOOL_RESULT,
    TOOL_TEXT_CAP,
    USER,
    AgentName,
    Message,
    Session,
    Tokens,
    UsageEvent,
    clean_line,
    iso_to_epoch,
)

# User-role text that the harness wrote (slash-command echoes, local command output, notices).
HARNESS_PREFIXES = (
    "<command-name>",
    "<command-message>",
    "<command-args>",
    "<local-command-stdout>",
    "<local-command-stderr>",
    "<local-command-caveat>",
    "Caveat:",
    "[Request interrupted by user",
    "<task-notification>",
    "<system-reminder>",
    "<bash-input>",
    "<bash-stdout>",
    "<bash-stderr>",
)
_COMMAND_NAME = re.compile(r"<command-name>(.*?)</command-name>", re.S)
_COMMAND_ARGS = re.compile(r"<command-args>(.*?)</command-args>", re.S)
_CONVERSATION = frozenset(("user", "assistant", "system"))
_TITLE_RANK = {"custom": 5, "ai": 4, "summary": 3, "prompt": 2, "command": 1}
# Per-session lists kept in the parse state stay this short whatever a file holds.
MAX_MODELS = 16
# Version and branch names are short; longer strings are not them.
MAX_NAME = 256


def _text_of(content: Any) -> str:
    """The text blocks of a message content (a string or a list of blocks), joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            b["text"]
            for b in content
            if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
        )
    return ""


def brief(value: Any, cap: int = TOOL_TEXT_CAP) -> str:
    """Short text of a tool input or output: strings as they are, the rest as compact JSON."""
    if isinstance(value, str):
        return value[:cap]
    if isinstance(value, list) and all(isinstance(b, dict) for b in value):
        text = _text_of(value)
        if text:
            return text[:cap]
    if isinstance(value, dict):
        # Show the string arguments (paths, commands, patterns), not a JSON dump of file bodies.
        parts = [f"{k}={v[:cap]}" for k, v in value.items() if isinstance(v, str)]
        if parts:
            return " ".join(parts)[:cap]
    try:
        return json.dumps(value, ensure_ascii=False)[:cap]
    except (TypeError, ValueError, RecursionError):
        return ""


def slash_command(text: str) -> str | None:
    m = _COMMAND_NAME.search(text)
    if not m:
        return None
    name = m.group(1).strip()
    a = _COMMAND_ARGS.search(text)
    args = a.group(1).strip() if a else ""
    return f"{name} {args}".strip() if name else None


class _Agg:
    """Running aggregate of one session within one file (serialised in the parse state)."""

    __slots__ = (
        "ai_title",
        "custom_title",
        "cwd",
        "emitted",
        "first_command",
        "first_prompt",
        "first_ts",
        "git_branch",
        "last_ts",
        "message_count",
        "models",
        "parent_id",
        "summary",
        "tok",
        "usage",
        "user_uuids",
        "version",
    )

    def __init__(self, d: dict[str, Any] | None = None) -> None:
        d = d or {}
        self.first_ts: str | None = d.get("first_ts")
        self.last_ts: str | None = d.get("last_ts")
        self.cwd: str | None = d.get("cwd")
        self.version: str | None = d.get("version")
        self.git_branch: str | None = d.get("git_branch")
        self.models: list[str] = d.get("models", [])
        self.custom_title: str | None = d.get("custom_title")
        self.ai_title: str | None = d.get("ai_title")
        self.summary: str | None = d.get("summary")
        self.first_prompt: str | None = d.get("first_prompt")
        self.first_command: str | None = d.get("first_command")
        self.message_count: int = d.get("message_count", 0)
        self.parent_id: str | None = d.get("parent_id")
        # message id -> [input, output, cache_read, cache_creation] of its largest line
        self.usage: dict[str, list[int]] = d.get("usage", {})
        self.tok: list[int] = d.get("tok", [0, 0, 0, 0])
        self.user_uuids: set[str] = set(d.get("user_uuids", ()))
        # Messages were stored for this session: it is listed even without a time or cwd.
        self.emitted: bool = d.get("emitted", False)

    def dump(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__slots__}
        d["user_uuids"] = list(self.user_uuids)
        return d


class _FileParser:
    def __init__(self, path: str, data: dict[str, Any] | None) -> None:
        name = os.path.basename(path)
        stem = name[: -len(".jsonl")] if name.endswith(".jsonl") else name
        self.subagent = stem.startswith("agent-")
        d = data or {}
        self.default_id: str = d.get("default_id") or (stem[6:] if self.subagent else stem)
        self.seq: int = d.get("seq", 0)
        self.agent_type: str | None = d.get("agent_type")
        self.aggs = {k: _Agg(v) for k, v in d.get("sessions", {}).items()}
        self.messages: list[Message] = []
        # Usage events this call found or enlarged, by (session, response id).
        self.usage: dict[tuple[str, str], UsageEvent] = {}
        if data is None and self.subagent:
            self.agent_type = _sidecar_agent_type(path)

    def dump(self) -> dict[str, Any]:
        return {
            "default_id": self.default_id,
            "seq": self.seq,
            "agent_type": self.agent_type,
            "sessions": {k: a.dump() for k, a in self.aggs.items()},
        }

    def _agg(self, sid: str) -> _Agg:
        a = self.aggs.get(sid)
        if a is None:
            a = self.aggs[sid] = _Agg()
        return a

    def feed(self, rec: dict[str, Any]) -> None:
        t = rec.get("type")
        sid_field = rec.get("sessionId")
        if self.subagent:
            # Sub-agent records carry the parent's sessionId and their own agentId.
            sid = self.default_id
            agg = self._agg(sid)
            if isinstance(sid_field, str) and agg.parent_id is None:
                agg.parent_id = sid_field
        else:
            sid = sid_field if isinstance(sid_field, str) and sid_field else self.default_id
            agg = self._agg(sid)
        ts = as_ts(rec.get("timestamp"))
        if ts is not None:
            if agg.first_ts is None:
                agg.first_ts = ts
            if agg.last_ts is None or ts > agg.last_ts:
                agg.last_ts = ts
        if t in _CONVERSATION:
            if agg.cwd is None:
                agg.cwd = as_path(rec.get("cwd"))
            version = rec.get("version")
            if isinstance(version, str) and len(version) <= MAX_NAME:
                agg.version = version
            branch = rec.get("gitBranch")
            if agg.git_branch is None and isinstance(branch, str) and len(branch) <= MAX_NAME:
                agg.git_branch = branch or None
            if t == "assistant":
                self._assistant(rec, sid, agg)
            elif t == "user":
                self._user(rec, sid, agg)
        elif t == "custom-title":
            if isinstance(rec.get("customTitle"), str):
                agg.custom_title = rec["customTitle"][:MAX_NAME]
        elif t == "ai-title":
            if isinstance(rec.get("aiTitle"), str):
                agg.ai_title = rec["aiTitle"][:MAX_NAME]
        elif t == "summary" and isinstance(rec.get("summary"), str):
            # 1.x titles point at a leaf uuid that may live in another file; attributing them to
            # this file's own session is right for the common single-session file.
            self._agg(self.default_id).summary = rec["summary"][:MAX_NAME]

    def _usage_event(
        self, sid: str, key: str, rec: dict[str, Any], model: Any, new: list[int]
    ) -> None:
        """The response's usage event: its time is that of its first line (kept by the index
        across calls too), its tokens those of its largest line."""
        if not any(new):
            return
        prev = self.usage.get((sid, key))
        ts = as_ts(rec.get("timestamp"))
        t = prev.time if prev is not None else (iso_to_epoch(ts) if ts else None)
        if t is None:
            return  # a response without a time cannot be placed in any window
        name = model if isinstance(model, str) and 0 < len(model) <= MAX_NAME else None
        if name is None and prev is not None:
            name = prev.model
        i, o, cr, cc = new
        self.usage[(sid, key)] = UsageEvent(sid, key, t, name, i, o, cr, cc)

    def _inline_sidechain(self, rec: dict[str, Any]) -> bool:
        return not self.subagent and rec.get("isSidechain") is True

    def _assistant(self, rec: dict[str, Any], sid: str, agg: _Agg) -> None:
        msg = rec.get("message")
        if not isinstance(msg, dict):
            return
        side = self._inline_sidechain(rec)
        key = msg.get("id") or rec.get("requestId") or rec.get("uuid")
        model = msg.get("model")
        error = rec.get("isApiErrorMessage") is True or model == "<synthetic>"
        if isinstance(key, str):
            u = msg.get("usage")
            new = (
                [
                    as_int(u.get("input_tokens")),
                    as_int(u.get("output_tokens")),
                    as_int(u.get("cache_read_input_tokens")),
                    as_int(u.get("cache_creation_input_tokens")),
                ]
                if isinstance(u, dict) and not error
                else [0, 0, 0, 0]
            )
            old = agg.usage.get(key)
            if old is None and not side and not error:
                agg.message_count += 1
            # Streaming placeholders only ever undercount: a transcript that ends inside a
            # response (still running, or killed) must not replace the full usage of its earlier
            # blocks with a partial one. The largest total wins, as in ccusage.
            if old is None or sum(new) > sum(old):
                base = old or [0, 0, 0, 0]
                agg.tok = [t + n - o for t, n, o in zip(agg.tok, new, base, strict=True)]
                agg.usage[key] = new
                self._usage_event(sid, key, rec, model, new)
        if (
            isinstance(model, str)
            and len(model) <= MAX_NAME
            and not error
            and model not in agg.models
            and len(agg.models) < MAX_MODELS
        ):
            agg.models.append(model)
        if side:
            return
        content = msg.get("content")
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
        out: list[tuple[str, str, str]] = []
        for b in blocks:
            if not isinstance(b, dict):
                continue
            bt = b.get("type")
            if bt == "text" and isinstance(b.get("text"), str) and b["text"].strip():
                kind = INFO if error else ASSISTANT
                out.append(("assistant", kind, b["text"][:MESSAGE_TEXT_CAP]))
            elif bt == "tool_use":
                name = b.get("name") if isinstance(b.get("name"), str) else "tool"
                out.append(("assistant", TOOL_CALL, f"{name}: {brief(b.get('input'))}"))
        self._emit(sid, rec, out)

    def _user(self, rec: dict[str, Any], sid: str, agg: _Agg) -> None:
        if rec.get("isMeta") is True or self._inline_sidechain(rec):
            return
        msg = rec.get("message")
        if not isinstance(msg, dict):
            return
        content = msg.get("content")
        out: list[tuple[str, str, str]] = []
        if isinstance(content, list):
            for b in content:
                if isinstance(b, dict) and b.get("type") == "tool_result":
                    out.append(("tool", TOOL_RESULT, brief(b.get("content"))))
        text = _text_of(content).strip()
        if text:
            if rec.get("isCompactSummary") is True:
                kind = SUMMARY
            elif text.startswith(HARNESS_PREFIXES):
                kind = HARNESS
                if agg.first_command is None:
                    agg.first_command = (slash_command(text) or "")[:PROMPT_CAP] or None
            else:
                kind = USER
                uuid = rec.get("uuid")
                if not (isinstance(uuid, str) and uuid in agg.user_uuids):
                    agg.message_count += 1
                    if isinstance(uuid, str):
                        agg.user_uuids.add(uuid)
                if agg.first_prompt is None and rec.get("isVisibleInTranscriptOnly") is not True:
                    agg.first_prompt = clean_line(text, PROMPT_CAP)
            out.insert(0, ("user", kind, text[:MESSAGE_TEXT_CAP]))
        self._emit(sid, rec, out)

    def _emit(self, sid: str, rec: dict[str, Any], out: list[tuple[str, str, str]]) -> None:
        if not out:
            return
        ts = as_ts(rec.get("timestamp"))
        self._agg(sid).emitted = True
        seq = self.seq
        self.seq += 1
        for sub, (role, kind, text) in enumerate(out):
            self.messages.append(Message(sid, seq, sub, role, kind, text, ts))

    def sessions(self, path: str) -> dict[str, Session]:
        out: dict[str, Session] = {}
        for sid, a in self.aggs.items():
            if a.first_ts is None and a.cwd is None and not a.emitted:
                continue  # bookkeeping only (1.x summary-only files): not a conversation
            s = Session(agent="claude", id=sid, format="claude-jsonl", files=[path])
            s.cwd = a.cwd
            s.started = iso_to_epoch(a.first_ts) if a.first_ts else None
            s.last_activity = iso_to_epoch(a.last_ts) if a.last_ts else None
            s.version = a.version
            s.git_branch = a.git_branch
            s.models = list(a.models)
            s.first_prompt = a.first_prompt
            s.message_count = a.message_count
            i, o, cr, cc = a.tok
            s.tokens = Tokens(i, o, cr, cc, 0, i + o + cr + cc)
            s.is_subagent = self.subagent
            s.parent_id = a.parent_id
            if self.agent_type:
                s.meta["agent_type"] = self.agent_type
            for source, value in (
                ("custom", a.custom_title),
                ("ai", a.ai_title),
                ("summary", a.summary),
                ("prompt", a.first_prompt),
                ("command", a.first_command),
            ):
                if value and value.strip():
                    s.title = clean_line(value, TITLE_CAP)
                    s.title_source = source
                    break
            out[sid] = s
        return out


def _sidecar_agent_type(path: str) -> str | None:
    """``agentType`` from ``agent-<id>.meta.json`` next to a sub-agent transcript, if any."""
    try:
        with open(path[: -len(".jsonl")] + ".meta.json", "rb") as f:
            d = json.loads(f.read(1 << 16))
    except (OSError, ValueError):
        return None
    v = d.get("agentType") if isinstance(d, dict) else None
    return v if isinstance(v, str) else None


def replayed_tokens(child: dict[str, Any], parent_ids: set[str]) -> Tokens:
    """Usage in a sub-agent file's state that repeats responses of its parent (same message id).

    Sub-agent files can replay parent messages, parent cache reads included; ccusage keeps the
    parent's copy. The index subtracts this from the sub-agent's tokens.
    """
    t = Tokens()
    for agg in child.get("sessions", {}).values():
        for key, (i, o, cr, cc) in agg.get("usage", {}).items():
            if key in parent_ids:
                t.add(Tokens(i, o, cr, cc, 0, i + o + cr + cc))
    return t


def usage_ids(data: dict[str, Any]) -> set[str]:
    """Response ids that a main file's state counted."""
    ids: set[str] = set()
    for agg in data.get("sessions", {}).values():
        ids.update(agg.get("usage", {}))
    return ids


class ClaudeFormat(AgentFormat):
    name: AgentName = "claude"

    def default_roots(
        self, env: Mapping[str, str] | None = None, home: Path | None = None
    ) -> list[Path]:
        env = os.environ if env is None else env
        home = Path.home() if home is None else home
        configured = env.get("CLAUDE_CONFIG_DIR", "").split(",")
        candidates = [Path(p.strip()).expanduser() for p in configured if p.strip()]
        if candidates:  # "every ~/.claude path lives under that directory instead"
            return dedupe_roots(candidates)
        xdg = env.get("XDG_CONFIG_HOME") or str(home / ".config")
        return dedupe_roots([Path(xdg) / "claude", home / ".claude"])

    def iter_files(self, roots: Sequence[Path]) -> Iterator[str]:
        for root in roots:
            # projects/<enc>/<id>.jsonl, <enc>/<id>/subagents/agent-*.jsonl: depth 3 suffices;
            # tool-results and other side folders hold no .jsonl transcripts.
            yield from walk(root / "projects", lambda n: n.endswith(".jsonl"), 3)

    def owns(self, path: str, roots: Sequence[Path]) -> bool:
        return path.endswith(".jsonl") and any(is_inside(path, str(r / "projects")) for r in roots)

    def parse_file(
        self, path: str, state: FileState | None, budget: int | None = None
    ) -> ParseResult:
        run = parse_lines(path, state, lambda data: _FileParser(path, data), budget)
        return ParseResult(
            sessions=run.parser.sessions(path),
            messages=run.parser.messages,
            usage=list(run.parser.usage.values()),
            state=run.state,
            reset=run.reset,
            bytes_read=run.bytes_read,
            malformed=run.malformed,
            complete=run.complete,
        )

    def merge(self, parts: list[Part]) -> tuple[Session, set[str]]:
        # The session's own file (stem == id) is the primary; others are /resume-bug appendices
        # whose content is distinct, so numbers add up.
        def rank(p: Part) -> tuple[bool, int]:
            stem = os.path.basename(p.path)[: -len(".jsonl")]
            return (
                stem == p.session.id or stem == "agent-" + p.session.id,
                p.session.message_count,
            )

        primary = max(parts, key=rank)
        s = merge_common(parts, primary)
        if len(parts) > 1:
            s.tokens = Tokens()
            s.message_count = 0
            best = 0
            for p in parts:
                s.tokens.add(p.session.tokens)
                s.message_count += p.session.message_count
                for m in p.session.models:
                    if m not in s.models:
                        s.models.append(m)
                starts = [t for t in (s.started, p.session.started) if t is not None]
                s.started = min(starts) if starts else None
                lasts = [t for t in (s.last_activity, p.session.last_activity) if t is not None]
                s.last_activity = max(lasts) if lasts else None
                r = _TITLE_RANK.get(p.session.title_source or "", 0)
                if r > best:
                    best = r
                    s.title, s.title_source = p.session.title, p.session.title_source
        if s.is_subagent:
            not_resumable(s, "a sub-agent transcript cannot be resumed on its own")
        elif not s.cwd:
            not_resumable(s, "the transcript records no working directory")
        else:
            resumable(s, ["claude", "--resume", s.id], s.cwd)
        return s, {p.path for p in parts}

    def new_session_argv(self, session_id: str) -> list[str] | None:
        return ["claude", "--session-id", session_id]

    def continue_argv(self) -> list[str]:
        return ["claude", "--continue"]


FORMAT = ClaudeFormat()
