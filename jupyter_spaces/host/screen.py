"""Turn tmux's view of a pane into bytes that redraw it exactly in a fresh terminal.

Replaying old output garbles full-screen programs, so a (re)connecting client instead gets the
pane's *state*: history lines (as text with colours), the normal screen, the alternate screen if
one is active, the terminal modes, the cursor, and any half-received escape sequence. The order
follows what iTerm2 does when it reattaches to tmux.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
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


def render(replies: Sequence[Reply], full: bool) -> tuple[str, PaneState]:
    """Bytes (as text) that put a terminal into the pane's state.

    ``full`` starts from a reset terminal and includes history (a new or reconnecting client);
    otherwise only the screen is redrawn (after a resize, or for a client that fell behind).
    """
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
    for flag, mode in (
        ("mouse_standard_flag", 1000),
        ("mouse_button_flag", 1002),
        ("mouse_any_flag", 1003),
        ("mouse_utf8_flag", 1005),
        ("mouse_sgr_flag", 1006),
    ):
        if f[flag]:
            out.append(f"\x1b[?{mode}h")
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
