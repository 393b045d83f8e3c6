"""Schemathesis against the OpenAPI document on a real server: no input answers a 5xx.

The server runs in a subprocess (its own tmux socket in a temp dir, fake agent CLIs on PATH, a
temp root holding one space and one indexed session so real ids exist). ``schemathesis run`` (the
CLI, so the test does not depend on its Python API, which changes between major versions) checks
only ``not_a_server_error``, with few examples per operation and a time budget.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from .agent_env import environ, make_agent_env
from .agents.fixtures import c_assistant, c_user, claude_project, text, write_lines
from .conftest import needs_tmux
from .server_process import ServerProcess

pytestmark = needs_tmux

SCHEMA = Path(__file__).parent.parent / "jupyter_spaces" / "schema" / "openapi.yaml"
SID = "5b1c9d3e-1111-4a2b-8c3d-aaaaaaaaaaaa"
# Time budgets of the two runs; each test's own timeout leaves room for start and stop.
SESSIONS_TIME = 20
MAX_TIME = 50


def _schema_with_examples(dest: Path, space_id: str, sessions_only: bool = False) -> Path:
    """The OpenAPI document with the ids that exist as examples, so that the examples and
    coverage phases reach past the 404s into the handlers' real work; ``sessions_only``: just
    the agent-session reads and the usage report (schemathesis's own path filters do not combine
    reliably)."""
    doc = yaml.safe_load(SCHEMA.read_text())
    if sessions_only:
        doc["paths"] = {
            k: v
            for k, v in doc["paths"].items()
            if (k.startswith("/api/spaces/sessions") and not k.endswith("/resume"))
            or k == "/api/spaces/usage"
        }
    known = {"space_id": space_id, "agent": "claude", "session_id": SID}

    def fill(params: list[dict]) -> None:
        for p in params:
            if p.get("in") == "path" and p.get("name") in known:
                p["example"] = known[p["name"]]

    for param in doc.get("components", {}).get("parameters", {}).values():
        fill([param])
    for item in doc["paths"].values():
        fill(item.get("parameters", []))
        for op in item.values():
            if isinstance(op, dict):
                fill(op.get("parameters", []))
    dest.write_text(json.dumps(doc))
    return dest


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    """One server for both runs, with a space and an indexed session; stopped (and its tmux
    server killed) at the end."""
    tmp = tmp_path_factory.mktemp("st")
    sock = Path(tempfile.mkdtemp(prefix="jsp-", dir="/tmp"))  # short: tmux socket path limit
    root = tmp / "root"
    (root / "proj").mkdir(parents=True)
    agents = make_agent_env(tmp)
    cwd = str(root / "proj")
    write_lines(
        claude_project(agents.claude, cwd) / f"{SID}.jsonl",
        [c_user(SID, "hello", 0, cwd=cwd), c_assistant(SID, "m1", text("hi"), 1, cwd=cwd)],
    )
    srv = ServerProcess(
        root,
        sock,
        tmp / "data",
        env=environ(agents),
        sessions_index_path=tmp / "data" / "sessions.sqlite",
    )
    try:
        srv.start()
        code, space = srv.request("POST", "/api/spaces", {"path": "proj"})
        assert code == 201, space
        deadline = time.monotonic() + 15
        while srv.request("GET", f"/api/spaces/sessions/claude/{SID}")[0] != 200:
            assert time.monotonic() < deadline, "the session was never indexed"
            time.sleep(0.1)
        _schema_with_examples(tmp / "sessions.json", space["id"], sessions_only=True)
        yield srv, _schema_with_examples(tmp / "openapi.json", space["id"])
    finally:
        srv.stop()
        subprocess.run(["tmux", "-S", str(sock / "tmux.sock"), "kill-server"], capture_output=True)
        shutil.rmtree(sock, ignore_errors=True)


def run_schemathesis(srv: ServerProcess, schema: Path, max_time: int, *select: str) -> str:
    """``schemathesis run`` over the operations that the ``select`` options pick (all by
    default); asserts it found no 5xx and returns its report."""
    if shutil.which("schemathesis") is None and shutil.which("st") is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[test]')")
    argv = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        str(schema),
        f"--url={srv.url}",
        f"--header=Authorization: token {srv.token}",
        "--checks=not_a_server_error",
        "--max-examples=8",
        f"--max-time={max_time}",
        "--phases=examples,coverage,fuzzing",
        "--workers=1",
        "--request-timeout=20",
        "--generation-database=none",
        "--suppress-health-check=all",
        "--exclude-path-regex=/channel$",  # a WebSocket, not an HTTP operation
        "--no-color",
        *select,
    ]
    # Run beside the schema: schemathesis keeps a cache folder in its working directory.
    out = subprocess.run(
        argv, capture_output=True, text=True, timeout=max_time + 45, cwd=schema.parent
    )
    report = out.stdout[-20000:] + out.stderr[-5000:]
    assert out.returncode == 0, report
    return report


@pytest.mark.timeout(SESSIONS_TIME + 60)
def test_sessions_and_agents_answer_no_server_error(server: tuple[ServerProcess, Path]) -> None:
    """The agent-session reads, on their own, so their budget is not spent elsewhere."""
    srv, schema = server
    run_schemathesis(srv, schema.with_name("sessions.json"), SESSIONS_TIME)


@pytest.mark.timeout(MAX_TIME + 60)
def test_no_input_answers_a_server_error(server: tuple[ServerProcess, Path]) -> None:
    srv, schema = server
    run_schemathesis(srv, schema, MAX_TIME)
