"""What the server says to tmux: the names of its sessions, the commands that type text into
a pane, quoting for the control-mode channel, and the program that starts a pane's argv.

Pure functions (no tmux is run here), so each is tested on its own (tests/test_tmux_commands.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

SESSION_PREFIX = "jsp"


def session_name(space_id: str, pane_id: str) -> str:
    return f"{SESSION_PREFIX}_{space_id}_{pane_id}"


def parse_session_name(name: str) -> tuple[str, str] | None:
    """(space id, pane id) for a session this extension made, else None."""
    m = re.fullmatch(rf"{SESSION_PREFIX}_([a-z0-9]+)_([a-z0-9]+)", name)
    return (m.group(1), m.group(2)) if m else None


def send_keys_commands(target: str, text: str, chunk: int = 4096) -> list[list[str]]:
    """tmux commands (argv lists) that type ``text`` into ``target`` byte for byte.

    Runs of plain text go as ``send-keys -l``; control bytes and quotes go as ``send-keys -H``
    (raw bytes in hex), so nothing is interpreted as a key name and quoting stays trivial.
    """
    commands: list[list[str]] = []
    for is_plain, run in _runs(text):
        if is_plain:
            for i in range(0, len(run), chunk):
                commands.append(["send-keys", "-t", target, "-l", "--", run[i : i + chunk]])
        else:
            data = run.encode("utf-8")
            for i in range(0, len(data), chunk):
                hexes = [f"{b:02x}" for b in data[i : i + chunk]]
                commands.append(["send-keys", "-t", target, "-H", *hexes])
    return commands


def _plain(ch: str) -> bool:
    # ';' and '\\' are excluded because tmux treats a trailing ';' in an argument as a separator.
    return ch >= " " and ch not in "\x7f'\\;"


def _runs(text: str) -> Iterable[tuple[bool, str]]:
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or _plain(text[i]) != _plain(text[start]):
            yield _plain(text[start]), text[start:i]
            start = i


def quote(arg: str) -> str:
    """Quote one argument for a tmux command line (used on the control-mode channel)."""
    # Not '%' (a word starting with it is a directive such as %if), '#', '~', '$', '{', ';'.
    if arg and re.fullmatch(r"[A-Za-z0-9_@.:=/+,-]+", arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


def command_line(commands: Sequence[Sequence[str]]) -> str:
    """Several tmux commands as one control-mode line; tmux runs them without reading panes
    in between, which is what makes a capture consistent with the output stream."""
    return " ; ".join(" ".join(quote(a) for a in cmd) for cmd in commands)


# tmux reads its own command line before it starts anything: an argument that ends in ";" ends
# a tmux command there (``["echo", "done;", "run-shell", "…"]`` would run ``run-shell``), and
# ``-e``/``-c`` values go through the same parser. So no string of the user's is ever a whole
# tmux argument: each is given with one extra character that this small sh program strips
# again; it enters the directory, exports the variables (PATH too, which ``-e`` would not
# apply to the lookup) and execs the argv, which no shell parses.
_SENTINEL = "."
# A program that cannot start says why, with the exit status, on the pane's first line.
_SPAWN = r"""fail() {
  printf '[jupyter-spaces] cannot start %s: %s (exit status %s)\r\n' "$1" "$2" "$3"; exit "$3"
}
cd -- "${1%.}" 2>/dev/null || fail "in ${1%.}" "no such folder, or no permission" 126
shift; n=${1%.}; shift
while [ "$n" -gt 0 ]; do export "${1%.}" || exit 126; shift; n=$((n - 1)); done
for a do set -- "$@" "${a%.}"; shift; done
case $1 in
  */*) if [ ! -e "$1" ]; then fail "$1" "no such file" 127
       elif [ -d "$1" ] || [ ! -x "$1" ]; then fail "$1" "not an executable file" 126; fi ;;
  *) command -v -- "$1" >/dev/null 2>&1 || fail "$1" "command not found on PATH" 127 ;;
esac
exec "$@"
"""


def spawn_command(argv: Sequence[str], cwd: str, env: dict[str, str]) -> list[str]:
    """The tmux arguments that run ``argv`` in ``cwd`` with ``env`` added, every byte kept."""
    if not argv:
        raise ValueError("argv must not be empty")
    words = [cwd, str(len(env)), *(f"{k}={v}" for k, v in env.items()), *argv]
    return ["/bin/sh", "-c", _SPAWN, "jupyter-spaces", *(w + _SENTINEL for w in words)]
