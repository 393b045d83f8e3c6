"""Screen captures, and the commands that bring panes back after the machine restarted.

Captures are plain text (no escape sequences: a file that came with a clone cannot drive the
terminal), the last ``max_bytes`` of the screen and its history, one file per pane in the space's
git-ignored ``.jupyter-spaces/screens/``. The file's modification time is the pane's last output
time as tmux reported it, so an unchanged pane is never captured twice, across server restarts too.

Restored panes, as zellij and VS Code do it: a shell starts fresh below its old text and a dim
"restored from <time>" line; a command pane shows its command and waits for Enter (unless the
user asked for it to restart by itself); agents resume their conversation (see agent_panes).
"""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from .store import STATE_DIR, atomic_write_text

SCREENS_DIR = "screens"

_SHELL = r"""capture=$1; when=$2; shift 2
[ -f "$capture" ] && cat -- "$capture"
printf '\r\n\033[2m[jupyter-spaces] restored from %s\033[0m\r\n' "$when"
exec "$@"
"""
_WAIT = r"""when=$1; shown=$2; shift 2
printf '\033[2m[jupyter-spaces] restored from %s\033[0m\r\n' "$when"
printf 'Press Enter to run: %s\r\n' "$shown"
read -r _ || exit 0
exec "$@"
"""


def capture_file(space_dir: Path, pane_id: str) -> Path:
    return space_dir / STATE_DIR / SCREENS_DIR / f"{pane_id}.txt"


def captured_at(space_dir: Path, pane_id: str) -> float | None:
    """When the pane last had output, as of its capture; None if it was never captured."""
    try:
        return capture_file(space_dir, pane_id).stat().st_mtime
    except OSError:
        return None


def trim(text: str, max_bytes: int) -> str:
    """The end of ``text`` in at most ``max_bytes`` UTF-8 bytes, starting at a whole line, with
    the blank lines under the last output dropped."""
    text = text.rstrip("\n") + "\n"
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    tail = data[-max_bytes:]
    cut = tail.find(b"\n")
    return tail[cut + 1 :].decode("utf-8", "ignore") if cut >= 0 else ""


def write_capture(space_dir: Path, pane_id: str, text: str, activity: float, max_bytes: int) -> int:
    """Save a pane's text (atomically); returns the bytes written (0 if nothing to keep)."""
    text = trim(text, max_bytes)
    if not text.strip():
        return 0
    path = capture_file(space_dir, pane_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    os.utime(path, (activity, activity))
    return len(text.encode("utf-8"))


def forget_capture(space_dir: Path, pane_id: str) -> None:
    with contextlib.suppress(OSError):
        capture_file(space_dir, pane_id).unlink()


def when_text(t: float | None) -> str:
    if t is None:
        return "an earlier session"
    return datetime.fromtimestamp(t).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def restored_shell(argv: Sequence[str], capture: Path, when: str) -> list[str]:
    """Show the old text and a "restored from" line, then run the shell."""
    return ["/bin/sh", "-c", _SHELL, "sh", str(capture), when, *argv]


def waiting_command(argv: Sequence[str], when: str) -> list[str]:
    """Show the command and run it only after Enter (the argv is shown, never parsed)."""
    return ["/bin/sh", "-c", _WAIT, "sh", when, shlex.join(argv), *argv]
