"""SpaceManager: composes the services and runs their lifecycle, as jupyter-server composes its
kernel, session and contents managers. It holds no workspace or pane state of its own.

Handlers reach a service through the manager's attribute of the same name
(``manager.spaces.create_pane``, ``manager.panes.stream``, …); services reach each other only
through the public methods of the ones they were built with, or the ``Panes.stopped`` event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from .agent_panes import AgentPanes
from .agents import SessionIndex
from .host.tmux import TmuxError, TmuxServer
from .services.activity import Activity
from .services.agent_sessions import AgentSessions
from .services.agent_state import AgentStates
from .services.common import check_size
from .services.panes import Panes
from .services.restore import Restore
from .services.settings import SpacesSettings
from .services.snapshots import Snapshots
from .services.spaces import Spaces
from .services.usage import Usage
from .services.workspaces import SpaceEntry, Workspaces

__all__ = ["SpaceEntry", "SpaceManager", "check_size"]

# Seconds each service may take to stop (final screen captures included).
STOP_TIMEOUT = 30.0


class SpaceManager:
    def __init__(
        self,
        settings: SpacesSettings,
        host: TmuxServer,
        emit: Callable[[dict[str, Any]], None],
        log: logging.Logger,
        web_settings: dict[str, Any],
    ) -> None:
        self.settings = settings
        self.log = log
        index = SessionIndex(settings.sessions_index_path, roots=settings.agent_roots or None)
        agents = AgentPanes(index, index.roots("claude"))
        self.workspaces = Workspaces(settings, log)
        self.panes = Panes(settings, log, emit, host, self.workspaces)
        self.agent_states = AgentStates(settings, log, emit, self.workspaces, self.panes, index)
        # What of the panes keeps the server from JupyterHub's idle culler.
        self.activity = Activity(settings, log, self.agent_states.busy, web_settings)
        self.panes.typed.append(self.activity.typed)
        self.spaces = Spaces(
            settings, log, emit, self.workspaces, self.panes, agents, self.agent_states
        )
        self.restore = Restore(
            settings, log, emit, self.workspaces, self.panes, agents, self.spaces
        )
        self.snapshots = Snapshots(
            settings,
            log,
            emit,
            self.workspaces,
            self.panes,
            self.restore,
            self.spaces,
            agents,
            index,
            self.agent_states,
        )
        self.agent_sessions = AgentSessions(
            settings,
            log,
            emit,
            self.workspaces,
            self.panes,
            self.spaces,
            agents,
            index,
            self.agent_states,
        )
        # The sessions API (search, one session, its messages) is the session service's own.
        self.sessions = self.agent_sessions.sessions
        self.usage = Usage(settings, log, index, self.sessions, self.agent_states)
        self._started: asyncio.Future[None] | None = None
        self._poller: asyncio.Task[None] | None = None

    async def ready(self) -> None:
        """Start once: from the server's start hook or the first request, whichever is first
        (a server embedded in tests never runs the start hooks)."""
        if self._started is None:
            self._started = asyncio.ensure_future(self._start())
        await asyncio.shield(self._started)

    async def _start(self) -> None:
        self.workspaces.load()
        if await self.panes.start():
            try:
                await self.restore.restore_all()
            except TmuxError as e:
                # Not latched: ``Panes.check_host`` asks again until the server answers.
                self.log.error("jupyter-spaces: %s", e)
        self._poller = asyncio.ensure_future(self._poll())
        self.agent_states.start()
        self.restore.start()
        self.agent_sessions.start()
        self.snapshots.start()

    async def stop(self) -> None:
        if self._started is not None and not self._started.done():
            self._started.cancel()
        if self._poller is not None:
            self._poller.cancel()
        for name, stopping in (
            ("snapshots", self.snapshots.stop),
            ("restore", self.restore.stop),
            ("agent states", self.agent_states.stop),
            ("panes", self.panes.close),
            ("agent sessions", self.agent_sessions.stop),
        ):
            await self._bounded(name, stopping())

    async def _bounded(self, name: str, stopping: Coroutine[Any, Any, None]) -> None:
        """Wait for one service to stop, but not for ever: a server that is shutting down must
        go (its panes keep running either way). Which one was left behind is logged."""
        task = asyncio.ensure_future(stopping)
        done, _ = await asyncio.wait({task}, timeout=STOP_TIMEOUT)
        if not done:
            task.cancel()
            self.log.error(
                "jupyter-spaces: stopping the %s service took over %g s; left behind",
                name,
                STOP_TIMEOUT,
            )
        elif not task.cancelled() and task.exception() is not None:
            self.log.error(
                "jupyter-spaces: stopping the %s service failed", name, exc_info=task.exception()
            )

    async def _poll(self) -> None:
        """Announce exits and vanished sessions even when nobody is watching the pane."""
        while True:
            await asyncio.sleep(self.settings.poll_interval)
            try:
                await self.panes.check_host()
                if any(e.space and e.space.panes for e in self.workspaces.all()):
                    infos = await self.panes.announce_states()
                    await self.agent_states.refresh(infos)
                    self.activity.update(infos)
                await self.agent_sessions.poll()
            except Exception:  # keep polling whatever one round hit
                self.log.exception("jupyter-spaces: pane state poll failed")
