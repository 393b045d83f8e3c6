"""The per-user registry of known spaces."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from jupyter_spaces.registry import Registry, default_registry_path


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(tmp_path / "data" / "jupyter_spaces" / "registry.json")


def test_missing_registry_is_empty(registry: Registry) -> None:
    assert registry.entries() == {}
    assert registry.find_by_dir("/anywhere") is None
    assert registry.remove("abcd1234") is False
    assert not registry.path.exists()


def test_round_trip(registry: Registry, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    registry.add("abcd1234", project, "demo")
    registry.add("ef567890", tmp_path, "home")
    entries = registry.entries()
    assert list(entries) == ["abcd1234", "ef567890"]
    assert entries["abcd1234"]["dir"] == str(project.resolve())
    assert entries["abcd1234"]["name"] == "demo"
    assert entries["abcd1234"]["added"].endswith("Z")

    doc = json.loads(registry.path.read_text())
    assert doc["version"] == 1 and doc["spaces"] == entries
    # A fresh instance reads the same file.
    assert Registry(registry.path).entries() == entries

    registry.rename("abcd1234", "renamed")
    assert registry.entries()["abcd1234"]["name"] == "renamed"
    assert registry.entries()["abcd1234"]["added"] == entries["abcd1234"]["added"]
    assert registry.find_by_dir(project) == "abcd1234"
    assert registry.find_by_dir(str(project) + "/sub/..") == "abcd1234"
    assert registry.remove("abcd1234") is True
    assert list(registry.entries()) == ["ef567890"]
    assert registry.find_by_dir(project) is None
    assert [p.name for p in registry.path.parent.iterdir()] == ["registry.json"]


def test_rename_unknown(registry: Registry) -> None:
    with pytest.raises(KeyError):
        registry.rename("abcd1234", "x")


@pytest.mark.parametrize("bad", ["ABC", "../etc", "a b c d", ""])
def test_add_rejects_bad_ids(registry: Registry, tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="not a valid space id"):
        registry.add(bad, tmp_path, "x")
    assert not registry.path.exists()


def test_one_space_per_directory(registry: Registry, tmp_path: Path) -> None:
    registry.add("abcd1234", tmp_path, "old")
    registry.add("ef567890", tmp_path, "new")
    assert list(registry.entries()) == ["ef567890"]
    assert registry.find_by_dir(tmp_path) == "ef567890"


def test_readd_keeps_added_time_and_unknown_fields(registry: Registry, tmp_path: Path) -> None:
    registry.add("abcd1234", tmp_path, "one")
    doc = json.loads(registry.path.read_text())
    doc["spaces"]["abcd1234"]["added"] = "2020-01-01T00:00:00Z"
    doc["spaces"]["abcd1234"]["pinned"] = True
    registry.path.write_text(json.dumps(doc))
    registry.add("abcd1234", tmp_path / "moved", "two")
    entry = registry.entries()["abcd1234"]
    assert entry["added"] == "2020-01-01T00:00:00Z" and entry["pinned"] is True
    assert entry["name"] == "two" and entry["dir"] == str((tmp_path / "moved").resolve())


@pytest.mark.parametrize(
    "content",
    ['{"version": 1, "spaces": {', "[]", '{"version": 1}', '{"version": 2, "spaces": {}}'],
)
def test_corrupt_registry_is_kept_aside(
    registry: Registry, tmp_path: Path, caplog: pytest.LogCaptureFixture, content: str
) -> None:
    registry.path.parent.mkdir(parents=True)
    registry.path.write_text(content)
    with caplog.at_level(logging.WARNING, logger="jupyter_spaces.registry"):
        assert registry.entries() == {}
    assert "treating it as empty" in caplog.text
    # Reading, removing and renaming do not overwrite it.
    assert registry.find_by_dir(tmp_path) is None
    assert registry.remove("abcd1234") is False
    with pytest.raises(KeyError):
        registry.rename("abcd1234", "x")
    assert registry.path.read_text() == content
    # The next add sets it aside and starts afresh.
    registry.add("abcd1234", tmp_path, "demo")
    assert registry.path.with_name("registry.json.corrupt").read_text() == content
    assert list(registry.entries()) == ["abcd1234"]


def test_malformed_entries_are_skipped(
    registry: Registry, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    registry.path.parent.mkdir(parents=True)
    good = {"dir": str(tmp_path), "name": "good", "added": "2024-01-01T00:00:00Z"}
    spaces = {
        "abcd1234": good,
        "BAD!": good,
        "ef567890": {"dir": "relative/path", "name": "x"},
        "aaaa1111": "not an object",
    }
    registry.path.write_text(json.dumps({"version": 1, "spaces": spaces}))
    with caplog.at_level(logging.WARNING, logger="jupyter_spaces.registry"):
        assert registry.entries() == {"abcd1234": good}
    assert "skipping malformed entry" in caplog.text


def test_default_registry_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path))
    assert default_registry_path() == tmp_path / "jupyter_spaces" / "registry.json"


def test_write_is_atomic(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.add("abcd1234", tmp_path, "demo")
    before = registry.path.read_text()

    def replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError):
        registry.add("ef567890", tmp_path / "other", "other")
    assert registry.path.read_text() == before
    assert os.listdir(registry.path.parent) == ["registry.json"]
