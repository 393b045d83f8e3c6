"""The refusals of ``%spaces``: one line each, no traceback, nothing changed."""

from __future__ import annotations

from typing import Any

from .client import ClientError


class SpacesMagicError(Exception):
    """A refusal: shown as one line (no traceback) and nothing was changed."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows these lines instead of a traceback for exceptions that have this method.
        return [f"\x1b[0;31mspaces:\x1b[0m {self}"]


class SpacesUsageError(SpacesMagicError):
    """The line itself is wrong: unknown subcommand or option, missing argument."""


def resume_refusal(e: ClientError, name: str, session: dict[str, Any]) -> str:
    reason = e.reason
    if reason == "no_space":
        path = e.body.get("path")
        path = session.get("path") if path is None else path
        path = "PATH" if path is None else (path or "/")  # "/" is the server root
        return (
            f"no space holds the folder of {name} ({path}); create one with "
            f"%spaces new {path}, then resume again"
        )
    if reason == "gone":
        return (
            f"the transcript of {name} was deleted; %spaces resume {name} --fresh starts a new "
            "session in its folder"
        )
    if reason == "already_open":
        pane = e.body.get("pane_id") or "?"
        return (
            f"{name} is already open in pane {pane} of space {e.body.get('space_id')}; "
            f"%spaces tail {pane} shows it"
        )
    if reason == "outside_root":
        return f"{name} ran outside this server's root, so it cannot be resumed from here"
    if reason == "missing_cli":
        return f"cannot resume {name}: {e.message}"
    if reason == "not_resumable":
        return f"{name} cannot be resumed: {e.message}"
    return str(e)
