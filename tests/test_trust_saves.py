"""The server signs only bytes it decided to write from a trusted state: a change made on disk
while it saves (a ``git pull`` landing mid-save, or during any await between the trust check
and the save) is merged, never signed, and what it adds never runs."""

from __future__ import annotations

import json
import time
from pathlib import Path

from .conftest import needs_tmux, wait_for

pytestmark = needs_tmux


async def test_a_change_merged_into_a_save_leaves_the_file_untrusted(
    api, jp_serverapp, jp_root_dir: Path
):
    (jp_root_dir / "proj").mkdir()
    _, space = await api("POST", body={"path": "proj"})
    sid = space["id"]
    manager = jp_serverapp.web_app.settings["spaces_manager"]
    entry = manager.workspaces.entry(sid)
    assert entry.trusted
    # A pull lands after the server read the file and before it writes its own change.
    path = jp_root_dir / "proj" / ".jupyter-spaces" / "space.json"
    pulled = json.loads(path.read_text())
    marker = jp_root_dir / "pulled-ran"
    argv = ["touch", str(marker)]
    pulled["panes"]["e0e0e0e0"] = {
        "id": "e0e0e0e0",
        "kind": "command",
        "title": "pulled",
        "argv": argv,
        "cwd": "",
        "env": {},
        "created": "2026-01-01T00:00:00Z",
        "launch": {"argv": argv, "env": {}},
        "autorestart": True,
    }
    pulled["layout"] = {"type": "pane", "pane": "e0e0e0e0"}
    path.write_text(json.dumps(pulled))
    assert entry.space is not None
    entry.space.name = "renamed by the server"
    manager.workspaces.save(entry)
    merged = json.loads(path.read_text())
    assert merged["name"] == "renamed by the server" and "e0e0e0e0" in merged["panes"]
    code, now = await api("GET", sid)
    assert code == 200 and now["trusted"] is False, now
    # Nothing of it runs, now or at the next cold restore.
    await manager.restore.restore_all()
    time.sleep(0.5)
    assert not marker.exists()
    code, reply = await api("PATCH", sid, body={"name": "x"})
    assert code == 409 and reply["reason"] == "untrusted"


async def test_a_save_from_a_trusted_state_is_signed_and_its_panes_start(api, jp_root_dir: Path):
    (jp_root_dir / "proj").mkdir()
    _, space = await api("POST", body={"path": "proj"})
    code, pane = await api(
        "POST", space["id"], "panes", body={"kind": "command", "argv": ["sh", "-c", "exec cat"]}
    )
    assert code == 201, pane

    async def trusted() -> bool:
        return bool((await api("GET", space["id"]))[1]["trusted"])

    await wait_for(trusted)
