"""``%spaces``: work with spaces, panes and agent sessions from a notebook.

The kernel is a client of the server's REST API (the server stays the only writer); the server
is found by :mod:`jupyter_spaces.discovery`. Every refusal is one line without a traceback
(:class:`SpacesMagicError` renders itself that way in IPython) and changes nothing.
"""

from __future__ import annotations

import argparse
import os
import posixpath
import re
import shlex
from collections.abc import Callable
from typing import Any, NoReturn

from IPython.core.magic import Magics, line_cell_magic, magics_class

from .client import ClientError, SpacesClient, q
from .discovery import DiscoveryError, ServerInfo, find_server
from .results import (
    HelpText,
    Note,
    OpenLink,
    PaneView,
    Result,
    Screen,
    SessionList,
    SnapshotList,
    SnapshotView,
    SpaceList,
    SpaceView,
)

AGENTS = ("claude", "codex", "gemini")
META_KEY = "jupyter_spaces"
BRACKETED_PASTE = ("\x1b[200~", "\x1b[201~")
ENV_KEYS = ("JUPYTER_SPACES_URL", "JUPYTER_SPACES_TOKEN", "JUPYTERHUB_API_TOKEN")


class SpacesMagicError(Exception):
    """A refusal: shown as one line (no traceback) and nothing was changed."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows these lines instead of a traceback for exceptions that have this method.
        return [f"\x1b[0;31mspaces:\x1b[0m {self}"]


class SpacesUsageError(SpacesMagicError):
    """The line itself is wrong: unknown subcommand or option, missing argument."""


class _ShowHelp(Exception):
    def __init__(self, text: str) -> None:
        self.text = text


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing and calling sys.exit."""

    def error(self, message: str) -> NoReturn:
        raise SpacesUsageError(f"{self.prog}: {message} (see {self.prog} --help)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise SpacesUsageError(message.strip() if message else f"{self.prog}: stopped")

    def print_help(self, file: Any = None) -> None:
        raise _ShowHelp(self.format_help())


def _parser(name: str, description: str) -> _Parser:
    return _Parser(prog=f"%spaces {name}", description=description, add_help=True)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, not {text!r}")
    return int(text)


SUMMARY = """\
%spaces                          the live panel: spaces, panes, a pane's output, session search
%spaces list [SPACE]             the spaces, or one space's panes
%spaces new PATH [--name N]      create a space for a folder (PATH from the server root; ./x from
                                 this notebook's folder) [--link: link this notebook to it]
%spaces open [SPACE]             a button that opens the space in JupyterLab
%spaces run [SPACE] [-- ARGV...] start a pane (a shell without ARGV) [--agent claude|codex|gemini]
%spaces send PANE TEXT           type TEXT and Enter into a pane (--no-enter, --paste)
%%spaces send PANE               the cell body, as typed lines (agent panes get it as one paste)
%spaces tail PANE [-n N]         the last N lines of a pane's screen
%spaces stop PANE                stop a pane and remove it from its space
%spaces sessions [QUERY] [--agent A] [--space [S]]   search agent sessions
%spaces resume SESSION           resume an agent session (AGENT:ID or a unique ID prefix) in a pane
%spaces export SESSION [-o PATH] save an agent session as a notebook
%spaces snapshot [SPACE] [--name N]  snapshot a space (layout, screens, agent transcripts)
%spaces snapshots [SPACE]        a space's snapshots, newest first
%spaces link [SPACE] [--clear]   link this notebook to a space (kept in its metadata); commands
                                 then default to that space
Each subcommand takes --help. PANE is a pane id or title, or SPACE/PANE."""


@magics_class
class SpacesMagics(Magics):
    """``%spaces`` and ``%%spaces``. ``run(line, cell)`` is the same without IPython's display,
    for scripts and tests: it returns the result object or raises :class:`SpacesMagicError`."""

    def __init__(self, shell: Any = None, server: ServerInfo | None = None) -> None:
        super().__init__(shell)
        self._server = server
        self._client: SpacesClient | None = None
        self._client_key: tuple[str, ...] = ()
        self._notebook: str | None = None
        self._notebook_known = False
        self._link: str | None = None
        self._link_known = False
        self._commands: dict[str, tuple[Callable[[], _Parser], Callable[..., Any]]] = {
            "list": (self._p_list, self.do_list),
            "new": (self._p_new, self.do_new),
            "open": (self._p_open, self.do_open),
            "run": (self._p_run, self.do_run),
            "send": (self._p_send, self.do_send),
            "tail": (self._p_tail, self.do_tail),
            "stop": (self._p_stop, self.do_stop),
            "sessions": (self._p_sessions, self.do_sessions),
            "resume": (self._p_resume, self.do_resume),
            "export": (self._p_export, self.do_export),
            "snapshot": (self._p_snapshot, self.do_snapshot),
            "snapshots": (self._p_snapshots, self.do_snapshots),
            "link": (self._p_link, self.do_link),
            "help": (lambda: _parser("help", "Show the subcommands."), self.do_help),
        }

    # -- entry points ---------------------------------------------------------------------

    @line_cell_magic
    def spaces(self, line: str = "", cell: str | None = None) -> Any:
        """Spaces, panes and agent sessions from a notebook; ``%spaces help`` lists commands."""
        return self.run(line, cell)

    def run(self, line: str, cell: str | None = None) -> Any:
        line = line.strip()
        if not line:
            if cell is not None:
                raise SpacesUsageError("%%spaces needs a subcommand: %%spaces send PANE")
            return self.panel()
        name = line.split(None, 1)[0]
        if name in ("-h", "--help"):
            return HelpText(SUMMARY)
        if name not in self._commands:
            raise SpacesUsageError(
                f"unknown subcommand {name!r}; use one of {', '.join(self._commands)} "
                "(%spaces help)"
            )
        if cell is not None and name != "send":
            raise SpacesUsageError(f"%%spaces {name} takes no cell body; only %%spaces send does")
        rest = line[len(name) :].strip()
        build, handler = self._commands[name]
        try:
            if name == "send":
                return handler(rest, cell)
            if name == "run":
                return handler(rest)
            args = build().parse_args(_split(rest))
            return handler(args)
        except _ShowHelp as h:
            return HelpText(h.text)
        except DiscoveryError as e:
            raise SpacesMagicError(str(e)) from None
        except ClientError as e:
            if e.status in (None, 401, 403):
                self._client = None  # unreachable or refused: look for the server again
            raise SpacesMagicError(str(e)) from None

    def panel(self) -> Any:
        from .widgets import SpacesPanel

        try:
            return SpacesPanel(self.client)
        except (DiscoveryError, ClientError) as e:
            raise SpacesMagicError(str(e)) from None

    # -- server, notebook, link -------------------------------------------------------------

    @property
    def client(self) -> SpacesClient:
        # Found again when the user changes the override (%env JUPYTER_SPACES_URL=...).
        key = tuple(os.environ.get(k, "") for k in ENV_KEYS)
        if self._client is None or key != self._client_key:
            self._client = SpacesClient(self._server or find_server())
            self._client_key = key
        return self._client

    def notebook_path(self) -> str | None:
        """This kernel's notebook, relative to the server root, from the server's sessions."""
        if self._notebook_known:
            return self._notebook
        kernel_id = _kernel_id()
        path = None
        if kernel_id is not None:
            for s in self.client.kernel_sessions():
                if (s.get("kernel") or {}).get("id") == kernel_id and str(
                    s.get("path", "")
                ).endswith(".ipynb"):
                    path = str(s["path"])
                    break
        self._notebook, self._notebook_known = path, True
        return path

    def linked_space(self) -> str | None:
        """The space id in the notebook's metadata (``metadata.jupyter_spaces.space``)."""
        if self._link_known:
            return self._link
        link = None
        path = self.notebook_path()
        if path is not None:
            try:
                nb = self._read_notebook(path)
            except ClientError as e:
                if e.status != 404:  # a notebook not saved yet has no link, no error
                    raise
            else:
                meta = nb.metadata.get(META_KEY) or {}
                value = meta.get("space") if isinstance(meta, dict) else None
                link = value if isinstance(value, str) and value else None
        self._link, self._link_known = link, True
        return link

    def _read_notebook(self, path: str) -> Any:
        import nbformat

        model = self.client.contents(path)
        return nbformat.from_dict(model["content"])

    # -- lookups ----------------------------------------------------------------------------

    def space(self, ref: str | None) -> dict[str, Any]:
        """A space by id, name or folder; None means the notebook's linked space."""
        if ref is None:
            linked = self.linked_space()
            if linked is None:
                raise SpacesUsageError(
                    "which space? name one, or link this notebook to a space with "
                    "%spaces link SPACE"
                )
            ref = linked
        spaces = self.client.spaces()
        for test in (
            lambda s: s.get("id") == ref,
            lambda s: s.get("name") == ref,
            lambda s: (s.get("path") or "").strip("/") == ref.strip("/") and ref.strip("/"),
            lambda s: str(s.get("name", "")).lower() == ref.lower(),
        ):
            found = [s for s in spaces if test(s)]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                ids = ", ".join(str(s["id"]) for s in found)
                raise SpacesMagicError(f"{len(found)} spaces are called {ref!r} ({ids}); use an id")
        if not spaces:
            raise SpacesMagicError(
                f"no space {ref!r}: there are no spaces yet; create one with %spaces new PATH"
            )
        known = ", ".join(f"{s.get('name')} ({s.get('id')})" for s in spaces[:8])
        more = ", …" if len(spaces) > 8 else ""
        raise SpacesMagicError(f"no space {ref!r}; the spaces are: {known}{more}")

    def pane(self, ref: str, space_ref: str | None = None) -> dict[str, Any]:
        """A pane by id or title: in ``space_ref``, else in the linked space, else anywhere;
        ``SPACE/PANE`` names both."""
        if space_ref is not None:
            return self._pane_in(self.space(space_ref), ref)
        linked = self.linked_space()
        if linked is not None:
            try:
                return self._pane_in(self.space(linked), ref)
            except SpacesMagicError:
                pass  # not in the linked space: look everywhere below
        spaces = self.client.spaces()
        panes = [p for s in spaces for p in s.get("panes") or []]
        for test in (lambda p: p.get("id") == ref, lambda p: p.get("title") == ref):
            found = [p for p in panes if test(p)]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                where = ", ".join(f"{p['space_id']}/{p['id']}" for p in found)
                raise SpacesMagicError(
                    f"{len(found)} panes are called {ref!r} ({where}); name one as SPACE/PANE "
                    "or by its id"
                )
        if "/" in ref:
            space_part, pane_part = ref.rsplit("/", 1)
            return self._pane_in(self.space(space_part), pane_part)
        if not panes:
            raise SpacesMagicError(f"no pane {ref!r}: no space has panes yet (%spaces run SPACE)")
        raise SpacesMagicError(f"no pane {ref!r}; %spaces list SPACE shows a space's panes")

    def _pane_in(self, space: dict[str, Any], ref: str) -> dict[str, Any]:
        panes = list(space.get("panes") or [])
        for test in (lambda p: p.get("id") == ref, lambda p: p.get("title") == ref):
            found = [p for p in panes if test(p)]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                ids = ", ".join(str(p["id"]) for p in found)
                raise SpacesMagicError(f"{len(found)} panes are called {ref!r} ({ids}); use an id")
        known = ", ".join(f"{p.get('title')} ({p.get('id')})" for p in panes[:8]) or "none"
        raise SpacesMagicError(f"no pane {ref!r} in space {space.get('name')}; its panes: {known}")

    def session(self, ref: str) -> dict[str, Any]:
        """An agent session from ``AGENT:ID``, a whole id or a unique id prefix."""
        agent, _, sid = ref.partition(":")
        if sid and agent in AGENTS:
            try:
                return self.client.session(agent, sid)
            except ClientError as e:
                if e.status != 404:
                    raise
                agents: tuple[str, ...] = (agent,)
                prefix = sid
        else:
            agents, prefix = AGENTS, ref
            for a in AGENTS:
                try:
                    return self.client.session(a, ref)
                except ClientError as e:
                    if e.status != 404:
                        raise
        found: dict[tuple[str, str], dict[str, Any]] = {}
        page = 200
        for offset in range(0, 5000, page):  # a prefix needs the listing; bounded
            got = self.client.sessions(limit=page, offset=offset, order="recent", subagents="true")[
                "sessions"
            ]
            for s in got:
                if s.get("agent") in agents and str(s.get("id", "")).startswith(prefix):
                    found[(s["agent"], s["id"])] = s
            if len(got) < page:
                break
        if len(found) == 1:
            return next(iter(found.values()))
        if found:
            names = ", ".join(f"{a}:{i}" for a, i in list(found)[:6])
            raise SpacesMagicError(
                f"{len(found)} sessions start with {prefix!r} ({names}); say more"
            )
        raise SpacesMagicError(f"no agent session {ref!r}; %spaces sessions QUERY searches them")

    def _folder(self, path: str) -> str:
        """PATH relative to the server root; ``.``, ``./x``, ``../x`` are taken from this
        notebook's folder (or the kernel's working directory when there is no notebook)."""
        if path != "." and not path.startswith(("./", "../")) and path != "..":
            return path.strip("/")
        nb = self.notebook_path()
        if nb is not None:
            base = posixpath.dirname(nb)
        else:
            root = self.client.server.root_dir
            cwd = os.getcwd()
            if root is None or os.path.relpath(cwd, root).startswith(".."):
                raise SpacesUsageError(
                    f"cannot tell where {path!r} is on the server; give PATH from the server root"
                )
            base = os.path.relpath(cwd, root).replace(os.sep, "/")
        joined = posixpath.normpath(posixpath.join(base, path))
        if joined.startswith(".."):
            raise SpacesUsageError(f"{path!r} leads outside the server's root")
        return "" if joined == "." else joined

    # -- subcommands ------------------------------------------------------------------------

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
        p.usage = "%spaces run [SPACE] [--title T] [--cwd DIR] [--env K=V] [--agent A] [-- ARGV...]"
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
        p.usage = "%spaces send [--space S] [--no-enter] [--paste] PANE TEXT  |  %%spaces send PANE"
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
            raise SpacesMagicError(_resume_refusal(e, name, s)) from None
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
        from .export import session_notebook

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
        p = _parser("snapshots", "List a space's snapshots, newest first.")
        p.add_argument("space", nargs="?", help="default: the linked space")
        return p

    def do_snapshots(self, args: argparse.Namespace) -> Result:
        space = self.space(args.space)
        got = self.client.request("GET", f"api/spaces/{q(space['id'])}/snapshots")
        return SnapshotList(list(got.get("snapshots") or []), space)

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

    def _write_link(self, space_id: str | None) -> Note:
        """Write the link into the notebook file through the server's contents API."""
        import nbformat

        path = self.notebook_path()
        if path is None:
            raise SpacesMagicError(
                "cannot link: the server has no notebook for this kernel (is it a console "
                "or a script?); pass SPACE to each command instead"
            )
        try:
            nb = self._read_notebook(path)
        except ClientError as e:
            if e.status == 404:
                raise SpacesMagicError(f"cannot link: save {path} first") from None
            raise
        meta = dict(nb.metadata.get(META_KEY) or {})
        if space_id is None:
            meta.pop("space", None)
        else:
            meta["space"] = space_id
        if meta:
            nb.metadata[META_KEY] = meta
        else:
            nb.metadata.pop(META_KEY, None)
        nbformat.validate(nb)
        self.client.save_contents(path, {"type": "notebook", "format": "json", "content": nb})
        self._link, self._link_known = space_id, True
        what = f"linked {path} to space {space_id}" if space_id else f"unlinked {path}"
        return Note(
            f"{what} (saved in its metadata). JupyterLab will say the file changed on disk: "
            "choose Revert to load it; Overwrite keeps your open version without the link",
            space=space_id,
        )

    def do_help(self, args: argparse.Namespace) -> Result:
        return HelpText(SUMMARY)


def _resume_refusal(e: ClientError, name: str, session: dict[str, Any]) -> str:
    reason = e.reason
    if reason == "no_space":
        path = e.body.get("path")
        path = session.get("path") if path is None else path
        path = "PATH" if path is None else (path or "/")  # "/" is the server root
        return (
            f"no space holds the folder of {name} ({path}); create one with "
            f"%spaces new {path}, then resume again"
        )
    if reason == "gone":
        return (
            f"the transcript of {name} was deleted; %spaces resume {name} --fresh starts a new "
            "session in its folder"
        )
    if reason == "already_open":
        pane = e.body.get("pane_id") or "?"
        return (
            f"{name} is already open in pane {pane} of space {e.body.get('space_id')}; "
            f"%spaces tail {pane} shows it"
        )
    if reason == "outside_root":
        return f"{name} ran outside this server's root, so it cannot be resumed from here"
    if reason == "missing_cli":
        return f"cannot resume {name}: {e.message}"
    if reason == "not_resumable":
        return f"{name} cannot be resumed: {e.message}"
    return str(e)


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as e:
        raise SpacesUsageError(f"cannot read the line: {e}") from None


def _split_head(text: str) -> tuple[list[str], str | None]:
    """For ``send``: options and PANE as words; everything after PANE verbatim (quotes around
    the whole of it are removed)."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    head: list[str] = []
    expects_value = forced = False
    try:
        while True:
            token = lexer.get_token()
            if token is None or token == lexer.eof:
                return head, None
            head.append(token)
            if expects_value:
                expects_value = False
            elif forced or not token.startswith("-") or token == "-":
                break  # PANE
            elif token == "--":
                forced = True  # what follows is PANE even if it starts with "-"
            elif token == "--space":
                expects_value = True
    except ValueError as e:
        raise SpacesUsageError(f"cannot read the line: {e}") from None
    pos = lexer.instream.tell()  # type: ignore[attr-defined]
    rest = text[pos:].strip() if pos < len(text) else ""
    if not rest:
        return head, None
    if rest[0] in "'\"":
        try:
            words = shlex.split(rest)
        except ValueError:
            words = []
        if len(words) == 1:
            return head, words[0]
    return head, rest


def _kernel_id() -> str | None:
    """This kernel's id: the server names connection files ``kernel-<id>.json``."""
    try:
        from ipykernel.connect import get_connection_file

        name = os.path.basename(get_connection_file())
    except Exception:
        return None
    m = re.fullmatch(r"kernel-(.+)\.json", name)
    return m.group(1) if m else None
