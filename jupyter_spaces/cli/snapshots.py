"""``jupyter spaces snapshot | snapshots | restore | prune``."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from .. import snapshots
from ..agents import AGENT_NAMES, SessionIndex
from ..host.tmux import TmuxServer, session_name
from ..kernel.client import ClientError, SpacesClient, q
from ..model import Space, WorkspaceError
from ..restore import forget_capture
from ..store import WorkspaceStore
from .folder import CommandError, _size, _snapshot_line, _SpaceCommand


class SnapshotApp(_SpaceCommand):
    name = "jupyter-spaces-snapshot"
    description = "Take a snapshot of a space (its layout, screens and agent transcripts)."
    command = "snapshot"

    def remote(self, client: SpacesClient, space_id: str) -> tuple[Any, str]:
        body = {} if self.options.name is None else {"name": self.options.name}
        snap = client.request("POST", f"api/spaces/{q(space_id)}/snapshots", body)
        return snap, f"snapshot {_snapshot_line(snap)}"

    def local(self, folder: Path, loaded: Any) -> tuple[Any, str]:
        name = snapshots.check_name(self.options.name)
        if loaded.status != "ok" or loaded.space is None:
            raise CommandError(f"the space cannot be snapshotted: {loaded.message}")
        data = loaded.data
        notary, scope = self.notary(), str(folder)
        if notary.is_trusted(data, scope):
            notary.trust(data, scope)  # keeps the signature fresh for a restore much later
        sources = _transcript_sources(self.index(), loaded.space)

        def sign(manifest: bytes) -> None:
            notary.trust(manifest, scope)

        snap = snapshots.create(folder, data, sources, name=name, sign=sign)
        public = snapshots.read(folder, snap["id"]).public()
        return public, f"snapshot {_snapshot_line(public)} (no server runs: screens as last saved)"


def _transcript_sources(index: SessionIndex, space: Any) -> list[snapshots.TranscriptSource]:
    out: list[snapshots.TranscriptSource] = []
    synced: set[str] = set()
    try:
        for pane in space.panes.values():
            agent, sid = pane.agent, pane.session_id
            if agent not in AGENT_NAMES or not sid:
                continue
            session = index.get(agent, sid)
            if session is None and agent not in synced:
                synced.add(agent)
                index.sync(agents=[agent])
                session = index.get(agent, sid)
            files = list(session.files) if session is not None else []
            if agent == "claude":
                for root in index.roots("claude"):
                    files += [str(p) for p in (root / "projects").glob(f"*/{sid}.jsonl")]
            out.append(snapshots.TranscriptSource(agent, sid, snapshots.session_files(files, sid)))
    finally:
        index.close()
    return out


class SnapshotsApp(_SpaceCommand):
    name = "jupyter-spaces-snapshots"
    description = "List a space's snapshots, newest first."
    command = "snapshots"

    def remote(self, client: SpacesClient, space_id: str) -> tuple[Any, str]:
        got = client.request("GET", f"api/spaces/{q(space_id)}/snapshots")
        return got["snapshots"], self._text(got)

    def local(self, folder: Path, loaded: Any) -> tuple[Any, str]:
        got = snapshots.summary(folder)
        return got["snapshots"], self._text(got)

    def _text(self, got: dict[str, Any]) -> str:
        if not got["snapshots"]:
            return f"no snapshots yet (jupyter spaces snapshot {self.options.path})"
        disk = got.get("disk") or {}
        lines = [_snapshot_line(s) for s in got["snapshots"]]
        if disk:
            lines.append(
                f"{disk['snapshots']} snapshot(s) take {_size(int(disk['bytes']))} on disk "
                f"({_size(int(disk['logical_bytes']))} as whole copies)"
            )
        return "\n".join(lines)


class RestoreApp(_SpaceCommand):
    name = "jupyter-spaces-restore"
    description = "Bring a space back to a snapshot (deleted agent transcripts are put back)."
    command = "restore"

    def confirm(self, panes: list[str]) -> None:
        n = len(panes)
        question = f"Restoring stops {n} running pane{'s' if n != 1 else ''} ({', '.join(panes)})."
        if self.options.yes:
            return
        if not sys.stdin.isatty():
            raise CommandError(f"{question} Pass --yes to go ahead; nothing was changed")
        answer = input(f"{question} Continue? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            raise CommandError("not restored; nothing was changed")

    def remote(self, client: SpacesClient, space_id: str) -> tuple[Any, str]:
        path = f"api/spaces/{q(space_id)}/snapshots/{q(self.options.snapshot)}/restore"
        try:
            space = client.request("POST", path, {})
        except ClientError as e:
            if e.reason != "running":
                raise
            self.confirm([str(p) for p in e.body.get("panes") or []])
            space = client.request("POST", path, {"stop_running": True})
        state = "started" if space.get("trusted") else "not started: the snapshot is untrusted"
        return space, (
            f"restored snapshot {self.options.snapshot} of space {space.get('name')} "
            f"({len(space.get('panes') or [])} pane(s) {state})"
        )

    def local(self, folder: Path, loaded: Any) -> tuple[Any, str]:
        if loaded.status != "ok" or loaded.space is None:
            raise CommandError(f"the space cannot be restored: {loaded.message}")
        space_id = loaded.space.id
        notary, scope = self.notary(), str(folder)
        if loaded.data is None or not notary.is_trusted(loaded.data, scope):
            raise CommandError(
                f"space {space_id} is not trusted; check its space.json, then run "
                f"`jupyter spaces trust {self.options.path}`"
            )
        snap = snapshots.read(folder, self.options.snapshot)
        doc, data = snapshots.load_space(snap, space_id)
        restored = Space.from_json(doc)
        app = self.settings()
        tmux = TmuxServer(Path(app.socket_dir), app.tmux_command)
        names = [
            session_name(space_id, p) for p in dict.fromkeys([*loaded.space.panes, *restored.panes])
        ]
        live = asyncio.run(tmux.list_panes()) if tmux.available else {}
        running = [n for n in names if n in live and not live[n].dead]
        if running:
            self.confirm([n.rsplit("_", 1)[-1] for n in running])
        for n in names:
            if n in live:
                asyncio.run(tmux.kill(n))
        put = snapshots.PutBack()
        if notary.is_trusted(snap.manifest_bytes, scope):
            index = self.index()
            try:
                roots: dict[str, list[Path]] = {a: index.roots(a) for a in AGENT_NAMES}
                put = snapshots.put_back_transcripts(snap, roots)
                for path in put.restored:
                    index.sync_file(path)
            finally:
                index.close()
        for pane_id in loaded.space.panes:
            if pane_id not in restored.panes:
                forget_capture(folder, pane_id)
        snapshots.put_back_screens(snap, folder)
        try:
            saved = WorkspaceStore().save(folder, restored, loaded.document)
        except WorkspaceError as e:
            raise CommandError(str(e)) from None
        # Signed only when these are bytes decided from a trusted state and nothing else.
        trusted = notary.is_trusted(data, scope) and not saved.merged_foreign
        if trusted and saved.data is not None:
            notary.trust(saved.data, scope)
        result = {
            "id": space_id,
            "snapshot": snap.id,
            "transcripts_restored": put.restored,
            "trusted": trusted,
        }
        return result, (
            f"restored snapshot {snap.id} of space {restored.name}: "
            f"{len(put.restored)} transcript(s) put back; no server runs, so its panes start "
            "when one does" + ("" if trusted else " (after you trust it: the snapshot is not)")
        )


class PruneApp(_SpaceCommand):
    name = "jupyter-spaces-prune"
    description = (
        "Delete old snapshots of a space: by its retention policy (--dry-run lists what would "
        "go), or --keep N, --older-than DAYS."
    )
    command = "prune"

    def start(self) -> None:
        o = self.options
        if o.dry_run and (o.keep is not None or o.older_than is not None):
            self.fail("--dry-run goes with the retention policy, not --keep/--older-than", 2)
        if self._rules() and (o.keep is not None or o.older_than is not None):
            self.fail("give --keep-* rules or --keep/--older-than, not both", 2)
        super().start()

    def _legacy(self) -> bool:
        return self.options.keep is not None or self.options.older_than is not None

    def _rules(self) -> dict[str, int]:
        o = self.options
        rules = {"last": o.keep_last, "hourly": o.keep_hourly, "daily": o.keep_daily}
        rules["weekly"] = o.keep_weekly
        return {k: v for k, v in rules.items() if v is not None}

    def remote(self, client: SpacesClient, space_id: str) -> tuple[Any, str]:
        if self._legacy():
            query: dict[str, Any] = {"keep": self.options.keep}
            if self.options.older_than is not None:
                query["older_than_days"] = self.options.older_than
            got = client.request("DELETE", f"api/spaces/{q(space_id)}/snapshots", query=query)
            return got, self._text(got)
        body = {"dry_run": self.options.dry_run, "keep": self._rules()}
        got = client.request("POST", f"api/spaces/{q(space_id)}/snapshots/prune", body)
        return got, self._policy_text(got)

    def local(self, folder: Path, loaded: Any) -> tuple[Any, str]:
        if self._legacy():
            got = snapshots.prune(folder, self.options.keep, self.options.older_than)
            return got, self._text(got)
        app = self.settings()
        default = snapshots.Policy(
            max(1, app.snapshot_keep_last),
            app.snapshot_keep_hourly,
            app.snapshot_keep_daily,
            app.snapshot_keep_weekly,
        )
        own, problem = snapshots.read_policy(folder)
        if problem:
            print(f"jupyter spaces prune: {problem}", file=sys.stderr)
        policy = own.policy(default).replace(self._rules())
        got = snapshots.apply_policy(folder, policy, dry_run=self.options.dry_run)
        return got, self._policy_text(got)

    def _text(self, got: dict[str, list[str]]) -> str:
        gone = ", ".join(got["deleted"]) or "none"
        return f"deleted {len(got['deleted'])} snapshot(s): {gone}; kept {len(got['kept'])}"

    def _policy_text(self, got: dict[str, Any]) -> str:
        p = got["policy"]
        rules = f"last {p['last']}, hourly {p['hourly']}, daily {p['daily']}, weekly {p['weekly']}"
        verb = "would delete" if got["dry_run"] else "deleted"
        lines = [
            f"{verb} {len(got['deleted'])} snapshot(s), {_size(int(got['freed_bytes']))} "
            f"({rules}); kept {len(got['kept'])}"
        ]
        lines += [f"  {verb}: {i}" for i in got["deleted"]]
        lines += [f"  keep {i}: {', '.join(r)}" for i, r in got["reasons"].items()]
        return "\n".join(lines)


class PinApp(_SpaceCommand):
    name = "jupyter-spaces-pin"
    description = "Pin a snapshot: no prune or retention policy removes it."
    command = "pin"
    pinned = True

    def remote(self, client: SpacesClient, space_id: str) -> tuple[Any, str]:
        path = f"api/spaces/{q(space_id)}/snapshots/{q(self.options.snapshot)}"
        got = client.request("PATCH", path, {"pinned": self.pinned})
        return got, self._text(got)

    def local(self, folder: Path, loaded: Any) -> tuple[Any, str]:
        snapshots.set_pinned(folder, self.options.snapshot, self.pinned)
        got = snapshots.read(folder, self.options.snapshot).public()
        return got, self._text(got)

    def _text(self, got: dict[str, Any]) -> str:
        return f"{'pinned' if got.get('pinned') else 'unpinned'} snapshot {got['id']}"


class UnpinApp(PinApp):
    name = "jupyter-spaces-unpin"
    description = "Unpin a snapshot: retention may remove it again (unless it has a name)."
    command = "unpin"
    pinned = False
