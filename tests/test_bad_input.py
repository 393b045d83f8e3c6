"""Bad input: each gets a 4xx with a JSON message saying what is wrong, and changes nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import needs_tmux

pytestmark = needs_tmux


def snapshot_tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


async def assert_refused(api, root, expected_code, method, *parts, body=None, **params):
    """The call fails with ``expected_code`` and a message; files and listing are unchanged."""
    files = snapshot_tree(root)
    _, listing = await api("GET")
    code, reply = await api(method, *parts, body=body, **params)
    assert code == expected_code, (method, parts, body, code, reply)
    assert isinstance(reply, dict) and isinstance(reply["message"], str) and reply["message"]
    assert snapshot_tree(root) == files, "a refused request changed files"
    _, after = await api("GET")
    assert after == listing, "a refused request changed spaces or panes"
    return reply["message"]


async def test_space_creation_refusals(api, jp_root_dir, tmp_path):
    (jp_root_dir / "ok").mkdir()
    (jp_root_dir / "a-file.txt").write_text("x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (jp_root_dir / "link-out").symlink_to(outside)
    cases = [
        ({"path": "../"}, 400, "'..'"),
        ({"path": "ok/../../x"}, 400, "'..'"),
        ({"path": "/etc"}, 400, "relative"),
        ({"path": "~"}, 400, "relative"),
        ({"path": "link-out"}, 400, "outside"),
        ({"path": "does-not-exist"}, 404, "does not exist"),
        ({"path": "a-file.txt"}, 400, "not a directory"),
        ({"path": 7}, 400, "string"),
        ({"path": "ok", "name": ""}, 400, "name"),
        ({"path": "ok", "name": "x" * 500}, 400, "name"),
        ({"path": "ok", "colour": "red"}, 400, "unknown field"),
        ({"path": "ok\x00"}, 400, "NUL"),
    ]
    for body, code, words in cases:
        message = await assert_refused(api, jp_root_dir, code, "POST", body=body)
        assert words in message, (body, message)
    for raw in ("{not json", "[1, 2]", '"text"'):
        await assert_refused(api, jp_root_dir, 400, "POST", body=raw)
    assert not outside.joinpath(".jupyter-spaces").exists()

    code, _ = await api("POST", body={"path": "ok"})
    assert code == 201
    message = await assert_refused(api, jp_root_dir, 409, "POST", body={"path": "ok"})
    assert "already has a space" in message


async def test_pane_refusals(api, jp_root_dir, tmp_path, jp_serverapp):
    (jp_root_dir / "p" / "sub").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (jp_root_dir / "p" / "out").symlink_to(tmp_path / "elsewhere")
    _, space = await api("POST", body={"path": "p"})
    sid = space["id"]
    cases = [
        ({"kind": "robot"}, 400, "unknown pane kind"),
        ({"kind": "command"}, 400, "argv"),
        ({"kind": "command", "argv": []}, 400, "argv"),
        ({"kind": "command", "argv": "ls -l"}, 400, "argv"),
        ({"kind": "command", "argv": ["ls", 3]}, 400, "argv"),
        ({"kind": "command", "argv": [""]}, 400, "argv"),
        ({"kind": "shell", "argv": ["zsh"]}, 400, "shell"),
        ({"kind": "shell", "cwd": "../"}, 400, "'..'"),
        ({"kind": "shell", "cwd": "/tmp"}, 400, "relative"),
        ({"kind": "shell", "cwd": "out"}, 400, "outside"),
        ({"kind": "shell", "cwd": "nope"}, 404, "does not exist"),
        ({"kind": "shell", "env": {"BAD NAME": "x"}}, 400, "env"),
        ({"kind": "shell", "env": {"A": 1}}, 400, "env"),
        ({"kind": "shell", "env": ["A=1"]}, 400, "env"),
        ({"kind": "shell", "env": {"A": "x\x00y"}}, 400, "env"),
        ({"kind": "shell", "env": {"A": "\ud800"}}, 400, "env"),
        ({"kind": "shell", "env": {"1A": "x"}}, 400, "env"),
        ({"kind": "shell", "title": "t" * 201}, 400, "title"),
        ({"kind": "shell", "rows": 0, "cols": 80}, 400, "rows"),
        ({"kind": "shell", "rows": 24, "cols": 10**6}, 400, "cols"),
        ({"kind": "shell", "next_to": "zzzz9999"}, 400, "next_to"),
        ({"kind": "shell", "direction": "diagonal"}, 400, "direction"),
        ({"kind": "shell", "shell": "bash"}, 400, "unknown field"),
    ]
    for body, code, words in cases:
        message = await assert_refused(api, jp_root_dir, code, "POST", sid, "panes", body=body)
        assert words in message, (body, message)

    jp_serverapp.web_app.settings["spaces_app"].max_panes_per_space = 1
    code, pane = await api("POST", sid, "panes", body={"kind": "command", "argv": ["cat"]})
    assert code == 201
    message = await assert_refused(
        api, jp_root_dir, 409, "POST", sid, "panes", body={"kind": "command", "argv": ["cat"]}
    )
    assert "most allowed" in message

    pid = pane["id"]
    for body, code in (
        ({"text": 5}, 400),
        ({"txt": "x"}, 400),
        ({"text": "\ud800"}, 400),
        ({"text": "x" * (jp_serverapp.web_app.settings["spaces_app"].max_message_size + 1)}, 413),
    ):
        await assert_refused(api, jp_root_dir, code, "POST", sid, "panes", pid, "input", body=body)
    await assert_refused(
        api, jp_root_dir, 400, "POST", sid, "panes", pid, "input", body=b'{"text": "\xff\xfe"}'
    )
    # Unicode digits: "³".isdigit() is true but int() refuses it; "٣" is a decimal int() accepts.
    for lines in ("abc", "-1", "1e3", str(10**9), "7\u00b3", "\u0663", "\uff11"):
        await assert_refused(api, jp_root_dir, 400, "GET", sid, "panes", pid, "screen", lines=lines)
    await assert_refused(api, jp_root_dir, 400, "PATCH", sid, "panes", pid, body={"title": 5})
    await assert_refused(api, jp_root_dir, 400, "PATCH", sid, "panes", pid, body={"kind": "x"})
    await assert_refused(api, jp_root_dir, 400, "DELETE", sid, remove_files="maybe")


async def test_unknown_ids_are_404(api, jp_root_dir):
    (jp_root_dir / "p").mkdir()
    _, space = await api("POST", body={"path": "p"})
    sid = space["id"]
    for parts in (("abcd1234",), ("ABCD",), ("a",)):
        for method in ("GET", "PATCH", "DELETE"):
            await assert_refused(api, jp_root_dir, 404, method, *parts, body=None)
    for method, tail in (
        ("GET", ()),
        ("PATCH", ()),
        ("DELETE", ()),
        ("POST", ("input",)),
        ("GET", ("screen",)),
    ):
        body = {"text": "x"} if tail == ("input",) else None
        await assert_refused(
            api, jp_root_dir, 404, method, sid, "panes", "nopane1", *tail, body=body
        )
        await assert_refused(
            api, jp_root_dir, 404, method, "nospace1", "panes", "nopane1", *tail, body=body
        )


async def test_layout_patch_refusals(api, jp_root_dir):
    (jp_root_dir / "p").mkdir()
    _, space = await api("POST", body={"path": "p"})
    sid = space["id"]
    _, a = await api("POST", sid, "panes", body={"kind": "command", "argv": ["cat"]})
    _, b = await api("POST", sid, "panes", body={"kind": "command", "argv": ["cat"]})
    good = {
        "type": "split",
        "direction": "column",
        "sizes": [0.3, 0.7],
        "children": [{"type": "pane", "pane": b["id"]}, {"type": "pane", "pane": a["id"]}],
    }
    for layout in (
        {"type": "pane", "pane": a["id"]},  # leaves a pane out
        {**good, "children": [good["children"][0], good["children"][0]]},  # a pane twice
        {**good, "direction": "sideways"},
        {**good, "sizes": [0.5]},
        {"type": "pane", "pane": "unknown1"},
        "row",
    ):
        await assert_refused(api, jp_root_dir, 400, "PATCH", sid, body={"layout": layout})
    code, updated = await api("PATCH", sid, body={"layout": good})
    assert code == 200 and updated["layout"] == good
    on_disk = json.loads((jp_root_dir / "p/.jupyter-spaces/space.json").read_text())
    assert on_disk["layout"] == good


@pytest.mark.parametrize(
    ("content", "status", "words"),
    [
        ("{not json", "broken", "not valid JSON"),
        (
            '{"version": 1, "id": "abcd1234", "name": "x", "created": "2026-01-01T00:00:00Z", '
            '"layout": null, "panes": 5}',
            "broken",
            "panes",
        ),
        (
            '{"version": 99, "id": "%s", "name": "future", "created": "2026-01-01T00:00:00Z", '
            '"layout": null, "panes": {}, "hologram": true}',
            "newer",
            "newer",
        ),
    ],
)
async def test_bad_workspace_files_are_listed_and_left_untouched(
    api, jp_root_dir, content, status, words
):
    (jp_root_dir / "p").mkdir()
    _, space = await api("POST", body={"path": "p"})
    sid = space["id"]
    path = jp_root_dir / "p/.jupyter-spaces/space.json"
    raw = content % sid if "%s" in content else content
    path.write_text(raw)
    mtime = path.stat().st_mtime_ns
    code, listing = await api("GET")
    assert code == 200
    (got,) = listing["spaces"]
    assert got["status"] == status and got["read_only"] is True
    assert words in got["message"], got["message"]
    for method, parts, body in (
        ("PATCH", (sid,), {"name": "renamed"}),
        ("POST", (sid, "panes"), {"kind": "command", "argv": ["cat"]}),
    ):
        code, reply = await api(method, *parts, body=body)
        assert code == 409 and reply["message"], reply
    assert path.read_text() == raw and path.stat().st_mtime_ns == mtime
    # Creating a space again for that folder is refused too, and the file stays as it is.
    code, _ = await api("POST", body={"path": "p"})
    assert code == 409 and path.read_text() == raw
    assert os.listdir(path.parent) == [".gitignore", "space.json"] or set(
        os.listdir(path.parent)
    ) <= {".gitignore", "space.json", "space.prev.json"}
