"""Agent panes end to end: fake claude/codex/gemini CLIs on PATH record the exact argv and folder
they were started with and write session files the way the real ones do; a real server, real
tmux, and the real index and file watcher do the rest."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from .agent_env import AgentEnv, agent_env  # noqa: F401 - fixture
from .conftest import needs_tmux, wait_for
from .test_api_panes import make_space, screen_text

pytestmark = needs_tmux

UUID_LEN = 36


async def agent_pane(api, space_id: str, **body) -> dict:
    code, pane = await api("POST", space_id, "panes", body={"kind": "agent", **body})
    assert code == 201, pane
    return pane


async def started(env: AgentEnv, agent: str, n: int = 1) -> list[dict]:
    async def check():
        calls = env.calls(agent)
        return calls if len(calls) >= n else None

    return await wait_for(check)


async def say(api, space_id: str, pane_id: str, text: str) -> None:
    code, body = await api("POST", space_id, "panes", pane_id, "input", body={"text": text + "\r"})
    assert code == 204, body
    await wait_for(
        lambda: _contains(api, space_id, pane_id, f"reply to {text}"), timeout=10, interval=0.1
    )


async def _contains(api, space_id: str, pane_id: str, text: str) -> bool:
    return text in await screen_text(api, space_id, pane_id, 200)


def workspace(root: Path, name: str = "proj") -> dict:
    return json.loads((root / name / ".jupyter-spaces" / "space.json").read_text())


async def test_claude_pane_gets_its_id_up_front_and_resumes_it_with_its_profile(
    agent_env: AgentEnv,  # noqa: F811
    api,
    jp_root_dir,
):
    space = await make_space(api, jp_root_dir)
    (jp_root_dir / "proj" / "sub").mkdir()
    pane = await agent_pane(
        api, space["id"], agent="claude", model="opus", args=["--verbose"], cwd="sub"
    )
    sid = pane["session_id"]
    assert pane["kind"] == "agent" and pane["agent"] == "claude" and len(sid) == UUID_LEN
    [call] = await started(agent_env, "claude")
    assert call["argv"] == ["--session-id", sid, "--model", "opus", "--verbose"]
    assert call["cwd"] == str(jp_root_dir / "proj" / "sub") and call["pane"] == pane["id"]
    stored = workspace(jp_root_dir)["panes"][pane["id"]]
    assert stored["agent"] == "claude" and stored["session_id"] == sid
    assert stored["launch"]["model"] == "opus" and stored["launch"]["args"] == ["--verbose"]

    await say(api, space["id"], pane["id"], "remember the word pelican")

    async def indexed():
        code, body = await api("GET", "sessions", q="pelican")
        return body["sessions"] if code == 200 and body["sessions"] else None

    [found] = await wait_for(indexed)
    assert (found["agent"], found["id"], found["space_id"]) == ("claude", sid, space["id"])
    assert found["path"] == "proj/sub" and "<mark>pelican</mark>" in found["snippet"]

    code, again = await api("POST", space["id"], "panes", pane["id"], "restart")
    assert code == 200 and again["session_id"] == sid
    _, call = await started(agent_env, "claude", 2)
    assert call["argv"] == ["--resume", sid, "--model", "opus", "--verbose"]
    assert call["cwd"] == str(jp_root_dir / "proj" / "sub")


async def test_agent_that_exits_leaves_a_usable_shell(agent_env, api, jp_root_dir):  # noqa: F811
    space = await make_space(api, jp_root_dir)
    pane = await agent_pane(api, space["id"], agent="claude")
    await started(agent_env, "claude")
    await api("POST", space["id"], "panes", pane["id"], "input", body={"text": "exit\r"})
    await wait_for(lambda: _contains(api, space["id"], pane["id"], "claude exited with status 0"))
    await api(
        "POST", space["id"], "panes", pane["id"], "input", body={"text": "echo still-$((6*7))\r"}
    )
    await wait_for(lambda: _contains(api, space["id"], pane["id"], "still-42"))
    _code, body = await api("GET", space["id"], "panes", pane["id"])
    assert body["state"] == "running"


async def test_codex_ids_are_detected_per_pane_even_when_started_together(
    agent_env: AgentEnv,  # noqa: F811
    api,
    jp_root_dir,
):
    space = await make_space(api, jp_root_dir)
    panes = await asyncio.gather(
        *(agent_pane(api, space["id"], agent="codex") for _ in range(2)),
        *(agent_pane(api, space["id"], agent="claude") for _ in range(2)),
    )
    assert [p["session_id"] for p in panes[:2]] == [None, None]  # codex chooses its own

    async def detected():
        listing = {p["id"]: p for p in (await api("GET", space["id"], "panes"))[1]["panes"]}
        ids = {pid: listing[pid]["session_id"] for pid in listing}
        return ids if all(ids.values()) else None

    ids = await wait_for(detected, timeout=15)
    # The truth: each fake CLI logged the id it wrote, with the pane it ran in.
    truth = {c["pane"]: c["session_id"] for c in agent_env.calls()}
    assert ids == truth and len(set(ids.values())) == 4
    assert all(c["argv"] == [] for c in agent_env.calls("codex"))

    codex_pane = panes[0]["id"]
    code, _ = await api("POST", space["id"], "panes", codex_pane, "restart")
    assert code == 200
    calls = await started(agent_env, "codex", 3)
    assert calls[-1]["argv"] == ["resume", ids[codex_pane]]
    assert calls[-1]["cwd"] == str(jp_root_dir / "proj")


async def test_gemini_chooses_the_id_only_when_new_enough(
    agent_env: AgentEnv,  # noqa: F811
    api,
    jp_root_dir,
    monkeypatch,
):
    space = await make_space(api, jp_root_dir)
    new = await agent_pane(api, space["id"], agent="gemini")
    [call] = await started(agent_env, "gemini")
    assert call["argv"] == ["--session-id", new["session_id"]]

    # An older gemini (before v0.41) has no --session-id: the id is detected instead. The
    # version is read from a new executable, so install one.
    monkeypatch.setenv("FAKE_GEMINI_VERSION", "0.30.1")
    agent_env.uninstall("gemini")
    from .agent_env import install_fakes

    install_fakes(agent_env.bin, ("gemini",))
    old = await agent_pane(api, space["id"], agent="gemini")
    assert old["session_id"] is None
    calls = await started(agent_env, "gemini", 2)
    assert calls[-1]["argv"] == []

    async def detected():
        _, pane = await api("GET", space["id"], "panes", old["id"])
        return pane["session_id"]

    assert await wait_for(detected, timeout=15) == calls[-1]["session_id"]


async def test_missing_cli_is_refused_and_changes_nothing(
    agent_env: AgentEnv,  # noqa: F811
    api,
    jp_root_dir,
):
    space = await make_space(api, jp_root_dir)
    agent_env.uninstall("codex")
    before = (jp_root_dir / "proj" / ".jupyter-spaces" / "space.json").read_bytes()
    code, body = await api("POST", space["id"], "panes", body={"kind": "agent", "agent": "codex"})
    assert code == 409 and body["reason"] == "missing_cli"
    assert body["message"].startswith("Codex CLI is not installed: there is no 'codex' on")
    assert (jp_root_dir / "proj" / ".jupyter-spaces" / "space.json").read_bytes() == before
    assert agent_env.calls() == []


async def test_bad_agent_requests(agent_env, api, jp_root_dir):  # noqa: F811
    space = await make_space(api, jp_root_dir)
    path = jp_root_dir / "proj" / ".jupyter-spaces" / "space.json"
    before = path.read_bytes()
    cases = [
        ({"agent": "vim"}, "agent must be one of claude, codex, gemini, custom"),
        ({}, "agent must be one of"),
        ({"agent": "claude", "argv": ["x"]}, "argv is only for custom agents"),
        ({"agent": "claude", "session_id": "abc"}, "session_id is only for custom agents"),
        ({"agent": "claude", "args": "--verbose"}, "args must be a list"),
        ({"agent": "claude", "args": ["ok", ""]}, "args must be a list"),
        ({"agent": "claude", "args": ["a\x00b"]}, "args must be a list"),
        ({"agent": "claude", "model": ""}, "model must be a non-empty string"),
        ({"agent": "claude", "model": 7}, "model must be a non-empty string"),
        ({"agent": "custom"}, "argv must be a non-empty list"),
        ({"agent": "custom", "argv": ["x"], "resume": ["x", "--again"]}, "resume must contain"),
        ({"agent": "custom", "argv": ["x"], "session_id": "a b"}, "session_id must be"),
        ({"agent": "custom", "argv": ["x"], "model": "m"}, "takes its flags in argv"),
        ({"agent": "claude", "cwd": "../.."}, "may not contain '..'"),
        ({"agent": "claude", "bogus": 1}, "unknown field(s) bogus"),
    ]
    for body, message in cases:
        code, answer = await api("POST", space["id"], "panes", body={"kind": "agent", **body})
        assert code == 400 and message in answer["message"], (body, answer)
    code, answer = await api(
        "POST", space["id"], "panes", body={"kind": "shell", "agent": "claude"}
    )
    assert code == 400 and answer["message"] == "agent: only for agent panes"
    assert path.read_bytes() == before
    assert agent_env.calls() == []


async def test_custom_agent_resumes_with_its_template(agent_env, api, jp_root_dir):  # noqa: F811
    space = await make_space(api, jp_root_dir)
    claude = str(agent_env.bin / "claude")
    sid = "0d5f3c2e-7b1a-4f7e-9c55-2a9d3e1b4c6f"
    pane = await agent_pane(
        api,
        space["id"],
        agent="custom",
        argv=[claude, "--session-id", sid],
        resume=[claude, "--resume={session_id}"],
        session_id=sid,
    )
    assert pane["agent"] == "custom" and pane["session_id"] == sid
    await started(agent_env, "claude")
    await api("POST", space["id"], "panes", pane["id"], "restart")
    calls = await started(agent_env, "claude", 2)
    assert calls[-1]["argv"] == [f"--resume={sid}"]


async def test_restart_after_the_transcript_is_gone_starts_fresh(
    agent_env: AgentEnv,  # noqa: F811
    api,
    jp_root_dir,
):
    space = await make_space(api, jp_root_dir)
    pane = await agent_pane(api, space["id"], agent="claude")
    sid = pane["session_id"]
    await say(api, space["id"], pane["id"], "hello")

    async def listed(gone: bool):
        _code, body = await api("GET", "sessions", agent="claude")
        return any(s["id"] == sid and s["gone"] is gone for s in body["sessions"])

    await wait_for(lambda: listed(False))
    # The CLI deletes old transcripts; the index keeps the session, marked gone.
    [transcript] = agent_env.claude.glob(f"projects/*/{sid}.jsonl")
    transcript.unlink()
    await wait_for(lambda: listed(True))

    code, again = await api("POST", space["id"], "panes", pane["id"], "restart")
    assert code == 200 and again["session_id"] not in (None, sid)
    calls = await started(agent_env, "claude", 2)
    assert calls[-1]["argv"] == ["--session-id", again["session_id"]]
    await wait_for(lambda: _contains(api, space["id"], pane["id"], f"claude session {sid} is gone"))
