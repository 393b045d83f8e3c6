"""The workspace model: documents, layout trees, ids."""

from __future__ import annotations

import copy
import json
from importlib.resources import files
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from jupyter_spaces.model import (
    MAX_LAYOUT_DEPTH,
    PANE_KINDS,
    SCHEMA_VERSION,
    LaunchProfile,
    Pane,
    Space,
    WorkspaceError,
    check_kind,
    layout_add,
    layout_panes,
    layout_remove,
    load_schema,
    new_pane_id,
    new_space_id,
    valid_id,
    validate_layout,
    validate_schema,
)

T0 = "2024-05-01T12:00:00Z"


def leaf(pane_id: str) -> dict[str, Any]:
    return {"type": "pane", "pane": pane_id}


def split(direction: str, *children: dict[str, Any], sizes: list[float] | None = None) -> dict:
    n = len(children)
    return {
        "type": "split",
        "direction": direction,
        "children": list(children),
        "sizes": sizes or [1 / n] * n,
    }


def pane_doc(pane_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": pane_id, "kind": "shell", "argv": ["bash"], "cwd": "", "created": T0, **fields}


def space_doc(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": 1,
        "id": "abcd1234",
        "name": "demo",
        "created": T0,
        "layout": split("row", leaf("p001"), leaf("p002")),
        "panes": {"p001": pane_doc("p001"), "p002": pane_doc("p002", cwd="src/app")},
    }
    doc.update(fields)
    return doc


# -- ids -----------------------------------------------------------------------------------------


def test_new_ids_are_valid_and_distinct() -> None:
    space_ids = {new_space_id() for _ in range(200)}
    pane_ids = {new_pane_id() for _ in range(200)}
    assert len(space_ids) == 200 and len(pane_ids) == 200
    assert all(len(i) == 10 and valid_id(i) for i in space_ids)
    assert all(len(i) == 8 and valid_id(i) for i in pane_ids)


@pytest.mark.parametrize("good", ["abcd", "0123456789", "a" * 32, "x1y2"])
def test_valid_id_accepts(good: str) -> None:
    assert valid_id(good)


@pytest.mark.parametrize(
    "bad", ["abc", "a" * 33, "ABCD", "ab-cd", "ab_cd", "abcd\n", "../ab", "ab cd", "", 1234, None]
)
def test_valid_id_rejects(bad: object) -> None:
    assert not valid_id(bad)


def test_kind_check() -> None:
    for kind in PANE_KINDS:
        assert check_kind(kind) == kind
    with pytest.raises(WorkspaceError, match="kind must be one of shell, command, agent"):
        check_kind("hologram")


# -- layout --------------------------------------------------------------------------------------


def test_layout_add_builds_an_even_row() -> None:
    layout = None
    for pane_id in ("aaaa", "bbbb", "cccc"):
        layout = layout_add(layout, pane_id)
    assert layout is not None
    assert layout_panes(layout) == ["aaaa", "bbbb", "cccc"]
    assert layout["direction"] == "row"
    assert layout["sizes"] == pytest.approx([1 / 3] * 3)
    validate_layout(layout, ["aaaa", "bbbb", "cccc"])


def test_layout_add_keeps_proportions_at_the_root() -> None:
    layout = split("row", leaf("aaaa"), leaf("bbbb"), sizes=[0.75, 0.25])
    added = layout_add(layout, "cccc")
    assert added["sizes"] == pytest.approx([0.5, 1 / 6, 1 / 3])
    # Pure: the input is unchanged.
    assert layout == split("row", leaf("aaaa"), leaf("bbbb"), sizes=[0.75, 0.25])


def test_layout_add_other_direction_wraps_the_root() -> None:
    layout = split("row", leaf("aaaa"), leaf("bbbb"))
    added = layout_add(layout, "cccc", direction="column")
    assert added == split("column", layout, leaf("cccc"))


def test_layout_add_next_to_splits_that_leaf() -> None:
    layout = split("row", leaf("aaaa"), leaf("bbbb"))
    added = layout_add(layout, "cccc", next_to="aaaa", direction="column")
    assert added == split("row", split("column", leaf("aaaa"), leaf("cccc")), leaf("bbbb"))
    validate_layout(added, ["aaaa", "bbbb", "cccc"])


def test_layout_add_next_to_in_same_direction_halves_that_share() -> None:
    layout = split("row", leaf("aaaa"), leaf("bbbb"), sizes=[0.6, 0.4])
    added = layout_add(layout, "cccc", next_to="aaaa")
    assert layout_panes(added) == ["aaaa", "cccc", "bbbb"]
    assert added["sizes"] == pytest.approx([0.3, 0.3, 0.4])


def test_layout_add_next_to_a_lone_leaf() -> None:
    assert layout_add(leaf("aaaa"), "bbbb", next_to="aaaa") == split(
        "row", leaf("aaaa"), leaf("bbbb")
    )


@pytest.mark.parametrize(
    ("layout", "pane_id", "kwargs", "message"),
    [
        (leaf("aaaa"), "aaaa", {}, "already in the layout"),
        (leaf("aaaa"), "bbbb", {"next_to": "zzzz"}, "'zzzz' is not in the layout"),
        (None, "bbbb", {"next_to": "zzzz"}, "'zzzz' is not in the layout"),
        (leaf("aaaa"), "bbbb", {"direction": "diagonal"}, "direction must be"),
    ],
)
def test_layout_add_errors(layout: Any, pane_id: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        layout_add(layout, pane_id, **kwargs)


def test_layout_remove_collapses_single_child_splits() -> None:
    layout = split("row", leaf("aaaa"), split("column", leaf("bbbb"), leaf("cccc")))
    removed = layout_remove(layout, "cccc")
    assert removed == split("row", leaf("aaaa"), leaf("bbbb"))
    assert layout_remove(removed, "aaaa") == leaf("bbbb")
    assert layout_remove(leaf("bbbb"), "bbbb") is None
    # Pure: the input is unchanged.
    assert layout_panes(layout) == ["aaaa", "bbbb", "cccc"]


def test_layout_remove_gives_the_share_to_the_siblings() -> None:
    layout = split("row", leaf("aaaa"), leaf("bbbb"), leaf("cccc"), sizes=[0.5, 0.25, 0.25])
    removed = layout_remove(layout, "aaaa")
    assert removed is not None
    assert removed["sizes"] == pytest.approx([0.5, 0.5])


def test_layout_remove_merges_a_collapsed_split_of_the_same_direction() -> None:
    inner = split("column", split("row", leaf("bbbb"), leaf("cccc")), leaf("dddd"))
    layout = split("row", leaf("aaaa"), inner)
    removed = layout_remove(layout, "dddd")
    assert removed is not None
    assert removed["direction"] == "row"
    assert layout_panes(removed) == ["aaaa", "bbbb", "cccc"]
    assert removed["sizes"] == pytest.approx([0.5, 0.25, 0.25])
    validate_layout(removed, ["aaaa", "bbbb", "cccc"])


def test_layout_remove_unknown_pane() -> None:
    with pytest.raises(ValueError, match="not in the layout"):
        layout_remove(leaf("aaaa"), "bbbb")
    with pytest.raises(ValueError, match="not in the layout"):
        layout_remove(None, "bbbb")


def test_layout_keeps_unknown_node_fields() -> None:
    layout = {**split("row", leaf("aaaa"), leaf("bbbb")), "zoomed": True}
    assert layout_add(layout, "cccc")["zoomed"] is True


def test_validate_layout_accepts_good_trees() -> None:
    validate_layout(None, [])
    validate_layout(leaf("aaaa"), ["aaaa"])
    validate_layout(split("row", leaf("aaaa"), leaf("bbbb"), sizes=[0.33, 0.67]), ["aaaa", "bbbb"])


@pytest.mark.parametrize(
    ("layout", "pane_ids", "message"),
    [
        (None, ["aaaa"], "does not show pane.*'aaaa'"),
        (leaf("aaaa"), [], "'aaaa', which is not in the space"),
        (leaf("aaaa"), ["aaaa", "bbbb"], "does not show pane.*'bbbb'"),
        (split("row", leaf("aaaa"), leaf("aaaa")), ["aaaa"], "'aaaa' more than once"),
        ([], [], "layout must be an object"),
        ({"type": "box"}, [], r"layout.type must be 'pane' or 'split'"),
        ({"type": "pane"}, [], r"layout.pane must be a pane id"),
        ({"type": "pane", "pane": 7}, [], r"layout.pane must be a pane id"),
        (
            {"type": "split", "children": [leaf("aaaa"), leaf("bbbb")], "sizes": [0.5, 0.5]},
            ["aaaa", "bbbb"],
            "direction must be",
        ),
        (split("row", leaf("aaaa")), ["aaaa"], "at least two"),
        (
            {**split("row", leaf("aaaa"), leaf("bbbb")), "children": "no"},
            ["aaaa", "bbbb"],
            "children must be a list",
        ),
        (
            split("row", leaf("aaaa"), leaf("bbbb"), sizes=[1.0]),
            ["aaaa", "bbbb"],
            "one number per child",
        ),
        (
            split("row", leaf("aaaa"), leaf("bbbb"), sizes=[0.5, "0.5"]),  # type: ignore[list-item]
            ["aaaa", "bbbb"],
            "one number per child",
        ),
        (
            split("row", leaf("aaaa"), leaf("bbbb"), sizes=[0.2, 0.2]),
            ["aaaa", "bbbb"],
            "summing to 1",
        ),
        (
            split("row", leaf("aaaa"), leaf("bbbb"), sizes=[1.5, -0.5]),
            ["aaaa", "bbbb"],
            "positive fractions",
        ),
        (
            split("row", leaf("aaaa"), leaf("bbbb"), sizes=[float("nan"), 1.0]),
            ["aaaa", "bbbb"],
            "positive fractions",
        ),
        (
            split("row", leaf("aaaa"), split("column", leaf("bbbb"), {"type": "pane"})),
            ["aaaa", "bbbb"],
            r"layout.children\[1\].children\[1\].pane",
        ),
    ],
)
def test_validate_layout_rejects(layout: Any, pane_ids: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_layout(layout, pane_ids)


def nested(depth: int) -> tuple[dict[str, Any], list[str]]:
    """A layout nested ``depth`` splits deep, and its pane ids."""
    node, ids = leaf("p000"), ["p000"]
    for i in range(depth):
        ids.append(f"q{i:03d}")
        node = split("column" if i % 2 else "row", node, leaf(ids[-1]))
    return node, ids


def test_validate_layout_bounds_the_depth() -> None:
    validate_layout(*nested(MAX_LAYOUT_DEPTH))
    with pytest.raises(ValueError, match="nested more than 32 levels deep"):
        validate_layout(*nested(MAX_LAYOUT_DEPTH + 1))
    with pytest.raises(ValueError, match="nested more than"):
        layout_panes(nested(5000)[0])


def test_schema_check_of_a_deep_document_is_a_sentence() -> None:
    with pytest.raises(WorkspaceError, match="nested too deeply"):
        validate_schema(space_doc(layout=nested(5000)[0]))


# -- documents -----------------------------------------------------------------------------------


def test_round_trip_is_exact() -> None:
    doc = space_doc()
    doc["panes"]["p001"]["argv"] = ["bash", "-l"]
    doc["panes"]["p001"]["launch"] = {"argv": ["bash", "-l"], "env": {"TERM": "xterm"}}
    doc["panes"]["p001"]["title"] = "main"
    doc["panes"]["p001"]["env"] = {"TERM": "xterm"}
    doc["panes"]["p001"]["last_active"] = "2024-05-02T08:00:00Z"
    space = Space.from_json(doc)
    assert space.to_json()["panes"]["p001"] == doc["panes"]["p001"]
    assert Space.from_json(space.to_json()).to_json() == space.to_json()


def test_round_trip_keeps_unknown_fields_everywhere() -> None:
    doc = space_doc(color="teal", future={"nested": [1, 2, {"x": None}]})
    doc["panes"]["p001"]["pinned"] = True
    doc["layout"]["zoomed"] = "p001"
    space = Space.from_json(copy.deepcopy(doc))
    assert space.extra == {"color": "teal", "future": {"nested": [1, 2, {"x": None}]}}
    assert space.panes["p001"].extra == {"pinned": True}
    out = space.to_json()
    assert out["color"] == "teal" and out["future"] == doc["future"]
    assert out["panes"]["p001"]["pinned"] is True
    assert out["layout"]["zoomed"] == "p001"


def test_from_json_does_not_alias_the_document() -> None:
    doc = space_doc(future={"list": [1]})
    space = Space.from_json(doc)
    space.extra["future"]["list"].append(2)
    space.panes["p001"].argv.append("-l")
    assert doc["future"] == {"list": [1]}
    assert doc["panes"]["p001"]["argv"] == ["bash"]


def test_optional_pane_fields_get_defaults() -> None:
    pane = Pane.from_json(pane_doc("p001", argv=["python", "-m", "http.server"], kind="command"))
    assert pane.title == "" and pane.env == {} and pane.last_active == T0
    assert pane.launch == LaunchProfile(argv=["python", "-m", "http.server"], env={})


def test_known_fields_win_over_extra() -> None:
    pane = Pane.from_json(pane_doc("p001"))
    pane.extra["kind"] = "bogus"
    assert pane.to_json()["kind"] == "shell"


def test_space_builders() -> None:
    space = Space.new("demo")
    assert valid_id(space.id) and space.layout is None and space.version == SCHEMA_VERSION
    first = Pane.new("shell", ["bash"])
    second = Pane.new("command", ["make", "watch"], cwd="src", title="build")
    space.add_pane(first)
    space.add_pane(second, next_to=first.id, direction="column")
    assert list(space.panes) == [first.id, second.id]
    assert second.launch.argv == ["make", "watch"]
    doc = space.to_json()
    validate_schema(doc)
    assert Space.from_json(doc).to_json() == doc
    with pytest.raises(ValueError, match="already in space"):
        space.add_pane(first)
    assert space.remove_pane(first.id) is first
    assert space.layout == leaf(second.id)
    with pytest.raises(KeyError):
        space.remove_pane(first.id)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "hologram"}, "kind must be one of"),
        ({"cwd": "/etc"}, "relative path inside the space directory"),
        ({"cwd": "a/../../etc"}, "relative path inside the space directory"),
    ],
)
def test_pane_new_checks(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"kind": "shell", "argv": ["bash"], **kwargs}
    with pytest.raises(WorkspaceError, match=message):
        Pane.new(**args)


def bad(path: str, value: Any) -> dict[str, Any]:
    """A good document with the value at a dotted path replaced (or deleted if value is ...)."""
    doc = space_doc()
    *parents, last = path.split(".")
    node = doc
    for part in parents:
        node = node[part]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "must be a JSON object"),
        (bad("version", ...), "has no 'version'"),
        (bad("version", "1"), "'version' must be a whole number"),
        (bad("version", True), "'version' must be a whole number"),
        (bad("version", 0), "must be 1 or more"),
        (bad("version", 2), "schema version 2; this jupyter-spaces reads 1"),
        (bad("id", "Bad Id"), "space 'id' must be 4 to 32"),
        (bad("name", ...), "has no 'name'"),
        (bad("name", "  "), "must not be empty"),
        (bad("created", "yesterday"), "'created' must be an ISO-8601 time"),
        (bad("panes", []), "'panes' must be an object"),
        (bad("layout", ...), "has no 'layout'"),
        (bad("layout", None), "does not show pane"),
        (bad("panes.p001", "shell"), "pane p001 must be an object"),
        (bad("panes.p001.id", "p002"), "pane p001 says its id is 'p002'"),
        (bad("panes.p001.id", "P1"), "'id' must be 4 to 32"),
        (bad("panes.p001.kind", "robot"), "pane p001: kind must be one of"),
        (bad("panes.p001.argv", "bash"), "pane p001: 'argv' must be a list"),
        (bad("panes.p001.argv", ["bash", 1]), "'argv' must be a list of strings"),
        (bad("panes.p001.cwd", ...), "pane p001 has no 'cwd'"),
        (bad("panes.p001.cwd", "/home"), "relative path inside the space"),
        (bad("panes.p001.cwd", ".."), "relative path inside the space"),
        (bad("panes.p001.env", {"A": 1}), "'env' must map variable names"),
        (bad("panes.p001.env", {"A=B": "1"}), "'env' must map variable names"),
        (bad("panes.p001.env", {"1A": "1"}), "'env' must map variable names"),
        (bad("panes.p001.env", {"A": "x\x00y"}), "'env' must map variable names"),
        (bad("panes.p001.env", {"A": "\ud800"}), "'env' must map variable names"),
        (bad("panes.p001.argv", ["bash", "a\x00b"]), "without NUL"),
        (bad("panes.p001.argv", ["ba\udcffsh"]), "without NUL or lone surrogates"),
        (bad("panes.p001.argv", []), "non-empty list"),
        (bad("panes.p001.argv", ["", "x"]), "its program named"),
        (bad("panes.p001.cwd", "a\x00"), "relative path inside the space"),
        # The dialog and the process must read the same fields: contradictions are broken.
        (
            bad("panes.p001.launch", {"argv": ["bash"], "env": {"LD_PRELOAD": ""}}),
            "'env' and 'launch.env' differ",
        ),
        (bad("panes.p001.launch", {"argv": ["sh"]}), "'argv' and 'launch.argv' differ"),
        (bad("panes.p001.launch", {"argv": ["bash"], "run": "x"}), "unknown field"),
        (bad("panes.p001.launch", {"argv": ["bash"], "model": "m"}), "only for agents"),
        (bad("panes.p001.launch", {"argv": ["bash"], "resume": ["x"]}), "only for agents"),
        (bad("panes.p001.autorestart", True), "only for command panes"),
        (bad("panes.p001.title", 5), "'title' must be a string"),
        (bad("panes.p001.last_active", "soon"), "'last_active' must be an ISO-8601 time"),
        (bad("panes.p001.launch", []), "pane p001: launch must be an object"),
        (bad("panes.p001.launch", {"env": {}}), "pane p001: launch has no 'argv'"),
    ],
)
def test_from_json_rejects_with_a_sentence(doc: Any, message: str) -> None:
    with pytest.raises(WorkspaceError, match=message):
        Space.from_json(doc)


def test_from_json_allow_newer_keeps_the_version() -> None:
    space = Space.from_json(space_doc(version=3), allow_newer=True)
    assert space.version == 3
    assert space.to_json()["version"] == 3


# -- schema --------------------------------------------------------------------------------------


def test_schema_is_package_data_and_a_valid_schema() -> None:
    text = files("jupyter_spaces").joinpath("schema", "workspace.schema.json").read_text()
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    assert load_schema() == schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_documents_every_property() -> None:
    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                assert "description" in sub, f"{where}.{name} has no description"
            for key, sub in node.items():
                walk(sub, f"{where}.{key}")

    walk(load_schema(), "schema")


def test_schema_accepts_what_the_model_writes() -> None:
    doc = space_doc(unknown=1)
    doc["panes"]["p001"]["x"] = {"y": 1}
    validate_schema(doc)
    validate_schema(Space.from_json(doc).to_json())
    validate_schema(Space.new("empty").to_json())


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (bad("name", ...), "'name' is a required property"),
        (bad("panes.p001.cwd", 5), "panes.p001.cwd"),
        (bad("panes.p001.argv", [1]), r"panes.p001.argv\[0\]"),
        (bad("layout", {"type": "split", "children": []}), "'direction' is a required"),
        (bad("layout", {"type": "box"}), "at layout.type"),
        (bad("layout", 5), "at layout: 5 is not of type"),
        (bad("version", 2), "at version"),
        (bad("panes.p001.launch", {"env": {}}), "'argv' is a required property"),
    ],
)
def test_schema_errors_name_the_field(doc: dict[str, Any], field: str) -> None:
    with pytest.raises(WorkspaceError, match=field):
        validate_schema(doc)


def agent_doc(agent: str, argv: list[str], **launch: Any) -> dict[str, Any]:
    doc = space_doc()
    pane = doc["panes"]["p001"]
    pane.update(kind="agent", agent=agent, argv=argv, launch={"argv": argv, **launch})
    return doc


UUID = "3f0c9a52-7d1e-4b8a-9c55-1e2f3a4b5c6d"


@pytest.mark.parametrize(
    ("agent", "sid"),
    [
        ("claude", "--dangerously-skip-permissions"),
        ("claude", "--yolo"),
        ("codex", "../../etc"),
        ("gemini", UUID + "x"),
        ("claude", "-" + UUID[1:]),
        ("custom", "--yolo"),
        ("custom", "-x"),
        ("custom", "a/b"),
        ("custom", "a b"),
    ],
)
def test_session_ids_that_could_be_flags_or_paths_are_broken(agent: str, sid: str) -> None:
    argv = ["my-agent"] if agent == "custom" else [agent]
    doc = agent_doc(agent, argv)
    doc["panes"]["p001"]["session_id"] = sid
    with pytest.raises(WorkspaceError, match="is not a session id"):
        Space.from_json(doc)


def test_session_ids_each_cli_writes_are_kept() -> None:
    for agent in ("claude", "codex", "gemini"):
        doc = agent_doc(agent, [agent])
        doc["panes"]["p001"]["session_id"] = UUID
        assert Space.from_json(doc).panes["p001"].session_id == UUID
    doc = agent_doc("custom", ["my-agent"], resume=["my-agent", "--resume={session_id}"])
    doc["panes"]["p001"]["session_id"] = "chat.2024:01_a-b"
    assert Space.from_json(doc).panes["p001"].session_id == "chat.2024:01_a-b"


@pytest.mark.parametrize(
    ("agent", "argv", "launch", "message"),
    [
        ("claude", ["claude"], {"resume": ["x {session_id}"]}, "only for custom agents"),
        ("claude", ["sh", "-c", "evil"], {}, "runs 'claude', not 'sh'"),
        ("custom", ["x"], {"resume": ["x"]}, "one holding {session_id}"),
        ("custom", ["x"], {"model": "m"}, "takes its flags in argv"),
        ("codex", ["codex"], {"args": [""]}, "non-empty"),
    ],
)
def test_agent_launch_fields_that_disagree_are_broken(
    agent: str, argv: list[str], launch: dict[str, Any], message: str
) -> None:
    with pytest.raises(WorkspaceError, match=message):
        Space.from_json(agent_doc(agent, argv, **launch))
