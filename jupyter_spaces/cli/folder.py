"""Commands on a space's folder (snapshot, snapshots, restore, prune, trust): their parsers
and whether they go through a running server or the files.

PATH is a space's folder. When a Jupyter server that knows this space runs (found through
JUPYTER_SPACES_URL, else the running-server files jpserver-*.json in the runtime dir whose
root_dir holds PATH), the command goes through its REST API: the server is the single writer of
workspace files and the only talker to tmux, so it captures fresh screens and starts panes. With
no such server the command works on the files: snapshot, list, prune and restore-files (the
panes come back when a server next starts, as after a machine restart), and `trust` signs the
workspace file with the same notary the server uses."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from contextlib import suppress
from pathlib import Path
from typing import Any, NoReturn

from ..agents import SessionIndex
from ..errors import SpacesError
from ..kernel.client import ClientError, SpacesClient
from ..kernel.discovery import (
    DiscoveryError,
    ServerInfo,
    _alive,
    _from_file,
    runtime_dirs,
    server_files,
)
from ..registry import Registry
from ..store import WorkspaceStore
from ..trust import Notary
from .base import _Command, _Parser, _UsageError


class CommandError(Exception):
    """A refusal in one sentence (exit status 1); nothing was changed."""


def _space_parser(name: str, description: str) -> argparse.ArgumentParser:
    p = _Parser(prog=f"jupyter spaces {name}", description=description)
    p.add_argument("path", metavar="PATH", help="the space's folder")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    return p


def _parsers() -> dict[str, argparse.ArgumentParser]:
    snap = _space_parser("snapshot", "Take a snapshot of a space.")
    snap.add_argument("--name", help="a label for the snapshot (1 to 200 characters)")
    listing = _space_parser("snapshots", "List a space's snapshots, newest first.")
    restore = _space_parser(
        "restore",
        "Bring a space back to a snapshot: its layout, screens and agent conversations (deleted "
        "transcripts are put back). Asks before it stops running panes.",
    )
    restore.add_argument("snapshot", metavar="SNAPSHOT", help="the snapshot's id")
    restore.add_argument(
        "-y", "--yes", action="store_true", help="stop running panes without asking"
    )
    prune = _space_parser(
        "prune",
        "Delete old snapshots. Without --keep or --older-than: by the retention policy (the "
        "space's own rules, else the server's snapshot_keep_* settings; --keep-last and the "
        "others change it for this run): the newest N, the newest of each hour, day and week "
        "within the last H hours, D days, W weeks. With --keep/--older-than: a snapshot stays "
        "when any given rule keeps it. Named and pinned snapshots always stay.",
    )
    prune.add_argument("--keep", type=_whole, metavar="N", help="keep the newest N")
    prune.add_argument(
        "--older-than", type=_days, metavar="DAYS", help="delete those older than DAYS days"
    )
    prune.add_argument(
        "--dry-run",
        action="store_true",
        help="list what the retention policy would delete, and delete nothing",
    )
    for rule in ("last", "hourly", "daily", "weekly"):
        prune.add_argument(
            f"--keep-{rule}", type=_whole, metavar="N", help=f"retention policy: {rule} N"
        )
    pins = {}
    for name, what in (("pin", "Pin a snapshot: no prune removes it."), ("unpin", "Unpin it.")):
        pins[name] = _space_parser(name, what)
        pins[name].add_argument("snapshot", metavar="SNAPSHOT", help="the snapshot's id")
    trust = _space_parser(
        "trust",
        "Show what a space's workspace file would run (one that came with git clone, or was "
        "edited by hand) and, once you say yes, trust it so that exactly that may start.",
    )
    trust.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="trust without asking (the plan is still printed)",
    )
    return {
        "snapshot": snap,
        "snapshots": listing,
        "restore": restore,
        "prune": prune,
        "trust": trust,
        **pins,
    }


def _whole(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"expected a whole number, 0 or more, not {text!r}")
    return int(text)


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 36500:
        raise argparse.ArgumentTypeError(f"expected a number of days, not {text!r}")
    return value


class _SpaceCommand(_Command):
    """``jupyter spaces <command> PATH ...``: through the server when one runs, else files."""

    command = ""
    options: argparse.Namespace

    def initialize(self, argv: Any = None) -> None:
        try:
            self.options = _parsers()[self.command].parse_args(
                sys.argv[1:] if argv is None else argv
            )
        except _UsageError as e:
            self.fail(f"{e} (see `jupyter spaces {self.command} --help`)", 2)
        self.json_output = self.options.json
        self.load_config_file()

    def fail(self, message: str, status: int = 1) -> NoReturn:
        print(f"jupyter spaces {self.command}: {message}", file=sys.stderr)
        sys.exit(status)

    def start(self) -> None:
        try:
            folder, loaded = self._folder()
            known = Registry(Path(self.settings().registry_path)).find_by_dir(folder)
            server = _find_server(folder, known or (loaded.space.id if loaded.space else None))
            if server is not None:
                data, text = self.remote(*server)
            else:
                data, text = self.local(folder, loaded)
        except (CommandError, ClientError) as e:
            self.fail(str(e))
        except SpacesError as e:
            self.fail(e.message)
        except (OSError, sqlite3.Error) as e:
            self.fail(f"{getattr(e, 'strerror', None) or e}")
        self.emit(data, text)

    def _folder(self) -> tuple[Path, Any]:
        folder = Path(self.options.path).expanduser().resolve()
        if not folder.is_dir():
            raise CommandError(f"{self.options.path} is not a folder")
        loaded = WorkspaceStore().load(folder)
        if loaded.status == "missing":
            raise CommandError(f"{folder} has no space (no .jupyter-spaces/space.json)")
        return folder, loaded

    def notary(self) -> Notary:
        return Notary(Path(self.settings().trust_dir))

    def index(self) -> SessionIndex:
        app = self.settings()
        return SessionIndex(app.sessions_index_path, roots=app.agent_roots or None)

    def remote(self, client: SpacesClient, space_id: str) -> tuple[Any, str]:
        raise NotImplementedError

    def local(self, folder: Path, loaded: Any) -> tuple[Any, str]:
        raise NotImplementedError


def _find_server(folder: Path, space_id: str | None) -> tuple[SpacesClient, str] | None:
    """The running server that knows the space in ``folder``, or None."""
    if space_id is None:
        return None
    candidates: list[ServerInfo] = []
    url = os.environ.get("JUPYTER_SPACES_URL", "").strip()
    if url:
        candidates.append(
            ServerInfo(
                url if url.endswith("/") else url + "/",
                os.environ.get("JUPYTER_SPACES_TOKEN", ""),
                "JUPYTER_SPACES_URL",
            )
        )
    for path, info in server_files(runtime_dirs()):
        root = info.get("root_dir")
        if not isinstance(root, str) or info.get("sock") or not _alive(info["pid"]):
            continue
        real = Path(root).expanduser().resolve()
        if folder != real and real not in folder.parents:
            continue
        with suppress(DiscoveryError):
            candidates.append(_from_file(path, info, "the running-server file"))
    for server in candidates:
        client = SpacesClient(server, timeout=120)
        try:
            space = client.space(space_id)
        except ClientError:
            continue  # not running jupyter-spaces, or not this space: not the writer
        if server.root_dir is None or space.get("path") == _rel(folder, server.root_dir):
            return client, space_id
    return None


def _rel(folder: Path, root: str) -> str:
    rel = folder.relative_to(Path(root).expanduser().resolve()).as_posix()
    return "" if rel == "." else rel


def _snapshot_line(s: dict[str, Any]) -> str:
    pin = "  [pinned]" if s.get("pinned") else ""
    if s.get("status", "ok") != "ok":
        return f"{s['id']}  [{s['status']}] {s.get('message') or ''}{pin}"
    panes = s.get("panes") or []
    agents = sum(1 for p in panes if p.get("transcript"))
    missing = len(s.get("missing_transcripts") or [])
    size = _size(int(s.get("bytes") or 0))
    extra = f", {missing} transcript(s) missing" if missing else ""
    name = f"  {s['name']}" if s.get("name") else ""
    reason = s.get("reason") or "manual"
    own = f" ({_size(int(s['unique_bytes']))} its own)" if "unique_bytes" in s else ""
    return (
        f"{s['id']}  {reason:<14} {len(panes)} pane(s), {agents} conversation(s), "
        f"{size}{own}{extra}{pin}{name}"
    )


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024:
            return f"{n} {unit}" if unit == "B" else f"{n:.0f} {unit}"
        n = n / 1024  # type: ignore[assignment]
    return f"{n:.1f} GB"
