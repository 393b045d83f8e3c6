"""A real ``jupyter server`` in a subprocess, for tests and benchmarks that kill or measure it."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``jupyter server`` with jupyter-spaces (and the stock terminals) on a loopback port."""

    def __init__(
        self,
        root: Path,
        socket_dir: Path,
        data_dir: Path,
        *,
        env: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
        **spaces: Any,
    ) -> None:
        """``spaces`` become ``--SpacesApp.<name>=<value>``; ``env`` is added to the server's
        environment (inherited by the stock terminals) and ``extra_args`` to its command line."""
        self.root = root
        self.socket_dir = socket_dir
        self.data_dir = data_dir
        self.spaces = spaces
        self.env = dict(env or {})
        self.extra_args = list(extra_args)
        self.token = secrets.token_hex(16)
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> ServerProcess:
        self.port = free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            sys.executable,
            "-m",
            "jupyter_server",
            f"--ServerApp.root_dir={self.root}",
            f"--ServerApp.port={self.port}",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.open_browser=False",
            f"--IdentityProvider.token={self.token}",
            f"--config={self._config_file()}",
            f"--SpacesApp.socket_dir={self.socket_dir}",
            f"--SpacesApp.registry_path={self.data_dir / 'registry.json'}",
        ]
        argv += [f"--SpacesApp.{k}={v}" for k, v in self.spaces.items()]
        argv += self.extra_args
        if os.getuid() == 0:
            argv.append("--allow-root")
        env = dict(
            os.environ,
            JUPYTER_DATA_DIR=str(self.data_dir / "jupyter-data"),
            JUPYTER_RUNTIME_DIR=str(self.data_dir / "runtime"),
        )
        env.update(self.env)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    log = self.log.read_text()
                    raise RuntimeError(f"server exited {self.proc.returncode}:\n{log}")
                try:
                    self.request("GET", "/api/spaces")
                    return self
                except (urllib.error.URLError, ConnectionError):
                    time.sleep(0.1)
            raise RuntimeError(f"server did not start:\n{self.log.read_text()}")
        except BaseException:
            self.stop()  # a server that failed to start is not left running
            raise

    def _config_file(self) -> Path:
        path = self.data_dir / "jupyter_server_config.json"
        extensions = {"jupyter_spaces": True, "jupyter_server_terminals": True}
        path.write_text(json.dumps({"ServerApp": {"jpserver_extensions": extensions}}))
        return path

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no shutdown hooks run."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid
