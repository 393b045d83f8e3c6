"""Records an agent pane's state in its tmux option; run by the agent CLI's own hooks.

    python -I -S report.py TMUX SOCKET SESSION EVENTS [STATE]

``EVENTS`` names whose events arrive: ``claude`` or ``gemini`` (a hook's JSON on stdin),
``codex`` (``notify`` appends its JSON as the last argument), or ``exited`` (the pane's wrapper,
after the agent ended). The server chose ``SESSION`` when it started the pane, so an event is
credited to that pane and no other, whatever the agent's environment says.

It runs on every hook, so it is small and stands alone: the standard library only, started
without ``site``. It never prints (a hook's output would reach the model) and never fails the
agent: every error ends it quietly with status 0. The mappings from events to states, with
their sources, are in docs/agent-signals.md.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from typing import Any

# Kept equal to model.OPTION, model.CHANNEL and model.TRAIL (a test checks): this file imports
# nothing of the package, which the agent's Python may not even see.
OPTION = "@jsp-agent-state"
CHANNEL = "jsp-agent-state"
TRAIL = 8
_SESSION = re.compile(r"jsp_[a-z0-9]+_[a-z0-9]+")

State = tuple[str, str | None]  # (state, reason)

_CLAUDE: dict[str, State] = {
    "UserPromptSubmit": ("working", None),
    "PreToolUse": ("working", None),
    "PostToolUse": ("working", None),
    "PermissionRequest": ("needs_input", "permission"),
    "Stop": ("idle", None),
    "StopFailure": ("idle", "error"),
    "SessionEnd": ("exited", None),
}
# Tools that put a question to the user before they run.
_CLAUDE_ASKS = {"AskUserQuestion": "question", "ExitPlanMode": "plan"}
_CLAUDE_NOTIFICATIONS: dict[str, State] = {
    "permission_prompt": ("needs_input", "permission"),
    "elicitation_dialog": ("needs_input", "question"),
    "elicitation_url_dialog": ("needs_input", "login"),
    "agent_needs_input": ("needs_input", "question"),
    "idle_prompt": ("idle", "idle_prompt"),
}
_GEMINI: dict[str, State] = {
    "BeforeAgent": ("working", None),
    "BeforeTool": ("working", None),
    "AfterTool": ("working", None),
    "AfterAgent": ("idle", None),
}
_STAYS = ("clear", "resume")  # a SessionEnd for these: the CLI goes on in a new session


def claude_state(event: dict[str, Any]) -> State | None:
    name = event.get("hook_event_name")
    if not isinstance(name, str):
        return None
    if event.get("agent_id") and name not in ("PermissionRequest", "Notification"):
        return None  # a sub-agent's step: the main turn's state does not change
    if name == "SessionStart":
        # "compact" comes in the middle of a turn; the others leave it at its prompt.
        return None if event.get("source") == "compact" else ("idle", None)
    if name == "SessionEnd" and event.get("reason") in _STAYS:
        return None
    if name == "PreToolUse" and event.get("tool_name") in _CLAUDE_ASKS:
        return ("needs_input", _CLAUDE_ASKS[str(event["tool_name"])])
    if name == "Notification":
        kind = event.get("notification_type")
        if isinstance(kind, str):
            return _CLAUDE_NOTIFICATIONS.get(kind)
        # Versions before notification_type: only the message tells.
        message = str(event.get("message", "")).lower()
        if "permission" in message:
            return ("needs_input", "permission")
        if "waiting for your input" in message:
            return ("idle", "idle_prompt")
        return None
    return _CLAUDE.get(name)


def gemini_state(event: dict[str, Any]) -> State | None:
    name = event.get("hook_event_name")
    if name == "SessionStart":
        return ("idle", None)
    if name == "SessionEnd":
        return None if event.get("reason") == "clear" else ("exited", None)
    if name == "Notification":
        kind = event.get("notification_type")
        return ("needs_input", "permission") if kind == "ToolPermission" else None
    return _GEMINI.get(name) if isinstance(name, str) else None


def codex_state(event: dict[str, Any]) -> State | None:
    # The only type notify sends (approvals never reach notify: docs/agent-signals.md).
    return ("idle", None) if event.get("type") == "agent-turn-complete" else None


def state_of(events: str, args: list[str], stdin: str) -> State | None:
    if events == "exited":
        return ("exited", None)
    raw = args[-1] if events == "codex" and args else stdin
    try:
        event = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(event, dict):
        return None
    if events == "claude":
        return claude_state(event)
    if events == "gemini":
        return gemini_state(event)
    if events == "codex":
        return codex_state(event)
    return None


def record(tmux: str, socket: str, session: str, state: State) -> None:
    """Add the change to the pane's option unless the pane is already in that state (a turn
    runs many tools; the time it began is what counts), then wake the server."""
    base = [tmux, "-S", socket]
    target = f"={session}:"
    trail = subprocess.run(
        [*base, "show-options", "-p", "-v", "-t", target, OPTION],
        capture_output=True,
        text=True,
        timeout=5,
        check=False,
    ).stdout.strip()
    changes = [c for c in trail.split("|") if c.count(" ") == 3]
    last = changes[-1].split(" ") if changes else []
    if last and last[0] == state[0] and last[3] == (state[1] or "-"):
        return
    changes.append(f"{state[0]} {time.time():.3f} hooks {state[1] or '-'}")
    value = "|".join(changes[-TRAIL:])
    subprocess.run(
        [*base, "set-option", "-p", "-t", target, OPTION, value, ";", "wait-for", "-S", CHANNEL],
        capture_output=True,
        timeout=5,
        check=False,
    )


def main(argv: list[str]) -> int:
    if len(argv) < 4 or not _SESSION.fullmatch(argv[2]):
        return 0
    tmux, socket, session, events = argv[:4]
    stdin = "" if events in ("codex", "exited") else sys.stdin.read(1 << 20)
    state = state_of(events, argv[4:], stdin)
    if state is not None:
        record(tmux, socket, session, state)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception:  # a hook must never break the agent it serves
        sys.exit(0)
