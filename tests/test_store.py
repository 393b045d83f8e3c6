"""Workspace files: atomic writes, loading bad files, merging, the .gitignore."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jupyter_spaces.model import Pane, Space, WorkspaceError, layout_panes, validate_layout
from jupyter_spaces.store import (
    GITIGNORE,
    LoadResult,
    WorkspaceStore,
    atomic_write_text,
    merge_documents,
)


@pytest.fixture
def store() -> WorkspaceStore:
    return WorkspaceStore()


def space_file(project: Path) -> Path:
    return project / ".jupyter-spaces" / "space.json"


def read_doc(project: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(space_file(project).read_text())
    return doc


def write_doc(project: Path, doc: Any) -> None:
    space_file(project).write_text(json.dumps(doc, indent=2))


def saved_space(store: WorkspaceStore, project: Path, panes: int = 2) -> tuple[Space, dict]:
    space = Space.new("demo")
    for _ in range(panes):
        space.add_pane(Pane.new("shell", ["bash"]))
    base = store.save(project, space).document
    return space, base


def loaded(store: WorkspaceStore, project: Path) -> tuple[Space, dict[str, Any]]:
    result = store.load(project)
    assert result.status == "ok", result.message
    assert result.space is not None and result.document is not None
    return result.space, result.document


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# -- atomic writes -------------------------------------------------------------------------------


def test_atomic_write_creates_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    atomic_write_text(target, "one\n")
    atomic_write_text(target, "two\n")
    assert target.read_text() == "two\n"
    assert leftovers(tmp_path) == []


def test_atomic_write_keeps_the_previous_version(tmp_path: Path) -> None:
    target, prev = tmp_path / "f.json", tmp_path / "f.prev.json"
    atomic_write_text(target, "one\n", keep_previous=prev)
    assert not prev.exists()  # nothing to keep yet
    atomic_write_text(target, "two\n", keep_previous=prev)
    atomic_write_text(target, "three\n", keep_previous=prev)
    assert target.read_text() == "three\n"
    assert prev.read_text() == "two\n"
    assert leftovers(tmp_path) == []


def test_atomic_write_does_not_keep_an_empty_previous(tmp_path: Path) -> None:
    target, prev = tmp_path / "f.json", tmp_path / "f.prev.json"
    prev.write_text("good\n")
    target.write_text("")
    atomic_write_text(target, "new\n", keep_previous=prev)
    assert prev.read_text() == "good\n"


def test_atomic_write_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    target.write_text("old")
    target.chmod(0o640)
    atomic_write_text(target, "new")
    assert target.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_atomic_write_refuses_empty_text(tmp_path: Path, text: str) -> None:
    target = tmp_path / "f.json"
    target.write_text("old")
    with pytest.raises(ValueError, match="empty"):
        atomic_write_text(target, text)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.json"]


@pytest.mark.parametrize("keep", [False, True])
def test_failed_rename_leaves_no_temp_and_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep: bool
) -> None:
    target, prev = tmp_path / "f.json", tmp_path / "f.prev.json"
    atomic_write_text(target, "one\n", keep_previous=prev)
    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:
        if Path(dst) == target:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_text(target, "two\n", keep_previous=prev if keep else None)
    assert target.read_text() == "one\n"
    assert leftovers(tmp_path) == []


def test_failed_copy_of_previous_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, prev = tmp_path / "f.json", tmp_path / "f.prev.json"
    atomic_write_text(target, "one\n")

    def replace(src: Any, dst: Any) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError):
        atomic_write_text(target, "two\n", keep_previous=prev)
    assert target.read_text() == "one\n"
    assert not prev.exists()
    assert leftovers(tmp_path) == []


def test_failed_fsync_leaves_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.json"
    target.write_text("one\n")

    def fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError):
        atomic_write_text(target, "two\n")
    assert target.read_text() == "one\n"
    assert leftovers(tmp_path) == []


def test_interrupt_leaves_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.json"

    def replace(src: Any, dst: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(target, "two\n")
    assert os.listdir(tmp_path) == []


# -- load ----------------------------------------------------------------------------------------


def test_load_missing(store: WorkspaceStore, tmp_path: Path) -> None:
    result = store.load(tmp_path)
    assert result == LoadResult("missing", None, result.message, False)
    assert "no space.json" in result.message


def test_save_then_load(store: WorkspaceStore, tmp_path: Path) -> None:
    space, base = saved_space(store, tmp_path)
    assert base == space.to_json()
    result = store.load(tmp_path)
    assert result.status == "ok" and not result.read_only
    assert result.space is not None and result.space.to_json() == space.to_json()
    assert result.document == base
    state = tmp_path / ".jupyter-spaces"
    assert sorted(os.listdir(state)) == [".gitignore", "space.json"]
    assert state.stat().st_mode & 0o700 == 0o700


def test_first_save_in_a_missing_project_dir(store: WorkspaceStore, tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="is not a directory"):
        store.save(tmp_path / "nope", Space.new("demo"))
    assert not (tmp_path / "nope").exists()


def test_save_keeps_the_previous_version(store: WorkspaceStore, tmp_path: Path) -> None:
    space, base = saved_space(store, tmp_path)
    first = space_file(tmp_path).read_text()
    space.name = "renamed"
    base = store.save(tmp_path, space, base).document
    assert json.loads(first)["name"] == "demo"
    assert (tmp_path / ".jupyter-spaces" / "space.prev.json").read_text() == first
    assert read_doc(tmp_path)["name"] == "renamed"


def test_unchanged_save_does_not_rewrite(store: WorkspaceStore, tmp_path: Path) -> None:
    space, base = saved_space(store, tmp_path)
    space.name = "renamed"
    base = store.save(tmp_path, space, base).document
    prev = (tmp_path / ".jupyter-spaces" / "space.prev.json").read_text()
    mtime = space_file(tmp_path).stat().st_mtime_ns
    assert store.save(tmp_path, space, base).document == base
    assert space_file(tmp_path).stat().st_mtime_ns == mtime
    # The previous version is still the one before the rename, not a copy of the current one.
    assert (tmp_path / ".jupyter-spaces" / "space.prev.json").read_text() == prev


BROKEN = [
    (b"", "space.json is empty"),
    (
        b'{"version": 1,\n "id": "abcd"\n "name": "x"}',
        "space.json is not valid JSON: Expecting ',' delimiter at line 3, column 2",
    ),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[1, 2]", "must hold a JSON object, not a list"),
    (b'{"version": NaN}', "NaN is not a JSON value"),
    (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
]


@pytest.mark.parametrize(("data", "message"), BROKEN)
def test_broken_file_is_reported_and_never_written(
    store: WorkspaceStore, tmp_path: Path, data: bytes, message: str
) -> None:
    saved_space(store, tmp_path)
    space, base = loaded(store, tmp_path)
    space_file(tmp_path).write_bytes(data)
    result = store.load(tmp_path)
    assert result.status == "broken" and result.read_only
    assert result.space is None and result.document is None
    assert message in result.message
    space.name = "changed"
    with pytest.raises(WorkspaceError, match=r"refusing to save over .*space\.json"):
        store.save(tmp_path, space, base)
    with pytest.raises(WorkspaceError, match="refusing to delete"):
        store.delete(tmp_path)
    assert space_file(tmp_path).read_bytes() == data
    assert leftovers(tmp_path / ".jupyter-spaces") == []


@pytest.mark.parametrize("depth", [40, 500])
def test_deeply_nested_layout_is_broken(store: WorkspaceStore, tmp_path: Path, depth: int) -> None:
    saved_space(store, tmp_path)
    doc = read_doc(tmp_path)
    doc["layout"] = "LAYOUT"
    # Built as text: json.dumps itself cannot write a tree this deep.
    opener = '{"type": "split", "direction": "row", "sizes": [0.5, 0.5], "children": ['
    pane = '{"type": "pane", "pane": "p000"}'
    layout = opener * depth + pane + f", {pane}]}}" * depth
    space_file(tmp_path).write_text(json.dumps(doc).replace('"LAYOUT"', layout))
    result = store.load(tmp_path)
    assert result.status == "broken" and "nested" in result.message


def test_oversized_file_is_broken(store: WorkspaceStore, tmp_path: Path) -> None:
    saved_space(store, tmp_path)
    store.max_bytes = 100
    result = store.load(tmp_path)
    assert result.status == "broken" and "larger than 100 bytes" in result.message


def test_unreadable_file_is_broken(store: WorkspaceStore, tmp_path: Path) -> None:
    (tmp_path / ".jupyter-spaces" / "space.json").mkdir(parents=True)
    result = store.load(tmp_path)
    assert result.status == "broken" and "cannot be read" in result.message


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["panes"][next(iter(d["panes"]))].update(cwd=5), "cwd"),
        (lambda d: d.pop("name"), "'name' is a required property"),
        (lambda d: d.update(layout={"type": "pane", "pane": "zzzz"}), "'zzzz'"),
        (lambda d: d["panes"][next(iter(d["panes"]))].update(kind="robot"), "kind must be one"),
    ],
)
def test_schema_invalid_file_is_broken_with_the_field(
    store: WorkspaceStore, tmp_path: Path, edit: Any, field: str
) -> None:
    space, base = saved_space(store, tmp_path)
    doc = read_doc(tmp_path)
    edit(doc)
    write_doc(tmp_path, doc)
    before = space_file(tmp_path).read_bytes()
    result = store.load(tmp_path)
    assert result.status == "broken", result.message
    assert result.message.startswith("space.json is not a valid workspace file")
    assert field in result.message
    with pytest.raises(WorkspaceError):
        store.save(tmp_path, space, base)
    assert space_file(tmp_path).read_bytes() == before


def test_newer_file_is_read_only(store: WorkspaceStore, tmp_path: Path) -> None:
    space, base = saved_space(store, tmp_path)
    doc = read_doc(tmp_path)
    doc["version"] = 3
    doc["hologram"] = {"depth": 3}
    first, second = list(doc["panes"])
    doc["panes"][second]["kind"] = "hologram"  # a kind this version does not know
    write_doc(tmp_path, doc)
    before = space_file(tmp_path).read_bytes()

    result = store.load(tmp_path)
    assert result.status == "newer" and result.read_only
    assert result.message == (
        "space.json was written by a newer jupyter-spaces (schema version 3; this one reads 1); "
        "opened read-only"
    )
    # What can be understood is there for display.
    assert result.space is not None
    assert result.space.version == 3 and result.space.name == "demo"
    assert list(result.space.panes) == [first]
    assert layout_panes(result.space.layout) == [first]
    assert result.space.extra["hologram"] == {"depth": 3}

    with pytest.raises(WorkspaceError, match="newer jupyter-spaces"):
        store.save(tmp_path, space, base)
    with pytest.raises(WorkspaceError, match="newer jupyter-spaces"):
        store.save(tmp_path, result.space, result.document)
    with pytest.raises(WorkspaceError, match="refusing to delete"):
        store.delete(tmp_path)
    assert space_file(tmp_path).read_bytes() == before


def test_newer_file_beyond_understanding(store: WorkspaceStore, tmp_path: Path) -> None:
    (tmp_path / ".jupyter-spaces").mkdir()
    write_doc(tmp_path, {"version": 9, "everything": "different"})
    result = store.load(tmp_path)
    assert result.status == "newer" and result.read_only and result.space is None


# -- merge ---------------------------------------------------------------------------------------


def test_merge_keeps_edits_made_on_disk(store: WorkspaceStore, tmp_path: Path) -> None:
    space, base = saved_space(store, tmp_path)
    first, second = list(space.panes)
    # Someone edits the file by hand: a new top-level field, a renamed pane.
    doc = read_doc(tmp_path)
    doc["owner"] = "ada"
    doc["panes"][first]["title"] = "renamed by hand"
    write_doc(tmp_path, doc)
    # Meanwhile we change something unrelated.
    space.panes[second].last_active = "2030-01-01T00:00:00Z"
    written = store.save(tmp_path, space, base).document
    on_disk = read_doc(tmp_path)
    assert on_disk == written
    assert on_disk["owner"] == "ada"
    assert on_disk["panes"][first]["title"] == "renamed by hand"
    assert on_disk["panes"][second]["last_active"] == "2030-01-01T00:00:00Z"


def test_merge_our_change_wins_on_a_key_we_changed(store: WorkspaceStore, tmp_path: Path) -> None:
    space, base = saved_space(store, tmp_path)
    first = next(iter(space.panes))
    doc = read_doc(tmp_path)
    doc["name"] = "theirs"
    doc["panes"][first]["title"] = "theirs"
    write_doc(tmp_path, doc)
    space.name = "ours"
    space.panes[first].title = "ours"
    store.save(tmp_path, space, base)
    on_disk = read_doc(tmp_path)
    assert on_disk["name"] == "ours"
    assert on_disk["panes"][first]["title"] == "ours"


def test_merge_keeps_a_pane_added_on_disk(store: WorkspaceStore, tmp_path: Path) -> None:
    space, base = saved_space(store, tmp_path)
    first = next(iter(space.panes))
    # Another clone of the project added a pane, and it arrived with git pull.
    other, _ = loaded(store, tmp_path)
    pulled = Pane.new("command", ["make", "watch"], title="pulled")
    other.add_pane(pulled)
    write_doc(tmp_path, other.to_json())
    # We add a pane of our own and change the layout with it.
    ours = Pane.new("shell", ["zsh"])
    space.add_pane(ours, next_to=first, direction="column")
    written = store.save(tmp_path, space, base).document
    assert set(written["panes"]) == {*base["panes"], pulled.id, ours.id}
    validate_layout(written["layout"], written["panes"])
    # Ours is placed where we put it; theirs is added to the repaired layout.
    assert layout_panes(written["layout"])[:2] == [first, ours.id]
    assert loaded(store, tmp_path)[0].panes[pulled.id].title == "pulled"


def test_merge_drops_deleted_panes(store: WorkspaceStore, tmp_path: Path) -> None:
    space, base = saved_space(store, tmp_path, panes=3)
    a, b, c = list(space.panes)
    doc = read_doc(tmp_path)
    # Deleted on disk (we did not change it): it goes.
    other = Space.from_json(doc)
    other.remove_pane(a)
    # Deleted by us: it goes too, even though it was renamed on disk meanwhile.
    other.panes[b].title = "renamed on disk"
    write_doc(tmp_path, other.to_json())
    space.remove_pane(b)
    written = store.save(tmp_path, space, base).document
    assert list(written["panes"]) == [c]
    assert written["layout"] == {"type": "pane", "pane": c}


def test_merge_keeps_a_pane_deleted_on_disk_that_we_changed(
    store: WorkspaceStore, tmp_path: Path
) -> None:
    space, base = saved_space(store, tmp_path)
    a, b = list(space.panes)
    other, _ = loaded(store, tmp_path)
    other.remove_pane(a)
    write_doc(tmp_path, other.to_json())
    space.panes[a].title = "still running"
    written = store.save(tmp_path, space, base).document
    assert list(written["panes"]) == [a, b]
    validate_layout(written["layout"], [a, b])


def test_merge_without_base_drops_nothing_on_disk(store: WorkspaceStore, tmp_path: Path) -> None:
    space, _ = saved_space(store, tmp_path)
    doc = read_doc(tmp_path)
    doc["owner"] = "ada"
    write_doc(tmp_path, doc)
    space.remove_pane(next(iter(space.panes)))
    space.name = "ours"
    written = store.save(tmp_path, space).document
    assert written["owner"] == "ada" and written["name"] == "ours"
    assert set(written["panes"]) == set(doc["panes"])


def test_save_after_file_deleted_on_disk_writes_ours(store: WorkspaceStore, tmp_path: Path) -> None:
    space, base = saved_space(store, tmp_path)
    space_file(tmp_path).unlink()
    assert store.save(tmp_path, space, base).document == space.to_json()
    assert read_doc(tmp_path) == space.to_json()


def test_save_refuses_a_file_of_another_space(store: WorkspaceStore, tmp_path: Path) -> None:
    saved_space(store, tmp_path)
    before = space_file(tmp_path).read_bytes()
    with pytest.raises(WorkspaceError, match="belongs to space"):
        store.save(tmp_path, Space.new("intruder"))
    assert space_file(tmp_path).read_bytes() == before


def test_save_refuses_an_invalid_space(store: WorkspaceStore, tmp_path: Path) -> None:
    space, base = saved_space(store, tmp_path)
    before = space_file(tmp_path).read_bytes()
    space.panes[next(iter(space.panes))].cwd = "/etc"
    with pytest.raises(WorkspaceError, match=r"is not valid: .*relative path"):
        store.save(tmp_path, space, base)
    space, base = loaded(store, tmp_path)
    space.layout = None  # no longer shows the panes
    with pytest.raises(WorkspaceError, match="does not show pane"):
        store.save(tmp_path, space, base)
    assert space_file(tmp_path).read_bytes() == before


def test_merge_result_that_is_invalid_is_not_written(
    store: WorkspaceStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two valid documents merge into a valid one; this guards the check behind that.
    space, base = saved_space(store, tmp_path)
    doc = read_doc(tmp_path)
    doc["owner"] = "ada"
    write_doc(tmp_path, doc)
    before = space_file(tmp_path).read_bytes()
    monkeypatch.setattr(
        "jupyter_spaces.store.merge_documents", lambda base, ours, theirs: {**ours, "name": ""}
    )
    space.name = "ours"
    with pytest.raises(WorkspaceError, match=r"merging it with .* failed: .*name"):
        store.save(tmp_path, space, base)
    assert space_file(tmp_path).read_bytes() == before


def test_merge_documents_rules() -> None:
    pane = {"id": "p001", "kind": "shell", "argv": [], "cwd": "", "created": "2024-01-01T00:00:00Z"}
    base = {"a": 1, "b": 1, "gone": 1, "panes": {"p001": pane}, "layout": None}
    ours = {"a": 2, "b": 1, "gone": 1, "panes": {"p001": {**pane, "title": "ours"}}, "layout": None}
    theirs = {"a": 3, "b": 3, "new": 1, "panes": {"p001": {**pane, "cwd": "x"}}, "layout": None}
    merged = merge_documents(base, ours, theirs)
    assert merged["a"] == 2 and merged["b"] == 3 and merged["new"] == 1
    assert "gone" not in merged
    assert merged["panes"]["p001"] == {**pane, "title": "ours", "cwd": "x"}
    assert merged["layout"] == {"type": "pane", "pane": "p001"}


# -- .gitignore and delete -----------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_gitignore_keeps_only_the_layout_file_in_git(store: WorkspaceStore, tmp_path: Path) -> None:
    saved_space(store, tmp_path)
    state = tmp_path / ".jupyter-spaces"
    assert (state / ".gitignore").read_text() == GITIGNORE
    assert all(line.startswith("#") for line in GITIGNORE.splitlines()[:3])
    env = {**os.environ, "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, env=env)

    def ignored(rel: str) -> bool:
        done = subprocess.run(
            ["git", "-C", str(tmp_path), "check-ignore", "-q", "--no-index", rel], env=env
        )
        assert done.returncode in (0, 1)
        return done.returncode == 0

    for rel in [
        ".jupyter-spaces/screens/x.txt",
        ".jupyter-spaces/transcripts/abc.jsonl",
        ".jupyter-spaces/space.prev.json",
        ".jupyter-spaces/.space.json.1234abcd.tmp",
        ".jupyter-spaces/screens/space.json",
    ]:
        assert ignored(rel), rel
    for rel in [".jupyter-spaces/space.json", ".jupyter-spaces/.gitignore", "notebook.ipynb"]:
        assert not ignored(rel), rel


def test_gitignore_is_not_rewritten(store: WorkspaceStore, tmp_path: Path) -> None:
    space, base = saved_space(store, tmp_path)
    gitignore = tmp_path / ".jupyter-spaces" / ".gitignore"
    gitignore.write_text("# mine\n")
    space.name = "again"
    store.save(tmp_path, space, base)
    assert gitignore.read_text() == "# mine\n"


def test_delete_removes_only_our_files(store: WorkspaceStore, tmp_path: Path) -> None:
    space, base = saved_space(store, tmp_path)
    space.name = "again"
    store.save(tmp_path, space, base)
    state = tmp_path / ".jupyter-spaces"
    (state / ".space.json.deadbeef.tmp").write_text("left by a crash")
    (state / "screens").mkdir()
    (state / "screens" / "p.txt").write_text("secret")
    store.delete(tmp_path)
    # Screens remain, and so does the .gitignore that keeps them out of git.
    assert sorted(os.listdir(state)) == [".gitignore", "screens"]
    shutil.rmtree(state / "screens")
    store.delete(tmp_path)
    assert not state.exists()
    assert store.load(tmp_path).status == "missing"
    store.delete(tmp_path)  # nothing left: no error


def test_delete_broken_with_force(store: WorkspaceStore, tmp_path: Path) -> None:
    saved_space(store, tmp_path)
    space_file(tmp_path).write_text("{")
    store.delete(tmp_path, force=True)
    assert not (tmp_path / ".jupyter-spaces").exists()
