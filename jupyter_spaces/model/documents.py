"""Space, Pane and LaunchProfile: the workspace document read and written field by field.

A space's document lives at ``<dir>/.jupyter-spaces/space.json``. Fields this version does not
know are kept in ``extra`` and written back verbatim, so a file edited by hand or by a newer
jupyter-spaces loses nothing when this one saves it."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ..agents.model import valid_session_id
from .basics import (
    AGENTS,
    SCHEMA_VERSION,
    Layout,
    WorkspaceError,
    check_kind,
    new_pane_id,
    new_space_id,
    now_iso,
    runnable_text,
    valid_id,
)
from .fields import (
    _extra,
    _take,
    _take_argv,
    _take_env,
    _take_strings,
    _take_time,
    _with_extra,
    check_cwd,
)
from .layout import (
    layout_add,
    layout_remove,
    validate_layout,
)


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
