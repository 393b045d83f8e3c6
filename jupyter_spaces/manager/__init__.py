"""SpaceManager: the single writer of workspace files and the only talker to tmux.

It is put together from one part per concern: ``core`` (spaces and panes), ``restoring``
(trust, screen captures, cold restore), ``snapshotting`` and ``agent_sessions``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..agent_panes import AgentPanes
from ..agents import SessionIndex
from ..host.tmux import INSTALL_HINT, TmuxError, parse_session_name
from ..sessions import SessionService
from .agent_sessions import AgentOps
from .core import SpaceEntry, check_size, login_shell
from .snapshotting import SnapshotOps

if TYPE_CHECKING:
    from ..app import SpacesApp

__all__ = ["SpaceEntry", "SpaceManager", "check_size", "login_shell"]


class SpaceManager(SnapshotOps, AgentOps):
    def __init__(
        self, app: SpacesApp, root_dir: Path, emit: Callable[[dict[str, Any]], None]
    ) -> None:
        super().__init__(app, root_dir, emit)
        index = SessionIndex(app.sessions_index_path, roots=app.agent_roots or None)
        self.sessions = SessionService(
            index,
            root_dir,
            self._space_dirs,
            self._sessions_changed,
            app.log,
            watch=app.sessions_watch,
            poll_interval=app.sessions_poll_interval,
        )
        self.agents = AgentPanes(index, index.roots("claude"))

    # -- lifecycle ------------------------------------------------------------------------

    async def ready(self) -> None:
        """Start once: from the server's start hook or the first request, whichever is first
        (a server embedded in tests never runs the start hooks)."""
        if self._started is None:
            self._started = asyncio.ensure_future(self._start())
        await asyncio.shield(self._started)

    async def _start(self) -> None:
        # A missing trust database means nothing is trusted. Signatures made before they were
        # bound to a folder count for the folder registered under the file's own id (a copy
        # is registered under another id, so it never inherits one).
        for space_id, info in self.registry.entries().items():
            entry = self.entries[space_id] = SpaceEntry(space_id, Path(info["dir"]))
            self._refresh(entry)
            if (
                entry.status == "ok"
                and not entry.trusted
                and entry.file_id is None
                and entry.data is not None
                and self.notary.legacy_trusted(entry.data)
            ):
                self.notary.trust(entry.data, entry.scope)
                entry.trusted = True
                self.log.info("jupyter-spaces: space %s: its trust now names its folder", space_id)
        if not self.tmux.available:
            self._host_problem = INSTALL_HINT
            self.log.warning("jupyter-spaces: %s", INSTALL_HINT)
        elif self._prepare():
            try:
                await self._clear_stale_clients()
                await self._adopt()
                await self._restore_all()
            except TmuxError as e:
                # Not latched: ``_check_host`` asks again until the server answers.
                self.log.error("jupyter-spaces: %s", e)
        self._poller = asyncio.ensure_future(self._poll())
        self._capturer = asyncio.ensure_future(self._capture_loop())
        self.sessions.start()
        for entry in self.entries.values():
            for pane in entry.space.panes.values() if entry.space else ():
                if pane.kind == "agent" and pane.session_id is None and pane.agent != "custom":
                    # Started before this server: any session since the pane was made will do.
                    created = datetime.fromisoformat(pane.created.replace("Z", "+00:00"))
                    self.agents.pending[(entry.id, pane.id)] = (
                        str(entry.dir / pane.cwd) if pane.cwd else str(entry.dir),
                        created.timestamp(),
                    )

    def _prepare(self) -> bool:
        try:
            self.tmux.prepare()
        except (TmuxError, OSError) as e:
            self._host_problem = (
                f"the private tmux server cannot be used: {e}. Fix the folder or set "
                "SpacesApp.socket_dir to a private folder; `jupyter spaces doctor` checks it."
            )
            self.log.error("jupyter-spaces: %s", self._host_problem)
            return False
        self._host_problem = None
        return True

    async def _clear_stale_clients(self) -> None:
        stale = await self.tmux.clear_stale_clients()
        if stale:
            self.log.warning(
                "jupyter-spaces: killed %d control client(s) left by a server that is gone "
                "(pids %s)",
                len(stale),
                ", ".join(str(c.pid) for c in stale),
            )

    async def _check_host(self) -> None:
        """Ask a tmux server that failed again, with back-off (at most every 15 s), so the
        server recovers by itself when tmux answers again or was killed and is gone."""
        if not self.tmux.available or not self.host_error:
            self._probe_delay = 0.0
            return
        loop = asyncio.get_running_loop()
        if loop.time() < self._next_probe:
            return
        if self._prepare() and await self.tmux.probe():
            self.log.info("jupyter-spaces: the private tmux server answers again")
            self._probe_delay = 0.0
            await self._clear_stale_clients()
            await self._adopt()
            return
        self._probe_delay = min(max(self._probe_delay * 2, self.app.poll_interval), 15.0)
        self._next_probe = loop.time() + self._probe_delay

    async def _adopt(self) -> None:
        panes = await self.tmux.list_panes()
        adopted = 0
        self.unknown_sessions = []
        for name in panes:
            ids = parse_session_name(name)
            entry = self.entries.get(ids[0]) if ids else None
            if ids and entry and entry.space and ids[1] in entry.space.panes:
                adopted += 1
            else:
                self.unknown_sessions.append(name)
        if panes:
            self.log.info("jupyter-spaces: adopted %d running pane(s)", adopted)
        if self.unknown_sessions:
            self.log.warning(
                "jupyter-spaces: tmux sessions that belong to no known space, left running: %s",
                ", ".join(self.unknown_sessions),
            )

    async def stop(self) -> None:
        if self._started is not None and not self._started.done():
            self._started.cancel()
        if self._poller is not None:
            self._poller.cancel()
        if self._capturer is not None:
            self._capturer.cancel()
            try:
                await self._capture_changed()  # a clean shutdown keeps the latest screens
            except Exception:
                self.log.exception("jupyter-spaces: capturing screens at shutdown failed")
        for stream in list(self.streams.values()):
            await stream.close("the server is shutting down; the pane keeps running")
        self.streams.clear()
        # Streams whose last watcher just left are still detaching their control clients.
        await asyncio.gather(*self._closing, return_exceptions=True)
        if self._sessions_timer is not None:
            self._sessions_timer.cancel()
        await self.sessions.stop()

    async def _poll(self) -> None:
        """Announce exits and vanished sessions even when nobody is watching the pane."""
        while True:
            await asyncio.sleep(self.app.poll_interval)
            try:
                await self._check_host()
                if any(e.space and e.space.panes for e in self.entries.values()):
                    await self._announce_states()
                if self.agents.pending:
                    await self._detect_sessions()
            except Exception:  # keep polling whatever one round hit
                self.log.exception("jupyter-spaces: pane state poll failed")
