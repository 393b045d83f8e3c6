"""The pane WebSocket: correct screens on (re)connect, history, several watchers, flow control,
and refused messages. Real tmux, real server, a real WebSocket client, pyte as the terminal."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import textwrap

import psutil

from .channel import open_channel
from .conftest import needs_tmux, wait_for

pytestmark = needs_tmux

CURSES = textwrap.dedent(
    """
    import curses, sys

    def draw(w):
        h, width = w.getmaxyx()
        # Scribble first, then draw the picture over it: replaying output chunks from an
        # arbitrary point would not give the final screen, only real screen state does.
        for y in range(h - 1):
            w.addstr(y, 0, "X" * (width - 1))
        w.refresh()
        w.erase()
        w.border("|", "|", "-", "-", "+", "+", "+", "+")
        w.addstr(2, 4, "JUPYTER SPACES")
        w.addstr(4, 4, "rows=%d cols=%d" % (h, width))
        for i in range(5):
            w.addstr(6 + i, 10 + i * 3, "###", curses.A_BOLD)
        w.refresh()
        open(sys.argv[1], "w").write("drawn %dx%d" % (h, width))

    def main(w):
        curses.curs_set(0)
        draw(w)
        while w.getch() == curses.KEY_RESIZE:
            draw(w)

    curses.wrapper(main)
    """
)


# Turns bracketed paste on once, prints nothing else, and keeps what it reads; Ctrl-F asks it
# to turn focus events on (so that happens while a client watches).
PASTE_PROGRAM = textwrap.dedent(
    """
    import os, sys, tty
    tty.setraw(0)
    os.write(1, b"\\033[?2004h")
    with open(sys.argv[1], "ab", buffering=0) as got:
        open(sys.argv[1] + ".ready", "w").close()
        while data := os.read(0, 4096):
            got.write(data)
            if b"\\x06" in data:
                os.write(1, b"\\033[?1004h")
    """
)
PASTE = "echo one\recho two\r"


def paste(screen, text: str) -> str:  # type: ignore[no-untyped-def]
    """What xterm.js sends for a paste: bracketed only if the program turned mode 2004 on
    (pyte keeps DEC private modes shifted left by 5)."""
    return f"\x1b[200~{text}\x1b[201~" if (2004 << 5) in screen.mode else text


def expected_picture(rows: int, cols: int) -> list[str]:
    grid = [[" "] * cols for _ in range(rows)]
    for x in range(cols):
        grid[0][x] = grid[rows - 1][x] = "-"
    for y in range(rows):
        grid[y][0] = grid[y][cols - 1] = "|"
    for y, x in ((0, 0), (0, cols - 1), (rows - 1, 0), (rows - 1, cols - 1)):
        grid[y][x] = "+"

    def put(y: int, x: int, s: str) -> None:
        grid[y][x : x + len(s)] = list(s)

    put(2, 4, "JUPYTER SPACES")
    put(4, 4, f"rows={rows} cols={cols}")
    for i in range(5):
        put(6 + i, 10 + i * 3, "###")
    return ["".join(r) for r in grid]


async def new_pane(api, root, argv, **extra):
    (root / "p").mkdir(exist_ok=True)
    code, space = await api("POST", body={"path": "p"})
    if code == 409:
        _, listing = await api("GET")
        space = listing["spaces"][0]
    code, pane = await api(
        "POST", space["id"], "panes", body={"kind": "command", "argv": argv, **extra}
    )
    assert code == 201, pane
    return space["id"], pane


BASH = ["bash", "--norc", "--noprofile", "-i"]
PROMPT = {"env": {"PS1": "READY> "}}


async def test_full_screen_program_is_redrawn_exactly(api, jp_root_dir, jp_ws_fetch, tmp_path):
    script = tmp_path / "draw.py"
    script.write_text(CURSES)
    marker = tmp_path / "drawn"
    space_id, pane = await new_pane(api, jp_root_dir, [sys.executable, str(script), str(marker)])
    await wait_for(lambda: asyncio.sleep(0, marker.exists()))

    for _ in range(2):  # a first client, then a reconnect: both see the same exact picture
        ch = await open_channel(jp_ws_fetch, space_id, pane["id"])
        await ch.drain()
        assert ch.screen.display == expected_picture(24, 80), ch.display()
        assert ch.screen.buffer[6][10].bold, "attributes are part of the screen"
        assert ch.screen.cursor.hidden
        ch.ws.close()

    # After a resize the program redraws; a new client gets the new picture at the new size.
    ch = await open_channel(jp_ws_fetch, space_id, pane["id"])
    await ch.send("set_size", 30, 100)
    ch.resize_screen(30, 100)
    await wait_for(lambda: asyncio.sleep(0, marker.read_text() == "drawn 30x100"))
    await ch.until(lambda c: c.screen.display == expected_picture(30, 100))
    ch.ws.close()
    ch = await open_channel(jp_ws_fetch, space_id, pane["id"], rows=30, cols=100)
    await ch.drain()
    assert ch.screen.display == expected_picture(30, 100), ch.display()
    _, got = await api("GET", space_id, "panes", pane["id"])
    assert (got["rows"], got["cols"]) == (30, 100)


async def test_history_and_live_output(api, jp_root_dir, jp_ws_fetch):
    space_id, pane = await new_pane(api, jp_root_dir, BASH, **PROMPT)
    code, _ = await api(
        "POST",
        space_id,
        "panes",
        pane["id"],
        "input",
        body={"text": "for i in $(seq 1 12000); do echo line-$i; done\r"},
    )
    assert code == 204

    async def done():
        _, body = await api("GET", space_id, "panes", pane["id"], "screen", lines="0")
        return "line-12000" in body["text"] and body["text"].rstrip().endswith("READY>")

    await wait_for(done, timeout=30)
    ch = await open_channel(jp_ws_fetch, space_id, pane["id"], history=10000)
    await ch.drain()
    history = ["".join(c.data for c in line.values()).rstrip() for line in ch.screen.history.top]
    lines = [h for h in history + ch.display().splitlines() if h.startswith("line-")]
    # At least 10 000 lines of history arrive, in order, ending with the last one.
    assert len(lines) >= 10000
    assert lines[-1] == "line-12000"
    assert lines == [f"line-{i}" for i in range(12001 - len(lines), 12001)]

    # Two watchers of one pane both get live output after their snapshot.
    other = await open_channel(jp_ws_fetch, space_id, pane["id"], history=0)
    await other.drain()
    await ch.send("stdin", "echo live-$((40+2))\r")
    for c in (ch, other):
        await c.until(lambda c: "live-42" in c.text)


async def test_flood_with_a_slow_client_then_ctrl_c(api, jp_root_dir, jp_ws_fetch):
    space_id, pane = await new_pane(api, jp_root_dir, BASH, **PROMPT)
    ch = await open_channel(jp_ws_fetch, space_id, pane["id"], history=0)
    await ch.until(lambda c: "READY>" in c.display())
    rss_before = psutil.Process().memory_info().rss
    await ch.send("stdin", "yes\r")
    shell = psutil.Process(pane["pid"])
    await wait_for(lambda: asyncio.sleep(0, any(p.name() == "yes" for p in shell.children())))
    # The slow client: reads nothing for 3 s while `yes` floods.
    await asyncio.sleep(3)
    growth = psutil.Process().memory_info().rss - rss_before
    assert growth < 50 * 2**20, f"server grew {growth / 2**20:.1f} MB under a flood"

    await ch.send("stdin", "\x03")
    await ch.until(lambda c: c.display().rstrip().endswith("READY>"), timeout=10)
    await wait_for(lambda: asyncio.sleep(0, not any(p.name() == "yes" for p in shell.children())))


async def test_ack_window_bounds_what_is_in_flight(api, jp_root_dir, jp_ws_fetch):
    space_id, pane = await new_pane(api, jp_root_dir, BASH, **PROMPT)
    ch = await open_channel(jp_ws_fetch, space_id, pane["id"], history=0)
    await ch.until(lambda c: "READY>" in c.display())
    await ch.send("ack", len(ch.text))
    await ch.send("stdin", "yes\r")
    # Without further acks the server may send at most one window (64 KiB) more.
    await ch.drain(quiet=1.0)
    assert len(ch.text) <= 65536 + 4096, len(ch.text)
    await ch.send("stdin", "\x03")
    await ch.send("ack", len(ch.text))

    async def prompt_back():
        await ch.send("ack", len(ch.text))
        with contextlib.suppress(asyncio.TimeoutError):
            await ch.recv(timeout=0.2)
        return ch.display().rstrip().endswith("READY>")

    await wait_for(prompt_back, timeout=15)


async def test_refused_messages_change_nothing(api, jp_root_dir, jp_ws_fetch, jp_serverapp):
    space_id, pane = await new_pane(api, jp_root_dir, BASH, **PROMPT)
    ch = await open_channel(jp_ws_fetch, space_id, pane["id"])
    await ch.until(lambda c: "READY>" in c.display())
    limit = jp_serverapp.web_app.settings["spaces_app"].max_message_size
    bad = [
        '["stdin", "' + "a" * limit + '"]',
        "not json",
        '{"stdin": "x"}',
        "[]",
        '["stdin"]',
        '["stdin", 5]',
        '["stdin", "\\ud800"]',
        '["set_size", 0, 80]',
        '["set_size", -3, 80]',
        '["set_size", 24, 100000]',
        '["set_size", "24", 80]',
        '["set_size", 24]',
        '["ack", -1]',
        '["launch_missiles"]',
        "[" * 5000 + "]" * 5000,  # nested past Python's recursion limit
        '["stdin", ' + "[" * 5000 + "]" * 5000 + "]",
    ]
    for n, raw in enumerate(bad, 1):
        await ch.ws.write_message(raw)
        await ch.until(lambda c, n=n: len(c.errors) == n)
    await ch.ws.write_message(b"\x00binary", binary=True)
    await ch.until(lambda c: len(c.errors) == len(bad) + 1)
    assert all(isinstance(e, str) and e for e in ch.errors)
    assert "larger than" in ch.errors[0] and "set_size" not in ch.errors[0]
    _, got = await api("GET", space_id, "panes", pane["id"])
    assert (got["rows"], got["cols"]) == (24, 80), "a refused set_size changes nothing"
    assert "aaaa" not in ch.text
    # The connection is still good.
    await ch.send("stdin", "echo still-$((1+1))\r")
    await ch.until(lambda c: "still-2" in c.text)


async def test_channel_to_unknown_pane_closes_with_4404(api, jp_root_dir, jp_ws_fetch):
    space_id, pane = await new_pane(api, jp_root_dir, ["cat"])
    for ids, query, code in (
        ((space_id, "nosuchpane"), {}, 4404),
        (("nosuchspace", "abcd"), {}, 4404),
        ((space_id, pane["id"]), {"history": "lots"}, 4400),
        ((space_id, pane["id"]), {"history": "\u00b2"}, 4400),
    ):
        ws = await jp_ws_fetch("api", "spaces", ids[0], "panes", ids[1], "channel", params=query)
        assert await asyncio.wait_for(ws.read_message(), 5) is None
        assert ws.close_code == code and ws.close_reason, (ids, ws.close_code, ws.close_reason)


async def test_deleting_a_pane_closes_its_channels(api, jp_root_dir, jp_ws_fetch):
    space_id, pane = await new_pane(api, jp_root_dir, ["cat"])
    ch = await open_channel(jp_ws_fetch, space_id, pane["id"])
    await ch.drain()
    code, _ = await api("DELETE", space_id, "panes", pane["id"])
    assert code == 204
    assert await asyncio.wait_for(ch.ws.read_message(), 5) is None
    assert ch.ws.close_code == 1000 and "closed" in (ch.ws.close_reason or "")


def set_flow(jp_serverapp, **settings) -> None:  # type: ignore[no-untyped-def]
    """Flow-control thresholds for the streams started from now on (SpacesApp traitlets): a
    behaviour that depends on a rate gets the threshold it needs, whatever the machine's load."""
    app = jp_serverapp.web_app.settings["spaces_app"]
    for name, value in settings.items():
        setattr(app, name, value)


def stream_of(jp_serverapp, space_id, pane_id):  # type: ignore[no-untyped-def]
    streams = jp_serverapp.web_app.settings["spaces_manager"].panes.streams
    return streams[f"jsp_{space_id}_{pane_id}"]


async def test_flood_mode_sends_redraws_and_the_last_lines_whole(
    api, jp_root_dir, jp_ws_fetch, jp_serverapp
):
    # `seq` writes megabytes a second even on a busy machine; 256 KiB/s is surely a flood.
    set_flow(jp_serverapp, flood_rate=256 * 1024)
    space_id, pane = await new_pane(api, jp_root_dir, BASH, **PROMPT)
    ch = await open_channel(jp_ws_fetch, space_id, pane["id"], history=10000)
    await ch.until(lambda c: "READY>" in c.display())
    n = 1_000_000
    await ch.send("stdin", f"seq -f 'flood-%07.0f' 1 {n}; echo FLOOD-$((1+1))-OVER\r")

    def settled(c):  # type: ignore[no-untyped-def]
        tail = c.chunks[-1] if c.chunks else ""
        return "READY>" in tail and "FLOOD-2-OVER" in "".join(c.chunks[-50:])

    await ch.until(settled, timeout=30)
    await ch.drain(quiet=0.5)
    assert ch.display().rstrip().endswith("READY>")
    stream = stream_of(jp_serverapp, space_id, pane["id"])
    assert stream.floods >= 1 and not stream.flooding
    produced = n * len("flood-0000000\r\n")
    assert ch.size < produced / 2, "a flood is redrawn, not streamed byte for byte"
    rows = ["".join(c.data for c in row.values()).rstrip() for row in ch.screen.history.top]
    got = [r for r in rows + ch.display().splitlines() if r.startswith("flood-")]
    assert got[-10000:] == [f"flood-{i:07d}" for i in range(n - 9999, n + 1)]


async def test_ctrl_c_during_a_flood(api, jp_root_dir, jp_ws_fetch, jp_serverapp):
    set_flow(jp_serverapp, flood_rate=256 * 1024)
    space_id, pane = await new_pane(api, jp_root_dir, BASH, **PROMPT)
    ch = await open_channel(jp_ws_fetch, space_id, pane["id"], history=0)
    await ch.until(lambda c: "READY>" in c.display())
    await ch.send("stdin", "yes flood\r")
    stream = stream_of(jp_serverapp, space_id, pane["id"])
    await wait_for(lambda: asyncio.sleep(0, stream.flooding), timeout=10)
    await ch.send("stdin", "\x03")
    await ch.until(lambda c: c.display().rstrip().endswith("READY>"), timeout=5)
    await wait_for(lambda: asyncio.sleep(0, not stream.flooding), timeout=5)
    await ch.send("stdin", "echo calm-$((2+2))\r")
    await ch.until(lambda c: "calm-4" in c.display())


async def test_restart_redraws_open_channels(api, jp_root_dir, jp_ws_fetch):
    argv = ["sh", "-c", "echo run-$$; exec cat"]
    space_id, pane = await new_pane(api, jp_root_dir, argv)
    ch = await open_channel(jp_ws_fetch, space_id, pane["id"], history=100)
    await ch.until(lambda c: f"run-{pane['pid']}" in c.display())
    code, again = await api("POST", space_id, "panes", pane["id"], "restart")
    assert code == 200
    # tmux clears the pane without output on a restart; the client gets a full redraw instead
    # of the new run written over the old screen.
    await ch.until(lambda c: f"run-{again['pid']}" in c.display())
    await ch.drain()
    assert "\x1bc" in "".join(ch.chunks[1:]), "a full redraw after the restart"
    assert f"run-{pane['pid']}" not in ch.display()


async def test_bracketed_paste_set_while_nobody_watched_survives_reconnects(
    api, jp_root_dir, jp_ws_fetch, tmp_path
):
    script = tmp_path / "paste.py"
    script.write_text(PASTE_PROGRAM)
    got = tmp_path / "got"
    space_id, pane = await new_pane(api, jp_root_dir, [sys.executable, str(script), str(got)])
    await wait_for(lambda: asyncio.sleep(0, got.with_suffix(".ready").exists()))

    for n in range(1, 3):  # the first client, then a reconnect (a page reload)
        ch = await open_channel(jp_ws_fetch, space_id, pane["id"])
        await ch.drain()
        assert "\x1b[?2004h" in ch.text, "the redraw turns bracketed paste on"
        await ch.send("stdin", paste(ch.screen, PASTE))
        want = f"\x1b[200~{PASTE}\x1b[201~".encode() * n
        await wait_for(lambda want=want: asyncio.sleep(0, got.read_bytes() == want))
        ch.ws.close()


async def test_ctrl_c_skips_the_backlog_of_a_client_that_is_behind(
    api, jp_root_dir, jp_ws_fetch, jp_serverapp
):
    """Without flood mode (kept out by the thresholds): a client that fell behind gets the
    screen redrawn after its Ctrl-C, not the output that was queued for it."""
    window, queue = 8192, 256 * 1024
    set_flow(
        jp_serverapp,
        flow_window=window,
        flow_queue_limit=queue,
        flood_rate=1e15,
        flood_held=2.0,  # never
        stall_timeout=600.0,  # never lossy
    )
    space_id, pane = await new_pane(api, jp_root_dir, BASH, **PROMPT)
    ch = await open_channel(jp_ws_fetch, space_id, pane["id"], history=0)
    await ch.until(lambda c: "READY>" in c.display())
    await ch.send("ack", ch.size)
    await ch.send("stdin", "yes\r")
    stream = stream_of(jp_serverapp, space_id, pane["id"])
    (watcher,) = stream.watchers
    # The client stops acknowledging; its queue fills up and holds the pane back.
    await wait_for(lambda: asyncio.sleep(0, watcher.queued >= queue // 2), timeout=30)
    await asyncio.sleep(0.2)  # older than input_resync (0.05 s): the client is behind
    acked = ch.size
    await ch.send("stdin", "\x03")

    async def prompt_back() -> bool:
        await ch.send("ack", ch.size)
        with contextlib.suppress(asyncio.TimeoutError):
            await ch.recv(timeout=0.2)
        return ch.display().rstrip().endswith("READY>")

    await wait_for(prompt_back, timeout=15)
    assert stream.floods == 0
    stale = ch.text[acked:].split("\x1b[?1049l\x1b[r\x1b[H\x1b[2J")[0]
    assert len(stale) <= window, f"{len(stale)} characters of stale output before the redraw"
