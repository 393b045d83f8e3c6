"""A small terminado-protocol client for tests: collects stdout, feeds a pyte screen."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pyte


class Channel:
    def __init__(self, ws: Any, rows: int = 24, cols: int = 80, history: int = 0) -> None:
        self.ws = ws
        self.text = ""  # everything received on stdout
        self.errors: list[str] = []
        self.other: list[list[Any]] = []
        self.screen = (
            pyte.HistoryScreen(cols, rows, history=history + rows)
            if history
            else (pyte.Screen(cols, rows))
        )
        self.stream = pyte.Stream(self.screen)

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
            self.text += msg[1]
            self.stream.feed(msg[1])
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
