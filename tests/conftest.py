"""Shared fixtures: a real jupyter-server (pytest-jupyter) with the extension, on a private tmux
socket per test that is killed afterwards."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from . import leftovers

pytest_plugins = ["pytest_jupyter.jupyter_server"]

HAVE_TMUX = shutil.which("tmux") is not None
needs_tmux = pytest.mark.skipif(not HAVE_TMUX, reason="tmux is not installed")

# Inherited by every process a test starts (scripts/test.sh sets it for the whole run), so the
# end of the session can find any that a test left behind.
os.environ.setdefault(leftovers.MARK, f"pytest-{os.getpid()}-{time.time_ns()}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    left = leftovers.check(os.environ[leftovers.MARK]) if os.path.isdir("/proc/self") else {}
    if left:
        print("\n" + leftovers.report(left))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def kill_tmux_servers(directory: Path) -> None:
    """Stop every tmux server whose socket is under ``directory`` (tests nest them)."""
    for sock in directory.rglob("tmux.sock"):
        subprocess.run(["tmux", "-S", str(sock), "kill-server"], capture_output=True, timeout=30)


@pytest.fixture
def tmux_dir() -> Iterator[Path]:
    # Unix socket paths are limited to ~108 bytes, so not under pytest's long tmp_path.
    d = Path(tempfile.mkdtemp(prefix="jsp-", dir="/tmp"))
    try:
        yield d
    finally:
        if HAVE_TMUX:
            kill_tmux_servers(d)
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def jp_server_config(tmux_dir: Path, jp_data_dir: Path) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_spaces": True}},
        "SpacesApp": {
            "socket_dir": str(tmux_dir / "s"),
            "registry_path": str(jp_data_dir / "spaces-registry.json"),
            "poll_interval": 0.3,
        },
    }


@pytest.fixture
def api(jp_fetch: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """``await api("POST", body={...})`` -> (status, json or None); never raises on 4xx."""
    from tornado.httpclient import HTTPClientError

    async def call(method: str, *parts: str, body: Any = None, **params: Any) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"method": method, "params": params}
        if body is not None:
            kwargs["body"] = body if isinstance(body, (bytes, str)) else json.dumps(body)
        elif method in ("POST", "PATCH", "PUT"):
            kwargs["body"] = "{}"
        try:
            r = await jp_fetch("api", "spaces", *parts, **kwargs)
        except HTTPClientError as e:
            assert e.response is not None
            return e.code, json.loads(e.response.body or b"null")
        return r.code, json.loads(r.body) if r.body else None

    return call


async def wait_for(
    check: Callable[[], Awaitable[Any]], timeout: float = 10, interval: float = 0.05
) -> Any:
    """Poll ``check`` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s; last value: {last!r}")


async def trust(api: Callable[..., Awaitable[Any]], space_id: str) -> tuple[int, Any]:
    """Trust a space as the trust dialog does: fetch the plan, then name it."""
    code, plan = await api("GET", space_id, "plan")
    if code != 200:
        return code, plan
    result: tuple[int, Any] = await api(
        "POST", space_id, "trust", body={"plan_sha256": plan["plan_sha256"]}
    )
    return result
