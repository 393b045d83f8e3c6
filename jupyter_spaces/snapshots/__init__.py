"""Snapshots: dated copies of a space in ``<space>/.jupyter-spaces/snapshots/<id>/``.

A snapshot holds the workspace file as it was (byte for byte), the captured screen text of its
panes, and a whole copy of every agent transcript its panes reference: the CLIs delete
transcripts after 30 days by default, and a snapshot is meant to be restorable after that. The
folder is git-ignored (the ``.gitignore`` of ``.jupyter-spaces`` keeps only ``space.json``), since
screens and transcripts can hold secrets.

Layout of the folder (version 2, written since snapshots share their files)::

    blobs/<aa>/<sha256>      chunks of screens and transcripts, each stored once for all the
                             space's snapshots (``blobs.py``): a 90 MB transcript that grew by
                             1 MB since the last snapshot costs about 1 MB more
    <id>/snapshot.json       the manifest (id, name, reason, time, panes, and each screen and
                             transcript as its list of chunks, size, mtime and original path)
    <id>/space.json          the workspace file, unchanged
    <id>/pinned              present when the user pinned the snapshot (never pruned)
    policy.json              the space's own schedule and retention rules (``schedule.py``)
    .lock                    held by whoever builds a snapshot or removes blobs

Version 1 snapshots (``<id>/screens/<pane>.txt``, ``<id>/transcripts/<nnnnn>``: whole copies)
are still read, restored, listed, pinned and deleted.

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

from . import blobs
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
    PIN_FILE,
    REASONS,
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
    apply_policy,
    delete,
    prune,
    set_pinned,
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
    summary,
    verify,
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
from .retention import RULES, Policy, decide
from .schedule import SpacePolicy, parse_schedule, read_policy, write_policy

__all__ = [
    "ID_RE",
    "MANIFEST",
    "MAX_MANIFEST_BYTES",
    "MAX_NAME",
    "MAX_SIDE_FILES",
    "PIN_FILE",
    "REASONS",
    "RULES",
    "SNAPSHOTS_DIR",
    "SNAPSHOT_VERSION",
    "SPACE_COPY",
    "STALE_SECONDS",
    "TRANSCRIPTS_DIR",
    "Policy",
    "PutBack",
    "Snapshot",
    "SpacePolicy",
    "TranscriptSource",
    "apply_policy",
    "blobs",
    "check_name",
    "create",
    "decide",
    "delete",
    "id_time",
    "layout",
    "list_snapshots",
    "load_space",
    "new_id",
    "parse_schedule",
    "prune",
    "put_back_screens",
    "put_back_transcripts",
    "read",
    "read_policy",
    "session_files",
    "set_pinned",
    "snapshot_dir",
    "snapshots_dir",
    "summary",
    "transcript_areas",
    "valid_snapshot_id",
    "verify",
    "write_policy",
]
