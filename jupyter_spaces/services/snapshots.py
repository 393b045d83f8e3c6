"""Snapshots of a space, as the API and the CLI ask for them (the files: ``..snapshots``).

Owns no state: it takes a fresh capture through ``Restore``, reads and writes the space
through ``Workspaces``, stops panes through ``Panes``, and reads agent transcripts through the
session index it is given.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from .. import snapshots as snaps
from ..agent_panes import AgentPanes
from ..agents import SessionIndex
from ..errors import SpacesError, disk_error
from ..model import Space
from ..restore import forget_capture
from ..safefs import UnsafePath
from .common import only
from .panes import Panes, pane_state
from .restore import Restore
from .spaces import Spaces
from .workspaces import Workspaces


class Snapshots:
    def __init__(
        self,
        log: logging.Logger,
        emit: Callable[[dict[str, Any]], None],
        workspaces: Workspaces,
        panes: Panes,
        restore: Restore,
        spaces: Spaces,
        agents: AgentPanes,
        index: SessionIndex,
    ) -> None:
        self.log = log
        self.emit = emit
        self.workspaces = workspaces
        self.panes = panes
        self.restore = restore
        self.spaces = spaces
        self.agents = agents
        self.index = index

    async def list_snapshots(self, space_id: str) -> dict[str, Any]:
        entry = self.workspaces.entry(space_id)
        return await asyncio.to_thread(snaps.summary, entry.dir)

    async def get_snapshot(self, space_id: str, snapshot_id: str) -> dict[str, Any]:
        entry = self.workspaces.entry(space_id)
        snap = await asyncio.to_thread(snaps.read, entry.dir, snapshot_id)
        return {**snap.public(), "layout": snaps.layout(snap)}

    async def create_snapshot(self, space_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Copy the space (a fresh capture of every live pane's screen first) and every agent
        transcript its panes reference. Allowed for untrusted spaces: nothing runs."""
        only(body, {"name"})
        name = snaps.check_name(body.get("name"))
        async with self.workspaces.lock(space_id):
            entry = self.workspaces.entry(space_id)
            if entry.space is None or entry.status != "ok":
                raise SpacesError(
                    409, f"space {space_id} cannot be snapshotted: {entry.message or entry.status}"
                )
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
                    snaps.create, entry.dir, data, sources, name=name, sign=sign
                )
            except UnsafePath as e:
                raise SpacesError(409, f"could not write the snapshot: {e}") from None
            except OSError as e:
                raise disk_error(e, "could not write the snapshot") from None
        self.log.info("jupyter-spaces: snapshot %s of space %s taken", manifest["id"], space_id)
        self.emit({"action": "space_updated", "space_id": space_id})
        return await self.get_snapshot(space_id, manifest["id"])

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

    async def restore_snapshot(
        self, space_id: str, snapshot_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Bring the space back to a snapshot: stop its panes (only with ``stop_running`` when
        any runs), write the snapshot's workspace file and screens back, put back the transcripts
        the CLIs deleted, and start the panes as a cold restore does."""
        only(body, {"stop_running"})
        stop_running = body.get("stop_running", False)
        if not isinstance(stop_running, bool):
            raise SpacesError(400, "stop_running must be true or false")
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
            for pane_id in dict.fromkeys([*space.panes, *restored.panes]):
                await self.panes.stop(space_id, pane_id)  # its capture bookkeeping goes too
                self.agents.forget(space_id, pane_id)
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
