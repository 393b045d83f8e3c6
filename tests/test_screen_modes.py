"""The DEC private modes tmux has no format for: followed from the output stream, even when a
sequence is split across chunks, and put back by the redraw."""

from __future__ import annotations

from jupyter_spaces.host.control import Reply
from jupyter_spaces.host.screen import ModeTracker, render


def feed_all(chunks: list[bytes]) -> ModeTracker:
    t = ModeTracker()
    for c in chunks:
        t.feed(c)
    return t


def test_modes_set_and_reset_in_one_sequence_or_several() -> None:
    assert feed_all([b"hi \x1b[?2004h there"]).modes == {2004}
    assert feed_all([b"\x1b[?1004;2004;25h"]).modes == {1004, 2004}
    assert feed_all([b"\x1b[?1004;2004h", b"\x1b[?2004l"]).modes == {1004}
    assert feed_all([b"\x1b[?1h\x1b[?1049h"]).modes == set(), "tmux reports these itself"


def test_a_sequence_split_anywhere_is_still_seen() -> None:
    seq = b"x\x1b[?1004;2004hy"
    for cut in range(len(seq) + 1):
        assert feed_all([seq[:cut], seq[cut:]]).modes == {1004, 2004}, cut
    # Byte by byte, too.
    assert feed_all([bytes([b]) for b in seq]).modes == {1004, 2004}


def test_resets_and_replacements() -> None:
    assert feed_all([b"\x1b[?2004h", b"\x1b", b"c"]).modes == set(), "RIS"
    assert feed_all([b"\x1b[?2004h\x1b[!p"]).modes == set(), "DECSTR"
    # One mouse protocol and one encoding at a time, as in the terminal.
    assert feed_all([b"\x1b[?9h\x1b[?1000h"]).modes == set()
    assert feed_all([b"\x1b[?1016h\x1b[?1006h"]).modes == set()


def test_feed_reports_changes_and_the_stored_form_round_trips() -> None:
    t = ModeTracker()
    assert not t.feed(b"plain output\r\n")
    assert t.feed(b"\x1b[?2004h\x1b[?1004h")
    assert not t.feed(b"\x1b[?2004h")
    assert t.serialize() == "1004,2004"
    assert ModeTracker.parse(t.serialize()) == {1004, 2004}
    assert ModeTracker.parse("2004,junk,,25") == {2004}


def snapshot_replies() -> list[Reply]:
    state = "80 24 0 0 1 0 0 0 0 0 1 0 0 0 0 0 0 23 0 title"
    return [Reply([state.encode()]), Reply([b"$ "]), Reply([]), Reply([])]


def test_render_replays_tracked_modes() -> None:
    text, _ = render(snapshot_replies(), full=True, modes={2004, 1004})
    assert text.startswith("\x1bc")
    assert "\x1b[?2004h" in text and "\x1b[?1004h" in text
    text, _ = render(snapshot_replies(), full=True)
    assert "2004" not in text
    # A redraw without a reset turns off what is off (the client may have missed the reset).
    text, _ = render(snapshot_replies(), full=False, modes={1004})
    assert "\x1b[?2004l" in text and "\x1b[?1004h" in text
