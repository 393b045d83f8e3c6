"""Fake ``claude``/``codex``/``gemini`` executables on PATH and private CLI homes, for tests that
launch, restart and resume agent panes against a real server and real tmux."""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jupyter_spaces.agent_state.instrument import REPORTER

FAKE = Path(__file__).with_name("fake_agent.py")


@dataclass
class AgentEnv:
    bin: Path
    claude: Path  # CLAUDE_CONFIG_DIR
    codex: Path  # CODEX_HOME
    gemini: Path  # GEMINI_CLI_HOME
    log: Path

    def calls(self, agent: str | None = None) -> list[dict[str, Any]]:
        """Every start of a fake CLI so far: agent, argv (after the program, without the flags
        jupyter-spaces adds for agent state; ``argv_full`` has them), cwd, pane, id."""
        if not self.log.exists():
            return []
        out = [json.loads(line) for line in self.log.read_text().splitlines()]
        for c in out:
            c["argv_full"], c["argv"] = c["argv"], without_state_flags(c["argv"])
        return [c for c in out if agent is None or c["agent"] == agent]

    def uninstall(self, agent: str) -> None:
        (self.bin / agent).unlink()


def without_state_flags(argv: list[str]) -> list[str]:
    """``argv`` without the state hooks jupyter-spaces gives an agent CLI (``--settings`` with
    only our hooks for claude, ``-c notify=[...]`` running our reporter for codex)."""
    out, i = [], 0
    while i < len(argv):
        flag, value = argv[i], argv[i + 1] if i + 1 < len(argv) else ""
        if (flag == "--settings" and _our_hooks(value)) or (
            flag == "-c" and value.startswith("notify=") and str(REPORTER) in value
        ):
            i += 2
        else:
            out.append(flag)
            i += 1
    return out


def _our_hooks(value: str) -> bool:
    try:
        hooks = json.loads(value)["hooks"]
    except (ValueError, KeyError, TypeError):
        return False
    commands = [h["command"] for groups in hooks.values() for g in groups for h in g["hooks"]]
    return bool(commands) and all(str(REPORTER) in c for c in commands)


def install_fakes(bin_dir: Path, names: tuple[str, ...] = ("claude", "codex", "gemini")) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    body = FAKE.read_text()
    for name in names:
        exe = bin_dir / name
        exe.write_text(f"#!{sys.executable}\n{body}")
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def make_agent_env(base: Path) -> AgentEnv:
    """Fake CLIs in ``base/agent-bin`` and their homes, with the folders a server watches
    already there, as on a machine where the CLIs ran."""
    env = AgentEnv(
        bin=base / "agent-bin",
        claude=base / "claude-home",
        codex=base / "codex-home",
        gemini=base / "gemini-home",
        log=base / "agent-calls.jsonl",
    )
    install_fakes(env.bin)
    for d in (env.claude / "projects", env.codex / "sessions", env.gemini / ".gemini" / "tmp"):
        d.mkdir(parents=True)
    return env


def environ(env: AgentEnv) -> dict[str, str]:
    """The variables that point a server (and the panes it starts) at the fakes."""
    return {
        "PATH": f"{env.bin}{os.pathsep}{os.environ['PATH']}",
        "CLAUDE_CONFIG_DIR": str(env.claude),
        "CODEX_HOME": str(env.codex),
        "GEMINI_CLI_HOME": str(env.gemini),
        "FAKE_AGENT_LOG": str(env.log),
    }


@pytest.fixture
def agent_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AgentEnv:
    """Must come before ``api`` in a test's arguments: the private tmux server, started by the
    first request, takes this environment (PATH, the CLI homes) for every pane."""
    env = make_agent_env(tmp_path)
    for key, value in environ(env).items():
        monkeypatch.setenv(key, value)
    return env
