"""Gemini CLI chats: ``~/.gemini/tmp/<project-id>/chats/session-<time>-<id8>.{jsonl,json}``.

Reference: agent-formats.md section 3. Rules implemented here:

* root: ``$GEMINI_CLI_HOME/.gemini`` if set, else ``~/.gemini``; project folders are slugs (>=
  v0.29, with ``.project_root`` and ``projects.json``) or legacy ``sha256(projectRoot)`` hex;
  a hash folder's root is found by the index from other sessions' cwds (``project_hash``);
* ``.jsonl`` (>= v0.39) is an event log, applied in order: the metadata line; message lines
  upserted by ``id`` (the last version stays at the first position); ``{"$set": {...}}`` patches
  (``messages`` replaces the whole list, ``sessionId`` renames); ``{"$rewindTo": id}`` drops that
  message and all after it (an unknown id drops all). The state keeps one small entry per message
  (seq, type, tokens, model, prompt) so an append re-reads nothing; message text is re-emitted only
  for the records that changed;
* ``.json`` (v0.2 .. v0.38) is one ``ConversationRecord`` rewritten whole: re-read on change,
  retried later when caught half-written; when both exist for one id the later one counts;
* sub-agents: ``chats/<parentId>/<id>.jsonl`` or ``kind: "subagent"``; not resumable;
* first prompt: the first user message whose text is not ignored by ``isIgnoredUserContent``
  (``/``, ``?``, ``<session_context>``, ``<hook_context>``), ``displayContent`` preferred, cut at
  the ``@file`` expansion marker; title: ``summary`` else the first prompt;
* tokens: Σ over current ``gemini`` messages; ``input`` includes ``cached`` when
  ``total == input + output + thoughts + tool`` (ccusage's rule), thoughts count as output.

Why one module of over 400 lines: one CLI's file formats (JSONL with upserts and rewinds, the
legacy whole-file JSON), whose rules depend on each other.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from .base import (
    AgentFormat,
    FileState,
    ParseResult,
    Part,
    as_int,
    as_ts,
    dedupe_roots,
    first_str,
    is_inside,
    merge_common,
    not_resumable,
    parse_lines,
    read_whole_json,
    resumable,
    storable,
)
from .claude import brief
from .model import (
    ASSISTANT,
    HARNESS,
    INFO,
    MESSAGE_TEXT_CAP,
    PROMPT_CAP,
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

IGNORED_PREFIXES = ("/", "?", "<session_context>", "<hook_context>")
INJECTED_PART_PREFIXES = ("<session_context>", "<hook_context>")
FILE_CONTENT_MARKER = "\n--- Content from referenced files ---"
FMT_JSONL = "gemini-jsonl"
FMT_JSON = "gemini-json"

# A record entry in the parse state: [id, seq, type, tokens | None, model | None, prompt | None,
# counted, timestamp]
_ID, _SEQ, _TYPE, _TOK, _MODEL, _PROMPT, _COUNTED, _TS = range(8)


def _parts(content: Any) -> list[Any]:
    if isinstance(content, list):
        return content
    return [content] if content is not None else []


def _text(content: Any, drop_injected: bool) -> str:
    out = []
    for p in _parts(content):
        t = p if isinstance(p, str) else p.get("text") if isinstance(p, dict) else None
        if not isinstance(t, str) or (isinstance(p, dict) and p.get("thought") is True):
            continue
        # Hook context is appended as its own part beside the prompt: drop the part, not all.
        if drop_injected and t.lstrip().startswith(INJECTED_PART_PREFIXES):
            continue
        out.append(t)
    return "\n".join(out)


def _tokens(t: Any) -> list[int] | None:
    if not isinstance(t, dict):
        return None
    inp, out, cached = as_int(t.get("input")), as_int(t.get("output")), as_int(t.get("cached"))
    thoughts, tool, total = as_int(t.get("thoughts")), as_int(t.get("tool")), as_int(t.get("total"))
    uncached = inp - cached if total == inp + out + thoughts + tool and inp >= cached else inp
    return Tokens(
        input=uncached + tool,
        output=out + thoughts,
        cache_read=cached,
        reasoning=thoughts,
        total=uncached + tool + cached + out + thoughts,
    ).as_list()


class _FileParser:
    def __init__(self, path: str, data: dict[str, Any] | None) -> None:
        d = data or {}
        self.path = path
        self.id: str | None = d.get("id")
        self.start: str | None = d.get("start")
        self.last: str | None = d.get("last")
        self.kind: str | None = d.get("kind")
        self.summary: str | None = d.get("summary")
        self.project_hash: str | None = d.get("project_hash")
        self.recs: list[list[Any]] = d.get("recs", [])
        self.next_seq: int = d.get("next_seq", 0)
        self.pos = {r[_ID]: i for i, r in enumerate(self.recs)}
        # What this call changed: messages by seq, truncation point, seqs replaced in place.
        self.pending: dict[int, list[Message]] = {}
        self.truncate: int | None = None
        self.replaced: set[int] = set()
        self.renamed_from: str | None = None

    def dump(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "start": self.start,
            "last": self.last,
            "kind": self.kind,
            "summary": self.summary,
            "project_hash": self.project_hash,
            "recs": self.recs,
            "next_seq": self.next_seq,
        }

    @property
    def sid(self) -> str:
        return self.id or os.path.basename(self.path).split(".", 1)[0]

    def _touch(self, ts: Any) -> None:
        ts = as_ts(ts)
        if ts is not None and (self.last is None or ts > self.last):
            self.last = ts

    def feed(self, rec: dict[str, Any]) -> None:
        if _message_id(rec.get("id")):
            self._upsert(rec)
        elif isinstance(rec.get("$set"), dict):
            self._set(rec["$set"])
        elif "$rewindTo" in rec:
            self._rewind(rec["$rewindTo"])
        elif isinstance(rec.get("sessionId"), str):
            self._metadata(rec)

    def _metadata(self, rec: dict[str, Any]) -> None:
        self._rename(rec.get("sessionId"))
        self.start = self.start or as_ts(rec.get("startTime"))
        self._touch(rec.get("lastUpdated"))
        kind = rec.get("kind")
        self.kind = kind if isinstance(kind, str) and len(kind) <= 64 else self.kind
        h = rec.get("projectHash")
        self.project_hash = h if isinstance(h, str) and len(h) <= 128 else self.project_hash

    def _rename(self, new: Any) -> None:
        if not _message_id(new) or new == self.id:
            return
        # What the index stored the session under so far: the id, or the file name's stem if
        # messages came before any id.
        if self.renamed_from is None and (self.id is not None or self.recs):
            self.renamed_from = self.sid
        self.id = new
        for msgs in self.pending.values():
            for m in msgs:
                m.session_id = new

    def _set(self, patch: dict[str, Any]) -> None:
        self._rename(patch.get("sessionId"))
        self._touch(patch.get("lastUpdated"))
        if isinstance(patch.get("summary"), str):
            self.summary = patch["summary"][: TITLE_CAP * 4]
        if isinstance(patch.get("kind"), str) and len(patch["kind"]) <= 64:
            self.kind = patch["kind"]
        if isinstance(patch.get("messages"), list):
            self._cut(0)
            for m in patch["messages"]:
                if isinstance(m, dict) and _message_id(m.get("id")):
                    self._upsert(m)

    def _rewind(self, target: Any) -> None:
        i = self.pos.get(target) if isinstance(target, str) else None
        self._cut(i if i is not None else 0)

    def _cut(self, i: int) -> None:
        """Drop records from position ``i`` on."""
        seq = self.recs[i][_SEQ] if i < len(self.recs) else self.next_seq
        for r in self.recs[i:]:
            del self.pos[r[_ID]]
        del self.recs[i:]
        self.next_seq = seq
        self.truncate = seq if self.truncate is None else min(self.truncate, seq)
        self.pending = {k: v for k, v in self.pending.items() if k < seq}
        self.replaced = {k for k in self.replaced if k < seq}

    def _upsert(self, m: dict[str, Any]) -> None:
        i = self.pos.get(m["id"])
        if i is None:
            seq = self.next_seq
            self.next_seq += 1
            self.pos[m["id"]] = len(self.recs)
            self.recs.append([])
            i = len(self.recs) - 1
        else:
            seq = self.recs[i][_SEQ]
            if self.truncate is None or seq < self.truncate:
                self.replaced.add(seq)
        ts = as_ts(m.get("timestamp"))
        self._touch(ts)
        raw_type = m.get("type")
        mtype = raw_type if isinstance(raw_type, str) and len(raw_type) <= 64 else "info"
        out: list[tuple[str, str, str]] = []
        prompt: str | None = None
        counted = False
        tok: list[int] | None = None
        model: str | None = None
        if mtype == "user":
            shown = m.get("displayContent", m.get("content"))
            # isIgnoredUserContent, applied after dropping injected parts: hook context sits in a
            # part of its own next to the words typed.
            text = _text(shown, drop_injected=True).strip()
            if text and not text.startswith(IGNORED_PREFIXES):
                counted = True
                prompt = clean_line(text.split(FILE_CONTENT_MARKER, 1)[0], PROMPT_CAP) or None
                out.append(("user", USER, text[:MESSAGE_TEXT_CAP]))
            elif text:
                out.append(("user", HARNESS, text[:MESSAGE_TEXT_CAP]))
            for p in _parts(m.get("content")):
                if isinstance(p, dict) and isinstance(p.get("functionResponse"), dict):
                    out.append(("tool", TOOL_RESULT, brief(p["functionResponse"].get("response"))))
        elif mtype == "gemini":
            counted = True
            tok = _tokens(m.get("tokens"))
            model = first_str(m.get("model"))
            model = model if model is None or len(model) <= 256 else None
            text = _text(m.get("content"), drop_injected=False)
            if text.strip():
                out.append(("assistant", ASSISTANT, text[:MESSAGE_TEXT_CAP]))
            calls = m.get("toolCalls")
            for c in calls if isinstance(calls, list) else []:
                if not isinstance(c, dict):
                    continue
                name = first_str(c.get("displayName"), c.get("name")) or "tool"
                out.append(("assistant", TOOL_CALL, f"{name}: {brief(c.get('args'))}"))
                result = c.get("resultDisplay")
                if not isinstance(result, str) or not result:
                    result = c.get("result")
                if result:
                    out.append(("tool", TOOL_RESULT, brief(result)))
        else:
            text = _text(m.get("content"), drop_injected=False).strip()
            if text:
                out.append(("system", INFO, text[:MESSAGE_TEXT_CAP]))
        self.recs[i] = [m["id"], seq, mtype, tok, model, prompt, counted, ts]
        self.pending[seq] = [
            Message(self.sid, seq, sub, role, kind, text, ts)
            for sub, (role, kind, text) in enumerate(out)
        ]

    def session(self) -> Session:
        s = Session(agent="gemini", id=self.sid, files=[self.path])
        s.format = FMT_JSON if self.path.endswith(".json") else FMT_JSONL
        first_ts = next((r[_TS] for r in self.recs if r[_TS]), None)
        s.started = iso_to_epoch(self.start or first_ts or "") if (self.start or first_ts) else None
        s.last_activity = iso_to_epoch(self.last) if self.last else s.started
        tokens = Tokens()
        for r in self.recs:
            if r[_TOK]:
                tokens.add(Tokens.from_list(r[_TOK]))
            if r[_MODEL] and r[_MODEL] not in s.models:
                s.models.append(r[_MODEL])
            if r[_COUNTED]:
                s.message_count += 1
            if s.first_prompt is None and r[_PROMPT]:
                s.first_prompt = r[_PROMPT]
        s.tokens = tokens
        for source, value in (("summary", self.summary), ("prompt", s.first_prompt)):
            if value and value.strip():
                s.title, s.title_source = clean_line(value, TITLE_CAP), source
                break
        chats_sub = os.path.basename(os.path.dirname(self.path))
        nested = os.path.basename(os.path.dirname(os.path.dirname(self.path))) == "chats"
        s.is_subagent = self.kind == "subagent" or nested
        s.parent_id = chats_sub if nested else None
        project_dir = (
            os.path.dirname(os.path.dirname(self.path))
            if not nested
            else (os.path.dirname(os.path.dirname(os.path.dirname(self.path))))
        )
        s.cwd = project_root(project_dir)
        if self.project_hash:
            s.meta["project_hash"] = self.project_hash
        elif len(name := os.path.basename(project_dir)) == 64:
            s.meta["project_hash"] = name
        return s

    def usage(self, sid: str) -> list[UsageEvent]:
        """Every current ``gemini`` message's usage (the state holds them all, and upserts and
        rewinds change earlier ones, so the file's events are replaced whole each time)."""
        out = []
        for r in self.recs:
            tok, ts = r[_TOK], r[_TS]
            t = iso_to_epoch(ts) if ts else None
            if not tok or t is None:
                continue
            i, o, cr, cc, reasoning, _total = tok
            if i or o or cr or cc:
                out.append(UsageEvent(sid, r[_ID], t, r[_MODEL], i, o, cr, cc, reasoning))
        return out

    def result(self, state: FileState, reset: bool, read: int, malformed: int) -> ParseResult:
        s = self.session()
        sid = s.id
        messages = [m for seq in sorted(self.pending) for m in self.pending[seq]]
        # Nothing yet (no metadata line, no message): not a session to list. Anything to store or
        # to delete needs the session's part, though.
        listed = bool(self.id or self.recs or messages or self.truncate is not None)
        return ParseResult(
            sessions={sid: s} if listed else {},
            messages=messages,
            state=state,
            reset=reset,
            bytes_read=read,
            malformed=malformed,
            truncate={sid: self.truncate} if self.truncate is not None and not reset else {},
            replaced={sid: self.replaced} if self.replaced and not reset else {},
            renamed={self.renamed_from: sid} if self.renamed_from and not reset else {},
            usage=self.usage(sid) if listed else [],
            usage_replace={sid} if listed else set(),
        )


def project_root(project_dir: str) -> str | None:
    """The project root of a ``tmp/<project-id>`` folder: its ``.project_root`` file, else the
    ``projects.json`` entry naming it; None for legacy hash folders (resolved by the index)."""
    try:
        st = os.stat(os.path.join(project_dir, ".project_root"))
        return _read_marker(project_dir, st.st_mtime_ns)
    except OSError:
        pass
    registry = os.path.join(os.path.dirname(os.path.dirname(project_dir)), "projects.json")
    try:
        mtime = os.stat(registry).st_mtime_ns
    except OSError:
        return None
    return _slug_roots(registry, mtime).get(os.path.basename(project_dir))


@lru_cache(maxsize=1024)
def _read_marker(project_dir: str, mtime_ns: int) -> str | None:
    try:
        with open(os.path.join(project_dir, ".project_root"), encoding="utf-8") as f:
            root = f.read(1 << 16).strip()
    except (OSError, UnicodeDecodeError):
        return None
    return root or None


@lru_cache(maxsize=16)
def _slug_roots(registry: str, mtime_ns: int) -> dict[str, str]:
    try:
        with open(registry, "rb") as f:
            doc = json.loads(f.read(1 << 24))
    except (OSError, ValueError):
        return {}
    projects = doc.get("projects") if isinstance(doc, dict) else None
    if not isinstance(projects, dict):
        return {}
    return {slug: root for root, slug in projects.items() if isinstance(slug, str)}


def registered_roots(root: Path) -> list[str]:
    """Project roots listed in ``projects.json`` (candidates for legacy hash folders)."""
    registry = root / "projects.json"
    try:
        mtime = registry.stat().st_mtime_ns
    except OSError:
        return []
    return list(_slug_roots(str(registry), mtime).values())


class GeminiFormat(AgentFormat):
    name: AgentName = "gemini"

    def default_roots(
        self, env: Mapping[str, str] | None = None, home: Path | None = None
    ) -> list[Path]:
        env = os.environ if env is None else env
        base = env.get("GEMINI_CLI_HOME") or str(Path.home() if home is None else home)
        return dedupe_roots([Path(base).expanduser() / ".gemini"])

    def iter_files(self, roots: Sequence[Path]) -> Iterator[str]:
        for root in roots:
            try:
                projects = [e.path for e in os.scandir(root / "tmp") if e.is_dir()]
            except OSError:
                continue
            for proj in projects:
                try:
                    entries = list(os.scandir(os.path.join(proj, "chats")))
                except OSError:
                    continue
                for e in entries:
                    try:
                        if not storable(e.path):
                            continue
                        if e.is_file() and _is_chat(e.name):
                            yield e.path
                        elif e.is_dir(follow_symlinks=False):
                            yield from (
                                s.path
                                for s in os.scandir(e.path)
                                if s.name.endswith(".jsonl") and s.is_file() and storable(s.path)
                            )
                    except OSError:
                        continue

    def owns(self, path: str, roots: Sequence[Path]) -> bool:
        parent = os.path.dirname(path)
        name = os.path.basename(path)
        direct = os.path.basename(parent) == "chats" and _is_chat(name)
        nested = os.path.basename(os.path.dirname(parent)) == "chats" and name.endswith(".jsonl")
        return (direct or nested) and any(is_inside(path, str(r / "tmp")) for r in roots)

    def parse_file(
        self, path: str, state: FileState | None, budget: int | None = None
    ) -> ParseResult:
        if path.endswith(".json"):
            return self._parse_json(path)
        run = parse_lines(path, state, lambda data: _FileParser(path, data), budget)
        res = run.parser.result(run.state, run.reset, run.bytes_read, run.malformed)
        res.complete = run.complete
        return res

    def _parse_json(self, path: str) -> ParseResult:
        doc, size = read_whole_json(path)
        p = _FileParser(path, None)
        malformed = 0
        if isinstance(doc, dict):
            p._metadata(doc)
            messages = doc.get("messages")
            for m in messages if isinstance(messages, list) else []:
                if not (isinstance(m, dict) and _message_id(m.get("id"))):
                    malformed += 1
                    continue
                try:
                    p._upsert(m)
                except Exception:
                    malformed += 1  # one odd message is not the end of the conversation
            if isinstance(doc.get("summary"), str):
                p.summary = doc["summary"][: TITLE_CAP * 4]
        else:
            malformed = 1
        return p.result(FileState(size, malformed, {}), True, size, malformed)

    def merge(self, parts: list[Part]) -> tuple[Session, set[str]]:
        # A resumed legacy .json continues as a .jsonl with the same id: the later one counts.
        primary = max(
            parts,
            key=lambda p: (not p.gone, p.session.last_activity or 0.0, p.path.endswith(".jsonl")),
        )
        s = merge_common(parts, primary)
        self.fill_resume(s)
        return s, {primary.path}

    def fill_resume(self, s: Session) -> None:
        if s.is_subagent:
            not_resumable(s, "sub-agent sessions are hidden from gemini --resume")
        elif not s.cwd:
            not_resumable(s, "the project folder of this session is unknown")
        else:
            resumable(s, ["gemini", "--resume", s.id], s.cwd)

    def new_session_argv(self, session_id: str) -> list[str] | None:
        # --session-id exists from v0.41.0; an older gemini rejects it.
        return ["gemini", "--session-id", session_id]

    def continue_argv(self) -> list[str]:
        return ["gemini", "--resume"]


def _message_id(v: Any) -> bool:
    """Whether ``v`` can be a message or session id (ids are keys of the parse state and of the
    index: short text)."""
    return isinstance(v, str) and 0 < len(v) <= 256


def _is_chat(name: str) -> bool:
    return name.startswith("session-") and name.endswith((".json", ".jsonl"))


FORMAT = GeminiFormat()
