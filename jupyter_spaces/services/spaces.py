"""Spaces: the REST operations on spaces and panes, and the JSON they answer with.

It owns no state of its own: it checks a request, then composes ``Workspaces`` (the file and
its trust), ``Panes`` (the running programs) and ``AgentPanes`` (what an agent pane runs), each
through its public methods, under the space's lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..agent_panes import AgentPanes, parse_agent_request
from ..agents.launch import AgentLaunch
from ..errors import SpacesError
from ..host.tmux import PaneInfo
from ..model import PANE_KINDS, Pane, Space, env_name, runnable_text
from ..paths import existing_dir, relative_to_root
from ..plan import RunPlan, login_shell, make_plan
from ..restore import forget_capture
from .agent_state import AgentStates
from .common import AGENT_FIELDS, MAX_TITLE, PLACEMENT, check_size, only, rel
from .panes import Panes, pane_state
from .settings import SpacesSettings
from .workspaces import SpaceEntry, Workspaces


@dataclass
class Placement:
    """Where a new pane goes, and its size (None: tmux's default)."""

    size: tuple[int, int] | None
    next_to: str | None
    direction: str


class Spaces:
    def __init__(
        self,
        settings: SpacesSettings,
        log: logging.Logger,
        emit: Callable[[dict[str, Any]], None],
        workspaces: Workspaces,
        panes: Panes,
        agents: AgentPanes,
        agent_states: AgentStates,
    ) -> None:
        self.settings = settings
        self.root = settings.root
        self.log = log
        self.emit = emit
        self.workspaces = workspaces
        self.panes = panes
        self.agents = agents
        self.agent_states = agent_states

    # -- spaces ---------------------------------------------------------------------------

    async def list_spaces(self) -> list[dict[str, Any]]:
        states = await self.panes.states()
        out = []
        for entry in self.workspaces.all():
            if not self.workspaces.reachable(entry):
                continue  # registered under another root: not reachable from this server
            self.workspaces.refresh(entry)
            out.append(self.space_json(entry, states))
        return out

    async def get_space(self, space_id: str) -> dict[str, Any]:
        entry = self.workspaces.entry(space_id)
        return self.space_json(entry, await self.panes.states())

    async def create_space(self, body: dict[str, Any]) -> dict[str, Any]:
        space_id, created = self.workspaces.create(body)
        if created:
            self.emit({"action": "space_created", "space_id": space_id})
        return await self.get_space(space_id)

    async def update_space(self, space_id: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.workspaces.lock(space_id):
            self.workspaces.update(space_id, body)
        self.emit({"action": "space_updated", "space_id": space_id})
        return await self.get_space(space_id)

    async def delete_space(self, space_id: str, remove_files: bool) -> None:
        async with self.workspaces.lock(space_id):
            entry = self.workspaces.entry(space_id)
            if entry.space is not None:
                for pane_id in entry.space.panes:
                    await self.panes.stop(space_id, pane_id)
            self.workspaces.remove(entry, remove_files)
        self.emit({"action": "space_deleted", "space_id": space_id})

    # -- panes ----------------------------------------------------------------------------

    async def get_pane(self, space_id: str, pane_id: str) -> dict[str, Any]:
        entry, pane = self.workspaces.pane(space_id, pane_id)
        return self.pane_json(entry, pane, await self.panes.states())

    async def create_pane(self, space_id: str, body: dict[str, Any]) -> dict[str, Any]:
        only(
            body,
            PLACEMENT | {"kind", "argv", "cwd", "title", "env", "autorestart"} | AGENT_FIELDS,
        )
        async with self.workspaces.lock(space_id):
            entry = self.workspaces.entry(space_id)
            space = self.workspaces.writable(entry)
            kind = body.get("kind", "shell")
            if kind not in PANE_KINDS:
                raise SpacesError(
                    400, f"unknown pane kind {kind!r}; expected one of {', '.join(PANE_KINDS)}"
                )
            if kind != "agent" and (unknown := sorted(set(body) & AGENT_FIELDS - {"argv"})):
                raise SpacesError(400, f"{', '.join(unknown)}: only for agent panes")
            argv = body.get("argv")
            if kind == "agent":
                req = parse_agent_request(body)
            elif kind == "command":
                if not isinstance(argv, list) or not argv:
                    raise SpacesError(400, "a command pane needs a non-empty argv list")
                if not all(runnable_text(a) for a in argv) or not argv[0]:
                    raise SpacesError(
                        400, "argv must hold strings without NUL, the program's name not empty"
                    )
            elif argv not in (None, []):
                raise SpacesError(400, "a shell pane takes no argv (it runs your login shell)")
            else:
                argv = [login_shell(), "-l"]
            cwd = self.pane_cwd(entry, body.get("cwd", ""))
            title = body.get("title", "")
            if not isinstance(title, str) or len(title) > MAX_TITLE:
                raise SpacesError(400, f"title must be a string of at most {MAX_TITLE} characters")
            env = body.get("env", {})
            # The same rules a workspace file is loaded with, checked before anything starts.
            if not isinstance(env, dict) or not all(
                env_name(k) and runnable_text(v) for k, v in env.items()
            ):
                raise SpacesError(
                    400, "env must map variable names to strings without NUL or lone surrogates"
                )
            autorestart = body.get("autorestart", False)
            if not isinstance(autorestart, bool) or (autorestart and kind != "command"):
                raise SpacesError(400, "autorestart must be true or false, and only for commands")
            place = self.placement(space, body)
            self.panes.require_host()
            rel_cwd = rel(cwd, entry.dir)
            launch: AgentLaunch | None = None
            if kind == "agent":
                launch = await self.agents.start(req, env, cwd)
                pane = Pane.new(
                    kind,
                    launch.argv,
                    rel_cwd,
                    title or req.agent,
                    env,
                    launch=req.profile(launch.argv, env),
                    agent=req.agent,
                    session_id=launch.session_id,
                )
            else:
                assert argv is not None
                pane = Pane.new(kind, argv, rel_cwd, title or kind, env)
                pane.autorestart = autorestart
            plan = await self.plan(entry, pane, "start", launch)
            await self.start_pane(entry, pane, plan, place)
        self.emit({"action": "pane_created", "space_id": space_id, "pane_id": pane.id})
        return await self.get_pane(space_id, pane.id)

    def pane_cwd(self, entry: SpaceEntry, rel_path: object) -> Path:
        """A pane's folder inside the space, or SpacesError(400)."""
        cwd = existing_dir(entry.dir, rel_path, "cwd")
        if relative_to_root(self.root, cwd) is None:
            raise SpacesError(400, f"cwd {rel_path!r} points outside the server's root")
        return cwd

    def placement(self, space: Space, body: dict[str, Any]) -> Placement:
        """Where a new pane goes and its size; checked before anything starts."""
        size = self._size(body.get("rows"), body.get("cols"))
        next_to = body.get("next_to")
        if next_to is not None and (not isinstance(next_to, str) or next_to not in space.panes):
            raise SpacesError(400, f"next_to: no pane {str(next_to)[:80]!r} in this space")
        direction = body.get("direction", "row")
        if direction not in ("row", "column"):
            raise SpacesError(400, "direction must be 'row' or 'column'")
        if len(space.panes) >= self.settings.max_panes_per_space:
            raise SpacesError(
                409, f"space {space.id} already has {len(space.panes)} panes (the most allowed)"
            )
        return Placement(size, next_to, direction)

    def _size(self, rows: object, cols: object) -> tuple[int, int] | None:
        if rows is None and cols is None:
            return None
        return check_size(rows, cols, self.settings.max_rows, self.settings.max_cols)

    async def start_pane(
        self, entry: SpaceEntry, pane: Pane, plan: RunPlan, place: Placement
    ) -> None:
        """Start the pane from its plan, then record the pane; a failure leaves neither behind."""
        space = entry.space
        assert space is not None
        await self.panes.run(entry, plan, place.size)
        space.add_pane(pane, place.next_to, place.direction)
        try:
            self.workspaces.save(entry)
        except SpacesError:
            # No orphan process for a pane the workspace file does not know about.
            space.remove_pane(pane.id)
            await self.panes.kill(space.id, pane.id)
            raise
        if plan.kind == "agent" and plan.session_id is None and pane.agent != "custom":
            self.agents.expect(space.id, pane.id, plan.cwd)

    async def plan(
        self, entry: SpaceEntry, pane: Pane, purpose: str, launch: AgentLaunch | None = None
    ) -> RunPlan:
        """What the pane runs for ``purpose`` (see ``plan.make_plan``)."""
        assert entry.space is not None
        return await make_plan(entry.dir, entry.space, pane, purpose, self.agents, launch)

    async def update_pane(
        self, space_id: str, pane_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        only(body, {"title", "autorestart"})
        async with self.workspaces.lock(space_id):
            entry, pane = self.workspaces.pane(space_id, pane_id)
            self.workspaces.writable(entry)
            title = body.get("title", pane.title)
            if not isinstance(title, str) or len(title) > MAX_TITLE:
                raise SpacesError(400, f"title must be a string of at most {MAX_TITLE} characters")
            autorestart = body.get("autorestart", pane.autorestart)
            if not isinstance(autorestart, bool):
                raise SpacesError(400, "autorestart must be true or false")
            if autorestart and pane.kind != "command":
                raise SpacesError(
                    400,
                    "autorestart is for command panes (shells and agents "
                    "always come back after a restart)",
                )
            pane.title, pane.autorestart = title, autorestart
            self.workspaces.save(entry)
        self.emit({"action": "pane_updated", "space_id": space_id, "pane_id": pane_id})
        return await self.get_pane(space_id, pane_id)

    async def restart_pane(self, space_id: str, pane_id: str) -> dict[str, Any]:
        """Run the pane's launch command again in the same tmux session (killing what runs).
        An agent pane resumes its stored session, in the session's own folder."""
        async with self.workspaces.lock(space_id):
            entry, pane = self.workspaces.pane(space_id, pane_id)
            self.workspaces.writable(entry)
            self.panes.require_host()
            assert entry.space is not None
            plan = await self.plan(entry, pane, "restart")
            await self.panes.run(entry, plan)
            if pane.kind == "agent":
                self.agents.forget(space_id, pane_id)
                if plan.session_id != pane.session_id:
                    pane.session_id = plan.session_id
                    self.workspaces.save(entry)
                if plan.session_id is None and pane.agent != "custom":
                    self.agents.expect(space_id, pane_id, plan.cwd)
            self.panes.restarted(space_id, pane_id)
        self.emit({"action": "pane_updated", "space_id": space_id, "pane_id": pane_id})
        return await self.get_pane(space_id, pane_id)

    async def delete_pane(self, space_id: str, pane_id: str) -> None:
        async with self.workspaces.lock(space_id):
            entry, _pane = self.workspaces.pane(space_id, pane_id)
            space = self.workspaces.writable(entry)
            await self.panes.stop(space_id, pane_id)
            space.remove_pane(pane_id)
            self.agents.forget(space_id, pane_id)
            self.workspaces.save(entry)
            forget_capture(entry.dir, pane_id)
        self.emit({"action": "pane_deleted", "space_id": space_id, "pane_id": pane_id})

    # -- JSON -----------------------------------------------------------------------------

    def space_json(
        self, entry: SpaceEntry, infos: dict[tuple[str, str], PaneInfo]
    ) -> dict[str, Any]:
        space = entry.space
        return {
            "id": entry.id,
            "name": space.name if space else entry.dir.name,
            "path": relative_to_root(self.root, entry.dir),
            "status": entry.status,
            "message": entry.message or None,
            "read_only": entry.read_only or entry.status != "ok",
            "trusted": entry.trusted,
            "file_sha256": entry.digest,
            "copy_of": entry.file_id,
            "created": space.created if space else None,
            "layout": space.layout if space else None,
            "panes": [self.pane_json(entry, p, infos) for p in space.panes.values()]
            if space
            else [],
            "needs_input": self.agent_states.needs_input(entry.id),
        }

    def pane_json(
        self, entry: SpaceEntry, pane: Pane, infos: dict[tuple[str, str], PaneInfo]
    ) -> dict[str, Any]:
        info = infos.get((entry.id, pane.id))
        state, code, pid = pane_state(info)
        return {
            **pane.to_json(),
            "agent": pane.agent,
            "session_id": pane.session_id,
            "space_id": entry.id,
            "state": state,
            "exit_code": code,
            "exit_signal": info.exit_signal if info else None,
            "pid": pid,
            "rows": info.rows if info else None,
            "cols": info.cols if info else None,
            **self.agent_states.pane_fields(entry.id, pane, info),
        }
