"""`jupyter spaces snapshot|snapshots|restore|prune|trust` as a user runs them (subprocesses):
on the files when no server runs, through the REST API of the server that serves the folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_spaces import snapshots as snaps
from jupyter_spaces.model import Pane, Space
from jupyter_spaces.store import WorkspaceStore
from jupyter_spaces.trust import Notary

from . import test_cold_restore as cold
from .conftest import needs_tmux
from .test_server_restart import wait

# Each case starts the CLI as a user does (a new Python that imports jupyter-server): on a
# loaded 2-core machine a dozen of them outlast the suite's default hang guard.
pytestmark = [needs_tmux, pytest.mark.timeout(900)]
machine = cold.machine
SID = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def run(
    args: list[str], home: Path, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    full = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        **env,
    }
    for key in ("JUPYTER_SPACES_URL", "JUPYTER_SPACES_TOKEN"):
        full.pop(key, None)
    return subprocess.run(
        [sys.executable, "-m", "jupyter_spaces.cli", *args],
        capture_output=True,
        text=True,
        env=full,
        input=stdin,
        timeout=120,
    )


@pytest.fixture
def offline(tmp_path: Path) -> tuple[Path, Path, Path, Space]:
    """(home, project folder, claude root, space): a trusted space with an agent pane whose
    transcript exists, and no server running."""
    home = tmp_path / "home"
    claude = tmp_path / "claude"
    (claude / "projects").mkdir(parents=True)
    config = home / "config"
    config.mkdir(parents=True)
    settings = {
        "sessions_index_path": str(home / "index.sqlite"),
        "agent_roots": {"claude": [str(claude)], "codex": [], "gemini": []},
        "socket_dir": str(tmp_path / "sock"),
    }
    (config / "jupyter_server_config.json").write_text(json.dumps({"SpacesApp": settings}))
    folder = tmp_path / "proj"
    folder.mkdir()
    space = Space.new("proj")
    space.add_pane(Pane.new("agent", ["claude"], "", "claude", agent="claude", session_id=SID))
    WorkspaceStore().save(folder, space)
    notary = Notary(home / "jupyter-data" / "jupyter_spaces")
    notary.trust(WorkspaceStore.space_file(folder).read_bytes(), str(folder))
    transcript = claude / "projects" / "-proj" / f"{SID}.jsonl"
    transcript.parent.mkdir()
    transcript.write_text(
        json.dumps(
            {
                "type": "user",
                "sessionId": SID,
                "cwd": str(folder),
                "timestamp": "2026-01-01T00:00:00Z",
                "uuid": "u1",
                "message": {"role": "user", "content": "hello"},
            }
        )
        + "\n"
    )
    return home, folder, claude, space


def test_snapshots_without_a_server(offline):
    home, folder, claude, space = offline
    transcript = next((claude / "projects").glob(f"*/{SID}.jsonl"))
    out = run(["snapshot", str(folder), "--name", "first", "--json"], home)
    assert out.returncode == 0, out.stderr
    snap = json.loads(out.stdout)
    assert snap["name"] == "first" and snap["space_id"] == space.id
    assert [p["transcript"] for p in snap["panes"]] == [True]

    listed = run(["snapshots", str(folder), "--json"], home)
    assert [s["id"] for s in json.loads(listed.stdout)] == [snap["id"]]
    text = run(["snapshots", str(folder)], home)
    assert text.returncode == 0 and snap["id"] in text.stdout and "first" in text.stdout

    # The CLI deleted the transcript; the space was changed since. The restore puts both back.
    original = transcript.read_bytes()
    transcript.unlink()
    doc = json.loads(WorkspaceStore.space_file(folder).read_text())
    doc["name"] = "renamed"
    WorkspaceStore.space_file(folder).write_text(json.dumps(doc))
    Notary(home / "jupyter-data" / "jupyter_spaces").trust(
        WorkspaceStore.space_file(folder).read_bytes(), str(folder)
    )
    out = run(["restore", str(folder), snap["id"]], home)
    assert out.returncode == 0, out.stderr
    assert "1 transcript(s) put back" in out.stdout and "no server runs" in out.stdout
    assert transcript.read_bytes() == original
    assert WorkspaceStore().load(folder).space.name == "proj"
    notary = Notary(home / "jupyter-data" / "jupyter_spaces")
    assert trusted(notary, folder), "still trusted"

    out = run(["prune", str(folder), "--keep", "0", "--json"], home)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"deleted": [], "kept": [snap["id"]]}, "named: never pruned"


def test_prune_by_the_retention_policy_and_pins_without_a_server(offline):
    home, folder, _claude, _space = offline
    ids = [json.loads(run(["snapshot", str(folder), "--json"], home).stdout)["id"] for _ in "abc"]
    only_last = [
        "--keep-last",
        "1",
        "--keep-hourly",
        "0",
        "--keep-daily",
        "0",
        "--keep-weekly",
        "0",
    ]
    out = run(["pin", str(folder), ids[0]], home)
    assert out.returncode == 0 and f"pinned snapshot {ids[0]}" in out.stdout
    state = folder / ".jupyter-spaces"
    before = {str(p): p.read_bytes() for p in sorted(state.rglob("*")) if p.is_file()}
    out = run(["prune", str(folder), "--dry-run", *only_last, "--json"], home)
    assert out.returncode == 0, out.stderr
    dry = json.loads(out.stdout)
    assert dry["dry_run"] is True and dry["deleted"] == [ids[1]]
    assert dry["reasons"] == {ids[2]: ["last"], ids[0]: ["pinned"]}
    assert {str(p): p.read_bytes() for p in sorted(state.rglob("*")) if p.is_file()} == before
    text = run(["prune", str(folder), "--dry-run", *only_last], home).stdout
    assert f"would delete: {ids[1]}" in text and f"keep {ids[0]}: pinned" in text
    out = run(["prune", str(folder), *only_last, "--json"], home)
    assert json.loads(out.stdout)["deleted"] == [ids[1]]
    listed = run(["snapshots", str(folder)], home).stdout
    assert "[pinned]" in listed and "on disk" in listed and ids[1] not in listed
    assert run(["unpin", str(folder), ids[0]], home).returncode == 0
    out = run(["prune", str(folder), *only_last, "--json"], home)
    assert json.loads(out.stdout)["deleted"] == [ids[0]]


def test_bad_input_is_one_line_and_changes_nothing(offline, tmp_path):
    home, folder, _claude, _space = offline
    snap = json.loads(run(["snapshot", str(folder), "--json"], home).stdout)
    state = folder / ".jupyter-spaces"

    def files() -> dict[str, bytes]:
        return {str(p): p.read_bytes() for p in sorted(state.rglob("*")) if p.is_file()}

    before = files()
    cases = [
        (["restore", str(folder), "../x"], 1, "no snapshot"),
        (["restore", str(folder), "%2e%2e"], 1, "no snapshot"),
        (["restore", str(folder), "/etc/passwd"], 1, "no snapshot"),
        (["restore", str(folder), "20260101-000000-0000"], 1, "no snapshot"),
        (["restore", str(tmp_path / "nowhere"), snap["id"]], 1, "is not a folder"),
        (["snapshot", str(tmp_path)], 1, "has no space"),
        (["snapshot", str(folder), "--name", ""], 1, "name must be"),
        (["prune", str(folder), "--dry-run", "--keep", "1"], 2, "--dry-run goes with"),
        (["prune", str(folder), "--keep-last", "x"], 2, "whole number"),
        (["prune", str(folder), "--keep-last", "0"], 1, "at least 1"),
        (["pin", str(folder), "../x"], 1, "no snapshot"),
        (["unpin", str(folder)], 2, "SNAPSHOT"),
        (["prune", str(folder), "--keep", "-2"], 2, "whole number"),
        (["prune", str(folder), "--older-than", "soon"], 2, "number of days"),
        (["restore", str(folder)], 2, "SNAPSHOT"),
        (["snapshots"], 2, "PATH"),
    ]
    for args, status, words in cases:
        out = run(args, home)
        assert out.returncode == status, (args, out.stderr)
        assert words in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert "Traceback" not in out.stderr
    assert files() == before

    manifest = snaps.snapshot_dir(folder, snap["id"]) / snaps.MANIFEST
    manifest.write_text("{")
    before = files()
    out = run(["restore", str(folder), snap["id"]], home)
    assert out.returncode == 1 and "corrupt" in out.stderr
    listed = run(["snapshots", str(folder)], home)
    assert listed.returncode == 0 and "[corrupt]" in listed.stdout
    manifest.write_text(json.dumps({"version": 99}))
    out = run(["restore", str(folder), snap["id"]], home)
    assert out.returncode == 1 and "newer jupyter-spaces" in out.stderr
    assert {k: v for k, v in files().items() if not k.endswith(snaps.MANIFEST)} == {
        k: v for k, v in before.items() if not k.endswith(snaps.MANIFEST)
    }


def test_trust_without_a_server_signs_the_file(offline):
    home, folder, _claude, _space = offline
    doc = json.loads(WorkspaceStore.space_file(folder).read_text())
    doc["name"] = "edited by hand"
    WorkspaceStore.space_file(folder).write_text(json.dumps(doc))
    notary = Notary(home / "jupyter-data" / "jupyter_spaces")
    assert not trusted(notary, folder)
    # An untrusted space is not restored behind the user's back.
    snap = json.loads(run(["snapshot", str(folder), "--json"], home).stdout)
    out = run(["restore", str(folder), snap["id"]], home)
    assert out.returncode == 1 and "not trusted" in out.stderr
    # The plan is shown; with no terminal to answer and no --yes, nothing is trusted.
    out = run(["trust", str(folder)], home)
    assert out.returncode == 1 and "--yes" in out.stderr, out.stderr
    assert f"runs: claude --resume {SID}" in out.stdout and "then: " in out.stdout
    assert not trusted(notary, folder)
    out = run(["trust", str(folder), "--yes"], home)
    assert out.returncode == 0, out.stderr
    assert "trusted space edited by hand" in out.stdout
    assert trusted(notary, folder)
    WorkspaceStore.space_file(folder).write_text("{broken")
    out = run(["trust", str(folder), "--yes"], home)
    assert out.returncode == 1 and "cannot be trusted" in out.stderr


def trusted(notary: Notary, folder: Path) -> bool:
    return notary.is_trusted(WorkspaceStore.space_file(folder).read_bytes(), str(folder))


def test_with_a_server_the_commands_go_through_its_api(machine, tmp_path):
    root, sock, agents = machine
    (root / "proj").mkdir()
    data = tmp_path / "data"
    srv = cold.server(root, sock, agents, data)
    home = tmp_path / "cli"
    (home / "config").mkdir(parents=True)

    def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run(
            list(args),
            home,
            stdin=stdin,
            JUPYTER_DATA_DIR=str(data / "jupyter-data"),
            JUPYTER_RUNTIME_DIR=str(data / "runtime"),
        )

    try:
        _, space = srv.request("POST", "/api/spaces", {"path": "proj"})
        sid = space["id"]
        _, cmd = srv.request(
            "POST",
            f"/api/spaces/{sid}/panes",
            {"kind": "command", "argv": ["sh", "-c", "echo LIVE-$((6*7)); exec cat"]},
        )
        wait(lambda: "LIVE-42" in cold.screen(srv, sid, cmd["id"]))
        folder = str(root / "proj")
        out = cli("snapshot", folder, "--name", "api", "--json")
        assert out.returncode == 0, out.stderr
        snap = json.loads(out.stdout)
        # Through the server: it captured the live screen first.
        assert snap["panes"][0]["screen_bytes"] > 0
        _, listed = srv.request("GET", f"/api/spaces/{sid}/snapshots")
        assert [s["id"] for s in listed["snapshots"]] == [snap["id"]]

        # The pane runs: no answer, no restore.
        out = cli("restore", folder, snap["id"])
        assert out.returncode == 1 and "Pass --yes" in out.stderr, out.stderr
        _, now = srv.request("GET", f"/api/spaces/{sid}")
        assert now["panes"][0]["pid"] == cmd["pid"]
        out = cli("restore", folder, snap["id"], "--yes")
        assert out.returncode == 0, out.stderr
        assert "no server runs" not in out.stdout
        wait(lambda: "Press Enter to run" in cold.screen(srv, sid, cmd["id"]))
        assert "LIVE-42" not in cold.screen(srv, sid, cmd["id"]), "not run again by itself"

        # trust through the server starts the panes of a hand-edited file.
        space_file = root / "proj" / ".jupyter-spaces" / "space.json"
        doc = json.loads(space_file.read_text())
        doc["name"] = "edited"
        space_file.write_text(json.dumps(doc))
        _, edited = srv.request("GET", f"/api/spaces/{sid}")
        assert edited["trusted"] is False
        out = cli("trust", folder)
        assert out.returncode == 1 and "Press Enter" not in out.stdout, out.stderr
        assert "starts 0 pane(s) now" in out.stdout and "running now" in out.stdout, out.stdout
        assert "echo LIVE-$((6*7))" in out.stdout, out.stdout
        assert srv.request("GET", f"/api/spaces/{sid}")[1]["trusted"] is False
        out = cli("trust", folder, "--yes")
        assert out.returncode == 0 and "trusted space edited" in out.stdout, out.stderr
        _, trusted = srv.request("GET", f"/api/spaces/{sid}")
        assert trusted["trusted"] is True

        # The restore and the trust each took the space as it was first.
        _, listed = srv.request("GET", f"/api/spaces/{sid}/snapshots")
        reasons = {s["reason"] for s in listed["snapshots"]}
        assert {"before_restore", "before_trust"} <= reasons
        unnamed = [s["id"] for s in listed["snapshots"] if not s["name"]]
        out = cli("prune", folder, "--older-than", "0")
        assert out.returncode == 0 and f"deleted {len(unnamed)} snapshot(s)" in out.stdout
        _, listed = srv.request("GET", f"/api/spaces/{sid}/snapshots")
        assert all(s["name"] for s in listed["snapshots"]), "named ones are never pruned"
    finally:
        srv.stop()
