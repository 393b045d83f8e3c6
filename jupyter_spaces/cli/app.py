"""``jupyter spaces``: the command and its subcommands."""

from __future__ import annotations

import sys

from jupyter_core.application import JupyterApp

from .. import __version__
from .doctor import DoctorApp, ListApp
from .export import ExportApp
from .snapshots import PinApp, PruneApp, RestoreApp, SnapshotApp, SnapshotsApp, UnpinApp
from .trust import TrustApp
from .usage import UsageApp


class SpacesCLI(JupyterApp):
    name = "jupyter-spaces"
    version = __version__
    description = "Durable terminal and agent panes for Jupyter."
    subcommands = {
        "doctor": (DoctorApp, DoctorApp.description),
        "list": (ListApp, ListApp.description),
        "export": (ExportApp, ExportApp.description),
        "snapshot": (SnapshotApp, SnapshotApp.description),
        "snapshots": (SnapshotsApp, SnapshotsApp.description),
        "restore": (RestoreApp, RestoreApp.description),
        "prune": (PruneApp, PruneApp.description),
        "pin": (PinApp, PinApp.description),
        "unpin": (UnpinApp, UnpinApp.description),
        "trust": (TrustApp, TrustApp.description),
        "usage": (UsageApp, UsageApp.description),
    }

    def start(self) -> None:
        if self.subapp is None:
            if self.extra_args:
                print(f"jupyter spaces: unknown command {self.extra_args[0]!r}", file=sys.stderr)
            print(
                f"usage: jupyter spaces {{{','.join(self.subcommands)}}} [--json]", file=sys.stderr
            )
            print("Run `jupyter spaces --help-all` for the settings.", file=sys.stderr)
            self.exit(2)
        super().start()


main = SpacesCLI.launch_instance
