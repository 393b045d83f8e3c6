"""Turn tmux's view of a pane into bytes that redraw it exactly in a fresh terminal.

Replaying old output garbles full-screen programs, so a (re)connecting client instead gets the
pane's *state*: history lines (as text with colours), the normal screen, the alternate screen if
one is active, the terminal modes, the cursor, and any half-received escape sequence. The order
follows what iTerm2 does when it reattaches to tmux.

Modes tmux cannot report. ``display-message`` formats cover cursor keys, keypad, insert, origin,
wrap, the mouse modes, the scroll region and the alternate screen, but not every DEC private
mode a reconnecting terminal must be put back into. ``ModeTracker`` follows these from the
pane's output stream (``CSI ? Pn;Pn h/l``, even split across chunks); the stream keeps them in
a pane user option (``@jsp-modes``) so they outlive a jupyter-server restart, and ``render``
replays them:

- 2004, bracketed paste: without it a multi-line paste runs line by line in a shell, and an
  agent TUI takes it as several prompts. tmux keeps it (MODE_BRACKETPASTE) with no format; an
  attached tty client is told, so ``TmuxServer.bracketed_paste`` asks tmux itself whenever a
  stream starts. That covers output nobody watched (a pane started from a notebook, the time
  between a server restart and the reconnect).
- 1004, focus events: tmux keeps it (MODE_FOCUSON) with no format; a program that asked for
  focus in/out reports would never get them.
- 5, reverse video (DECSCNM); 9, X10 mouse; 66, application keypad (DECNKM); 1016, SGR-pixel
  mouse: tmux ignores them, but the program's bytes reach the browser unchanged, so the
  browser's terminal honoured them and a new one must too.

Only the stream sees the modes in the last list and 1004, so a program that changes them
while no client watches its pane is not followed until it changes them again (a documented
limit). Left out on purpose: 2026 (synchronised output) is transient, and replaying an
unfinished one would freeze the client; 12 (cursor blink) is cosmetic; the rest are formats.
RIS (``ESC c``) and DECSTR (``CSI ! p``) clear the tracked modes, as they do in tmux.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .control import Reply

# Numbers first, the title last (it may contain spaces).
_FIELDS = [
    "pane_width",
    "pane_height",
    "cursor_x",
    "cursor_y",
    "cursor_flag",
    "alternate_on",
    "keypad_cursor_flag",
    "keypad_flag",
    "insert_flag",
    "origin_flag",
    "wrap_flag",
    "mouse_standard_flag",
    "mouse_button_flag",
    "mouse_any_flag",
    "mouse_sgr_flag",
    "mouse_utf8_flag",
    "scroll_region_upper",
    "scroll_region_lower",
    "pane_dead",
]
STATE_FORMAT = " ".join(f"#{{{f}}}" for f in _FIELDS) + " #{pane_title}"


# DEC private modes followed from the output stream (see the module docstring for why each).
TRACKED_MODES = frozenset({5, 9, 66, 1004, 1016, 2004})
# Setting one of these replaces the tracked mode in the same terminal setting (mouse protocol,
# mouse encoding), so the tracked one is off afterwards.
_REPLACES = {1000: 9, 1002: 9, 1003: 9, 1006: 1016}
_MODE_RE = re.compile(rb"\x1b(?:\[\?([0-9;]*)([hl])|c|\[!p)")
# An escape sequence cut at the end of a chunk that may still become one of the above.
_PARTIAL_RE = re.compile(rb"\x1b(?:\[(?:\?[0-9;]*|!)?)?\Z")
_MAX_PARTIAL = 64  # a longer "partial" sequence is not one we track


class ModeTracker:
    """The tracked DEC private modes a pane's program has set, followed from its output."""

    def __init__(self, modes: Iterable[int] = ()) -> None:
        self.modes: set[int] = set(modes) & TRACKED_MODES
        self.seen: set[int] = set()  # modes the stream has set or reset since ``reset_seen``
        self._tail = b""

    @staticmethod
    def parse(value: str) -> set[int]:
        """Modes from their stored form ("1004,2004"); anything else is ignored."""
        words = (v.strip() for v in value.split(","))
        return {int(v) for v in words if v.isascii() and v.isdigit()} & TRACKED_MODES

    def serialize(self) -> str:
        return ",".join(str(m) for m in sorted(self.modes))

    def reset_seen(self) -> None:
        self.seen.clear()

    def clear(self) -> None:
        self.modes.clear()
        self.seen.update(TRACKED_MODES)

    def feed(self, data: bytes) -> bool:
        """Follow ``data``; True if the set of modes changed."""
        if self._tail:
            data, self._tail = self._tail + data, b""
        elif b"\x1b" not in data:  # the common case, and all of a `yes` flood
            return False
        before = set(self.modes)
        for m in _MODE_RE.finditer(data):
            params, final = m.group(1), m.group(2)
            if final is None:  # RIS or DECSTR: tmux resets these modes too
                self.clear()
                continue
            for p in params.split(b";"):
                if not p.isdigit():
                    continue
                mode = int(p)
                if final == b"h" and mode in _REPLACES:
                    self.modes.discard(_REPLACES[mode])
                    self.seen.add(_REPLACES[mode])
                if mode in TRACKED_MODES:
                    self.seen.add(mode)
                    if final == b"h":
                        self.modes.add(mode)
                    else:
                        self.modes.discard(mode)
        esc = data.rfind(b"\x1b", max(0, len(data) - _MAX_PARTIAL))
        if esc >= 0 and _PARTIAL_RE.match(data, esc):
            self._tail = data[esc:]
        return self.modes != before


@dataclass
class PaneState:
    cols: int
    rows: int
    cursor_x: int
    cursor_y: int
    flags: dict[str, bool]
    scroll_upper: int
    scroll_lower: int
    title: str

    @classmethod
    def parse(cls, line: str) -> PaneState:
        parts = line.split(" ", len(_FIELDS))
        values = dict(zip(_FIELDS, parts, strict=False))
        num = {k: int(v) if v.lstrip("-").isdigit() else 0 for k, v in values.items()}
        return cls(
            cols=num["pane_width"],
            rows=num["pane_height"],
            cursor_x=num["cursor_x"],
            cursor_y=num["cursor_y"],
            flags={k: num[k] == 1 for k in _FIELDS if k.endswith(("_flag", "_on", "_dead"))},
            scroll_upper=num["scroll_region_upper"],
            scroll_lower=num["scroll_region_lower"],
            title=parts[len(_FIELDS)] if len(parts) > len(_FIELDS) else "",
        )


def snapshot_commands(target: str, history: int) -> list[list[str]]:
    """The commands whose replies ``render`` needs, to be sent on one control-mode line."""
    cmds = [["display-message", "-p", "-t", target, STATE_FORMAT]]
    if history > 0:
        # -J joins wrapped lines so the browser can re-wrap history at its own width.
        cmds.append(
            ["capture-pane", "-p", "-e", "-J", "-t", target, "-S", str(-history), "-E", "-1"]
        )
    cmds += [
        # -N keeps trailing cells, which may carry a background colour (status bars).
        ["capture-pane", "-p", "-e", "-N", "-t", target],
        # The normal screen saved while a program uses the alternate screen (empty otherwise).
        ["capture-pane", "-p", "-e", "-N", "-a", "-q", "-t", target],
        # Bytes of an escape sequence tmux has begun to parse; the live stream completes it.
        ["capture-pane", "-p", "-P", "-C", "-t", target],
    ]
    return cmds


def _rows(lines: list[bytes], rows: int) -> list[str]:
    text = [line.decode("utf-8", "replace") for line in lines[:rows]]
    return text + [""] * (rows - len(text))


def _draw(rows: list[str]) -> str:
    return "".join(f"\x1b[{i + 1};1H\x1b[0m{row}" for i, row in enumerate(rows))


def render(
    replies: Sequence[Reply], full: bool, modes: Iterable[int] = ()
) -> tuple[str, PaneState]:
    """Bytes (as text) that put a terminal into the pane's state.

    ``full`` starts from a reset terminal and includes history (a new or reconnecting client);
    otherwise only the screen is redrawn (after a resize, or for a client that fell behind).
    ``modes`` are the tracked modes that are on (``ModeTracker.modes``).
    """
    on = sorted(set(modes) & TRACKED_MODES)
    state = PaneState.parse(replies[0].text())
    has_history = len(replies) == 5
    history = replies[1].lines if has_history else []
    screen, saved, pending = replies[-3], replies[-2], replies[-1]
    alt = state.flags["alternate_on"]
    normal_rows = _rows(saved.lines if alt else screen.lines, state.rows)
    out: list[str] = []
    if full:
        out.append("\x1bc")  # RIS: clear screen, scrollback and modes
        if history:
            out.append("\r\n".join("\x1b[0m" + h.decode("utf-8", "replace") for h in history))
            # Push every history line above the viewport, leaving it blank for the screen.
            out.append("\r\n" * state.rows)
    else:
        out.append("\x1b[?1049l\x1b[r\x1b[H\x1b[2J")
    out.append(_draw(normal_rows))
    if alt:
        out.append("\x1b[?1049h\x1b[H\x1b[2J")
        out.append(_draw(_rows(screen.lines, state.rows)))
    out.append("\x1b[0m")
    f = state.flags
    if state.scroll_upper > 0 or state.scroll_lower < state.rows - 1:
        out.append(f"\x1b[{state.scroll_upper + 1};{state.scroll_lower + 1}r")
    out.append("\x1b[?1h" if f["keypad_cursor_flag"] else "\x1b[?1l")
    out.append("\x1b=" if f["keypad_flag"] else "\x1b>")
    out.append("\x1b[4h" if f["insert_flag"] else "\x1b[4l")
    out.append("\x1b[?7h" if f["wrap_flag"] else "\x1b[?7l")
    if not full:
        # A client that fell behind may have missed a reset. Before tmux's mouse modes: 9l and
        # 1016l would undo them in xterm.js (one protocol, one encoding).
        out.extend(f"\x1b[?{m}l" for m in sorted(TRACKED_MODES - set(on)))
    for flag, mode in (
        ("mouse_standard_flag", 1000),
        ("mouse_button_flag", 1002),
        ("mouse_any_flag", 1003),
        ("mouse_utf8_flag", 1005),
        ("mouse_sgr_flag", 1006),
    ):
        if f[flag]:
            out.append(f"\x1b[?{mode}h")
    out.extend(f"\x1b[?{m}h" for m in on)
    if state.title:
        out.append(f"\x1b]2;{state.title}\x07")
    row, col = state.cursor_y + 1, state.cursor_x + 1
    if f["origin_flag"]:
        out.append("\x1b[?6h")  # DECOM homes the cursor; positions are then region-relative
        row -= state.scroll_upper
    out.append(f"\x1b[{row};{col}H")
    out.append("\x1b[?25h" if f["cursor_flag"] else "\x1b[?25l")
    if pending.lines:
        out.append(codecs.escape_decode(b"".join(pending.lines))[0].decode("utf-8", "replace"))
    return "".join(out), state
