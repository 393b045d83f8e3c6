"""Snapshot storage: chunks shared between snapshots in one blob store, the disk they use,
version 1 snapshots still read, damaged blobs refused before anything changes, and ``kill -9``
in the middle of a snapshot leaving nothing half-made listed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyter_spaces import snapshots as snaps
from jupyter_spaces.errors import SpacesError
from jupyter_spaces.restore import SCREENS_DIR
from jupyter_spaces.store import WorkspaceStore

from .test_snapshots import SID, claude_transcript, make_space, snapshot_folders, take

MB = 1 << 20


def grow(path: Path, n_bytes: int, seed: int) -> None:
    """Append ``n_bytes`` of transcript-like lines (distinct per seed) to ``path``."""
    line = json.dumps({"type": "assistant", "seed": seed, "text": "x" * 200}) + "\n"
    reps = n_bytes // len(line) + 1
    with path.open("ab") as f:
        f.write((line * reps)[:n_bytes].encode())


def test_unchanged_and_grown_files_share_their_chunks(tmp_path):
    folder, claude = tmp_path / "proj", tmp_path / "claude"
    space = make_space(folder)
    shell = next(p for p in space.panes.values() if p.kind == "shell")
    screen = folder / ".jupyter-spaces" / SCREENS_DIR / f"{shell.id}.txt"
    screen.parent.mkdir(parents=True)
    screen.write_text("$ make\nok\n")
    main = claude_transcript(claude)
    grow(main, 8 * MB, 0)
    first = take(folder, claude)
    assert first["new_bytes"] >= 8 * MB
    grow(main, MB // 2, 1)  # the transcript grows; the screen stays the same
    second = take(folder, claude)
    # Only the end of the transcript is new: its tail chunks (and a manifest and space.json).
    assert second["new_bytes"] < MB + 2 * snaps.blobs.CHUNK
    got = snaps.summary(folder)
    disk = got["disk"]
    assert disk["snapshots"] == 2
    assert disk["logical_bytes"] == first["bytes"] + second["bytes"]
    whole = main.stat().st_size
    assert whole < disk["bytes"] < whole + MB + 3 * snaps.blobs.CHUNK + 64 * 1024
    uniq = {s["id"]: s["unique_bytes"] for s in got["snapshots"]}
    assert uniq[second["id"]] < MB + 2 * snaps.blobs.CHUNK + 64 * 1024
    # Deleting the first frees only what nobody else uses; the second still restores whole.
    snaps.delete(folder, first["id"])
    after = snaps.summary(folder)["disk"]["bytes"]
    assert after < disk["bytes"] and after >= whole
    original = main.read_bytes()
    shutil.rmtree(main.parent)
    screen.write_text("later\n")
    snap = snaps.read(folder, second["id"])
    put = snaps.put_back_transcripts(snap, {"claude": [claude]})
    assert str(main) in put.restored and main.read_bytes() == original
    assert os.stat(main).st_mode & 0o200, "a restored transcript is the CLI's to write to"
    assert snaps.put_back_screens(snap, folder) == [shell.id]
    assert screen.read_text() == "$ make\nok\n"
    # Every blob is still named by its content; nothing is left that no snapshot uses.
    used = set(snap.chunks())
    blobs_dir = snaps.snapshots_dir(folder) / snaps.blobs.BLOBS_DIR
    on_disk = {p.name for p in blobs_dir.rglob("*") if p.is_file()}
    assert on_disk == used


def write_v1(folder: Path, claude: Path, screen_text: str) -> str:
    """A snapshot exactly as version 1 wrote it: whole copies in its own folder."""
    data = WorkspaceStore.space_file(folder).read_bytes()
    doc = json.loads(data)
    pane_ids = list(doc["panes"])
    snapshot_id = "20250101-120000-abcd"
    d = snaps.snapshots_dir(folder, create=True) / snapshot_id
    (d / "screens").mkdir(parents=True)
    (d / "transcripts").mkdir()
    (d / "space.json").write_bytes(data)
    (d / "screens" / f"{pane_ids[0]}.txt").write_text(screen_text)
    main = next((claude / "projects").glob(f"*/{SID}.jsonl"))
    shutil.copy2(main, d / "transcripts" / "00000")
    manifest = {
        "format": "jupyter-spaces-snapshot",
        "version": 1,
        "id": snapshot_id,
        "name": "",
        "created": "2025-01-01T12:00:00Z",
        "space_id": doc["id"],
        "space_name": doc["name"],
        "space_sha256": snaps._sha256(data),
        "panes": [
            {"id": p, "title": "", "kind": "shell", "screen_bytes": 0, "transcript": False}
            for p in pane_ids
        ],
        "bytes": len(data),
        "missing_transcripts": [],
        "transcripts": [
            {
                "agent": "claude",
                "session_id": SID,
                "path": str(main),
                "file": "transcripts/00000",
                "bytes": main.stat().st_size,
            }
        ],
    }
    (d / "snapshot.json").write_text(json.dumps(manifest))
    return snapshot_id


def test_version_1_snapshots_keep_working_beside_version_2(tmp_path):
    folder, claude = tmp_path / "proj", tmp_path / "claude"
    space = make_space(folder)
    main = claude_transcript(claude)
    old = write_v1(folder, claude, "old screen\n")
    new = take(folder, claude)
    listed = snaps.list_snapshots(folder)
    assert [s["id"] for s in listed] == [new["id"], old]
    assert listed[1]["reason"] == "manual" and listed[1]["status"] == "ok"
    assert listed[0]["reason"] == "manual" and listed[0]["pinned"] is False
    snap = snaps.read(folder, old)
    doc, _ = snaps.load_space(snap, space.id)
    assert doc["id"] == space.id
    original = main.read_bytes()
    main.unlink()
    assert snaps.put_back_transcripts(snap, {"claude": [claude]}).restored == [str(main)]
    assert main.read_bytes() == original
    first_pane = next(iter(space.panes))
    assert snaps.put_back_screens(snap, folder) == [first_pane]
    screen = folder / ".jupyter-spaces" / SCREENS_DIR / f"{first_pane}.txt"
    assert screen.read_text() == "old screen\n"
    # Its own folder is what deleting it frees; a clean-up leaves the new one's blobs.
    uniq = {s["id"]: s["unique_bytes"] for s in snaps.summary(folder)["snapshots"]}
    assert uniq[old] >= len(original)
    snaps.set_pinned(folder, old, True)
    assert snaps.prune(folder, 1, None) == {"deleted": [], "kept": [new["id"], old]}
    snaps.set_pinned(folder, old, False)
    snaps.delete(folder, old)
    assert snapshot_folders(folder) == [new["id"]]
    main.unlink()
    got = snaps.put_back_transcripts(snaps.read(folder, new["id"]), {"claude": [claude]})
    assert str(main) in got.restored and main.read_bytes() == original


def test_a_missing_or_damaged_blob_is_refused_before_anything_changes(tmp_path):
    folder, claude = tmp_path / "proj", tmp_path / "claude"
    space = make_space(folder)
    main = claude_transcript(claude)
    grow(main, MB, 0)
    m = take(folder, claude)
    snap = snaps.read(folder, m["id"])
    digest = m["transcripts"][0]["chunks"][1]
    blob = snaps.blobs.blob_path(snaps.snapshots_dir(folder), digest)
    data = blob.read_bytes()
    blob.chmod(0o644)
    blob.unlink()
    with pytest.raises(SpacesError) as e:
        snaps.load_space(snap, space.id)  # what a restore checks before it stops anything
    assert e.value.code == "corrupt" and "missing" in e.value.message
    # Same size, other bytes: caught as the chunk is read; no half file is left behind.
    blob.write_bytes(b"y" * len(data))
    snaps.load_space(snap, space.id)
    main.unlink()
    with pytest.raises(SpacesError) as e:
        snaps.put_back_transcripts(snap, {"claude": [claude]})
    assert e.value.code == "corrupt" and "does not hold" in e.value.message
    assert not main.exists() and not list(main.parent.glob(".*.tmp"))
    # A blob name that is not a digest (a path) is a corrupt manifest, never a path used.
    manifest = snap.dir / snaps.MANIFEST
    doc = json.loads(manifest.read_text())
    doc["transcripts"][0]["chunks"][0] = "../../../../etc/passwd"
    manifest.write_text(json.dumps(doc))
    with pytest.raises(SpacesError) as e:
        snaps.read(folder, m["id"])
    assert e.value.code == "corrupt"


WRITER = """
import sys, time
from pathlib import Path
from jupyter_spaces import snapshots as snaps
from jupyter_spaces.store import WorkspaceStore
folder, transcript, sid = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
data = WorkspaceStore.space_file(folder).read_bytes()
n = 0
while True:
    with open(transcript, "ab") as f:
        f.write(("%d" % n).encode() * 70000 + b"\\n")
    snaps.create(folder, data, [snaps.TranscriptSource("claude", sid, [transcript])])
    n += 1
    print(n, flush=True)
"""


def test_kill_9_during_snapshots_leaves_only_whole_snapshots(tmp_path):
    folder, claude = tmp_path / "proj", tmp_path / "claude"
    space = make_space(folder)
    main = claude_transcript(claude)
    grow(main, 6 * MB, 0)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for delay in (0.4, 0.7, 1.0, 1.3):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder), str(main), SID],
            env=env,
            stdout=subprocess.PIPE,
        )
        try:
            assert proc.stdout is not None
            proc.stdout.readline()  # one snapshot done: the next one is under way
            time.sleep(delay)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()
        listed = snaps.list_snapshots(folder)
        assert listed and all(s["status"] == "ok" for s in listed), listed
        for s in listed:
            snap = snaps.read(folder, s["id"])
            snaps.load_space(snap, space.id)  # every blob it names is there, whole
    # Whatever the kills left (a hidden build folder, temporary or unused blobs) is cleared by
    # the next clean-up, and what is listed still restores byte for byte.
    newest = snaps.list_snapshots(folder)[0]["id"]
    for s in snaps.list_snapshots(folder)[1:]:
        snaps.delete(folder, s["id"])
    parent = snaps.snapshots_dir(folder)
    assert not list((parent / snaps.blobs.BLOBS_DIR).rglob(".tmp-*"))
    snap = snaps.read(folder, newest)
    expect = snap.manifest["transcripts"][0]["bytes"]
    main.unlink()
    assert snaps.put_back_transcripts(snap, {"claude": [claude]}).restored
    assert main.stat().st_size == expect
