"""Workspaces: the known spaces, their workspace files, the registry and trust.

The only service that reads or writes ``space.json``, the registry and the trust database.
Everything else gets a ``SpaceEntry`` from here (``entry``, ``pane``) and hands it back to
``save``; it never opens the files or the notary itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SpacesError, disk_error
from ..model import Pane, Space, WorkspaceError, new_space_id, valid_id, validate_layout
from ..paths import existing_dir, relative_to_root
from ..registry import Registry
from ..safefs import UnsafePath
from ..store import WorkspaceStore
from ..trust import Notary
from .common import MAX_NAME, only
from .settings import SpacesSettings


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


def untrusted(space_id: str) -> str:
    return (
        f"space {space_id} is not trusted: its space.json was not written by this user's server "
        "(it came with the folder, or was edited); nothing in it runs until you trust it"
    )


class Workspaces:
    def __init__(self, settings: SpacesSettings, log: logging.Logger) -> None:
        self.settings = settings
        self.root = settings.root
        self.log = log
        self.store = WorkspaceStore()
        self.notary = Notary(settings.trust_dir)
        self.registry = Registry(settings.registry_path)
        self._entries: dict[str, SpaceEntry] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    # -- reading --------------------------------------------------------------------------

    def load(self) -> None:
        """Read every registered space. A missing trust database means nothing is trusted.
        Signatures made before they were bound to a folder count for the folder registered
        under the file's own id (a copy is registered under another id, so it never inherits
        one)."""
        for space_id, info in self.registry.entries().items():
            entry = self._entries[space_id] = SpaceEntry(space_id, Path(info["dir"]))
            self.refresh(entry)
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

    def all(self) -> list[SpaceEntry]:
        """Every known space as last read (a copy of the list: spaces may come and go)."""
        return list(self._entries.values())

    def get(self, space_id: str) -> SpaceEntry | None:
        """The entry as last read, or None; no file is read (see ``entry``)."""
        return self._entries.get(space_id)

    def reachable(self, entry: SpaceEntry) -> bool:
        """Whether the space lies under this server's root (the registry is per user)."""
        return relative_to_root(self.root, entry.dir) is not None

    def space_dirs(self) -> list[tuple[str, Path]]:
        return [(e.id, e.dir) for e in self._entries.values() if self.reachable(e)]

    def lock(self, space_id: str) -> asyncio.Lock:
        """Held while a space is changed: one change at a time per space."""
        return self._locks.setdefault(space_id, asyncio.Lock())

    def refresh(self, entry: SpaceEntry) -> None:
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

    def entry(self, space_id: str) -> SpaceEntry:
        """The space, its file read again, or SpacesError(404)."""
        entry = self._entries.get(space_id) if valid_id(space_id) else None
        if entry is None or not self.reachable(entry):
            raise SpacesError(404, f"no space {space_id!r}")
        self.refresh(entry)
        return entry

    def pane(self, space_id: str, pane_id: str) -> tuple[SpaceEntry, Pane]:
        """The space and its pane, or SpacesError(404)."""
        entry = self.entry(space_id)
        pane = entry.space.panes.get(pane_id) if entry.space else None
        if pane is None:
            raise SpacesError(404, f"no pane {pane_id!r} in space {space_id}")
        return entry, pane

    def has_pane(self, space_id: str, pane_id: str) -> bool:
        """Whether a known space (as last read) holds the pane; no file is read."""
        entry = self._entries.get(space_id)
        return bool(entry and entry.space and pane_id in entry.space.panes)

    def writable(self, entry: SpaceEntry) -> Space:
        """The space if this server may change it (and run what it holds), else SpacesError."""
        if entry.space is None or entry.status in ("broken", "missing"):
            raise SpacesError(
                409, f"space {entry.id} cannot be changed: {entry.message or entry.status}"
            )
        if entry.read_only:
            raise SpacesError(409, f"space {entry.id} is read-only: {entry.message}")
        if not entry.trusted:
            raise SpacesError(409, untrusted(entry.id), "untrusted")
        return entry.space

    # -- writing --------------------------------------------------------------------------

    def save(self, entry: SpaceEntry, trusted_source: bool = True) -> None:
        """Write the space. The written bytes are signed only when they are exactly what this
        server decided from a trusted state (``trusted_source``): a merge that took in a change
        made elsewhere (a ``git pull`` landing mid-save) leaves the file untrusted."""
        assert entry.space is not None
        try:
            saved = self.store.save(entry.dir, entry.space, entry.base, replace_id=entry.file_id)
        except (WorkspaceError, OSError) as e:
            # What was changed in memory did not reach the file: forget it, re-read the file.
            entry.digest = None
            self.refresh(entry)
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

    def replace(self, entry: SpaceEntry, space: Space, trusted_source: bool) -> None:
        """Write ``space`` as the space's whole new state (a snapshot restored); see ``save``."""
        entry.space = space
        self.save(entry, trusted_source=trusted_source)

    def distrust(self, entry: SpaceEntry) -> None:
        """Withdraw a trust given offline whose plans changed since: the signature is removed,
        not kept aside, so the space stays untrusted until someone reviews it again."""
        if entry.data is not None:
            self.notary.forget(entry.data, entry.scope)
        entry.trusted, entry.trusted_plan = False, None

    def settle_trust(self, entry: SpaceEntry) -> None:
        """The plans a trust given offline named have started: from now on it is a file like
        any this server trusts, whose later plans (new captures, a resumed session) may differ."""
        if entry.trusted_plan is not None and entry.data is not None:
            self.notary.trust(entry.data, entry.scope)
            entry.trusted_plan = None

    def sign(self, entry: SpaceEntry, data: bytes) -> None:
        """Record ``data`` as written (or reviewed) by this user, for this space's folder."""
        self.notary.trust(data, entry.scope)

    def signed(self, entry: SpaceEntry, data: bytes) -> bool:
        return self.notary.is_trusted(data, entry.scope)

    def trust_as_read(self, entry: SpaceEntry) -> None:
        """Trust the very bytes the space was last read from (not the file as it is by now)."""
        assert entry.data is not None
        try:
            self.notary.trust(entry.data, entry.scope)
        except OSError as e:
            raise disk_error(e, "could not record the trust") from None
        entry.trusted, entry.trusted_plan = True, None

    def create(self, body: dict[str, Any]) -> tuple[str, bool]:
        """A space in the folder ``body['path']``: (its id, whether a new file was written)."""
        only(body, {"path", "name"})
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
            if registered in self._entries:
                raise SpacesError(409, f"the folder already has a space ({registered})")
            if existing.space is None:
                raise SpacesError(
                    409, f"the folder's workspace file cannot be used: {existing.message}"
                )
            # A workspace file that came with the folder (git clone): register, don't clobber.
            # A copy of a folder whose space is known (a second clone, a worktree, cp -r) is a
            # space of its own: it gets a fresh id, written into its file once it is trusted.
            known = existing.space.id
            space_id = known if known not in self._entries else new_space_id()
            self._register(directory, space_id, existing.space.name)
            return space_id, False
        space = Space.new(name.strip() if name else (directory.name or "root"))
        entry = SpaceEntry(space.id, directory, space=space, status="ok")
        self.save(entry)
        self._register(directory, space.id, space.name)
        return space.id, True

    def _register(self, directory: Path, space_id: str, name: str) -> None:
        self.registry.add(space_id, str(directory), name)
        entry = SpaceEntry(space_id, directory)
        self._entries[space_id] = entry
        self.refresh(entry)

    def update(self, space_id: str, body: dict[str, Any]) -> None:
        """Rename the space or change its layout (the caller holds its lock)."""
        only(body, {"name", "layout"})
        entry = self.entry(space_id)
        space = self.writable(entry)
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
        self.save(entry)

    def renamed(self, space_id: str, name: str) -> None:
        """Tell the registry the space's new name (a space it no longer knows is fine)."""
        with contextlib.suppress(KeyError):
            self.registry.rename(space_id, name)

    def remove(self, entry: SpaceEntry, remove_files: bool) -> None:
        """Forget the space (its panes already stopped), and delete its files if asked."""
        if remove_files and entry.status in ("ok", "newer", "broken"):
            self.store.delete(entry.dir)
        self.registry.remove(entry.id)
        del self._entries[entry.id]
