"""Agent sessions in spaces: announcing index changes, finding the ids CLIs chose, resuming."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from ..agent_panes import parse_agent_request, require_cli
from ..agents.launch import resume_session
from ..errors import SpacesError
from ..model import Pane, valid_id
from ..paths import relative_to_root
from .core import _PLACEMENT, MAX_TITLE, SpacesCore, _only, _rel, _short, _state


class AgentOps(SpacesCore):
    def _space_dirs(self) -> list[tuple[str, Path]]:
        return [
            (e.id, e.dir)
            for e in self.entries.values()
            if relative_to_root(self.root, e.dir) is not None
        ]

    def _sessions_changed(self, count: int) -> None:
        """Announce index changes at most twice a second, and look for pending panes' ids."""
        self._sessions_news += count
        if self.agents.pending and (self._detecting is None or self._detecting.done()):
            self._detecting = asyncio.ensure_future(self._detect_sessions())
        if self._sessions_timer is None and self._sessions_news:
            self._sessions_timer = asyncio.get_running_loop().call_later(
                0.5, self._announce_sessions
            )

    def _announce_sessions(self) -> None:
        self._sessions_timer = None
        count, self._sessions_news = self._sessions_news, 0
        if count:
            self.emit({"action": "sessions_changed", "count": count})

    async def _detect_sessions(self) -> None:
        """Give pending agent panes the sessions their CLI started (see AgentPanes.detect)."""
        infos = await self._pane_states()
        agents: dict[tuple[str, str], str] = {}
        pids: dict[tuple[str, str], int | None] = {}
        claimed = []
        for entry in self.entries.values():
            for pane in entry.space.panes.values() if entry.space else ():
                key = (entry.id, pane.id)
                if pane.session_id:
                    claimed.append(pane.session_id)
                elif key in self.agents.pending and pane.agent:
                    agents[key] = pane.agent
                    pids[key] = _state(infos.get(key))[2]
        for key in list(self.agents.pending):
            if key not in agents:
                self.agents.forget(*key)
        found = await asyncio.to_thread(self.agents.detect, agents, pids, claimed)
        for (space_id, pane_id), session_id in found.items():
            async with self._lock(space_id):
                try:
                    entry, pane = self._pane(space_id, pane_id)
                    self._writable(entry)
                except SpacesError:
                    continue
                pane.session_id = session_id
                self._save(entry)
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
        _only(body, _PLACEMENT | {"space_id", "fresh", "title"})
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
        rel = relative_to_root(self.root, Path(where))
        if "space_id" in body and not valid_id(body["space_id"]):
            raise SpacesError(400, "space_id must be a space's id")
        space_id = body.get("space_id") or self.sessions.space_of(where)
        if space_id is None:
            if rel is None:
                raise SpacesError(
                    409,
                    f"the session's folder {where} is outside this server's root",
                    "outside_root",
                )
            raise SpacesError(
                409,
                f"no space holds the session's folder {rel or '.'!r}; create one there first",
                "no_space",
                path=rel,
            )
        if session.gone and not fresh:
            raise SpacesError(
                409,
                f"the transcript of {agent} session {session_id} was deleted; "
                "send fresh: true to start a new session in its folder",
                "gone",
                path=rel,
            )
        async with self._lock(space_id):
            entry = self._entry(space_id)
            space = self._writable(entry)
            inside = Path(where).resolve()
            if rel is None or (entry.dir != inside and entry.dir not in inside.parents):
                raise SpacesError(
                    400, f"the session's folder {where} is not inside space {space_id}"
                )
            cwd = self._pane_cwd(entry, _rel(inside, entry.dir))
            for pane in space.panes.values():
                if pane.agent == agent and pane.session_id == session_id and not session.gone:
                    raise SpacesError(
                        409,
                        f"{agent} session {session_id} is already open in pane {pane.id}",
                        "already_open",
                        space_id=space_id,
                        pane_id=pane.id,
                    )
            place = self._placement(space, body)
            self._require_host()
            profile_req = parse_agent_request({"agent": agent})
            require_cli(agent, [agent], {}, cwd)
            if session.gone:
                launch = await self.agents.start(profile_req, {}, cwd)
            else:
                launch = resume_session(agent, session_id, None, [])
            pane = Pane.new(
                "agent",
                launch.argv,
                _rel(cwd, entry.dir),
                title or _short(session.title or session.first_prompt) or agent,
                launch=profile_req.profile(launch.argv, {}),
                agent=agent,
                session_id=launch.session_id,
            )
            plan = await self._plan(entry, pane, "start", launch)
            await self._start_pane(entry, pane, plan, place)
        self.emit({"action": "pane_created", "space_id": space_id, "pane_id": pane.id})
        return await self.get_pane(space_id, pane.id)
