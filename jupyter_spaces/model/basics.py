"""The model's constants, its one error, ids and times."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone
from typing import Any, TypeGuard

SCHEMA_VERSION = 1
PANE_KINDS = ("shell", "command", "agent")
AGENTS = ("claude", "codex", "gemini", "custom")
SPLIT_DIRECTIONS = ("row", "column")

Layout = dict[str, Any]
"""A layout node: ``{"type": "pane", "pane": id}`` or ``{"type": "split", ...}``."""

_ID_RE = re.compile(r"[a-z0-9]{4,32}")
# Agent session ids: UUIDs for the three CLIs (agent-formats.md 1.2, 2.2, 3.2); a custom agent's
# are the user's, kept printable. None may start with "-", so no CLI can read one as a flag.
_SESSION_ID_RE = re.compile(r"[A-Za-z0-9._:][A-Za-z0-9._:-]{0,127}")
_UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Sizes are fractions a UI stores after a drag; hand-written ones like 0.33/0.33/0.33 must pass.
_SIZES_TOLERANCE = 0.02
# Deep enough for any grid a person builds; bounded so that checking a hostile document ends
# with a sentence instead of a RecursionError.
MAX_LAYOUT_DEPTH = 32


class WorkspaceError(ValueError):
    """A workspace document is malformed, or may not be written; the message is a sentence."""


def valid_id(s: object) -> TypeGuard[str]:
    """Whether ``s`` is safe as a space or pane id in URLs, tmux names and file names."""
    return isinstance(s, str) and _ID_RE.fullmatch(s) is not None


def runnable_text(value: object) -> bool:
    """Whether ``value`` can reach a process as an argument or variable: a string without NUL
    (the kernel's end of string) that encodes to UTF-8 (no lone surrogates)."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def env_name(value: object) -> bool:
    """Whether ``value`` is an environment variable name a shell can export."""
    return isinstance(value, str) and _ENV_NAME_RE.fullmatch(value) is not None


def new_space_id() -> str:
    """A fresh random space id (10 lowercase hex characters)."""
    return secrets.token_hex(5)


def new_pane_id() -> str:
    """A fresh random pane id (8 lowercase hex characters)."""
    return secrets.token_hex(4)


def now_iso() -> str:
    """The current time as an ISO-8601 UTC string, e.g. ``2024-05-01T12:00:00Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def check_kind(kind: object) -> str:
    """Return ``kind`` if it is a pane kind this version knows; the only place kinds are checked."""
    if kind not in PANE_KINDS:
        known = ", ".join(PANE_KINDS)
        raise WorkspaceError(f"kind must be one of {known}, not {kind!r}")
    return str(kind)
