"""Trust, screen captures and cold restore: bringing a space back after the machine restarted."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from ..agents.launch import AgentLaunch
from ..errors import SpacesError
from ..host.tmux import TmuxError, session_name
from ..model import Pane
from ..paths import existing_dir, relative_to_root
from ..restore import (
    capture_file,
    captured_at,
    restored_shell,
    waiting_command,
    when_text,
    write_capture,
)
from .core import (
    SpaceEntry,
    SpacesCore,
    _only,
)


class RestoreOps(SpacesCore):
    async def trust_space(self, space_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Trust the space's workspace file as it is now, then start the panes it describes.
        With ``sha256`` (the ``file_sha256`` the user was shown) a file changed since is
        refused, so what is trusted is what was reviewed."""
        _only(body, {"sha256"})
        seen = body.get("sha256")
        if seen is not None and not isinstance(seen, str):
            raise SpacesError(400, "sha256 must be a string")
        async with self._lock(space_id):
            entry = self._entry(space_id)
            if entry.space is None or entry.status != "ok":
                raise SpacesError(
                    409, f"space {space_id} cannot be trusted: {entry.message or entry.status}"
                )
            if seen is not None and seen != self._digest(entry):
                raise SpacesError(
                    409,
                    f"space.json of space {space_id} changed since it was shown; review it again",
                    "changed",
                )
            try:
                self.notary.trust(entry.file.read_bytes())
            except OSError as e:
                raise SpacesError(500, f"could not record the trust: {e}") from None
            entry.trusted = True
            restored = await self._restore_space(entry) if not self.host_error else 0
        self.log.info("jupyter-spaces: space %s trusted; %d pane(s) started", space_id, restored)
        self.emit({"action": "space_updated", "space_id": space_id})
        return await self.get_space(space_id)

    async def _restore_all(self) -> None:
        """After the machine restarted: start again every pane of a trusted space whose tmux
        session is gone. Panes that are live were adopted and are left alone."""
        t0 = time.monotonic()
        count = 0
        for entry in list(self.entries.values()):
            if entry.space is None or relative_to_root(self.root, entry.dir) is None:
                continue
            if not entry.trusted:
                if entry.space.panes:
                    self.log.warning(
                        "jupyter-spaces: space %s is not trusted; its %d pane(s) stay stopped "
                        "until it is trusted",
                        entry.id,
                        len(entry.space.panes),
                    )
                continue
            async with self._lock(entry.id):
                count += await self._restore_space(entry)
        if count:
            self.log.info(
                "jupyter-spaces: restored %d pane(s) in %.2f s", count, time.monotonic() - t0
            )

    async def _restore_space(self, entry: SpaceEntry) -> int:
        space = entry.space
        if space is None or entry.status != "ok" or entry.read_only or not entry.trusted:
            return 0
        live = await self.tmux.list_panes()
        todo = [p for p in space.panes.values() if session_name(space.id, p.id) not in live]
        # The first start also starts the tmux server (concurrent clients would race to do
        # that); the rest start side by side, each a few tmux client processes, mostly waiting.
        results: list[bool | BaseException] = []
        for batch in (todo[:1], todo[1:]):
            results += await asyncio.gather(
                *(self._restore_pane(entry, pane) for pane in batch), return_exceptions=True
            )
        count, changed = 0, False
        for pane, result in zip(todo, results, strict=True):
            if isinstance(result, (SpacesError, TmuxError, OSError)):
                self.log.error("jupyter-spaces: could not restore pane %s: %s", pane.id, result)
            elif isinstance(result, BaseException):
                raise result
            else:
                changed |= result
                count += 1
        if changed:
            self._save(entry)
        return count

    async def _restore_pane(self, entry: SpaceEntry, pane: Pane) -> bool:
        """Start a pane from its workspace entry; True if its session id changed."""
        assert entry.space is not None
        try:
            cwd = existing_dir(entry.dir, pane.cwd, "cwd")
        except SpacesError:
            cwd = entry.dir  # its folder was removed: start in the space's folder
        when = when_text(captured_at(entry.dir, pane.id))
        launch: AgentLaunch | None = None
        if pane.kind == "agent":
            launch, cwd = await self.agents.restart(pane, entry.dir, cwd)
            notice = launch.notice or f"restored from {when}"
            launch = AgentLaunch(launch.argv, launch.session_id, notice)
            argv = self._spawn_argv(pane, launch)
        elif pane.kind == "shell":
            argv = restored_shell(pane.launch.argv, capture_file(entry.dir, pane.id), when)
        elif pane.autorestart:
            argv = list(pane.launch.argv)
        else:
            argv = waiting_command(pane.launch.argv, when)
        name = session_name(entry.space.id, pane.id)
        await self.tmux.new_pane(name, argv, str(cwd), self._pane_env(entry.space, pane))
        if launch is None:
            return False
        if launch.session_id is None and pane.agent != "custom":
            self.agents.expect(entry.space.id, pane.id, cwd)
        if launch.session_id != pane.session_id:
            pane.session_id = launch.session_id
            return True
        return False

    async def _capture_loop(self) -> None:
        while True:
            await asyncio.sleep(self.app.capture_interval)
            try:
                await self._capture_changed()
            except Exception:
                self.log.exception("jupyter-spaces: capturing pane screens failed")

    async def _capture_changed(self) -> int:
        """Save the text of every pane that printed something since its last capture. With no
        output anywhere this is one `list-panes` and no writes."""
        infos = await self._pane_states()
        count = 0
        for entry in list(self.entries.values()):
            if entry.space is None or entry.status != "ok":
                continue
            for pane_id in list(entry.space.panes):  # panes may come and go while we wait
                key = (entry.id, pane_id)
                info = infos.get(key)
                if info is None or not info.activity:
                    continue
                if key not in self._captured:
                    self._captured[key] = captured_at(entry.dir, pane_id) or 0.0
                if info.activity <= self._captured[key]:
                    continue
                taken = time.time()
                text = await self.tmux.capture(info.session, self.app.capture_lines)
                # tmux counts activity in whole seconds: output later in the second of the
                # capture has the same stamp, so that second counts as not yet captured.
                upto = min(info.activity, math.floor(taken) - 1)
                await asyncio.to_thread(
                    write_capture, entry.dir, pane_id, text, upto, self.app.capture_max_bytes
                )
                self._captured[key] = upto
                count += 1
        return count
