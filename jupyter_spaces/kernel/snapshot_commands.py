"""``%spaces snapshot | snapshots | link``: a space's snapshots and this notebook's link."""

from __future__ import annotations

import argparse

from .client import q
from .context import SpacesContext
from .errors import SpacesUsageError
from .parsing import _Parser, _parser
from .results import (
    Note,
    Result,
    SnapshotList,
    SnapshotView,
)


class SnapshotCommands(SpacesContext):
    def _p_snapshot(self) -> _Parser:
        p = _parser(
            "snapshot",
            "Take a snapshot of a space: its layout, the screens of its panes and a copy of every "
            "agent transcript they reference (kept in the space's git-ignored "
            ".jupyter-spaces/snapshots/). Restore one from JupyterLab or `jupyter spaces restore`.",
        )
        p.add_argument("space", nargs="?", help="default: the linked space")
        p.add_argument("--name", help="a label for the snapshot")
        return p

    def do_snapshot(self, args: argparse.Namespace) -> Result:
        space = self.space(args.space)
        body = {} if args.name is None else {"name": args.name}
        snap = self.client.request("POST", f"api/spaces/{q(space['id'])}/snapshots", body)
        return SnapshotView(snap, f"took snapshot {snap['id']} of space {space['name']}")

    def _p_snapshots(self) -> _Parser:
        p = _parser(
            "snapshots",
            "List a space's snapshots, newest first: when and why each was taken (manual, "
            "scheduled, before_restore, before_trust, agent_ended, before_delete), whether it is "
            "pinned, its size and what it alone takes on disk, and the disk all of them take.",
        )
        p.add_argument("space", nargs="?", help="default: the linked space")
        return p

    def do_snapshots(self, args: argparse.Namespace) -> Result:
        space = self.space(args.space)
        got = self.client.request("GET", f"api/spaces/{q(space['id'])}/snapshots")
        return SnapshotList(list(got.get("snapshots") or []), space, got.get("disk"))

    def _p_link(self) -> _Parser:
        p = _parser(
            "link",
            "Link this notebook to a space: %spaces commands then default to it. The link is "
            "kept in the notebook's metadata (metadata.jupyter_spaces.space).",
        )
        p.add_argument("space", nargs="?", help="without it: show the link")
        p.add_argument("--clear", action="store_true", help="remove the link")
        return p

    def do_link(self, args: argparse.Namespace) -> Result:
        if args.clear and args.space:
            raise SpacesUsageError("%spaces link: give SPACE or --clear, not both")
        if args.clear:
            return self._write_link(None)
        if args.space:
            return self._write_link(self.space(args.space)["id"])
        linked = self.linked_space()
        if linked is None:
            return Note("this notebook is not linked to a space (%spaces link SPACE)", space=None)
        return Note(f"this notebook is linked to space {linked}", space=linked)
