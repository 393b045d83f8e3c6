"""``%spaces list | new | open | run | send | tail | stop``: spaces and their panes."""

from __future__ import annotations

import argparse
from typing import Any

from .context import SpacesContext
from .errors import SpacesUsageError
from .parsing import _Parser, _parser, _positive, _split, _split_head
from .results import (
    Note,
    OpenLink,
    PaneView,
    Result,
    Screen,
    SpaceList,
    SpaceView,
)

BRACKETED_PASTE = ("\x1b[200~", "\x1b[201~")


class PaneCommands(SpacesContext):
    def _p_list(self) -> _Parser:
        p = _parser("list", "List the spaces, or the panes of one space.")
        p.add_argument("space", nargs="?", help="a space id, name or folder")
        return p

    def do_list(self, args: argparse.Namespace) -> Result:
        if args.space is None:
            return SpaceList(self.client.spaces())
        return SpaceView(self.space(args.space))

    def _p_new(self) -> _Parser:
        p = _parser("new", "Create a space for a folder.")
        p.add_argument(
            "path", help="folder relative to the server root; . or ./x from this notebook's folder"
        )
        p.add_argument("--name", help="the space's name (default: the folder's name)")
        p.add_argument("--link", action="store_true", help="link this notebook to the new space")
        return p

    def do_new(self, args: argparse.Namespace) -> Result:
        space = self.client.create_space(self._folder(args.path), args.name)
        note = f"created space {space['name']} ({space['id']})"
        if args.link:
            note += "; " + self._write_link(space["id"]).message
        return SpaceView(space, note)

    def _p_open(self) -> _Parser:
        p = _parser("open", "Show a button that opens a space in JupyterLab.")
        p.add_argument("space", nargs="?", help="default: the linked space")
        return p

    def do_open(self, args: argparse.Namespace) -> Result:
        return OpenLink(self.space(args.space))

    def _p_run(self) -> _Parser:
        p = _parser("run", "Start a pane: a shell, a command (after --) or an agent.")
        # argparse fills "%(prog)s" in a usage line; a bare "%spaces" would be read as "%s".
        p.usage = "%(prog)s [SPACE] [--title T] [--cwd DIR] [--env K=V] [--agent A] [-- ARGV...]"
        p.add_argument("space", nargs="?", help="default: the linked space")
        p.add_argument("--title", help="the pane's title")
        p.add_argument("--cwd", help="folder relative to the space's folder")
        p.add_argument("--env", action="append", default=[], metavar="K=V", help="repeatable")
        p.add_argument(
            "--agent", help="start an agent CLI (claude, codex, gemini); ARGV are extra flags"
        )
        return p

    def do_run(self, rest: str) -> Result:
        words = _split(rest)
        argv: list[str] = []
        if "--" in words:
            cut = words.index("--")
            words, argv = words[:cut], words[cut + 1 :]
        args = self._p_run().parse_args(words)
        env = {}
        for item in args.env:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise SpacesUsageError(f"%spaces run: --env takes KEY=VALUE, not {item!r}")
            env[key] = value
        body: dict[str, Any] = {}
        if args.agent:
            body = {"kind": "agent", "agent": args.agent, "args": argv}
        elif argv:
            body = {"kind": "command", "argv": argv}
        else:
            body = {"kind": "shell"}
        for key in ("title", "cwd"):
            if getattr(args, key) is not None:
                body[key] = getattr(args, key)
        if env:
            body["env"] = env
        space = self.space(args.space)
        pane = self.client.create_pane(space["id"], body)
        return PaneView(
            pane,
            f"started pane {pane['id']} in space {space['name']}; it runs on the server and "
            "outlives this kernel",
        )

    def _p_send(self) -> _Parser:
        p = _parser("send", "Type text into a pane, then Enter.")
        p.usage = "%(prog)s [--space S] [--no-enter] [--paste] PANE TEXT  |  %(prog)s PANE"
        p.add_argument("pane", help="a pane id or title, or SPACE/PANE")
        p.add_argument("--space", help="look for PANE in this space")
        p.add_argument("--no-enter", action="store_true", help="do not press Enter after it")
        p.add_argument(
            "--paste",
            action="store_true",
            help="send it as one bracketed paste (the default for agent panes)",
        )
        return p

    def do_send(self, rest: str, cell: str | None) -> Result:
        parser = self._p_send()
        head, text = _split_head(rest)
        args = parser.parse_args(head)
        if cell is None:
            if text is None:
                parser.error("the following arguments are required: TEXT")
            body = text
        else:
            if text:
                parser.error("with %%spaces send the text is the cell body, not the line")
            body = cell.rstrip("\n")
            if not body.strip():
                parser.error("the cell is empty")
        pane = self.pane(args.pane, args.space)
        paste = args.paste or pane.get("kind") == "agent"
        if paste:
            chunks = [BRACKETED_PASTE[0] + body + BRACKETED_PASTE[1]]
            if not args.no_enter:
                # A separate write: TUIs read Enter inside a paste as a newline, not a submit.
                chunks.append("\r")
        else:
            typed = body.replace("\r\n", "\n").replace("\n", "\r")
            chunks = [typed + ("" if args.no_enter else "\r")]
        for chunk in chunks:
            self.client.send(pane["space_id"], pane["id"], chunk)
        lines = body.count("\n") + 1
        what = f"{lines} line{'s' if lines != 1 else ''}"
        return Note(
            f"sent {what} to pane {pane.get('title') or pane['id']} ({pane['id']})"
            f"{'' if args.no_enter else ' and pressed Enter'}",
            pane=pane,
        )

    def _p_tail(self) -> _Parser:
        p = _parser("tail", "The last lines of a pane's screen (with its scrollback).")
        p.add_argument("pane", help="a pane id or title, or SPACE/PANE")
        p.add_argument("-n", "--lines", type=_positive, default=20, help="default 20")
        p.add_argument("--space", help="look for PANE in this space")
        return p

    def do_tail(self, args: argparse.Namespace) -> Result:
        pane = self.pane(args.pane, args.space)
        screen = self.client.screen(pane["space_id"], pane["id"], args.lines)
        lines = [ln.rstrip() for ln in str(screen.get("text", "")).split("\n")]
        while lines and not lines[-1]:
            lines.pop()
        return Screen(pane, lines[-args.lines :])

    def _p_stop(self) -> _Parser:
        p = _parser("stop", "Stop a pane's program and remove the pane from its space.")
        p.add_argument("pane", help="a pane id or title, or SPACE/PANE")
        p.add_argument("--space", help="look for PANE in this space")
        return p

    def do_stop(self, args: argparse.Namespace) -> Result:
        pane = self.pane(args.pane, args.space)
        self.client.request("DELETE", f"api/spaces/{pane['space_id']}/panes/{pane['id']}")
        return Note(f"stopped pane {pane.get('title') or pane['id']} ({pane['id']})", pane=pane)
