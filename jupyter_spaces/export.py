"""An agent session as a readable notebook (``jupyter spaces export``, ``%spaces export``).

``session_notebook(session, messages)`` is a pure function: ``session`` is the Session JSON of the
REST API (``Session.to_json()``; ``Session.to_dict()`` with POSIX times works too) and
``messages`` the session's messages in order, as dicts ``{role, kind, text, time}`` (what
``GET /api/spaces/sessions/{agent}/{id}/messages`` pages through). It returns an nbformat v4
notebook; write it with ``nbformat.write``.

Cell mapping:

- a title Markdown cell: agent, session id, folder, git branch, start and last activity, models,
  message count, a token table and the command that resumes the session;
- ``user`` → Markdown cell headed **User**, the prompt quoted; ``assistant`` → Markdown cell headed
  **Assistant**, the reply as written (both are Markdown the agent or the user wrote);
- ``tool_call`` → code cell whose source is ``→ name: brief arguments``; the ``tool_result``\\ s
  that follow become its outputs (stdout streams). Results are paired with calls first-in,
  first-out, as the CLIs record parallel calls and then their results in order; a result with no
  open call becomes a code cell of its own (``→ (tool call not recorded)``);
- ``summary`` (compaction summary), ``harness`` (slash-command echoes, local command output) and
  ``info`` (CLI notices and errors) → small Markdown cells labelled as such, kept rather than
  dropped so the notebook shows everything the transcript index holds; harness markup is shown
  in a code block so its tags stay visible.

The notebook has no kernelspec and plain-text ``language_info``: it is a record, not a program.
Code cells are never executed (``execution_count`` None), and their source starts with ``→``, a
character no Python or IPython input accepts, so running one by accident is a syntax error
instead of re-running what the agent ran. Tool texts are truncated by the index (about 1000
characters); a truncated output says so.

Notebook metadata ``metadata["jupyter_spaces"]`` = ``{agent, session_id, cwd, models, tokens,
started, last_activity, title, exported_at, git_branch, message_count}`` (times ISO-8601 UTC);
each cell's ``metadata["jupyter_spaces"]`` holds its ``kind`` and ``time``. Cell ids are
deterministic, so exporting the same session twice gives the same cells.
"""

from __future__ import annotations

import re
import shlex
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import nbformat
from nbformat import v4

from .agents.model import TOOL_TEXT_CAP, epoch_to_iso, iso_to_epoch

AGENT_LABELS = {"claude": "Claude Code", "codex": "Codex CLI", "gemini": "Gemini CLI"}
# Not valid at the start of Python/IPython input, and not an IPython prefix (! % ?), so a code
# cell run by accident fails to compile as a whole.
CALL_MARK = "→"
# C0 controls other than tab, newline, carriage return and escape (ANSI colours render in
# outputs) only garble a notebook.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]")
_TOKEN_COLUMNS = (
    ("input", "input"),
    ("cache_read", "cache read"),
    ("cache_creation", "cache write"),
    ("output", "output"),
    ("reasoning", "of which reasoning"),
    ("total", "total"),
)


def session_notebook(
    session: Mapping[str, Any],
    messages: Sequence[Mapping[str, Any]],
    *,
    exported_at: datetime | None = None,
) -> nbformat.NotebookNode:
    """The notebook of one agent session; see the module docstring for the mapping.

    ``session``: Session JSON (``agent`` and ``id`` required, every other field optional).
    ``messages``: all of the session's messages in transcript order, each ``{role, kind, text,
    time}``. ``exported_at`` (default: now) is recorded in the metadata.
    """
    agent = str(session.get("agent") or "")
    sid = str(session.get("id") or "")
    exported = (exported_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    started = _iso(session.get("started"))
    last = _iso(session.get("last_activity"))
    tokens = {k: _int(v) for k, v in (session.get("tokens") or {}).items()}
    models = [str(m) for m in session.get("models") or []]
    title = session.get("title") or session.get("first_prompt") or None

    nb = v4.new_notebook()
    nb.metadata["language_info"] = {"name": "text", "mimetype": "text/plain"}
    if title:
        nb.metadata["title"] = str(title)
    nb.metadata["jupyter_spaces"] = {
        "agent": agent,
        "session_id": sid,
        "cwd": session.get("cwd"),
        "models": models,
        "tokens": tokens,
        "started": started,
        "last_activity": last,
        "title": title,
        "exported_at": exported.isoformat(timespec="seconds"),
        "git_branch": session.get("git_branch"),
        "message_count": _int(session.get("message_count")),
    }
    cells: list[nbformat.NotebookNode] = [_title_cell(session, title, started, last, tokens)]
    cells[0].id = "title"

    # Code cells of tool calls still waiting for their result, oldest first.
    open_calls: deque[nbformat.NotebookNode] = deque()
    for n, m in enumerate(messages, 1):
        kind = str(m.get("kind") or "")
        text = _CONTROL.sub("", str(m.get("text") or ""))
        time = m.get("time") if isinstance(m.get("time"), str) else None
        if kind == "tool_result":
            if not text:
                if open_calls:
                    open_calls.popleft()
                continue
            if open_calls:
                open_calls.popleft().outputs.append(_stream(text))
                continue
            cell = v4.new_code_cell(f"{CALL_MARK} (tool call not recorded)")
            cell.outputs.append(_stream(text))
        elif not text.strip():
            continue
        elif kind == "tool_call":
            cell = v4.new_code_cell(f"{CALL_MARK} {text}")
            open_calls.append(cell)
        else:
            if kind == "user":
                # A new prompt: calls still open were interrupted and will get no result.
                open_calls.clear()
            cell = v4.new_markdown_cell(_markdown(kind, text, time))
        cell.id = f"{n:05d}-{kind or 'message'}"[:64]
        cell.metadata["jupyter_spaces"] = {"kind": kind, "time": time}
        cells.append(cell)
    nb.cells = cells
    return nb


def notebook_filename(agent: str, session_id: str) -> str:
    """Default file name: ``<agent>-<first 8 characters of the id>.ipynb``."""
    short = re.sub(r"[^A-Za-z0-9_-]", "", session_id)[:8] or "session"
    return f"{agent}-{short}.ipynb"


# -- cells --------------------------------------------------------------------------------------


def _title_cell(
    session: Mapping[str, Any],
    title: Any,
    started: str | None,
    last: str | None,
    tokens: Mapping[str, int],
) -> nbformat.NotebookNode:
    agent = str(session.get("agent") or "")
    label = AGENT_LABELS.get(agent, agent or "Agent")
    heading = _escape(_one_line(str(title))) if title else f"{label} session"
    rows = [
        ("Agent", f"{label} (`{agent}`)" if agent in AGENT_LABELS else _escape(agent)),
        ("Session", _code(str(session.get("id") or ""))),
    ]
    if session.get("cwd"):
        rows.append(("Folder", _code(str(session["cwd"]))))
    if session.get("git_branch"):
        rows.append(("Git branch", _code(str(session["git_branch"]))))
    rows.append(("Started", _display_time(started) or "unknown"))
    rows.append(("Last activity", _display_time(last) or "unknown"))
    models = [str(m) for m in session.get("models") or []]
    if models:
        rows.append(("Models", ", ".join(_code(m) for m in models)))
    if session.get("message_count") is not None:
        rows.append(("Messages", f"{_int(session.get('message_count')):,}"))
    if session.get("is_subagent"):
        parent = session.get("parent_id")
        rows.append(("Sub-agent of", _code(str(parent)) if parent else "another session"))
    if session.get("gone"):
        rows.append(("Transcript", "deleted by the CLI; exported from the index"))
    lines = [f"# {heading}", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {_cell_text(v)} |" for k, v in rows]
    lines += [
        "",
        "**Tokens**",
        "",
        "| " + " | ".join(h for _, h in _TOKEN_COLUMNS) + " |",
        "|" + "---:|" * len(_TOKEN_COLUMNS),
        "| " + " | ".join(f"{tokens.get(k, 0):,}" for k, _ in _TOKEN_COLUMNS) + " |",
    ]
    argv = session.get("resume_argv")
    if session.get("resumable") and isinstance(argv, list) and argv:
        command = shlex.join(str(a) for a in argv)
        cwd = session.get("resume_cwd") or session.get("cwd")
        if cwd:
            command = f"cd {shlex.quote(str(cwd))} && {command}"
        lines += ["", "Resume it in a terminal:", "", _fence(command, "sh")]
    lines += ["", "*Exported by jupyter-spaces. Tool calls are shown, never run.*"]
    cell = v4.new_markdown_cell("\n".join(lines))
    cell.metadata["jupyter_spaces"] = {"kind": "title"}
    return cell


_LABELS = {
    "user": "**User**",
    "assistant": "**Assistant**",
    "summary": "*Conversation summary, written by the model when it compacted the context*",
    "harness": "*CLI*",
    "info": "*Notice*",
}


def _markdown(kind: str, text: str, time: str | None) -> str:
    when = _display_time(time)
    label = _LABELS.get(kind) or f"*{_escape(kind or 'message')}*"
    head = f"{label} · {when}" if when else label
    if kind == "assistant":
        body = text
    elif kind == "harness":
        body = _fence(text)  # CLI markup such as <command-name>: show the tags, don't render
    else:
        body = _quote(text)
    return f"{head}\n\n{body}"


def _stream(text: str) -> nbformat.NotebookNode:
    if len(text) >= TOOL_TEXT_CAP:
        text += f"\n… (shortened to {TOOL_TEXT_CAP} characters in the session index)"
    if not text.endswith("\n"):
        text += "\n"
    return v4.new_output("stream", name="stdout", text=text)


# -- text helpers -------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def _fence(text: str, info: str = "") -> str:
    # A fence longer than any backtick run inside, so the text cannot close it.
    longest = max((len(r) for r in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text}\n{ticks}"


def _code(text: str) -> str:
    """Inline code span that holds any text (CommonMark: a longer backtick fence)."""
    text = _one_line(text)
    longest = max((len(r) for r in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _escape(text: str) -> str:
    """Markdown-literal text: metadata values are shown as written, never as markup."""
    return re.sub(r"([\\`*_\[\]<>|~&])", r"\\\1", text)


def _cell_text(text: str) -> str:
    # A pipe, even inside a code span, ends a GFM table cell.
    return text.replace("|", "\\|")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _iso(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return epoch_to_iso(float(value))
    return value if isinstance(value, str) and value else None


def _display_time(value: str | None) -> str | None:
    if not value:
        return None
    epoch = iso_to_epoch(value)
    if epoch is None:
        return _escape(value)
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0
