"""A pane's screen text read back out of a snapshot (the timeline's preview): from the shared
chunks, the end of a long one, replaced invalid UTF-8, 404 for a pane it does not hold, 400 for a
chunk that does not hold what its name says; and the route."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_spaces import snapshots as snaps
from jupyter_spaces.errors import SpacesError
from jupyter_spaces.snapshots.screens import screen_text
from jupyter_spaces.store import WorkspaceStore

from .conftest import needs_tmux
from .test_snapshots import make_space


def take(folder: Path) -> snaps.Snapshot:
    data = WorkspaceStore.space_file(folder).read_bytes()
    m = snaps.create(folder, data, [])
    return snaps.read(folder, m["id"])


def write_screen(folder: Path, pane_id: str, data: bytes) -> None:
    screens = folder / ".jupyter-spaces" / "screens"
    screens.mkdir(exist_ok=True)
    (screens / f"{pane_id}.txt").write_bytes(data)


def test_screen_text_of_a_pane(tmp_path):
    folder = tmp_path / "proj"
    space = make_space(folder)
    shell = next(p for p in space.panes.values() if p.kind == "shell")
    agent = next(p for p in space.panes.values() if p.kind == "agent")
    write_screen(folder, shell.id, b"$ echo hi\nhi \xff\n")
    snap = take(folder)
    got = screen_text(snap, shell.id)
    assert got == {
        "pane_id": shell.id,
        "text": "$ echo hi\nhi \ufffd\n",
        "bytes": 15,
        "truncated": False,
    }
    # A pane without a saved screen: empty text.
    assert screen_text(snap, agent.id) == {
        "pane_id": agent.id,
        "text": "",
        "bytes": 0,
        "truncated": False,
    }
    for bad in ["nope", "../../etc/passwd", ""]:
        with pytest.raises(SpacesError) as e:
            screen_text(snap, bad)
        assert e.value.status_code == 404


def test_the_end_of_a_long_screen(tmp_path):
    folder = tmp_path / "proj"
    space = make_space(folder)
    shell = next(p for p in space.panes.values() if p.kind == "shell")
    data = b"".join(b"line %06d\n" % i for i in range(60000))  # 660 000 bytes: 3 chunks
    write_screen(folder, shell.id, data)
    got = screen_text(take(folder), shell.id, limit=1000)
    assert got["bytes"] == len(data) and got["truncated"] is True
    assert got["text"].encode() == data[-1000:]


def test_a_damaged_chunk_is_corrupt(tmp_path):
    folder = tmp_path / "proj"
    space = make_space(folder)
    shell = next(p for p in space.panes.values() if p.kind == "shell")
    write_screen(folder, shell.id, b"secret-ish screen\n")
    snap = take(folder)
    (digest,) = next(s for s in snap.manifest["screens"] if s["pane"] == shell.id)["chunks"]
    snaps.blobs.blob_path(snap.dir.parent, digest).write_bytes(b"other bytes")
    with pytest.raises(SpacesError) as e:
        screen_text(snap, shell.id)
    assert e.value.status_code == 400


@needs_tmux
async def test_the_route(api, jp_root_dir):
    (jp_root_dir / "p").mkdir()
    code, space = await api("POST", body={"path": "p"})
    assert code == 201
    sid = space["id"]
    code, pane = await api("POST", sid, "panes", body={"kind": "shell"})
    assert code == 201
    code, snap = await api("POST", sid, "snapshots")
    assert code == 201
    code, got = await api("GET", sid, "snapshots", snap["id"], "screens", pane["id"])
    assert code == 200 and got["pane_id"] == pane["id"] and isinstance(got["text"], str)
    assert got["bytes"] == next(p for p in snap["panes"] if p["id"] == pane["id"])["screen_bytes"]
    code, _ = await api("GET", sid, "snapshots", snap["id"], "screens", "zzzz0000")
    assert code == 404
    code, _ = await api("GET", sid, "snapshots", "20260101-120000-abcd", "screens", pane["id"])
    assert code == 404
