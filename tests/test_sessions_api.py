"""The agent-sessions API against a real server: listing, search, filters, messages, the file
watcher, and resuming a session as a pane (fake CLIs on PATH record how they were started)."""

from __future__ import annotations

from pathlib import Path

from .agent_env import AgentEnv, agent_env  # noqa: F401 - fixture
from .agents.fixtures import (
    append,
    c_assistant,
    c_user,
    claude_project,
    codex_path,
    gemini_chats,
    line,
    text,
    write_lines,
    x_assistant,
    x_meta,
    x_turn,
    x_user,
)
from .conftest import needs_tmux, wait_for
from .test_events import next_event

pytestmark = needs_tmux

A = "5b1c9d3e-1111-4a2b-8c3d-aaaaaaaaaaaa"  # claude, in proj/sub
X = "019a2b3c-2222-7d4e-9f00-bbbbbbbbbbbb"  # codex, in proj
G = "7e8f9a0b-3333-4c5d-8e6f-cccccccccccc"  # gemini, outside the root
SUB_USAGE = {"input_tokens": 1, "output_tokens": 2, "cache_read_input_tokens": 3}


def corpus(env: AgentEnv, root: Path) -> None:
    sub = str(root / "proj" / "sub")
    write_lines(
        claude_project(env.claude, sub) / f"{A}.jsonl",
        [
            c_user(A, "teach the zebra to count", 0, cwd=sub),
            c_assistant(A, "m1", text("the zebra counts to three"), 1, cwd=sub),
        ],
    )
    # A sub-agent of A: nested under it, its usage in A's total, never a session of its own.
    side = {"isSidechain": True, "agentId": "ab12"}
    write_lines(
        claude_project(env.claude, sub) / A / "subagents" / "agent-ab12.jsonl",
        [
            c_user(A, "count the stripes", 2, cwd=sub, **side),
            c_assistant(A, "m2", text("forty"), 3, cwd=sub, usage=SUB_USAGE, **side),
        ],
    )
    proj = str(root / "proj")
    write_lines(
        codex_path(env.codex, X),
        [
            x_meta(X, "2026-02-10T14:03:11.000Z", cwd=proj),
            x_turn("2026-02-10T14:03:12.000Z", cwd=proj),
            *x_user("2026-02-10T14:03:13.000Z", "rename the giraffe module"),
            x_assistant("2026-02-10T14:03:20.000Z", "renamed"),
        ],
    )
    chats = gemini_chats(env.gemini / ".gemini", "app", "/home/alice/app")
    write_lines(
        chats / f"session-2026-05-04T08-12-{G[:8]}.jsonl",
        [
            {
                "sessionId": G,
                "projectHash": "9f" * 32,
                "startTime": "2026-05-04T08:12:00.101Z",
                "lastUpdated": "2026-05-04T08:12:00.101Z",
                "kind": "main",
            },
            {
                "id": "u1",
                "timestamp": "2026-05-04T08:12:05.000Z",
                "type": "user",
                "content": [{"text": "a prompt about the okapi"}],
            },
        ],
    )


async def listing(api, **params) -> list[dict]:
    code, body = await api("GET", "sessions", **params)
    assert code == 200, body
    return body["sessions"]


async def test_list_search_filters_and_messages(agent_env, api, jp_root_dir):  # noqa: F811
    (jp_root_dir / "proj" / "sub").mkdir(parents=True)
    corpus(agent_env, jp_root_dir)
    _, space = await api("POST", body={"path": "proj"})

    async def all_three():
        found = await listing(api)
        return found if len(found) == 3 else None

    by_id = {s["id"]: s for s in await wait_for(all_three)}
    a, x, g = by_id[A], by_id[X], by_id[G]
    assert (a["agent"], a["space_id"], a["path"]) == ("claude", space["id"], "proj/sub")
    assert (x["agent"], x["space_id"], x["path"]) == ("codex", space["id"], "proj")
    assert (g["agent"], g["space_id"], g["path"], g["cwd"]) == (
        "gemini",
        None,
        None,
        "/home/alice/app",
    )
    assert a["title"] == "teach the zebra to count" and a["message_count"] == 2
    assert a["tokens"]["total"] == 10 + 100 + 1000 + 5 and a["gone"] is False
    assert a["tokens_total"]["total"] == 10 + 100 + 1000 + 5 + 1 + 2 + 3
    [nested] = a["subagents"]
    assert nested["id"] == "ab12" and nested["title"] == "count the stripes"
    assert nested["tokens"]["total"] == 6 and nested["message_count"] == 2
    assert a["started"].endswith("Z") or a["started"].endswith("+00:00")

    [hit] = await listing(api, q="zebra")
    assert hit["id"] == A and hit["matches"] == 2 and "<mark>zebra</mark>" in hit["snippet"]
    assert [s["id"] for s in await listing(api, agent="codex")] == [X]
    assert {s["id"] for s in await listing(api, space=space["id"])} == {A, X}
    assert [s["id"] for s in await listing(api, cwd="proj/sub")] == [A]
    assert [s["id"] for s in await listing(api, q="okapi", agent="claude")] == []
    assert [s["id"] for s in await listing(api, since="2026-05-01T00:00:00Z")] == [G]
    assert {s["id"] for s in await listing(api, until="2026-05-01T00:00:00Z")} == {A, X}
    assert len(await listing(api, limit="1", offset="2")) == 1
    # JupyterLab's request helper adds a bare "&<timestamp>" to every GET.
    assert len(await listing(api, **{"1764000000000": ""})) == 3

    code, one = await api("GET", "sessions", "claude", A)
    assert code == 200 and one["id"] == A and one["space_id"] == space["id"]
    code, page = await api("GET", "sessions", "claude", A, "messages", limit="1", offset="1")
    assert code == 200 and [m["text"] for m in page["messages"]] == ["the zebra counts to three"]
    assert page["messages"][0]["role"] == "assistant"


async def test_bad_queries_are_refused(agent_env, api, jp_root_dir):  # noqa: F811
    cases = [
        ({"colour": "red"}, 400, "unknown parameter(s) colour"),
        ({"agent": "vim"}, 400, "agent must be one of claude, codex, gemini"),
        ({"limit": "0"}, 400, "limit must be a whole number from 1 to 500"),
        ({"limit": "ten"}, 400, "limit must be a whole number"),
        ({"offset": "-1"}, 400, "offset must be a whole number"),
        ({"offset": "7\u00b3"}, 400, "offset must be a whole number"),
        ({"limit": "\u0663"}, 400, "limit must be a whole number"),
        ({"since": "yesterday"}, 400, "since must be an ISO-8601 time or POSIX seconds"),
        ({"until": "nan"}, 400, "until must be an ISO-8601 time or POSIX seconds"),
        ({"since": "inf"}, 400, "since must be an ISO-8601 time or POSIX seconds"),
        ({"order": "random"}, 400, "order must be 'relevance' or 'recent'"),
        ({"subagents": "maybe"}, 400, "subagents must be true or false"),
        ({"space": "nope0000"}, 404, "no space 'nope0000'"),
        ({"cwd": "../etc"}, 400, "may not contain '..'"),
        ({"cwd": "/etc"}, 400, "must be relative to the server's root"),
        ({"q": "z" * 1001}, 400, "q is longer than 1000 characters"),
    ]
    for params, status, message in cases:
        code, body = await api("GET", "sessions", **params)
        assert (code, message in body["message"]) == (status, True), (params, body)
    for parts, message in [
        (("sessions", "claude", "0000"), "no claude session '0000'"),
        (("sessions", "vim", "0000"), "unknown agent 'vim'"),
        (("sessions", "claude", "0000", "messages"), "no claude session '0000'"),
    ]:
        code, body = await api("GET", *parts)
        assert code == 404 and message in body["message"]
    code, body = await api("GET", "sessions", "claude", "0000", "messages", page="2")
    assert code == 400 and body["message"] == "messages takes only limit and offset"


async def test_a_session_a_cli_writes_is_found_without_any_action(
    agent_env: AgentEnv,  # noqa: F811
    api,
    jp_root_dir,
    jp_ws_fetch,
):
    assert await listing(api) == []  # the server is up and watching
    ws = await jp_ws_fetch("api", "events", "subscribe")
    cwd = str(jp_root_dir)
    path = write_lines(
        claude_project(agent_env.claude, cwd) / f"{A}.jsonl", [c_user(A, "first words", 0, cwd=cwd)]
    )
    await next_event(ws, action="sessions_changed")
    assert [s["id"] for s in await wait_for(lambda: listing(api, q="first"))] == [A]
    # An appended line, and a partial one that waits for its newline.
    append(path, line(c_assistant(A, "m1", text("a capybara appears"), 1, cwd=cwd)))
    append(path, line(c_user(A, "half written wombat", 2, cwd=cwd))[:-20])
    assert [s["id"] for s in await wait_for(lambda: listing(api, q="capybara"))] == [A]
    assert await listing(api, q="wombat") == []
    append(path, line(c_user(A, "half written wombat", 2, cwd=cwd))[-20:])
    assert [s["id"] for s in await wait_for(lambda: listing(api, q="wombat"))] == [A]


async def test_resume_opens_the_session_in_its_space_and_folder(
    agent_env: AgentEnv,  # noqa: F811
    api,
    jp_root_dir,
):
    (jp_root_dir / "proj" / "sub").mkdir(parents=True)
    corpus(agent_env, jp_root_dir)
    await wait_for(lambda: _known(api, A))

    code, body = await api("POST", "sessions", "claude", A, "resume")
    assert code == 409 and body["reason"] == "no_space" and body["path"] == "proj/sub"
    assert agent_env.calls() == []

    _, space = await api("POST", body={"path": "proj"})
    code, pane = await api("POST", "sessions", "claude", A, "resume")
    assert code == 201, pane
    assert (pane["space_id"], pane["kind"], pane["agent"]) == (space["id"], "agent", "claude")
    assert pane["session_id"] == A and pane["cwd"] == "sub"
    assert pane["title"] == "teach the zebra to count"
    [call] = await wait_for(lambda: _calls(agent_env, 1))
    assert call["argv"] == ["--resume", A] and call["cwd"] == str(jp_root_dir / "proj" / "sub")

    code, body = await api("POST", "sessions", "claude", A, "resume")
    assert code == 409 and body["reason"] == "already_open" and body["pane_id"] == pane["id"]

    code, body = await api("POST", "sessions", "gemini", G, "resume")
    assert code == 409 and body["reason"] == "outside_root"

    for bad, message in [
        ({"fresh": "yes"}, "fresh must be true or false"),
        ({"pane": 1}, "unknown field(s) pane"),
        ({"title": 5}, "title must be a string"),
        ({"direction": "diagonal"}, "direction must be 'row' or 'column'"),
    ]:
        code, body = await api("POST", "sessions", "codex", X, "resume", body=bad)
        assert code == 400 and message in body["message"], body
    code, body = await api("POST", "sessions", "codex", "00000000", "resume")
    assert code == 404

    # Codex deleted the transcript: offered as a fresh start, not a failed resume.
    next(agent_env.codex.glob(f"sessions/*/*/*/*{X}.jsonl")).unlink()

    async def gone():
        _, s = await api("GET", "sessions", "codex", X)
        return s["gone"]

    await wait_for(gone)
    code, body = await api("POST", "sessions", "codex", X, "resume")
    assert code == 409 and body["reason"] == "gone" and body["path"] == "proj"
    code, fresh = await api("POST", "sessions", "codex", X, "resume", body={"fresh": True})
    assert code == 201 and fresh["agent"] == "codex"
    calls = await wait_for(lambda: _calls(agent_env, 2))
    assert calls[-1]["argv"] == [] and calls[-1]["cwd"] == str(jp_root_dir / "proj")


async def _known(api, sid: str) -> bool:
    code, _ = await api("GET", "sessions", "claude", sid)
    return code == 200


async def _calls(env: AgentEnv, n: int) -> list[dict] | None:
    calls = env.calls()
    return calls if len(calls) >= n else None


async def test_hostile_session_ids_are_refused_before_any_lookup(
    agent_env,  # noqa: F811
    api,
    jp_root_dir,
):
    """A NUL, a path, an option, a non-UUID for a CLI: 404 with a message, nothing created."""
    (jp_root_dir / "proj" / "sub").mkdir(parents=True)
    corpus(agent_env, jp_root_dir)
    _, space = await api("POST", body={"path": "proj"})
    for sid in ["\x00", f"{A}\x00", "..", "-rf", "--help", "a b", "x" * 129, "é", "%2e%2e"]:
        for parts, method in [
            (("sessions", "claude", sid), "GET"),
            (("sessions", "codex", sid, "messages"), "GET"),
            (("sessions", "gemini", sid, "resume"), "POST"),
        ]:
            code, body = await api(method, *parts)
            assert code == 404, (sid, parts, body)
            assert "is not a" in body["message"], body
    code, body = await api("GET", "sessions", "\x00", A)
    assert code == 404 and "unknown agent" in body["message"]
    _, after = await api("GET", space["id"])
    assert after["panes"] == []  # no resume went through
