"""Agent sessions in spaces: the session index kept current, its changes announced, the ids
the CLIs chose found for pending panes, and sessions resumed in new panes.

Owns the ``SessionService`` (the index's watcher and the sessions API) and the announcement
timer. It records a session id in a pane only through ``Workspaces.save``, and starts a pane only
through ``Spaces.start_pane``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..agent_panes import AgentPanes, parse_agent_request, require_cli
from ..agents import SessionIndex
from ..agents.launch import resume_session
from ..errors import SpacesError
from ..model import Pane, valid_id
from ..paths import relative_to_root
from ..sessions import SessionService
from .agent_state import AgentStates
from .common import MAX_TITLE, PLACEMENT, only, rel, short
from .panes import Panes, pane_state
from .settings import SpacesSettings
from .spaces import Spaces
from .workspaces import Workspaces


class AgentSessions:
    def __init__(
        self,
        settings: SpacesSettings,
        log: logging.Logger,
        emit: Callable[[dict[str, Any]], None],
        workspaces: Workspaces,
        panes: Panes,
        spaces: Spaces,
        agents: AgentPanes,
        index: SessionIndex,
        agent_states: AgentStates,
    ) -> None:
        self.root = settings.root
        self.agent_states = agent_states
        self.log = log
        self.emit = emit
        self.workspaces = workspaces
        self.panes = panes
        self.spaces = spaces
        self.agents = agents
        self.sessions = SessionService(
            index,
            settings.root,
            workspaces.space_dirs,
            self._sessions_changed,
            log,
            watch=settings.sessions_watch,
            poll_interval=settings.sessions_poll_interval,
        )
        # Index changes not yet announced, their timer, and the search for pending panes' ids.
        self._news = 0
        self._timer: asyncio.TimerHandle | None = None
        self._detecting: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.sessions.start()
        for entry in self.workspaces.all():
            for pane in entry.space.panes.values() if entry.space else ():
                if pane.kind == "agent" and pane.session_id is None and pane.agent != "custom":
                    # Started before this server: any session since the pane was made will do.
                    created = datetime.fromisoformat(pane.created.replace("Z", "+00:00"))
                    self.agents.pending[(entry.id, pane.id)] = (
                        str(entry.dir / pane.cwd) if pane.cwd else str(entry.dir),
                        created.timestamp(),
                    )

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        await self.sessions.stop()

    async def poll(self) -> None:
        """One round of the server's poll: look for the ids of pending panes."""
        if self.agents.pending:
            await self.detect_sessions()

    def _sessions_changed(self, count: int) -> None:
        """Announce index changes at most twice a second, look for pending panes' ids, and
        have the agent states read the transcripts that changed."""
        self._news += count
        self.agent_states.soon()
        if self.agents.pending and (self._detecting is None or self._detecting.done()):
            self._detecting = asyncio.ensure_future(self.detect_sessions())
        if self._timer is None and self._news:
            self._timer = asyncio.get_running_loop().call_later(0.5, self._announce)

    def _announce(self) -> None:
        self._timer = None
        count, self._news = self._news, 0
        if count:
            self.emit({"action": "sessions_changed", "count": count})

    async def detect_sessions(self) -> None:
        """Give pending agent panes the sessions their CLI started (see AgentPanes.detect)."""
        infos = await self.panes.states()
        agents: dict[tuple[str, str], str] = {}
        pids: dict[tuple[str, str], int | None] = {}
        claimed = []
        for entry in self.workspaces.all():
            for pane in entry.space.panes.values() if entry.space else ():
                key = (entry.id, pane.id)
                if pane.session_id:
                    claimed.append(pane.session_id)
                elif key in self.agents.pending and pane.agent:
                    agents[key] = pane.agent
                    pids[key] = pane_state(infos.get(key))[2]
        for key in list(self.agents.pending):
            if key not in agents:
                self.agents.forget(*key)
        found = await asyncio.to_thread(self.agents.detect, agents, pids, claimed)
        for (space_id, pane_id), session_id in found.items():
            async with self.workspaces.lock(space_id):
                try:
                    entry, pane = self.workspaces.pane(space_id, pane_id)
                    self.workspaces.writable(entry)
                except SpacesError:
                    continue
                pane.session_id = session_id
                self.workspaces.save(entry)
            self.log.info(
                "jupyter-spaces: pane %s/%s holds %s session %s",
                space_id,
                pane_id,
                pane.agent,
                session_id,
            )
            self.emit({"action": "pane_updated", "space_id": space_id, "pane_id": pane_id})

    async def resume_session(
        self, agent: str, session_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """A new agent pane that resumes ``session_id`` in its own folder, in the space that
        holds that folder (or a fresh session there if ``fresh`` and the transcript is gone)."""
        only(body, PLACEMENT | {"space_id", "fresh", "title"})
        fresh = body.get("fresh", False)
        if not isinstance(fresh, bool):
            raise SpacesError(400, "fresh must be true or false")
        title = body.get("title")
        if title is not None and (not isinstance(title, str) or len(title) > MAX_TITLE):
            raise SpacesError(400, f"title must be a string of at most {MAX_TITLE} characters")
        session = await self.sessions.get(agent, session_id)
        where = session.resume_cwd or session.cwd
        if session.is_subagent or not where or (not session.resumable and not session.gone):
            why = session.resume_reason or "its folder is not known"
            raise SpacesError(
                409, f"{agent} session {session_id} cannot be resumed: {why}", "not_resumable"
            )
        rel_where = relative_to_root(self.root, Path(where))
        if "space_id" in body and not valid_id(body["space_id"]):
            raise SpacesError(400, "space_id must be a space's id")
        space_id = body.get("space_id") or self.sessions.space_of(where)
        if space_id is None:
            if rel_where is None:
                raise SpacesError(
                    409,
                    f"the session's folder {where} is outside this server's root",
                    "outside_root",
                )
            raise SpacesError(
                409,
                f"no space holds the session's folder {rel_where or '.'!r}; create one there first",
                "no_space",
                path=rel_where,
            )
        if session.gone and not fresh:
            raise SpacesError(
                409,
                f"the transcript of {agent} session {session_id} was deleted; "
                "send fresh: true to start a new session in its folder",
                "gone",
                path=rel_where,
            )
        async with self.workspaces.lock(space_id):
            entry = self.workspaces.entry(space_id)
            space = self.workspaces.writable(entry)
            inside = Path(where).resolve()
            if rel_where is None or (entry.dir != inside and entry.dir not in inside.parents):
                raise SpacesError(
                    400, f"the session's folder {where} is not inside space {space_id}"
                )
            cwd = self.spaces.pane_cwd(entry, rel(inside, entry.dir))
            for pane in space.panes.values():
                if pane.agent == agent and pane.session_id == session_id and not session.gone:
                    raise SpacesError(
                        409,
                        f"{agent} session {session_id} is already open in pane {pane.id}",
                        "already_open",
                        space_id=space_id,
                        pane_id=pane.id,
                    )
            place = self.spaces.placement(space, body)
            self.panes.require_host()
            profile_req = parse_agent_request({"agent": agent})
            require_cli(agent, [agent], {}, cwd)
            if session.gone:
                launch = await self.agents.start(profile_req, {}, cwd)
            else:
                launch = resume_session(agent, session_id, None, [])
            pane = Pane.new(
                "agent",
                launch.argv,
                rel(cwd, entry.dir),
                title or short(session.title or session.first_prompt) or agent,
                launch=profile_req.profile(launch.argv, {}),
                agent=agent,
                session_id=launch.session_id,
            )
            plan = await self.spaces.plan(entry, pane, "start", launch)
            await self.spaces.start_pane(entry, pane, plan, place)
        self.emit({"action": "pane_created", "space_id": space_id, "pane_id": pane.id})
        return await self.spaces.get_pane(space_id, pane.id)
