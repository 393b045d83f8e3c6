"""Agent state: what every agent pane is doing, recorded over time and announced.

Owns the states last seen (by pane), the history store, and the waiter on tmux's ``wait-for``
channel that hooks signal. The state itself lives in the pane's tmux option (see
``agent_state/model.py``): an agent's hooks write it there, and so does this service for what it
learns from a transcript or from the pane. Reading tmux, then, is the one way to learn a state,
after a hook, at a poll, or after a server restart.

Sources, best first (docs/agent-signals.md has the facts):

- ``hooks``: the CLI's own hooks (Claude Code, Gemini CLI), Codex's ``notify``, and the pane's
  wrapper when the agent exits;
- ``transcript``: the session file's last records (Codex turns; CLIs that have no hooks);
- ``heuristic``: the pane itself, for custom agents and while no transcript is known: output
  means working, quiet means idle, a bell while working means the agent asks for the user.

It builds on ``Panes`` (tmux) and ``Workspaces`` (which panes are agents), and reads transcript
paths from the session index. It starts nothing and writes no workspace file.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..agent_state.history import StateHistory
from ..agent_state.instrument import Reporter, gemini_settings
from ..agent_state.model import CHANNEL, OPTION, TRAIL, AgentState, parse_trail, trail_value
from ..agent_state.turns import transcript_state
from ..agents import SessionIndex
from ..errors import SpacesError
from ..host.tmux import BELL_OPTION, PaneInfo, TmuxError, parse_session_name, session_name
from ..model import Pane
from ..plan import RunPlan
from .panes import Panes, StartExtras
from .settings import SpacesSettings
from .workspaces import Workspaces

# Seconds without output after which a pane tracked by its output counts as idle.
QUIET = 5.0
# A tmux hook: a bell in any pane notes the time of the pane's last output in an option.
BELL_HOOK = f'set-option -p -F {BELL_OPTION} "#{{window_activity}}" ; wait-for -S {CHANNEL}'
# CLIs whose hooks report every state: their transcript only adds what no hook tells.
ALL_HOOKS = ("claude", "gemini")


def iso(t: float | None) -> str | None:
    if t is None or t <= 0:
        return None
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class _Seen:
    state: AgentState
    agent: str | None
    session_id: str | None


class AgentStates:
    def __init__(
        self,
        settings: SpacesSettings,
        log: logging.Logger,
        emit: Callable[[dict[str, Any]], None],
        workspaces: Workspaces,
        panes: Panes,
        index: SessionIndex,
    ) -> None:
        self.settings = settings
        self.log = log
        self.emit = emit
        self.workspaces = workspaces
        self.panes = panes
        self.index = index
        self.history = StateHistory(settings.sessions_index_path.parent / "agent-states.sqlite")
        self._seen: dict[tuple[str, str], _Seen] = {}
        # (pane, session id) -> its transcript, and the last reading of it (by size and mtime)
        self._files: dict[tuple[str, str, str], str] = {}
        self._readings: dict[str, tuple[tuple[int, float], Any]] = {}
        self._refused: set[tuple[str, str, str]] = set()
        self._lock = asyncio.Lock()
        self._waiter: asyncio.Task[None] | None = None
        self._soon: asyncio.Task[None] | None = None
        self._again = False
        # Told (space id, pane id, state, previous state) of each change, as it is announced.
        self.changed: list[Callable[[str, str, str, str | None], None]] = []
        panes.extras = self._extras
        panes.stopped.append(self._stopped)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._waiter = asyncio.ensure_future(self._wait())

    async def stop(self) -> None:
        for task in (self._waiter, self._soon):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self.history.close()

    async def _wait(self) -> None:
        """Refresh whenever a hook signals; the poll covers what comes without a signal."""
        hooked = False
        while True:
            try:
                if not hooked:
                    # Also for a tmux server an older version started (its config differs).
                    await self.panes.tmux.run(
                        ["set-option", "-g", "bell-action", "current"],
                        ["set-hook", "-g", "alert-bell", BELL_HOOK],
                    )
                    hooked = True
                await self.panes.tmux.wait_for(CHANNEL)
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except TmuxError:
                hooked = False  # a new tmux server needs the hook again
                await asyncio.sleep(self.settings.poll_interval)
            except Exception:
                self.log.exception("jupyter-spaces: agent state refresh failed")
                await asyncio.sleep(self.settings.poll_interval)

    def soon(self) -> None:
        """Refresh at once (a transcript changed). Calls while one runs make it run once
        more, after: it may have read the files before this change."""
        self._again = True
        if self._soon is None or self._soon.done():
            self._soon = asyncio.ensure_future(self._refresh_while_asked())

    async def _refresh_while_asked(self) -> None:
        while self._again:
            self._again = False
            try:
                await self.refresh()
            except TmuxError:
                return  # the poll tries again
            except Exception:
                self.log.exception("jupyter-spaces: agent state refresh failed")
                return

    # -- starting a pane ------------------------------------------------------------------

    def _extras(self, name: str, plan: RunPlan) -> StartExtras:
        """An agent pane starts as ``starting``, with its reporter; other panes have no state."""
        if plan.kind != "agent":
            return StartExtras({OPTION: None, BELL_OPTION: None})
        tmux = self.panes.tmux
        report = Reporter(tmux.executable or "tmux", tmux.socket_path, name)
        # The server's own word, not a hook's: until a hook speaks, the other sources may.
        first = AgentState("starting", time.time(), "heuristic")
        ids = parse_session_name(name)
        if ids is not None:
            self._observe(ids, plan.agent, plan.session_id, first)
        env: dict[str, str] = {}
        if plan.agent == "gemini":
            path = gemini_settings(self._gemini_settings(name), report)
            env["GEMINI_CLI_SYSTEM_SETTINGS_PATH"] = str(path)
        return StartExtras({OPTION: first.option_value(), BELL_OPTION: None}, CHANNEL, report, env)

    def _gemini_settings(self, name: str) -> Path:
        return self.panes.tmux.socket_dir / "agents" / f"{name}.gemini.json"

    def _stopped(self, space_id: str, pane_id: str) -> None:
        if self._seen.pop((space_id, pane_id), None) is not None:
            self.history.end(space_id, pane_id, time.time())
        self._gemini_settings(session_name(space_id, pane_id)).unlink(missing_ok=True)

    # -- reading states -------------------------------------------------------------------

    def pane_fields(self, space_id: str, pane: Pane, info: PaneInfo | None) -> dict[str, Any]:
        """The state fields of a pane's JSON (see docs/agent-signals.md)."""
        out: dict[str, Any] = {
            "last_output": iso(info.activity) if info else None,
            "foreground": (info.current_command or None) if info and not info.dead else None,
            "agent_state": None,
            "agent_state_since": None,
            "agent_state_source": None,
            "agent_state_reason": None,
        }
        if pane.kind != "agent":
            return out
        seen = self._seen.get((space_id, pane.id))
        state = seen.state if seen else self._quick(info)
        if state is not None:
            out.update(
                agent_state=state.state,
                agent_state_since=iso(state.since),
                agent_state_source=state.source,
                agent_state_reason=state.reason,
            )
        return out

    def _quick(self, info: PaneInfo | None) -> AgentState | None:
        """A pane's state before the first refresh saw it: what its option says."""
        if info is None or info.dead:
            return AgentState("exited", info.activity if info else time.time(), "heuristic")
        try:
            trail = parse_trail(info.agent_state)
        except ValueError:
            return None
        return trail[-1] if trail else None

    def needs_input(self, space_id: str) -> int:
        return sum(
            1
            for (sid, _), seen in self._seen.items()
            if sid == space_id and seen.state.state == "needs_input"
        )

    def busy(self) -> bool:
        """Whether any agent pane is ``working`` or ``needs_input`` as last seen."""
        return any(s.state.state in ("working", "needs_input") for s in self._seen.values())

    def intervals(self, since: float, until: float) -> list[dict[str, Any]]:
        """Every pane's state intervals overlapping ``[since, until)`` (open ones end now)."""
        return self.history.intervals(since, until, time.time())

    def timeline(self, space_id: str, pane_id: str, since: float) -> dict[str, Any]:
        entry = self.workspaces.entry(space_id)
        if entry.space is None or pane_id not in entry.space.panes:
            raise SpacesError(404, f"no pane {pane_id!r} in space {space_id!r}")
        states = self.history.timeline(space_id, pane_id, since)
        for s in states:
            s["start"], s["end"] = iso(s["start"]), iso(s["end"])
        return {"space_id": space_id, "pane_id": pane_id, "states": states}

    async def refresh(self, infos: dict[tuple[str, str], PaneInfo] | None = None) -> None:
        """Look at every agent pane; record and announce each change."""
        async with self._lock:
            if infos is None:
                infos = await self.panes.states()
            agents = [
                (entry.id, pane)
                for entry in self.workspaces.all()
                if entry.space is not None
                for pane in entry.space.panes.values()
                if pane.kind == "agent"
            ]
            transcripts = await asyncio.to_thread(self._read_transcripts, agents, infos)
            now = time.time()
            writes: list[tuple[str, dict[str, str | None]]] = []
            for space_id, pane in agents:
                key = (space_id, pane.id)
                info = infos.get(key)
                changes, write = self._derive(key, pane, info, transcripts.get(key), now)
                for change in changes:
                    self._observe(key, pane.agent, pane.session_id, change)
                if write is not None and info is not None:
                    options: dict[str, str | None] = {OPTION: write}
                    if changes and changes[-1].reason == "bell":
                        options[BELL_OPTION] = None  # told once: the next bell is a new one
                    writes.append((info.session, options))
            for name, values in writes:
                try:
                    await self.panes.tmux.set_pane_options(name, values)
                except TmuxError as e:
                    self.log.warning("jupyter-spaces: could not record an agent state: %s", e)

    def _derive(
        self,
        key: tuple[str, str],
        pane: Pane,
        info: PaneInfo | None,
        transcript: tuple[str, float, str | None] | None,
        now: float,
    ) -> tuple[list[AgentState], str | None]:
        """(the changes since the last look, oldest first; the option's new value if this
        service learnt a change itself, else None)."""
        seen = self._seen.get(key)
        if info is None or info.dead:
            if seen is not None and seen.state.state == "exited":
                return [], None
            source = seen.state.source if seen else "heuristic"
            return [AgentState("exited", now, source)], None
        try:
            trail = parse_trail(info.agent_state)
        except ValueError as e:
            mark = (key[0], key[1], info.agent_state)
            if mark not in self._refused:
                self._refused.add(mark)
                self.log.warning(
                    "jupyter-spaces: ignored agent state %r of pane %s/%s: %s",
                    info.agent_state[:200],
                    key[0],
                    key[1],
                    e,
                )
            return [], None
        changes = trail if seen is None else [c for c in trail if c.since > seen.state.since]
        if seen is None:
            changes = changes[-1:]  # a first look: the history knows what came before
        if not trail:  # started by a server that knew no states: learn it from here on
            trail = [AgentState("starting", now, "heuristic")]
            changes = trail[:] if seen is None else []
        if trail[-1].state == "exited":
            return changes, None
        later = self._fallback(pane, info, trail[-1], transcript, now)
        if later is None:
            return changes, (trail_value(trail) if not info.agent_state else None)
        return [*changes, later], trail_value([*trail, later][-TRAIL:])

    def _fallback(
        self,
        pane: Pane,
        info: PaneInfo,
        base: AgentState,
        transcript: tuple[str, float, str | None] | None,
        now: float,
    ) -> AgentState | None:
        """A newer state than ``base`` from the transcript or the pane, or None."""
        agent = pane.agent or "custom"
        hooked = base.source == "hooks" and agent in ALL_HOOKS
        if transcript is not None:
            state, when, reason = transcript
            # With hooks, the transcript only adds an interrupt (no hook fires for one).
            usable = not hooked or reason == "interrupted"
            if usable and when > base.since and (state, reason) != (base.state, base.reason):
                return AgentState(state, when, "transcript", reason)
        if agent in ALL_HOOKS:
            return None  # their hooks or transcripts tell; a TUI's drawing would mislead
        bell = self._bell(info)
        # tmux gives whole seconds: a bell in the second the state began counts.
        if bell is not None and bell + 1 > base.since and base.state in ("starting", "working"):
            return AgentState("needs_input", now, "heuristic", "bell")
        if agent != "custom":
            return None  # codex: its transcript, its notify and the bell
        # A custom agent: its output. tmux keeps the time of the last, to the second.
        if base.state in ("starting", "idle", "needs_input") and info.activity > base.since + 1:
            return AgentState("working", info.activity, "heuristic")
        if base.state == "working" and now - info.activity > QUIET and base.source == "heuristic":
            return AgentState("idle", info.activity + QUIET, "heuristic")
        return None

    @staticmethod
    def _bell(info: PaneInfo) -> float | None:
        try:
            return float(info.bell) if info.bell else None
        except ValueError:
            return None

    def _observe(
        self,
        key: tuple[str, str],
        agent: str | None,
        session_id: str | None,
        new: AgentState,
    ) -> None:
        seen = self._seen.get(key)
        if seen is None:
            # First look since this server started: the history knows what came before.
            was = self.history.open_intervals().get(key)
            # The option keeps times to the millisecond; the history keeps what it was given.
            if was is not None and was.state == new.state and abs(was.start - new.since) < 0.002:
                self._seen[key] = _Seen(new, agent, session_id)
                return
            previous = AgentState(was.state, was.start, was.source, was.reason) if was else None
        else:
            if (seen.state.state, seen.state.reason) == (new.state, new.reason):
                return
            previous = seen.state
        self._seen[key] = _Seen(new, agent, session_id)
        self.history.change(key[0], key[1], agent, session_id, new)
        working = (
            max(0.0, new.since - previous.since)
            if previous is not None and previous.state == "working"
            else 0.0
        )
        for listener in self.changed:
            listener(key[0], key[1], new.state, previous.state if previous else None)
        self.emit(
            {
                "action": "agent_state",
                "space_id": key[0],
                "pane_id": key[1],
                "agent": agent,
                "session_id": session_id,
                "state": new.state,
                "previous": previous.state if previous else None,
                "since": iso(new.since),
                "source": new.source,
                "reason": new.reason,
                "working_seconds": round(working, 3),
            }
        )

    # -- transcripts ----------------------------------------------------------------------

    def _read_transcripts(
        self, agents: list[tuple[str, Pane]], infos: dict[tuple[str, str], PaneInfo]
    ) -> dict[tuple[str, str], tuple[str, float, str | None] | None]:
        """What each running agent pane's transcript shows (in a thread: SQLite and files)."""
        out: dict[tuple[str, str], tuple[str, float, str | None] | None] = {}
        for space_id, pane in agents:
            info = infos.get((space_id, pane.id))
            if (
                info is None
                or info.dead
                or not pane.session_id
                or pane.agent
                not in (
                    "claude",
                    "codex",
                    "gemini",
                )
            ):
                continue
            path = self._transcript(space_id, pane)
            if path is None:
                continue
            try:
                st = os.stat(path)
            except OSError:
                continue
            stamp = (st.st_size, st.st_mtime)
            last = self._readings.get(path)
            if last is None or last[0] != stamp:
                last = (stamp, transcript_state(pane.agent, path))
                self._readings[path] = last
            out[(space_id, pane.id)] = last[1]
        return out

    def _transcript(self, space_id: str, pane: Pane) -> str | None:
        assert pane.agent is not None and pane.session_id is not None
        key = (space_id, pane.id, pane.session_id)
        if key not in self._files:
            session = self.index.get(pane.agent, pane.session_id)
            files = [f for f in (session.files if session else []) if "subagent" not in f]
            if not files:
                return None
            self._files[key] = max(files, key=_mtime)
        return self._files[key]


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0
