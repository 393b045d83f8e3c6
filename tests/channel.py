"""A small terminado-protocol client for tests: collects stdout, feeds a pyte screen."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pyte


class Channel:
    """Received output is kept as chunks and fed to pyte only when a test looks at the screen:
    pyte is slow, and this client shares the server's event loop in in-process tests."""

    def __init__(self, ws: Any, rows: int = 24, cols: int = 80, history: int = 0) -> None:
        self.ws = ws
        self.chunks: list[str] = []  # everything received on stdout
        self.size = 0
        self.errors: list[str] = []
        self.other: list[list[Any]] = []
        self._screen: Any = (
            pyte.HistoryScreen(cols, rows, history=history + rows)
            if history
            else pyte.Screen(cols, rows)
        )
        self._stream = pyte.Stream(self._screen)
        self._fed = 0

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    @property
    def screen(self) -> Any:
        while self._fed < len(self.chunks):
            self._stream.feed(self.chunks[self._fed])
            self._fed += 1
        return self._screen

    def resize_screen(self, rows: int, cols: int) -> None:
        self.screen.resize(rows, cols)

    async def send(self, *msg: Any) -> None:
        await self.ws.write_message(json.dumps(list(msg)))

    async def recv(self, timeout: float = 5) -> list[Any] | None:
        raw = await asyncio.wait_for(self.ws.read_message(), timeout)
        if raw is None:
            return None
        msg = json.loads(raw)
        if msg[0] == "stdout":
            self.chunks.append(msg[1])
            self.size += len(msg[1])
        elif msg[0] == "error":
            self.errors.append(msg[1])
        else:
            self.other.append(msg)
        return msg

    async def until(self, predicate: Any, timeout: float = 10) -> None:
        """Read messages until ``predicate(self)`` is true."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out; screen:\n{self.display()}\nerrors: {self.errors}")
            try:
                msg = await self.recv(timeout=left)
            except asyncio.TimeoutError:
                continue
            if msg is None:
                raise AssertionError("channel closed")

    async def drain(self, quiet: float = 0.3) -> None:
        """Read until nothing arrives for ``quiet`` seconds."""
        while True:
            try:
                if await self.recv(timeout=quiet) is None:
                    return
            except asyncio.TimeoutError:
                return

    def display(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)


async def open_channel(jp_ws_fetch: Any, space_id: str, pane_id: str, **kw: Any) -> Channel:
    params = {k: str(v) for k, v in kw.items() if k == "history"}
    ws = await jp_ws_fetch("api", "spaces", space_id, "panes", pane_id, "channel", params=params)
    ch = Channel(ws, kw.get("rows", 24), kw.get("cols", 80), kw.get("history", 0))
    first = await ch.recv()
    assert first == ["setup", {}]
    return ch
