"""``%spaces snapshot`` and ``%spaces snapshots`` from a real kernel started by a real server."""

from __future__ import annotations

from .conftest import Lab, until


def test_snapshot_and_list_from_a_notebook(lab: Lab) -> None:
    (lab.root / "snaps").mkdir()
    _, k = lab.notebook("snaps/s.ipynb")
    space = k.result("%spaces new . --name snaps --link", "space")
    k.ok("%spaces run --title sh -- sh -c 'echo SNAP-$((6*7)); exec cat'")
    until(lambda: "SNAP-42" in k.ok("%spaces tail sh").text)
    empty = k.ok("%spaces snapshots")
    assert "no snapshots of space snaps yet" in empty.text
    took = k.ok("snap = %spaces snapshot --name 'before lunch'")
    snap = k.value("snap.snapshot")
    assert snap["name"] == "before lunch" and snap["space_id"] == space["id"]
    assert snap["panes"][0]["screen_bytes"] > 0, "the live screen was captured"
    lab.api("PATCH", f"/api/spaces/{space['id']}/snapshots/{snap['id']}", {"pinned": True})
    listed = k.ok("%spaces snapshots snaps")
    assert snap["id"] in listed.text and "before lunch" in listed.text
    assert "Reason" in listed.text and "manual" in listed.text and "Pinned" in listed.text
    assert "yes" in listed.text and "on disk" in listed.text and "as whole copies" in listed.text
    assert "<table" in listed.data["text/html"] and "on disk" in listed.data["text/html"]
    got = lab.api("GET", f"/api/spaces/{space['id']}/snapshots")["snapshots"]
    assert [s["id"] for s in got] == [snap["id"]]
    bad = k.run("%spaces snapshot snaps --name ''")
    assert bad.status == "error" and "name must be" in bad.error_line()
    assert took.status == "ok"
