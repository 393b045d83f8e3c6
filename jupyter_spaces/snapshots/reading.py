"""Reading snapshots back: one manifest checked, the list newest first, the space it holds."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SpacesError
from ..model import SCHEMA_VERSION, Space, WorkspaceError, validate_schema
from .creating import (
    _sha256,
)
from .ids import (
    _COPY_RE,
    _PANE_ID_RE,
    MANIFEST,
    MAX_MANIFEST_BYTES,
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

    def public(self) -> dict[str, Any]:
        """The manifest as the API shows it (original transcript paths stay server-side)."""
        m = self.manifest
        return {
            "id": m["id"],
            "name": m["name"],
            "created": m["created"],
            "space_id": m["space_id"],
            "space_name": m["space_name"],
            "panes": m["panes"],
            "bytes": m["bytes"],
            "missing_transcripts": m["missing_transcripts"],
            "transcripts": len(m["transcripts"]),
            "status": "ok",
            "message": None,
        }


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
    for t in need("transcripts", list):
        ok = (
            isinstance(t, dict)
            and isinstance(t.get("agent"), str)
            and isinstance(t.get("session_id"), str)
            and isinstance(t.get("path"), str)
            and isinstance(t.get("file"), str)
            and _COPY_RE.fullmatch(t["file"]) is not None
        )
        if not ok:
            raise _corrupt(snapshot_id, "a transcript entry is malformed")


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


def list_snapshots(space_dir: Path) -> list[dict[str, Any]]:
    """Every snapshot, newest first; corrupt and newer ones are listed with their status, so
    they can be seen and deleted."""
    out = []
    for snapshot_id in _newest_first(space_dir):
        try:
            out.append(read(space_dir, snapshot_id).public())
        except SpacesError as e:
            if e.status_code == 404:
                continue  # a stray file or link under an id-like name
            out.append(
                {
                    "id": snapshot_id,
                    "name": "",
                    "created": id_time(snapshot_id).isoformat().replace("+00:00", "Z"),
                    "status": e.code or "corrupt",
                    "message": e.message,
                }
            )
    return out


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
    return doc, data


def layout(snap: Snapshot) -> Any:
    """The layout the snapshot holds (None when its space.json cannot be read)."""
    with contextlib.suppress(OSError, ValueError, RecursionError):
        doc = json.loads((snap.dir / SPACE_COPY).read_bytes())
        if isinstance(doc, dict):
            return doc.get("layout")
    return None
