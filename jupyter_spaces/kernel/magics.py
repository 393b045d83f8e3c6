"""``%spaces``: work with spaces, panes and agent sessions from a notebook.

The kernel is a client of the server's REST API (the server stays the only writer); the server
is found by :mod:`jupyter_spaces.kernel.discovery`. Every refusal is one line without a traceback
(:class:`SpacesMagicError` renders itself that way in IPython) and changes nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class

from .client import ClientError
from .discovery import DiscoveryError, ServerInfo
from .errors import SpacesMagicError, SpacesUsageError
from .pane_commands import PaneCommands
from .parsing import _Parser, _parser, _ShowHelp, _split
from .results import HelpText, Result
from .session_commands import SessionCommands
from .snapshot_commands import SnapshotCommands
from .usage_commands import UsageCommands

__all__ = ["SpacesMagicError", "SpacesMagics", "SpacesUsageError"]

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
%spaces usage [--by day] [--since 7d] [--agent A] [--space [S]]  tokens, cost (estimate) and
                                 time per day, model, space, session… (a DataFrame with pandas)
%spaces link [SPACE] [--clear]   link this notebook to a space (kept in its metadata); commands
                                 then default to that space
Each subcommand takes --help. PANE is a pane id or title, or SPACE/PANE."""


@magics_class
class SpacesMagics(PaneCommands, SessionCommands, SnapshotCommands, UsageCommands, Magics):
    """``%spaces`` and ``%%spaces``. ``run(line, cell)`` is the same without IPython's display,
    for scripts and tests: it returns the result object or raises :class:`SpacesMagicError`."""

    def __init__(self, shell: Any = None, server: ServerInfo | None = None) -> None:
        super().__init__(shell)
        self._init_context(server)
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
            "usage": (self._p_usage, self.do_usage),
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

    def do_help(self, args: argparse.Namespace) -> Result:
        return HelpText(SUMMARY)
