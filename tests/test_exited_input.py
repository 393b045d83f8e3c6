"""Keys typed into a pane whose program has exited get a clear answer, on the REST input route
and on the channel; after a restart they reach the program again."""

from __future__ import annotations

from .channel import open_channel
from .conftest import needs_tmux, wait_for

pytestmark = needs_tmux


async def test_input_to_an_exited_pane_is_refused_with_a_reason(api, jp_root_dir, jp_ws_fetch):
    (jp_root_dir / "p").mkdir()
    code, space = await api("POST", body={"path": "p"})
    assert code == 201
    sid = space["id"]
    argv = ["sh", "-c", "read x; echo got-$x; read y; exit 3"]
    code, pane = await api("POST", sid, "panes", body={"kind": "command", "argv": argv})
    assert code == 201, pane
    ch = await open_channel(jp_ws_fetch, sid, pane["id"])

    async def state(want: str) -> bool:
        _, p = await api("GET", sid, "panes", pane["id"])
        return bool(p["state"] == want)

    await ch.send("stdin", "one\r")
    await ch.until(lambda c: "got-one" in c.text)
    await ch.send("stdin", "bye\r")
    await wait_for(lambda: state("exited"))

    await ch.send("stdin", "lost?\r")
    await ch.until(lambda c: c.errors)
    assert "has exited with status 3" in ch.errors[0] and "Restart" in ch.errors[0], ch.errors
    code, body = await api("POST", sid, "panes", pane["id"], "input", body={"text": "x"})
    assert code == 409 and "has exited with status 3" in body["message"], body

    code, _ = await api("POST", sid, "panes", pane["id"], "restart")
    assert code == 200
    # Straight after the restart, before any poll has seen it run: the keys are not refused.
    # (tmux itself may drop keys that arrive while it still sets up the new terminal, so a
    # line that went missing is typed again; what must never come back is the refusal.)
    await ch.send("stdin", "two\r")
    try:
        await ch.until(lambda c: "got-two" in c.text, timeout=5)
    except AssertionError:
        await ch.send("stdin", "two\r")
        await ch.until(lambda c: "got-two" in c.text)
    await ch.send("stdin", "bye\r")
    assert len(ch.errors) == 1, ch.errors
    ch.ws.close()
