"""Snapshots of a space, as the API and the CLI ask for them (the files: ``..snapshots``).

It takes a fresh capture through ``Restore``, reads and writes the space through
``Workspaces``, stops panes through ``Panes``, and reads agent transcripts through the session
index it is given. Its own state is what the schedule needs and may lose at a restart: when each
space was last snapshotted and how active it was then, and which agent panes had their agent
running at the last look.

Snapshots are taken by the user, on the schedule (``snapshot_schedule``, or the space's own
``policy.json``) when the space had activity since its last snapshot, and on events, each with
its reason: ``before_restore``, ``before_trust`` (a changed or foreign workspace file),
``agent_ended`` (an agent pane's agent exited, or an agent pane was stopped) and
``before_delete``. After each new snapshot the retention policy runs (``snapshot_keep_*``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from .. import snapshots as snaps
from ..agent_panes import AgentPanes
from ..agents import SessionIndex
from ..errors import SpacesError, disk_error
from ..host.tmux import PaneInfo
from ..model import Space
from ..restore import forget_capture
from ..safefs import UnsafePath
from .agent_state import AgentStates
from .common import only
from .panes import Panes, pane_state
from .restore import Restore
from .settings import SpacesSettings
from .spaces import Spaces
from .workspaces import SpaceEntry, Workspaces


def _bool_arg(args: dict[str, str], key: str, default: bool) -> bool:
    value = args.get(key)
    if value is None:
        return default
    if value not in ("true", "false"):
        raise SpacesError(400, f"{key} must be true or false")
    return value == "true"


class Snapshots:
    def __init__(
        self,
        settings: SpacesSettings,
        log: logging.Logger,
        emit: Callable[[dict[str, Any]], None],
        workspaces: Workspaces,
        panes: Panes,
        restore: Restore,
        spaces: Spaces,
        agents: AgentPanes,
        index: SessionIndex,
        agent_states: AgentStates,
    ) -> None:
        self.settings = settings
        self.log = log
        self.emit = emit
        self.workspaces = workspaces
        self.panes = panes
        self.restore = restore
        self.spaces = spaces
        self.agents = agents
        self.index = index
        # space id -> (when it was last snapshotted, its activity level then), both epoch seconds
        self._last: dict[str, tuple[float, float]] = {}
        # Spaces whose panes this service is stopping itself (a restore, a delete).
        self._quiet: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._scheduler: asyncio.Task[None] | None = None
        self._started_at = time.time()
        restore.before_trust.append(self._before_trust)
        panes.stopped.append(self._pane_stopped)
        agent_states.changed.append(self._agent_state_changed)

    # -- reading ---------------------------------------------------------------------------

    async def list_snapshots(self, space_id: str) -> dict[str, Any]:
        """Newest first, each with its reason, pin and ``unique_bytes``; ``disk`` is what the
        snapshots take (shared blobs once) against ``logical_bytes`` (as whole copies)."""
        entry = self.workspaces.entry(space_id)
        return await asyncio.to_thread(snaps.summary, entry.dir)

    async def get_snapshot(self, space_id: str, snapshot_id: str) -> dict[str, Any]:
        entry = self.workspaces.entry(space_id)
        snap = await asyncio.to_thread(snaps.read, entry.dir, snapshot_id)
        return {**snap.public(), "layout": snaps.layout(snap)}

    async def get_screen(self, space_id: str, snapshot_id: str, pane_id: str) -> dict[str, Any]:
        """A pane's screen text as the snapshot holds it (the timeline's preview)."""
        from ..snapshots.screens import screen_text

        entry = self.workspaces.entry(space_id)
        snap = await asyncio.to_thread(snaps.read, entry.dir, snapshot_id)
        return await asyncio.to_thread(screen_text, snap, pane_id)

    # -- taking ------------------------------------------------------------------------------

    async def create_snapshot(self, space_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Copy the space (a fresh capture of every live pane's screen first) and every agent
        transcript its panes reference, then apply the retention policy. Allowed for untrusted
        spaces: nothing runs."""
        only(body, {"name"})
        name = snaps.check_name(body.get("name"))
        async with self.workspaces.lock(space_id):
            entry = self.workspaces.entry(space_id)
            manifest = await self._take(entry, "manual", name)
        pruned = await self._retain(entry)
        self.emit({"action": "space_updated", "space_id": space_id})
        return {**await self.get_snapshot(space_id, manifest["id"]), "pruned": pruned}

    async def _take(
        self, entry: SpaceEntry, reason: str, name: str = "", capture: bool = True
    ) -> dict[str, Any]:
        """Write a snapshot of the space now (the caller holds the space's lock)."""
        if entry.space is None or entry.status != "ok":
            raise SpacesError(
                409, f"space {entry.id} cannot be snapshotted: {entry.message or entry.status}"
            )
        level = self._level(entry, await self.panes.states())
        if capture:
            try:
                await self.restore.capture_space(entry)
            except UnsafePath as e:
                raise SpacesError(409, f"could not capture the screens: {e}") from None
        sources = await asyncio.to_thread(self._transcript_sources, entry.space)
        data = entry.data
        assert data is not None

        def sign(manifest: bytes) -> None:
            self.workspaces.sign(entry, manifest)

        try:
            if entry.trusted:
                # Keeps the signature of these bytes fresh: a restore years later is trusted.
                self.workspaces.sign(entry, data)
            manifest = await asyncio.to_thread(
                snaps.create, entry.dir, data, sources, name=name, reason=reason, sign=sign
            )
        except UnsafePath as e:
            raise SpacesError(409, f"could not write the snapshot: {e}") from None
        except OSError as e:
            raise disk_error(e, "could not write the snapshot") from None
        self._last[entry.id] = (time.time(), level)
        self.log.info(
            "jupyter-spaces: snapshot %s of space %s taken (%s, %d new bytes)",
            manifest["id"],
            entry.id,
            reason,
            manifest.get("new_bytes", 0),
        )
        return manifest

    async def _retain(self, entry: SpaceEntry) -> list[str]:
        """Apply the space's retention policy after a new snapshot (when automatic pruning is
        on); what it removed. A failure is logged: the new snapshot stands."""
        if not self.settings.snapshot_auto_prune:
            return []
        policy, _ = self._policy(entry)
        try:
            result = await asyncio.to_thread(snaps.apply_policy, entry.dir, policy)
        except (OSError, SpacesError) as e:
            self.log.warning("jupyter-spaces: pruning the snapshots of %s failed: %s", entry.id, e)
            return []
        if result["deleted"]:
            self.log.info(
                "jupyter-spaces: retention removed %d snapshot(s) of space %s (%d bytes freed)",
                len(result["deleted"]),
                entry.id,
                result["freed_bytes"],
            )
        return list(result["deleted"])

    async def _event(self, space_id: str, reason: str) -> dict[str, Any] | None:
        """Take a snapshot for an event no one waits on; failures are logged."""
        try:
            async with self.workspaces.lock(space_id):
                entry = self.workspaces.entry(space_id)
                if entry.space is None or entry.status != "ok":
                    return None
                manifest = await self._take(entry, reason)
            await self._retain(entry)
        except SpacesError as e:
            self.log.warning(
                "jupyter-spaces: %s snapshot of space %s failed: %s", reason, space_id, e.message
            )
            return None
        self.emit({"action": "space_updated", "space_id": space_id})
        return manifest

    def _transcript_sources(self, space: Space) -> list[snaps.TranscriptSource]:
        """The transcript files of every agent session the panes reference (runs in a thread)."""
        index = self.index
        out: list[snaps.TranscriptSource] = []
        seen: set[tuple[str, str]] = set()
        for pane in space.panes.values():
            agent, sid = pane.agent, pane.session_id
            if agent not in ("claude", "codex", "gemini") or not sid or (agent, sid) in seen:
                continue
            seen.add((agent, sid))
            session = index.get(agent, sid)
            files = list(session.files) if session is not None else []
            if agent == "claude":  # the index may not have seen a brand-new session yet
                for root in index.roots("claude"):
                    files += [str(p) for p in (root / "projects").glob(f"*/{sid}.jsonl")]
            out.append(snaps.TranscriptSource(agent, sid, snaps.session_files(files, sid)))
        return out

    # -- deleting, retention, pins and the space's own settings ------------------------------

    async def delete_snapshot(self, space_id: str, snapshot_id: str) -> None:
        entry = self.workspaces.entry(space_id)
        await asyncio.to_thread(snaps.delete, entry.dir, snapshot_id)
        self.emit({"action": "space_updated", "space_id": space_id})

    async def prune_snapshots(self, space_id: str, args: dict[str, str]) -> dict[str, Any]:
        unknown = sorted(set(args) - {"keep", "older_than_days"})
        if unknown:
            raise SpacesError(400, f"prune takes only keep and older_than_days, not {unknown[0]}")
        keep = args.get("keep")
        if keep is not None and not (keep.isascii() and keep.isdigit()):
            raise SpacesError(400, "keep must be a whole number, 0 or more")
        older: float | None = None
        if "older_than_days" in args:
            try:
                older = float(args["older_than_days"])
            except ValueError:
                raise SpacesError(400, "older_than_days must be a number of days") from None
            if older != older:  # NaN
                raise SpacesError(400, "older_than_days must be a number of days")
        entry = self.workspaces.entry(space_id)
        result = await asyncio.to_thread(
            snaps.prune, entry.dir, int(keep) if keep is not None else None, older
        )
        if result["deleted"]:
            self.emit({"action": "space_updated", "space_id": space_id})
        return result

    async def apply_retention(self, space_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST …/snapshots/prune {"dry_run"?, "keep"?}``: apply the space's retention policy
        (with the rules in ``keep`` instead, for this call only); with ``dry_run`` only say what
        would go."""
        only(body, {"dry_run", "keep"})
        dry_run = body.get("dry_run", False)
        if not isinstance(dry_run, bool):
            raise SpacesError(400, "dry_run must be true or false")
        keep = body.get("keep", {})
        if not isinstance(keep, dict):
            raise SpacesError(400, f"keep is an object with some of {', '.join(snaps.RULES)}")
        entry = self.workspaces.entry(space_id)
        policy, _ = self._policy(entry)
        policy = policy.replace(keep)
        result = await asyncio.to_thread(snaps.apply_policy, entry.dir, policy, None, dry_run)
        if result["deleted"] and not dry_run:
            self.emit({"action": "space_updated", "space_id": space_id})
        return result

    async def update_snapshot(
        self, space_id: str, snapshot_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """``PATCH {"pinned": bool}``: a pinned snapshot is never pruned."""
        only(body, {"pinned"})
        pinned = body.get("pinned")
        if not isinstance(pinned, bool):
            raise SpacesError(400, "pinned must be true or false")
        entry = self.workspaces.entry(space_id)
        await asyncio.to_thread(snaps.set_pinned, entry.dir, snapshot_id, pinned)
        self.emit({"action": "space_updated", "space_id": space_id})
        return await self.get_snapshot(space_id, snapshot_id)

    def _default_policy(self) -> snaps.Policy:
        s = self.settings
        return snaps.Policy(
            max(1, s.snapshot_keep_last),
            s.snapshot_keep_hourly,
            s.snapshot_keep_daily,
            s.snapshot_keep_weekly,
        )

    def _policy(self, entry: SpaceEntry) -> tuple[snaps.Policy, snaps.SpacePolicy]:
        own, problem = snaps.read_policy(entry.dir)
        if problem:
            self.log.warning("jupyter-spaces: space %s: %s", entry.id, problem)
        try:
            return own.policy(self._default_policy()), own
        except SpacesError:
            return self._default_policy(), snaps.SpacePolicy()

    def _schedule(self, entry: SpaceEntry) -> tuple[str, float | None]:
        own, _ = snaps.read_policy(entry.dir)
        text = own.schedule or self.settings.snapshot_schedule
        try:
            return text, snaps.parse_schedule(text)
        except ValueError:
            return "off", None

    async def get_settings(self, space_id: str) -> dict[str, Any]:
        """The space's own schedule and rules (null: the server's), and those in effect."""
        entry = self.workspaces.entry(space_id)
        own, problem = await asyncio.to_thread(snaps.read_policy, entry.dir)
        policy, _ = self._policy(entry)
        schedule, _ = self._schedule(entry)
        return {
            **own.to_json(),
            "effective": {"schedule": schedule, "keep": policy.to_json()},
            "defaults": {
                "schedule": self.settings.snapshot_schedule,
                "keep": self._default_policy().to_json(),
                "auto_prune": self.settings.snapshot_auto_prune,
            },
            "message": problem,
        }

    async def update_settings(self, space_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """``PATCH {"schedule"?, "keep"?}``: a value of null goes back to the server's."""
        only(body, {"schedule", "keep"})
        async with self.workspaces.lock(space_id):
            entry = self.workspaces.entry(space_id)
            if entry.status not in ("ok", "newer"):
                raise SpacesError(409, f"space {space_id} is {entry.status}: {entry.message}")
            own, _ = await asyncio.to_thread(snaps.read_policy, entry.dir)
            changed = own.merged(body)
            changed.policy(self._default_policy())  # 400 if the rules it makes are not valid
            try:
                await asyncio.to_thread(snaps.write_policy, entry.dir, changed)
            except UnsafePath as e:
                raise SpacesError(409, f"could not save the snapshot settings: {e}") from None
            except OSError as e:
                raise disk_error(e, "could not save the snapshot settings") from None
        self.emit({"action": "space_updated", "space_id": space_id})
        return await self.get_settings(space_id)

    # -- events ------------------------------------------------------------------------------

    async def delete_space(self, space_id: str, remove_files: bool, snapshot: bool) -> None:
        """Delete the space, after a ``before_delete`` snapshot unless ``snapshot`` is False
        (the snapshots stay in the folder, with ``remove_files`` too). If that snapshot cannot
        be taken the space is not deleted."""
        entry = self.workspaces.entry(space_id)
        if snapshot and entry.space is not None and entry.status == "ok":
            async with self.workspaces.lock(space_id):
                entry = self.workspaces.entry(space_id)
                if entry.space is not None and entry.status == "ok":
                    await self._take(entry, "before_delete")
        self._quiet.add(space_id)
        try:
            await self.spaces.delete_space(space_id, remove_files)
        finally:
            self._quiet.discard(space_id)
            self._last.pop(space_id, None)

    async def _before_trust(self, entry: SpaceEntry) -> None:
        """Called by ``Restore.trust_space`` under the space's lock, once the plan matched:
        a snapshot of the space as the changed file found it, before anything of it runs."""
        if entry.trusted:
            return
        try:
            await self._take(entry, "before_trust")
        except SpacesError as e:
            self.log.warning(
                "jupyter-spaces: before_trust snapshot of space %s failed: %s", entry.id, e.message
            )

    def _pane_stopped(self, space_id: str, pane_id: str) -> None:
        """``Panes.stopped``: an agent pane stopped (closed by the user) ends its session; the
        snapshot holds the workspace file as it was when the pane stopped, with the pane."""
        if space_id in self._quiet:
            return
        entry = next((e for e in self.workspaces.all() if e.id == space_id), None)
        pane = entry.space.panes.get(pane_id) if entry and entry.space else None
        if entry is None or pane is None or pane.kind != "agent" or entry.data is None:
            return
        if entry.status != "ok":
            return
        self._spawn(self._stopped_snapshot(entry, entry.data))

    async def _stopped_snapshot(self, entry: SpaceEntry, data: bytes) -> None:
        try:
            space = Space.from_json(json.loads(data.decode("utf-8")), allow_newer=True)
            sources = await asyncio.to_thread(self._transcript_sources, space)
            sign = self.workspaces.sign
            await asyncio.to_thread(
                snaps.create,
                entry.dir,
                data,
                sources,
                reason="agent_ended",
                sign=lambda m: sign(entry, m),
            )
            await self._retain(entry)
        except (SpacesError, OSError, ValueError) as e:
            self.log.warning(
                "jupyter-spaces: agent_ended snapshot of space %s failed: %s", entry.id, e
            )
            return
        self.emit({"action": "space_updated", "space_id": entry.id})

    async def agent_ended(self, space_id: str, pane_id: str) -> None:
        """An agent session in the space ended (for services that know it from the agent's own
        signals); takes the ``agent_ended`` snapshot."""
        if self.workspaces.has_pane(space_id, pane_id):
            await self._event(space_id, "agent_ended")

    def _agent_state_changed(
        self, space_id: str, pane_id: str, state: str, previous: str | None
    ) -> None:
        """``AgentStates.changed``: an agent pane's agent exited (its own signal, or its
        process ended), so its session ended: the space gets an ``agent_ended`` snapshot."""
        if state == "exited" and previous not in (None, "exited") and space_id not in self._quiet:
            self._spawn(self.agent_ended(space_id, pane_id))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the schedule --------------------------------------------------------------------------

    def start(self) -> None:
        if self._scheduler is None:
            self._scheduler = asyncio.ensure_future(self._schedule_loop())

    async def stop(self) -> None:
        tasks = [t for t in (self._scheduler, *self._tasks) if t is not None]
        self._scheduler = None
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _schedule_loop(self) -> None:
        while True:
            delay = 60.0
            try:
                delay = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the schedule whatever one round hit
                self.log.exception("jupyter-spaces: scheduled snapshots failed")
            await asyncio.sleep(delay)

    @staticmethod
    def _level(entry: SpaceEntry, infos: dict[tuple[str, str], PaneInfo]) -> float:
        """How recently the space was active (epoch seconds): its panes' last output or input
        as tmux notes it, and the last change of its workspace file."""
        level = 0.0
        if entry.space is not None:
            for pane_id in entry.space.panes:
                info = infos.get((entry.id, pane_id))
                if info is not None:
                    level = max(level, float(info.activity or 0))
        with contextlib.suppress(OSError):
            level = max(level, entry.file.stat().st_mtime)
        return level

    def _newest_time(self, entry: SpaceEntry) -> float | None:
        with contextlib.suppress(SpacesError, OSError):
            ids = snaps._newest_first(entry.dir)
            if ids:
                return snaps.id_time(ids[0]).timestamp()
        return None

    async def tick(self, now: float | None = None) -> float:
        """One look at every space: a ``scheduled`` snapshot where the schedule is due and the
        space had activity since its last snapshot. Returns the seconds until the next look."""
        infos = await self.panes.states()
        shortest = 3600.0
        for entry in self.workspaces.all():
            if entry.space is None or entry.status != "ok" or not self.workspaces.reachable(entry):
                continue
            _, interval = self._schedule(entry)
            if interval is None:
                continue
            shortest = min(shortest, interval)
            t = time.time() if now is None else now
            if entry.id not in self._last:
                newest = await asyncio.to_thread(self._newest_time, entry)
                since = newest if newest is not None else self._started_at
                self._last[entry.id] = (since, since)
            last, mark = self._last[entry.id]
            due = t - last >= interval and self._level(entry, infos) > mark
            if due and await self._event(entry.id, "scheduled") is None:
                self._last[entry.id] = (t, mark)  # failed: try again a period later
        # Agents are looked at as often as pane states are polled; schedules four times a period.
        return max(0.25, min(self.settings.poll_interval, shortest / 4))

    async def restore_snapshot(
        self, space_id: str, snapshot_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Bring the space back to a snapshot: stop its panes (only with ``stop_running`` when
        any runs), write the snapshot's workspace file and screens back, put back the transcripts
        the CLIs deleted, and start the panes as a cold restore does."""
        only(body, {"stop_running", "snapshot"})
        stop_running = body.get("stop_running", False)
        if not isinstance(stop_running, bool):
            raise SpacesError(400, "stop_running must be true or false")
        safety = body.get("snapshot", True)
        if not isinstance(safety, bool):
            raise SpacesError(400, "snapshot must be true or false")
        async with self.workspaces.lock(space_id):
            entry = self.workspaces.entry(space_id)
            space = self.workspaces.writable(entry)
            snap = await asyncio.to_thread(snaps.read, entry.dir, snapshot_id)
            doc, data = await asyncio.to_thread(snaps.load_space, snap, space_id)
            infos = await self.panes.states()
            running = [
                p for p in space.panes if pane_state(infos.get((space_id, p)))[0] == "running"
            ]
            if running and not stop_running:
                n = len(running)
                raise SpacesError(
                    409,
                    f"restoring snapshot {snap.id} stops {n} running pane{'s' if n != 1 else ''} "
                    "of this space; send stop_running: true to go ahead",
                    "running",
                    panes=running,
                )
            restored = Space.from_json(doc)
            if safety:
                # The space as it is now, so that the restore itself can be undone.
                await self._take(entry, "before_restore")
            self._quiet.add(space_id)
            try:
                for pane_id in dict.fromkeys([*space.panes, *restored.panes]):
                    await self.panes.stop(space_id, pane_id)  # its capture bookkeeping goes too
                    self.agents.forget(space_id, pane_id)
            finally:
                self._quiet.discard(space_id)
            # Transcripts go back only from a snapshot this user made (its manifest is signed).
            authentic = self.workspaces.signed(entry, snap.manifest_bytes)
            index = self.index
            roots = {a: index.roots(a) for a in ("claude", "codex", "gemini")}
            try:
                put = (
                    await asyncio.to_thread(snaps.put_back_transcripts, snap, roots)
                    if authentic
                    else snaps.PutBack()
                )
                for path in put.restored:
                    await asyncio.to_thread(index.sync_file, path)
                for pane_id in space.panes:
                    if pane_id not in restored.panes:
                        forget_capture(entry.dir, pane_id)
                await asyncio.to_thread(snaps.put_back_screens, snap, entry.dir)
            except UnsafePath as e:
                raise SpacesError(409, f"could not restore the snapshot: {e}") from None
            except OSError as e:
                raise disk_error(e, "could not restore the snapshot") from None
            # The workspace file keeps its trust only if these exact bytes were trusted here.
            self.workspaces.replace(entry, restored, self.workspaces.signed(entry, data))
            self.workspaces.renamed(space_id, restored.name)
            started = (
                await self.restore.restore_space(entry)
                if entry.trusted and not self.panes.host_error
                else 0
            )
        self.log.info(
            "jupyter-spaces: space %s restored from snapshot %s (%d transcript(s) put back, "
            "%d pane(s) started%s)",
            space_id,
            snap.id,
            len(put.restored),
            started,
            "" if authentic else "; not made by this user, so no transcripts were put back",
        )
        self.emit({"action": "space_updated", "space_id": space_id})
        return await self.spaces.get_space(space_id)
