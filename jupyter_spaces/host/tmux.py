"""The private tmux server that owns every durable pane.

One tmux server per user, on its own socket in a 0700 directory, started with the extension's own
config file (never the user's ``~/.tmux.conf``). Each pane is one tmux *session* holding one
window with one pane, so each pane has its own size and its own control-mode client
(see ``control.py``). Commands are always argv lists; nothing is pasted into a shell.

What is said to tmux (names, send-keys, quoting, the spawn program) is ``commands.py``; the
clean-up of control clients a dead server left is ``clients.py``. Why this module is still about
500 lines: ``TmuxServer`` is one object, the one place that runs a tmux client, with its
timeout, its failure state and its recovery; each method is a few lines around that.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import signal
import stat
import struct
import subprocess
import termios
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Re-exported: callers name them as parts of the tmux host.
from .clients import CONTROL_OWNER as CONTROL_OWNER
from .clients import ClientInfo as ClientInfo
from .clients import die_with
from .clients import is_stale as is_stale
from .clients import socket_server_pid as socket_server_pid
from .commands import SESSION_PREFIX as SESSION_PREFIX
from .commands import command_line as command_line
from .commands import parse_session_name as parse_session_name
from .commands import quote as quote
from .commands import send_keys_commands as send_keys_commands
from .commands import session_name as session_name
from .commands import spawn_command as spawn_command

# A pane user option: the DEC private modes its program set that tmux has no format for
# (see screen.py). tmux keeps it, so it outlives a jupyter-server restart.
MODES_OPTION = "@jsp-modes"
# A pane user option: the agent's state (see agent_state/model.py), written by the agent's
# hooks and by the server; tmux keeps it across a jupyter-server restart.
AGENT_STATE_OPTION = "@jsp-agent-state"
# A pane user option: when the pane last rang the bell (set by a tmux hook, see
# services/agent_state.py).
BELL_OPTION = "@jsp-bell"
# Separates fields in list-panes output; tmux never puts it in a name we chose.
_SEP = "\x1f"
_PANE_FORMAT = _SEP.join(
    [
        "#{session_name}",
        "#{pane_id}",
        "#{pane_pid}",
        "#{pane_dead}",
        "#{pane_dead_status}",
        "#{pane_dead_signal}",
        "#{pane_width}",
        "#{pane_height}",
        "#{pane_current_path}",
        "#{pane_current_command}",
        "#{window_activity}",
        # Any process in the pane may write this option: only the characters a state uses
        # pass, so a value cannot add a line or a field to this listing. (A ';' or ',' here
        # would end the format: the trail's separator is '|'.)
        "#{=2000:#{s/[^a-z0-9_.| -]//:" + AGENT_STATE_OPTION + "}}",
        # Its length as written: a value that lost characters above was not a state.
        "#{n:" + AGENT_STATE_OPTION + "}",
        "#{=20:#{s/[^0-9]//:" + BELL_OPTION + "}}",
    ]
)

INSTALL_HINT = (
    "tmux is not installed or not found: durable panes need it. Install it with "
    "`apt-get install tmux` (Debian/Ubuntu), `conda install -c conda-forge tmux` or "
    "`brew install tmux`, or set SpacesApp.tmux_command to its path."
)


class TmuxError(RuntimeError):
    """A tmux command failed; the message is tmux's own words."""


class TmuxNotAnswering(TmuxError):
    """The private tmux server did not answer in time, or dropped the connection: it is stopped,
    stuck or dying. The message says what to do about it."""


class TmuxMissing(TmuxError):
    """tmux is not available on this machine."""

    def __init__(self) -> None:
        super().__init__(INSTALL_HINT)


@dataclass(frozen=True)
class PaneInfo:
    """What tmux reports about one pane (one session)."""

    session: str
    pane_id: str
    pid: int
    closed: bool  # the pane's terminal closed (the process is gone or going)
    dead: bool  # exited and reaped, so the status is known
    exit_status: int | None  # the exit code, or 128 + N for death by signal N (as shells say)
    exit_signal: str | None  # "TERM", "KILL", ... when a signal ended it
    cols: int
    rows: int
    current_path: str
    current_command: str
    activity: float
    agent_state: str = ""  # the raw @jsp-agent-state option, sanitised
    bell: str = ""  # the @jsp-bell option, digits only


def _exit_status(closed: bool, code: str, sig: str) -> tuple[int | None, str | None]:
    """(exit status, signal name) of a pane whose pty closed; (None, None) until reaped."""
    if not closed:
        return None, None
    if code:
        return int(code), None
    if not sig:
        return None, None
    # tmux prints the signal as a number on Linux and as a name on the BSDs.
    try:
        signum = int(sig) if sig.isdigit() else signal.Signals[f"SIG{sig}"].value
        return 128 + signum, signal.Signals(signum).name.removeprefix("SIG")
    except (KeyError, ValueError):
        return 128, sig


def tmux_config(history_limit: int, default_terminal: str) -> str:
    """The extension's own tmux config: tmux must stay invisible to the user's keystrokes."""
    return "\n".join(
        [
            "# Written by jupyter-spaces; the user's ~/.tmux.conf is never read.",
            "set -g status off",
            # No prefix key and no bindings: every keystroke goes to the program.
            "set -g prefix None",
            "set -g prefix2 None",
            "unbind -a -T prefix",
            "unbind -a -T root",
            "set -g mouse off",
            "set -g escape-time 0",
            "set -g assume-paste-time 0",
            f"set -g history-limit {history_limit}",
            # Keep dead panes so their exit status can be reported (the API and the pane's
            # header show it). No "Pane is dead" line: tmux writes it below a line feed at the
            # bottom, which scrolls the program's first line, often its error, off the screen.
            "set -g remain-on-exit on",
            'set -g remain-on-exit-format ""',
            f'set -g default-terminal "{default_terminal}"',
            "set -g focus-events off",
            "set -g set-titles off",
            "set -g allow-rename off",
            "set -g automatic-rename off",
            "set -g destroy-unattached off",
            "set -g exit-unattached off",
            "set -g visual-activity off",
            "set -g visual-bell off",
            # tmux runs the alert-bell hook only for a bell this option lets through; a bell
            # reaches no terminal anyway (control clients have none).
            "set -g bell-action current",
            "set -g monitor-activity off",
            "",
        ]
    )


# What a tmux client prints when the server went away in the middle of the conversation.
_LOST = ("server exited unexpectedly", "lost server")


def find_terminal_type() -> str:
    """tmux-256color where the terminfo entry exists, screen-256color otherwise."""
    for base in ("/usr/share/terminfo", "/lib/terminfo", "/etc/terminfo", "/usr/lib/terminfo"):
        if Path(base, "t", "tmux-256color").exists():
            return "tmux-256color"
    return "screen-256color"


def default_socket_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime) and os.access(runtime, os.W_OK):
        return Path(runtime) / "jupyter-spaces"
    return Path("/tmp") / f"jupyter-spaces-{os.getuid()}"


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` 0700 and refuse to use it if another user owns it or can enter it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.lstat()
    if not stat.S_ISDIR(st.st_mode):
        raise TmuxError(f"socket directory {path} is not a directory")
    if st.st_uid != os.getuid():
        raise TmuxError(f"socket directory {path} belongs to another user (uid {st.st_uid})")
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(path, 0o700)


class _Collect(asyncio.SubprocessProtocol):
    """Output of one tmux client; ``done`` once it exited and its pipes closed."""

    def __init__(self, done: asyncio.Future[None]) -> None:
        self.done = done
        self.out = bytearray()
        self.err = bytearray()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        (self.out if fd == 1 else self.err).extend(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


class TmuxServer:
    """Runs tmux commands against the private server. Each call is one short-lived tmux client."""

    def __init__(
        self,
        socket_dir: Path,
        tmux_command: str = "tmux",
        history_limit: int = 50000,
        default_size: tuple[int, int] = (24, 80),
        timeout: float = 20.0,
    ) -> None:
        self.socket_dir = Path(socket_dir)
        # Seconds a tmux command may take before the server counts as not answering.
        self.timeout = timeout
        # Why the server last failed to answer; None once any command got through again.
        self.failure: str | None = None
        self.socket_path = self.socket_dir / "tmux.sock"
        self.config_path = self.socket_dir / "tmux.conf"
        self.executable = shutil.which(tmux_command)
        self.history_limit = history_limit
        self.default_size = default_size

    @property
    def available(self) -> bool:
        return self.executable is not None

    def version(self) -> str | None:
        if not self.executable:
            return None
        out = subprocess.run([self.executable, "-V"], capture_output=True, text=True, check=False)
        return out.stdout.strip() or None

    def prepare(self) -> None:
        """Create the socket dir and write the config (read by tmux only when it starts)."""
        ensure_private_dir(self.socket_dir)
        self.config_path.write_text(tmux_config(self.history_limit, find_terminal_type()))

    def base_argv(self) -> list[str]:
        if not self.executable:
            raise TmuxMissing()
        # -u: the client speaks UTF-8 whatever the locale, so captures are never sanitised.
        return [self.executable, "-u", "-S", str(self.socket_path), "-f", str(self.config_path)]

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("LANG", "C.UTF-8")
        # A tmux server inherits the first client's TMUX variable; ours must not look nested.
        env.pop("TMUX", None)
        env.pop("TMUX_PANE", None)
        return env

    async def run(self, *commands: Sequence[str], check: bool = True) -> str:
        """Run one or more tmux commands in one client; return stdout."""
        argv = self.base_argv()
        for i, cmd in enumerate(commands):
            if i:
                argv.append(";")
            argv.extend(cmd)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        transport, client = await loop.subprocess_exec(
            lambda: _Collect(done),
            *argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.environment(),
            start_new_session=True,
        )
        try:
            await asyncio.wait_for(asyncio.shield(done), self.timeout)
        except TimeoutError:
            # A stopped or stuck server leaves its clients waiting forever; ours give up. tmux
            # hands a client's stdout to the server, so the pipes may never close: not waited on.
            raise self._failed(f"does not answer (no reply in {self.timeout:g} s)") from None
        finally:
            transport.close()  # kills the client if it still runs
        code = transport.get_returncode()
        message = client.err.decode("utf-8", "replace").strip()
        if code != 0 and any(lost in message for lost in _LOST):
            raise self._failed(f"dropped the connection ({message})")
        self.failure = None
        if check and code != 0:
            raise TmuxError(message or f"tmux exited {code}")
        return client.out.decode("utf-8", "replace")

    def _failed(self, what: str) -> TmuxNotAnswering:
        self.failure = f"the private tmux server {what}. {self.remedy()}"
        return TmuxNotAnswering(self.failure)

    def server_pid(self) -> int | None:
        return socket_server_pid(self.socket_path)

    def remedy(self) -> str:
        """What the user can do about a server that does not answer, with its pid if known."""
        pid = self.server_pid()
        sock = self.socket_path
        if pid is None:
            end = f"end it with `pkill -KILL -f 'tmux.*-S {sock}'`"
        else:
            end = f"if it was stopped, resume it with `kill -CONT {pid}`; otherwise end it with "
            end += f"`kill -KILL {pid}`"
        return (
            f"Panes show as gone until it answers; jupyter-spaces keeps checking and recovers by "
            f"itself. To fix it now: {end} (its panes end too: restart them from the space, "
            f"which starts a new tmux server). `jupyter spaces doctor` checks {sock}."
        )

    async def probe(self) -> bool:
        """Does the server answer (or is there none, so the next pane starts one)?"""
        try:
            await self.run(["list-sessions", "-F", "#{session_name}"], check=False)
        except TmuxNotAnswering:
            return False
        return True

    async def list_clients(self) -> list[ClientInfo]:
        fmt = _SEP.join(
            ["#{client_pid}", "#{client_control_mode}", "#{session_name}", "#{client_name}"]
        )
        out = await self.run(["list-clients", "-F", fmt], check=False)
        clients = []
        for line in out.splitlines():
            f = line.split(_SEP)
            if len(f) == 4 and f[0].isdigit():
                clients.append(ClientInfo(int(f[0]), f[1] == "1", f[2], f[3]))
        return clients

    async def clear_stale_clients(self) -> list[ClientInfo]:
        """Kill control clients left by a jupyter-server that died; a tmux server asked to exit
        waits on such clients, and they hold the panes' output."""
        if not self.socket_path.exists():
            return []
        stale = [c for c in await self.list_clients() if is_stale(c)]
        for client in stale:
            with contextlib.suppress(ProcessLookupError):
                os.kill(client.pid, signal.SIGKILL)
        return stale

    async def new_pane(
        self,
        name: str,
        argv: Sequence[str],
        cwd: str,
        env: dict[str, str],
        size: tuple[int, int] | None = None,
        options: Mapping[str, str | None] | None = None,
        signal: str | None = None,
    ) -> PaneInfo:
        """Start ``argv`` in a new detached session. The process is a child of the tmux server,
        never of jupyter-server, so it outlives the server. ``argv``, ``cwd`` and ``env`` reach
        the process byte for byte (see ``spawn_command``). Pane ``options`` are set in the same
        client, before the program can write its own; then ``signal`` is signalled."""
        rows, cols = size or self.default_size
        new = ["new-session", "-d", "-s", name, "-c", "/", "-x", str(cols), "-y", str(rows)]
        await self.run(
            [*new, "--", *spawn_command(argv, cwd, env)],
            *self._option_commands(name, options or {}),
            # A fixed per-window size: clients (control clients included) never change it.
            ["resize-window", "-t", f"={name}:", "-x", str(cols), "-y", str(rows)],
            *([["wait-for", "-S", signal]] if signal else []),
        )
        info = (await self.list_panes()).get(name)
        if info is None:
            raise TmuxError(f"tmux session {name} disappeared right after it was created")
        return info

    async def list_panes(self) -> dict[str, PaneInfo]:
        """Every session on the private server, by session name. Empty if the server is down."""
        if not self.socket_path.exists():
            return {}
        panes = await self._list_panes()
        if any(p.closed and not p.dead for p in panes.values()):
            # tmux 3.3a can lose the SIGCHLD of a process that dies right after it was started
            # and then never reaps it. Any other child's exit makes it reap them all.
            await self.run(["run-shell", "true"], check=False)
            panes = await self._list_panes()
        return panes

    async def _list_panes(self) -> dict[str, PaneInfo]:
        argv = ["list-panes", "-a", "-F", _PANE_FORMAT]
        try:
            out = await self.run(argv)
        except TmuxError as e:
            if "no server running" in str(e) or "error connecting" in str(e):
                return {}
            raise
        panes: dict[str, PaneInfo] = {}
        for line in out.splitlines():
            f = line.split(_SEP)
            if len(f) != 14:
                continue
            status, sig = _exit_status(f[3] == "1", f[4], f[5])
            panes[f[0]] = PaneInfo(
                session=f[0],
                pane_id=f[1],
                pid=int(f[2] or 0),
                closed=f[3] == "1",
                # tmux sees the pty close before it reaps the child; until then it runs.
                dead=status is not None,
                exit_status=status,
                exit_signal=sig,
                cols=int(f[6]),
                rows=int(f[7]),
                current_path=f[8],
                current_command=f[9],
                activity=float(f[10] or 0),
                # '!' is no state: parse_trail refuses a value that was more than a state.
                agent_state=f[11] if str(len(f[11])) == f[12] else "!" + f[11],
                bell=f[13],
            )
        return panes

    async def kill(self, name: str) -> None:
        await self.run(["kill-session", "-t", f"={name}"], check=False)

    async def send_text(self, name: str, text: str) -> None:
        cmds = send_keys_commands(f"={name}:", text)
        # Keep each tmux client's argv well below ARG_MAX.
        for i in range(0, len(cmds), 16):
            await self.run(*cmds[i : i + 16])

    async def resize(self, name: str, rows: int, cols: int) -> None:
        await self.run(["resize-window", "-t", f"={name}:", "-x", str(cols), "-y", str(rows)])

    async def capture(self, name: str, history: int) -> str:
        """Plain text of the screen plus up to ``history`` lines above it."""
        start = str(-history) if history > 0 else "0"
        out = await self.run(["capture-pane", "-p", "-J", "-t", f"={name}:", "-S", start])
        return out

    async def respawn(
        self,
        name: str,
        argv: Sequence[str],
        cwd: str,
        env: dict[str, str],
        options: Mapping[str, str | None] | None = None,
        signal: str | None = None,
    ) -> None:
        cmd = spawn_command(argv, cwd, env)
        await self.run(
            # The options first: the program may write its own at once (an agent's hooks).
            *self._option_commands(name, options or {}),
            ["respawn-pane", "-k", "-t", f"={name}:", "-c", "/", "--", *cmd],
            # The modes the old program set are gone with it (see screen.py).
            ["set-option", "-p", "-u", "-t", f"={name}:", MODES_OPTION],
            *([["wait-for", "-S", signal]] if signal else []),
        )

    @staticmethod
    def _option_commands(name: str, options: Mapping[str, str | None]) -> list[list[str]]:
        """Commands that set (or, for None, unset) pane user options of session ``name``."""
        target = f"={name}:"
        return [
            ["set-option", "-p", "-t", target, k, v]
            if v is not None
            else ["set-option", "-p", "-u", "-t", target, k]
            for k, v in options.items()
        ]

    async def set_pane_options(
        self, name: str, options: Mapping[str, str | None], signal: str | None = None
    ) -> None:
        """Set pane user options of session ``name``, then signal the ``wait-for`` channel
        ``signal`` (if any) in the same client."""
        commands = self._option_commands(name, options)
        if signal is not None:
            commands.append(["wait-for", "-S", signal])
        await self.run(*commands)

    async def wait_for(self, channel: str) -> None:
        """Return when ``channel`` is signalled (``tmux wait-for``); a signal given while
        nobody waited is kept by tmux and ends the next wait at once. Raises TmuxError when
        the server goes away. The client dies with this process (it is no control client,
        but it must not outlive us either)."""
        proc = await asyncio.create_subprocess_exec(
            *self.base_argv(),
            "wait-for",
            channel,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=self.environment(),
            start_new_session=True,
            preexec_fn=die_with(os.getpid()),
        )
        try:
            _, err = await proc.communicate()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        if proc.returncode != 0:
            raise TmuxError(err.decode("utf-8", "replace").strip() or "wait-for failed")

    async def bracketed_paste(self, name: str, timeout: float = 10) -> bool | None:
        """Whether the program in session ``name`` has bracketed paste on (DECSET 2004); None if
        tmux could not be asked.

        tmux 3.3a keeps the mode per pane but has no format for it. A client attached to a
        terminal is told (tmux sends it ``ESC[?2004h`` with the first redraw), so a read-only
        client that ignores the size and has the ``bpaste`` feature attaches to a throwaway pty
        and is detached at once. Nothing reaches the program: focus-events is off.
        """
        loop = asyncio.get_running_loop()
        master, slave = os.openpty()
        got = bytearray()
        eof = loop.create_future()
        proc: asyncio.subprocess.Process | None = None
        try:
            rows, cols = self.default_size
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            tty = os.ttyname(slave)
            os.set_blocking(master, False)

            def readable() -> None:
                try:
                    data = os.read(master, 65536)
                except BlockingIOError:
                    return
                except OSError:  # EIO: the client exited and closed the pty
                    data = b""
                if data:
                    got.extend(data)
                elif not eof.done():
                    eof.set_result(None)

            loop.add_reader(master, readable)
            env = self.environment()
            env["TERM"] = "xterm-256color"
            argv = [*self.base_argv(), "-T", "bpaste", "attach-session", "-r"]
            argv += ["-f", "ignore-size,read-only", "-t", f"={name}"]
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
            )
            os.close(slave)
            slave = -1
            deadline = loop.time() + timeout
            # The redraw that carries the mode is done in the server loop that attaches the
            # client; a detach is a later command, so it cannot overtake it.
            while not got and not eof.done() and loop.time() < deadline:
                await asyncio.sleep(0.005)
            if eof.done() or not got:
                return None
            await self.run(["detach-client", "-t", tty], check=False)
            await asyncio.wait_for(eof, max(0.1, deadline - loop.time()))
            await asyncio.wait_for(proc.wait(), max(0.1, deadline - loop.time()))
            return b"\x1b[?2004h" in got
        except (OSError, TimeoutError, TmuxError):
            return None
        finally:
            loop.remove_reader(master)
            os.close(master)
            if slave >= 0:
                os.close(slave)
            if proc is not None and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()

    async def kill_server(self) -> None:
        await self.run(["kill-server"], check=False)
