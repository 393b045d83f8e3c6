"""Small checks and limits that several services apply to request bodies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import SpacesError

MAX_TITLE = 200
MAX_NAME = 200
# The fields of a request that place a new pane next to another, and size it.
PLACEMENT = frozenset({"rows", "cols", "next_to", "direction"})
AGENT_FIELDS = frozenset({"agent", "args", "model", "resume", "session_id", "argv"})


def only(body: dict[str, Any], allowed: set[str] | frozenset[str]) -> None:
    """SpacesError(400) naming the fields of ``body`` that are not ``allowed``."""
    if not isinstance(body, dict):
        raise SpacesError(400, "the request body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise SpacesError(
            400, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def check_size(rows: object, cols: object, max_rows: int, max_cols: int) -> tuple[int, int]:
    """Rows and columns from a client, or SpacesError(400) saying what is wrong."""
    for value, what, top in ((rows, "rows", max_rows), (cols, "cols", max_cols)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise SpacesError(400, f"{what} must be a whole number")
        if not 1 <= value <= top:
            raise SpacesError(400, f"{what} must be between 1 and {top}, not {value}")
    return rows, cols  # type: ignore[return-value]


def short(text: str | None, cap: int = 60) -> str:
    """A pane title from a session title or prompt: one line, at most ``cap`` characters."""
    line = " ".join((text or "").split())
    return line if len(line) <= cap else line[: cap - 1] + "…"


def rel(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` as a workspace file records it ('' for ``base`` itself)."""
    rel = path.relative_to(base).as_posix()
    return "" if rel == "." else rel
