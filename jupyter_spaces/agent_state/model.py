"""The agent states, and their form in the pane's tmux option ``@jsp-agent-state``.

The state lives in tmux, beside the process: a hook writes it there without the network, and it
outlives a jupyter-server restart as the pane does. The value is the pane's last few changes,
oldest first, separated by ``|``; each is four words, ``<state> <POSIX seconds> <source>
<reason or ->``. Keeping a few, not one, lets the server record changes that came faster than
it looked (a prompt, then a permission request a moment later). Anything else is refused,
whoever wrote it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

STATES = ("starting", "working", "needs_input", "idle", "exited")
SOURCES = ("hooks", "transcript", "heuristic")
OPTION = "@jsp-agent-state"
# A ``tmux wait-for`` channel: a hook signals it after writing, so the server looks at once.
CHANNEL = "jsp-agent-state"
_REASON = re.compile(r"[a-z_]{1,32}")
TRAIL = 8  # changes kept in the option


@dataclass(frozen=True)
class AgentState:
    state: str
    since: float
    source: str
    reason: str | None = None

    def option_value(self) -> str:
        return f"{self.state} {self.since:.3f} {self.source} {self.reason or '-'}"


def parse(raw: str) -> AgentState | None:
    """The state an option value holds; None for an empty value; ValueError for anything
    that is not exactly a state this module would write."""
    raw = raw.strip()
    if not raw:
        return None
    words = raw.split(" ")
    if len(words) != 4:
        raise ValueError(f"expected 4 words, got {len(words)}")
    state, since, source, reason = words
    if state not in STATES:
        raise ValueError(f"unknown state {state[:40]!r}")
    if source not in SOURCES:
        raise ValueError(f"unknown source {source[:40]!r}")
    if not re.fullmatch(r"\d{1,12}(\.\d{1,9})?", since) or not math.isfinite(float(since)):
        raise ValueError(f"bad time {since[:40]!r}")
    if reason != "-" and not _REASON.fullmatch(reason):
        raise ValueError(f"bad reason {reason[:40]!r}")
    return AgentState(state, float(since), source, None if reason == "-" else reason)


def parse_trail(raw: str) -> list[AgentState]:
    """The changes an option value holds, oldest first (empty for an empty value);
    ValueError if any part is not a state this module would write."""
    out = []
    for part in raw.strip().split("|"):
        state = parse(part)
        if state is not None:
            out.append(state)
    if len(out) > 4 * TRAIL:  # the server appends; whoever writes next trims it to TRAIL
        raise ValueError(f"more than {4 * TRAIL} changes")
    return out


def trail_value(trail: list[AgentState]) -> str:
    return "|".join(s.option_value() for s in trail[-TRAIL:])
