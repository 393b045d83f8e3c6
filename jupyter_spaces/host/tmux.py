"""The private tmux server that owns every durable pane.

One tmux server per user, on its own socket in a 0700 directory, started with the extension's own
config file (never the user's ``~/.tmux.conf``). Each pane is one tmux *session* holding one
window with one pane, so each pane has its own size and its own control-mode client
(see ``control.py``). Commands are always argv lists; nothing is pasted into a shell.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import shutil
import signal
import stat
import struct
import subprocess
import termios
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

SESSION_PREFIX = "jsp"
# A pane user option: the DEC private modes its program set that tmux has no format for
# (see screen.py). tmux keeps it, so it outlives a jupyter-server restart.
MODES_OPTION = "@jsp-modes"
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
    ]
)

INSTALL_HINT = (
    "tmux is not installed or not found: durable panes need it. Install it with "
    "`apt-get install tmux` (Debian/Ubuntu), `conda install -c conda-forge tmux` or "
    "`brew install tmux`, or set SpacesApp.tmux_command to its path."
)


class TmuxError(RuntimeError):
    """A tmux command failed; the message is tmux's own words."""


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


def session_name(space_id: str, pane_id: str) -> str:
    return f"{SESSION_PREFIX}_{space_id}_{pane_id}"


def parse_session_name(name: str) -> tuple[str, str] | None:
    """(space id, pane id) for a session this extension made, else None."""
    m = re.fullmatch(rf"{SESSION_PREFIX}_([a-z0-9]+)_([a-z0-9]+)", name)
    return (m.group(1), m.group(2)) if m else None


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
            # Keep dead panes so their exit status can be reported.
            "set -g remain-on-exit on",
            f'set -g default-terminal "{default_terminal}"',
            "set -g focus-events off",
            "set -g set-titles off",
            "set -g allow-rename off",
            "set -g automatic-rename off",
            "set -g destroy-unattached off",
            "set -g exit-unattached off",
            "set -g visual-activity off",
            "set -g visual-bell off",
            "set -g bell-action none",
            "set -g monitor-activity off",
            "",
        ]
    )


def send_keys_commands(target: str, text: str, chunk: int = 4096) -> list[list[str]]:
    """tmux commands (argv lists) that type ``text`` into ``target`` byte for byte.

    Runs of plain text go as ``send-keys -l``; control bytes and quotes go as ``send-keys -H``
    (raw bytes in hex), so nothing is interpreted as a key name and quoting stays trivial.
    """
    commands: list[list[str]] = []
    for is_plain, run in _runs(text):
        if is_plain:
            for i in range(0, len(run), chunk):
                commands.append(["send-keys", "-t", target, "-l", "--", run[i : i + chunk]])
        else:
            data = run.encode("utf-8")
            for i in range(0, len(data), chunk):
                hexes = [f"{b:02x}" for b in data[i : i + chunk]]
                commands.append(["send-keys", "-t", target, "-H", *hexes])
    return commands


def _plain(ch: str) -> bool:
    # ';' and '\\' are excluded because tmux treats a trailing ';' in an argument as a separator.
    return ch >= " " and ch not in "\x7f'\\;"


def _runs(text: str) -> Iterable[tuple[bool, str]]:
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or _plain(text[i]) != _plain(text[start]):
            yield _plain(text[start]), text[start:i]
            start = i


def quote(arg: str) -> str:
    """Quote one argument for a tmux command line (used on the control-mode channel)."""
    # Not '%' (a word starting with it is a directive such as %if), '#', '~', '$', '{', ';'.
    if arg and re.fullmatch(r"[A-Za-z0-9_@.:=/+,-]+", arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


def command_line(commands: Sequence[Sequence[str]]) -> str:
    """Several tmux commands as one control-mode line; tmux runs them without reading panes
    in between, which is what makes a capture consistent with the output stream."""
    return " ; ".join(" ".join(quote(a) for a in cmd) for cmd in commands)


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


class TmuxServer:
    """Runs tmux commands against the private server. Each call is one short-lived tmux client."""

    def __init__(
        self,
        socket_dir: Path,
        tmux_command: str = "tmux",
        history_limit: int = 50000,
        default_size: tuple[int, int] = (24, 80),
    ) -> None:
        self.socket_dir = Path(socket_dir)
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
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.environment(),
            start_new_session=True,
        )
        out, err = await proc.communicate()
        if check and proc.returncode != 0:
            raise TmuxError(
                err.decode("utf-8", "replace").strip() or f"tmux exited {proc.returncode}"
            )
        return out.decode("utf-8", "replace")

    async def new_pane(
        self,
        name: str,
        argv: Sequence[str],
        cwd: str,
        env: dict[str, str],
        size: tuple[int, int] | None = None,
    ) -> PaneInfo:
        """Start ``argv`` in a new detached session. The process is a child of the tmux server,
        never of jupyter-server, so it outlives the server."""
        rows, cols = size or self.default_size
        # With two or more arguments tmux execs directly; `sh -c 'exec "$0" "$@"'` makes even a
        # one-element argv exec without any shell parsing of the user's words.
        cmd = ["/bin/sh", "-c", 'exec "$0" "$@"', *argv]
        new = ["new-session", "-d", "-s", name, "-c", cwd, "-x", str(cols), "-y", str(rows)]
        for key, value in env.items():
            new += ["-e", f"{key}={value}"]
        await self.run(
            [*new, "--", *cmd],
            # A fixed per-window size: clients (control clients included) never change it.
            ["resize-window", "-t", f"={name}:", "-x", str(cols), "-y", str(rows)],
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
            if len(f) != 11:
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

    async def respawn(self, name: str, argv: Sequence[str], cwd: str) -> None:
        cmd = ["/bin/sh", "-c", 'exec "$0" "$@"', *argv]
        await self.run(
            ["respawn-pane", "-k", "-t", f"={name}:", "-c", cwd, "--", *cmd],
            # The modes the old program set are gone with it (see screen.py).
            ["set-option", "-p", "-u", "-t", f"={name}:", MODES_OPTION],
        )

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
