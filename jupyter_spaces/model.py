"""The workspace model: spaces, panes, their layout, and the versioned JSON document.

A space's document lives at ``<dir>/.jupyter-spaces/space.json``. Fields this version does not
know are kept in ``extra`` and written back verbatim, so a file edited by hand or by a newer
jupyter-spaces loses nothing when this one saves it.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from importlib.resources import files
from typing import Any, TypeGuard

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from .agents.model import valid_session_id

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


# -- layout -------------------------------------------------------------------------------------


def _walk(node: object, where: str, depth: int = 0) -> Iterable[str]:
    """Yield the pane ids of a layout tree in order; ValueError names the first malformed node."""
    if depth > MAX_LAYOUT_DEPTH:
        raise ValueError(f"layout is nested more than {MAX_LAYOUT_DEPTH} levels deep")
    if not isinstance(node, dict):
        raise ValueError(f"{where} must be an object, not {type(node).__name__}")
    kind = node.get("type")
    if kind == "pane":
        pane = node.get("pane")
        if not isinstance(pane, str):
            raise ValueError(f"{where}.pane must be a pane id string")
        yield pane
        return
    if kind != "split":
        raise ValueError(f"{where}.type must be 'pane' or 'split', not {kind!r}")
    if node.get("direction") not in SPLIT_DIRECTIONS:
        raise ValueError(
            f"{where}.direction must be 'row' or 'column', not {node.get('direction')!r}"
        )
    children = node.get("children")
    if not isinstance(children, list) or len(children) < 2:
        raise ValueError(f"{where}.children must be a list of at least two nodes")
    sizes = node.get("sizes")
    if (
        not isinstance(sizes, list)
        or len(sizes) != len(children)
        or not all(isinstance(s, int | float) and not isinstance(s, bool) for s in sizes)
    ):
        raise ValueError(f"{where}.sizes must be a list of one number per child")
    # Written as "not ... <=" so that NaN, which compares false with everything, fails too.
    if not all(s > 0 for s in sizes) or not abs(sum(sizes) - 1) <= _SIZES_TOLERANCE:
        raise ValueError(f"{where}.sizes must be positive fractions summing to 1, not {sizes}")
    for i, child in enumerate(children):
        yield from _walk(child, f"{where}.children[{i}]", depth + 1)


def layout_panes(layout: Layout | None) -> list[str]:
    """The pane ids in ``layout``, in reading order; ValueError if the tree is malformed."""
    return [] if layout is None else list(_walk(layout, "layout"))


def validate_layout(layout: Layout | None, pane_ids: Iterable[str]) -> None:
    """Raise ValueError unless ``layout`` is well formed and holds each of ``pane_ids`` once."""
    wanted = set(pane_ids)
    seen: set[str] = set()
    for pane in layout_panes(layout):
        if pane in seen:
            raise ValueError(f"layout shows pane {pane!r} more than once")
        if pane not in wanted:
            raise ValueError(f"layout shows pane {pane!r}, which is not in the space")
        seen.add(pane)
    missing = sorted(wanted - seen)
    if missing:
        raise ValueError(f"layout does not show pane(s) {', '.join(map(repr, missing))}")


def _leaf(pane_id: str) -> Layout:
    return {"type": "pane", "pane": pane_id}


def layout_add(
    layout: Layout | None, pane_id: str, next_to: str | None = None, direction: str = "row"
) -> Layout:
    """Return a new layout with ``pane_id`` added beside ``next_to`` (default: at the root's end).

    The new pane gets an equal share of the space it splits: beside a leaf it takes half of
    that leaf's share; at the root's end it takes 1/n and the others keep their proportions.
    """
    if direction not in SPLIT_DIRECTIONS:
        raise ValueError(f"direction must be 'row' or 'column', not {direction!r}")
    present = layout_panes(layout)
    if pane_id in present:
        raise ValueError(f"pane {pane_id!r} is already in the layout")
    if layout is None:
        if next_to is not None:
            raise ValueError(f"pane {next_to!r} is not in the layout")
        return _leaf(pane_id)
    if next_to is None:
        root = copy.deepcopy(layout)
        if root["type"] == "split" and root["direction"] == direction:
            n = len(root["children"]) + 1
            root["sizes"] = [s * (n - 1) / n for s in root["sizes"]] + [1 / n]
            root["children"].append(_leaf(pane_id))
            return root
        return {
            "type": "split",
            "direction": direction,
            "children": [root, _leaf(pane_id)],
            "sizes": [0.5, 0.5],
        }
    if next_to not in present:
        raise ValueError(f"pane {next_to!r} is not in the layout")

    def add(node: Layout) -> Layout:
        if node["type"] == "pane":
            if node["pane"] != next_to:
                return node
            return {
                "type": "split",
                "direction": direction,
                "children": [node, _leaf(pane_id)],
                "sizes": [0.5, 0.5],
            }
        children, sizes = node["children"], node["sizes"]
        for i, child in enumerate(children):
            # Beside a leaf in a split of the same direction, a new sibling reads better than
            # a nested split of one direction inside another of the same direction.
            if node["direction"] == direction and child.get("pane") == next_to:
                half = sizes[i] / 2
                node["children"] = [*children[: i + 1], _leaf(pane_id), *children[i + 1 :]]
                node["sizes"] = [*sizes[:i], half, half, *sizes[i + 1 :]]
                return node
        node["children"] = [add(child) for child in children]
        return node

    return add(copy.deepcopy(layout))


def layout_remove(layout: Layout | None, pane_id: str) -> Layout | None:
    """Return a new layout without ``pane_id``; splits left with one child collapse into it.

    The removed pane's share goes to its siblings in proportion to their sizes.
    """
    if pane_id not in layout_panes(layout):
        raise ValueError(f"pane {pane_id!r} is not in the layout")

    def remove(node: Layout) -> Layout | None:
        if node["type"] == "pane":
            return None if node["pane"] == pane_id else node
        kept: list[tuple[Layout, float]] = []
        for child, size in zip(node["children"], node["sizes"], strict=True):
            rest = remove(child)
            if rest is not None:
                kept.append((rest, size))
        if len(kept) == 1:
            return kept[0][0]
        # A child that collapsed into a split of our direction is merged into us, so the tree
        # never nests a row directly inside a row.
        children: list[Layout] = []
        sizes: list[float] = []
        for child, size in kept:
            if child["type"] == "split" and child["direction"] == node["direction"]:
                children += child["children"]
                sizes += [size * s for s in child["sizes"]]
            else:
                children.append(child)
                sizes.append(size)
        total = sum(sizes)
        node["children"] = children
        node["sizes"] = [s / total for s in sizes]
        return node

    assert layout is not None  # layout_panes(None) is empty, so the check above raised
    return remove(copy.deepcopy(layout))


# -- documents ----------------------------------------------------------------------------------


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


@dataclass
class LaunchProfile:
    """How to start a pane again after a restart. For agent panes also the flags that a resume
    must repeat (``model``, ``args``) and, for a custom agent, the ``resume`` template."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    model: str | None = None
    args: list[str] = field(default_factory=list)
    resume: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    _FIELDS = ("argv", "env", "model", "args", "resume")

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"argv": list(self.argv), "env": dict(self.env)}
        if self.model is not None:
            doc["model"] = self.model
        if self.args:
            doc["args"] = list(self.args)
        if self.resume is not None:
            doc["resume"] = list(self.resume)
        return _with_extra(doc, self.extra)

    @classmethod
    def from_json(cls, doc: object, where: str = "launch") -> LaunchProfile:
        if not isinstance(doc, dict):
            raise WorkspaceError(f"{where} must be an object")
        # What runs must be fully understood: a launch field this version does not know could
        # change what a newer one runs, so it makes the file broken rather than ignored.
        unknown = sorted(set(doc) - set(cls._FIELDS))
        if unknown:
            raise WorkspaceError(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}")
        model = _take(doc, "model", str, where, None)
        if model is not None and (not model or not runnable_text(model)):
            raise WorkspaceError(f"{where}: 'model' must be a non-empty string without NUL")
        return cls(
            argv=_take_argv(doc, where),
            env=_take_env(doc, where),
            model=model,
            args=_take_strings(doc, "args", where, []),
            resume=_take_strings(doc, "resume", where, None),
        )


@dataclass
class Pane:
    """One pane: what runs in it, where, and how to start it again."""

    id: str
    kind: str
    title: str
    argv: list[str]
    cwd: str = ""
    env: dict[str, str] = field(default_factory=dict)
    created: str = field(default_factory=now_iso)
    last_active: str = ""  # empty means "same as created"
    launch: LaunchProfile = field(kw_only=True)
    # Agent panes: which CLI, and the conversation it holds (None until known).
    agent: str | None = None
    session_id: str | None = None
    # Command panes: run again by themselves after the machine restarts (else they wait).
    autorestart: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    _FIELDS = (
        "id",
        "kind",
        "title",
        "argv",
        "cwd",
        "env",
        "created",
        "last_active",
        "launch",
        "agent",
        "session_id",
        "autorestart",
    )

    def __post_init__(self) -> None:
        if not self.last_active:
            self.last_active = self.created

    @classmethod
    def new(
        cls,
        kind: str,
        argv: list[str],
        cwd: str = "",
        title: str = "",
        env: dict[str, str] | None = None,
        launch: LaunchProfile | None = None,
        agent: str | None = None,
        session_id: str | None = None,
    ) -> Pane:
        """A new pane with a fresh id; by default it is started again the way it started now."""
        env = dict(env or {})
        return cls(
            id=new_pane_id(),
            kind=check_kind(kind),
            title=title,
            argv=list(argv),
            cwd=check_cwd(cwd),
            env=env,
            launch=launch or LaunchProfile(argv=list(argv), env=dict(env)),
            agent=agent,
            session_id=session_id,
        )

    def to_json(self) -> dict[str, Any]:
        return _with_extra(
            {
                "id": self.id,
                "kind": self.kind,
                "title": self.title,
                "argv": list(self.argv),
                "cwd": self.cwd,
                "env": dict(self.env),
                "created": self.created,
                "last_active": self.last_active,
                "launch": self.launch.to_json(),
                **({"agent": self.agent} if self.agent is not None else {}),
                **({"session_id": self.session_id} if self.session_id is not None else {}),
                **({"autorestart": True} if self.autorestart else {}),
            },
            self.extra,
        )

    @classmethod
    def from_json(cls, doc: object, where: str = "pane") -> Pane:
        if not isinstance(doc, dict):
            raise WorkspaceError(f"{where} must be an object")
        pane_id = doc.get("id")
        if not valid_id(pane_id):
            raise WorkspaceError(
                f"{where}: 'id' must be 4 to 32 lowercase letters or digits, not {pane_id!r}"
            )
        where = f"pane {pane_id}"
        try:
            kind = check_kind(doc.get("kind"))
        except WorkspaceError as e:
            raise WorkspaceError(f"{where}: {e}") from None
        created = _take_time(doc, "created", where)
        argv = _take_argv(doc, where)
        env = _take_env(doc, where)
        # A document without a launch profile is started again the way it was started.
        launch = (
            LaunchProfile.from_json(doc["launch"], f"{where}: launch")
            if "launch" in doc
            else LaunchProfile(argv=list(argv), env=dict(env))
        )
        agent = _take(doc, "agent", str, where, None)
        if kind == "agent" and agent not in AGENTS:
            raise WorkspaceError(f"{where}: 'agent' must be one of {', '.join(AGENTS)}")
        autorestart = doc.get("autorestart", False)
        if not isinstance(autorestart, bool):
            raise WorkspaceError(f"{where}: 'autorestart' must be true or false")
        session_id = _take(doc, "session_id", str, where, None)
        if session_id is not None and not valid_session_id(agent, session_id):
            raise WorkspaceError(
                f"{where}: 'session_id' {session_id!r} is not a session id of {agent or 'a pane'}"
            )
        _check_launch(kind, agent, argv, env, launch, autorestart, where)
        return cls(
            id=pane_id,
            kind=kind,
            title=_take(doc, "title", str, where, ""),
            argv=argv,
            cwd=check_cwd(_take(doc, "cwd", str, where), where),
            env=env,
            created=created,
            last_active=_take_time(doc, "last_active", where, created),
            launch=launch,
            agent=agent if kind == "agent" else None,
            session_id=session_id if kind == "agent" else None,
            autorestart=autorestart,
            extra=_extra(doc, cls._FIELDS),
        )


@dataclass
class Space:
    """A workspace bound to one project directory: its panes and how they are laid out."""

    id: str
    name: str
    panes: dict[str, Pane] = field(default_factory=dict)
    layout: Layout | None = None
    created: str = field(default_factory=now_iso)
    extra: dict[str, Any] = field(default_factory=dict)
    # The schema version of the document this came from; above SCHEMA_VERSION means read-only.
    version: int = SCHEMA_VERSION

    _FIELDS = ("version", "id", "name", "created", "layout", "panes")

    @classmethod
    def new(cls, name: str) -> Space:
        """An empty space with a fresh id."""
        return cls(id=new_space_id(), name=name)

    def add_pane(self, pane: Pane, next_to: str | None = None, direction: str = "row") -> None:
        """Add ``pane`` and place it in the layout (see ``layout_add``)."""
        if pane.id in self.panes:
            raise ValueError(f"pane {pane.id!r} is already in space {self.id!r}")
        self.layout = layout_add(self.layout, pane.id, next_to, direction)
        self.panes[pane.id] = pane

    def remove_pane(self, pane_id: str) -> Pane:
        """Remove a pane from the space and its layout; KeyError if it is not there."""
        pane = self.panes.pop(pane_id)
        self.layout = layout_remove(self.layout, pane_id)
        return pane

    def to_json(self) -> dict[str, Any]:
        return _with_extra(
            {
                "version": self.version,
                "id": self.id,
                "name": self.name,
                "created": self.created,
                "layout": copy.deepcopy(self.layout),
                "panes": {pane_id: pane.to_json() for pane_id, pane in self.panes.items()},
            },
            self.extra,
        )

    @classmethod
    def from_json(cls, doc: object, allow_newer: bool = False) -> Space:
        """Parse a document; a newer schema version raises unless ``allow_newer``."""
        if not isinstance(doc, dict):
            raise WorkspaceError("the document must be a JSON object")
        version = _take(doc, "version", int, "the document")
        if version < 1:
            raise WorkspaceError(f"the document's 'version' must be 1 or more, not {version}")
        if version > SCHEMA_VERSION and not allow_newer:
            raise WorkspaceError(
                f"the document has schema version {version}; "
                f"this jupyter-spaces reads {SCHEMA_VERSION}"
            )
        space_id = doc.get("id")
        if not valid_id(space_id):
            raise WorkspaceError(
                f"the space 'id' must be 4 to 32 lowercase letters or digits, not {space_id!r}"
            )
        name: str = _take(doc, "name", str, "the space")
        if not name.strip():
            raise WorkspaceError("the space 'name' must not be empty")
        raw_panes: dict[str, Any] = _take(doc, "panes", dict, "the space")
        panes: dict[str, Pane] = {}
        for key, raw in raw_panes.items():
            pane = Pane.from_json(raw, f"pane {key}")
            if pane.id != key:
                raise WorkspaceError(f"pane {key} says its id is {pane.id!r}")
            panes[key] = pane
        if "layout" not in doc:
            raise WorkspaceError("the space has no 'layout' (null when it has no panes)")
        layout = doc["layout"]
        try:
            validate_layout(layout, panes)
        except ValueError as e:
            raise WorkspaceError(str(e)) from None
        return cls(
            id=space_id,
            name=name,
            panes=panes,
            layout=copy.deepcopy(layout),
            created=_take_time(doc, "created", "the space"),
            extra=_extra(doc, cls._FIELDS),
            # Older documents are upgraded on reading, so they are written back as current.
            version=max(version, SCHEMA_VERSION),
        )


def _check_launch(
    kind: str,
    agent: str | None,
    argv: list[str],
    env: dict[str, str],
    launch: LaunchProfile,
    autorestart: bool,
    where: str,
) -> None:
    """Refuse a pane whose fields disagree about what runs: the file is broken, never silently
    reconciled, so the plan a user is shown is the only reading of it."""
    if argv != launch.argv:
        raise WorkspaceError(f"{where}: 'argv' and 'launch.argv' differ")
    if env != launch.env:
        raise WorkspaceError(f"{where}: 'env' and 'launch.env' differ")
    if not argv or not argv[0]:
        raise WorkspaceError(f"{where}: 'argv' must be a non-empty list, its program named")
    if autorestart and kind != "command":
        raise WorkspaceError(f"{where}: 'autorestart' is only for command panes")
    agent_only = [k for k in ("model", "args", "resume") if getattr(launch, k) not in (None, [])]
    if kind != "agent":
        if agent_only:
            raise WorkspaceError(f"{where}: launch {', '.join(agent_only)} are only for agents")
        return
    if agent == "custom":
        if launch.model is not None or launch.args:
            raise WorkspaceError(f"{where}: a custom agent takes its flags in argv")
        if launch.resume is not None and (
            not launch.resume
            or not all(launch.resume)
            or not any("{session_id}" in a for a in launch.resume)
        ):
            raise WorkspaceError(
                f"{where}: 'launch.resume' must be non-empty strings, one holding {{session_id}}"
            )
        return
    if launch.resume is not None:
        raise WorkspaceError(f"{where}: 'launch.resume' is only for custom agents")
    if argv[0] != agent:
        raise WorkspaceError(f"{where}: an {agent} pane runs {agent!r}, not {argv[0]!r}")
    if any(not a for a in launch.args):
        raise WorkspaceError(f"{where}: 'launch.args' must be non-empty strings")


# -- the JSON Schema ----------------------------------------------------------------------------


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
