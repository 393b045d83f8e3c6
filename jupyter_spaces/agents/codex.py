"""Codex CLI rollouts: ``$CODEX_HOME/{sessions,archived_sessions}/…/rollout-…-<uuid>.jsonl[.zst]``.

Reference: agent-formats.md section 2. Rules implemented here:

* roots: each directory of a comma-separated ``CODEX_HOME`` (as ccusage accepts), else
  ``~/.codex``; ``sessions/`` (date folders) and ``archived_sessions/``; ``.jsonl.zst`` is
  stream-decompressed (and re-read whole on change, since a compressed file is replaced, not
  appended to);
* three formats: the ``{timestamp,type,payload}`` envelope (resumable with ``codex resume <id>``),
  the mid-2025 Rust rollout with a bare ``{id,timestamp,instructions,git}`` header, and the
  spring-2025 TypeScript ``rollout-*.json`` document; the last two are indexed but marked not
  resumable, as current Codex cannot resume them;
* the FIRST ``session_meta`` is the thread; a later one with another id starts a replay of the
  parent's history (sub-agents and forks copy it, all written within one second): lines in that
  second are neither messages nor the first prompt, and their ``token_count``s only move the
  running total forward;
* tokens: the delta of ``total_token_usage`` between ``token_count`` events (so repeated events
  add nothing), ``last_token_usage`` when there is no usable total; ``cached`` and ``reasoning``
  are subsets of input and output;
* first prompt: the first ``event_msg/user_message`` (prefix ``## My request for Codex:``
  stripped), never a ``response_item`` user message (Codex injects context that way); legacy
  files use user messages that do not start with an injected-context tag;
* title: the newest ``thread_name`` of ``$CODEX_HOME/session_index.jsonl`` (``read_titles``), else
  the first prompt; model: ``turn_context.model``; cwd: latest ``turn_context.cwd`` for resume.

Whether ``codex resume <id>`` finds archived threads is UNCONFIRMED: archived sessions are offered
for resume with that caveat. The ``_``-joined dual-id filenames and segment rotation are
UNCONFIRMED: ids come from ``session_meta`` first, and an inode change re-reads the file.

Why one module of over 400 lines: one CLI's file format, whose rules (envelopes, replays,
running totals) depend on each other; split, each part would need the others to be read.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import zstandard

from .base import (
    MAX_ZST_OUTPUT,
    AgentFormat,
    FileState,
    LineReader,
    ParseResult,
    Part,
    as_int,
    as_path,
    as_ts,
    dedupe_roots,
    feed,
    first_str,
    is_inside,
    merge_common,
    newline_before,
    not_resumable,
    parse_lines,
    read_whole_json,
    records,
    resumable,
    small_json,
    walk,
)
from .claude import brief
from .model import (
    ASSISTANT,
    MESSAGE_TEXT_CAP,
    PROMPT_CAP,
    SUMMARY,
    TITLE_CAP,
    TOOL_CALL,
    TOOL_RESULT,
    USER,
    AgentName,
    Message,
    Session,
    Tokens,
    UsageEvent,
    clean_line,
    iso_to_epoch,
)

USER_MESSAGE_BEGIN = "## My request for Codex:"
# User-role text that Codex injects (protocol.rs and context fragments), not typed by a person.
INJECTED_PREFIXES = (
    "<environment_context>",
    "<user_instructions>",
    "<INSTRUCTIONS>",
    "# AGENTS.md instructions for ",
    "<user_shell_command>",
    "<turn_aborted>",
    "<subagent_notification>",
    "<collaboration_mode>",
    "<realtime_conversation>",
    "<personality_spec>",
    "<skill>",
    "<tool_context>",
    "<reasoning_context>",
    "<pinned_notes>",
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ENV_CWD = re.compile(r"<cwd>(.*?)</cwd>", re.S)
_TOOL_CALLS = frozenset(("function_call", "custom_tool_call", "local_shell_call"))
_TOOL_OUTPUTS = frozenset(("function_call_output", "custom_tool_call_output"))

FMT_ROLLOUT = "codex-rollout"
FMT_LEGACY_HEADER = "codex-legacy-header"
FMT_TS_JSON = "codex-ts-json"
_NOT_RESUMABLE = {
    FMT_LEGACY_HEADER: "a rollout from before September 2025 (bare header format); current Codex "
    "cannot resume it",
    FMT_TS_JSON: "a rollout of the 2025 TypeScript Codex CLI; current Codex cannot resume it",
}


def filename_id(path: str) -> str:
    """The thread id in a rollout file name (the first UUID after the timestamp), else the stem."""
    name = os.path.basename(path)
    m = _UUID.search(name)
    return m.group(0) if m else name.split(".", 1)[0]


def _content_text(content: Any, kinds: tuple[str, ...]) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "\n".join(
        c["text"]
        for c in content
        if isinstance(c, dict) and c.get("type") in kinds and isinstance(c.get("text"), str)
    )


class _FileParser:
    def __init__(self, path: str, data: dict[str, Any] | None) -> None:
        d = data or {}
        self.path = path
        self.id: str | None = d.get("id")
        self.format: str | None = d.get("format")
        self.meta: dict[str, Any] = d.get("meta", {})
        self.cwd: str | None = d.get("cwd")
        self.turn_cwd: str | None = d.get("turn_cwd")
        self.started: str | None = d.get("started")
        self.last_ts: str | None = d.get("last_ts")
        self.models: list[str] = d.get("models", [])
        self.first_prompt: str | None = d.get("first_prompt")
        self.message_count: int = d.get("message_count", 0)
        self.replay: str | None = d.get("replay")
        self.prev_total: list[int] | None = d.get("prev_total")
        # [input incl. cached, cached, output incl. reasoning, reasoning, total]
        self.tok: list[int] = d.get("tok", [0, 0, 0, 0, 0])
        self.seq: int = d.get("seq", 0)
        # The model of the current turn, and how many token_counts moved the running total.
        self.model: str | None = d.get("model")
        self.n_usage: int = d.get("n_usage", 0)
        self.messages: list[Message] = []
        self.usage: list[UsageEvent] = []

    def dump(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "format": self.format,
            "meta": self.meta,
            "cwd": self.cwd,
            "turn_cwd": self.turn_cwd,
            "started": self.started,
            "last_ts": self.last_ts,
            "models": self.models,
            "first_prompt": self.first_prompt,
            "message_count": self.message_count,
            "replay": self.replay,
            "prev_total": self.prev_total,
            "tok": self.tok,
            "seq": self.seq,
            "model": self.model,
            "n_usage": self.n_usage,
        }

    def feed(self, rec: dict[str, Any]) -> None:
        t = rec.get("type")
        ts = as_ts(rec.get("timestamp"))
        if self.format is None:
            if isinstance(rec.get("payload"), dict) and isinstance(t, str):
                self.format = FMT_ROLLOUT
            elif isinstance(rec.get("id"), str) and t is None:
                self.format = FMT_LEGACY_HEADER
                self._header(rec, ts, rec.get("git"))
                return
            else:
                return  # nothing recognisable yet; wait for a header
        if ts is not None and (self.last_ts is None or ts > self.last_ts):
            self.last_ts = ts
        if self.format == FMT_LEGACY_HEADER:
            if rec.get("record_type") is None and isinstance(t, str):
                self._item(rec, ts, legacy=True)
            return
        payload = rec.get("payload")
        if not isinstance(payload, dict):
            return
        if t == "session_meta":
            if self.id is None:
                self._header(payload, ts, rec.get("git"))
            elif payload.get("id") != self.id and ts is not None:
                # A sub-agent or fork: the parent's meta and history follow, all in this second.
                self.replay = ts[:19]
            return
        if self.replay is not None:
            if ts is None or ts[:19] == self.replay:
                if t == "event_msg" and payload.get("type") == "token_count":
                    self._tokens(payload, count=False)
                return
            self.replay = None
        if t == "turn_context":
            cwd = as_path(payload.get("cwd"))
            if cwd is not None:
                self.turn_cwd = cwd
            model = payload.get("model")
            if isinstance(model, str) and 0 < len(model) <= 256:
                self.model = model
                if model not in self.models and len(self.models) < 16:
                    self.models.append(model)
        elif t == "event_msg":
            et = payload.get("type")
            if et == "user_message" and isinstance(payload.get("message"), str):
                self._prompt(payload["message"], ts)
            elif et == "token_count":
                self._tokens(payload, count=True, ts=ts)
        elif t == "response_item":
            self._item(payload, ts, legacy=False)
        elif t == "compacted" and isinstance(payload.get("message"), str):
            self._emit([("system", SUMMARY, payload["message"][:MESSAGE_TEXT_CAP])], ts)

    def _header(self, p: dict[str, Any], ts: str | None, git: Any) -> None:
        self.id = first_str(p.get("id")) or filename_id(self.path)
        self.started = as_ts(p.get("timestamp")) or ts
        self.cwd = as_path(p.get("cwd"))
        for key in (
            "cli_version",
            "originator",
            "model_provider",
            "forked_from_id",
            "agent_nickname",
            "agent_role",
            "parent_thread_id",
        ):
            if isinstance(p.get(key), str) and len(p[key]) <= 1024:
                self.meta[key] = p[key]
        # Free-form (a string, or an object naming the spawning thread): kept only while small.
        source = small_json(p.get("source"))
        if source is not None:
            self.meta["source"] = source
        if isinstance(git, dict):
            if isinstance(git.get("branch"), str) and len(git["branch"]) <= 1024:
                self.meta["git_branch"] = git["branch"]
            url = git.get("repository_url")
            if isinstance(url, str) and len(url) <= 1024:
                self.meta["repository_url"] = url

    def _prompt(self, text: str, ts: str | None) -> None:
        text = text.removeprefix(USER_MESSAGE_BEGIN).strip()
        if not text:
            return
        self.message_count += 1
        if self.first_prompt is None:
            self.first_prompt = clean_line(text, PROMPT_CAP)
        self._emit([("user", USER, text[:MESSAGE_TEXT_CAP])], ts)

    def _item(self, p: dict[str, Any], ts: str | None, legacy: bool) -> None:
        it = p.get("type")
        if it == "message":
            role = p.get("role")
            if role == "assistant":
                text = _content_text(p.get("content"), ("output_text", "text"))
                if text.strip():
                    self.message_count += 1
                    self._emit([("assistant", ASSISTANT, text[:MESSAGE_TEXT_CAP])], ts)
            elif role == "user" and legacy:
                text = _content_text(p.get("content"), ("input_text", "text")).strip()
                if text.startswith(INJECTED_PREFIXES):
                    if self.cwd is None and (m := _ENV_CWD.search(text)):
                        self.cwd = as_path(m.group(1).strip())
                elif text:
                    self._prompt(text, ts)
        elif it in _TOOL_CALLS:
            name = first_str(p.get("name"), it) or it
            args = p.get("arguments", p.get("input", p.get("action")))
            if isinstance(args, str) and args.startswith("{"):
                with contextlib.suppress(ValueError, RecursionError):
                    args = json.loads(args)
            self._emit([("assistant", TOOL_CALL, f"{name}: {brief(args)}")], ts)
        elif it in _TOOL_OUTPUTS:
            out = p.get("output")
            if isinstance(out, str) and out.startswith("{"):
                try:
                    decoded = json.loads(out)
                    if isinstance(decoded, dict) and "output" in decoded:
                        out = decoded["output"]
                except (ValueError, RecursionError):
                    pass
            self._emit([("tool", TOOL_RESULT, brief(out))], ts)

    def _tokens(self, payload: dict[str, Any], count: bool, ts: str | None = None) -> None:
        info = payload.get("info")
        if not isinstance(info, dict):
            return
        total = _usage(info.get("total_token_usage"))
        last = _usage(info.get("last_token_usage"))
        delta: list[int] | None
        if total is not None:
            prev = self.prev_total
            if prev is None:
                delta = total
            elif all(t >= p for t, p in zip(total, prev, strict=True)):
                delta = [t - p for t, p in zip(total, prev, strict=True)]
            else:
                # The running total went down (a new thread total after a replay, or a reset).
                delta = last if last is not None else total
            self.prev_total = total
        else:
            delta = last
        if count and delta is not None:
            self.tok = [a + b for a, b in zip(self.tok, delta, strict=True)]
            self._usage_event(delta, ts)

    def _usage_event(self, delta: list[int], ts: str | None) -> None:
        """One event per ``token_count`` that moved the running total (a repeated event adds
        nothing, so it is no response of its own)."""
        inp, cached, out, reasoning, _total = delta
        t = iso_to_epoch(ts) if ts else None
        if t is None or not (inp or out):
            return  # no time to place it, or a compaction's zero-input, zero-output count
        self.n_usage += 1
        self.usage.append(
            UsageEvent(
                self.id or filename_id(self.path),
                str(self.n_usage),
                t,
                self.model,
                input=max(inp - cached, 0),
                output=out,
                cache_read=min(cached, inp),
                reasoning=reasoning,
            )
        )

    def _emit(self, out: list[tuple[str, str, str]], ts: str | None) -> None:
        # The id is fixed by the first message: a header met later cannot move messages already
        # stored to another session.
        if self.id is None:
            self.id = filename_id(self.path)
        sid = self.id
        seq = self.seq
        self.seq += 1
        for sub, (role, kind, text) in enumerate(out):
            self.messages.append(Message(sid, seq, sub, role, kind, text, ts))

    def session(self) -> Session:
        s = Session(agent="codex", id=self.id or filename_id(self.path), files=[self.path])
        s.format = self.format or FMT_ROLLOUT
        s.cwd = self.cwd or self.turn_cwd
        s.started = iso_to_epoch(self.started) if self.started else None
        s.last_activity = iso_to_epoch(self.last_ts) if self.last_ts else s.started
        s.models = list(self.models)
        s.first_prompt = self.first_prompt
        if self.first_prompt:
            s.title = clean_line(self.first_prompt, TITLE_CAP)
            s.title_source = "prompt"
        s.message_count = self.message_count
        inp, cached, out, reasoning, total = self.tok
        s.tokens = Tokens(
            input=max(inp - cached, 0),
            output=out,
            cache_read=min(cached, inp),
            reasoning=reasoning,
            total=total or inp + out,
        )
        s.version = self.meta.get("cli_version")
        s.git_branch = self.meta.get("git_branch")
        source = self.meta.get("source")
        spawn = source.get("subagent") if isinstance(source, dict) else None
        s.is_subagent = spawn is not None
        if s.is_subagent:
            parent = None
            if isinstance(spawn, dict) and isinstance(spawn.get("thread_spawn"), dict):
                parent = spawn["thread_spawn"].get("parent_thread_id")
            s.parent_id = first_str(parent, self.meta.get("parent_thread_id"))
        s.meta = {k: v for k, v in self.meta.items() if k not in ("cli_version", "git_branch")}
        if self.turn_cwd:
            s.meta["turn_cwd"] = self.turn_cwd
        s.meta["archived"] = "archived_sessions" in Path(self.path).parts
        return s


def _usage(u: Any) -> list[int] | None:
    if not isinstance(u, dict):
        return None
    inp = as_int(u.get("input_tokens"))
    out = as_int(u.get("output_tokens"))
    return [
        inp,
        as_int(u.get("cached_input_tokens")),
        out,
        as_int(u.get("reasoning_output_tokens")),
        as_int(u.get("total_tokens")) or inp + out,
    ]


def _parse_ts_json(path: str) -> ParseResult:
    doc, size = read_whole_json(path)
    p = _FileParser(path, None)
    p.format = FMT_TS_JSON
    malformed = 0
    if isinstance(doc, dict) and isinstance(doc.get("session"), dict):
        p._header(doc["session"], None, None)
        p.last_ts = p.started
        items = doc.get("items")
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                malformed += 1
                continue
            try:
                p._item(item, None, legacy=True)
            except Exception:
                malformed += 1  # one odd item is not the end of the conversation
    else:
        malformed = 1
    return _whole_file(p, size, malformed)


def _whole_file(p: _FileParser, size: int, malformed: int) -> ParseResult:
    """The result of a file read whole (legacy JSON, zstd archives): it replaces what was kept."""
    s = p.session()
    return ParseResult(
        sessions={s.id: s},
        messages=p.messages,
        usage=p.usage,
        state=FileState(size, malformed, {}),
        reset=True,
        bytes_read=size,
        malformed=malformed,
    )


def read_titles(path: str, offset: int) -> tuple[dict[str, str], int, int, int]:
    """New ``thread_name``s of ``session_index.jsonl`` from ``offset``: (id -> name, new offset,
    bytes read, malformed lines). Later lines win, as the file is append-only."""
    titles: dict[str, str] = {}
    with open(path, "rb") as f:
        if not newline_before(f, offset):
            offset = 0
        f.seek(offset)
        reader = LineReader(f, offset)
        bad = [0]
        for rec in records(reader, bad):
            tid, name = rec.get("id"), rec.get("thread_name")
            if isinstance(tid, str) and isinstance(name, str) and 0 < len(tid) <= 256:
                titles[tid] = name[:TITLE_CAP]
    return titles, reader.offset, reader.offset - offset, bad[0] + reader.oversized


class CodexFormat(AgentFormat):
    name: AgentName = "codex"

    def default_roots(
        self, env: Mapping[str, str] | None = None, home: Path | None = None
    ) -> list[Path]:
        env = os.environ if env is None else env
        home = Path.home() if home is None else home
        configured = [
            Path(p.strip()).expanduser() for p in env.get("CODEX_HOME", "").split(",") if p.strip()
        ]
        return dedupe_roots(configured or [home / ".codex"])

    def iter_files(self, roots: Sequence[Path]) -> Iterator[str]:
        for root in roots:
            yield from walk(root / "sessions", _is_rollout, 3)
            yield from walk(root / "archived_sessions", _is_rollout, 3)

    def title_files(self, roots: Sequence[Path]) -> list[str]:
        """The ``session_index.jsonl`` files that hold thread names."""
        return [
            str(r / "session_index.jsonl") for r in roots if (r / "session_index.jsonl").is_file()
        ]

    def owns(self, path: str, roots: Sequence[Path]) -> bool:
        subdirs = ("sessions", "archived_sessions")
        return _is_rollout(os.path.basename(path)) and any(
            is_inside(path, str(r / sub)) for r in roots for sub in subdirs
        )

    def parse_file(
        self, path: str, state: FileState | None, budget: int | None = None
    ) -> ParseResult:
        if path.endswith(".json"):
            return _parse_ts_json(path)
        if path.endswith(".zst"):
            return self._parse_zst(path)
        run = parse_lines(path, state, lambda data: _FileParser(path, data), budget)
        s = run.parser.session()
        return ParseResult(
            # No session before a header line (the file is created before its first write ends).
            sessions={s.id: s} if run.parser.format else {},
            messages=run.parser.messages,
            usage=run.parser.usage,
            state=run.state,
            reset=run.reset,
            bytes_read=run.bytes_read,
            malformed=run.malformed,
            complete=run.complete,
        )

    def _parse_zst(self, path: str) -> ParseResult:
        p = _FileParser(path, None)
        bad = [0]
        with open(path, "rb") as raw:
            size = os.fstat(raw.fileno()).st_size
            stream = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
            with stream:
                capped = _Capped(stream, MAX_ZST_OUTPUT)
                reader = LineReader(capped, 0, final=True)
                try:
                    for rec in records(reader, bad):
                        feed(p, rec, bad)
                except zstandard.ZstdError:
                    bad[0] += 1  # corrupt from here on: keep what decoded, count the rest as one
        return _whole_file(p, size, bad[0] + reader.oversized + capped.cut)

    def merge(self, parts: list[Part]) -> tuple[Session, set[str]]:
        # The same thread in sessions/ and archived_sessions/, or as .jsonl and .jsonl.zst: keep
        # the live one (a plain file wins over its compressed copy, as in Codex itself).
        def rank(p: Part) -> tuple[bool, bool, bool, float]:
            return (
                not p.gone,
                not p.session.meta.get("archived", False),
                not p.path.endswith(".zst"),
                p.session.last_activity or 0.0,
            )

        primary = max(parts, key=rank)
        s = merge_common(parts, primary)
        cwd = s.meta.get("turn_cwd") or s.cwd
        if s.format in _NOT_RESUMABLE:
            not_resumable(s, _NOT_RESUMABLE[s.format])
        elif s.is_subagent:
            not_resumable(s, "a sub-agent thread cannot be resumed on its own")
        elif not cwd:
            not_resumable(s, "the rollout records no working directory")
        elif s.meta.get("archived"):
            resumable(
                s,
                ["codex", "resume", s.id],
                cwd,
                "archived: whether codex resume finds archived threads is unconfirmed",
            )
        else:
            resumable(s, ["codex", "resume", s.id], cwd)
        return s, {primary.path}

    def continue_argv(self) -> list[str]:
        return ["codex", "resume", "--last"]


class _Capped:
    """A binary stream that ends after ``cap`` bytes (``cut`` is 1 if it had more)."""

    def __init__(self, stream: Any, cap: int) -> None:
        self._stream = stream
        self._left = cap
        self.cut = 0

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            if not self.cut and self._stream.read(1):
                self.cut = 1
            return b""
        data: bytes = self._stream.read(min(n, self._left) if n >= 0 else self._left)
        self._left -= len(data)
        return data


def _is_rollout(name: str) -> bool:
    return name.startswith("rollout-") and name.endswith((".jsonl", ".jsonl.zst", ".json"))


FORMAT = CodexFormat()
