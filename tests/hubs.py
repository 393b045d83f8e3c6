"""A real JupyterHub on 127.0.0.1 for tests: throwaway OS users, LocalProcessSpawner (each
single-user server runs as its user, with jupyter-spaces from this tree), the npm
configurable-http-proxy from tests/proxy (scripts/ensure-hub.sh installs it), and a test
service whose token may start and stop servers but not use them (no ``access:servers``).

Everything it starts is stopped by ``Hub.stop`` and ``remove_user`` (by pid and by the users'
uids, which belong to the test alone), also when a test fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import site
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import leftovers
from .server_process import free_port

REPO = Path(__file__).resolve().parent.parent
PROXY = REPO / "tests" / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"


def missing() -> str | None:
    """Why a real hub cannot run here (None: it can)."""
    if os.getuid() != 0:
        return "needs root: the test creates OS users and the hub spawns servers as them"
    for tool in ("useradd", "userdel", "setfacl", "tmux"):
        if shutil.which(tool) is None:
            return f"{tool} is missing (scripts/ensure-hub.sh and ensure-tmux.sh install it)"
    if not PROXY.exists():
        return "configurable-http-proxy is missing: run scripts/ensure-hub.sh"
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        return "jupyterhub is not installed (pip install -e '.[test]')"
    return None


@dataclass
class User:
    name: str
    uid: int
    gid: int
    home: Path
    token: str = field(default_factory=lambda: secrets.token_hex(24))
    granted: list[Path] = field(default_factory=list)

    @property
    def socket_dir(self) -> Path:
        """Where jupyter-spaces puts this user's tmux socket (no XDG_RUNTIME_DIR under the
        spawner): ``default_socket_dir()`` as this user."""
        return Path("/tmp") / f"jupyter-spaces-{self.uid}"

    def chown(self, path: Path) -> None:
        for p in [path, *path.rglob("*")]:
            os.chown(p, self.uid, self.gid, follow_symlinks=False)

    def run(self, argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` as this user (its own uid and group, no other groups)."""
        env = {"HOME": str(self.home), "USER": self.name, "PATH": "/usr/bin:/bin"}
        return subprocess.run(
            argv,
            user=self.uid,
            group=self.gid,
            extra_groups=[],
            env=env,
            cwd=str(self.home),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            **kw,
        )


def create_user(prefix: str) -> User:
    name = f"{prefix}{secrets.token_hex(3)}"
    # Homes private (0700), as a multi-user machine should have them; see docs/jupyterhub.md.
    subprocess.run(
        ["useradd", "-m", "-K", "HOME_MODE=0700", "-s", "/bin/bash", name],
        check=True,
        capture_output=True,
    )
    pw = pwd.getpwnam(name)
    user = User(name, pw.pw_uid, pw.pw_gid, Path(pw.pw_dir))
    grant_python(user)
    return user


def grant_python(user: User) -> None:
    """Let ``user`` reach this Python and this tree: folders on the way that others may not
    enter (a 0700 /root holding pyenv) get an ACL entry for this user alone, removed later."""
    targets = {Path(os.path.realpath(sys.executable)), Path(sys.prefix), REPO}
    targets |= {Path(p) for p in site.getsitepackages()}
    for target in targets:
        for folder in [*reversed(target.parents), target]:
            if not folder.is_dir() or folder in user.granted:
                continue
            if not folder.stat().st_mode & stat.S_IXOTH:
                subprocess.run(["setfacl", "-m", f"u:{user.name}:x", str(folder)], check=True)
                user.granted.append(folder)


def kill_processes_of(uid: int) -> None:
    """SIGKILL every process of ``uid`` (a throwaway test user's), one pid at a time."""
    for _ in range(20):
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def remove_user(user: User) -> None:
    with contextlib.suppress(Exception):
        sock = user.socket_dir / "tmux.sock"
        if sock.exists():
            argv = ["tmux", "-S", str(sock), "kill-server"]
            subprocess.run(argv, capture_output=True, timeout=10, check=False)
    kill_processes_of(user.uid)
    for folder in user.granted:
        subprocess.run(["setfacl", "-x", f"u:{user.name}", str(folder)], check=False)
    subprocess.run(["userdel", "-r", "-f", user.name], capture_output=True, check=False)
    shutil.rmtree(user.socket_dir, ignore_errors=True)
    shutil.rmtree(user.home, ignore_errors=True)


class HTTPError(Exception):
    def __init__(self, code: int, body: Any) -> None:
        super().__init__(f"HTTP {code}: {body}")
        self.code = code
        self.body = body


class Hub:
    def __init__(
        self,
        users: list[User],
        spaces: dict[str, Any] | None = None,
        per_user: dict[str, dict[str, Any]] | None = None,
        activity_interval: int = 2,
    ) -> None:
        """``spaces``: SpacesApp settings of every single-user server; ``per_user``: more
        settings by user name (set at spawn, by ``pre_spawn_hook``)."""
        self.users = {u.name: u for u in users}
        self.spaces = spaces or {}
        self.per_user = per_user or {}
        self.activity_interval = activity_interval
        self.dir = Path(tempfile.mkdtemp(prefix="jsp-hub-", dir="/tmp"))
        # Read by the single-user servers, so readable by all (holds no secret).
        self.shared = Path(tempfile.mkdtemp(prefix="jsp-hub-shared-", dir="/tmp"))
        self.shared.chmod(0o755)
        self.port = free_port()
        self.service_token = secrets.token_hex(24)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.dir / "hub.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _config(self) -> Path:
        config_dir = self.shared / "jupyter-config"
        config_dir.mkdir()
        (config_dir / "jupyter_server_config.json").write_text(
            json.dumps(
                {
                    "ServerApp": {"jpserver_extensions": {"jupyter_spaces": True}},
                    "SpacesApp": {"poll_interval": 0.5, **self.spaces},
                }
            )
        )
        for p in (config_dir, config_dir / "jupyter_server_config.json"):
            p.chmod(0o755 if p.is_dir() else 0o644)
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "PYTHONPATH": str(REPO),
            "JUPYTER_CONFIG_PATH": str(config_dir),
            "JUPYTERHUB_ACTIVITY_INTERVAL": str(self.activity_interval),
            leftovers.MARK: os.environ.get(leftovers.MARK, ""),
        }
        per_user = {
            name: [f"--SpacesApp.{k}={v}" for k, v in settings.items()]
            for name, settings in self.per_user.items()
        }
        service = "spaces-test"
        tokens = {u.token: u.name for u in self.users.values()}
        text = f"""
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {self.port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.command = [{str(PROXY)!r}]
c.ConfigurableHTTPProxy.auth_token = {secrets.token_hex(24)!r}
c.JupyterHub.db_url = "sqlite:///{self.dir}/hub.sqlite"
c.JupyterHub.cookie_secret_file = "{self.dir}/cookie_secret"
c.JupyterHub.pid_file = "{self.dir}/hub.pid"
# The proxy's own record of traffic is merged in every this many seconds; far beyond the test,
# so what the hub sees of a server is what the server reports (JUPYTERHUB_ACTIVITY_INTERVAL).
c.JupyterHub.last_activity_interval = 3600
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {set(self.users)!r}
c.JupyterHub.api_tokens = {tokens!r}
c.JupyterHub.services = [{{"name": {service!r}, "api_token": {self.service_token!r}}}]
c.JupyterHub.load_roles = [
    {{"name": "spaces-test", "scopes": ["admin:users", "admin:servers"],
      "services": [{service!r}]}},
]
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [{sys.executable!r}, "-m", "jupyterhub.singleuser"]
c.Spawner.environment = {env!r}
c.Spawner.start_timeout = 90
c.Spawner.http_timeout = 90
c.LocalProcessSpawner.interrupt_timeout = 5
c.LocalProcessSpawner.term_timeout = 5
c.LocalProcessSpawner.kill_timeout = 5
PER_USER = {per_user!r}

def pre_spawn_hook(spawner):
    spawner.args = list(spawner.args) + PER_USER.get(spawner.user.name, [])

c.Spawner.pre_spawn_hook = pre_spawn_hook
"""
        path = self.dir / "jupyterhub_config.py"
        path.write_text(text)
        return path

    def start(self, timeout: float = 60) -> Hub:
        config = self._config()
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(config)],
                cwd=self.dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the hub exited ({self.proc.returncode}):\n{self.tail()}")
            with contextlib.suppress(OSError, HTTPError):
                self.api("GET", "/hub/api/")
                return self
            time.sleep(0.3)
        raise RuntimeError(f"the hub did not answer in {timeout}s:\n{self.tail()}")

    def tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def api(
        self, method: str, path: str, token: str | None = None, body: Any = None
    ) -> tuple[int, Any]:
        """A request through the hub's proxy; (status, JSON or None); 4xx/5xx raise
        HTTPError."""
        data = None if body is None else json.dumps(body).encode()
        if data is None and method in ("POST", "PUT", "PATCH"):
            data = b"{}"
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"token {token or self.service_token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode(errors="replace")
            raise HTTPError(e.code, parsed) from None

    def call(
        self, method: str, path: str, token: str | None = None, body: Any = None
    ) -> tuple[int, Any]:
        """As ``api``, but a refusal is returned, not raised."""
        try:
            return self.api(method, path, token, body)
        except HTTPError as e:
            return e.code, e.body

    def server(self, name: str) -> dict[str, Any] | None:
        _, model = self.api("GET", f"/hub/api/users/{name}")
        server: dict[str, Any] | None = model["servers"].get("")
        return server

    def spawn(self, name: str, timeout: float = 90) -> None:
        self.api("POST", f"/hub/api/users/{name}/server")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.server(name)
            if server and server.get("ready"):
                return
            time.sleep(0.5)
        raise RuntimeError(f"{name}'s server did not start in {timeout}s:\n{self.tail()}")

    def stop_server(self, name: str, timeout: float = 60) -> None:
        with contextlib.suppress(HTTPError):
            self.api("DELETE", f"/hub/api/users/{name}/server")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server(name) is None:
                return
            time.sleep(0.5)
        raise RuntimeError(f"{name}'s server did not stop in {timeout}s")

    def user_api(
        self, user: User, method: str, path: str, body: Any = None, as_user: User | None = None
    ) -> tuple[int, Any]:
        """``path`` under ``user``'s server (``/api/...``), with the token of ``as_user``
        (default: ``user`` themself); refusals are returned."""
        token = (as_user or user).token
        return self.call(method, f"/user/{user.name}{path}", token, body)

    def stop(self) -> None:
        """Stop every server, then the hub (which stops its proxy); kill what is left."""
        if self.proc is not None and self.proc.poll() is None:
            for name in self.users:
                with contextlib.suppress(Exception):
                    self.stop_server(name, timeout=30)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if self.proc is not None:
            # The proxy and anything else in the hub's session.
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.shared, ignore_errors=True)
