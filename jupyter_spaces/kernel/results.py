"""What ``%spaces`` returns: small objects with an HTML table for notebooks and a plain-text
form for scripts, tests and terminals. All text from the server is escaped.

Longer than 400 lines on purpose: one small class per result, all sharing the escaping and
table helpers above them; split apart, each file would be a few lines and an import block.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

_MARK = re.compile(r"(<mark>|</mark>)")


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def clip(value: Any, width: int = 48) -> str:
    text = " ".join(("" if value is None else str(value)).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def snippet_html(snippet: str) -> str:
    """The server's snippet (escaped text with <mark>…</mark>) re-escaped so that only <mark>
    survives, whatever the server sent."""
    out, inside = [], False
    for part in _MARK.split(snippet):
        if part == "<mark>":
            inside = True
            out.append("<mark>")
        elif part == "</mark>":
            if inside:
                out.append("</mark>")
            inside = False
        else:
            out.append(html.escape(html.unescape(part)))
    if inside:
        out.append("</mark>")
    return "".join(out)


def snippet_text(snippet: str) -> str:
    return html.unescape(_MARK.sub("", snippet))


class Result:
    """Base: ``_repr_html_`` for notebooks, ``__repr__`` for everything else."""

    def _repr_html_(self) -> str:
        return f"<pre>{esc(self.text())}</pre>"

    def text(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.text()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text())


class Note(Result):
    """A one-line confirmation."""

    def __init__(self, message: str, **data: Any) -> None:
        self.message = message
        self.data = data

    def text(self) -> str:
        return self.message

    def _repr_html_(self) -> str:
        return f"<span>{esc(self.message)}</span>"


class HelpText(Result):
    def __init__(self, help_text: str) -> None:
        self.help_text = help_text

    def text(self) -> str:
        return self.help_text


def _text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = [list(headers), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _html_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], raw: Sequence[str] | None = None
) -> str:
    """``raw``: per row, optional already-safe HTML shown in a full-width row below it."""
    head = "".join(f"<th style='text-align:left'>{esc(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        tds = "".join(f"<td style='text-align:left'>{esc(c)}</td>" for c in row)
        body.append(f"<tr>{tds}</tr>")
        if raw is not None and raw[i]:
            body.append(
                f"<tr><td></td><td colspan='{len(headers) - 1}' "
                f"style='text-align:left'><small>{raw[i]}</small></td></tr>"
            )
    return (
        f"<table class='jupyter-spaces'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def pane_command(pane: dict[str, Any]) -> str:
    if pane.get("agent"):
        return f"{pane['agent']} agent" + (
            f" {pane['session_id']}" if pane.get("session_id") else ""
        )
    argv = pane.get("argv") or []
    return " ".join(argv) if argv else "(login shell)"


def pane_state(pane: dict[str, Any]) -> str:
    """``running``, ``exited (3)``; for an agent pane also what the agent does:
    ``running, needs input``."""
    state = str(pane.get("state") or "?")
    if state == "exited" and pane.get("exit_code") is not None:
        return f"exited ({pane['exit_code']})"
    agent = pane.get("agent_state")
    if state == "running" and isinstance(agent, str):
        return f"running, {agent.replace('_', ' ')}"
    return state


# Programs that are "just the shell": a shell pane running one of these is at its prompt.
SHELLS = frozenset(
    [
        "bash",
        "sh",
        "zsh",
        "fish",
        "dash",
        "ksh",
        "tcsh",
        "csh",
        "ash",
        "mksh",
        "nu",
        "elvish",
        "xonsh",
        "pwsh",
        "login",
    ]
)


def is_shell_program(program: object) -> bool:
    if not program:
        return True
    return str(program).lstrip("-").rsplit("/", 1)[-1] in SHELLS


def display_title(pane: dict[str, Any]) -> str:
    """The name the front end shows for a pane (labextension/src/paneident.ts): the title someone
    chose; else, for a running shell, the program in its foreground unless that is the shell (so
    four shells running top, vim, a server and nothing read top, vim, python3, shell); else the
    default title."""
    title = str(pane.get("title") or "")
    kind = str(pane.get("kind") or "")
    defaults = {"", kind, str(pane.get("agent") or "")}
    if title not in defaults:
        return title
    fg = pane.get("foreground")
    if kind == "shell" and pane.get("state") == "running" and not is_shell_program(fg):
        return str(fg)
    return title or kind


PANE_HEADERS = ("Pane", "Title", "Kind", "State", "Command", "Folder")


def pane_row(pane: dict[str, Any]) -> list[str]:
    return [
        str(pane.get("id", "")),
        clip(display_title(pane), 30),
        str(pane.get("kind", "")),
        pane_state(pane),
        clip(pane_command(pane), 40),
        clip(pane.get("cwd"), 30),
    ]


class SpaceList(Result):
    def __init__(self, spaces: list[dict[str, Any]]) -> None:
        self.spaces = spaces

    HEADERS = ("Space", "Name", "Folder", "Panes", "Needs you", "Status")

    def rows(self) -> list[list[str]]:
        out = []
        for s in self.spaces:
            panes = s.get("panes") or []
            running = sum(1 for p in panes if p.get("state") == "running")
            out.append(
                [
                    str(s.get("id", "")),
                    clip(s.get("name"), 30),
                    clip(s.get("path") or "(root)", 40),
                    f"{running} running / {len(panes)}",
                    str(s.get("needs_input") or "") or "-",
                    str(s.get("status", "")),
                ]
            )
        return out

    def text(self) -> str:
        if not self.spaces:
            return "no spaces yet; create one with %spaces new PATH"
        return _text_table(self.HEADERS, self.rows())

    def _repr_html_(self) -> str:
        if not self.spaces:
            return f"<span>{esc(self.text())}</span>"
        return _html_table(self.HEADERS, self.rows())


class SpaceView(Result):
    def __init__(self, space: dict[str, Any], note: str = "") -> None:
        self.space = space
        self.note = note

    @property
    def panes(self) -> list[dict[str, Any]]:
        return list(self.space.get("panes") or [])

    def title(self) -> str:
        s = self.space
        head = f"space {s.get('name')} ({s.get('id')}) in {s.get('path') or '(root)'}"
        if s.get("status") not in (None, "ok"):
            head += f" [{s.get('status')}: {s.get('message') or ''}]"
        return head

    def text(self) -> str:
        parts = [self.note] if self.note else []
        parts.append(self.title())
        if self.panes:
            parts.append(_text_table(PANE_HEADERS, [pane_row(p) for p in self.panes]))
        else:
            parts.append("no panes; start one with %spaces run SPACE [-- ARGV...]")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        note = f"<div>{esc(self.note)}</div>" if self.note else ""
        body = (
            _html_table(PANE_HEADERS, [pane_row(p) for p in self.panes])
            if self.panes
            else "<div>no panes</div>"
        )
        return f"{note}<div><b>{esc(self.title())}</b></div>{body}"


class PaneView(Result):
    def __init__(self, pane: dict[str, Any], note: str = "") -> None:
        self.pane = pane
        self.note = note

    @property
    def id(self) -> str:
        return str(self.pane.get("id"))

    @property
    def space_id(self) -> str:
        return str(self.pane.get("space_id"))

    def text(self) -> str:
        table = _text_table(PANE_HEADERS, [pane_row(self.pane)])
        return f"{self.note}\n{table}" if self.note else table

    def _repr_html_(self) -> str:
        note = f"<div>{esc(self.note)}</div>" if self.note else ""
        return note + _html_table(PANE_HEADERS, [pane_row(self.pane)])


class Screen(Result):
    def __init__(self, pane: dict[str, Any], lines: list[str]) -> None:
        self.pane = pane
        self.lines = lines

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def title(self) -> str:
        p = self.pane
        return f"pane {p.get('title') or p.get('id')} ({p.get('id')}), {pane_state(p)}"

    def text(self) -> str:
        return f"{self.title()}\n{self.output}"

    def _repr_html_(self) -> str:
        return (
            f"<div><small>{esc(self.title())}</small></div>"
            f"<pre style='margin:0'>{esc(self.output)}</pre>"
        )


SESSION_HEADERS = ("Agent", "Session", "Title", "Folder", "Last activity", "Msgs", "State")


def session_title(s: dict[str, Any]) -> str:
    return str(s.get("title") or s.get("first_prompt") or "")


def session_state(s: dict[str, Any]) -> str:
    if s.get("gone"):
        return "deleted"
    if not s.get("resumable", True):
        return "not resumable"
    return "resumable"


def session_row(s: dict[str, Any]) -> list[str]:
    return [
        str(s.get("agent", "")),
        str(s.get("id", ""))[:8],
        clip(session_title(s), 50),
        clip(s.get("path") if s.get("path") is not None else s.get("cwd"), 30),
        str(s.get("last_activity") or "")[:16].replace("T", " "),
        str(s.get("message_count", "")),
        session_state(s),
    ]


class SessionList(Result):
    def __init__(self, sessions: list[dict[str, Any]], query: str = "", indexing: bool = False):
        self.sessions = sessions
        self.query = query
        self.indexing = indexing

    def footer(self) -> str:
        notes = []
        if self.indexing:
            notes.append("the server is still indexing agent sessions; results may be partial")
        if self.sessions:
            notes.append("resume one with %spaces resume AGENT:ID (or a unique ID prefix)")
        return "; ".join(notes)

    def text(self) -> str:
        if not self.sessions:
            what = f" matching {self.query!r}" if self.query else ""
            out = f"no agent sessions{what}"
        else:
            rows = []
            for s in self.sessions:
                rows.append(session_row(s))
            out = _text_table(SESSION_HEADERS, rows)
            if self.query:
                out += "\n" + "\n".join(
                    f"  {str(s.get('id'))[:8]}: {clip(snippet_text(s['snippet']), 90)}"
                    for s in self.sessions
                    if s.get("snippet")
                )
        foot = self.footer()
        return f"{out}\n{foot}" if foot else out

    def _repr_html_(self) -> str:
        if not self.sessions:
            return f"<span>{esc(self.text())}</span>"
        raw = [snippet_html(s["snippet"]) if s.get("snippet") else "" for s in self.sessions]
        table = _html_table(SESSION_HEADERS, [session_row(s) for s in self.sessions], raw)
        foot = self.footer()
        return table + (f"<div><small>{esc(foot)}</small></div>" if foot else "")


class OpenLink(Result):
    """A button that runs JupyterLab's ``jupyter-spaces:open`` command (through JupyterLab's
    command linker, which acts on clicks on ``data-commandlinker-*`` elements)."""

    COMMAND = "jupyter-spaces:open"

    def __init__(self, space: dict[str, Any]) -> None:
        self.space = space

    def text(self) -> str:
        s = self.space
        return (
            f"space {s.get('name')} ({s.get('id')}) in {s.get('path') or '(root)'}: open it "
            "from the Spaces panel in JupyterLab's left sidebar"
        )

    def _repr_html_(self) -> str:
        import json

        s = self.space
        args = esc(json.dumps({"spaceId": s.get("id")}))
        return (
            f"<button class='jp-Button jp-mod-styled jp-mod-accept' "
            f"data-commandlinker-command='{self.COMMAND}' data-commandlinker-args='{args}'>"
            f"Open space {esc(s.get('name'))}</button> "
            f"<small>{esc(s.get('path') or '(root)')} — if the button does nothing (an output "
            "reopened from disk is not trusted), use the Spaces panel in the left sidebar</small>"
        )


SNAPSHOT_HEADERS = (
    "Snapshot",
    "Name",
    "Taken",
    "Reason",
    "Pinned",
    "Panes",
    "Conversations",
    "Size",
    "Own disk",
    "Status",
)


def size_text(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def snapshot_row(s: dict[str, Any]) -> list[str]:
    panes = s.get("panes") or []
    missing = len(s.get("missing_transcripts") or [])
    copied = sum(1 for p in panes if p.get("transcript"))
    status = str(s.get("status") or "ok")
    if status == "ok" and missing:
        status = f"{missing} transcript(s) missing"
    return [
        str(s.get("id", "")),
        clip(s.get("name"), 30),
        str(s.get("created") or "")[:19].replace("T", " "),
        str(s.get("reason") or ""),
        "yes" if s.get("pinned") else "",
        str(len(panes)) if "panes" in s else "",
        str(copied) if "panes" in s else "",
        size_text(int(s.get("bytes") or 0)) if "bytes" in s else "",
        size_text(int(s["unique_bytes"])) if "unique_bytes" in s else "",
        status if status != "ok" else "ok",
    ]


class SnapshotList(Result):
    """A space's snapshots, newest first."""

    def __init__(
        self,
        snapshots: list[dict[str, Any]],
        space: dict[str, Any],
        disk: dict[str, Any] | None = None,
    ) -> None:
        self.snapshots = snapshots
        self.space = space
        self.disk = disk or {}

    def title(self) -> str:
        s = self.space
        return f"snapshots of space {s.get('name')} ({s.get('id')})"

    def disk_text(self) -> str:
        d = self.disk
        if "bytes" not in d:
            return ""
        return (
            f"{d.get('snapshots', len(self.snapshots))} snapshot(s) take "
            f"{size_text(int(d['bytes']))} on disk "
            f"({size_text(int(d.get('logical_bytes') or 0))} as whole copies)"
        )

    def text(self) -> str:
        if not self.snapshots:
            return f"no snapshots of space {self.space.get('name')} yet (%spaces snapshot SPACE)"
        table = _text_table(SNAPSHOT_HEADERS, [snapshot_row(s) for s in self.snapshots])
        disk = self.disk_text()
        return f"{self.title()}\n{table}" + (f"\n{disk}" if disk else "")

    def _repr_html_(self) -> str:
        if not self.snapshots:
            return f"<span>{esc(self.text())}</span>"
        table = _html_table(SNAPSHOT_HEADERS, [snapshot_row(s) for s in self.snapshots])
        disk = self.disk_text()
        foot = f"<div><small>{esc(disk)}</small></div>" if disk else ""
        return f"<div><b>{esc(self.title())}</b></div>{table}{foot}"


class SnapshotView(Result):
    """One snapshot, with a note (what was done)."""

    def __init__(self, snapshot: dict[str, Any], note: str = "") -> None:
        self.snapshot = snapshot
        self.note = note

    @property
    def id(self) -> str:
        return str(self.snapshot.get("id"))

    def text(self) -> str:
        table = _text_table(SNAPSHOT_HEADERS, [snapshot_row(self.snapshot)])
        return f"{self.note}\n{table}" if self.note else table

    def _repr_html_(self) -> str:
        note = f"<div>{esc(self.note)}</div>" if self.note else ""
        return note + _html_table(SNAPSHOT_HEADERS, [snapshot_row(self.snapshot)])
