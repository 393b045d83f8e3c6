"""The spaces and their panes: the workspace entries, creating, changing and stopping panes,
their live streams, their states, and the JSON the API answers with.

Pane state (running with a pid, exited with a code, gone) is never cached: it is read from tmux
when asked, so a server that restarts, or a tmux session that someone killed, is always reported
as it is.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..agent_panes import AgentPanes, parse_agent_request
from ..agents.launch import AgentLaunch
from ..errors import SpacesError, disk_error
from ..host.stream import PaneStream
from ..host.tmux import (
    PaneInfo,
    TmuxError,
    TmuxNotAnswering,
    TmuxServer,
    parse_session_name,
    session_name,
)
from ..model import (
    PANE_KINDS,
    Pane,
    Space,
    WorkspaceError,
    new_space_id,
    runnable_text,
    valid_id,
    validate_layout,
)
from ..paths import existing_dir, relative_to_root
from ..plan import RunPlan, login_shell, make_plan
from ..registry import Registry
from ..restore import (
    forget_capture,
    printable_copy,
)
from ..safefs import UnsafePath
from ..sessions import SessionService
from ..store import WorkspaceStore
from ..trust import Notary

if TYPE_CHECKING:
    from ..app import SpacesApp

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_TITLE = 200
MAX_NAME = 200


@dataclass
class SpaceEntry:
    """A known space as last read from its workspace file."""

    id: str
    dir: Path
    space: Space | None = None
    base: dict[str, Any] | None = None
    status: str = "missing"
    message: str = ""
    read_only: bool = False
    trusted: bool = False
    # The exact bytes ``space`` was read from, and their SHA-256 (None: no readable file).
    data: bytes | None = None
    digest: str | None = None
    # The id the file carries when it differs from ours: a copy of another folder's space
    # (a second clone, a worktree), registered under its own id until the user trusts it.
    file_id: str | None = None
    # The digest of run plans recorded by a trust given offline (``jupyter spaces trust``):
    # its panes start only while their plans still match it.
    trusted_plan: str | None = None

    @property
    def file(self) -> Path:
        return self.dir / ".jupyter-spaces" / "space.json"

    @property
    def scope(self) -> str:
        """What a signature is bound to besides the bytes: this folder."""
        return str(self.dir)


class SpacesCore:
    def __init__(
        self, app: SpacesApp, root_dir: Path, emit: Callable[[dict[str, Any]], None]
    ) -> None:
        self.app = app
        self.log = app.log
        assert app.serverapp is not None and app.serverapp.web_app is not None
        # The dict jupyter-server reads ``*_last_activity`` from (the app's own is a copy).
        self.web_settings: dict[str, Any] = app.serverapp.web_app.settings
        self.root = root_dir
        self.emit = emit
        self.tmux: TmuxServer = app.tmux_server()
        self.store = WorkspaceStore()
        self.notary = Notary(Path(app.trust_dir))
        # (space, pane) -> tmux's last-output time of the pane when its text was last captured
        self._captured: dict[tuple[str, str], float] = {}
        self._capturer: asyncio.Task[None] | None = None
        self.registry = Registry(Path(app.registry_path))
        self.entries: dict[str, SpaceEntry] = {}
        self.streams: dict[str, PaneStream] = {}
        self._stream_starting: dict[str, asyncio.Future[PaneStream]] = {}
        self.unknown_sessions: list[str] = []
        # Why durable panes cannot work at all (no tmux, an unusable socket dir); a tmux server
        # that stops answering is ``tmux.failure`` instead, checked again by ``_check_host``.
        self._host_problem: str | None = None
        self._probe_delay = 0.0
        self._next_probe = 0.0
        self._locks: dict[str, asyncio.Lock] = {}
        self._states: dict[tuple[str, str], tuple[str, int | None]] = {}
        # Panes that input was last refused to because they had exited (see ``_live``).
        self._deaf: set[tuple[str, str]] = set()
        self._poller: asyncio.Task[None] | None = None
        self._started: asyncio.Future[None] | None = None
        self._closing: set[asyncio.Future[None]] = set()
        self.last_activity = 0.0
        # Built by SpaceManager, which owns the methods they call back.
        self.sessions: SessionService
        self.agents: AgentPanes
        # Index changes not yet announced, their timer, and the search for pending panes' ids.
        self._sessions_news = 0
        self._sessions_timer: asyncio.TimerHandle | None = None
        self._detecting: asyncio.Task[None] | None = None

    # -- spaces ---------------------------------------------------------------------------

    def _lock(self, space_id: str) -> asyncio.Lock:
        return self._locks.setdefault(space_id, asyncio.Lock())

    def _refresh(self, entry: SpaceEntry) -> None:
        """Re-read the workspace file: a hand edit or a git pull changes it under us. The bytes
        are read each time (a few kilobytes): an unchanged (mtime, size) proves nothing about
        them, and trust is decided on exactly the bytes that ``entry.space`` came from."""
        result = self.store.load(entry.dir)
        digest = hashlib.sha256(result.data).hexdigest() if result.data is not None else None
        if digest is not None and digest == entry.digest and entry.status == result.status:
            if not entry.trusted and entry.status == "ok":  # `jupyter spaces trust` may have run
                self._check_trust(entry, result.data)
            return
        entry.status, entry.message = result.status, result.message
        entry.read_only = result.read_only
        entry.space = result.space
        entry.base = result.document if result.status == "ok" else None
        entry.data, entry.digest = result.data, digest
        entry.file_id = None
        if entry.space is not None and entry.space.id != entry.id:
            entry.file_id = entry.space.id
            entry.space.id = entry.id
        entry.trusted = False
        entry.trusted_plan = None
        if result.status == "ok":
            self._check_trust(entry, result.data)

    def _check_trust(self, entry: SpaceEntry, data: bytes | None) -> None:
        if data is None:
            return
        entry.trusted, entry.trusted_plan = self.notary.trusted_plan(data, entry.scope)

    def _entry(self, space_id: str) -> SpaceEntry:
        entry = self.entries.get(space_id) if valid_id(space_id) else None
        if entry is None or relative_to_root(self.root, entry.dir) is None:
            raise SpacesError(404, f"no space {space_id!r}")
        self._refresh(entry)
        return entry

    def _writable(self, entry: SpaceEntry) -> Space:
        if entry.space is None or entry.status in ("broken", "missing"):
            raise SpacesError(
                409, f"space {entry.id} cannot be changed: {entry.message or entry.status}"
            )
        if entry.read_only:
            raise SpacesError(409, f"space {entry.id} is read-only: {entry.message}")
        if not entry.trusted:
            raise SpacesError(409, _untrusted(entry.id), "untrusted")
        return entry.space

    def _save(self, entry: SpaceEntry, trusted_source: bool = True) -> None:
        """Write the space. The written bytes are signed only when they are exactly what this
        server decided from a trusted state (``trusted_source``): a merge that took in a change
        made elsewhere (a ``git pull`` landing mid-save) leaves the file untrusted."""
        assert entry.space is not None
        try:
            saved = self.store.save(entry.dir, entry.space, entry.base, replace_id=entry.file_id)
        except (WorkspaceError, OSError) as e:
            # What was changed in memory did not reach the file: forget it, re-read the file.
            entry.digest = None
            self._refresh(entry)
            if isinstance(e, WorkspaceError):
                raise SpacesError(409, str(e)) from None
            if isinstance(e, UnsafePath):
                raise SpacesError(409, f"could not write space.json: {e}") from None
            raise disk_error(e, "could not write space.json") from None
        entry.base = saved.document
        entry.space = Space.from_json(saved.document)
        entry.file_id = None
        if saved.data is None:
            return  # nothing to write: the file already says this
        entry.data, entry.digest = saved.data, hashlib.sha256(saved.data).hexdigest()
        entry.trusted_plan = None
        if trusted_source and not saved.merged_foreign:
            self.notary.trust(saved.data, entry.scope)
            entry.trusted = True
            return
        entry.trusted = self.notary.is_trusted(saved.data, entry.scope)
        if saved.merged_foreign and not entry.trusted:
            self.log.warning(
                "jupyter-spaces: space %s: space.json changed on disk while it was saved; the "
                "merged file stays untrusted until it is reviewed",
                entry.id,
            )

    async def list_spaces(self) -> list[dict[str, Any]]:
        states = await self._pane_states()
        out = []
        for entry in self.entries.values():
            if relative_to_root(self.root, entry.dir) is None:
                continue  # registered under another root: not reachable from this server
            self._refresh(entry)
            out.append(self._space_json(entry, states))
        return out

    async def get_space(self, space_id: str) -> dict[str, Any]:
        entry = self._entry(space_id)
        return self._space_json(entry, await self._pane_states())

    async def create_space(self, body: dict[str, Any]) -> dict[str, Any]:
        _only(body, {"path", "name"})
        directory = existing_dir(self.root, body.get("path", ""), "path")
        name = body.get("name")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise SpacesError(400, "name must be a non-empty string")
        if name is not None and len(name) > MAX_NAME:
            raise SpacesError(400, f"name is longer than {MAX_NAME} characters")
        if not os.access(directory, os.W_OK):
            raise SpacesError(403, f"the folder {body.get('path')!r} is not writable")
        existing = self.store.load(directory)
        if existing.status != "missing":
            registered = self.registry.find_by_dir(directory)
            if registered in self.entries:
                raise SpacesError(409, f"the folder already has a space ({registered})")
            if existing.space is None:
                raise SpacesError(
                    409, f"the folder's workspace file cannot be used: {existing.message}"
                )
            # A workspace file that came with the folder (git clone): register, don't clobber.
            # A copy of a folder whose space is known (a second clone, a worktree, cp -r) is a
            # space of its own: it gets a fresh id, written into its file once it is trusted.
            known = existing.space.id
            space_id = known if known not in self.entries else new_space_id()
            self._register(directory, space_id, existing.space.name)
            return await self.get_space(space_id)
        space = Space.new(name.strip() if name else (directory.name or "root"))
        entry = SpaceEntry(space.id, directory, space=space, status="ok")
        self._save(entry)
        self._register(directory, space.id, space.name)
        self.emit({"action": "space_created", "space_id": space.id})
        return await self.get_space(space.id)

    def _register(self, directory: Path, space_id: str, name: str) -> None:
        self.registry.add(space_id, str(directory), name)
        entry = SpaceEntry(space_id, directory)
        self.entries[space_id] = entry
        self._refresh(entry)

    async def update_space(self, space_id: str, body: dict[str, Any]) -> dict[str, Any]:
        _only(body, {"name", "layout"})
        async with self._lock(space_id):
            entry = self._entry(space_id)
            space = self._writable(entry)
            if "name" in body:
                name = body["name"]
                if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
                    raise SpacesError(400, f"name must be 1 to {MAX_NAME} characters")
            if "layout" in body:
                try:
                    validate_layout(body["layout"], space.panes)
                except ValueError as e:
                    raise SpacesError(400, f"layout: {e}") from None
            if "name" in body:
                space.name = body["name"].strip()
                self.registry.rename(space.id, space.name)
            if "layout" in body:
                space.layout = body["layout"]
            self._save(entry)
        self.emit({"action": "space_updated", "space_id": space_id})
        return await self.get_space(space_id)

    async def delete_space(self, space_id: str, remove_files: bool) -> None:
        async with self._lock(space_id):
            entry = self._entry(space_id)
            if entry.space is not None:
                for pane_id in entry.space.panes:
                    await self._stop_pane(space_id, pane_id)
            if remove_files and entry.status in ("ok", "newer", "broken"):
                self.store.delete(entry.dir)
            self.registry.remove(space_id)
            del self.entries[space_id]
        self.emit({"action": "space_deleted", "space_id": space_id})

    # -- panes ----------------------------------------------------------------------------

    def _pane(self, space_id: str, pane_id: str) -> tuple[SpaceEntry, Pane]:
        entry = self._entry(space_id)
        pane = entry.space.panes.get(pane_id) if entry.space else None
        if pane is None:
            raise SpacesError(404, f"no pane {pane_id!r} in space {space_id}")
        return entry, pane

    async def get_pane(self, space_id: str, pane_id: str) -> dict[str, Any]:
        entry, pane = self._pane(space_id, pane_id)
        return self._pane_json(entry, pane, await self._pane_states())

    @property
    def host_error(self) -> str | None:
        """What keeps panes from working right now, in words a user can act on; None if OK."""
        return self._host_problem or self.tmux.failure

    def _require_host(self) -> None:
        # Not for a tmux server that stopped answering: the caller's own tmux command is the
        # retry (it has a timeout, and success clears the failure).
        if self._host_problem:
            raise SpacesError(503, self._host_problem)

    async def create_pane(self, space_id: str, body: dict[str, Any]) -> dict[str, Any]:
        _only(
            body,
            _PLACEMENT | {"kind", "argv", "cwd", "title", "env", "autorestart"} | _AGENT_FIELDS,
        )
        async with self._lock(space_id):
            entry = self._entry(space_id)
            space = self._writable(entry)
            kind = body.get("kind", "shell")
            if kind not in PANE_KINDS:
                raise SpacesError(
                    400, f"unknown pane kind {kind!r}; expected one of {', '.join(PANE_KINDS)}"
                )
            if kind != "agent" and (unknown := sorted(set(body) & _AGENT_FIELDS - {"argv"})):
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
            cwd = self._pane_cwd(entry, body.get("cwd", ""))
            title = body.get("title", "")
            if not isinstance(title, str) or len(title) > MAX_TITLE:
                raise SpacesError(400, f"title must be a string of at most {MAX_TITLE} characters")
            env = body.get("env", {})
            if not isinstance(env, dict) or not all(
                isinstance(k, str)
                and _ENV_NAME.fullmatch(k)
                and isinstance(v, str)
                and "\x00" not in v
                for k, v in env.items()
            ):
                raise SpacesError(400, "env must map variable names to strings")
            autorestart = body.get("autorestart", False)
            if not isinstance(autorestart, bool) or (autorestart and kind != "command"):
                raise SpacesError(400, "autorestart must be true or false, and only for commands")
            place = self._placement(space, body)
            self._require_host()
            rel_cwd = _rel(cwd, entry.dir)
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
            plan = await self._plan(entry, pane, "start", launch)
            await self._start_pane(entry, pane, plan, place)
        self.emit({"action": "pane_created", "space_id": space_id, "pane_id": pane.id})
        return await self.get_pane(space_id, pane.id)

    def _pane_cwd(self, entry: SpaceEntry, rel: object) -> Path:
        cwd = existing_dir(entry.dir, rel, "cwd")
        if relative_to_root(self.root, cwd) is None:
            raise SpacesError(400, f"cwd {rel!r} points outside the server's root")
        return cwd

    def _placement(self, space: Space, body: dict[str, Any]) -> _Placement:
        """Where a new pane goes and its size; checked before anything starts."""
        size = self._size(body.get("rows"), body.get("cols"))
        next_to = body.get("next_to")
        if next_to is not None and (not isinstance(next_to, str) or next_to not in space.panes):
            raise SpacesError(400, f"next_to: no pane {str(next_to)[:80]!r} in this space")
        direction = body.get("direction", "row")
        if direction not in ("row", "column"):
            raise SpacesError(400, "direction must be 'row' or 'column'")
        if len(space.panes) >= self.app.max_panes_per_space:
            raise SpacesError(
                409, f"space {space.id} already has {len(space.panes)} panes (the most allowed)"
            )
        return _Placement(size, next_to, direction)

    async def _start_pane(
        self, entry: SpaceEntry, pane: Pane, plan: RunPlan, place: _Placement
    ) -> None:
        """Start the pane from its plan, then record the pane; a failure leaves neither behind."""
        space = entry.space
        assert space is not None
        await self._run(entry, plan, place.size)
        space.add_pane(pane, place.next_to, place.direction)
        try:
            self._save(entry)
        except SpacesError:
            # No orphan process for a pane the workspace file does not know about.
            space.remove_pane(pane.id)
            await self.tmux.kill(session_name(space.id, pane.id))
            raise
        if plan.kind == "agent" and plan.session_id is None and pane.agent != "custom":
            self.agents.expect(space.id, pane.id, plan.cwd)

    async def _plan(
        self, entry: SpaceEntry, pane: Pane, purpose: str, launch: AgentLaunch | None = None
    ) -> RunPlan:
        assert entry.space is not None
        return await make_plan(entry.dir, entry.space, pane, purpose, self.agents, launch)

    async def _run(
        self, entry: SpaceEntry, plan: RunPlan, size: tuple[int, int] | None = None
    ) -> None:
        """Start ``plan`` in the pane's tmux session (again, if the session is there)."""
        assert entry.space is not None
        name = session_name(entry.space.id, plan.pane_id)
        printed = None
        if plan.prints is not None:
            private = self.tmux.socket_dir / "screens" / f"{entry.id}-{plan.pane_id}.txt"
            printed = await asyncio.to_thread(
                printable_copy, entry.dir, plan.pane_id, private, self.app.capture_max_bytes
            )
        argv = plan.command(printed)
        try:
            if name in await self.tmux.list_panes():
                await self.tmux.respawn(name, argv, str(plan.cwd), plan.env)
            else:
                await self.tmux.new_pane(name, argv, str(plan.cwd), plan.env, size)
        except TmuxError as e:
            raise SpacesError(500, f"tmux could not start the pane: {e}") from None

    def _size(self, rows: object, cols: object) -> tuple[int, int] | None:
        if rows is None and cols is None:
            return None
        return check_size(rows, cols, self.app.max_rows, self.app.max_cols)

    async def update_pane(
        self, space_id: str, pane_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        _only(body, {"title", "autorestart"})
        async with self._lock(space_id):
            entry, pane = self._pane(space_id, pane_id)
            self._writable(entry)
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
            self._save(entry)
        self.emit({"action": "pane_updated", "space_id": space_id, "pane_id": pane_id})
        return await self.get_pane(space_id, pane_id)

    async def restart_pane(self, space_id: str, pane_id: str) -> dict[str, Any]:
        """Run the pane's launch command again in the same tmux session (killing what runs).
        An agent pane resumes its stored session, in the session's own folder."""
        async with self._lock(space_id):
            entry, pane = self._pane(space_id, pane_id)
            self._writable(entry)
            self._require_host()
            assert entry.space is not None
            plan = await self._plan(entry, pane, "restart")
            await self._run(entry, plan)
            name = session_name(space_id, pane_id)
            if pane.kind == "agent":
                self.agents.forget(space_id, pane_id)
                if plan.session_id != pane.session_id:
                    pane.session_id = plan.session_id
                    self._save(entry)
                if plan.session_id is None and pane.agent != "custom":
                    self.agents.expect(space_id, pane_id, plan.cwd)
            stream = self.streams.get(name)
            if stream is not None and stream.alive:
                stream.restarted()
        self.emit({"action": "pane_updated", "space_id": space_id, "pane_id": pane_id})
        return await self.get_pane(space_id, pane_id)

    async def delete_pane(self, space_id: str, pane_id: str) -> None:
        async with self._lock(space_id):
            entry, _pane = self._pane(space_id, pane_id)
            space = self._writable(entry)
            await self._stop_pane(space_id, pane_id)
            space.remove_pane(pane_id)
            self.agents.forget(space_id, pane_id)
            self._save(entry)
            self._captured.pop((space_id, pane_id), None)
            forget_capture(entry.dir, pane_id)
        self.emit({"action": "pane_deleted", "space_id": space_id, "pane_id": pane_id})

    async def _stop_pane(self, space_id: str, pane_id: str) -> None:
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

    async def send_input(self, space_id: str, pane_id: str, body: dict[str, Any]) -> None:
        _only(body, {"text"})
        text = body.get("text")
        if not isinstance(text, str):
            raise SpacesError(400, "text must be a string")
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            raise SpacesError(400, "text is not valid UTF-8 (it holds a lone surrogate)") from None
        if size > self.app.max_message_size:
            raise SpacesError(413, f"text is larger than {self.app.max_message_size} bytes")
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

    async def _info(self, space_id: str, pane_id: str) -> PaneInfo:
        self._pane(space_id, pane_id)
        self._require_host()
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
                self.tmux, name, self.app.flow_settings(), on_closed=self._stream_closed
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
        """Typing into a pane counts as server activity (JupyterHub's idle culler reads
        ``*_last_activity`` settings); output counts too, see ``_announce_states``."""
        now = time.monotonic()
        if now - self.last_activity > 5:
            self.last_activity = now
            self.web_settings["spaces_last_activity"] = datetime.now(timezone.utc)

    # -- state ----------------------------------------------------------------------------

    async def _pane_states(self) -> dict[tuple[str, str], PaneInfo]:
        if self.host_error or not self.tmux.available:
            return {}  # gone while tmux cannot be asked; ``_check_host`` asks again
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

    async def _announce_states(self) -> None:
        infos = await self._pane_states()
        # tmux notes each window's last output: a pane whose program works is server activity.
        latest = max((i.activity for i in infos.values() if not i.dead), default=0)
        if latest:
            seen = datetime.fromtimestamp(latest, timezone.utc)
            if seen > self.web_settings.get("spaces_last_activity", seen):
                self.web_settings["spaces_last_activity"] = seen
            self.web_settings.setdefault("spaces_last_activity", seen)
        for entry in list(self.entries.values()):
            if entry.space is None:
                continue
            for pane_id in entry.space.panes:
                state, code, _ = _state(infos.get((entry.id, pane_id)))
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

    def status(self) -> dict[str, Any]:
        return {
            "durable": self.host_error is None,
            "tmux": self.tmux.version() if self.tmux.available else None,
            "message": self.host_error,
            "unknown_sessions": self.unknown_sessions,
        }

    # -- JSON -----------------------------------------------------------------------------

    def _space_json(
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
            "panes": [self._pane_json(entry, p, infos) for p in space.panes.values()]
            if space
            else [],
        }

    def _pane_json(
        self, entry: SpaceEntry, pane: Pane, infos: dict[tuple[str, str], PaneInfo]
    ) -> dict[str, Any]:
        info = infos.get((entry.id, pane.id))
        state, code, pid = _state(info)
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
        }


def _state(info: PaneInfo | None) -> tuple[str, int | None, int | None]:
    if info is None:
        return "gone", None, None
    if info.dead:
        return "exited", info.exit_status, None
    return "running", None, info.pid


_PLACEMENT = frozenset({"rows", "cols", "next_to", "direction"})
_AGENT_FIELDS = frozenset({"agent", "args", "model", "resume", "session_id", "argv"})


@dataclass
class _Placement:
    size: tuple[int, int] | None
    next_to: str | None
    direction: str


def _exited(pane_id: str, status: int | None) -> str:
    code = "" if status is None else f" with status {status}"
    return (
        f"pane {pane_id} has exited{code}: nothing reads what is typed into it. "
        "Restart the pane to run its command again."
    )


def _untrusted(space_id: str) -> str:
    return (
        f"space {space_id} is not trusted: its space.json was not written by this user's server "
        "(it came with the folder, or was edited); nothing in it runs until you trust it"
    )


def _short(text: str | None, cap: int = 60) -> str:
    """A pane title from a session title or prompt: one line, at most ``cap`` characters."""
    line = " ".join((text or "").split())
    return line if len(line) <= cap else line[: cap - 1] + "…"


def _rel(path: Path, base: Path) -> str:
    rel = path.relative_to(base).as_posix()
    return "" if rel == "." else rel


def check_size(rows: object, cols: object, max_rows: int, max_cols: int) -> tuple[int, int]:
    """Rows and columns from a client, or SpacesError(400) saying what is wrong."""
    for value, what, top in ((rows, "rows", max_rows), (cols, "cols", max_cols)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise SpacesError(400, f"{what} must be a whole number")
        if not 1 <= value <= top:
            raise SpacesError(400, f"{what} must be between 1 and {top}, not {value}")
    return rows, cols  # type: ignore[return-value]


def _only(body: dict[str, Any], allowed: set[str] | frozenset[str]) -> None:
    if not isinstance(body, dict):
        raise SpacesError(400, "the request body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise SpacesError(
            400, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
