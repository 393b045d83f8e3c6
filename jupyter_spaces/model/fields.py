"""Reading a workspace document's fields: each checked, with a sentence that names it when
it is wrong, and the fields this version does not know kept aside."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .basics import (
    WorkspaceError,
    env_name,
    runnable_text,
)

_MISSING: Any = object()


_JSON_NAMES = {str: "a string", list: "a list", dict: "an object", int: "a whole number"}


def _take(doc: dict[str, Any], key: str, kind: type, where: str, default: Any = _MISSING) -> Any:
    """A copy of ``doc[key]`` checked against ``kind``; if missing, ``default`` or an error."""
    if key not in doc:
        if default is _MISSING:
            raise WorkspaceError(f"{where} has no {key!r}")
        return copy.deepcopy(default)
    value = doc[key]
    # bool is an int in Python, but true is not a version number in JSON.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise WorkspaceError(f"{where}: {key!r} must be {_JSON_NAMES[kind]}")
    return copy.deepcopy(value)


def _take_time(doc: dict[str, Any], key: str, where: str, default: Any = _MISSING) -> str:
    value: str = _take(doc, key, str, where, default)
    try:
        # Python 3.10's fromisoformat does not read the "Z" suffix that we write.
        datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        raise WorkspaceError(f"{where}: {key!r} must be an ISO-8601 time, not {value!r}") from None
    return value


def _take_argv(doc: dict[str, Any], where: str) -> list[str]:
    argv: list[Any] = _take(doc, "argv", list, where)
    if not all(runnable_text(a) for a in argv):
        raise WorkspaceError(
            f"{where}: 'argv' must be a list of strings without NUL or lone surrogates"
        )
    return argv


def _take_strings(doc: dict[str, Any], key: str, where: str, default: Any) -> Any:
    if key not in doc:
        return default
    value = doc[key]
    if not isinstance(value, list) or not all(runnable_text(a) for a in value):
        raise WorkspaceError(
            f"{where}: {key!r} must be a list of strings without NUL or lone surrogates"
        )
    return list(value)


def _take_env(doc: dict[str, Any], where: str) -> dict[str, str]:
    env: dict[str, Any] = _take(doc, "env", dict, where, {})
    for key, value in env.items():
        if not env_name(key) or not runnable_text(value):
            raise WorkspaceError(
                f"{where}: 'env' must map variable names ([A-Za-z_][A-Za-z0-9_]*) to strings "
                f"without NUL ({key!r})"
            )
    return env


def _extra(doc: dict[str, Any], known: Iterable[str]) -> dict[str, Any]:
    known = set(known)
    return {k: copy.deepcopy(v) for k, v in doc.items() if k not in known}


def _with_extra(known: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    # Known fields win over a same-named key someone put into ``extra`` by hand.
    return {**known, **{k: copy.deepcopy(v) for k, v in extra.items() if k not in known}}


def check_cwd(cwd: object, where: str = "pane") -> str:
    """Return ``cwd`` if it is a POSIX path inside the space dir (``""`` is the dir itself)."""
    if not isinstance(cwd, str):
        raise WorkspaceError(f"{where}: 'cwd' must be a string")
    if cwd.startswith("/") or not runnable_text(cwd) or ".." in cwd.split("/"):
        raise WorkspaceError(
            f"{where}: 'cwd' must be a relative path inside the space directory, not {cwd!r}"
        )
    return cwd
