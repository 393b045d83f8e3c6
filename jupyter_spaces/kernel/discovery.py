"""Find the Jupyter server that launched this kernel, so ``%spaces`` needs no URL or token.

Tried in order, first hit wins:

1. ``JUPYTER_SPACES_URL`` (and ``JUPYTER_SPACES_TOKEN``): an explicit choice beats any guess.
2. JupyterHub: ``JUPYTERHUB_API_TOKEN`` with ``JUPYTERHUB_SERVICE_URL`` (the single-user
   server's own address; ``JUPYTERHUB_SERVICE_PREFIX`` is appended when the URL lacks it).
   With a token but no URL, the hub token is used with the server found in step 3.
3. The running-server files (``jpserver-<pid>.json``) in the Jupyter runtime dir, and in the
   folder of this kernel's connection file, whose ``pid`` is one of this process's ancestors:
   exactly the server that started the kernel, even when several servers run.
4. The only live server in those folders, if there is exactly one.

When nothing fits, :class:`DiscoveryError` says in one line what was tried and how to set
``JUPYTER_SPACES_URL``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ServerInfo:
    """Where the server is and how to authenticate."""

    url: str  # base URL including the server's base_url, ending in "/"
    token: str
    source: str  # how it was found, for messages
    root_dir: str | None = None
    pid: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class DiscoveryError(Exception):
    """No server could be found; the message lists what was tried."""


HOW_TO = (
    "point %spaces at a server with "
    "%env JUPYTER_SPACES_URL=http://host:port/base/ and %env JUPYTER_SPACES_TOKEN=<token>"
)


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def ancestors(pid: int | None = None, limit: int = 64) -> list[int]:
    """This process's parent, grandparent, ... (nearest first).

    Linux: read from /proc; elsewhere psutil if installed, else only the direct parent.
    """
    out: list[int] = []
    current = os.getppid() if pid is None else pid
    if not Path("/proc/self/stat").exists():
        try:
            import psutil  # optional: only for platforms without /proc

            return ([current] + [p.pid for p in psutil.Process(current).parents()])[:limit]
        except Exception:
            return [current] if current > 0 else []
    # pid 1 counts: in a container the server is often the first process.
    while current > 0 and len(out) < limit and current not in out:
        out.append(current)
        if current == 1:
            break
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
        except OSError:
            break
        # The command name (field 2) may hold spaces or parentheses: parse after its last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        current = int(fields[1])
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _connection_dir() -> Path | None:
    """The folder of this kernel's connection file (the launching server's runtime dir)."""
    if "ipykernel" not in sys.modules:
        return None
    try:
        from ipykernel.connect import get_connection_file

        return Path(get_connection_file()).resolve().parent
    except Exception:
        return None


def runtime_dirs() -> list[Path]:
    from jupyter_core.paths import jupyter_runtime_dir

    dirs = [Path(jupyter_runtime_dir())]
    conn = _connection_dir()
    if conn is not None and conn not in dirs:
        dirs.append(conn)
    return dirs


def server_files(dirs: list[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """Readable ``jpserver-*.json`` files (``nbserver-*`` for the classic server too)."""
    found = []
    for d in dirs:
        for pattern in ("jpserver-*.json", "nbserver-*.json"):
            for path in sorted(d.glob(pattern)):
                try:
                    info = json.loads(path.read_text())
                except (OSError, ValueError):
                    continue
                if isinstance(info, dict) and isinstance(info.get("pid"), int):
                    found.append((path, info))
    return found


def _from_file(path: Path, info: dict[str, Any], how: str) -> ServerInfo:
    if info.get("sock"):
        raise DiscoveryError(
            f"the server {path.name} listens on the Unix socket {info['sock']}, which %spaces "
            f"cannot use; start it with --port, or {HOW_TO}"
        )
    url = info.get("url") or (
        f"{'https' if info.get('secure') else 'http'}://{info.get('hostname') or 'localhost'}"
        f":{info.get('port')}{info.get('base_url') or '/'}"
    )
    return ServerInfo(
        url=_with_slash(str(url)),
        token=str(info.get("token") or ""),
        source=f"{how} {path}",
        root_dir=info.get("root_dir"),
        pid=info["pid"],
        extra=info,
    )


def find_server(
    env: Mapping[str, str] | None = None,
    dirs: list[Path] | None = None,
    parents: list[int] | None = None,
) -> ServerInfo:
    """The server to talk to, or :class:`DiscoveryError` naming everything tried."""
    env = os.environ if env is None else env
    tried: list[str] = []

    url = env.get("JUPYTER_SPACES_URL", "").strip()
    if url:
        return ServerInfo(
            _with_slash(url), env.get("JUPYTER_SPACES_TOKEN", ""), "JUPYTER_SPACES_URL"
        )
    tried.append("JUPYTER_SPACES_URL is not set")

    hub_token = env.get("JUPYTERHUB_API_TOKEN", "").strip()
    if hub_token:
        service = env.get("JUPYTERHUB_SERVICE_URL", "").strip()
        prefix = env.get("JUPYTERHUB_SERVICE_PREFIX", "").strip()
        if service:
            from urllib.parse import urlsplit, urlunsplit

            parts = urlsplit(service)
            url_path = parts.path or "/"
            if prefix and not url_path.rstrip("/").endswith(prefix.rstrip("/")):
                url_path = url_path.rstrip("/") + "/" + prefix.strip("/") + "/"
            full = urlunsplit((parts.scheme, parts.netloc, _with_slash(url_path), "", ""))
            return ServerInfo(full, hub_token, "JupyterHub (JUPYTERHUB_SERVICE_URL)")
        tried.append("JUPYTERHUB_API_TOKEN is set but JUPYTERHUB_SERVICE_URL is not")
    else:
        tried.append("JUPYTERHUB_API_TOKEN is not set")

    dirs = runtime_dirs() if dirs is None else dirs
    parents = ancestors() if parents is None else parents
    files = server_files(dirs)
    where = ", ".join(str(d) for d in dirs)
    for path, info in files:
        if info["pid"] in parents:
            server = _from_file(path, info, "running-server file of a parent process:")
            if not server.token and hub_token:
                server.token = hub_token  # a hub-spawned server authenticates with the hub
            return server
    live = [(p, i) for p, i in files if _alive(i["pid"])]
    tried.append(
        f"no running-server file (jpserver-*.json) in {where} belongs to a parent process of "
        f"this kernel (parents: {', '.join(map(str, parents[:6])) or 'none'})"
    )
    if len(live) == 1:
        path, info = live[0]
        server = _from_file(path, info, "the only running-server file:")
        if not server.token and hub_token:
            server.token = hub_token
        return server
    if live:
        names = ", ".join(f"{i.get('url')} (pid {i['pid']})" for _, i in live)
        tried.append(f"{len(live)} servers run ({names}), so none is picked")
    else:
        tried.append("no live server has a file there")
    raise DiscoveryError("no Jupyter server found: " + "; ".join(tried) + "; " + HOW_TO)
