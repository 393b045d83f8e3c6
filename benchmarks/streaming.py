"""Streaming benchmark: a jupyter-spaces pane next to a stock Jupyter terminal.

Run ``python benchmarks/streaming.py`` (``--quick`` for a smaller run, ``--json PATH`` to also
write the results). One run starts one real ``jupyter server`` subprocess (jupyter_spaces and
jupyter_server_terminals enabled, fresh temp dirs, a private tmux socket under /tmp) and measures
both kinds of terminal through real WebSocket clients (the ``websockets`` library, asyncio).

Both run the same shell, ``bash --norc --noprofile -i`` with ``PS1="READY> "``: the pane as a
``command`` pane (``POST /api/spaces/{id}/panes``), the stock terminal through
``ServerApp.terminado_settings.shell_command`` (``POST /api/terminals``). Every measurement gets a
fresh pane / fresh terminal, which is deleted afterwards. Each client sends
``["set_size", 50, 200]`` when it connects, then waits for the prompt and for 0.3 s of silence.

The client models a terminal emulator. It reads frames from the WebSocket only as fast as it
*processes* them (websockets' receive queue of 16 frames, then TCP backpressure), and a pane
client acknowledges what it has processed with ``["ack", total_chars]`` after every processed
piece (as xterm.js's write callback would; the stock terminal gets no acks, it has no such
message). A *fast* client processes each frame as soon as it arrives. A *slow* client processes
at most 1 MiB/s of stdout characters: a token bucket (1 MiB/s, 16 KiB burst) paced with sleeps
(oversleeping is credited, so the long-run rate is 1 MiB/s), frames processed in 4 KiB
pieces. Output counts as *seen* when the piece containing it has been processed. All times are
wall-clock (``time.perf_counter``) in this benchmark process. The 1-minute load average at the
start and end is printed: other work on the machine skews the results.

Measurements (pane and stock terminal alike):

1. cat: a file of numbered 80-byte lines (``line 00000001 `` + letters + newline; 64 MiB, or
   16 MiB with --quick). A fast client types ``cat FILE; echo CAT-$((1+1))-DONE`` + Enter; time
   from sending that until ``CAT-2-DONE`` is seen; MiB/s = file size / time. Also the stdout
   characters received, and whether the last 10 000 lines of the file are all in the received
   text, complete (exact line content), consecutive and in order (escape sequences stripped).
   Median of 3 runs (1 with --quick), pane and stock terminal interleaved, each on a fresh
   pane / terminal; "complete" must hold in every run.
2. Ctrl-C under flood: a slow client types ``yes`` + Enter, waits 2 s, sends ``\\x03`` and
   times until ``READY> `` is seen in output processed after the Ctrl-C was sent (for the pane
   that may be a screen redraw instead of the backlog). Capped at 60 s (30 s with --quick):
   ``>60 s``. Afterwards the client turns fast and the benchmark checks that no ``yes`` process
   is left; a stock terminal that never showed its prompt is closed. Pane: the median of 3 runs
   (1 with --quick), each on a fresh pane; stock terminal: 1 run.
   Loaded: the same, with two CPU-bound processes (a Python busy loop each, bounded to 10 min,
   killed afterwards) running beside the benchmark for the whole measurement, so the machine
   is busy as on a shared server. Pane: median of 5 runs (3 with --quick); stock: 1 run.
3. RSS growth under flood: RSS of the jupyter-server process (psutil, every 50 ms) from just
   before ``yes`` is typed until the prompt is seen (or the cap), max minus the first sample, in
   MB (10^6 bytes); the pane figure is the largest of its runs. For the pane also the tmux
   server's RSS growth (the pane's history lives there; ``tmux -S SOCKET display -p '#{pid}'``).
   The pane runs first, on a fresh server process, so its heap growth is not hidden by memory
   the stock terminal's flood left behind.
4. Echo round trip: at an idle prompt a fast client sends one printable character at a time
   (a-z in turn, 10 ms apart) and times until that character is seen; 10 warm-up keystrokes
   are not counted, then 300 (100 with --quick) are. The line is cleared with Ctrl-U every 50
   keystrokes (not timed) and at the end. p50 and p99 (nearest rank) in ms.
5. Reattach: ``seq -f 'hist-%06g' 1 10000`` is run, the benchmark waits for the prompt and 0.5 s
   of silence, closes the client, then times a NEW connection: from starting the connect until
   ``hist-010000`` and then the prompt after it have been seen (the pane connects with
   ``?history=10000``; the stock terminal replays its last 1000 reads). Also how many of the
   10 000 ``hist-`` lines the new client received. Median of 5 reconnects (3 with --quick).

``--only ctrl-c`` runs only measurements 2 and 3, quiet and loaded (also ``cat``, ``echo``,
``reattach``; repeatable).

Targets for the pane: Ctrl-C under flood <= 100 ms quiet, <= 300 ms loaded; server RSS growth
under flood <= 30 MB; echo p99 <= 10 ms; cat time <= 1.5x the stock terminal's AND the last
10 000 lines complete; reattach <= 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.server_process import ServerProcess  # noqa: E402

SHELL = ["bash", "--norc", "--noprofile", "-i"]
PROMPT = "READY> "
ROWS, COLS = 50, 200
MiB = 1 << 20
MB = 1_000_000
SLOW_RATE = 1 * MiB  # characters per second
SLOW_BURST = 16 * 1024
SLOW_PIECE = 4096
LINE_LEN = 80
PAD = "abcdefghijklmnopqrstuvwxyz" * 3
CHECK_LINES = 10_000
HIST_LINES = 10_000
ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|.)")
ROW_MOVE = re.compile(r"\x1b\[\d+;1H")


# -- a terminal-like WebSocket client -----------------------------------------------------


@dataclass
class Seen:
    offset: int  # character offset of the match in the client's stdout stream
    at: float  # perf_counter when the piece containing it was processed


@dataclass
class _Waiter:
    pattern: str
    since: int
    future: asyncio.Future[Seen]


class Term:
    """A WebSocket client of a pane or stock terminal that behaves like a terminal emulator:
    it processes stdout (optionally rate-limited), acks it (panes only) and keeps the tail."""

    def __init__(self, ws: ClientConnection, acks: bool, tail_limit: int = 4 * MiB) -> None:
        self.ws = ws
        self.acks = acks
        self.rate: float | None = None  # characters per second; None = as fast as possible
        self.total = 0  # stdout characters processed
        self.wire = 0  # characters of WebSocket text frames received (JSON included)
        self.tail_limit = tail_limit
        self.others: list[Any] = []
        self.last_output = time.perf_counter()
        self.closed_at: float | None = None
        self._chunks: deque[str] = deque()
        self._tail_len = 0
        self._recent = ""
        self._waiters: list[_Waiter] = []
        self._tokens = float(SLOW_BURST)
        self._stamp = time.perf_counter()
        self._task = asyncio.create_task(self._run())

    async def send(self, *msg: Any) -> None:
        await self.ws.send(json.dumps(list(msg)))

    async def _run(self) -> None:
        try:
            async for raw in self.ws:
                text = raw if isinstance(raw, str) else raw.decode()
                self.wire += len(text)
                msg = json.loads(text)
                if msg and msg[0] == "stdout":
                    await self._feed(msg[1])
                else:
                    self.others.append(msg)
        except ConnectionClosed:
            pass
        finally:
            self.closed_at = time.perf_counter()
            for w in self._waiters:
                if not w.future.done():
                    w.future.set_exception(ConnectionError("connection closed"))
            self._waiters.clear()

    async def _feed(self, text: str) -> None:
        pos = 0
        while pos < len(text):
            step = len(text) if self.rate is None else SLOW_PIECE
            piece = text[pos : pos + step]
            pos += len(piece)
            if self.rate is not None:
                await self._pace(len(piece), self.rate)
            self._consume(piece)
            if self.acks:
                await self.send("ack", self.total)

    async def _pace(self, n: int, rate: float) -> None:
        """Token bucket: wait until ``n`` characters may be processed. Oversleeping is credited
        (up to the burst), so the long-run rate is ``rate``, not less."""
        self._refill(rate)
        if self._tokens < n:
            await asyncio.sleep((n - self._tokens) / rate)
            self._refill(rate)
        self._tokens -= n

    def _refill(self, rate: float) -> None:
        now = time.perf_counter()
        self._tokens = min(float(SLOW_BURST), self._tokens + (now - self._stamp) * rate)
        self._stamp = now

    def _consume(self, piece: str) -> None:
        now = time.perf_counter()
        start = self.total
        self.total += len(piece)
        self.last_output = now
        self._chunks.append(piece)
        self._tail_len += len(piece)
        while len(self._chunks) > 1 and self._tail_len - len(self._chunks[0]) >= self.tail_limit:
            self._tail_len -= len(self._chunks.popleft())
        window = self._recent + piece
        base = start - len(self._recent)
        for w in list(self._waiters):
            i = window.find(w.pattern, max(0, w.since - base))
            if i >= 0:
                self._waiters.remove(w)
                if not w.future.done():
                    w.future.set_result(Seen(base + i, now))
        self._recent = window[-256:]

    def text(self) -> str:
        """The last ``tail_limit``-ish characters processed."""
        joined = "".join(self._chunks)
        self._chunks = deque([joined]) if joined else deque()
        return joined

    def expect(self, pattern: str, since: int | None = None) -> asyncio.Future[Seen]:
        """A future for the first ``pattern`` at or after offset ``since`` (default: now)."""
        since = self.total if since is None else since
        fut: asyncio.Future[Seen] = asyncio.get_running_loop().create_future()
        text = self.text()
        base = self.total - len(text)
        i = text.find(pattern, max(0, since - base))
        if i >= 0:
            fut.set_result(Seen(base + i, time.perf_counter()))
        elif self.closed_at is not None:
            fut.set_exception(ConnectionError("connection closed"))
        else:
            self._waiters.append(_Waiter(pattern, since, fut))
        return fut

    async def idle(self, quiet: float, timeout: float = 30) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() - self.last_output < quiet:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"output did not stop within {timeout} s")
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 3)


async def seen(fut: asyncio.Future[Seen], timeout: float) -> Seen | None:
    """The result of ``fut``, or None on timeout or a closed connection."""
    try:
        return await asyncio.wait_for(fut, timeout)
    except (TimeoutError, ConnectionError):
        return None


# -- the two kinds of terminal --------------------------------------------------------------


class Target:
    """A fresh pane or stock terminal for one measurement."""

    kind = ""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.server = bench.server

    def ws_options(self) -> dict[str, Any]:
        return {
            "additional_headers": [("Authorization", f"token {self.server.token}")],
            "max_size": None,
            "max_queue": 16,
            "compression": None,
            "ping_interval": None,
            "open_timeout": 10,
            "close_timeout": 1,
        }

    async def create(self) -> None:
        raise NotImplementedError

    async def destroy(self) -> None:
        raise NotImplementedError

    def url(self, history: int) -> str:
        raise NotImplementedError

    def shell_tree(self) -> list[psutil.Process]:
        raise NotImplementedError

    async def connect(self, history: int = 0) -> Term:
        ws = await connect(self.url(history), **self.ws_options())
        term = Term(ws, acks=self.kind == "pane")
        await term.send("set_size", ROWS, COLS)
        return term

    async def open(self, history: int = 0) -> Term:
        """Connect, wait for the prompt and for silence."""
        term = await self.connect(history)
        if await seen(term.expect(PROMPT, 0), 15) is None:
            raise RuntimeError(f"{self.kind}: no prompt; got {term.text()[-500:]!r}")
        await term.idle(0.3)
        return term

    def running(self, name: str) -> bool:
        for p in self.shell_tree():
            with contextlib.suppress(psutil.Error):
                if p.name() == name:
                    return True
        return False


class PaneTarget(Target):
    kind = "pane"
    pane_id = ""
    pid = 0

    async def create(self) -> None:
        body = {"kind": "command", "argv": SHELL, "env": {"PS1": PROMPT}}
        code, pane = await asyncio.to_thread(
            self.server.request, "POST", f"/api/spaces/{self.bench.space_id}/panes", body
        )
        if code != 201:
            raise RuntimeError(f"creating a pane failed: {code} {pane}")
        self.pane_id, self.pid = pane["id"], pane["pid"]

    async def destroy(self) -> None:
        path = f"/api/spaces/{self.bench.space_id}/panes/{self.pane_id}"
        await asyncio.to_thread(self.server.request, "DELETE", path)

    def url(self, history: int) -> str:
        base = self.server.ws_url
        return (
            f"{base}/api/spaces/{self.bench.space_id}/panes/{self.pane_id}/channel"
            f"?history={history}"
        )

    def shell_tree(self) -> list[psutil.Process]:
        try:
            shell = psutil.Process(self.pid)
            return [shell, *shell.children(recursive=True)]
        except psutil.Error:
            return []


class StockTarget(Target):
    kind = "terminal"
    name = ""

    async def create(self) -> None:
        code, term = await asyncio.to_thread(self.server.request, "POST", "/api/terminals", {})
        if code != 200:
            raise RuntimeError(f"creating a terminal failed: {code} {term}")
        self.name = term["name"]

    async def destroy(self) -> None:
        await asyncio.to_thread(self.server.request, "DELETE", f"/api/terminals/{self.name}")

    def url(self, history: int) -> str:
        return f"{self.server.ws_url}/terminals/websocket/{self.name}"

    def shell_tree(self) -> list[psutil.Process]:
        # The terminal's shell is a child of the server; no pane process is (they belong to
        # the tmux server), so `yes` anywhere below the server is this terminal's.
        try:
            return psutil.Process(self.server.pid).children(recursive=True)
        except psutil.Error:
            return []


# -- RSS sampling -------------------------------------------------------------------------


class RssSampler:
    """Samples the RSS of some processes every ``interval`` seconds in a thread."""

    def __init__(self, pids: dict[str, int], interval: float = 0.05) -> None:
        self.procs = {k: psutil.Process(pid) for k, pid in pids.items()}
        self.interval = interval
        self.first: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> None:
        for k, p in self.procs.items():
            with contextlib.suppress(psutil.Error):
                rss = p.memory_info().rss
                self.first.setdefault(k, rss)
                self.peak[k] = max(self.peak.get(k, 0), rss)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> None:
        self._sample()
        self._thread.start()

    def stop(self) -> dict[str, float]:
        """Growth (peak minus first sample) per process, in MB."""
        self._stop.set()
        self._thread.join()
        self._sample()
        return {k: (self.peak[k] - self.first[k]) / MB for k in self.first}


# -- measurements -------------------------------------------------------------------------


@dataclass
class Bench:
    server: ServerProcess
    big_file: Path
    big_lines: int
    quick: bool
    only: list[str] = field(default_factory=list)  # parts to run (``--only``); all if empty
    space_id: str = ""
    log: Callable[[str], None] = print
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    def target(self, kind: str) -> Target:
        return PaneTarget(self) if kind == "pane" else StockTarget(self)

    def find_tmux_pid(self) -> int | None:
        sock = self.server.socket_dir / "tmux.sock"
        out = subprocess.run(
            ["tmux", "-S", str(sock), "display", "-p", "#{pid}"],
            capture_output=True,
            text=True,
            check=False,
        )
        return int(out.stdout.strip()) if out.stdout.strip().isdigit() else None


async def flood_once(bench: Bench, kind: str, cap: float) -> dict[str, Any]:
    target = bench.target(kind)
    await target.create()
    term = await target.open()
    pids = {"server": bench.server.pid}
    if kind == "pane":
        # Looked up every time: tmux exits when its last session (pane) is deleted.
        tmux_pid = bench.find_tmux_pid()
        if tmux_pid:
            pids["tmux"] = tmux_pid
    sampler = RssSampler(pids)
    sampler.start()
    term.rate = SLOW_RATE
    await term.send("stdin", "yes\r")
    flood_start, t_start = term.total, time.perf_counter()
    await asyncio.sleep(2.0)
    fut_since = term.total
    client_rate = (fut_since - flood_start) / (time.perf_counter() - t_start) / MiB
    fut = term.expect(PROMPT, fut_since)
    t0 = time.perf_counter()
    await term.send("stdin", "\x03")
    got = await seen(fut, cap)
    growth = sampler.stop()
    latency = None if got is None else got.at - t0
    closed_early = term.closed_at is not None and got is None
    # Diagnostics: how much stale output the client had to process before the prompt, and
    # whether a pane sent a screen redraw (its resync sequence) instead of the backlog.
    backlog = (got.offset if got is not None else term.total) - fut_since
    after = term.text()[-(term.total - fut_since) :] if term.total > fut_since else ""
    redraw = "\x1b[?1049l\x1b[r\x1b[H\x1b[2J" in after
    # Stop the flood for good before the next measurement.
    term.rate = None
    if got is None:
        await term.close()
    else:
        with contextlib.suppress(TimeoutError):
            await term.idle(0.5, timeout=20)
        await term.close()
    deadline = time.perf_counter() + 10
    while target.running("yes") and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    yes_left = target.running("yes")
    await target.destroy()
    await asyncio.sleep(0.5)
    return {
        "latency_s": latency,
        "server_rss_growth_mb": growth.get("server"),
        "tmux_rss_growth_mb": growth.get("tmux"),
        "connection_closed_before_prompt": closed_early,
        "stale_chars_before_prompt": backlog,
        "screen_redraw": redraw,
        "client_rate_during_flood_mib_s": client_rate,
        "yes_still_running_after": yes_left,
    }


async def measure_flood(bench: Bench) -> None:
    cap = 30.0 if bench.quick else 60.0
    runs = 1 if bench.quick else 3
    out: dict[str, Any] = {"cap_s": cap}
    pane_runs = []
    for i in range(runs):
        r = await flood_once(bench, "pane", cap)
        bench.log(
            f"  pane flood run {i + 1}: {fmt_ms(r['latency_s'], cap)}, "
            f"server +{r['server_rss_growth_mb']:.1f} MB, "
            f"tmux +{(r['tmux_rss_growth_mb'] or 0):.1f} MB, "
            f"{r['stale_chars_before_prompt'] / 1024:.0f} KiB before the prompt, "
            f"redraw: {r['screen_redraw']}"
        )
        pane_runs.append(r)
        if r["yes_still_running_after"]:
            bench.log("  WARNING: `yes` was still running after the pane flood")
    lat = [r["latency_s"] for r in pane_runs]
    out["pane"] = {
        "runs": pane_runs,
        "latency_s": None if None in lat else statistics.median(lat),
        "server_rss_growth_mb": max(r["server_rss_growth_mb"] for r in pane_runs),
        "tmux_rss_growth_mb": max((r["tmux_rss_growth_mb"] or 0.0) for r in pane_runs),
    }
    r = await flood_once(bench, "terminal", cap)
    bench.log(
        f"  terminal flood: {fmt_ms(r['latency_s'], cap)}, "
        f"server +{r['server_rss_growth_mb']:.1f} MB, "
        f"{r['stale_chars_before_prompt'] / MiB:.1f} MiB before the prompt"
        + (" (connection closed by the server)" if r["connection_closed_before_prompt"] else "")
    )
    if r["yes_still_running_after"]:
        bench.log("  WARNING: `yes` was still running after the terminal flood")
    out["terminal"] = {"runs": [r], **{k: r[k] for k in ("latency_s", "server_rss_growth_mb")}}
    bench.results["flood"] = out


HOG = "import time\nend = time.monotonic() + 600\nwhile time.monotonic() < end:\n    pass\n"


@contextlib.contextmanager
def cpu_hogs(n: int = 2) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``n`` CPU-bound processes (bounded in time), killed when the block ends."""
    procs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(n)]
    try:
        yield procs
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()


async def measure_flood_loaded(bench: Bench) -> None:
    cap = 30.0 if bench.quick else 60.0
    runs = 3 if bench.quick else 5
    out: dict[str, Any] = {"cap_s": cap, "hogs": 2}
    with cpu_hogs(2):
        await asyncio.sleep(0.5)  # let the hogs take their share before the first flood
        pane_runs = []
        for i in range(runs):
            r = await flood_once(bench, "pane", cap)
            bench.log(
                f"  loaded pane flood run {i + 1}: {fmt_ms(r['latency_s'], cap)}, "
                f"{r['stale_chars_before_prompt'] / 1024:.0f} KiB before the prompt, "
                f"redraw: {r['screen_redraw']}"
            )
            pane_runs.append(r)
        r = await flood_once(bench, "terminal", cap)
        bench.log(
            f"  loaded terminal flood: {fmt_ms(r['latency_s'], cap)}, "
            f"{r['stale_chars_before_prompt'] / MiB:.1f} MiB before the prompt"
        )
    lat = [r["latency_s"] for r in pane_runs]
    out["pane"] = {"runs": pane_runs, "latency_s": None if None in lat else statistics.median(lat)}
    out["terminal"] = {"runs": [r], "latency_s": r["latency_s"]}
    bench.results["flood_loaded"] = out


def check_last_lines(text: str, total_lines: int, count: int) -> dict[str, Any]:
    """Are the file's last ``count`` lines in ``text``, complete, consecutive and in order?"""
    # A redraw places screen rows with cursor moves to column 1 instead of newlines, and keeps
    # trailing blanks: both still mean "this row holds this line".
    clean = ESCAPES.sub("", ROW_MOVE.sub("\n", text))
    line_re = re.compile(r"line (\d{8}) ([a-z]*) *\r?\n")
    expected_pad = PAD[: LINE_LEN - 15]
    found = [(int(m.group(1)), m.group(2) == expected_pad) for m in line_re.finditer(clean)]
    numbers = [n for n, _ in found]
    want = list(range(total_lines - count + 1, total_lines + 1))
    present = len(set(want) & set(numbers))
    ok = False
    if total_lines in numbers:
        end = len(numbers) - 1 - numbers[::-1].index(total_lines)
        window = found[end - count + 1 : end + 1] if end + 1 >= count else []
        ok = [n for n, _ in window] == want and all(full for _, full in window)
    return {"complete_in_order": ok, "present": present}


async def cat_once(bench: Bench, kind: str) -> dict[str, Any]:
    target = bench.target(kind)
    await target.create()
    # As a front end does: the pane's default history (a client that asks for none gets none).
    term = await target.open(history=HIST_LINES)
    term.tail_limit = 4 * MiB
    chars0, wire0 = term.total, term.wire
    fut = term.expect("CAT-2-DONE")
    t0 = time.perf_counter()
    await term.send("stdin", f"cat {bench.big_file}; echo CAT-$((1+1))-DONE\r")
    got = await seen(fut, 150)
    marker = None if got is None else got.at - t0
    size = bench.big_file.stat().st_size
    # Then wait (up to 10 s) until the last lines are complete too: a pane in flood mode sends
    # them in a full redraw right after the flood, which may be just after the marker.
    deadline = time.perf_counter() + 10
    check = check_last_lines(term.text(), bench.big_lines, CHECK_LINES)
    while got is not None and not check["complete_in_order"] and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
        check = check_last_lines(term.text(), bench.big_lines, CHECK_LINES)
    complete_at = time.perf_counter() - t0 if check["complete_in_order"] else None
    elapsed = None if marker is None or complete_at is None else max(marker, complete_at)
    await term.close()
    await target.destroy()
    await asyncio.sleep(0.5)
    return {
        "time_s": elapsed,
        "marker_s": marker,
        "mib_per_s": None if not elapsed else size / MiB / elapsed,
        "stdout_chars": term.total - chars0,
        "wire_chars": term.wire - wire0,
        "last_lines_complete": check["complete_in_order"],
        "last_lines_present": check["present"],
    }


async def measure_cat(bench: Bench) -> None:
    runs = 1 if bench.quick else 3
    out: dict[str, Any] = {"file_bytes": bench.big_file.stat().st_size, "runs": runs}
    per_kind: dict[str, list[dict[str, Any]]] = {"pane": [], "terminal": []}
    for i in range(runs):  # interleaved, so background load hits both alike
        for kind in ("pane", "terminal"):
            r = await cat_once(bench, kind)
            bench.log(
                f"  {kind} cat run {i + 1}: {fmt_s(r['time_s'])}, "
                f"{r['stdout_chars'] / MiB:.1f} MiB received, "
                f"last lines ok: {r['last_lines_complete']}"
            )
            per_kind[kind].append(r)
    size = out["file_bytes"]
    for kind, rs in per_kind.items():
        times = [r["time_s"] for r in rs]
        median = None if None in times else statistics.median(times)
        out[kind] = {
            "runs": rs,
            "time_s": median,
            "mib_per_s": None if not median else size / MiB / median,
            "stdout_chars": min(r["stdout_chars"] for r in rs),
            "last_lines_complete": all(r["last_lines_complete"] for r in rs),
            "last_lines_present": min(r["last_lines_present"] for r in rs),
        }
    bench.results["cat"] = out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def echo_once(bench: Bench, kind: str, n: int, warmup: int = 10) -> dict[str, Any]:
    target = bench.target(kind)
    await target.create()
    term = await target.open()
    samples: list[float] = []
    timeouts = 0
    letters = "abcdefghijklmnopqrstuvwxyz"
    for i in range(warmup + n):
        if i and i % 50 == 0:
            await term.send("stdin", "\x15")
            await term.idle(0.2)
        ch = letters[i % len(letters)]
        fut = term.expect(ch)
        t0 = time.perf_counter()
        await term.send("stdin", ch)
        got = await seen(fut, 5)
        if got is None:
            timeouts += 1
        elif i >= warmup:
            samples.append((got.at - t0) * 1000)
        await asyncio.sleep(0.01)
    await term.send("stdin", "\x15")
    await term.idle(0.2)
    await term.close()
    await target.destroy()
    await asyncio.sleep(0.3)
    return {
        "n": len(samples),
        "timeouts": timeouts,
        "p50_ms": percentile(samples, 50) if samples else None,
        "p99_ms": percentile(samples, 99) if samples else None,
        "max_ms": max(samples) if samples else None,
    }


async def measure_echo(bench: Bench) -> None:
    n = 100 if bench.quick else 300
    out: dict[str, Any] = {}
    for kind in ("pane", "terminal"):
        r = await echo_once(bench, kind, n)
        bench.log(f"  {kind} echo: p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms")
        out[kind] = r
    bench.results["echo"] = out


async def reattach_once(bench: Bench, kind: str, reps: int) -> dict[str, Any]:
    target = bench.target(kind)
    await target.create()
    term = await target.open()
    last = f"hist-{HIST_LINES:06d}"
    first = term.expect(last)
    await term.send("stdin", f"seq -f 'hist-%06g' 1 {HIST_LINES}\r")
    got = await seen(first, 30)
    if got is None or await seen(term.expect(PROMPT, got.offset), 30) is None:
        raise RuntimeError(f"{kind}: seq did not finish")
    await term.idle(0.5)
    await term.close()
    await asyncio.sleep(0.5)
    times: list[float | None] = []
    counts: list[int] = []
    for _ in range(reps):
        t0 = time.perf_counter()
        new = await target.connect(history=HIST_LINES)
        a = await seen(new.expect(last, 0), 20)
        b = None if a is None else await seen(new.expect(PROMPT, a.offset), 20)
        times.append(None if b is None else b.at - t0)
        nums = {int(m) for m in re.findall(r"hist-(\d{6})", new.text())}
        counts.append(len(nums & set(range(1, HIST_LINES + 1))))
        await new.close()
        await asyncio.sleep(0.4)
    await target.destroy()
    await asyncio.sleep(0.3)
    ok = [t for t in times if t is not None]
    return {
        "times_s": times,
        "time_s": statistics.median(ok) if len(ok) == len(times) else None,
        "lines": min(counts),
        "lines_per_rep": counts,
    }


async def measure_reattach(bench: Bench) -> None:
    reps = 3 if bench.quick else 5
    out: dict[str, Any] = {"reps": reps}
    for kind in ("pane", "terminal"):
        r = await reattach_once(bench, kind, reps)
        bench.log(
            f"  {kind} reattach: {fmt_ms(r['time_s'])} "
            f"({', '.join(fmt_ms(t) for t in r['times_s'])}), {r['lines']} lines"
        )
        out[kind] = r
    bench.results["reattach"] = out


# -- report -------------------------------------------------------------------------------


def fmt_ms(seconds: float | None, cap: float | None = None) -> str:
    if seconds is None:
        return f">{cap:.0f} s" if cap else "n/a"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def fmt_size(chars: float) -> str:
    return f"{chars / 1024:.0f} KiB" if chars < MiB else f"{chars / MiB:.1f} MiB"


def fmt_s(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:.2f} s"


def median_of(runs: int, prefix: str = " (") -> str:
    return f"{prefix}median of {runs})" if runs > 1 else ""


def runs_text(runs: int) -> str:
    return f"median of {runs} runs on fresh panes" if runs > 1 else "1 run"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _lines_complete(r: dict) -> str:
    return f"{'yes' if r['last_lines_complete'] else 'no'} ({r['last_lines_present']} present)"


def table(bench: Bench) -> str:
    res = bench.results
    rows: list[tuple[str, str, str, str, str]] = []
    cat = res.get("cat")
    if cat:
        p, t = cat["pane"], cat["terminal"]
        size = cat["file_bytes"] / MiB
        limit = None if t["time_s"] is None else 1.5 * t["time_s"]
        ok = (
            p["time_s"] is not None
            and limit is not None
            and p["time_s"] <= limit
            and p["last_lines_complete"]
        )

        def speed(r: dict[str, Any]) -> str:
            if r["time_s"] is None:
                return "n/a"
            return f"{r['time_s']:.2f} s ({r['mib_per_s']:.1f} MiB/s)"

        rows.append(
            (
                f"cat {size:.0f} MiB: time until marker and last lines{median_of(cat['runs'])} [1]",
                speed(p),
                speed(t),
                f"≤ 1.5x stock ({fmt_s(limit)}) and last 10 000 lines complete",
                verdict(ok),
            )
        )
        rows.append(
            (
                "cat: stdout received by the client (fewest of the runs)",
                f"{p['stdout_chars'] / MiB:.1f} MiB",
                f"{t['stdout_chars'] / MiB:.1f} MiB",
                "",
                "",
            )
        )
        rows.append(
            (
                "cat: last 10 000 lines complete, in order",
                _lines_complete(p),
                _lines_complete(t),
                "yes",
                verdict(p["last_lines_complete"]),
            )
        )
    flood = res.get("flood")
    if flood:
        p, t, cap = flood["pane"], flood["terminal"], flood["cap_s"]
        runs = len(p["runs"])
        rows.append(
            (
                f"Ctrl-C under `yes` flood, slow client{median_of(runs, ' (pane: ')} [2]",
                fmt_ms(p["latency_s"], cap),
                fmt_ms(t["latency_s"], cap),
                "≤ 100 ms",
                verdict(p["latency_s"] is not None and p["latency_s"] <= 0.1),
            )
        )
        loaded = res.get("flood_loaded")
        if loaded:
            lp, lt = loaded["pane"], loaded["terminal"]
            rows.append(
                (
                    "Ctrl-C under `yes` flood, slow client, 2 CPU hogs"
                    f"{median_of(len(lp['runs']), ' (pane: ')} [2]",
                    fmt_ms(lp["latency_s"], cap),
                    fmt_ms(lt["latency_s"], cap),
                    "≤ 300 ms",
                    verdict(lp["latency_s"] is not None and lp["latency_s"] <= 0.3),
                )
            )
        rows.append(
            (
                "Ctrl-C: stale output processed before the prompt [2]",
                fmt_size(statistics.median(r["stale_chars_before_prompt"] for r in p["runs"])),
                fmt_size(t["runs"][0]["stale_chars_before_prompt"]),
                "",
                "",
            )
        )
        rows.append(
            (
                "server RSS growth under flood [3]",
                f"{p['server_rss_growth_mb']:.1f} MB",
                f"{t['server_rss_growth_mb']:.1f} MB",
                "≤ 30 MB",
                verdict(p["server_rss_growth_mb"] <= 30),
            )
        )
        rows.append(
            (
                "tmux server RSS growth under flood [3]",
                f"{p['tmux_rss_growth_mb']:.1f} MB",
                "n/a (no tmux)",
                "(reported)",
                "",
            )
        )
    echo = res.get("echo")
    if echo:
        p, t = echo["pane"], echo["terminal"]
        rows.append(
            (
                f"echo round trip p50 (n={p['n']}) [4]",
                f"{p['p50_ms']:.2f} ms",
                f"{t['p50_ms']:.2f} ms",
                "",
                "",
            )
        )
        rows.append(
            (
                f"echo round trip p99 (n={p['n']}) [4]",
                f"{p['p99_ms']:.2f} ms",
                f"{t['p99_ms']:.2f} ms",
                "≤ 10 ms",
                verdict(p["p99_ms"] is not None and p["p99_ms"] <= 10 and not p["timeouts"]),
            )
        )
    re_ = res.get("reattach")
    if re_:
        p, t = re_["pane"], re_["terminal"]
        rows.append(
            (
                f"reattach with 10 000 lines{median_of(re_['reps'])} [5]",
                fmt_ms(p["time_s"]),
                fmt_ms(t["time_s"]),
                "≤ 300 ms",
                verdict(p["time_s"] is not None and p["time_s"] <= 0.3),
            )
        )
        rows.append(
            (
                "reattach: of the 10 000 lines, received",
                str(p["lines"]),
                str(t["lines"]),
                "",
                "",
            )
        )
    head = ("metric", "pane", "stock terminal", "target (pane)", "pane")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]

    def line(r: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"

    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return (
        "\n".join(out)
        + "\n\n"
        + FOOTNOTES.format(
            size=(cat or {}).get("file_bytes", 0) / MiB,
            cap=(flood or {}).get("cap_s", 60),
            n=(echo or {}).get("pane", {}).get("n", 0),
            reps=(re_ or {}).get("reps", 0),
            flood_runs=runs_text(len((flood or {}).get("pane", {}).get("runs", []))),
        )
    )


FOOTNOTES = """\
Both: `bash --norc --noprofile -i`, PS1="READY> ", 50x200, one jupyter-server process, fresh \
pane/terminal per measurement. Clients read the WebSocket only as fast as they process it; \
pane clients send ["ack", total] after each processed piece, stock ones cannot.
[1] Fast client. From sending `cat FILE; echo CAT-$((1+1))-DONE` until `CAT-2-DONE` is \
processed AND the file's last 10 000 lines are complete in what the client processed (a pane in \
flood mode sends them in a full redraw just after the flood); MiB/s = file size ({size:.0f} MiB \
of 80-byte numbered lines) / time. "Complete" = the last 10 000 lines, exact content, \
consecutive and in order in the received text (escape sequences stripped; a cursor move to \
column 1 counts as a line break, trailing blanks are allowed), in every run. Runs interleaved \
pane/stock, fresh each time. The pane client connects with ?history=10000, the default a \
front end gets.
[2] Slow client: processes at most 1 MiB/s (token bucket, 16 KiB burst, 4 KiB pieces, acks \
only what it processed). `yes` floods for 2 s, then Ctrl-C; time until "READY> " is processed \
in output after the Ctrl-C (a pane may send a screen redraw instead of the backlog). Capped at \
{cap:.0f} s. Pane: {flood_runs}; stock terminal: 1 run. "Stale output" = characters the client \
processed after sending Ctrl-C and before the prompt. "2 CPU hogs": two Python busy loops run \
beside the whole measurement (pane median of 5 runs, 3 with --quick).
[3] RSS (psutil, every 50 ms) from just before `yes` to the prompt (or the cap), max minus \
first sample, MB = 10^6 bytes; the pane figure is the largest of its runs, measured before \
the stock terminal's flood on a fresh server. tmux row: the tmux server process.
[4] Fast client at an idle prompt, one printable character per message, 10 ms apart, time \
until it is echoed; {n} keystrokes after 10 uncounted warm-up ones; nearest-rank percentiles.
[5] After `seq -f 'hist-%06g' 1 10000` and 0.5 s of silence, the old client is closed; time \
from starting a new WebSocket connect (pane: ?history=10000) until `hist-010000` and the \
prompt after it are processed. Median of {reps} reconnects; lines = distinct hist-N received \
(fewest over the reconnects)."""


# -- setup and main -------------------------------------------------------------------------


def write_big_file(path: Path, size: int) -> int:
    lines = size // LINE_LEN
    pad = PAD[: LINE_LEN - 15]
    with open(path, "wb") as f:
        step = 50_000
        for start in range(1, lines + 1, step):
            end = min(lines, start + step - 1)
            f.write("".join(f"line {i:08d} {pad}\n" for i in range(start, end + 1)).encode())
    return lines


async def run(bench: Bench) -> None:
    code, space = await asyncio.to_thread(
        bench.server.request, "POST", "/api/spaces", {"path": "bench"}
    )
    if code != 201:
        raise RuntimeError(f"creating the space failed: {code} {space}")
    bench.space_id = space["id"]
    steps: list[tuple[str, str, Callable[[Bench], Any]]] = [
        ("ctrl-c", "Ctrl-C under flood and RSS", measure_flood),
        ("ctrl-c", "Ctrl-C under flood, 2 CPU hogs beside", measure_flood_loaded),
        ("cat", "cat", measure_cat),
        ("echo", "echo round trip", measure_echo),
        ("reattach", "reattach", measure_reattach),
    ]
    for part, name, step in steps:
        if bench.only and part not in bench.only:
            continue
        t0 = time.perf_counter()
        bench.log(f"{name} ...")
        await step(bench)
        bench.log(f"  ({time.perf_counter() - t0:.1f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller, faster run")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--only",
        action="append",
        choices=["ctrl-c", "cat", "echo", "reattach"],
        default=[],
        help="run only this part (repeatable); ctrl-c is the flood, quiet and loaded",
    )
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is required", file=sys.stderr)
        return 2

    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="jspb-", dir="/tmp"))
    socket_dir = tmp / "s"
    root = tmp / "root"
    (root / "bench").mkdir(parents=True)
    big = tmp / "big.txt"
    size = (16 if args.quick else 64) * MiB
    server: ServerProcess | None = None
    try:
        lines = 0
        if not args.only or "cat" in args.only:
            print(f"writing {size // MiB} MiB test file ...", flush=True)
            lines = write_big_file(big, size)
        server = ServerProcess(
            root,
            socket_dir,
            tmp / "data",
            env={"PS1": PROMPT},
            extra_args=[
                "--ServerApp.terminado_settings=" + json.dumps({"shell_command": SHELL}),
            ],
        )
        server.start()
        print(f"server pid {server.pid} on {server.url}", flush=True)
        bench = Bench(
            server,
            big,
            lines,
            args.quick,
            only=args.only,
            log=lambda s: print(s, flush=True),
        )
        asyncio.run(run(bench))
        report = table(bench)
        print()
        print(report)
        load_end = os.getloadavg()[0]
        log_text = server.log.read_text(errors="replace") if server.log.exists() else ""
        log_errors = [ln for ln in log_text.splitlines() if "Traceback" in ln or "[E " in ln]
        if log_errors:
            print(f"\nserver log: {len(log_errors)} error lines, e.g. {log_errors[0][:200]}")
        print(
            f"\n(total run time {time.perf_counter() - started:.0f} s; 1-min load average "
            f"{load_start:.2f} at start, {load_end:.2f} at end, {os.cpu_count()} CPUs)"
        )
        if args.json:
            payload = {
                "quick": args.quick,
                "results": bench.results,
                "table": report,
                "server_log_error_lines": log_errors,
                "environment": {
                    "python": sys.version.split()[0],
                    "cpus": os.cpu_count(),
                    "loadavg_1min_start": load_start,
                    "loadavg_1min_end": load_end,
                    "tmux": subprocess.run(
                        ["tmux", "-V"], capture_output=True, text=True, check=False
                    ).stdout.strip(),
                },
            }
            Path(args.json).write_text(json.dumps(payload, indent=2))
        return 0
    finally:
        if server is not None:
            server.stop()
        subprocess.run(
            ["tmux", "-S", str(socket_dir / "tmux.sock"), "kill-server"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
