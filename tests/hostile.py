"""Helpers for the hostile-file tests: workspace files written as an attacker would (no server,
no signature), a real server to open them, and what the processes that ran were really given."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .server_process import ServerProcess

RECORDER = Path(__file__).with_name("recorder.py")
T0 = "2026-01-01T00:00:00Z"


def rec(out: Path, *args: str) -> list[str]:
    """An argv that records itself into ``out`` (see recorder.py)."""
    return [sys.executable, str(RECORDER), str(out), *args]


def pane(
    pane_id: str,
    argv: list[str],
    *,
    kind: str = "command",
    env: dict[str, str] | None = None,
    cwd: str = "",
    launch: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A pane as a file states it; ``launch`` defaults to the same argv and env."""
    env = env or {}
    return {
        "id": pane_id,
        "kind": kind,
        "title": pane_id,
        "argv": argv,
        "cwd": cwd,
        "env": env,
        "created": T0,
        "launch": launch if launch is not None else {"argv": argv, "env": env},
        **extra,
    }


def doc(space_id: str, *panes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    ids = [p["id"] for p in panes]
    layout: Any = None
    if len(ids) == 1:
        layout = {"type": "pane", "pane": ids[0]}
    elif ids:
        layout = {
            "type": "split",
            "direction": "row",
            "children": [{"type": "pane", "pane": i} for i in ids],
            "sizes": [1 / len(ids)] * len(ids),
        }
    return {
        "version": 1,
        "id": space_id,
        "name": space_id,
        "created": T0,
        "layout": layout,
        "panes": {p["id"]: p for p in panes},
        **extra,
    }


def plant(folder: Path, document: dict[str, Any] | bytes) -> Path:
    """Write a workspace file as ``git clone`` would bring it: bytes on disk, nothing signed."""
    state = folder / ".jupyter-spaces"
    state.mkdir(parents=True, exist_ok=True)
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    (state / "space.json").write_bytes(data)
    return state / "space.json"


def read_record(path: Path, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            record: dict[str, Any] = json.loads(path.read_text(errors="surrogateescape"))
            return record
        time.sleep(0.05)
    raise AssertionError(f"{path.name} was never written: the process did not run")


def cmdline(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    return [a.decode("utf-8", "surrogateescape") for a in raw.split(b"\0")[:-1]]


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    out = {}
    for item in raw.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            out[k.decode()] = v.decode("utf-8", "surrogateescape")
    return out


def sessions(sock: Path) -> list[str]:
    out = subprocess.run(
        ["tmux", "-S", str(sock / "tmux.sock"), "list-sessions", "-F", "#S"],
        capture_output=True,
        text=True,
    ).stdout
    return out.split()


def trust(srv: ServerProcess, space_id: str) -> tuple[int, Any]:
    """As the dialog does: fetch the plan, then trust naming it."""
    code, plan = srv.request("GET", f"/api/spaces/{space_id}/plan")
    if code != 200:
        return code, plan
    return srv.request(
        "POST", f"/api/spaces/{space_id}/trust", {"plan_sha256": plan["plan_sha256"]}
    )


class Machine:
    """A root folder, a tmux socket dir and a data dir that outlive servers; every server it
    started is stopped, and its tmux server killed, by ``close`` (also when a test fails)."""

    def __init__(self, tmp: Path) -> None:
        self.root = tmp / "root"
        self.root.mkdir()
        self.data = tmp / "data"
        self.sock = Path(tempfile.mkdtemp(prefix="jsp-", dir="/tmp"))
        self.servers: list[ServerProcess] = []

    def start(self, **spaces: Any) -> ServerProcess:
        spaces.setdefault("poll_interval", 0.3)
        srv = ServerProcess(
            self.root,
            self.sock,
            self.data,
            env={"SHELL": "/bin/sh", "HOME": str(self.data / "home")},
            **spaces,
        )
        self.servers.append(srv)
        return srv.start()

    def kill_tmux(self) -> None:
        subprocess.run(
            ["tmux", "-S", str(self.sock / "tmux.sock"), "kill-server"], capture_output=True
        )

    def close(self) -> None:
        for srv in self.servers:
            srv.stop()
        self.kill_tmux()
        shutil.rmtree(self.sock, ignore_errors=True)


def machine_fixture(tmp_path: Path) -> Iterator[Machine]:
    m = Machine(tmp_path)
    try:
        yield m
    finally:
        m.close()
