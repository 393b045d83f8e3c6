"""How an agent pane is started, resumed, and wrapped so that the pane outlives the agent.

Everything here builds argv lists; nothing is pasted into a shell. The resume commands are the ones
``shared/reference/agent-formats.md`` gives (1.5, 2.5, 3.5):

- claude: ``claude --session-id <uuid>`` starts a session with an id we chose; ``claude --resume
  <id>`` resumes it, from the session's own directory (resume is directory-scoped).
- codex: no way to choose the id; ``codex resume <id>`` from the latest turn's directory.
- gemini: ``--session-id`` only from v0.41.0 (older versions reject it), so the version is asked
  first; ``gemini --resume <id>`` from the project root.
- custom: the user's command, and a resume template in which ``{session_id}`` is replaced.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

AGENT_KINDS = ("claude", "codex", "gemini", "custom")
CLI_NAMES = {"claude": "Claude Code", "codex": "Codex CLI", "gemini": "Gemini CLI"}
INSTALL_HINTS = {
    "claude": "npm install -g @anthropic-ai/claude-code",
    "codex": "npm install -g @openai/codex",
    "gemini": "npm install -g @google/gemini-cli",
}
SESSION_PLACEHOLDER = "{session_id}"
GEMINI_SESSION_ID_SINCE = (0, 41, 0)

# The pane runs this with the agent's argv as "$@" and the user's shell as "$0": a notice line
# first (if any), the agent (or a sentence if it is not installed), then an interactive shell, so
# the pane stays usable after the agent exits. The argv is never parsed by this shell. When the
# agent ends, the state reporter (five words, or five empty ones) records "exited". A Ctrl-C
# meant for the agent must not end this shell too: it catches SIGINT (a handler, not an ignore,
# so the agent gets the default action back when it is executed).
_WRAPPER = r"""notice=$1 py=$2 rs=$3 tm=$4 so=$5 se=$6; shift 6
trap : INT
[ -n "$notice" ] && printf '\033[2m[jupyter-spaces] %s\033[0m\r\n' "$notice"
if command -v -- "$1" >/dev/null 2>&1; then
  "$@"
  status=$?
  [ -n "$py" ] && "$py" -I -S "$rs" "$tm" "$so" "$se" exited </dev/null >/dev/null 2>&1
  printf '\r\n\033[2m[jupyter-spaces] %s exited with status %s\033[0m\r\n' "$1" "$status"
else
  [ -n "$py" ] && "$py" -I -S "$rs" "$tm" "$so" "$se" exited </dev/null >/dev/null 2>&1
  printf '\033[31m[jupyter-spaces] %s is not installed: no %s on PATH.\033[0m\r\n' "$1" "$1"
fi
exec "$0" -l
"""


@dataclass(frozen=True)
class AgentLaunch:
    """What to run for an agent pane: argv, the session id it will write (if known up front),
    and a notice shown above the agent in the pane."""

    argv: list[str]
    session_id: str | None
    notice: str = ""


def wrap(
    argv: Sequence[str], shell: str, notice: str = "", on_exit: Sequence[str] = ()
) -> list[str]:
    """The pane's real command: ``/bin/sh -c WRAPPER <shell> <notice> <on_exit> <argv...>``;
    ``on_exit`` is (python, report.py, tmux, socket, session) or empty."""
    if len(on_exit) not in (0, 5):
        raise ValueError("on_exit takes python, report.py, tmux, socket and session")
    return ["/bin/sh", "-c", _WRAPPER, shell, notice, *(list(on_exit) or [""] * 5), *argv]


def profile_flags(model: str | None, args: Sequence[str]) -> list[str]:
    """The stored launch profile as flags: ``--model`` (all three CLIs accept it), then extras."""
    return (["--model", model] if model else []) + list(args)


def fill_template(template: Sequence[str], session_id: str) -> list[str]:
    return [a.replace(SESSION_PLACEHOLDER, session_id) for a in template]


def new_session(
    agent: str,
    model: str | None,
    args: Sequence[str],
    *,
    custom_argv: Sequence[str] = (),
    session_id: str | None = None,
    gemini_chooses_id: bool = True,
) -> AgentLaunch:
    """A fresh conversation. claude (and a new enough gemini) gets an id chosen here, so that
    the pane knows its session before the agent writes a byte; codex ids are detected later."""
    flags = profile_flags(model, args)
    if agent == "claude":
        sid = session_id or str(uuid.uuid4())
        return AgentLaunch(["claude", "--session-id", sid, *flags], sid)
    if agent == "gemini" and gemini_chooses_id:
        sid = session_id or str(uuid.uuid4())
        return AgentLaunch(["gemini", "--session-id", sid, *flags], sid)
    if agent in ("gemini", "codex"):
        return AgentLaunch([agent, *flags], None)
    return AgentLaunch(list(custom_argv), session_id)


def resume_session(
    agent: str,
    session_id: str,
    model: str | None,
    args: Sequence[str],
    *,
    template: Sequence[str] | None = None,
) -> AgentLaunch:
    """Resume ``session_id`` with the stored launch profile (run it in the session's cwd)."""
    flags = profile_flags(model, args)
    if agent == "claude":
        return AgentLaunch(["claude", "--resume", session_id, *flags], session_id)
    if agent == "codex":
        return AgentLaunch(["codex", "resume", session_id, *flags], session_id)
    if agent == "gemini":
        return AgentLaunch(["gemini", "--resume", session_id, *flags], session_id)
    if not template:
        raise ValueError("a custom agent needs a resume template to resume a session")
    return AgentLaunch(fill_template(template, session_id), session_id)


def find_cli(program: str, env: Mapping[str, str] | None = None) -> str | None:
    """The agent's executable on the PATH the pane will have, or None."""
    path = (env or {}).get("PATH") or os.environ.get("PATH", os.defpath)
    return shutil.which(program, path=path)


def agent_clis(env: Mapping[str, str] | None = None) -> list[dict[str, object]]:
    """The agent CLIs this server knows, each with whether it is on the PATH panes get.

    The front end shows a button per CLI (greyed, with ``install_hint``, when it is missing) and
    a launcher tile per installed one.
    """
    out: list[dict[str, object]] = []
    for agent, name in CLI_NAMES.items():
        found = find_cli(agent, env)
        out.append(
            {
                "agent": agent,
                "name": name,
                "installed": found is not None,
                "path": found,
                "install_hint": INSTALL_HINTS.get(agent),
            }
        )
    return out


def missing_cli_message(agent: str, program: str) -> str:
    name = CLI_NAMES.get(agent, program)
    hint = INSTALL_HINTS.get(agent)
    tail = f" (install it with `{hint}`)" if hint else ""
    return f"{name} is not installed: there is no {program!r} on the server's PATH{tail}"


_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_version_cache: dict[tuple[str, int], tuple[int, ...] | None] = {}
_version_lock = threading.Lock()


def cli_version(executable: str, timeout: float = 15.0) -> tuple[int, ...] | None:
    """``<executable> --version`` as numbers, cached per executable and modification time;
    None when it cannot be told (then callers assume the oldest behaviour)."""
    try:
        key = (executable, os.stat(executable).st_mtime_ns)
    except OSError:
        return None
    with _version_lock:
        if key in _version_cache:
            return _version_cache[key]
    try:
        out = subprocess.run(
            [executable, "--version"],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    m = _VERSION.search(out)
    version = tuple(int(x) for x in m.groups()) if m else None
    with _version_lock:
        _version_cache[key] = version
    return version


def gemini_chooses_id(executable: str | None) -> bool:
    """Whether this gemini takes ``--session-id`` (v0.41.0 and later)."""
    if executable is None:
        return True  # not installed: the pane says so; the id is harmless
    version = cli_version(executable)
    return version is not None and version >= GEMINI_SESSION_ID_SINCE


def open_files(pid: int) -> set[str]:
    """Paths the process ``pid`` and its descendants hold open (Linux /proc; empty elsewhere).

    Codex keeps its rollout file open while it runs, so this proves which pane wrote which new
    session when two start in one folder at the same moment."""
    out: set[str] = set()
    for p in _descendants(pid):
        fd_dir = f"/proc/{p}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                out.add(os.readlink(f"{fd_dir}/{fd}"))
            except OSError:
                continue
    return out


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return [pid]
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the ppid follows the last ')'.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, ()))
    return out
