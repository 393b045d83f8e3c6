"""The flags that make an agent CLI report its state: each CLI's own, documented mechanism.

- claude: ``--settings`` with hooks on the events that change the state. Settings given this
  way are one more source that Claude Code merges; the user's own hooks keep running.
- codex: ``-c notify=[...]``, the program Codex runs when a turn ends.
- gemini: no flag; ``GEMINI_CLI_SYSTEM_SETTINGS_PATH`` names a settings file with hooks, which
  Gemini CLI merges with the user's (the real system settings file, if any, is copied into it).

Every hook runs ``report.py`` with the pane's tmux session named, so a state lands on the pane
the server started and no other. The facts and their sources: docs/agent-signals.md.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPORTER = Path(__file__).with_name("report.py")
CLAUDE_EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PermissionRequest",
    "Notification",
    "Stop",
    "SessionEnd",
)
_TOOL_EVENTS = ("PreToolUse", "PostToolUse", "PermissionRequest")
HOOK_TIMEOUT = 10  # seconds; report.py gives up on tmux after 5


@dataclass(frozen=True)
class Reporter:
    """How one pane's agent reaches ``report.py``: the private tmux server and the pane's
    session. It runs with the server's own Python."""

    tmux: str
    socket: Path
    session: str

    def argv(self) -> list[str]:
        """``report.py``'s argv without its last word (the kind of events)."""
        return [
            sys.executable,
            "-I",
            "-S",
            str(REPORTER),
            self.tmux,
            str(self.socket),
            self.session,
        ]

    def exit_words(self) -> list[str]:
        """What the pane's wrapper needs to record "exited" (see agents/launch.py)."""
        return [sys.executable, str(REPORTER), self.tmux, str(self.socket), self.session]


def tracked_by_hooks(agent: str | None) -> bool:
    return agent in ("claude", "codex")


def with_hooks(agent: str | None, argv: Sequence[str], report: Sequence[str]) -> list[str]:
    """``argv`` with the flags that make ``agent`` run ``report`` at its state changes
    (``report`` without its last word, the events kind, which is added here)."""
    argv = list(argv)
    if not argv or agent not in ("claude", "codex"):
        return argv
    if agent == "claude":
        command = shlex.join([*report, "claude"])
        hook = [{"type": "command", "command": command, "timeout": HOOK_TIMEOUT}]
        hooks = {
            event: [{"matcher": "*", "hooks": hook} if event in _TOOL_EVENTS else {"hooks": hook}]
            for event in CLAUDE_EVENTS
        }
        settings = json.dumps({"hooks": hooks}, separators=(",", ":"))
        return [argv[0], "--settings", settings, *argv[1:]]
    # codex: -c values are TOML; a JSON array of strings is a TOML array too.
    notify = json.dumps([*report, "codex"], ensure_ascii=True)
    return [argv[0], "-c", f"notify={notify}", *argv[1:]]


GEMINI_EVENTS = (
    "SessionStart",
    "BeforeAgent",
    "BeforeTool",
    "AfterTool",
    "AfterAgent",
    "Notification",
    "SessionEnd",
)
GEMINI_SYSTEM_SETTINGS = Path("/etc/gemini-cli/settings.json")


def gemini_settings(path: Path, report: Reporter) -> Path:
    """Write the system settings file a gemini pane gets: the machine's own (Gemini reads only
    one) with our hooks added to each event's list. Private to the user (0600)."""
    try:
        base = json.loads(GEMINI_SYSTEM_SETTINGS.read_text())
        if not isinstance(base, dict):
            base = {}
    except (OSError, ValueError):
        base = {}
    command = shlex.join([*report.argv(), "gemini"])
    hook = {"type": "command", "command": command, "timeout": HOOK_TIMEOUT * 1000}
    found = base.get("hooks")
    hooks: dict[str, Any] = found if isinstance(found, dict) else {}
    for event in GEMINI_EVENTS:
        mine = [{"hooks": [hook]}]
        theirs = hooks.get(event)
        hooks[event] = (theirs if isinstance(theirs, list) else []) + mine
    base["hooks"] = hooks
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(base, f)
    os.replace(tmp, path)
    return path
