"""Reading a pane's screen text out of a snapshot, for the timeline's preview: from its chunks
(version 2) or its copy in the snapshot's folder (version 1), never through a link, each chunk
checked against its name. Only panes the manifest lists; the end of a long screen."""

from __future__ import annotations

import re
from typing import Any

from ..errors import SpacesError
from ..restore import SCREENS_DIR
from . import blobs
from .reading import Snapshot, _corrupt

#: The most screen text one answer holds: the end of a longer screen (the newest lines).
MAX_SCREEN_BYTES = 1024 * 1024

_PANE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def screen_text(snap: Snapshot, pane_id: str, limit: int = MAX_SCREEN_BYTES) -> dict[str, Any]:
    """``{"pane_id", "text", "bytes", "truncated"}``: the pane's saved screen as text (invalid
    UTF-8 replaced), its last ``limit`` bytes. 404 for a pane the snapshot does not hold."""
    panes = {p.get("id") for p in snap.manifest.get("panes", []) if isinstance(p, dict)}
    if not isinstance(pane_id, str) or not _PANE_ID.match(pane_id) or pane_id not in panes:
        raise SpacesError(404, f"snapshot {snap.id} has no pane {pane_id!r}")
    data = b""
    if snap.manifest.get("version", 1) >= 2:
        item = next((s for s in snap.manifest.get("screens", []) if s.get("pane") == pane_id), None)
        if item is not None:
            try:
                data = b"".join(blobs.read_chunks(snap.dir.parent, item.get("chunks", [])))
            except blobs.BlobError as e:
                raise _corrupt(snap.id, str(e)) from None
    else:
        screens = snap.dir / SCREENS_DIR
        path = screens / f"{pane_id}.txt"
        if not screens.is_symlink() and not path.is_symlink() and path.is_file():
            data = path.read_bytes()
    size = len(data)
    truncated = size > limit
    if truncated:
        data = data[size - limit :]
    return {
        "pane_id": pane_id,
        "text": data.decode("utf-8", errors="replace"),
        "bytes": size,
        "truncated": truncated,
    }
