"""Every bad ``%spaces`` line gets one clear line, no traceback, and changes nothing."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_client.manager import KernelManager

from .conftest import STEERING, Kernel, Lab, kernel_env, until


def one_line(k: Kernel, code: str) -> str:
    got = k.run(code)
    assert got.status == "error", f"{code!r} did not fail: {got}"
    assert got.error is not None and len(got.error["traceback"]) == 1, got.error
    line = got.error["traceback"][0]
    assert "\n" not in line and "Traceback" not in line
    assert not got.data and not got.stdout, "nothing but the line"
    return line


def test_bad_lines_in_a_notebook(lab: Lab) -> None:
    (lab.root / "bad").mkdir()
    _, k = lab.notebook("bad/b.ipynb")
    space = k.result("%spaces new bad --name bad", "space")
    exited = k.result("%spaces run bad --title quitter -- sh -c 'exit 3'", "pane")
    until(
        lambda: (
            lab.api("GET", f"/api/spaces/{space['id']}/panes/{exited['id']}")["state"] == "exited"
        )
    )
    before_files = lab.files()
    before_api = lab.api("GET", "/api/spaces")

    cases = {
        "%spaces frobnicate": "unknown subcommand 'frobnicate'",
        "%spaces list --bogus": "unrecognized arguments: --bogus",
        "%spaces new": "the following arguments are required: path",
        "%spaces send": "the following arguments are required: pane",
        "%spaces send quitter": "required: TEXT",
        "%spaces tail quitter -n zero": "expected a whole number",
        "%spaces tail quitter -n 7\u00b3": "expected a whole number",
        "%spaces sessions --limit \u0663": "expected a whole number",
        "%spaces sessions --agent nope": "invalid choice: 'nope'",
        "%spaces list 'unclosed": "No closing quotation",
        "%spaces run bad --env NOEQUALS -- ls": "--env takes KEY=VALUE",
        "%%spaces tail quitter\nbody": "takes no cell body",
        "%%spaces send quitter\n\n": "the cell is empty",
        "%spaces list nosuch": "no space 'nosuch'",
        "%spaces run nosuch -- ls": "no space 'nosuch'",
        "%spaces new does/not/exist": "does/not/exist",
        "%spaces send nosuch hello": "no pane 'nosuch'",
        "%spaces tail nosuch": "no pane 'nosuch'",
        "%spaces send quitter hello": "has exited",
        "%spaces resume claude:no-such-session": "no agent session 'claude:no-such-session'",
        "%spaces resume zzzz-nothing": "no agent session 'zzzz-nothing'",
        "%spaces export codex:nothing-here": "no agent session",
        "%spaces run": "which space?",
        "%spaces link nosuch": "no space 'nosuch'",
    }
    for code, expected in cases.items():
        line = one_line(k, code)
        assert expected in line, f"{code!r}: {line!r}"
        assert line.startswith("\x1b[0;31mspaces:\x1b[0m "), line

    assert lab.files() == before_files, "no file changed"
    assert lab.api("GET", "/api/spaces") == before_api, "no space or pane changed"


@pytest.fixture
def loose_kernel() -> Iterator[Kernel]:
    """A kernel no server launched, with an empty runtime dir: nothing to discover."""
    empty = Path(tempfile.mkdtemp(prefix="jsp-rt-"))
    env = {k: v for k, v in os.environ.items() if k not in STEERING}
    env.update(kernel_env(), JUPYTER_RUNTIME_DIR=str(empty))
    km = KernelManager(connection_file=str(empty / "kernel-loose.json"))
    km.start_kernel(env=env)
    k = Kernel(empty / "kernel-loose.json")
    try:
        k.ok("%load_ext jupyter_spaces")
        yield k
    finally:
        k.close()
        km.shutdown_kernel(now=True)


def test_no_server_and_a_refused_token(lab: Lab, loose_kernel: Kernel) -> None:
    k = loose_kernel
    line = one_line(k, "%spaces list")
    assert "no Jupyter server found" in line
    for tried in (
        "JUPYTER_SPACES_URL is not set",
        "JUPYTERHUB_API_TOKEN is not set",
        "jpserver-*.json",
        "%env JUPYTER_SPACES_URL=",
    ):
        assert tried in line, line

    before = lab.files()
    k.ok(f"%env JUPYTER_SPACES_URL={lab.srv.url}/")
    k.ok("%env JUPYTER_SPACES_TOKEN=not-the-token")
    line = one_line(k, "%spaces new somewhere")
    assert "refused the token" in line and "JUPYTER_SPACES_TOKEN" in line
    assert lab.files() == before

    k.ok(f"%env JUPYTER_SPACES_TOKEN={lab.srv.token}")
    assert "Space" in k.ok("%spaces list").text, "a corrected token is picked up at once"
