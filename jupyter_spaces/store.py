"""Workspace files beside the notebooks: ``<dir>/.jupyter-spaces/space.json``.

A save never replaces a good state with an empty, truncated or invalid one: the text is written
to a temporary file, fsynced and renamed over the old file, whose previous version is kept as
``space.prev.json``. The file is re-read and merged before each write, so edits made on disk
(by hand, by ``git pull``) since we last read it are not lost. Files that cannot be read, or that
a newer jupyter-spaces wrote, are never written.

Why one module of over 400 lines: loading, the three-way merge and the atomic write are one
read-merge-write cycle on the same file; the merge must see exactly what loading saw.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .model import (
    SCHEMA_VERSION,
    Pane,
    Space,
    WorkspaceError,
    layout_add,
    layout_panes,
    layout_remove,
    validate_layout,
    validate_schema,
)
from .safefs import STATE_DIR, UnsafePath, read_nofollow, state_subdir

SPACE_FILE = "space.json"
PREVIOUS_FILE = "space.prev.json"
GITIGNORE = """\
# Written by jupyter-spaces. Only space.json (the layout and how to start each pane) is meant to
# travel with the project. Everything else here (captured screen text, copied agent transcripts,
# the previous version of space.json) can hold secrets, so it stays out of git by default.
*
!/.gitignore
!/space.json
"""

Status = Literal["ok", "missing", "broken", "newer"]


def _fsync_dir(path: Path) -> None:
    # Makes the rename itself durable; some file systems cannot fsync a directory.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _write_temp(path: Path, data: bytes) -> Path:
    """A new fsynced file ``.<name>.<random>.tmp`` beside ``path`` holding ``data``.

    It takes the mode of ``path`` if that exists, so a rename does not change permissions.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        mode: int | None = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    return tmp


# A temp file older than this is no write in progress but the rest of one a crash cut short.
STALE_TEMP_SECONDS = 10.0


def _remove_stale_temps(state: Path) -> None:
    """Remove what a killed writer left (``.space.json.<random>.tmp``), at the next save."""
    now = time.time()
    for pattern in (f".{SPACE_FILE}.*.tmp", f".{PREVIOUS_FILE}.*.tmp"):
        for tmp in state.glob(pattern):
            try:
                if now - tmp.stat().st_mtime > STALE_TEMP_SECONDS:
                    tmp.unlink()
            except OSError:
                continue


def atomic_write_text(path: Path, text: str, keep_previous: Path | None = None) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically; never leaves a temp file on error.

    With ``keep_previous``, the current file (if any, and not empty) is first copied there, also
    atomically. An empty or blank ``text`` is refused with ValueError: it is never a valid state.
    """
    path = Path(path)
    if not text.strip():
        raise ValueError(f"refusing to write an empty {path.name}")
    tmp = _write_temp(path, text.encode("utf-8"))
    try:
        if keep_previous is not None:
            keep_previous = Path(keep_previous)
            try:
                previous = path.read_bytes()
            except FileNotFoundError:
                previous = b""
            # An empty current file is no state worth keeping; it must not replace a good copy.
            if previous.strip():
                prev_tmp = _write_temp(keep_previous, previous)
                try:
                    os.replace(prev_tmp, keep_previous)
                except BaseException:
                    _unlink_quietly(prev_tmp)
                    raise
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    _fsync_dir(path.parent)


def _reject_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, but they are not JSON and other readers reject them.
    raise ValueError(f"{name} is not a JSON value")


def _json_type(value: object) -> str:
    names = {list: "a list", str: "a string", bool: "true or false", type(None): "null"}
    return names.get(type(value), "a number")


# -- merging ------------------------------------------------------------------------------------

_ABSENT: Any = object()


def _merge_keys(
    base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any]
) -> dict[str, Any]:
    """Per key: ours where we changed it since ``base``, else theirs (absent means deleted)."""
    merged: dict[str, Any] = {}
    for key in dict.fromkeys([*ours, *theirs, *base]):
        mine = ours.get(key, _ABSENT)
        pick = mine if mine != base.get(key, _ABSENT) else theirs.get(key, _ABSENT)
        if pick is not _ABSENT:
            merged[key] = pick
    return merged


def _panes_of(doc: dict[str, Any]) -> dict[str, Any]:
    panes = doc.get("panes")
    return panes if isinstance(panes, dict) else {}


def _repair_layout(layout: Any, pane_ids: list[str]) -> Any:
    """``layout`` changed as little as possible so that it shows each of ``pane_ids`` once."""
    try:
        shown = layout_panes(layout)
    except ValueError:
        layout, shown = None, []
    wanted = set(pane_ids)
    for pane_id in dict.fromkeys(shown):
        if pane_id not in wanted or shown.count(pane_id) > 1:
            layout = layout_remove(layout, pane_id)
    present = set(layout_panes(layout))
    for pane_id in pane_ids:
        if pane_id not in present:
            layout = layout_add(layout, pane_id)
    return layout


def merge_documents(
    base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any]
) -> dict[str, Any]:
    """Three-way merge of workspace documents: ``base`` is what we last read or wrote,
    ``ours`` what we want to write, ``theirs`` what is on disk now.

    Each top-level key and each key of each pane is ours if we changed it, else theirs. Panes
    added on either side are kept. A pane we deleted is dropped; one deleted on disk is dropped
    unless we changed it, since ours are the live panes (a running pane stays in the file).
    The layout is then repaired to show exactly the resulting panes.
    """
    merged = _merge_keys(base, ours, theirs)
    base_panes, our_panes, their_panes = _panes_of(base), _panes_of(ours), _panes_of(theirs)
    panes: dict[str, Any] = {}
    for pane_id in dict.fromkeys([*our_panes, *their_panes]):
        before = base_panes.get(pane_id, _ABSENT)
        mine = our_panes.get(pane_id, _ABSENT)
        other = their_panes.get(pane_id, _ABSENT)
        if mine is not _ABSENT and other is not _ABSENT:
            panes[pane_id] = _merge_keys(before if isinstance(before, dict) else {}, mine, other)
        elif mine is not _ABSENT:  # not on disk: deleted there, unless we added it
            if mine != before:
                panes[pane_id] = mine
        elif before is _ABSENT:  # only on disk: added elsewhere (else we deleted it)
            panes[pane_id] = other
    merged["panes"] = panes
    layout = merged.get("layout")
    try:
        validate_layout(layout, panes)
    except ValueError:
        layout = _repair_layout(layout, list(panes))
    merged["layout"] = layout
    return copy.deepcopy(merged)


def _salvage(doc: dict[str, Any]) -> Space | None:
    """What this version understands of a newer document, for showing it read-only."""
    panes: dict[str, Any] = {}
    for key, raw in _panes_of(doc).items():
        with contextlib.suppress(WorkspaceError):
            pane = Pane.from_json(raw)
            if pane.id == key:
                panes[key] = raw
    try:
        layout = _repair_layout(doc.get("layout"), list(panes))
        return Space.from_json({**doc, "panes": panes, "layout": layout}, allow_newer=True)
    except WorkspaceError:
        return None


# -- the store ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    """What ``WorkspaceStore.load`` found; ``message`` is a sentence for the user."""

    status: Status
    space: Space | None
    message: str
    read_only: bool
    # The parsed file, when it is usable: pass it to ``save`` as ``base``.
    document: dict[str, Any] | None = None
    # The exact bytes read (None when missing or unreadable): trust is decided on these.
    data: bytes | None = None


@dataclass(frozen=True)
class Saved:
    """What ``WorkspaceStore.save`` wrote: the document now on disk, its exact bytes (None if
    nothing was written), and whether a change made elsewhere was merged in."""

    document: dict[str, Any]
    data: bytes | None
    merged_foreign: bool


class WorkspaceStore:
    """Reads and writes the workspace files of spaces; the server's only path to them."""

    # A workspace file is a few kilobytes; anything this big is not one.
    max_bytes = 4 * 1024 * 1024

    def __init__(self) -> None:
        # Saves re-read, merge and write; two at once for the same space would lose one.
        self._lock = threading.Lock()

    @staticmethod
    def state_dir(dir: Path | str) -> Path:
        """``<dir>/.jupyter-spaces``."""
        return Path(dir) / STATE_DIR

    @classmethod
    def space_file(cls, dir: Path | str) -> Path:
        """``<dir>/.jupyter-spaces/space.json``."""
        return cls.state_dir(dir) / SPACE_FILE

    def load(self, dir: Path | str) -> LoadResult:
        """Read the space in ``dir``; never raises for a bad file, and never changes it."""
        path = self.space_file(dir)
        try:
            state_subdir(Path(dir))
            data = read_nofollow(path, self.max_bytes + 1)
        except FileNotFoundError:
            return LoadResult("missing", None, f"there is no {SPACE_FILE} in this folder", False)
        except UnsafePath as e:
            return _broken(f"{SPACE_FILE} cannot be read: {e}")
        except OSError as e:
            return _broken(f"{SPACE_FILE} cannot be read: {e.strerror or e}")
        return self.parse(data)

    def parse(self, data: bytes) -> LoadResult:
        """What ``load`` makes of a workspace file's bytes (``data`` is kept in the result)."""
        result = self._parse(data)
        return LoadResult(
            result.status, result.space, result.message, result.read_only, result.document, data
        )

    def _parse(self, data: bytes) -> LoadResult:
        if len(data) > self.max_bytes:
            return _broken(f"{SPACE_FILE} is larger than {self.max_bytes} bytes")
        if not data.strip():
            return _broken(f"{SPACE_FILE} is empty")
        try:
            doc = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
        except UnicodeDecodeError:
            return _broken(f"{SPACE_FILE} is not UTF-8 text")
        except json.JSONDecodeError as e:
            return _broken(
                f"{SPACE_FILE} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
            )
        except ValueError as e:
            return _broken(f"{SPACE_FILE} is not valid JSON: {e}")
        except RecursionError:
            return _broken(f"{SPACE_FILE} is nested too deeply")
        if not isinstance(doc, dict):
            return _broken(f"{SPACE_FILE} must hold a JSON object, not {_json_type(doc)}")
        try:
            # A "\ud800" escape decodes to a string no file or process can take.
            json.dumps(doc, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return _broken(f"{SPACE_FILE} holds a lone surrogate (an invalid \\u escape)")
        except RecursionError:
            return _broken(f"{SPACE_FILE} is nested too deeply")
        version = doc.get("version")
        if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
            return LoadResult(
                "newer",
                _salvage(doc),
                f"{SPACE_FILE} was written by a newer jupyter-spaces (schema version {version}; "
                f"this one reads {SCHEMA_VERSION}); opened read-only",
                True,
                doc,
            )
        try:
            validate_schema(doc)
            space = Space.from_json(doc)
        except WorkspaceError as e:
            return _broken(f"{SPACE_FILE} is not a valid workspace file: {e}")
        return LoadResult("ok", space, "", False, doc)

    def save(
        self,
        dir: Path | str,
        space: Space,
        base: dict[str, Any] | None = None,
        *,
        replace_id: str | None = None,
    ) -> Saved:
        """Write ``space`` to ``dir``, merged with changes made on disk since ``base``.

        ``base`` is the document as last loaded or saved by us (``LoadResult.document`` or
        ``Saved.document``); without it nothing on disk is dropped. If the merge changes nothing
        the file is not rewritten. ``replace_id`` is the id the file on disk may carry instead
        of ``space.id`` (a copied folder that gets its own id). Raises WorkspaceError (and
        writes nothing) for an invalid result or a file that is broken, newer or belongs to
        another space; UnsafePath for a linked state folder; OSError if the disk refuses.
        """
        dir = Path(dir)
        path = self.space_file(dir)
        if space.version > SCHEMA_VERSION:
            raise WorkspaceError(
                f"refusing to save space {space.id}: it was read from a newer jupyter-spaces "
                f"(schema version {space.version}; this one writes {SCHEMA_VERSION})"
            )
        ours = space.to_json()
        _check(ours, f"refusing to save space {space.id}, it is not valid")
        with self._lock:
            current = self.load(dir)
            if current.status in ("broken", "newer"):
                raise WorkspaceError(f"refusing to save over {SPACE_FILE}: {current.message}")
            theirs = current.document
            foreign = False
            if theirs is None:  # missing: first save, or deleted on disk; ours is all there is
                merged = ours
            else:
                if theirs["id"] != ours["id"] and theirs["id"] != replace_id:
                    raise WorkspaceError(
                        f"refusing to save space {ours['id']}: {SPACE_FILE} belongs to space "
                        f"{theirs['id']}"
                    )
                theirs = {**theirs, "id": ours["id"]}
                base = {} if base is None else {**base, "id": ours["id"]}
                foreign = theirs != base
                merged = merge_documents(base, ours, theirs) if foreign else ours
                _check(
                    merged,
                    f"refusing to save space {space.id}, merging it with {SPACE_FILE} failed",
                )
                if merged == theirs and current.document == theirs:
                    return Saved(merged, None, foreign)
            if not dir.is_dir():
                raise WorkspaceError(f"cannot save space {space.id}: its folder is not a directory")
            state = state_subdir(dir, create=True)
            gitignore = state / ".gitignore"
            if current.status == "missing" and not os.path.lexists(gitignore):
                atomic_write_text(gitignore, GITIGNORE)
            _remove_stale_temps(state)
            text = json.dumps(merged, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
            atomic_write_text(path, text, keep_previous=state / PREVIOUS_FILE)
        return Saved(merged, text.encode("utf-8"), foreign)

    def delete(self, dir: Path | str, force: bool = False) -> None:
        """Remove the files of the space in ``dir`` that jupyter-spaces owns.

        A broken or newer ``space.json`` is kept unless ``force``: it may hold work that a
        person or another version can still use. The folder goes only once nothing else is in
        it; while other files remain (screens, transcripts), its ``.gitignore`` stays too.
        """
        with self._lock:
            try:
                state = state_subdir(Path(dir))
            except FileNotFoundError:
                return
            current = self.load(dir)
            if not force and current.status in ("broken", "newer"):
                raise WorkspaceError(f"refusing to delete {SPACE_FILE}: {current.message}")
            for name in (SPACE_FILE, PREVIOUS_FILE):
                _unlink_quietly(state / name)
            # Temp files left by a crash in the middle of a write.
            for pattern in (f".{SPACE_FILE}.*.tmp", f".{PREVIOUS_FILE}.*.tmp"):
                for tmp in state.glob(pattern):
                    _unlink_quietly(tmp)
            try:
                rest = set(os.listdir(state))
            except (FileNotFoundError, NotADirectoryError):
                return
            if rest <= {".gitignore"}:
                _unlink_quietly(state / ".gitignore")
                state.rmdir()


def _broken(message: str) -> LoadResult:
    # Broken files are read-only: nothing may be written over them until a person fixes them.
    return LoadResult("broken", None, message, True)


def _check(doc: dict[str, Any], what: str) -> None:
    """Raise WorkspaceError unless ``doc`` matches the schema and the model."""
    try:
        validate_schema(doc)
        Space.from_json(doc)
    except WorkspaceError as e:
        raise WorkspaceError(f"{what}: {e}") from None
