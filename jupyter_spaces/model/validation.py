"""The workspace document's JSON Schema, shipped as package data, and checking against it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from .basics import WorkspaceError


def load_schema() -> dict[str, Any]:
    """The workspace document's JSON Schema, shipped as package data (a fresh copy)."""
    text = files("jupyter_spaces").joinpath("schema", "workspace.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema())


def _json_path(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the top level"


def validate_schema(doc: object) -> None:
    """Raise WorkspaceError naming the field, if ``doc`` does not match the JSON Schema."""
    try:
        error = best_match(_validator().iter_errors(doc))
    except RecursionError:
        raise WorkspaceError("the document is nested too deeply") from None
    if error is not None:
        raise WorkspaceError(f"at {_json_path(error.absolute_path)}: {error.message}")
