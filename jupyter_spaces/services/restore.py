"""Restore: trust by run plan, screen captures, and cold restore after the machine restarted.

Owns the capture bookkeeping (when each pane's text was last saved) and the capture loop. It
starts panes only through ``Panes.run`` and writes the workspace file only through
``Workspaces.save``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ..agent_panes import AgentPanes
from ..errors import SpacesError
from ..host.tmux import TmuxError
from ..plan import RunPlan, plans_digest, restore_plans
from ..restore import captured_at, write_capture
from .common import only
from .panes import Panes
from .settings import SpacesSettings
from .spaces import Spaces
from .workspaces import SpaceEntry, Workspaces


class Restore:
    def __init__(
        self,
        settings: SpacesSettings,
        log: logging.Logger,
        emit: Callable[[dict[str, Any]], None],
        workspaces: Workspaces,
        panes: Panes,
        agents: AgentPanes,
        spaces: Spaces,
    ) -> None:
        self.settings = settings
        self.root = settings.root
        self.log = log
        self.emit = emit
        self.workspaces = workspaces
        self.panes = panes
        self.agents = agents
        self.spaces = spaces
        # (space, pane) -> tmux's last-output time of the pane when its text was last captured
        self._captured: dict[tuple[str, str], float] = {}
        self._capturer: asyncio.Task[None] | None = None
        panes.stopped.append(self.forget)
        # Awaited under the space's lock once a trust of an untrusted file is going ahead, before
        # anything of it runs (the snapshots service takes its ``before_trust`` snapshot).
        self.before_trust: list[Callable[[SpaceEntry], Awaitable[None]]] = []

    def forget(self, space_id: str, pane_id: str) -> None:
        """The pane was stopped: its next capture is decided afresh."""
        self._captured.pop((space_id, pane_id), None)

    # -- plans and trust ------------------------------------------------------------------

    async def _plans(self, entry: SpaceEntry) -> tuple[list[RunPlan], list[str]]:
        """The plan of every pane (see ``plan.restore_plans``), and the ids of the panes that
        run now: a restore or a trust starts the others."""
        space = entry.space
        assert space is not None
        running = await self.panes.running(space.id, list(space.panes))
        return await restore_plans(entry.dir, space, self.agents), running

    def _digest_of(self, entry: SpaceEntry, plans: list[RunPlan], running: list[str]) -> str:
        return plans_digest(plans, entry.dir, running)

    async def space_plan(self, space_id: str) -> dict[str, Any]:
        """What trusting (or restoring) the space would run, exactly as it would run: the
        trust dialog and ``jupyter spaces trust`` show this, and a trust names its digest."""
        async with self.workspaces.lock(space_id):
            entry = self.workspaces.entry(space_id)
            if entry.space is None or entry.status != "ok":
                raise SpacesError(
                    409, f"space {space_id} has no plan: {entry.message or entry.status}"
                )
            plans, running = await self._plans(entry)
            return {
                "space_id": space_id,
                "trusted": entry.trusted,
                "file_sha256": entry.digest,
                "copy_of": entry.file_id,
                "plan_sha256": self._digest_of(entry, plans, running),
                "plans": [{**p.to_json(self.root), "running": p.pane_id in running} for p in plans],
                "running": running,
            }

    async def trust_space(self, space_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Trust the space's workspace file as it is now and start the panes of the plan the
        user was shown: ``plan_sha256`` (from ``GET …/plan``) must name the plans as they are
        now, or nothing is trusted (409 ``changed``)."""
        only(body, {"plan_sha256"})
        seen = body.get("plan_sha256")
        if not isinstance(seen, str) or not seen:
            raise SpacesError(
                400,
                "plan_sha256 is required: the plan_sha256 of GET /api/spaces/{space}/plan, "
                "so that what is trusted is what was reviewed",
            )
        async with self.workspaces.lock(space_id):
            entry = self.workspaces.entry(space_id)
            if entry.space is None or entry.status != "ok":
                raise SpacesError(
                    409, f"space {space_id} cannot be trusted: {entry.message or entry.status}"
                )
            plans, running = await self._plans(entry)
            if seen != self._digest_of(entry, plans, running):
                raise SpacesError(
                    409,
                    f"what space {space_id} would run changed since it was shown; review it again",
                    "changed",
                )
            for hook in self.before_trust:
                await hook(entry)
            if entry.file_id is not None:
                # A copy of another folder's space gets its own id in its file now.
                self.workspaces.save(entry)
                if not entry.trusted:
                    raise SpacesError(
                        409,
                        f"space.json of space {space_id} changed while it was trusted; "
                        "review it again",
                        "changed",
                    )
            elif entry.data is not None:
                # The very bytes the plans were made from, not the file as it is by now.
                self.workspaces.trust_as_read(entry)
            todo = [p for p in plans if p.pane_id not in running]
            started = 0 if self.panes.host_error else await self._start_plans(entry, todo)
        self.log.info("jupyter-spaces: space %s trusted; %d pane(s) started", space_id, started)
        self.emit({"action": "space_updated", "space_id": space_id})
        return await self.spaces.get_space(space_id)

    # -- cold restore ---------------------------------------------------------------------

    async def restore_all(self) -> None:
        """After the machine restarted: start again every pane of a trusted space whose tmux
        session is gone. Panes that are live were adopted and are left alone."""
        t0 = time.monotonic()
        count = 0
        for entry in self.workspaces.all():
            if entry.space is None or not self.workspaces.reachable(entry):
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
            async with self.workspaces.lock(entry.id):
                count += await self.restore_space(entry)
        if count:
            self.log.info(
                "jupyter-spaces: restored %d pane(s) in %.2f s", count, time.monotonic() - t0
            )

    async def restore_space(self, entry: SpaceEntry) -> int:
        """Start the space's panes that do not run, if the space may run; how many started.
        The caller holds the space's lock."""
        space = entry.space
        if space is None or entry.status != "ok" or entry.read_only or not entry.trusted:
            return 0
        plans, running = await self._plans(entry)
        if entry.trusted_plan is not None and entry.trusted_plan != self._digest_of(
            entry, plans, running
        ):
            self.log.warning(
                "jupyter-spaces: space %s was trusted with `jupyter spaces trust`, but what it "
                "would run has changed since; its panes stay stopped until it is trusted again",
                entry.id,
            )
            self.workspaces.distrust(entry)
            return 0
        started = await self._start_plans(entry, [p for p in plans if p.pane_id not in running])
        self.workspaces.settle_trust(entry)
        return started

    async def _start_plans(self, entry: SpaceEntry, plans: list[RunPlan]) -> int:
        """Start each plan; the first alone (it also starts the tmux server: concurrent clients
        would race to do that), the rest side by side."""
        space = entry.space
        assert space is not None
        results: list[BaseException | None] = []
        for batch in (plans[:1], plans[1:]):
            results += await asyncio.gather(
                *(self.panes.run(entry, plan) for plan in batch), return_exceptions=True
            )
        count, changed = 0, False
        for plan, result in zip(plans, results, strict=True):
            if isinstance(result, (SpacesError, TmuxError, OSError)):
                self.log.error(
                    "jupyter-spaces: could not restore pane %s: %s", plan.pane_id, result
                )
            elif isinstance(result, BaseException):
                raise result
            else:
                count += 1
                pane = space.panes.get(plan.pane_id)
                if pane is None or pane.kind != "agent":
                    continue
                if plan.session_id is None and pane.agent != "custom":
                    self.agents.expect(space.id, pane.id, plan.cwd)
                if plan.session_id != pane.session_id:
                    pane.session_id = plan.session_id
                    changed = True
        if changed:
            self.workspaces.save(entry)
        return count

    # -- screen captures ------------------------------------------------------------------

    def start(self) -> None:
        self._capturer = asyncio.ensure_future(self._capture_loop())

    async def stop(self) -> None:
        if self._capturer is not None:
            self._capturer.cancel()
            try:
                await self.capture_changed()  # a clean shutdown keeps the latest screens
            except Exception:
                self.log.exception("jupyter-spaces: capturing screens at shutdown failed")

    async def _capture_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.capture_interval)
            try:
                await self.capture_changed()
            except Exception:
                self.log.exception("jupyter-spaces: capturing pane screens failed")

    async def capture_changed(self) -> int:
        """Save the text of every pane that printed something since its last capture. With no
        output anywhere this is one `list-panes` and no writes."""
        infos = await self.panes.states()
        count = 0
        for entry in self.workspaces.all():
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
                text = await self.panes.capture(info, self.settings.capture_lines)
                # tmux counts activity in whole seconds: output later in the second of the
                # capture has the same stamp, so that second counts as not yet captured.
                upto = min(info.activity, math.floor(taken) - 1)
                await asyncio.to_thread(
                    write_capture, entry.dir, pane_id, text, upto, self.settings.capture_max_bytes
                )
                self._captured[key] = upto
                count += 1
        return count

    async def capture_space(self, entry: SpaceEntry) -> None:
        """Save the text of each live pane of the space now, changed or not."""
        if entry.space is None:
            return
        infos = await self.panes.states()
        for pane_id in entry.space.panes:
            info = infos.get((entry.id, pane_id))
            if info is None:
                continue
            try:
                text = await self.panes.capture(info, self.settings.capture_lines)
            except TmuxError as e:
                self.log.warning("jupyter-spaces: capturing pane %s failed: %s", pane_id, e)
                continue
            activity = info.activity or time.time()
            await asyncio.to_thread(
                write_capture, entry.dir, pane_id, text, activity, self.settings.capture_max_bytes
            )
            self._captured[(entry.id, pane_id)] = activity
