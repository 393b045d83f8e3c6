"""`jupyter spaces doctor|list` as a user runs them: subprocesses, no server needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .agent_env import agent_env  # noqa: F401 - fixture
from .conftest import needs_tmux, wait_for

# Each case starts the CLI as a user does (a new Python that imports jupyter-server): on a
# loaded 2-core machine a dozen of them outlast the suite's default hang guard.
pytestmark = [needs_tmux, pytest.mark.timeout(900)]


def run(args: list[str], config_dir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config_dir))
    return subprocess.run(
        [sys.executable, "-m", "jupyter_spaces.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def write_config(config_dir: Path, **spaces: str) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "jupyter_server_config.json").write_text(json.dumps({"SpacesApp": spaces}))


async def test_list_reads_workspace_files_without_a_server(
    api, jp_root_dir, jp_data_dir, tmp_path, jp_server_config
):
    for name in ("alpha", "beta"):
        (jp_root_dir / name).mkdir()
        code, space = await api("POST", body={"path": name})
        assert code == 201
    await api("POST", space["id"], "panes", body={"kind": "command", "argv": ["cat"], "title": "c"})
    (jp_root_dir / "alpha/.jupyter-spaces/space.json").write_text("{broken")
    cfg = tmp_path / "cfg"
    write_config(cfg, registry_path=jp_server_config["SpacesApp"]["registry_path"])

    out = run(["list", "--json"], cfg)
    assert out.returncode == 0, out.stderr
    rows = {r["name"] if r["status"] == "ok" else "alpha": r for r in json.loads(out.stdout)}
    assert rows["beta"]["status"] == "ok" and [p["title"] for p in rows["beta"]["panes"]] == ["c"]
    assert rows["alpha"]["status"] == "broken" and "JSON" in rows["alpha"]["message"]

    text = run(["list"], cfg)
    assert text.returncode == 0 and "beta" in text.stdout and "broken" in text.stdout


async def test_list_shows_what_each_agent_does(
    agent_env,  # noqa: F811
    api,
    jp_root_dir,
    tmp_path,
    jp_server_config,
):
    """The states come from the panes' tmux options: the CLI needs no server for them."""
    (jp_root_dir / "proj").mkdir()
    _, space = await api("POST", body={"path": "proj"})
    sid = space["id"]
    panes = []
    for _ in range(2):
        code, pane = await api("POST", sid, "panes", body={"kind": "agent", "agent": "claude"})
        assert code == 201, pane
        panes.append(pane["id"])

    async def state(pid: str) -> str:
        return str((await api("GET", sid, "panes", pid))[1]["agent_state"])

    await wait_for(lambda: _all_idle(state, panes), timeout=20)
    await api("POST", sid, "panes", panes[0], "input", body={"text": "ask for it\r"})
    await wait_for(lambda: _is(state, panes[0], "needs_input"), timeout=20)
    cfg = tmp_path / "cfg"
    spaces = jp_server_config["SpacesApp"]
    write_config(cfg, registry_path=spaces["registry_path"], socket_dir=spaces["socket_dir"])

    out = run(["list", "--json"], cfg)
    assert out.returncode == 0, out.stderr
    [row] = json.loads(out.stdout)
    assert row["needs_input"] == 1
    assert {p["id"]: p["agent_state"] for p in row["panes"]} == {
        panes[0]: "needs_input",
        panes[1]: "idle",
    }
    text = run(["list"], cfg)
    assert "1 needs input, 1 idle" in text.stdout, text.stdout


async def _all_idle(state, panes):  # type: ignore[no-untyped-def]
    return all([await state(p) == "idle" for p in panes])


async def _is(state, pid, wanted):  # type: ignore[no-untyped-def]
    return await state(pid) == wanted


def test_doctor_reports_each_check(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    sock = tmp_path / "sock"
    write_config(cfg, socket_dir=str(sock), registry_path=str(tmp_path / "reg.json"))
    out = run(["doctor", "--json"], cfg)
    checks = {c["check"]: c for c in json.loads(out.stdout)}
    assert checks["tmux"]["status"] == "OK" and "tmux 3" in checks["tmux"]["detail"]
    assert "will be created 0700" in checks["socket dir"]["detail"]
    assert set(checks) >= {"tmux", "socket dir", "registry", "space folders", "server extension"}

    sock.mkdir(mode=0o755)
    os.chmod(sock, 0o755)
    bad = run(["doctor"], cfg)
    assert bad.returncode == 1 and "must be 0700" in bad.stdout

    write_config(cfg, tmux_command="/no/such/tmux", socket_dir=str(tmp_path / "s2"))
    missing = run(["doctor"], cfg)
    assert missing.returncode == 1 and "apt-get install tmux" in missing.stdout


def test_bad_commands_say_so(tmp_path: Path) -> None:
    for args, words in ((["bogus"], "unknown command 'bogus'"), ([], "usage")):
        out = run(args, tmp_path)
        assert out.returncode == 2 and words in out.stderr, out
