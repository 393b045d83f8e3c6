"""A deterministic corpus of agent CLI session files with the size profile of a heavy user.

Used by ``benchmarks/agents_index.py``. The shapes follow /work/shared/reference/agent-formats.md
(sections 1.3, 2.3, 3.3); every value is synthetic. ``generate(out, scale, seed)`` writes

* ``claude/projects/<encoded cwd>/<sid>.jsonl``: prompts, assistant responses written one line per
  content block (thinking, text, tool_use) that all repeat one ``message.id``, ``requestId`` and
  ``usage`` (some early blocks with a streaming placeholder ``output_tokens``), tool results whose
  payload is repeated in ``toolUseResult`` (as Claude Code does for file reads), titles;
  ``<sid>/subagents/agent-<id>.jsonl`` sub-agents (``isSidechain``) that first replay a few of the
  parent's responses (same message id, another request id), and a few legacy ``agent-*.jsonl``;
* ``codex/sessions/YYYY/MM/DD/rollout-….jsonl``: envelope records with big ``base_instructions``,
  encrypted reasoning, function calls and outputs, ``token_count`` running totals; a few sub-agent
  rollouts that replay the parent's meta; ``archived_sessions/`` with some ``.jsonl.zst``;
* ``gemini-home/.gemini/tmp/<slug>/chats/session-….jsonl``: metadata line, messages upserted by
  id (a reply re-appended once its tool calls finish), ``$set`` patches; ``.project_root`` files.

File sizes are heavy-tailed (log-normal) and scaled so that the total is ``1.2 GB * scale`` over
``3000 * scale`` files, the largest (a Claude transcript) ``90 MB * scale``. Planted words give the
search benchmark terms of known frequency: ``RARE_WORDS`` each occur in about three messages.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zstandard

TOTAL_BYTES = 1_200_000_000
FILES = 3000
LARGEST = 90_000_000
# One of these is planted in the first prompt of each file (file i gets word i % 400), so each
# occurs in about 3000 / 400 sessions at full scale.
RARE_WORDS = [f"zqx{n:04d}rare" for n in range(400)]

_SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]
_EXTRA = ["é", "ß", "→", "日本", "данные", "🙂"]


def _vocabulary(rng: random.Random, n: int = 20000) -> list[str]:
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4))))
    return sorted(words)


def common_words(seed: int, k: int) -> list[str]:
    """The ``k`` most frequent words of the corpus text (the blob's Zipf ranks)."""
    return _vocabulary(random.Random(seed))[:k]


def _blob(seed: int, size: int = 4 << 20) -> str:
    """Zipf-distributed words with code-like punctuation, quotes and newlines (JSON escapes)."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    cum: list[float] = []
    acc = 0.0
    for rank in range(len(vocab)):
        acc += 1 / (rank + 1)
        cum.append(acc)
    out: list[str] = []
    length = 0
    while length < size:
        words = rng.choices(vocab, cum_weights=cum, k=12)
        r = rng.random()
        if r < 0.3:
            line = "    " + words[0] + " = " + words[1] + "(" + ", ".join(words[2:5]) + ")"
        elif r < 0.4:
            line = 'print("' + " ".join(words[:6]) + '")\t# ' + words[6]
        elif r < 0.42:
            line = " ".join(words[:8]) + " " + rng.choice(_EXTRA)
        else:
            line = " ".join(words)
        out.append(line)
        length += len(line) + 1
    return "\n".join(out)


@dataclass
class Spec:
    """One file to write."""

    kind: str  # claude | claude-sub | claude-legacy-sub | codex | codex-sub | codex-archived |
    #           codex-zst | gemini
    index: int
    size: int
    seed: int


class _Text:
    """Slices of the shared blob; the first prompt carries the file's rare word."""

    def __init__(self, blob: str, rng: random.Random, rare: str) -> None:
        self.blob = blob
        self.rng = rng
        self.rare: str | None = rare

    def take(self, length: int) -> str:
        length = max(1, min(length, len(self.blob) - 1))
        start = self.rng.randrange(0, len(self.blob) - length)
        return self.blob[start : start + length]

    def prompt(self, lo: int, hi: int) -> str:
        s = self.prose(lo, hi)
        if self.rare is not None:
            s, self.rare = f"{self.rare} {s}", None
        return s

    def prose(self, lo: int, hi: int) -> str:
        return self.take(int(math.exp(self.rng.uniform(math.log(lo), math.log(hi)))))

    def payload(self) -> str:
        """A tool output: mostly a few KB, sometimes hundreds of KB, rarely MBs."""
        r = self.rng.random()
        if r < 0.75:
            n = self.rng.randint(100, 3000)
        elif r < 0.97:
            n = self.rng.randint(3000, 30_000)
        elif r < 0.997:
            n = self.rng.randint(30_000, 200_000)
        else:
            n = self.rng.randint(200_000, 1_500_000)
        return self._long(n)

    def _long(self, n: int) -> str:
        parts: list[str] = []
        while n > 0:
            k = min(n, len(self.blob) - 1)
            parts.append(self.take(k))
            n -= k
        return "".join(parts)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


def _iso(t: float) -> str:
    import datetime as dt

    d = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _start_time(rng: random.Random) -> float:
    # Sessions of the last ~60 days before a fixed date (deterministic).
    return 1_780_000_000.0 - rng.uniform(0, 60 * 86400)


# -- Claude -------------------------------------------------------------------------------------


def claude_session_id(index: int) -> str:
    return str(uuid.UUID(bytes=hashlib.md5(f"claude-{index}".encode()).digest(), version=4))


def claude_usage(sid: str, k: int) -> dict[str, int]:
    """Usage of response ``k`` of session ``sid`` (a function of both, so sub-agents can replay)."""
    r = random.Random(f"{sid}:{k}")
    return {
        "input_tokens": r.randint(1, 40),
        "cache_creation_input_tokens": r.randint(0, 6000),
        "cache_read_input_tokens": r.randint(5000, 150_000),
        "output_tokens": r.randint(20, 3000),
    }


def claude_cwd(index: int) -> str:
    return f"/home/alice/src/project-{index % 37:02d}/pkg{index % 5}"


def _claude_project(root: Path, cwd: str) -> Path:
    return root / "projects" / "".join(c if c.isalnum() else "-" for c in cwd)


def _claude_records(spec: Spec, text: _Text, sid: str, cwd: str, sub: str | None) -> Iterator[str]:
    rng = text.rng
    t = _start_time(rng)
    env = {
        "isSidechain": sub is not None,
        "userType": "external",
        "cwd": cwd,
        "sessionId": sid,
        "version": "2.1.50",
        "gitBranch": "main",
    }
    if sub is not None:
        env["agentId"] = sub
    parent: str | None = None
    k = 0
    mine = f"{sid[:8]}{sub or ''}"

    def line(rec: dict[str, Any]) -> str:
        nonlocal parent, t
        u = _uuid(rng)
        t += rng.uniform(0.2, 20)
        out = {"parentUuid": parent, **env, **rec, "uuid": u, "timestamp": _iso(t)}
        parent = u
        return _dumps(out)

    if sub is not None:
        # Sidechain replay of the parent's first responses: same message id, new request id.
        yield line({"type": "user", "message": {"role": "user", "content": text.prompt(80, 600)}})
        for j in range(3):
            yield line(
                {
                    "type": "assistant",
                    "requestId": f"req_{sid[:8]}_replay_{sub}_{j}",
                    "message": {
                        "id": f"msg_{sid[:8]}_{j:05d}",
                        "type": "message",
                        "role": "assistant",
                        "model": "claude-sonnet-4-5",
                        "content": [{"type": "text", "text": text.prose(40, 400)}],
                        "stop_reason": "end_turn",
                        "usage": claude_usage(sid[:8], j),
                    },
                }
            )
    else:
        yield _dumps({"type": "custom-title", "customTitle": text.prose(10, 50), "sessionId": sid})
    while True:
        yield line({"type": "user", "message": {"role": "user", "content": text.prompt(30, 1500)}})
        for _ in range(rng.randint(1, 5)):
            usage = claude_usage(mine, k)
            msg_id = f"msg_{mine}_{k:05d}"
            req = f"req_{mine}_{k:05d}"
            k += 1
            blocks: list[dict[str, Any]] = []
            if rng.random() < 0.5:
                blocks.append(
                    {"type": "thinking", "thinking": text.prose(100, 3000), "signature": "sig"}
                )
            if rng.random() < 0.8:
                blocks.append({"type": "text", "text": text.prose(40, 2000)})
            tool = rng.random() < 0.7
            if tool:
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": f"toolu_{mine}_{k}",
                        "name": rng.choice(["Read", "Bash", "Edit", "Grep", "Write"]),
                        "input": {
                            "file_path": f"{cwd}/{text.take(12).split()[0]}.py",
                            "command": text.prose(10, 200),
                        },
                    }
                )
            if not blocks:
                blocks.append({"type": "text", "text": text.prose(40, 400)})
            for b, block in enumerate(blocks):
                u = dict(usage)
                if b < len(blocks) - 1 and rng.random() < 0.3:
                    u["output_tokens"] = rng.randint(1, max(1, usage["output_tokens"] // 4))
                yield line(
                    {
                        "type": "assistant",
                        "requestId": req,
                        "message": {
                            "id": msg_id,
                            "type": "message",
                            "role": "assistant",
                            "model": "claude-opus-4-1" if k % 4 == 0 else "claude-sonnet-4-5",
                            "content": [block],
                            "stop_reason": "tool_use" if tool else "end_turn",
                            "usage": u,
                        },
                    }
                )
            if tool:
                body = text.payload()
                yield line(
                    {
                        "type": "user",
                        "message": {
                            "role": "user",
                            "content": [
                                {
                                    "type": "tool_result",
                                    "tool_use_id": f"toolu_{mine}_{k}",
                                    "content": body,
                                }
                            ],
                        },
                        "toolUseResult": {
                            "type": "text",
                            "file": {"filePath": f"{cwd}/x.py", "content": body},
                        },
                    }
                )
        if rng.random() < 0.05:
            yield _dumps({"type": "ai-title", "aiTitle": text.prose(10, 60), "sessionId": sid})


def _write_claude(root: Path, spec: Spec, text: _Text) -> list[Path]:
    if spec.kind == "claude":
        sid = claude_session_id(spec.index)
        cwd = claude_cwd(spec.index)
        path = _claude_project(root, cwd) / f"{sid}.jsonl"
        return [_fill(path, _claude_records(spec, text, sid, cwd, None), spec.size)]
    # A sub-agent of the main session with the same index modulo the main count (see plan()).
    parent_index = spec.seed % 1_000_000
    sid = claude_session_id(parent_index)
    cwd = claude_cwd(parent_index)
    agent = hashlib.md5(f"agent-{spec.index}".encode()).hexdigest()[:17]
    proj = _claude_project(root, cwd)
    if spec.kind == "claude-sub":
        path = proj / sid / "subagents" / f"agent-{agent}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / f"agent-{agent}.meta.json").write_text(
            json.dumps({"agentType": "general-purpose", "spawnDepth": 1})
        )
    else:
        path = proj / f"agent-{agent}.jsonl"
    return [_fill(path, _claude_records(spec, text, sid, cwd, agent), spec.size)]


# -- Codex --------------------------------------------------------------------------------------


def codex_thread_id(index: int) -> str:
    return str(uuid.UUID(bytes=hashlib.md5(f"codex-{index}".encode()).digest(), version=4))


def _codex_records(text: _Text, tid: str, cwd: str, parent: str | None) -> Iterator[str]:
    rng = text.rng
    t = _start_time(rng)

    def rec(type_: str, payload: dict[str, Any], **kw: Any) -> str:
        return _dumps({"timestamp": _iso(t), "type": type_, "payload": payload, **kw})

    def meta(id_: str, source: Any) -> str:
        return rec(
            "session_meta",
            {
                "id": id_,
                "timestamp": _iso(t),
                "cwd": cwd,
                "originator": "codex_cli_rs",
                "cli_version": "0.98.0",
                "source": source,
                "model_provider": "openai",
                "base_instructions": {"text": text.prose(8000, 20000)},
            },
            git={"commit_hash": "0" * 40, "branch": "main", "repository_url": "git@x:a/b.git"},
        )

    if parent is not None:
        yield meta(tid, {"subagent": {"thread_spawn": {"parent_thread_id": parent, "depth": 1}}})
        # The parent's meta and a token count replayed within the same second.
        yield meta(parent, "cli")
        yield rec(
            "event_msg",
            {
                "type": "token_count",
                "info": {
                    "total_token_usage": _cx_usage(50_000, 40_000, 2000, 900),
                    "last_token_usage": _cx_usage(9000, 8000, 300, 100),
                    "model_context_window": 272000,
                },
                "rate_limits": None,
            },
        )
        t += 1.5
    else:
        yield meta(tid, "cli")
    total = [0, 0, 0, 0]
    while True:
        t += rng.uniform(1, 30)
        yield rec(
            "turn_context",
            {
                "cwd": cwd,
                "approval_policy": "on-request",
                "sandbox_policy": {"type": "workspace-write"},
                "model": "gpt-5-codex",
                "effort": "medium",
                "summary": "auto",
            },
        )
        env = f"<environment_context>\n  <cwd>{cwd}</cwd>\n</environment_context>"
        prompt = text.prompt(30, 1500)
        for content in (env, prompt):
            yield rec(
                "response_item",
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": content}],
                },
            )
        yield rec("event_msg", {"type": "user_message", "message": prompt, "images": []})
        for _ in range(rng.randint(1, 6)):
            t += rng.uniform(0.5, 10)
            yield rec(
                "response_item",
                {
                    "type": "reasoning",
                    "summary": [{"type": "summary_text", "text": text.prose(40, 400)}],
                    "encrypted_content": hashlib.sha256(str(t).encode()).hexdigest()
                    * rng.randint(20, 120),
                },
            )
            call = f"call_{tid[:8]}_{int(t * 1000)}"
            yield rec(
                "response_item",
                {
                    "type": "function_call",
                    "name": "shell",
                    "arguments": json.dumps({"command": ["bash", "-lc", text.prose(10, 200)]}),
                    "call_id": call,
                },
            )
            out = json.dumps(
                {"output": text.payload(), "metadata": {"exit_code": 0, "duration_seconds": 0.1}}
            )
            yield rec(
                "response_item", {"type": "function_call_output", "call_id": call, "output": out}
            )
            inp = rng.randint(5000, 120_000)
            last = _cx_usage(inp, rng.randint(0, inp), rng.randint(50, 3000), 0)
            last["reasoning_output_tokens"] = rng.randint(0, last["output_tokens"])
            total = [a + b for a, b in zip(total, _cx_list(last), strict=True)]
            yield rec(
                "event_msg",
                {
                    "type": "token_count",
                    "info": {
                        "total_token_usage": _cx_usage(*total),
                        "last_token_usage": last,
                        "model_context_window": 272000,
                    },
                    "rate_limits": None,
                },
            )
        answer = text.prose(40, 2500)
        yield rec("event_msg", {"type": "agent_message", "message": answer})
        yield rec(
            "response_item",
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": answer}],
            },
        )


def _cx_usage(inp: int, cached: int, out: int, reasoning: int) -> dict[str, int]:
    return {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out,
    }


def _cx_list(u: dict[str, int]) -> list[int]:
    return [
        u["input_tokens"],
        u["cached_input_tokens"],
        u["output_tokens"],
        u["reasoning_output_tokens"],
    ]


def _write_codex(root: Path, spec: Spec, text: _Text) -> list[Path]:
    tid = codex_thread_id(spec.index)
    cwd = f"/home/alice/src/project-{spec.index % 23:02d}"
    day = 1 + spec.index % 28
    stamp = f"2026-05-{day:02d}T{spec.index % 24:02d}-{spec.index % 60:02d}-00"
    name = f"rollout-{stamp}-{tid}.jsonl"
    parent = codex_thread_id(spec.seed % 1_000_000) if spec.kind == "codex-sub" else None
    records = _codex_records(text, tid, cwd, parent)
    if spec.kind in ("codex-archived", "codex-zst"):
        path = root / "archived_sessions" / name
    else:
        path = root / "sessions" / "2026" / "05" / f"{day:02d}" / name
    if spec.kind != "codex-zst":
        return [_fill(path, records, spec.size)]
    # Archived and compressed: written whole (zstd), as Codex does for cold rollouts.
    path.parent.mkdir(parents=True, exist_ok=True)
    cctx = zstandard.ZstdCompressor(level=3)
    zpath = path.with_name(name + ".zst")
    with open(zpath, "wb") as f, cctx.stream_writer(f) as w:
        n = 0
        for r in records:
            data = r.encode()
            w.write(data)
            n += len(data)
            if n >= spec.size:
                break
    return [zpath]


# -- Gemini -------------------------------------------------------------------------------------


def gemini_session_id(index: int) -> str:
    return str(uuid.UUID(bytes=hashlib.md5(f"gemini-{index}".encode()).digest(), version=4))


def _gemini_records(text: _Text, sid: str, project: str) -> Iterator[str]:
    rng = text.rng
    t = _start_time(rng)
    yield _dumps(
        {
            "sessionId": sid,
            "projectHash": hashlib.sha256(project.encode()).hexdigest(),
            "startTime": _iso(t),
            "lastUpdated": _iso(t),
            "kind": "main",
        }
    )
    n = 0
    while True:
        t += rng.uniform(1, 30)
        n += 1
        yield _dumps(
            {
                "id": f"{sid[:8]}-u{n}",
                "timestamp": _iso(t),
                "type": "user",
                "content": [{"text": text.prompt(30, 1500)}],
            }
        )
        yield _dumps({"$set": {"lastUpdated": _iso(t)}})
        for _ in range(rng.randint(1, 4)):
            t += rng.uniform(0.5, 10)
            n += 1
            mid = f"{sid[:8]}-g{n}"
            call: dict[str, Any] = {
                "id": f"run_shell_command-{n}",
                "name": "run_shell_command",
                "args": {"command": text.prose(10, 200)},
                "status": "executing",
                "timestamp": _iso(t),
            }
            inp = rng.randint(5000, 120_000)
            cached = rng.randint(0, inp)
            out, thoughts = rng.randint(20, 2000), rng.randint(0, 500)
            reply = {
                "id": mid,
                "timestamp": _iso(t),
                "type": "gemini",
                "content": text.prose(40, 1500),
                "toolCalls": [call],
                "thoughts": [{"subject": "plan", "description": text.prose(40, 300)}],
                "model": "gemini-2.5-pro",
                "tokens": {
                    "input": inp,
                    "output": out,
                    "cached": cached,
                    "thoughts": thoughts,
                    "tool": 0,
                    "total": inp + out + thoughts,
                },
            }
            yield _dumps(reply)
            # The same message re-appended once the tool call finished (upsert by id).
            body = text.payload()
            call.update(
                status="success",
                result=[
                    {
                        "functionResponse": {
                            "id": call["id"],
                            "name": "run_shell_command",
                            "response": {"output": body},
                        }
                    }
                ],
                resultDisplay=body[:2000],
            )
            yield _dumps(reply)
            yield _dumps({"$set": {"lastUpdated": _iso(t)}})
        if n > 3 and rng.random() < 0.05:
            yield _dumps({"$set": {"summary": text.prose(10, 60)}})


def _write_gemini(root: Path, spec: Spec, text: _Text) -> list[Path]:
    sid = gemini_session_id(spec.index)
    slug = f"project-{spec.index % 19:02d}"
    project = f"/home/alice/src/{slug}"
    proj = root / ".gemini" / "tmp" / slug
    (proj / "chats").mkdir(parents=True, exist_ok=True)
    marker = proj / ".project_root"
    if not marker.exists():
        marker.write_text(project)
    path = proj / "chats" / f"session-2026-05-04T08-{spec.index % 60:02d}-{sid[:8]}.jsonl"
    return [_fill(path, _gemini_records(text, sid, project), spec.size)]


# -- the plan -----------------------------------------------------------------------------------


def _fill(path: Path, records: Iterator[str], size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as f:
        for r in records:
            # Stop short rather than overshoot by a big tool output (keeps the total on target).
            if n + len(r) > size and n >= size // 2:
                break
            f.write(r)
            n += len(r)
    return path


def plan(scale: float, seed: int) -> list[Spec]:
    """Which files, of which kind and target size: log-normal sizes (sigma 1.7), the largest
    pinned to ``LARGEST * scale``, the others scaled to the total."""
    rng = random.Random(seed)
    n = max(30, round(FILES * scale))
    total = TOTAL_BYTES * scale
    largest = LARGEST * scale
    raw = sorted((rng.lognormvariate(0, 1.7) for _ in range(n - 1)), reverse=True)
    k = (total - largest) / sum(raw)
    sizes = [max(2000, min(int(r * k), int(largest * 0.8))) for r in raw]
    rng.shuffle(sizes)
    mix = (
        ["claude"] * 52
        + ["claude-sub"] * 9
        + ["claude-legacy-sub"] * 1
        + ["codex"] * 20
        + ["codex-sub"] * 1
        + ["codex-archived"] * 3
        + ["codex-zst"] * 1
        + ["gemini"] * 13
    )
    kinds = [mix[i * len(mix) // (n - 1)] for i in range(n - 1)]
    rng.shuffle(kinds)
    specs = [Spec("claude", 0, int(largest), seed)]
    mains = {"claude": [0], "codex": []}
    for i, (kind, size) in enumerate(zip(kinds, sizes, strict=True), start=1):
        if kind == "codex-zst":
            size = min(size, 8_000_000)  # archived rollouts are the cold, mostly small ones
        specs.append(Spec(kind, i, size, seed * 1_000_003 + i))
        if kind in ("claude", "codex"):
            mains[kind].append(i)
    # Sub-agents name a parent main session (encoded in the seed's low digits, see writers).
    for s in specs:
        if s.kind in ("claude-sub", "claude-legacy-sub"):
            s.seed = mains["claude"][s.index % len(mains["claude"])]
        elif s.kind == "codex-sub" and mains["codex"]:
            s.seed = mains["codex"][s.index % len(mains["codex"])]
        elif s.kind == "codex-sub":
            s.kind = "codex"
    return specs


_BLOB: str | None = None
_BLOB_SEED: int | None = None


def _write(args: tuple[str, Spec, int]) -> tuple[str, int, int]:
    out, spec, seed = args
    global _BLOB, _BLOB_SEED
    if _BLOB is None or seed != _BLOB_SEED:
        _BLOB, _BLOB_SEED = _blob(seed), seed
    rng = random.Random(spec.index * 7919 + seed)
    text = _Text(_BLOB, rng, RARE_WORDS[spec.index % len(RARE_WORDS)])
    root = Path(out)
    if spec.kind.startswith("claude"):
        paths = _write_claude(root / "claude", spec, text)
    elif spec.kind.startswith("codex"):
        paths = _write_codex(root / "codex", spec, text)
    else:
        paths = _write_gemini(root / "gemini-home", spec, text)
    return spec.kind, len(paths), sum(p.stat().st_size for p in paths)


def generate(out: Path, scale: float = 1.0, seed: int = 4, workers: int = 2) -> dict[str, Any]:
    """Write the corpus under ``out``; returns counts and bytes per kind."""
    out.mkdir(parents=True, exist_ok=True)
    specs = sorted(plan(scale, seed), key=lambda s: -s.size)  # big ones first: better packing
    counts: dict[str, list[int]] = {}
    with ProcessPoolExecutor(workers) as pool:
        for kind, files, size in pool.map(
            _write, [(str(out), s, seed) for s in specs], chunksize=4
        ):
            c = counts.setdefault(kind, [0, 0])
            c[0] += files
            c[1] += size
    (out / "corpus.json").write_text(json.dumps({"scale": scale, "seed": seed, "kinds": counts}))
    return {"scale": scale, "seed": seed, "kinds": counts}


def roots(out: Path) -> dict[str, list[str]]:
    """The agent roots of a generated corpus, for SessionIndex."""
    return {
        "claude": [str(out / "claude")],
        "codex": [str(out / "codex")],
        "gemini": [str(out / "gemini-home" / ".gemini")],
    }


def env(out: Path) -> dict[str, str]:
    """The CLIs' environment overrides that point at the corpus."""
    return {
        "CLAUDE_CONFIG_DIR": str(out / "claude"),
        "CODEX_HOME": str(out / "codex"),
        "GEMINI_CLI_HOME": str(out / "gemini-home"),
    }


def corpus_files(out: Path) -> Iterator[tuple[str, int]]:
    for dirpath, _dirs, files in os.walk(out):
        for f in files:
            if f.endswith((".jsonl", ".zst")):
                p = os.path.join(dirpath, f)
                yield p, os.path.getsize(p)
