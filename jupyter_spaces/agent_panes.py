"""Agent panes: what to run when one starts, restarts or resumes, and which session it holds.

The manager owns the panes; this module decides the agent's command line and finds the session
id of a pane whose CLI cannot be given one (Codex, Gemini before v0.41). Such a pane is *pending*
until a new session appears in the index that started in the pane's folder after the pane did.
Two panes started at once in one folder are told apart by the file each one's process holds open;
without that proof an id is only taken when exactly one pane and one session fit.
"""

from __future__ import annotations

import asyncio
import glob
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .agents import SessionIndex
from .agents.launch import (
    AGENT_KINDS,
    SESSION_PLACEHOLDER,
    AgentLaunch,
    find_cli,
    gemini_chooses_id,
    missing_cli_message,
    new_session,
    open_files,
    resume_session,
)
from .errors import SpacesError
from .model import _SESSION_ID_RE, LaunchProfile, Pane

MAX_ARGS = 64
MAX_ARG = 4096
# A new session's start time may be a little before the pane's (clocks, rounding to seconds).
START_SLACK = 2.0


@dataclass
class AgentRequest:
    """A checked request for a new agent pane."""

    agent: str
    model: str | None
    args: list[str]
    custom_argv: list[str]
    resume: list[str] | None
    session_id: str | None

    def profile(self, argv: list[str], env: dict[str, str]) -> LaunchProfile:
        return LaunchProfile(
            argv=list(argv), env=dict(env), model=self.model, args=self.args, resume=self.resume
        )


def _strings(value: object, what: str, *, required: bool = False) -> list[str]:
    if value is None and not required:
        return []
    if (
        not isinstance(value, list)
        or (required and not value)
        or len(value) > MAX_ARGS
        or not all(
            isinstance(a, str) and a and len(a) <= MAX_ARG and "\x00" not in a for a in value
        )
    ):
        need = "a non-empty list" if required else "a list"
        raise SpacesError(
            400, f"{what} must be {need} of at most {MAX_ARGS} non-empty strings without NUL"
        )
    return list(value)


def parse_agent_request(body: dict[str, Any]) -> AgentRequest:
    """The agent fields of a pane request, or SpacesError(400) saying what is wrong."""
    agent = body.get("agent")
    if agent not in AGENT_KINDS:
        raise SpacesError(400, f"agent must be one of {', '.join(AGENT_KINDS)}, not {agent!r}")
    model = body.get("model")
    if model is not None and (
        not isinstance(model, str) or not model or len(model) > 200 or "\x00" in model
    ):
        raise SpacesError(400, "model must be a non-empty string of at most 200 characters")
    args = _strings(body.get("args"), "args")
    session_id = body.get("session_id")
    if agent != "custom":
        for key in ("argv", "resume", "session_id"):
            if body.get(key) is not None:
                hint = (
                    "; to resume a session use POST /api/spaces/sessions/{agent}/{id}/resume"
                    if key == "session_id"
                    else ""
                )
                raise SpacesError(
                    400, f"{key} is only for custom agents ({agent} builds its own){hint}"
                )
        return AgentRequest(agent, model, args, [], None, None)
    custom_argv = _strings(body.get("argv"), "argv", required=True)
    resume = body.get("resume")
    if resume is not None:
        resume = _strings(resume, "resume", required=True)
        if not any(SESSION_PLACEHOLDER in a for a in resume):
            raise SpacesError(400, f"resume must contain {SESSION_PLACEHOLDER} in one argument")
    if session_id is not None and (
        not isinstance(session_id, str) or not _SESSION_ID_RE.fullmatch(session_id)
    ):
        raise SpacesError(400, "session_id must be 1 to 128 letters, digits, '.', '_', ':' or '-'")
    if model is not None or args:
        raise SpacesError(400, "a custom agent takes its flags in argv, not model or args")
    return AgentRequest("custom", None, [], custom_argv, resume, session_id)


def require_cli(agent: str, argv: list[str], env: dict[str, str], cwd: Path) -> str:
    """The agent's executable, or SpacesError(409, reason "missing_cli")."""
    program = argv[0]
    if "/" in program and not os.path.isabs(program):
        program = str(cwd / program)
    found = find_cli(program, env)
    if found is None:
        raise SpacesError(409, missing_cli_message(agent, argv[0]), "missing_cli")
    return found


class AgentPanes:
    def __init__(self, index: SessionIndex, claude_roots: list[Path]) -> None:
        self.index = index
        self.claude_roots = claude_roots
        # (space id, pane id) -> (the pane's folder, POSIX time it was started)
        self.pending: dict[tuple[str, str], tuple[str, float]] = {}

    async def start(self, req: AgentRequest, env: dict[str, str], cwd: Path) -> AgentLaunch:
        """The launch of a new agent pane (refuses with 409 if the CLI is missing)."""
        if req.agent == "custom":
            require_cli("custom", req.custom_argv, env, cwd)
            return new_session(
                "custom", None, [], custom_argv=req.custom_argv, session_id=req.session_id
            )
        exe = require_cli(req.agent, [req.agent], env, cwd)
        chooses = req.agent != "gemini" or await asyncio.to_thread(gemini_chooses_id, exe)
        return new_session(req.agent, req.model, req.args, gemini_chooses_id=chooses)

    async def restart(self, pane: Pane, space_dir: Path, cwd: Path) -> tuple[AgentLaunch, Path]:
        """How a pane that is started again goes on: its stored session resumed in the session's
        own folder; a fresh session (with a notice) when the transcript is gone; the same chosen
        id again when the agent never wrote anything under it."""
        agent, sid, lp = pane.agent or "custom", pane.session_id, pane.launch
        if agent == "custom":
            if sid and lp.resume:
                return resume_session("custom", sid, None, [], template=lp.resume), cwd
            return AgentLaunch(list(lp.argv), sid), cwd
        session = await asyncio.to_thread(self.index.get, agent, sid) if sid else None
        if sid and (
            (session is not None and not session.gone)
            or (session is None and agent == "claude" and self._claude_file(sid))
        ):
            where = (session.resume_cwd or session.cwd) if session else None
            if where and _inside(where, space_dir) and os.path.isdir(where):
                cwd = Path(where)
            return resume_session(agent, sid, lp.model, lp.args), cwd
        exe = find_cli(agent, lp.env)
        chooses = agent != "gemini" or await asyncio.to_thread(gemini_chooses_id, exe)
        if session is not None and session.gone:
            notice = f"the transcript of {agent} session {sid} is gone; starting a new session"
            launch = new_session(agent, lp.model, lp.args, gemini_chooses_id=chooses)
        else:
            # Never written (the agent was quit before the first message): keep the chosen id.
            keep = sid if agent in ("claude", "gemini") and chooses else None
            notice = ""
            launch = new_session(
                agent, lp.model, lp.args, session_id=keep, gemini_chooses_id=chooses
            )
        return AgentLaunch(launch.argv, launch.session_id, notice), cwd

    def _claude_file(self, sid: str) -> bool:
        return any(
            glob.glob(str(r / "projects" / "*" / f"{glob.escape(sid)}.jsonl"))
            for r in self.claude_roots
        )

    # -- detecting ids the CLI chose ------------------------------------------------------

    def expect(self, space_id: str, pane_id: str, cwd: Path) -> None:
        self.pending[(space_id, pane_id)] = (str(cwd), time.time())

    def forget(self, space_id: str, pane_id: str) -> None:
        self.pending.pop((space_id, pane_id), None)

    def detect(
        self,
        agents: dict[tuple[str, str], str],
        pids: dict[tuple[str, str], int | None],
        claimed: Iterable[str],
    ) -> dict[tuple[str, str], str]:
        """Session ids for pending panes: ``agents`` gives each pending pane's CLI, ``pids`` its
        process, ``claimed`` the ids other panes hold. Runs in a thread (index and /proc)."""
        taken = set(claimed)
        found: dict[tuple[str, str], str] = {}
        by_place: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for key, (cwd, _t) in self.pending.items():
            if key in agents:
                by_place.setdefault((agents[key], cwd), []).append(key)
        for (agent, cwd), keys in by_place.items():
            since = min(self.pending[k][1] for k in keys) - START_SLACK
            candidates = [
                s
                for s in self.index.sessions_under(cwd, agent=agent, limit=50)
                if s.cwd == cwd and (s.started or 0) >= since and s.id not in taken
            ]
            for key in sorted(keys, key=lambda k: self.pending[k][1]):
                fit = [
                    s for s in candidates if (s.started or 0) >= self.pending[key][1] - START_SLACK
                ]
                if not fit:
                    continue  # nothing new yet; this runs every poll, so no /proc walk
                if len(keys) == 1 and len(fit) == 1:
                    chosen = fit[0]
                else:
                    # Several panes here, or several sessions: only the open file decides.
                    pid = pids.get(key)
                    held = open_files(pid) if pid else set()
                    proven = [s for s in fit if held.intersection(s.files)]
                    if len(proven) != 1:
                        continue  # ambiguous: wait for proof rather than guess
                    chosen = proven[0]
                found[key] = chosen.id
                candidates.remove(chosen)
                taken.add(chosen.id)
        for key in found:
            self.pending.pop(key, None)
        return found


def _inside(path: str, directory: Path) -> bool:
    d = str(directory).rstrip(os.sep)
    return path == d or path.startswith(d + os.sep)
