"""Reading snapshots back: one manifest checked, the list newest first, the space it holds."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import SpacesError
from ..model import SCHEMA_VERSION, Space, WorkspaceError, validate_schema
from . import blobs
from .creating import (
    _sha256,
)
from .ids import (
    _COPY_RE,
    _PANE_ID_RE,
    MANIFEST,
    MAX_MANIFEST_BYTES,
    PIN_FILE,
    REASONS,
    SNAPSHOT_VERSION,
    SPACE_COPY,
    id_time,
    snapshot_dir,
    snapshots_dir,
    valid_snapshot_id,
)


@dataclass
class Snapshot:
    dir: Path
    manifest: dict[str, Any]
    manifest_bytes: bytes

    @property
    def id(self) -> str:
        return str(self.manifest["id"])

    @property
    def reason(self) -> str:
        return str(self.manifest.get("reason") or "manual")

    @property
    def pinned(self) -> bool:
        return (self.dir / PIN_FILE).is_file()

    @property
    def created(self) -> datetime:
        return id_time(self.id)

    def public(self) -> dict[str, Any]:
        """The manifest as the API shows it (original transcript paths stay server-side)."""
        m = self.manifest
        return {
            "id": m["id"],
            "name": m["name"],
            "created": m["created"],
            "reason": self.reason,
            "pinned": self.pinned,
            "space_id": m["space_id"],
            "space_name": m["space_name"],
            "panes": m["panes"],
            "bytes": m["bytes"],
            "missing_transcripts": m["missing_transcripts"],
            "transcripts": len(m["transcripts"]),
            "status": "ok",
            "message": None,
        }

    def chunks(self) -> list[str]:
        """Every blob the snapshot uses (none for a version 1 snapshot)."""
        return [c for item in self.stored() for c, _ in blobs.item_chunks(item)]

    def stored(self) -> list[dict[str, Any]]:
        """The screens and transcripts the manifest lists."""
        return [*self.manifest.get("screens", []), *self.manifest["transcripts"]]

    def own_bytes(self) -> int:
        """Bytes of the files in the snapshot's own folder (all of a version 1 snapshot)."""
        total = 0
        for dirpath, dirnames, filenames in os.walk(self.dir):
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
            for name in filenames:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(dirpath, name)).st_size
        return total


def _corrupt(snapshot_id: str, why: str) -> SpacesError:
    return SpacesError(400, f"snapshot {snapshot_id} is corrupt: {why}", "corrupt")


def read(space_dir: Path, snapshot_id: object) -> Snapshot:
    """A snapshot's checked manifest: 404 unknown, 400 corrupt, 409 ``newer``."""
    folder = snapshot_dir(space_dir, snapshot_id)
    assert isinstance(snapshot_id, str)
    if folder.is_symlink() or not folder.is_dir():
        raise SpacesError(404, f"no snapshot {snapshot_id}")
    path = folder / MANIFEST
    try:
        with path.open("rb") as f:
            data = f.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        raise _corrupt(snapshot_id, f"{MANIFEST} is missing") from None
    except OSError as e:
        raise _corrupt(snapshot_id, f"{MANIFEST} cannot be read: {e.strerror or e}") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise _corrupt(snapshot_id, f"{MANIFEST} is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        m = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as e:
        raise _corrupt(snapshot_id, f"{MANIFEST} is not valid JSON ({e})") from None
    if not isinstance(m, dict):
        raise _corrupt(snapshot_id, f"{MANIFEST} does not hold a JSON object")
    version = m.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _corrupt(snapshot_id, "it has no valid version number")
    if version > SNAPSHOT_VERSION:
        raise SpacesError(
            409,
            f"snapshot {snapshot_id} was made by a newer jupyter-spaces (snapshot version "
            f"{version}; this one reads {SNAPSHOT_VERSION}); upgrade to use it",
            "newer",
        )
    _check_manifest(m, snapshot_id)
    return Snapshot(folder, m, data)


def _check_manifest(m: dict[str, Any], snapshot_id: str) -> None:
    def need(key: str, kind: type | tuple[type, ...]) -> Any:
        value = m.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise _corrupt(snapshot_id, f"{key!r} is missing or has the wrong type")
        return value

    if need("id", str) != snapshot_id:
        raise _corrupt(snapshot_id, f"its manifest names another snapshot ({m['id']!r})")
    for key in ("name", "created", "space_id", "space_name", "space_sha256"):
        need(key, str)
    need("bytes", int)
    for pane in need("panes", list):
        if not isinstance(pane, dict) or not _PANE_ID_RE.fullmatch(str(pane.get("id", ""))):
            raise _corrupt(snapshot_id, "a pane entry is malformed")
    for item in need("missing_transcripts", list):
        if not isinstance(item, dict):
            raise _corrupt(snapshot_id, "a missing_transcripts entry is malformed")
    version = m["version"]
    for t in need("transcripts", list):
        ok = (
            isinstance(t, dict)
            and isinstance(t.get("agent"), str)
            and isinstance(t.get("session_id"), str)
            and isinstance(t.get("path"), str)
            and (
                _stored_ok(t)
                if version >= 2
                else isinstance(t.get("file"), str) and _COPY_RE.fullmatch(t["file"]) is not None
            )
        )
        if not ok:
            raise _corrupt(snapshot_id, "a transcript entry is malformed")
    if version >= 2:
        if m.get("reason", "manual") not in REASONS:
            raise _corrupt(snapshot_id, "its reason is not one this version knows")
        for item in need("screens", list):
            ok = (
                isinstance(item, dict)
                and _PANE_ID_RE.fullmatch(str(item.get("pane", ""))) is not None
                and _stored_ok(item)
            )
            if not ok:
                raise _corrupt(snapshot_id, "a screen entry is malformed")


def _stored_ok(item: dict[str, Any]) -> bool:
    """A file kept as chunks: valid blob names, a size they can add up to, an mtime."""
    chunks, size, mtime = item.get("chunks"), item.get("bytes"), item.get("mtime")
    return (
        isinstance(chunks, list)
        and len(chunks) >= 1
        and all(isinstance(c, str) and blobs.CHUNK_RE.fullmatch(c) for c in chunks)
        and isinstance(size, int)
        and not isinstance(size, bool)
        and blobs.CHUNK * (len(chunks) - 1) <= size <= blobs.CHUNK * len(chunks)
        and isinstance(mtime, (int, float))
        and not isinstance(mtime, bool)
        and mtime == mtime
    )


def verify(snap: Snapshot) -> None:
    """Every blob the snapshot needs is there with its size (400 corrupt if not): checked before
    a restore changes anything. The bytes themselves are checked as they are read."""
    parent = snap.dir.parent
    for item in snap.stored():
        for digest, size in blobs.item_chunks(item):
            path = blobs.blob_path(parent, digest)
            try:
                ok = not path.is_symlink() and path.stat().st_size == size
            except OSError:
                ok = False
            if not ok:
                raise _corrupt(snap.id, f"blob {digest[:12]} is missing or damaged")


def _newest_first(space_dir: Path) -> list[str]:
    """Snapshot ids, newest first: by the time in the id, then (within one second) by when the
    manifest was written."""
    parent = snapshots_dir(space_dir)
    try:
        names = [n for n in os.listdir(parent) if valid_snapshot_id(n)]
    except (FileNotFoundError, NotADirectoryError):
        return []

    def key(name: str) -> tuple[str, int, str]:
        try:
            written = (parent / name / MANIFEST).stat().st_mtime_ns
        except OSError:
            written = 0
        return (name[:15], written, name)

    return sorted(names, key=key, reverse=True)


def _listing(space_dir: Path) -> tuple[list[dict[str, Any]], list[Snapshot]]:
    out: list[dict[str, Any]] = []
    good: list[Snapshot] = []
    for snapshot_id in _newest_first(space_dir):
        try:
            snap = read(space_dir, snapshot_id)
        except SpacesError as e:
            if e.status_code == 404:
                continue  # a stray file or link under an id-like name
            out.append(
                {
                    "id": snapshot_id,
                    "name": "",
                    "created": id_time(snapshot_id).isoformat().replace("+00:00", "Z"),
                    "pinned": (snapshot_dir(space_dir, snapshot_id) / PIN_FILE).is_file(),
                    "status": e.code or "corrupt",
                    "message": e.message,
                }
            )
            continue
        out.append(snap.public())
        good.append(snap)
    return out, good


def list_snapshots(space_dir: Path) -> list[dict[str, Any]]:
    """Every snapshot, newest first; corrupt and newer ones are listed with their status, so
    they can be seen and deleted."""
    return _listing(space_dir)[0]


def summary(space_dir: Path) -> dict[str, Any]:
    """The snapshots, newest first, each with ``unique_bytes`` (what deleting it alone would
    free: its own files and the blobs no other snapshot shares), and ``disk``: the bytes the
    snapshots folder takes, shared blobs counted once, against ``logical_bytes``, what the
    snapshots would take as whole copies."""
    listed, good = _listing(space_dir)
    refs: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for snap in good:
        mine: set[str] = set()
        for item in snap.stored():
            for c, n in blobs.item_chunks(item):
                sizes[c] = n
                mine.add(c)
        for c in mine:
            refs[c] = refs.get(c, 0) + 1
    unique = {
        snap.id: snap.own_bytes() + sum(sizes[c] for c in set(snap.chunks()) if refs[c] == 1)
        for snap in good
    }
    for item in listed:
        if item["id"] in unique:
            item["unique_bytes"] = unique[item["id"]]
    parent = snapshots_dir(space_dir)
    disk = blobs.disk_bytes(parent) if parent.is_dir() and not parent.is_symlink() else 0
    return {
        "snapshots": listed,
        "disk": {
            "bytes": disk,
            "logical_bytes": sum(int(s.manifest["bytes"]) for s in good),
            "snapshots": len(listed),
            "blobs": len(sizes),
        },
    }


def load_space(snap: Snapshot, space_id: str) -> tuple[dict[str, Any], bytes]:
    """The snapshot's workspace document, checked as a restore needs it."""
    try:
        data = (snap.dir / SPACE_COPY).read_bytes()
    except OSError as e:
        raise _corrupt(snap.id, f"its space.json cannot be read: {e.strerror or e}") from None
    if _sha256(data) != snap.manifest["space_sha256"]:
        raise _corrupt(snap.id, "its space.json does not match the manifest")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as e:
        raise _corrupt(snap.id, f"its space.json is not valid JSON ({e})") from None
    if not isinstance(doc, dict):
        raise _corrupt(snap.id, "its space.json does not hold a JSON object")
    version = doc.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise SpacesError(
            409,
            f"snapshot {snap.id} holds a workspace file of a newer jupyter-spaces (schema "
            f"version {version}; this one reads {SCHEMA_VERSION})",
            "newer",
        )
    try:
        validate_schema(doc)
        Space.from_json(doc)
    except WorkspaceError as e:
        raise _corrupt(snap.id, f"its space.json is not a valid workspace file: {e}") from None
    if doc.get("id") != space_id:
        raise SpacesError(
            400, f"snapshot {snap.id} belongs to space {doc.get('id')!r}, not {space_id}"
        )
    verify(snap)
    return doc, data


def layout(snap: Snapshot) -> Any:
    """The layout the snapshot holds (None when its space.json cannot be read)."""
    with contextlib.suppress(OSError, ValueError, RecursionError):
        doc = json.loads((snap.dir / SPACE_COPY).read_bytes())
        if isinstance(doc, dict):
            return doc.get("layout")
    return None
