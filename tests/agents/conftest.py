from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_spaces.agents import SessionIndex


@pytest.fixture
def roots(tmp_path: Path) -> dict[str, Path]:
    """One data directory per CLI (what CLAUDE_CONFIG_DIR, CODEX_HOME, ~/.gemini point at)."""
    r = {"claude": tmp_path / "claude", "codex": tmp_path / "codex", "gemini": tmp_path / "gemini"}
    for p in r.values():
        p.mkdir()
    return r


@pytest.fixture
def index(tmp_path: Path, roots: dict[str, Path]) -> Iterator[SessionIndex]:
    idx = SessionIndex(
        tmp_path / "index" / "sessions.sqlite", roots={a: [p] for a, p in roots.items()}
    )
    yield idx
    idx.close()
