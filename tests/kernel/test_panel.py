"""The ``%spaces`` panel in a real kernel follows the server's announcements."""

from __future__ import annotations

from .conftest import Lab, until


def test_panel_model_reflects_a_pane_created_through_rest(lab: Lab) -> None:
    (lab.root / "pan").mkdir()
    _, k = lab.notebook("pan/p.ipynb")
    space = lab.api("POST", "/api/spaces", {"path": "pan", "name": "pan"})
    k.ok("panel = %spaces")
    until(lambda: k.value("panel.model.live"))
    assert k.value("panel.model.pane_ids()") == []

    pane = lab.api(
        "POST",
        f"/api/spaces/{space['id']}/panes",
        {
            "kind": "command",
            "argv": ["sh", "-c", "echo from-rest-$((3*3)); sleep 600"],
            "title": "rest-made",
        },
    )
    # No refresh asked for: the kernel's event loop got the announcement between executions.
    until(lambda: pane["id"] in k.value("panel.model.pane_ids()"))
    assert "rest-made" in k.value("panel.model.spaces_html()")

    k.ok(f"panel.w_pane.value = ({space['id']!r}, {pane['id']!r})")
    until(lambda: "from-rest-9" in k.value("panel.model.tail"))
    assert "from-rest-9" in k.value("panel.w_tail.value")

    lab.api("DELETE", f"/api/spaces/{space['id']}/panes/{pane['id']}")
    until(lambda: pane["id"] not in k.value("panel.model.pane_ids()"))
    assert k.value("panel.model.selected") is None
    k.ok("panel.close()")


def test_panel_model_applies_events() -> None:
    from jupyter_spaces.kernel.widgets import EVENTS_SCHEMA_ID, PanelModel

    m = PanelModel()
    m.set_spaces([{"id": "s1", "name": "a", "panes": [{"id": "p1", "state": "running"}]}])
    ev = {"schema_id": EVENTS_SCHEMA_ID, "space_id": "s1"}
    assert (
        m.plan({**ev, "action": "pane_state", "pane_id": "p1", "state": "exited", "exit_code": 3})
        == "state"
    )
    assert m.pane(("s1", "p1")) == {"id": "p1", "state": "exited", "exit_code": 3}
    assert m.plan({**ev, "action": "pane_created", "pane_id": "p2"}) == "fetch"


def test_panel_model_shows_agent_states() -> None:
    from jupyter_spaces.kernel.results import SpaceList
    from jupyter_spaces.kernel.widgets import EVENTS_SCHEMA_ID, PanelModel

    m = PanelModel()
    pane = {"id": "p1", "title": "claude", "state": "running", "kind": "agent"}
    m.set_spaces([{"id": "s1", "name": "a", "panes": [pane], "needs_input": 0}])
    ev = {"schema_id": EVENTS_SCHEMA_ID, "space_id": "s1", "action": "agent_state"}
    change = {"pane_id": "p1", "state": "needs_input", "source": "hooks", "reason": "permission"}
    assert m.plan({**ev, **change}) == "state"
    assert m.pane(("s1", "p1"))["agent_state"] == "needs_input"
    assert m.spaces["s1"]["needs_input"] == 1
    assert ("a / claude [running, needs input]", ("s1", "p1")) in m.options()
    assert SpaceList(list(m.spaces.values())).rows()[0][4] == "1"
    # An announcement for a pane the panel does not know: fetch the space again.
    assert m.plan({**ev, "pane_id": "zz", "state": "idle"}) == "fetch"
    assert m.plan({**ev, "pane_id": "p1", "state": "working"}) == "state"
    assert m.spaces["s1"]["needs_input"] == 0


def test_panel_model_forgets_removed_spaces() -> None:
    from jupyter_spaces.kernel.widgets import EVENTS_SCHEMA_ID, PanelModel

    m = PanelModel()
    m.set_spaces([{"id": "s1", "name": "a", "panes": [{"id": "p1", "state": "running"}]}])
    ev = {"schema_id": EVENTS_SCHEMA_ID, "space_id": "s1"}
    assert m.plan({**ev, "action": "space_deleted"}) == "remove"
    assert m.plan({"schema_id": "other", "action": "x"}) is None
    assert m.plan({"schema_id": EVENTS_SCHEMA_ID, "action": "sessions_changed", "count": 2}) == (
        "sessions"
    )
    m.select(("s1", "p1"))
    m.set_spaces([])
    assert m.selected is None, "a removed pane is no longer selected"
