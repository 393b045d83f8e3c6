"""The per-user registry of known spaces, so that listing them needs no walk of the file tree.

It is a cache of where spaces live, not their state (that is in each ``space.json``): a corrupt
registry is reported and read as empty, and set aside as ``registry.json.corrupt`` by the next
``add`` rather than overwritten, so a person can still recover entries from it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir

from .model import now_iso, valid_id
from .store import atomic_write_text

log = logging.getLogger(__name__)

REGISTRY_VERSION = 1


def default_registry_path() -> Path:
    """``<jupyter data dir>/jupyter_spaces/registry.json``."""
    return Path(jupyter_data_dir()) / "jupyter_spaces" / "registry.json"


def _canonical(dir: Path | str) -> str:
    # One spelling per directory (symlinks and ".." resolved), so lookups by dir match.
    return str(Path(dir).expanduser().resolve())


class Registry:
    """``{"version": 1, "spaces": {id: {"dir", "name", "added"}}}`` in one JSON file.

    Every call reads the file afresh, so two servers of the same user see each other's changes.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def _read(self) -> tuple[dict[str, dict[str, Any]], bool]:
        """The entries, and whether the file is corrupt (then the entries are empty)."""
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return {}, False
        except (OSError, UnicodeDecodeError) as e:
            log.warning(
                "jupyter-spaces registry %s cannot be read (%s); treating it as empty", self.path, e
            )
            return {}, True
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as e:
            log.warning(
                "jupyter-spaces registry %s is not valid JSON (%s); treating it as empty",
                self.path,
                e,
            )
            return {}, True
        spaces = doc.get("spaces") if isinstance(doc, dict) else None
        if not isinstance(spaces, dict) or doc.get("version") != REGISTRY_VERSION:
            log.warning(
                "jupyter-spaces registry %s is not a version %d registry; treating it as empty",
                self.path,
                REGISTRY_VERSION,
            )
            return {}, True
        entries: dict[str, dict[str, Any]] = {}
        for space_id, entry in spaces.items():
            if (
                valid_id(space_id)
                and isinstance(entry, dict)
                and isinstance(entry.get("dir"), str)
                and os.path.isabs(entry["dir"])
                and isinstance(entry.get("name"), str)
            ):
                entries[space_id] = entry
            else:
                # One bad entry should not hide the others; it is dropped at the next write.
                log.warning(
                    "jupyter-spaces registry %s: skipping malformed entry %r", self.path, space_id
                )
        return entries, False

    def _write(self, entries: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"version": REGISTRY_VERSION, "spaces": entries}
        atomic_write_text(self.path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")

    def entries(self) -> dict[str, dict[str, Any]]:
        """``{space_id: {"dir": absolute path, "name": ..., "added": iso time}}``."""
        return self._read()[0]

    def add(self, space_id: str, dir: Path | str, name: str) -> None:
        """Register (or update) a space; a space registered before for ``dir`` is replaced,
        since a directory holds one space."""
        if not valid_id(space_id):
            raise ValueError(f"{space_id!r} is not a valid space id")
        dir = _canonical(dir)
        with self._lock:
            entries, corrupt = self._read()
            if corrupt:
                aside = self.path.with_name(self.path.name + ".corrupt")
                os.replace(self.path, aside)
                log.warning("jupyter-spaces registry: kept the corrupt file as %s", aside)
            for other, entry in list(entries.items()):
                if other != space_id and entry["dir"] == dir:
                    log.info(
                        "jupyter-spaces registry: space %s in %s replaces space %s",
                        space_id,
                        dir,
                        other,
                    )
                    del entries[other]
            added = entries.get(space_id, {}).get("added") or now_iso()
            entries[space_id] = {
                **entries.get(space_id, {}),
                "dir": dir,
                "name": name,
                "added": added,
            }
            self._write(entries)

    def remove(self, space_id: str) -> bool:
        """Forget a space; returns whether it was registered."""
        with self._lock:
            entries, _ = self._read()
            if entries.pop(space_id, None) is None:
                return False
            self._write(entries)
            return True

    def rename(self, space_id: str, name: str) -> None:
        """Change the name shown for a space; KeyError if it is not registered."""
        with self._lock:
            entries, _ = self._read()
            if space_id not in entries:
                raise KeyError(space_id)
            entries[space_id]["name"] = name
            self._write(entries)

    def find_by_dir(self, dir: Path | str) -> str | None:
        """The id of the space registered for ``dir``, if any."""
        dir = _canonical(dir)
        for space_id, entry in self.entries().items():
            if entry["dir"] == dir:
                return space_id
        return None
