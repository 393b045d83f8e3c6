"""Panes: the pane host (the private tmux server), live streams, pane states and typing.

The only service that talks to tmux. Pane state (running with a pid, exited with a code, gone)
is never cached for answers: it is read from tmux when asked, so a server that restarts, or a
tmux session that someone killed, is always reported as it is. The states kept here only decide
what to announce, and which panes refuse input at once.

It reads the spaces through ``Workspaces``' public methods and never writes a workspace file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..agent_state.instrument import Reporter
from ..errors import SpacesError
from ..host.stream import PaneStream
from ..host.tmux import (
    INSTALL_HINT,
    PaneInfo,
    TmuxError,
    TmuxNotAnswering,
    TmuxServer,
    parse_session_name,
    session_name,
)
from ..plan import RunPlan
from ..restore import printable_copy
from .common import only
from .settings import SpacesSettings
from .workspaces import SpaceEntry, Workspaces

Emit = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class StartExtras:
    """What another service adds to a pane's start (see ``Panes.extras``): pane options set
    with it (None unsets one), a ``tmux wait-for`` channel signalled after, the reporter an
    agent's hooks run, and variables that point the agent at its hooks. None of it comes from
    the workspace file."""

    options: dict[str, str | None] = field(default_factory=dict)
    signal: str | None = None
    report: Reporter | None = None
    env: dict[str, str] = field(default_factory=dict)


def pane_state(info: PaneInfo | None) -> tuple[str, int | None, int | None]:
    """(state, exit code, pid) of a pane as tmux last described it (None: no session)."""
    if info is None:
        return "gone", None, None
    if info.dead:
        return "exited", info.exit_status, None
    return "running", None, info.pid


def _exited(pane_id: str, status: int | None) -> str:
    code = "" if status is None else f" with status {status}"
    return (
        f"pane {pane_id} has exited{code}: nothing reads what is typed into it. "
        "Restart the pane to run its command again."
    )


class Panes:
    def __init__(
        self,
        settings: SpacesSettings,
        log: logging.Logger,
        emit: Emit,
        host: TmuxServer,
        workspaces: Workspaces,
    ) -> None:
        self.settings = settings
        self.log = log
        self.emit = emit
        self.tmux = host
        self.workspaces = workspaces
        self.streams: dict[str, PaneStream] = {}
        self._stream_starting: dict[str, asyncio.Future[PaneStream]] = {}
        self._closing: set[asyncio.Future[None]] = set()
        self.unknown_sessions: list[str] = []
        # Why durable panes cannot work at all (no tmux, an unusable socket dir); a tmux server
        # that stops answering is ``tmux.failure`` instead, checked again by ``check_host``.
        self._host_problem: str | None = None
        self._probe_delay = 0.0
        self._next_probe = 0.0
        self._states: dict[tuple[str, str], tuple[str, int | None]] = {}
        # Panes that input was last refused to because they had exited (see ``_live``).
        self._deaf: set[tuple[str, str]] = set()
        # Told each time a user types into a pane (the activity service counts it).
        self.typed: list[Callable[[], None]] = []
        # Told (space id, pane id) when a pane's session is stopped: services that keep
        # something per pane forget it (an event, so this service needs none of them).
        self.stopped: list[Callable[[str, str], None]] = []
        # Asked (session name, plan) as each pane starts; the agent state service sets it.
        self.extras: Callable[[str, RunPlan], StartExtras] = lambda _name, _plan: StartExtras()

    # -- the host -------------------------------------------------------------------------

    @property
    def host_error(self) -> str | None:
        """What keeps panes from working right now, in words a user can act on; None if OK."""
        return self._host_problem or self.tmux.failure

    def require_host(self) -> None:
        # Not for a tmux server that stopped answering: the caller's own tmux command is the
        # retry (it has a timeout, and success clears the failure).
        if self._host_problem:
            raise SpacesError(503, self._host_problem)

    async def start(self) -> bool:
        """Prepare the host and adopt the panes that outlived the previous server; whether
        panes can be started now (a cold restore then follows)."""
        if not self.tmux.available:
            self._host_problem = INSTALL_HINT
            self.log.warning("jupyter-spaces: %s", INSTALL_HINT)
            return False
        if not self._prepare():
            return False
        try:
            await self._clear_stale_clients()
            await self._adopt()
        except TmuxError as e:
            # Not latched: ``check_host`` asks again until the server answers.
            self.log.error("jupyter-spaces: %s", e)
            return False
        return True

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

    async def check_host(self) -> None:
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
        self._probe_delay = min(max(self._probe_delay * 2, self.settings.poll_interval), 15.0)
        self._next_probe = loop.time() + self._probe_delay

    async def _adopt(self) -> None:
        panes = await self.tmux.list_panes()
        adopted = 0
        self.unknown_sessions = []
        for name in panes:
            ids = parse_session_name(name)
            if ids and self.workspaces.has_pane(*ids):
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

    async def close(self) -> None:
        """Close every stream (the panes keep running) and wait for their control clients."""
        for stream in list(self.streams.values()):
            await stream.close("the server is shutting down; the pane keeps running")
        self.streams.clear()
        # Streams whose last watcher just left are still detaching their control clients.
        await asyncio.gather(*self._closing, return_exceptions=True)

    def status(self) -> dict[str, Any]:
        return {
            "durable": self.host_error is None,
            "tmux": self.tmux.version() if self.tmux.available else None,
            "message": self.host_error,
            "unknown_sessions": self.unknown_sessions,
        }

    # -- running and stopping -------------------------------------------------------------

    async def running(self, space_id: str, pane_ids: list[str]) -> list[str]:
        """Those of ``pane_ids`` whose tmux session exists now (none while tmux is down)."""
        live = await self.tmux.list_panes() if self.tmux.available and not self.host_error else {}
        return [p for p in pane_ids if session_name(space_id, p) in live]

    async def run(
        self, entry: SpaceEntry, plan: RunPlan, size: tuple[int, int] | None = None
    ) -> None:
        """Start ``plan`` in the pane's tmux session (again, if the session is there)."""
        assert entry.space is not None
        name = session_name(entry.space.id, plan.pane_id)
        printed = None
        if plan.prints is not None:
            private = self.tmux.socket_dir / "screens" / f"{entry.id}-{plan.pane_id}.txt"
            printed = await asyncio.to_thread(
                printable_copy, entry.dir, plan.pane_id, private, self.settings.capture_max_bytes
            )
        extras = self.extras(name, plan)
        argv = plan.command(printed, extras.report)
        env = {**plan.env, **extras.env}
        try:
            if name in await self.tmux.list_panes():
                await self.tmux.respawn(
                    name, argv, str(plan.cwd), env, extras.options, extras.signal
                )
            else:
                await self.tmux.new_pane(
                    name, argv, str(plan.cwd), env, size, extras.options, extras.signal
                )
        except TmuxError as e:
            raise SpacesError(500, f"tmux could not start the pane: {e}") from None

    def restarted(self, space_id: str, pane_id: str) -> None:
        """The pane's program was started again: its watchers' screens start afresh."""
        stream = self.streams.get(session_name(space_id, pane_id))
        if stream is not None and stream.alive:
            stream.restarted()

    async def kill(self, space_id: str, pane_id: str) -> None:
        """End the pane's tmux session (a pane that failed to be recorded)."""
        await self.tmux.kill(session_name(space_id, pane_id))

    async def stop(self, space_id: str, pane_id: str) -> None:
        """Close the pane's stream and end its tmux session; ``stopped`` listeners are told."""
        name = session_name(space_id, pane_id)
        stream = self.streams.pop(name, None)
        if stream is not None:
            await stream.close()
        if self.tmux.available and not self._host_problem:
            try:
                await self.tmux.kill(name)
            except TmuxNotAnswering as e:
                raise SpacesError(503, str(e)) from None
        self._states.pop((space_id, pane_id), None)
        for listener in self.stopped:
            listener(space_id, pane_id)

    # -- input, screens and streams -------------------------------------------------------

    async def send_input(self, space_id: str, pane_id: str, body: dict[str, Any]) -> None:
        only(body, {"text"})
        text = body.get("text")
        if not isinstance(text, str):
            raise SpacesError(400, "text must be a string")
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            raise SpacesError(400, "text is not valid UTF-8 (it holds a lone surrogate)") from None
        limit = self.settings.max_message_size
        if size > limit:
            raise SpacesError(413, f"text is larger than {limit} bytes")
        await self._live(space_id, pane_id)
        stream = self.streams.get(session_name(space_id, pane_id))
        if stream is not None and stream.alive:
            stream.write(text)
        else:
            await self.tmux.send_text(session_name(space_id, pane_id), text)
        self.touch()

    async def screen(self, space_id: str, pane_id: str, lines: int) -> dict[str, Any]:
        info = await self._info(space_id, pane_id)
        text = await self.tmux.capture(info.session, lines)
        return {"text": text, "rows": info.rows, "cols": info.cols}

    async def capture(self, info: PaneInfo, lines: int) -> str:
        """The text of a pane's screen and ``lines`` of its history."""
        return await self.tmux.capture(info.session, lines)

    async def _info(self, space_id: str, pane_id: str) -> PaneInfo:
        self.workspaces.pane(space_id, pane_id)
        self.require_host()
        if self.tmux.failure:  # known not to answer: say so now, not after a timeout
            raise SpacesError(503, self.tmux.failure)
        try:
            info = (await self.tmux.list_panes()).get(session_name(space_id, pane_id))
        except TmuxNotAnswering as e:
            raise SpacesError(503, str(e)) from None
        if info is None:
            raise SpacesError(409, f"pane {pane_id} is gone: its tmux session no longer exists")
        return info

    async def _live(self, space_id: str, pane_id: str) -> PaneInfo:
        info = await self._info(space_id, pane_id)
        if info.closed:  # closed but not yet reaped is just as deaf
            self._deaf.add((space_id, pane_id))
            raise SpacesError(409, _exited(pane_id, info.exit_status))
        self._deaf.discard((space_id, pane_id))
        return info

    def maybe_exited(self, space_id: str, pane_id: str) -> bool:
        """Whether the last look at the pane found it exited (cheap: asks no one; see
        ``check_live`` for a fresh answer)."""
        return (space_id, pane_id) in self._deaf

    async def check_live(self, space_id: str, pane_id: str) -> None:
        """SpacesError(409) saying so if the pane's program has exited (tmux would drop keys
        sent to it without a word)."""
        await self._live(space_id, pane_id)

    async def stream(self, space_id: str, pane_id: str) -> PaneStream:
        """The shared control-mode stream of a pane, started on first use."""
        await self._info(space_id, pane_id)
        name = session_name(space_id, pane_id)
        stream = self.streams.get(name)
        if stream is not None and stream.alive:
            return stream
        starting = self._stream_starting.get(name)
        if starting is not None:
            return await starting
        fut: asyncio.Future[PaneStream] = asyncio.get_running_loop().create_future()
        self._stream_starting[name] = fut
        try:
            stream = PaneStream(
                self.tmux, name, self.settings.flow(), on_closed=self._stream_closed
            )
            await stream.start()
            self.streams[name] = stream
            fut.set_result(stream)
            return stream
        except BaseException as e:
            fut.set_exception(e)
            fut.exception()  # consumed here; waiters re-raise it
            raise
        finally:
            del self._stream_starting[name]

    def release(self, stream: PaneStream) -> None:
        """Called when a watcher leaves; the control client goes when nobody watches."""
        if not stream.watchers and self.streams.get(stream.session) is stream:
            del self.streams[stream.session]
            task = asyncio.ensure_future(stream.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    def _stream_closed(self, stream: PaneStream) -> None:
        if self.streams.get(stream.session) is stream:
            del self.streams[stream.session]

    def touch(self) -> None:
        """A user typed into a pane: tell the listeners (what counts as server activity for
        JupyterHub's idle culler is ``services/activity.py``'s to decide)."""
        for listener in self.typed:
            listener()

    # -- states ---------------------------------------------------------------------------

    async def states(self) -> dict[tuple[str, str], PaneInfo]:
        """What tmux says of every pane now, by (space id, pane id)."""
        if self.host_error or not self.tmux.available:
            return {}  # gone while tmux cannot be asked; ``check_host`` asks again
        try:
            panes = await self.tmux.list_panes()
        except TmuxError as e:
            self.log.warning("jupyter-spaces: tmux list-panes failed: %s", e)
            return {}
        out = {}
        for name, info in panes.items():
            ids = parse_session_name(name)
            if ids:
                out[ids] = info
        # Whoever looked last, a channel then refuses keys for an exited pane at once.
        self._deaf = {ids for ids, info in out.items() if info.closed}
        return out

    async def announce_states(self) -> dict[tuple[str, str], PaneInfo]:
        """Announce each pane whose state changed since the last look; returns what tmux said
        (for the agent states and the activity, read from the same look)."""
        infos = await self.states()
        for entry in self.workspaces.all():
            if entry.space is None:
                continue
            for pane_id in entry.space.panes:
                state, code, _ = pane_state(infos.get((entry.id, pane_id)))
                key = (entry.id, pane_id)
                if self._states.get(key) != (state, code):
                    self._states[key] = (state, code)
                    self.emit(
                        {
                            "action": "pane_state",
                            "space_id": entry.id,
                            "pane_id": pane_id,
                            "state": state,
                            "exit_code": code,
                        }
                    )
        return infos
