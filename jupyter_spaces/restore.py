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
import re
import shlex
import stat
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from .safefs import read_nofollow, state_subdir
from .store import STATE_DIR, atomic_write_text

SCREENS_DIR = "screens"
# C0 controls but tab and newline, DEL, and the C1 controls (U+0080-U+009F, which xterm.js
# reads as 8-bit escapes such as CSI): none can reach the terminal from a captured screen.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# The printed file is the server's private, printable copy of the capture: removed once shown.
_SHELL = r"""printed=$1; notice=$2; shift 2
if [ -n "$printed" ]; then cat -- "$printed"; rm -f -- "$printed"; fi
[ -n "$notice" ] && printf '\r\n\033[2m[jupyter-spaces] %s\033[0m\r\n' "$notice"
exec "$@"
"""
_WAIT = r"""notice=$1; shown=$2; shift 2
[ -n "$notice" ] && printf '\033[2m[jupyter-spaces] %s\033[0m\r\n' "$notice"
printf 'Press Enter to run: %s\r\n' "$shown"
read -r _ || exit 0
exec "$@"
"""


def capture_file(space_dir: Path, pane_id: str) -> Path:
    return space_dir / STATE_DIR / SCREENS_DIR / f"{pane_id}.txt"


def captured_at(space_dir: Path, pane_id: str) -> float | None:
    """When the pane last had output, as of its capture; None if it was never captured (or the
    capture is no regular file)."""
    try:
        st = capture_file(space_dir, pane_id).lstat()
    except OSError:
        return None
    return st.st_mtime if stat.S_ISREG(st.st_mode) else None


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
    """Save a pane's text (atomically); returns the bytes written (0 if nothing to keep).
    UnsafePath if the state folder or ``screens`` is a link."""
    text = trim(text, max_bytes)
    if not text.strip():
        return 0
    path = state_subdir(space_dir, SCREENS_DIR, create=True) / f"{pane_id}.txt"
    atomic_write_text(path, text)
    os.utime(path, (activity, activity), follow_symlinks=False)
    return len(text.encode("utf-8"))


def forget_capture(space_dir: Path, pane_id: str) -> None:
    with contextlib.suppress(OSError):
        (state_subdir(space_dir, SCREENS_DIR) / f"{pane_id}.txt").unlink()


def printable(data: bytes) -> str:
    """``data`` as text a terminal shows and never interprets (invalid UTF-8 replaced)."""
    return _CONTROLS.sub("", data.decode("utf-8", "replace"))


def printable_copy(space_dir: Path, pane_id: str, dest: Path, max_bytes: int) -> Path | None:
    """Write the capture of a pane, made printable (see ``printable``), to ``dest``, a
    private file; None when there is no capture to show."""
    try:
        data = read_nofollow(state_subdir(space_dir, SCREENS_DIR) / f"{pane_id}.txt", max_bytes)
    except OSError:
        return None
    text = printable(data)
    if not text.strip():
        return None
    dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return dest


def when_text(t: float | None) -> str:
    if t is None:
        return "an earlier session"
    return datetime.fromtimestamp(t).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def restored_shell(argv: Sequence[str], printed: Path | None, notice: str) -> list[str]:
    """Show the old text (a printable copy, removed once shown) and a notice, then run the
    shell."""
    return ["/bin/sh", "-c", _SHELL, "sh", str(printed or ""), notice, *argv]


def waiting_command(argv: Sequence[str], notice: str) -> list[str]:
    """Show the command and run it only after Enter (the argv is shown, never parsed)."""
    return ["/bin/sh", "-c", _WAIT, "sh", notice, shlex.join(argv), *argv]
