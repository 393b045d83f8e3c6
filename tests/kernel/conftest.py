"""Real kernels against a real ``jupyter server`` subprocess.

Kernels are started by the server itself (``POST /api/sessions``, as JupyterLab does when a
notebook opens), so they are children of the server, inherit its runtime dir and are known to its
sessions API: ``%spaces`` finds the server the way it does for a user, through the server's
``jpserver-<pid>.json`` and the kernel's parent process. The test talks to the kernel with
jupyter_client over the connection file the server wrote in its runtime dir.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.blocking.client import BlockingKernelClient

from ..conftest import HAVE_TMUX
from ..server_process import ServerProcess

REPO = Path(__file__).resolve().parents[2]
# Settings of the test runner that would steer discovery away from the path under test.
STEERING = ("JUPYTER_SPACES_URL", "JUPYTER_SPACES_TOKEN", "JUPYTERHUB_API_TOKEN")


def kernel_env() -> dict[str, str]:
    """The kernel must import this checkout, wherever its working directory is."""
    path = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": str(REPO) + (os.pathsep + path if path else "")}


@dataclass
class Run:
    """What one execution produced."""

    status: str
    stdout: str = ""
    stderr: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # the execute_result's mime bundle
    displays: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        return str(self.data.get("text/plain", ""))

    def error_line(self) -> str:
        assert self.error is not None, f"expected an error, got {self}"
        return "\n".join(self.error["traceback"])


class Kernel:
    """A jupyter_client connection to a kernel."""

    def __init__(self, connection_file: Path) -> None:
        self.connection_file = connection_file
        self.kc = self._connect()

    def _connect(self) -> BlockingKernelClient:
        kc = BlockingKernelClient(connection_file=str(self.connection_file))
        kc.load_connection_file()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        return kc

    def reconnect(self) -> None:
        self.kc.stop_channels()
        self.kc = self._connect()

    def run(self, code: str, timeout: float = 60) -> Run:
        out = Run(status="?")

        def hook(msg: dict[str, Any]) -> None:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                if content["name"] == "stdout":
                    out.stdout += content["text"]
                else:
                    out.stderr += content["text"]
            elif kind == "execute_result":
                out.data = content["data"]
            elif kind == "display_data":
                out.displays.append(content["data"])
            elif kind == "error":
                out.error = content

        reply = self.kc.execute_interactive(code, output_hook=hook, timeout=timeout)
        out.status = reply["content"]["status"]
        return out

    def ok(self, code: str, timeout: float = 60) -> Run:
        got = self.run(code, timeout)
        assert got.status == "ok", f"{code!r} failed: {got.error or got.stderr}"
        return got

    def value(self, expr: str) -> Any:
        """A Python value from the kernel (through its repr)."""
        import ast

        return ast.literal_eval(self.ok(f"print(repr({expr}))").stdout.strip())

    def result(self, line: str, attr: str) -> Any:
        """``attr`` of what the magic ``line`` returned."""
        self.ok(f"_r = {line}")
        return self.value(f"_r.{attr}")

    def close(self) -> None:
        self.kc.stop_channels()


def until(check: Callable[[], Any], timeout: float = 20, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out; last value {last!r}")


class Lab:
    """The server, and notebooks opened on it (a kernel each)."""

    def __init__(self, srv: ServerProcess) -> None:
        self.srv = srv
        self.root = srv.root
        self.claude_dir = Path(srv.env["CLAUDE_CONFIG_DIR"])
        self.kernels: list[tuple[str, Kernel]] = []

    @property
    def runtime_dir(self) -> Path:
        return self.srv.data_dir / "runtime"

    def api(self, method: str, path: str, body: Any = None) -> Any:
        code, got = self.srv.request(method, path, body)
        assert code < 300, f"{method} {path}: {code} {got}"
        return got

    def notebook(self, path: str) -> tuple[str, Kernel]:
        """Write an empty notebook, open it as JupyterLab would (a session with a kernel)."""
        file = self.root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbformat.v4.new_notebook(), file)
        session = self.api(
            "POST",
            "/api/sessions",
            {"path": path, "type": "notebook", "name": path, "kernel": {"name": "python3"}},
        )
        kernel_id = session["kernel"]["id"]
        conn = self.runtime_dir / f"kernel-{kernel_id}.json"
        until(conn.exists)
        kernel = Kernel(conn)
        self.kernels.append((kernel_id, kernel))
        kernel.ok("%load_ext jupyter_spaces")
        return kernel_id, kernel

    def restart(self, kernel_id: str, kernel: Kernel) -> None:
        old = kernel.value("__import__('os').getpid()")
        self.api("POST", f"/api/kernels/{kernel_id}/restart", {})
        kernel.reconnect()
        assert kernel.value("__import__('os').getpid()") != old, "a new kernel process"
        kernel.ok("%load_ext jupyter_spaces")

    def files(self) -> dict[str, bytes]:
        """Every file under the root (workspace files, notebooks), for 'nothing changed'."""
        return {
            str(p.relative_to(self.root)): p.read_bytes()
            for p in sorted(self.root.rglob("*"))
            if p.is_file() and ".ipynb_checkpoints" not in p.parts
        }

    def close(self) -> None:
        for kernel_id, kernel in self.kernels:
            kernel.close()
            self.srv.request("DELETE", f"/api/kernels/{kernel_id}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if not HAVE_TMUX:
        pytest.skip("tmux is not installed")
    saved = {k: os.environ.pop(k) for k in STEERING if k in os.environ}
    base = tmp_path_factory.mktemp("kernel")
    sockdir = Path(tempfile.mkdtemp(prefix="jsp-", dir="/tmp"))
    (base / "root").mkdir()
    # A home of its own: the agent-session index reads only the sessions the tests write.
    home = base / "home"
    env = dict(kernel_env(), HOME=str(home), CLAUDE_CONFIG_DIR=str(home / ".claude"))
    srv = ServerProcess(base / "root", sockdir, base / "data", env=env, poll_interval=0.3)
    srv.start()
    lab = Lab(srv)
    try:
        yield lab
    finally:
        lab.close()
        srv.stop()
        subprocess.run(
            ["tmux", "-S", str(sockdir / "tmux.sock"), "kill-server"], capture_output=True
        )
        shutil.rmtree(sockdir, ignore_errors=True)
        os.environ.update(saved)
