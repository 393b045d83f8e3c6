"""Snapshots: the storage (ids, corrupt and newer manifests, prune, putting files back), the API,
and end to end with a real server subprocess and real tmux: a snapshot brings a space back after
the machine restarted and the agent CLI deleted the transcript."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from jupyter_spaces import snapshots as snaps
from jupyter_spaces.errors import SpacesError
from jupyter_spaces.model import Pane, Space
from jupyter_spaces.store import WorkspaceStore

from . import test_cold_restore as cold
from .conftest import needs_tmux, trust
from .test_server_restart import wait

machine = cold.machine
SID = "3f0c9a52-7d1e-4b8a-9c55-1e2f3a4b5c6d"


# -- storage --------------------------------------------------------------------------------


def make_space(folder: Path, session_id: str | None = SID) -> Space:
    folder.mkdir(parents=True, exist_ok=True)
    space = Space.new("demo")
    space.add_pane(Pane.new("shell", ["/bin/sh"], "", "sh"))
    agent = Pane.new("agent", ["claude"], "", "claude", agent="claude", session_id=session_id)
    space.add_pane(agent)
    WorkspaceStore().save(folder, space)
    return space


def claude_transcript(root: Path, session_id: str = SID) -> Path:
    path = root / "projects" / "-proj" / f"{session_id}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"type": "user", "sessionId": session_id}) + "\n")
    side = path.parent / session_id / "subagents" / "agent-a1.jsonl"
    side.parent.mkdir(parents=True)
    side.write_text('{"type":"assistant"}\n')
    return path


def take(folder: Path, claude_root: Path | None = None, **kw) -> dict:
    files: list[str] = []
    if claude_root is not None:
        files = snaps.session_files(
            [str(p) for p in (claude_root / "projects").glob(f"*/{SID}.jsonl")], SID
        )
    data = WorkspaceStore.space_file(folder).read_bytes()
    return snaps.create(folder, data, [snaps.TranscriptSource("claude", SID, files)], **kw)


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def snapshot_folders(folder: Path) -> list[str]:
    """What the snapshots folder holds besides its blob store and lock: the snapshots."""
    names = sorted(p.name for p in snaps.snapshots_dir(folder).iterdir())
    return [n for n in names if n not in (".lock", snaps.blobs.BLOBS_DIR)]


def test_a_snapshot_copies_the_workspace_file_screens_and_transcripts(tmp_path):
    folder, claude = tmp_path / "proj", tmp_path / "claude"
    space = make_space(folder)
    shell = next(p for p in space.panes.values() if p.kind == "shell")
    screens = folder / ".jupyter-spaces" / "screens"
    screens.mkdir()
    (screens / f"{shell.id}.txt").write_text("$ echo hi\nhi\n")
    main = claude_transcript(claude)
    m = take(folder, claude, name="before the refactor")
    assert snaps.ID_RE.fullmatch(m["id"]) and m["name"] == "before the refactor"
    assert m["space_id"] == space.id and m["missing_transcripts"] == []
    panes = {p["kind"]: p for p in m["panes"]}
    assert panes["shell"]["screen_bytes"] == len("$ echo hi\nhi\n")
    assert panes["agent"]["transcript"] is True and panes["agent"]["session_id"] == SID
    assert [t["path"] for t in m["transcripts"]] == [
        str(main),
        str(main.parent / SID / "subagents" / "agent-a1.jsonl"),
    ]
    listed = snaps.list_snapshots(folder)
    assert [s["id"] for s in listed] == [m["id"]] and listed[0]["status"] == "ok"
    # Nothing is left half-built, and the folder is git-ignored with the rest of .jupyter-spaces.
    assert snapshot_folders(folder) == [m["id"]]
    assert "!/space.json" in (folder / ".jupyter-spaces" / ".gitignore").read_text()


def test_a_transcript_that_is_not_found_is_listed_as_missing(tmp_path):
    folder = tmp_path / "proj"
    make_space(folder)
    m = take(folder)
    assert m["missing_transcripts"] == [{"agent": "claude", "session_id": SID}]
    assert {p["kind"]: p["transcript"] for p in m["panes"]} == {"shell": False, "agent": False}


@pytest.mark.parametrize(
    "bad",
    [
        "../x",
        "..",
        "%2e%2e",
        "/etc/passwd",
        "a\x00b",
        "2" * 300,
        "20260101-120000-ABCD",
        "20260101-120000-abc",
        "٢٠٢٦٠١٠١-١٢٠٠٠٠-abcd",  # other digits than 0-9
        "20260101-120000-abcd/../..",
        "",
    ],
)
def test_an_id_that_is_not_an_id_is_404_and_touches_nothing(tmp_path, bad):
    folder = tmp_path / "proj"
    make_space(folder)
    m = take(folder)
    before = tree(tmp_path)
    for call in (snaps.read, snaps.delete):
        with pytest.raises(SpacesError) as e:
            call(folder, bad)
        assert e.value.status_code == 404
    assert tree(tmp_path) == before and snaps.read(folder, m["id"]).id == m["id"]


def test_unknown_corrupt_and_newer_snapshots(tmp_path):
    folder = tmp_path / "proj"
    make_space(folder)
    with pytest.raises(SpacesError) as e:
        snaps.read(folder, "20260101-120000-abcd")
    assert e.value.status_code == 404
    m = take(folder)
    manifest = snaps.snapshot_dir(folder, m["id"]) / snaps.MANIFEST
    good = manifest.read_text()
    for text in ("{not json", "[]", json.dumps({**m, "panes": "x"}), json.dumps({**m, "id": "x"})):
        manifest.write_text(text)
        with pytest.raises(SpacesError) as e:
            snaps.read(folder, m["id"])
        assert e.value.status_code == 400 and e.value.code == "corrupt", text
        assert "corrupt" in e.value.message
    listed = snaps.list_snapshots(folder)
    assert listed[0]["status"] == "corrupt" and listed[0]["message"]
    manifest.write_text(json.dumps({**m, "version": snaps.SNAPSHOT_VERSION + 1}))
    with pytest.raises(SpacesError) as e:
        snaps.read(folder, m["id"])
    assert e.value.status_code == 409 and e.value.code == "newer"
    manifest.unlink()
    with pytest.raises(SpacesError) as e:
        snaps.read(folder, m["id"])
    assert e.value.status_code == 400
    manifest.write_text(good)
    assert snaps.read(folder, m["id"]).id == m["id"]


def test_the_workspace_file_in_a_snapshot_is_checked_before_a_restore(tmp_path):
    folder = tmp_path / "proj"
    space = make_space(folder)
    snap = snaps.read(folder, take(folder)["id"])
    doc, _ = snaps.load_space(snap, space.id)
    assert doc["id"] == space.id
    with pytest.raises(SpacesError) as e:
        snaps.load_space(snap, "otherspace")
    assert e.value.status_code == 400 and "belongs to space" in e.value.message
    copy = snap.dir / snaps.SPACE_COPY
    copy.write_text(copy.read_text().replace('"demo"', '"edited"'))
    with pytest.raises(SpacesError) as e:
        snaps.load_space(snap, space.id)
    assert e.value.code == "corrupt" and "does not match" in e.value.message
    newer = json.dumps({**doc, "version": 99}).encode()
    copy.write_bytes(newer)
    snap.manifest["space_sha256"] = snaps._sha256(newer)
    with pytest.raises(SpacesError) as e:
        snaps.load_space(snap, space.id)
    assert e.value.status_code == 409 and e.value.code == "newer"


def test_prune_keeps_the_newest_and_the_young(tmp_path):
    folder = tmp_path / "proj"
    make_space(folder)
    now = datetime.now(timezone.utc)
    ids = [take(folder, now=now - timedelta(days=d))["id"] for d in (40, 20, 10, 1, 0)]
    newest_first = ids[::-1]
    with pytest.raises(SpacesError) as e:
        snaps.prune(folder, None, None)
    assert e.value.status_code == 400
    with pytest.raises(SpacesError):
        snaps.prune(folder, -1, None)
    # Both rules: kept when either keeps it.
    got = snaps.prune(folder, 2, 15, now=now)
    assert got == {"deleted": [ids[1], ids[0]], "kept": [ids[4], ids[3], ids[2]]}
    assert [s["id"] for s in snaps.list_snapshots(folder)] == newest_first[:3]
    got = snaps.prune(folder, None, 5, now=now)
    assert got["deleted"] == [ids[2]]
    got = snaps.prune(folder, 1, None, now=now)
    assert got == {"deleted": [ids[3]], "kept": [ids[4]]}
    assert snapshot_folders(folder) == [ids[4]]


def test_transcripts_go_back_only_where_missing_and_inside_the_transcript_folders(tmp_path):
    folder, claude = tmp_path / "proj", tmp_path / "claude"
    make_space(folder)
    main = claude_transcript(claude)
    side = main.parent / SID / "subagents" / "agent-a1.jsonl"
    m = take(folder, claude)
    original = main.read_bytes()
    mtime = main.stat().st_mtime
    shutil.rmtree(main.parent)
    roots = {"claude": [claude]}
    got = snaps.put_back_transcripts(snaps.read(folder, m["id"]), roots)
    assert got.restored == [str(main), str(side)] and got.refused == []
    assert main.read_bytes() == original and main.stat().st_mtime == pytest.approx(mtime)
    # A newer transcript the CLI wrote since is never replaced.
    main.write_text("newer\n")
    side.unlink()
    got = snaps.put_back_transcripts(snaps.read(folder, m["id"]), roots)
    assert got.present == [str(main)] and got.restored == [str(side)]
    assert main.read_text() == "newer\n"
    # Paths outside the agents' transcript folders are refused (a CLI's settings beside them,
    # another agent's root, a path with ..), and nothing is written there.
    manifest = snaps.snapshot_dir(folder, m["id"]) / snaps.MANIFEST
    doc = json.loads(manifest.read_text())
    bad = [
        str(claude / "settings.json"),
        str(tmp_path / "elsewhere.jsonl"),
        str(claude / "projects" / ".." / "settings.json"),
        "relative/x.jsonl",
    ]
    doc["transcripts"] = [{**doc["transcripts"][0], "path": p} for p in bad]
    manifest.write_text(json.dumps(doc))
    got = snaps.put_back_transcripts(snaps.read(folder, m["id"]), roots)
    assert got.refused == bad and got.restored == []
    assert not (claude / "settings.json").exists() and not (tmp_path / "elsewhere.jsonl").exists()
    # Without roots for the agent, nothing goes anywhere.
    assert snaps.put_back_transcripts(snaps.read(folder, m["id"]), {}).restored == []


def test_screens_are_written_back(tmp_path):
    folder = tmp_path / "proj"
    space = make_space(folder)
    shell = next(p for p in space.panes.values() if p.kind == "shell")
    screen = folder / ".jupyter-spaces" / "screens" / f"{shell.id}.txt"
    screen.parent.mkdir()
    screen.write_text("old text\n")
    os.utime(screen, (1_700_000_000, 1_700_000_000))
    m = take(folder)
    screen.write_text("later text\n")
    assert snaps.put_back_screens(snaps.read(folder, m["id"]), folder) == [shell.id]
    assert screen.read_text() == "old text\n" and screen.stat().st_mtime == 1_700_000_000


# -- the API (in-process server) -------------------------------------------------------------


@needs_tmux
async def test_the_api_refuses_bad_ids_corrupt_snapshots_and_untrusted_restores(api, jp_root_dir):
    (jp_root_dir / "p").mkdir()
    _, space = await api("POST", body={"path": "p"})
    sid = space["id"]
    await api("POST", sid, "panes", body={"kind": "command", "argv": ["cat"], "title": "c"})
    code, snap = await api("POST", sid, "snapshots", body={"name": "first"})
    assert code == 201 and snap["name"] == "first" and snap["space_id"] == sid
    assert snap["layout"] == space["layout"] or snap["layout"]
    code, got = await api("GET", sid, "snapshots")
    assert code == 200 and [s["id"] for s in got["snapshots"]] == [snap["id"]]
    for bad in ("..%2F..%2Fetc", "%252e%252e", "20260101-120000-abcd", "x" * 300):
        for method in ("GET", "DELETE"):
            code, body = await api(method, sid, "snapshots", bad)
            assert code == 404 and body["message"], (bad, method)
        code, _ = await api("POST", sid, "snapshots", bad, "restore")
        assert code == 404
    for body in ({"name": ""}, {"name": "x" * 201}, {"name": 3}, {"other": 1}):
        code, reply = await api("POST", sid, "snapshots", body=body)
        assert code == 400, body
    code, _ = await api("DELETE", sid, "snapshots")
    assert code == 400, "prune needs a rule"
    code, _ = await api("DELETE", sid, "snapshots", keep="-1")
    assert code == 400
    # Restoring while the pane runs asks first.
    code, reply = await api("POST", sid, "snapshots", snap["id"], "restore")
    assert code == 409 and reply["reason"] == "running" and len(reply["panes"]) == 1
    # A corrupt snapshot: 400, nothing changed.
    folder = jp_root_dir / "p"
    manifest = snaps.snapshot_dir(folder, snap["id"]) / snaps.MANIFEST
    good = manifest.read_text()
    manifest.write_text("{")
    before = (folder / ".jupyter-spaces" / "space.json").read_bytes()
    code, reply = await api(
        "POST", sid, "snapshots", snap["id"], "restore", body={"stop_running": True}
    )
    assert code == 400 and reply["reason"] == "corrupt"
    assert (folder / ".jupyter-spaces" / "space.json").read_bytes() == before
    _, now = await api("GET", sid)
    assert [p["state"] for p in now["panes"]] == ["running"]
    manifest.write_text(good)
    # An untrusted space may be snapshotted, not restored.
    doc = json.loads(before)
    doc["name"] = "edited by hand"
    (folder / ".jupyter-spaces" / "space.json").write_text(json.dumps(doc))
    code, second = await api("POST", sid, "snapshots")
    assert code == 201
    code, reply = await api(
        "POST", sid, "snapshots", snap["id"], "restore", body={"stop_running": True}
    )
    assert code == 409 and reply["reason"] == "untrusted"
    doc["name"] = "edited again"
    (folder / ".jupyter-spaces" / "space.json").write_text(json.dumps(doc))
    code, _ = await trust(api, sid)  # trusts this file, not the snapshotted one
    assert code == 200
    code, restored = await api(
        "POST", sid, "snapshots", snap["id"], "restore", body={"stop_running": True}
    )
    assert code == 200 and restored["trusted"] is True and restored["name"] == space["name"]
    # The snapshot of the untrusted file comes back untrusted: nothing starts.
    code, restored = await api(
        "POST", sid, "snapshots", second["id"], "restore", body={"stop_running": True}
    )
    assert code == 200 and restored["trusted"] is False and restored["name"] == "edited by hand"
    assert [p["state"] for p in restored["panes"]] == ["gone"]
    # Each restore first took the space as it was; trusting the edited file did too.
    code, got = await api("GET", sid, "snapshots")
    reasons = [s["reason"] for s in got["snapshots"]]
    assert reasons.count("before_restore") == 2 and reasons.count("before_trust") == 1
    assert reasons.count("manual") == 2
    # Prune never removes a named snapshot ("first"); the unnamed ones outside keep=0 go.
    code, pruned = await api("DELETE", sid, "snapshots", keep="0")
    assert code == 200 and pruned["kept"] == [snap["id"]] and len(pruned["deleted"]) == 4
    assert second["id"] in pruned["deleted"]
    code, _ = await api("DELETE", sid, "snapshots", snap["id"])
    assert code == 204
    code, got = await api("GET", sid, "snapshots")
    assert got["snapshots"] == []


# -- end to end ------------------------------------------------------------------------------


@needs_tmux
def test_a_snapshot_brings_back_a_deleted_transcript_after_the_machine_restarts(machine, tmp_path):
    root, sock, agents = machine
    (root / "proj" / "src").mkdir(parents=True)
    data = tmp_path / "data"
    srv = cold.server(root, sock, agents, data)
    try:
        _, space = srv.request("POST", "/api/spaces", {"path": "proj"})
        sid = space["id"]
        _, shell = srv.request(
            "POST", f"/api/spaces/{sid}/panes", {"kind": "shell", "cwd": "src", "title": "sh"}
        )
        _, cmd = srv.request(
            "POST",
            f"/api/spaces/{sid}/panes",
            {"kind": "command", "argv": ["sh", "-c", "echo RAN-$((40+2)); exec cat"]},
        )
        _, agent = srv.request(
            "POST", f"/api/spaces/{sid}/panes", {"kind": "agent", "agent": "claude", "model": "m"}
        )
        session = agent["session_id"]
        cold.type_in(srv, sid, shell["id"], "echo saved-$((6*7))-text\r")
        wait(lambda: "saved-42-text" in cold.screen(srv, sid, shell["id"]))
        wait(lambda: agents.calls("claude"))
        cold.type_in(srv, sid, agent["id"], "hello agent\r")
        wait(lambda: "reply to hello agent" in cold.screen(srv, sid, agent["id"]))
        (transcript,) = (agents.claude / "projects").glob(f"*/{session}.jsonl")
        original = wait(lambda: (t := transcript.read_bytes()) and b"hello agent" in t and t)
        wait(lambda: srv.request("GET", f"/api/spaces/sessions/claude/{session}")[0] == 200)

        code, snap = srv.request("POST", f"/api/spaces/{sid}/snapshots", {"name": "good"})
        assert code == 201, snap
        panes = {p["id"]: p for p in snap["panes"]}
        assert panes[agent["id"]]["transcript"] is True
        assert panes[shell["id"]]["screen_bytes"] > 0 and snap["missing_transcripts"] == []

        # The CLI's clean-up deletes the transcript; the index marks the session gone.
        transcript.unlink()
        wait(lambda: srv.request("GET", f"/api/spaces/sessions/claude/{session}")[1].get("gone"))
    finally:
        srv.kill()
    cold.kill_tmux(sock)  # the machine restarts

    srv = cold.server(root, sock, agents, data)
    try:
        # The cold restore cannot resume a deleted transcript: a fresh session starts.
        _, after = srv.request("GET", f"/api/spaces/{sid}")
        fresh = next(p for p in after["panes"] if p["id"] == agent["id"])["session_id"]
        assert fresh != session
        # The fresh session's claude records its start a moment later (a loaded machine):
        # count the starts only once it has.
        wait(lambda: any(c["session_id"] == fresh for c in agents.calls("claude")))
        calls = len(agents.calls("claude"))

        code, reply = srv.request("POST", f"/api/spaces/{sid}/snapshots/{snap['id']}/restore", {})
        assert code == 409 and reply["reason"] == "running"
        assert sorted(reply["panes"]) == sorted(p["id"] for p in after["panes"])
        assert not transcript.exists(), "a refused restore changes nothing"

        code, restored = srv.request(
            "POST", f"/api/spaces/{sid}/snapshots/{snap['id']}/restore", {"stop_running": True}
        )
        assert code == 200, restored
        assert transcript.read_bytes() == original, "put back where the CLI looks for it"
        by_id = {p["id"]: p for p in restored["panes"]}
        assert by_id[agent["id"]]["session_id"] == session
        assert {p["state"] for p in restored["panes"]} == {"running"}
        assert restored["trusted"] is True

        wait(lambda: len(agents.calls("claude")) > calls)
        last = agents.calls("claude")[-1]
        assert last["argv"] == ["--resume", session, "--model", "m"]
        assert last["cwd"] == str(root / "proj")
        _, got = srv.request("GET", f"/api/spaces/sessions/claude/{session}")
        assert got["gone"] is False

        text = wait(
            lambda: (t := cold.screen(srv, sid, shell["id"])) and "restored from" in t and t
        )
        assert text.index("saved-42-text") < text.rindex("restored from")
        wait(lambda: "Press Enter to run" in cold.screen(srv, sid, cmd["id"]))
        assert "RAN-42" not in cold.screen(srv, sid, cmd["id"])
    finally:
        srv.stop()
