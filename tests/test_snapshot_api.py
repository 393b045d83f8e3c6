"""The snapshot API added for retention and events (in-process server, real tmux): pins, the
retention dry run, a space's own settings, delete with and without its before_delete snapshot,
and bad input that gets a clear 400 and changes nothing."""

from __future__ import annotations

from jupyter_spaces import snapshots as snaps

from .conftest import needs_tmux
from .test_bad_input import assert_refused

pytestmark = needs_tmux


ONLY_LAST = {"last": 1, "hourly": 0, "daily": 0, "weekly": 0}


async def new_space(api, root, name: str) -> str:
    (root / name).mkdir()
    code, space = await api("POST", body={"path": name})
    assert code == 201
    return str(space["id"])


async def test_pins_dry_run_and_settings(api, jp_root_dir):
    sid = await new_space(api, jp_root_dir, "p")
    code, first = await api("POST", sid, "snapshots")
    assert code == 201 and first["reason"] == "manual" and first["pinned"] is False
    assert first["pruned"] == []
    code, second = await api("POST", sid, "snapshots")
    code, listed = await api("GET", sid, "snapshots")
    disk = listed["disk"]
    assert disk["snapshots"] == 2 and disk["bytes"] > 0 and disk["logical_bytes"] > 0
    assert all("unique_bytes" in s for s in listed["snapshots"])

    code, pinned = await api("PATCH", sid, "snapshots", first["id"], body={"pinned": True})
    assert code == 200 and pinned["pinned"] is True
    # The dry run keeps only the newest (last=1) and the pinned one, and removes nothing.
    code, dry = await api(
        "POST", sid, "snapshots", "prune", body={"dry_run": True, "keep": ONLY_LAST}
    )
    assert code == 200 and dry["dry_run"] is True and dry["deleted"] == []
    assert dry["reasons"] == {first["id"]: ["pinned"], second["id"]: ["last"]}
    code, _ = await api("PATCH", sid, "snapshots", first["id"], body={"pinned": False})
    code, dry = await api(
        "POST", sid, "snapshots", "prune", body={"dry_run": True, "keep": ONLY_LAST}
    )
    assert dry["deleted"] == [first["id"]] and dry["freed_bytes"] > 0
    code, listed = await api("GET", sid, "snapshots")
    assert len(listed["snapshots"]) == 2, "a dry run removes nothing"

    # The space's own settings: what it sets wins, null goes back to the server's.
    code, got = await api("GET", sid, "snapshots", "settings")
    assert code == 200 and got["schedule"] is None and got["effective"]["schedule"] == "hourly"
    assert got["effective"]["keep"] == {"last": 10, "hourly": 24, "daily": 7, "weekly": 4}
    code, got = await api(
        "PATCH", sid, "snapshots", "settings", body={"schedule": "30m", "keep": {"hourly": 0}}
    )
    assert code == 200 and got["effective"]["schedule"] == "30m"
    assert got["effective"]["keep"]["hourly"] == 0 and got["keep"] == {"hourly": 0}
    code, dry = await api("POST", sid, "snapshots", "prune", body={"dry_run": True})
    assert dry["policy"]["hourly"] == 0
    code, got = await api("PATCH", sid, "snapshots", "settings", body={"schedule": None})
    assert got["schedule"] is None and got["effective"]["schedule"] == "hourly"
    assert got["keep"] == {"hourly": 0}
    code, got = await api("PATCH", sid, "snapshots", "settings", body={"keep": {"hourly": None}})
    assert got["keep"] == {}
    # Prune for real with the policy: the unpinned older one goes.
    code, done = await api("POST", sid, "snapshots", "prune", body={"keep": ONLY_LAST})
    assert code == 200 and done["deleted"] == [first["id"]]


async def test_bad_input_gets_a_400_and_changes_nothing(api, jp_root_dir):
    sid = await new_space(api, jp_root_dir, "q")
    _, snap = await api("POST", sid, "snapshots")
    one = snap["id"]
    for body in ({}, {"pinned": "yes"}, {"pinned": 1}, {"pinned": True, "name": "x"}):
        await assert_refused(api, jp_root_dir, 400, "PATCH", sid, "snapshots", one, body=body)
    await assert_refused(
        api,
        jp_root_dir,
        404,
        "PATCH",
        sid,
        "snapshots",
        "20200101-000000-abcd",
        body={"pinned": True},
    )
    for body in (
        {"dry_run": "yes"},
        {"keep": {"last": 0}},
        {"keep": {"monthly": 2}},
        {"keep": {"hourly": -1}},
        {"keep": {"daily": 1.5}},
        {"keep": [1]},
        {"other": 1},
    ):
        await assert_refused(api, jp_root_dir, 400, "POST", sid, "snapshots", "prune", body=body)
    for body in (
        {"schedule": "sometimes"},
        {"schedule": "0s"},
        {"schedule": 60},
        {"keep": {"last": 0}},
        {"keep": {"weekly": "4"}},
        {"keep": "all"},
        {"run": "rm -rf /"},
    ):
        await assert_refused(
            api, jp_root_dir, 400, "PATCH", sid, "snapshots", "settings", body=body
        )
    await assert_refused(api, jp_root_dir, 400, "DELETE", sid, snapshot="maybe")
    await assert_refused(
        api, jp_root_dir, 400, "POST", sid, "snapshots", one, "restore", body={"snapshot": 0}
    )


async def test_delete_takes_a_before_delete_snapshot_unless_told_not_to(api, jp_root_dir):
    kept = await new_space(api, jp_root_dir, "kept")
    await api("POST", kept, "panes", body={"kind": "command", "argv": ["cat"], "title": "c"})
    code, _ = await api("DELETE", kept, remove_files="true")
    assert code == 204
    listed = snaps.list_snapshots(jp_root_dir / "kept")
    assert [s["reason"] for s in listed] == ["before_delete"] and listed[0]["panes"]
    assert not (jp_root_dir / "kept" / ".jupyter-spaces" / "space.json").exists()
    plain = await new_space(api, jp_root_dir, "plain")
    code, _ = await api("DELETE", plain, snapshot="false")
    assert code == 204
    assert snaps.list_snapshots(jp_root_dir / "plain") == []
