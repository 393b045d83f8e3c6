"""A tmux control-mode client (``tmux -C attach``) for one pane session.

Why control mode: tmux sends every output byte (``%output``), stops reading a pane when its
control clients cannot take more (end-to-end backpressure), and queues command replies in order
with output. So a ``capture-pane`` sent on this channel is consistent with the stream: output
before its ``%begin`` is in the capture, output after its ``%end`` is not.

Everything here is dispatched synchronously from ``data_received``, in stream order; that order is
what the snapshot logic in ``stream.py`` relies on.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import fcntl
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .clients import CONTROL_OWNER, die_with
from .commands import command_line
from .tmux import TmuxError, TmuxServer

log = logging.getLogger(__name__)

F_SETPIPE_SZ = 1031  # Linux; a small pipe keeps little stale output between tmux and us.


@dataclass
class Reply:
    """The output lines of one command, and whether tmux said it failed."""

    lines: list[bytes] = field(default_factory=list)
    error: bool = False

    def text(self) -> str:
        return "\n".join(line.decode("utf-8", "replace") for line in self.lines)


ReplyHandler = Callable[[list[Reply]], None]


@dataclass
class _Pending:
    count: int
    handler: ReplyHandler
    replies: list[Reply] = field(default_factory=list)


class ControlClient(asyncio.Protocol):
    """Reads ``tmux -C`` output; sends command lines; calls back in stream order."""

    def __init__(
        self,
        server: TmuxServer,
        session: str,
        on_output: Callable[[bytes], None],
        on_notify: Callable[[str, list[bytes]], None],
        on_exit: Callable[[str], None],
    ) -> None:
        self.server = server
        self.session = session
        self.on_output = on_output
        self.on_notify = on_notify
        self.on_exit = on_exit
        self.proc: asyncio.subprocess.Process | None = None
        self.transport: asyncio.ReadTransport | None = None
        self._partial = b""
        self._pending: deque[_Pending] = deque()
        self._block: Reply | None = None
        self._block_guard = b""
        self._block_ours = False
        self._paused_since: float | None = None
        self._paused_total = 0.0
        loop = asyncio.get_running_loop()
        self.closed = loop.create_future()
        self._attached = loop.create_future()

    async def start(self, pause_after: float) -> None:
        loop = asyncio.get_running_loop()
        rfd, wfd = os.pipe()
        # Not Linux, or a pipe limit: a bigger pipe only adds latency.
        with contextlib.suppress(OSError):
            fcntl.fcntl(wfd, F_SETPIPE_SZ, 16384)
        argv = [*self.server.base_argv(), "-C", "attach-session", "-t", f"={self.session}"]
        # Who started this client: a later server kills it if that one is gone (tmux.is_stale).
        env = {**self.server.environment(), CONTROL_OWNER: str(os.getpid())}
        try:
            # stdin stays a pipe from us: when we go, tmux sees EOF and drops the client.
            self.proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=wfd,
                stderr=asyncio.subprocess.DEVNULL,
                env=env,
                start_new_session=True,
                preexec_fn=die_with(os.getpid()),
            )
        finally:
            os.close(wfd)
        self.transport, _ = await loop.connect_read_pipe(lambda: self, os.fdopen(rfd, "rb", 0))
        # Commands sent before the attach is done would run with no client ("no current client").
        done, _ = await asyncio.wait(
            [self._attached, self.closed], timeout=10, return_when=asyncio.FIRST_COMPLETED
        )
        if self._attached not in done:
            await self.close()
            raise TmuxError(f"could not attach to tmux session {self.session}")
        # A safety net: if we ever stop reading for this long, tmux drops our backlog and says
        # %pause instead of holding the pane or disconnecting us.
        self.command([["refresh-client", "-f", f"pause-after={max(1, round(pause_after))}"]], None)

    # -- commands -------------------------------------------------------------------------

    def send_line(self, line: str) -> None:
        if self.proc is None or self.proc.stdin is None or self.proc.stdin.is_closing():
            raise TmuxError(f"control client for {self.session} is closed")
        self.proc.stdin.write(line.encode("utf-8") + b"\n")

    def command(self, commands: Sequence[Sequence[str]], handler: ReplyHandler | None) -> None:
        """Send ``commands`` on one line (atomic in tmux); ``handler`` gets the replies in order,
        synchronously, before any output that follows them is dispatched."""
        self._pending.append(_Pending(len(commands), handler or (lambda replies: None)))
        try:
            self.send_line(command_line(commands))
        except TmuxError:
            self._pending.pop()
            raise

    async def run(self, commands: Sequence[Sequence[str]]) -> list[Reply]:
        fut: asyncio.Future[list[Reply]] = asyncio.get_running_loop().create_future()

        def done(replies: list[Reply]) -> None:
            if not fut.done():
                fut.set_result(replies)

        self.command(commands, done)
        return await fut

    # -- flow control ---------------------------------------------------------------------

    def pause(self) -> None:
        if self._paused_since is None and self.transport is not None:
            self._paused_since = time.monotonic()
            self.transport.pause_reading()

    def resume(self) -> None:
        if self._paused_since is not None and self.transport is not None:
            self._paused_total += time.monotonic() - self._paused_since
            self._paused_since = None
            self.transport.resume_reading()

    @property
    def paused(self) -> bool:
        return self._paused_since is not None

    def paused_seconds(self) -> float:
        """Total time spent not reading because of backpressure (a measure of demand)."""
        ongoing = time.monotonic() - self._paused_since if self._paused_since is not None else 0
        return self._paused_total + ongoing

    # -- protocol -------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            self._line(line)

    def _line(self, line: bytes) -> None:
        if self._block is not None:
            if (line.startswith(b"%end ") or line.startswith(b"%error ")) and line.split(b" ", 1)[
                1
            ] == self._block_guard:
                block, self._block = self._block, None
                block.error = line.startswith(b"%error")
                if self._block_ours:
                    self._reply(block)
            else:
                self._block.lines.append(line)
            return
        if line.startswith(b"%output "):
            # "%output %ID DATA": tmux escapes bytes below 0x20 and '\' as octal.
            data = line.split(b" ", 2)[2] if line.count(b" ") >= 2 else b""
            self.on_output(codecs.escape_decode(data)[0])
        elif line.startswith(b"%extended-output "):
            _head, _, data = line.partition(b" : ")
            self.on_output(codecs.escape_decode(data)[0])
        elif line.startswith(b"%begin "):
            self._block = Reply()
            self._block_guard = line.split(b" ", 1)[1]
            # The third field is 1 for commands this client sent (not the attach itself).
            self._block_ours = self._block_guard.rsplit(b" ", 1)[-1] == b"1"
        elif line.startswith(b"%session-changed"):
            if not self._attached.done():
                self._attached.set_result(None)
        elif line.startswith(b"%exit"):
            self._finish(line[6:].decode("utf-8", "replace") or "detached")
        elif line.startswith(b"%"):
            name, *args = line.split(b" ")
            self.on_notify(name[1:].decode("ascii", "replace"), args)

    def _reply(self, block: Reply) -> None:
        if not self._pending:
            return
        pending = self._pending[0]
        pending.replies.append(block)
        if len(pending.replies) == pending.count:
            self._pending.popleft()
            try:
                pending.handler(pending.replies)
            except Exception:  # a bad handler must not stop the stream
                log.exception("control reply handler failed")

    def _finish(self, reason: str) -> None:
        if self.closed.done():
            return
        self.closed.set_result(reason)
        # Whoever waits for replies gets empty error replies rather than hanging.
        while self._pending:
            p = self._pending.popleft()
            p.handler([Reply(error=True) for _ in range(p.count)])
        self.on_exit(reason)

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish("connection lost")

    async def close(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            try:
                if self.proc.stdin is not None and not self.proc.stdin.is_closing():
                    # An empty line detaches a control client cleanly.
                    self.proc.stdin.write(b"\n")
                    self.proc.stdin.close()
                await asyncio.wait_for(self.proc.wait(), 2)
            except (TimeoutError, ConnectionError):
                self.proc.kill()
                await self.proc.wait()
        if self.transport is not None:
            self.transport.close()
        self._finish("closed")
