"""``%spaces sessions | resume | export``: agent sessions, found and resumed through the server."""

from __future__ import annotations

import argparse
import posixpath
from typing import Any

from .client import ClientError
from .context import AGENTS, SpacesContext
from .errors import SpacesMagicError, SpacesUsageError, resume_refusal
from .parsing import _Parser, _parser, _positive
from .results import (
    Note,
    PaneView,
    Result,
    SessionList,
)


class SessionCommands(SpacesContext):
    def _p_sessions(self) -> _Parser:
        p = _parser("sessions", "Search the agent sessions found on this machine.")
        p.add_argument("query", nargs="*", help="words to search for (all sessions without)")
        p.add_argument("--agent", choices=AGENTS)
        p.add_argument(
            "--space",
            nargs="?",
            const="",
            help="only sessions in this space's folder (alone: the linked space)",
        )
        p.add_argument("--limit", type=_positive, default=20, help="default 20")
        return p

    def do_sessions(self, args: argparse.Namespace) -> Result:
        query: dict[str, Any] = {"limit": args.limit}
        text = " ".join(args.query)
        if text:
            query["q"] = text
        else:
            query["order"] = "recent"
        if args.agent:
            query["agent"] = args.agent
        if args.space is not None:
            query["space"] = self.space(args.space or None)["id"]
        got = self.client.sessions(**query)
        return SessionList(list(got.get("sessions") or []), text, bool(got.get("indexing")))

    def _p_resume(self) -> _Parser:
        p = _parser("resume", "Resume an agent session in a pane of its space.")
        p.add_argument("session", help="AGENT:ID, a whole ID or a unique ID prefix")
        p.add_argument("--space", help="resume in this space instead of the one of its folder")
        p.add_argument(
            "--fresh", action="store_true", help="start a new session in its folder instead"
        )
        p.add_argument("--title", help="the pane's title")
        return p

    def do_resume(self, args: argparse.Namespace) -> Result:
        s = self.session(args.session)
        body: dict[str, Any] = {}
        if args.space is not None:
            body["space_id"] = self.space(args.space)["id"]
        if args.fresh:
            body["fresh"] = True
        if args.title:
            body["title"] = args.title
        name = f"{s['agent']}:{s['id']}"
        try:
            pane = self.client.resume(s["agent"], s["id"], body)
        except ClientError as e:
            raise SpacesMagicError(resume_refusal(e, name, s)) from None
        verb = "started a new session" if args.fresh else f"resumed {name}"
        return PaneView(pane, f"{verb} in pane {pane['id']} of space {pane.get('space_id')}")

    def _p_export(self) -> _Parser:
        p = _parser("export", "Save an agent session as a notebook (through the server).")
        p.add_argument("session", help="AGENT:ID, a whole ID or a unique ID prefix")
        p.add_argument(
            "-o", "--output", help="notebook path (default: beside this notebook, named after it)"
        )
        p.add_argument("--force", action="store_true", help="replace an existing file")
        return p

    def do_export(self, args: argparse.Namespace) -> Result:
        # Here, not at the top: keeps nbformat and the agents package out of %load_ext.
        from ..export import session_notebook

        s = self.session(args.session)
        if args.output:
            path = self._folder(args.output)
        else:
            nb = self.notebook_path()
            folder = posixpath.dirname(nb) if nb else ""
            path = posixpath.join(folder, f"{s['agent']}-session-{str(s['id'])[:8]}.ipynb")
        if not path.endswith(".ipynb"):
            raise SpacesUsageError(f"%spaces export: {path!r} is not a .ipynb path")
        if not args.force:
            try:
                self.client.contents(path, content=False)
            except ClientError as e:
                if e.status != 404:
                    raise
            else:
                raise SpacesMagicError(f"{path} exists; add --force to replace it")
        notebook = session_notebook(s, self.client.messages(s["agent"], s["id"]))
        self.client.save_contents(path, {"type": "notebook", "format": "json", "content": notebook})
        return Note(f"exported {s['agent']}:{s['id']} to {path}", path=path)
