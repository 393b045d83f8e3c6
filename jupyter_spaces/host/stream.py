"""Live output of one pane, fanned out to its watchers (WebSocket clients) with flow control.

Flow control, end to end: a watcher has a queue (at most ``queue_limit`` characters) and, if it
sends ``["ack", n]`` messages, a window of unacknowledged characters; without acks the transport's
own write completion paces it. While any watcher's queue is full we stop reading tmux, so tmux
stops reading the pane and the program blocks: nothing buffers without bound, and a Ctrl-C in a
flood is seen after at most a window and a queue of stale output.

A watcher that holds the pane back for longer than ``stall_timeout`` (a background tab, a dead
network) is switched to *lossy* mode, as a normal tmux client would be: its backlog is dropped,
the pane runs on, and once it has room it gets a fresh copy of the screen instead of the
missed bytes. It stays lossy until it has kept up for a while.

A keystroke is answered against the current screen, whatever the load: when the user types
while a watcher has output queued and has not caught up (nothing queued, nothing unacknowledged)
for ``input_resync`` seconds (it is behind: a slow client, a busy machine), its queued output is
dropped and the watcher gets the screen redrawn
just after the keystroke, then live output. So a Ctrl-C in a flood costs at most the ack
window already in flight, never the backlog, and does not depend on flood mode having been
detected (which a busy machine, producing less, may never reach). The skipped output stays in
tmux's history (a reconnect gets it); only the browser's scrollback misses it, as in flood
mode.

Flood mode: output faster than ``flood_rate`` is more than anyone reads, and tmux's control-mode
path costs more per byte than tmux itself. So the pane is paused for our control client (tmux
keeps reading the program at full speed and keeps the history), watchers get a redraw of the
screen every ``flood_redraw`` seconds, and a short probe (continue + a consistent snapshot)
checks whether the flood is over. When it is, every watcher gets a full redraw with history, so
the last lines arrive complete. Typing probes at once, so a Ctrl-C is seen without delay.

Why one module of about 600 lines: a watcher's queue, the pane's pause, lossy mode, flood mode
and the input resync are one state machine over the same few fields (what each watcher has
queued and acknowledged, whether tmux is paused for us); split, each part would read and write
the others' state.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .commands import send_keys_commands
from .control import ControlClient, Reply
from .screen import ModeTracker, PaneState, render, snapshot_commands
from .tmux import MODES_OPTION, TmuxServer

log = logging.getLogger(__name__)

Send = Callable[[list], Awaitable[None] | None]


@dataclass
class FlowSettings:
    window: int = 32768  # unacknowledged characters a watcher that acks may have in flight
    queue_limit: int = 16384  # characters queued per watcher before the pane is held back
    max_frame: int = 65536  # characters per stdout message
    stall_timeout: float = 1.0  # seconds a watcher may hold a pane back before it goes lossy
    lossy_recovery: float = 3.0  # seconds without drops before a lossy watcher is lossless again
    flood_rate: float = 4 * 2**20  # bytes/s of output above which a pane is in flood mode
    # Share of the time output was held back by slow watchers above which a pane floods.
    flood_held: float = 0.5
    flood_redraw: float = 0.15  # seconds between screen redraws while a pane floods
    flood_probe: float = 0.02  # seconds of live output sampled to see if the flood is over
    # Seconds a watcher may be behind before typing skips its queue for a redraw.
    input_resync: float = 0.05


class Watcher:
    """One client of a pane. ``send`` writes one message and may return an awaitable that
    completes when the transport has taken it (tornado's ``write_message`` does)."""

    def __init__(
        self,
        stream: PaneStream,
        send: Send,
        history: int,
        on_end: Callable[[str], None] | None = None,
    ) -> None:
        self.stream = stream
        self._send = send
        self.history = history  # lines of history this watcher asked for
        self._on_end = on_end
        self.flow = stream.flow
        self.ready = False  # has had its first snapshot
        self.queue: list[str] = []
        self.queued = 0
        # When this client last had everything: nothing queued, nothing unacknowledged.
        self.caught_up = time.monotonic()
        self.sent = 0
        self.acked: int | None = None  # None until the client sends its first ack
        self.dirty = False  # output was dropped; a screen resync is owed
        self.resync_requested = False
        self.lossy_until = 0.0
        self.blocked_since: float | None = None
        self.closed = False
        self._wake = asyncio.Event()
        self._task = asyncio.ensure_future(self._sender())

    # -- called by the stream, in output order -------------------------------------------

    def push(self, text: str) -> None:
        if not self.ready or self.closed:
            return
        if self.dirty:
            return
        if self.queued + len(text) > self.flow.queue_limit and (
            self.stream.flooding or time.monotonic() < self.lossy_until
        ):
            self._drop()
            return
        self._enqueue(text)

    def _enqueue(self, text: str) -> None:
        self.queue.append(text)
        self.queued += len(text)
        self._wake.set()

    def deliver_snapshot(self, text: str, replace: bool) -> None:
        """A (re)draw that reflects all output up to this point. A full redraw (``replace``)
        makes anything queued obsolete; otherwise queued output stays ahead of it (history the
        client has not seen yet)."""
        if replace:
            self.queue.clear()
            self.queued = 0
        self._enqueue(text)
        self.ready = True
        self.dirty = False
        self.resync_requested = False
        self._wake.set()

    @property
    def full(self) -> bool:
        return self.ready and not self.dirty and self.queued >= self.flow.queue_limit

    @property
    def has_room(self) -> bool:
        return not self.closed and self.queued < self.flow.queue_limit and self._room() > 0

    def behind(self, now: float) -> bool:
        """Output is queued and this client has not caught up for ``input_resync`` seconds
        (a queue that empties into a full window does not count as caught up)."""
        return (
            self.ready
            and not self.closed
            and bool(self.queue)
            and now - self.caught_up >= self.flow.input_resync
        )

    def _check_caught_up(self) -> None:
        if not self.queue and (self.acked is None or self.acked >= self.sent):
            self.caught_up = time.monotonic()

    def skip_to_redraw(self) -> None:
        """Drop the queued output; a redraw is owed instead (``dirty``)."""
        self.queue.clear()
        self.queued = 0
        self.dirty = True
        self.blocked_since = None

    def degrade(self) -> None:
        """Stop holding the pane back: drop what is queued and owe a resync."""
        log.debug("a watcher of %s is lossy after a stall", self.stream.session)
        self._drop()

    def _drop(self) -> None:
        self.queue.clear()
        self.queued = 0
        self.dirty = True
        self.blocked_since = None
        self.lossy_until = time.monotonic() + self.flow.lossy_recovery
        self._wake.set()

    # -- called by the client -------------------------------------------------------------

    def ack(self, consumed: int) -> None:
        """``consumed`` is the total number of characters the client has processed."""
        if self.acked is None or consumed > self.acked:
            self.acked = min(consumed, self.sent)
            self._check_caught_up()
            self._wake.set()

    def _room(self) -> int:
        if self.acked is None:
            return self.flow.max_frame
        return self.flow.window - (self.sent - self.acked)

    async def _sender(self) -> None:
        try:
            while not self.closed:
                await self._wake.wait()
                self._wake.clear()
                while self.queue and not self.closed:
                    room = min(self._room(), self.flow.max_frame)
                    if room <= 0:
                        break
                    chunk = self._take(room)
                    self.sent += len(chunk)
                    result = self._send(["stdout", chunk])
                    if result is not None:
                        await result
                    self.stream.on_watcher_drained(self)
                self._check_caught_up()
                if self.dirty and not self.queue and self._room() >= self.flow.window // 2:
                    self.stream.request_resync(self)
        except Exception as e:  # the socket went away; the handler will detach us
            log.debug("watcher send failed: %s", e)
            self.closed = True
            self.stream.on_watcher_drained(self)

    def _take(self, room: int) -> str:
        parts: list[str] = []
        size = 0
        while self.queue and size < room:
            head = self.queue[0]
            if size + len(head) <= room:
                parts.append(self.queue.pop(0))
                size += len(head)
            else:
                cut = room - size
                parts.append(head[:cut])
                self.queue[0] = head[cut:]
                size += cut
        self.queued -= size
        return "".join(parts)

    def close(self) -> None:
        self.closed = True
        self._wake.set()
        self._task.cancel()

    def end(self, reason: str) -> None:
        """The pane's stream is over (pane deleted, session gone): tell the client."""
        self.close()
        if self._on_end is not None:
            self._on_end(reason)


class PaneStream:
    """The control-mode client of one pane session and the watchers that share it."""

    def __init__(
        self,
        server: TmuxServer,
        session: str,
        flow: FlowSettings,
        on_closed: Callable[[PaneStream], None] | None = None,
    ) -> None:
        self.server = server
        self.session = session
        self.target = f"={session}:"
        self.flow = flow
        self.watchers: list[Watcher] = []
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._on_closed = on_closed
        self._stall_timer: asyncio.TimerHandle | None = None
        self.control: ControlClient | None = None
        self.last_state: PaneState | None = None
        self.bytes_out = 0
        self.pane_id = ""  # tmux's %N, for per-pane control-mode commands
        self.flooding = False
        self.floods = 0  # how many times flood mode was entered (for tests and benchmarks)
        self._rate_start = time.monotonic()
        self._rate_bytes = 0
        self._rate_paused = 0.0
        self._probe_until = 0.0
        self._probing = False
        self._flood_timer: asyncio.TimerHandle | None = None
        self.modes = ModeTracker()  # modes tmux has no format for (see screen.py)
        self._saved_modes = ""
        self._tasks: set[asyncio.Future[None]] = set()

    async def start(self) -> None:
        self.control = ControlClient(
            self.server, self.session, self._output, self._notify, self._exited
        )
        await self.control.start(pause_after=max(5.0, self.flow.stall_timeout * 5))
        fmt = f"#{{pane_id}} #{{{MODES_OPTION}}}"
        (reply,) = await self.control.run([["display-message", "-p", "-t", self.target, fmt]])
        self.pane_id, _, saved = reply.text().strip().partition(" ")
        self._saved_modes = saved
        # What an earlier server saw, then what tmux knows now; the live stream overrides both.
        self.modes.modes |= ModeTracker.parse(saved) - self.modes.seen
        await self._ask_bracketed_paste()

    async def _ask_bracketed_paste(self) -> None:
        """Learn DECSET 2004 from tmux: the program may have set it while nobody watched."""
        self.modes.reset_seen()
        on = await self.server.bracketed_paste(self.session)
        if on is None or 2004 in self.modes.seen:
            return  # tmux could not say, or the stream has shown a newer answer
        if on == (2004 in self.modes.modes):
            return
        if on:
            self.modes.modes.add(2004)
        else:
            self.modes.modes.discard(2004)
        self._save_modes()
        for w in self.watchers:  # in stream order, as if the program had just said it
            w.push("\x1b[?2004h" if on else "\x1b[?2004l")

    def _ask_later(self) -> None:
        task = asyncio.ensure_future(self._ask_bracketed_paste())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _save_modes(self) -> None:
        value = self.modes.serialize()
        if value == self._saved_modes or self.control is None or self.control.closed.done():
            return
        self._saved_modes = value
        # A pane user option: tmux keeps it across a jupyter-server restart.
        if value:
            cmd = ["set-option", "-p", "-t", self.pane_id, MODES_OPTION, value]
        else:
            cmd = ["set-option", "-p", "-u", "-t", self.pane_id, MODES_OPTION]
        self.control.command([cmd], None)

    def restarted(self) -> None:
        """The pane's program was replaced: its modes went with it; redraw for everyone."""
        self.modes.clear()
        self._save_modes()
        self._ask_later()
        self.redraw()

    @property
    def alive(self) -> bool:
        return self.control is not None and not self.control.closed.done()

    # -- watchers -------------------------------------------------------------------------

    def attach(
        self, send: Send, history: int, on_end: Callable[[str], None] | None = None
    ) -> Watcher:
        """A new watcher; its first message is a full snapshot with ``history`` lines;
        ``on_end`` is called if the stream ends while it watches."""
        w = Watcher(self, send, history, on_end)
        self.watchers.append(w)
        self._snapshot([w], full=True, history=history)
        return w

    def redraw(self) -> None:
        """A full redraw for every watcher (after a restart tmux clears the pane silently)."""
        ready = [w for w in self.watchers if w.ready and not w.closed]
        for history in sorted({w.history for w in ready}):
            self._snapshot([w for w in ready if w.history == history], full=True, history=history)

    def detach(self, w: Watcher) -> None:
        w.close()
        if w in self.watchers:
            self.watchers.remove(w)
        self._update_reading()

    def request_resync(self, w: Watcher) -> None:
        if w.resync_requested or w.closed:
            return
        w.resync_requested = True
        self._snapshot([w], full=False, history=0)

    def _snapshot(
        self,
        watchers: list[Watcher],
        full: bool,
        history: int,
        before: list[list[str]] | None = None,
    ) -> None:
        assert self.control is not None
        cmds = (before or []) + snapshot_commands(self.target, history)
        skip = len(before or [])

        def done(replies: list[Reply]) -> None:
            replies = replies[skip:]
            if not replies or replies[0].error or not replies[0].lines:
                for w in watchers:
                    w.resync_requested = False
                return
            text, self.last_state = render(replies, full, self.modes.modes)
            for w in watchers:
                if not w.closed:
                    w.deliver_snapshot(text, replace=full)
            self._update_reading()

        self.control.command(cmds, done)

    # -- input and size -------------------------------------------------------------------

    def write(self, text: str, on_error: Callable[[str], None] | None = None) -> None:
        """Type ``text`` into the pane; tmux's refusal (a dead pane) goes to ``on_error``."""
        assert self.control is not None

        def check(replies: list[Reply]) -> None:
            failed = [r for r in replies if r.error]
            if failed and on_error is not None:
                on_error(failed[0].text() or "tmux refused the input")

        cmds = send_keys_commands(self.target, text)
        for i in range(0, len(cmds), 16):
            self.control.command(cmds[i : i + 16], check)
        # The user reacts to what they see (Ctrl-C, q, Esc): stale output must not stand
        # between them and the answer. The redraw is queued after the keys, so it shows the
        # screen once tmux has them, and live output follows it.
        now = time.monotonic()
        # In a flood the probe below redraws everyone, so nothing queued is worth its delay.
        behind = [
            w for w in self.watchers if w.behind(now) or (self.flooding and w.ready and w.queue)
        ]
        for w in behind:
            w.skip_to_redraw()
        if self.flooding:
            self._probe()  # redraws everyone; the probe shows the answer now
        elif behind:
            for w in behind:
                w.resync_requested = True
            self._snapshot(behind, full=False, history=0)
        self._update_reading()

    def resize(self, rows: int, cols: int) -> None:
        """Resize the pane and redraw it for every watcher (tmux does not redraw for control
        clients, and the terminal's own reflow differs from tmux's)."""
        assert self.control is not None
        state = self.last_state
        if state is not None and (state.rows, state.cols) == (rows, cols):
            return
        resize = [["resize-window", "-t", self.target, "-x", str(cols), "-y", str(rows)]]
        ready = [w for w in self.watchers if w.ready and not w.dirty]
        self._snapshot(ready, full=False, history=0, before=resize)

    # -- flow control ---------------------------------------------------------------------

    def on_watcher_drained(self, w: Watcher) -> None:
        if w.closed and w in self.watchers:
            self.watchers.remove(w)
        self._update_reading()

    def _update_reading(self) -> None:
        if self.control is None:
            return
        now = time.monotonic()
        blocked = [w for w in self.watchers if w.full and not w.closed and not self.flooding]
        for w in self.watchers:
            if w in blocked:
                if w.blocked_since is None:
                    w.blocked_since = now
            else:
                w.blocked_since = None
        if blocked:
            self.control.pause()
            if self._stall_timer is None:
                self._stall_timer = asyncio.get_running_loop().call_later(
                    self.flow.stall_timeout, self._check_stalls
                )
        else:
            self.control.resume()

    def _check_stalls(self) -> None:
        self._stall_timer = None
        now = time.monotonic()
        for w in self.watchers:
            if w.blocked_since is not None and now - w.blocked_since >= self.flow.stall_timeout:
                w.degrade()
        self._update_reading()

    # -- flood mode -----------------------------------------------------------------------

    def _measure(self, size: int) -> None:
        """A flood is output faster than ``flood_rate``, or output held back by slow watchers
        for more than ``flood_held`` of the last tenth of a second (the program wants to write
        more than they take)."""
        assert self.control is not None
        now = time.monotonic()
        self._rate_bytes += size
        if self._probe_until and now >= self._probe_until:
            self._end_probe()
        elif not self.flooding and now - self._rate_start >= 0.1:
            elapsed = now - self._rate_start
            rate = self._rate_bytes / elapsed
            held = (self.control.paused_seconds() - self._rate_paused) / elapsed
            self._reset_rate(now)
            if rate > self.flow.flood_rate or held > self.flow.flood_held:
                self._enter_flood()

    def _reset_rate(self, now: float) -> None:
        assert self.control is not None
        self._rate_start, self._rate_bytes = now, 0
        self._rate_paused = self.control.paused_seconds()

    def _set_timer(self, delay: float, callback: Callable[[], None]) -> None:
        if self._flood_timer is not None:
            self._flood_timer.cancel()
        self._flood_timer = asyncio.get_running_loop().call_later(delay, callback)

    def _pause(self) -> None:
        assert self.control is not None
        self.control.command([["refresh-client", "-A", f"{self.pane_id}:pause"]], None)
        self._set_timer(self.flow.flood_redraw, self._probe)

    def _enter_flood(self) -> None:
        log.debug("%s floods; redrawing every %.2fs", self.session, self.flow.flood_redraw)
        self.flooding = True
        self.floods += 1
        self._pause()
        self._update_reading()

    def _probe(self) -> None:
        """Let output through again, atomically with a redraw of the current screen, and
        sample it for ``flood_probe`` seconds."""
        if not self.flooding or self.control is None or self._probing:
            return
        self._probing = True
        cont = [["refresh-client", "-A", f"{self.pane_id}:continue"]]
        ready = [w for w in self.watchers if w.ready and not w.closed]

        def redrawn(replies: list[Reply]) -> None:
            replies = replies[len(cont) :]
            if replies and not replies[0].error:
                text, self.last_state = render(replies, False, self.modes.modes)
                for w in ready:
                    if w.has_room:
                        w.deliver_snapshot(text, replace=False)
                    else:
                        w.dirty = True  # a slow watcher gets a later redraw it has room for
            now = time.monotonic()
            self._reset_rate(now)
            self._probe_until = now + self.flow.flood_probe
            self._set_timer(self.flow.flood_probe, self._end_probe)  # if the pane is quiet

        self.control.command(cont + snapshot_commands(self.target, 0), redrawn)

    def _end_probe(self) -> None:
        if not self._probe_until:
            return
        elapsed = max(time.monotonic() - self._rate_start, 1e-3)
        rate = self._rate_bytes / elapsed
        self._probe_until, self._probing = 0.0, False
        if rate > self.flow.flood_rate:
            self._pause()
            return
        # The flood is over: everyone gets the screen at once (the prompt after a Ctrl-C), then
        # a full redraw with the history they asked for, whole.
        self.flooding = False
        if self._flood_timer is not None:
            self._flood_timer.cancel()
            self._flood_timer = None
        self._reset_rate(time.monotonic())
        ready = [w for w in self.watchers if w.ready]
        self._snapshot(ready, full=False, history=0)
        if any(w.history for w in ready):
            self.redraw()
        # Output paused for us was not followed: a shell's prompt turns bracketed paste on.
        self._ask_later()

    # -- control-mode callbacks (stream order) --------------------------------------------

    def _output(self, data: bytes) -> None:
        self.bytes_out += len(data)
        if self.modes.feed(data):
            self._save_modes()
        self._measure(len(data))
        text = self._decoder.decode(data)
        if not text:
            return
        for w in self.watchers:
            w.push(text)
        if any(w.full for w in self.watchers):
            self._update_reading()

    def _notify(self, name: str, args: list[bytes]) -> None:
        if name == "pause" and not self.flooding:
            # We stopped reading for too long (should not happen: stalls are handled first);
            # tmux dropped our backlog, so everybody gets a fresh screen.
            assert self.control is not None
            self.control.command([["refresh-client", "-A", f"{args[0].decode()}:continue"]], None)
            for w in self.watchers:
                w.degrade()

    def _exited(self, reason: str) -> None:
        for timer in (self._stall_timer, self._flood_timer):
            if timer is not None:
                timer.cancel()
        self._stall_timer = self._flood_timer = None
        for w in self.watchers:
            w.end(f"the pane's terminal closed ({reason})")
        self.watchers.clear()
        if self._on_closed is not None:
            self._on_closed(self)

    async def close(self, reason: str = "the pane was closed") -> None:
        for task in list(self._tasks):
            task.cancel()
        for w in self.watchers:
            w.end(reason)
        self.watchers.clear()
        if self.control is not None:
            await self.control.close()
