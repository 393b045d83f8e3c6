"""Snapshots: dated copies of a space in ``<space>/.jupyter-spaces/snapshots/<id>/``.

A snapshot holds the workspace file as it was (byte for byte), the captured screen text of its
panes, and a whole copy of every agent transcript its panes reference: the CLIs delete
transcripts after 30 days by default, and a snapshot is meant to be restorable after that. The
folder is git-ignored (the ``.gitignore`` of ``.jupyter-spaces`` keeps only ``space.json``), since
screens and transcripts can hold secrets.

Layout of one snapshot::

    snapshot.json            the manifest (id, name, time, panes, transcripts and where they were)
    space.json               the workspace file, unchanged
    screens/<pane>.txt       captured screen text (mtime = the pane's last output)
    transcripts/<nnnnn>      transcript copies; the manifest maps each to its original path

A snapshot is built in a hidden temporary folder beside the others and renamed into place, so a
crash never leaves half a snapshot under a valid id. Ids are ``YYYYMMDD-HHMMSS-xxxx`` (UTC time and
four random hex digits) and sort by time; anything else is refused (404) before a path is built.

The manifest carries the sha256 of ``space.json`` and is signed with the trust notary when the
server (or ``jupyter spaces``) writes it. On restore, transcripts go back only from a signed
snapshot (one this user made), only where the file is missing (an existing transcript is never
overwritten), and only inside the agents' transcript folders (never, say, a CLI's settings file).
Whether the restored workspace file is trusted is decided by its own bytes, as for any
workspace file: a snapshot of an untrusted space comes back untrusted.

Every function raises :class:`~jupyter_spaces.errors.SpacesError` with the HTTP status a client
gets (404 unknown or malformed id, 400 corrupt, 409 ``newer``), and changes nothing when it does.
"""

from .creating import (
    STALE_SECONDS,
    TranscriptSource,
    create,
    session_files,
)
from .creating import (
    _build as _build,
)
from .creating import (
    _remove_leftovers as _remove_leftovers,
)
from .creating import (
    _sha256 as _sha256,
)
from .ids import (
    _COPY_RE as _COPY_RE,
)
from .ids import (
    _PANE_ID_RE as _PANE_ID_RE,
)
from .ids import (
    _TIME_FORMAT as _TIME_FORMAT,
)
from .ids import (
    ID_RE,
    MANIFEST,
    MAX_MANIFEST_BYTES,
    MAX_NAME,
    MAX_SIDE_FILES,
    SNAPSHOT_VERSION,
    SNAPSHOTS_DIR,
    SPACE_COPY,
    TRANSCRIPTS_DIR,
    check_name,
    id_time,
    new_id,
    snapshot_dir,
    snapshots_dir,
    valid_snapshot_id,
)
from .ids import (
    _screens_dir as _screens_dir,
)
from .pruning import (
    _remove as _remove,
)
from .pruning import (
    delete,
    prune,
)
from .putting_back import (
    PutBack,
    put_back_screens,
    put_back_transcripts,
    transcript_areas,
)
from .putting_back import (
    _real_inside as _real_inside,
)
from .reading import (
    Snapshot,
    layout,
    list_snapshots,
    load_space,
    read,
)
from .reading import (
    _check_manifest as _check_manifest,
)
from .reading import (
    _corrupt as _corrupt,
)
from .reading import (
    _newest_first as _newest_first,
)

__all__ = [
    "ID_RE",
    "MANIFEST",
    "MAX_MANIFEST_BYTES",
    "MAX_NAME",
    "MAX_SIDE_FILES",
    "SNAPSHOTS_DIR",
    "SNAPSHOT_VERSION",
    "SPACE_COPY",
    "STALE_SECONDS",
    "TRANSCRIPTS_DIR",
    "PutBack",
    "Snapshot",
    "TranscriptSource",
    "check_name",
    "create",
    "delete",
    "id_time",
    "layout",
    "list_snapshots",
    "load_space",
    "new_id",
    "prune",
    "put_back_screens",
    "put_back_transcripts",
    "read",
    "session_files",
    "snapshot_dir",
    "snapshots_dir",
    "transcript_areas",
    "valid_snapshot_id",
]
