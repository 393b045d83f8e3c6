"""Saves under faults: a writer SIGKILLed at random moments, and a disk that fills up."""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from jupyter_spaces import store as store_module
from jupyter_spaces.model import Space
from jupyter_spaces.store import WorkspaceStore

from .conftest import needs_tmux

TRIALS = 300


def _save_forever(directory: Path) -> None:
    """The child: save the space again and again, each time with a new name (never returns)."""
    store = WorkspaceStore()
    result = store.load(directory)
    space, base = result.space, result.document
    assert space is not None
    n = 0
    while True:
        n += 1
        space.name = f"v{n}-" + "x" * (n % 2000)  # sizes vary, so writes take varying time
        base = store.save(directory, space, base).document


def temps(directory: Path) -> list[Path]:
    return sorted((directory / ".jupyter-spaces").glob(".*.tmp"))


def test_sigkill_during_saves_never_leaves_a_bad_file(tmp_path: Path) -> None:
    store = WorkspaceStore()
    store.save(tmp_path, Space.new("v0"))
    path = tmp_path / ".jupyter-spaces" / "space.json"
    rng = random.Random(7)
    seen: set[str] = set()
    for _ in range(TRIALS):
        before = json.loads(path.read_text())["name"]
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child is killed, never returns
            try:
                _save_forever(tmp_path)
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0, 0.02))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        result = store.load(tmp_path)
        assert result.status == "ok", result.message
        assert result.space is not None
        name = result.space.name
        # Whole versions only: the one before this trial, or one the child finished writing.
        assert name == before or (name.startswith("v") and name.split("-")[0][1:].isdigit())
        seen.add("same" if name == before else "new")
        previous = path.with_name("space.prev.json")
        if previous.exists():
            Space.from_json(json.loads(previous.read_text()))  # whole, or it raises
    assert seen == {"same", "new"}, "kills should land both before and after writes"
    # A kill in the middle of a write may leave a temp file; the next save removes stale ones.
    for tmp in temps(tmp_path):
        os.utime(tmp, (0, 0))
    result = store.load(tmp_path)
    assert result.space is not None
    result.space.name = "after"
    store.save(tmp_path, result.space, result.document)
    assert temps(tmp_path) == []


def test_a_fresh_temp_file_of_a_write_in_progress_is_left_alone(tmp_path: Path) -> None:
    store = WorkspaceStore()
    base = store.save(tmp_path, space := Space.new("a")).document
    fresh = tmp_path / ".jupyter-spaces" / ".space.json.0123abcd.tmp"
    fresh.write_text("another writer, right now")
    space.name = "b"
    store.save(tmp_path, space, base)
    assert fresh.exists()
    assert store_module.STALE_TEMP_SECONDS >= 1


@pytest.fixture
def small_disk(jp_root_dir: Path) -> Path:
    """A 256 KiB tmpfs inside the server's root (needs root and mount permission)."""
    mount = jp_root_dir / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(mount: Path) -> Path:
    filler = mount / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 512)
    except OSError as e:
        assert e.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


@needs_tmux
async def test_a_full_disk_fails_the_save_and_keeps_the_old_file(api, small_disk: Path) -> None:
    code, space = await api("POST", body={"path": "small", "name": "before"})
    assert code == 201, space
    path = small_disk / ".jupyter-spaces" / "space.json"
    old = path.read_bytes()
    filler = fill(small_disk)

    code, body = await api("PATCH", space["id"], body={"name": "x" * 190})
    # 507 Insufficient Storage: the client may free space and retry.
    assert code == 507 and "No space left on device" in body["message"], body
    assert path.read_bytes() == old
    assert temps(small_disk) == []
    code, listed = await api("GET", space["id"])
    assert code == 200 and listed["name"] == "before"

    filler.unlink()
    code, renamed = await api("PATCH", space["id"], body={"name": "after"})
    assert code == 200 and renamed["name"] == "after"
    assert json.loads(path.read_text())["name"] == "after"
    shutil.rmtree(small_disk / ".jupyter-spaces")
