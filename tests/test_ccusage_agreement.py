"""Per-session totals from the usage events agree with ccusage's ``session`` report on the repo's
fixture transcripts (synthetic, in each CLI's documented shape: tests/agents/fixtures.py).

ccusage comes from the npm registry (the newest version with a native binary for this machine,
installed once into a cache folder under /tmp by the benchmark's helper); without npm or the
registry the test is skipped and says why. Known, documented differences are left out of the
fixtures: a Claude sub-agent's replay of a parent response (ccusage counts it twice; we once, as
agent-formats.md 1.4 says) and the older flat ``agent-*.jsonl`` files (ccusage lists them as
sessions of their own; we count them in the session they name).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jupyter_spaces.agents import SessionIndex
from jupyter_spaces.usage.pricing import Pricer

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
    tool_use,
    usage,
    write_lines,
    x_meta,
    x_tokens,
    x_turn,
    x_user,
)

pytestmark = pytest.mark.timeout(900)
CACHE = Path(f"/tmp/jupyter-spaces-ccusage-{os.getuid()}")
S1 = "3f0c9a52-7d1e-4b8a-9c55-1e2f3a4b5c6d"
S2 = "9a9a9a9a-1111-4222-8333-444455556666"
S3 = "1b1b1b1b-2222-4333-8444-555566667777"
TID = "0199a0b1-2c3d-7e4f-8a9b-0c1d2e3f4a5b"
GID = "6d1f2e3a-4b5c-4d6e-8f70-8192a3b4c5d6"


@pytest.fixture(scope="module")
def ccusage() -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        from agents_index import install_ccusage
    finally:
        sys.path.pop(0)
    CACHE.mkdir(exist_ok=True)
    binary = CACHE / "node_modules" / ".bin" / "ccusage"
    if binary.exists() and subprocess.run([str(binary), "--version"]).returncode == 0:
        return binary
    found, why = install_ccusage(CACHE)
    if found is None:
        pytest.skip(f"ccusage cannot be installed here: {why}")
    return found


def u(i: int, o: int, cr: int = 0, cc: int = 0) -> dict[str, int]:
    return {
        "input_tokens": i,
        "output_tokens": o,
        "cache_read_input_tokens": cr,
        "cache_creation_input_tokens": cc,
    }


def corpus(base: Path) -> dict[str, Path]:
    roots = {"claude": base / "claude", "codex": base / "codex", "gemini": base / "gemini"}
    cwd = "/home/alice/app"
    proj = claude_project(roots["claude"], cwd)
    side = {"isSidechain": True}
    write_lines(
        proj / f"{S1}.jsonl",
        [
            c_user(S1, "x", 0),
            # One response in three lines (a streaming placeholder first), then another.
            c_assistant(S1, "m1", {"type": "thinking", "thinking": "…"}, 1, usage=u(1, 1)),
            c_assistant(S1, "m1", text("a"), 2, usage=u(10, 5, 100, 7)),
            c_assistant(S1, "m1", tool_use("Read", {"file_path": "f"}), 3, usage=u(10, 5, 100, 7)),
            c_assistant(S1, "m2", text("b"), 4, usage=u(3, 70, 2000, 0), model="claude-opus-4-1"),
        ],
    )
    write_lines(
        proj / S1 / "subagents" / "agent-a1.jsonl",
        [
            c_user(S1, "find", 5, agentId="a1", **side),
            c_assistant(S1, "m3", text("c"), 6, usage=u(2, 3, 40, 0), agentId="a1", **side),
            c_assistant(S1, "m3", text("d"), 7, usage=u(2, 3, 40, 0), agentId="a1", **side),
        ],
    )
    write_lines(
        proj / S1 / "subagents" / "agent-acompact-7f.jsonl",
        [c_assistant(S1, "m4", text("sum"), 8, usage=u(0, 900, 0, 121_689), **side)],
    )
    bedrock = []
    for n, block in enumerate([text("a"), tool_use("Bash", {"command": "ls"})], start=1):
        r = c_assistant(
            S2,
            "msg_bdrk_01abc",
            block,
            n,
            usage=u(4, 40, 500, 60),
            model="claude-haiku-4-5-20251001",
        )
        del r["requestId"]
        bedrock.append(r)
    write_lines(proj / f"{S2}.jsonl", [c_user(S2, "y", 0), *bedrock])
    write_lines(
        claude_project(roots["claude"], "/home/alice/other") / f"{S3}.jsonl",
        [
            c_user(S3, "z", 0, cwd="/home/alice/other"),
            c_assistant(S3, "m9", text("e"), 1, usage=u(7, 8, 9, 10), cwd="/home/alice/other"),
        ],
    )
    a, b = usage(1000, 800, 50, 20), usage(1600, 1200, 90, 30)
    write_lines(
        codex_path(roots["codex"], TID),
        [
            x_meta(TID, "2026-02-10T14:03:11.000Z"),
            x_turn("2026-02-10T14:03:12.000Z", model="gpt-5"),
            *x_user("2026-02-10T14:03:12.100Z", "hello"),
            x_tokens("2026-02-10T14:03:20.000Z", a, a),
            x_tokens("2026-02-10T14:03:20.500Z", a, a),
            x_tokens("2026-02-10T14:04:10.000Z", b, usage(600, 400, 40, 10)),
        ],
    )
    chats = gemini_chats(roots["gemini"] / ".gemini", "app", cwd)
    tok1 = {"input": 8200, "output": 64, "cached": 6000, "thoughts": 120, "tool": 0, "total": 8384}
    tok2 = {"input": 9000, "output": 80, "cached": 7000, "thoughts": 20, "tool": 0, "total": 9100}
    write_lines(
        chats / f"session-2026-05-04T08-12-{GID[:8]}.jsonl",
        [
            g_meta(GID),
            g_user("u1", "hello", 5),
            g_reply("r1", "", 9, tokens=tok1),
            g_reply("r1", "done", 9, tokens=tok2),
            g_user("u2", "more", 20),
            g_reply("r2", "ok", 25, tokens=tok1),
        ],
    )
    return roots


def run_ccusage(binary: Path, agent: str, roots: dict[str, Path], home: Path) -> dict[str, Any]:
    env = dict(
        os.environ,
        # ccusage reads Gemini CLI's ~/.gemini, whatever GEMINI_CLI_HOME says.
        HOME=str(roots["gemini"] if agent == "gemini" else home),
        TZ="UTC",
        CLAUDE_CONFIG_DIR=str(roots["claude"]),
        CODEX_HOME=str(roots["codex"]),
        GEMINI_CLI_HOME=str(roots["gemini"]),
    )
    r = subprocess.run(
        [str(binary), agent, "session", "--json", "--offline"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=home,
    )
    assert r.returncode == 0, r.stderr
    return dict(json.loads(r.stdout))


def test_per_session_totals_agree_with_ccusage(ccusage: Path, tmp_path: Path) -> None:
    roots = corpus(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    index = SessionIndex(
        tmp_path / "index.sqlite",
        roots={
            "claude": [roots["claude"]],
            "codex": [roots["codex"]],
            "gemini": [roots["gemini"] / ".gemini"],
        },
    )
    try:
        index.sync()
        pricer = Pricer()
        for agent in ("claude", "codex", "gemini"):
            theirs = run_ccusage(ccusage, agent, roots, home)["sessions"]
            assert theirs, f"ccusage found no {agent} session"
            for s in theirs:
                sid = s["sessionId"].rsplit("/", 1)[-1].removeprefix("rollout-")
                sid = next(i for i in (S1, S2, S3, TID, GID) if sid.endswith(i) or i == sid)
                t = index.usage_totals([(agent, sid)])[(agent, sid)]
                # ccusage's Gemini outputTokens leave out thoughts (its totalTokens and cost
                # count them, as output); ours is output with reasoning inside.
                out = t.output - t.reasoning if agent == "gemini" else t.output
                assert (t.input, out, t.cache_read, t.cache_creation, t.total) == (
                    s["inputTokens"],
                    s["outputTokens"],
                    s["cacheReadTokens"],
                    s["cacheCreationTokens"],
                    s["totalTokens"],
                ), (agent, sid, t, s)
                costs = [
                    pricer.cost(
                        e.agent, e.model, e.time, e.input, e.output, e.cache_read, e.cache_creation
                    )
                    for e in index.usage_events(agent=agent)
                    if e.root_id == sid
                ]
                assert None not in costs
                assert sum(c or 0.0 for c in costs) == pytest.approx(
                    s.get("totalCost", s.get("costUSD")), rel=1e-6
                ), s
    finally:
        index.close()
