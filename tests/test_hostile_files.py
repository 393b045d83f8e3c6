"""Workspace files written by someone else (issue: nothing runs unasked, nothing escapes its
folder). Each class of attack is tried with the reported example and variants, through a real
server and real tmux, asserting on what the processes really got (/proc, marker files)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_spaces.trust import Notary

from .conftest import needs_tmux
from .hostile import (
    Machine,
    cmdline,
    doc,
    environ,
    machine_fixture,
    pane,
    plant,
    read_record,
    rec,
    sessions,
    trust,
)
from .test_server_restart import wait

pytestmark = needs_tmux


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[Machine]:
    yield from machine_fixture(tmp_path)


def register(srv, name: str) -> dict:  # type: ignore[no-untyped-def]
    code, space = srv.request("POST", "/api/spaces", {"path": name})
    assert code == 201, space
    return space


# -- 1. the dialog and the process agree --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "bad", "why"),
    [
        # The reported example: the dialog read launch.env, the process got env.
        (
            "preload",
            lambda out: pane(
                "p001",
                rec(out),
                env={"LD_PRELOAD": "./evil.so"},
                launch={"argv": rec(out), "env": {"LD_PRELOAD": ""}},
            ),
            "'env' and 'launch.env' differ",
        ),
        (
            "argv",
            lambda out: pane("p001", ["true"], launch={"argv": rec(out), "env": {}}),
            "'argv' and 'launch.argv' differ",
        ),
        (
            "unknown",
            lambda out: pane("p001", rec(out), launch={"argv": rec(out), "env": {}, "pre": ["x"]}),
            "unknown field",
        ),
        (
            "agentflags",
            lambda out: pane(
                "p001", rec(out), launch={"argv": rec(out), "env": {}, "args": ["--yolo"]}
            ),
            "only for agents",
        ),
    ],
)
def test_a_file_whose_fields_disagree_about_what_runs_is_broken(machine, name, bad, why):
    out = machine.root / f"{name}.json"
    folder = machine.root / name
    plant(folder, doc("c10ned01", bad(out)))
    srv = machine.start()
    code, reply = srv.request("POST", "/api/spaces", {"path": name})
    assert code == 409 and why in reply["message"], reply
    assert srv.request("GET", "/api/spaces")[1]["spaces"] == []
    time.sleep(1)
    assert not out.exists() and sessions(machine.sock) == []


def test_what_runs_after_trust_is_exactly_the_plan_that_was_shown(machine):
    out = machine.root / "ran.json"
    env = {"LD_PRELOAD": "", "GREETING": "a b;c", "PATH": "/opt/none:" + os.environ["PATH"]}
    (machine.root / "proj" / "sub").mkdir(parents=True)
    plant(
        machine.root / "proj",
        doc("c10ned02", pane("p001", rec(out, "--flag", "x;", ""), env=env, cwd="sub")),
    )
    srv = machine.start()
    space = register(srv, "proj")
    assert space["trusted"] is False and sessions(machine.sock) == []
    code, plan = srv.request("GET", f"/api/spaces/{space['id']}/plan")
    assert code == 200, plan
    (shown,) = plan["plans"]
    assert shown["argv"] == rec(out, "--flag", "x;", "") and shown["cwd"] == "proj/sub"
    assert {k: shown["env"][k] for k in env} == env
    assert not out.exists(), "showing the plan runs nothing"
    code, trusted = srv.request(
        "POST", f"/api/spaces/{space['id']}/trust", {"plan_sha256": plan["plan_sha256"]}
    )
    assert code == 200 and trusted["trusted"] is True, trusted
    # A restored command waits for Enter; what it then runs is the plan, byte for byte.
    assert not out.exists()
    srv.request("POST", f"/api/spaces/{space['id']}/panes/p001/input", {"text": "\r"})
    got = read_record(out)
    assert rec(out, *got["argv"]) == shown["argv"]
    assert cmdline(got["pid"]) == shown["argv"]
    seen = environ(got["pid"])
    assert {k: seen[k] for k in shown["env"]} == shown["env"]
    assert got["cwd"] == str(machine.root / "proj" / "sub")


def test_a_custom_agents_resume_template_is_shown_before_it_runs(machine):
    first, resumed = machine.root / "first.json", machine.root / "resumed.json"
    agent = pane(
        "p001",
        rec(first),
        kind="agent",
        agent="custom",
        session_id="chat-7",
        launch={"argv": rec(first), "env": {}, "resume": rec(resumed, "--resume={session_id}")},
    )
    plant(machine.root / "proj", doc("c10ned03", agent))
    srv = machine.start()
    space = register(srv, "proj")
    _, plan = srv.request("GET", f"/api/spaces/{space['id']}/plan")
    (shown,) = plan["plans"]
    assert shown["argv"] == rec(resumed, "--resume=chat-7"), shown
    assert shown["then_shell"] == "/bin/sh" and shown["session_id"] == "chat-7"
    assert trust(srv, space["id"])[0] == 200
    got = read_record(resumed)
    assert got["argv"] == ["--resume=chat-7"]
    time.sleep(0.5)
    assert not first.exists(), "only what was shown ran"


@pytest.mark.parametrize(
    ("agent", "sid"),
    [
        ("claude", "--dangerously-skip-permissions"),  # the reported example
        ("claude", "--yolo"),
        ("codex", "../../../etc/passwd"),
        ("gemini", "-r"),
        ("custom", "--yolo"),
        ("custom", "a/../b"),
    ],
)
def test_session_ids_that_would_be_flags_or_paths_start_nothing(machine, agent, sid):
    out = machine.root / "ran.json"
    argv = rec(out) if agent == "custom" else [agent]
    launch = {"argv": argv, "env": {}}
    if agent == "custom":
        launch["resume"] = rec(out, "{session_id}")
    agent_pane = pane("p001", argv, kind="agent", agent=agent, session_id=sid, launch=launch)
    plant(machine.root / "proj", doc("c10ned04", agent_pane))
    srv = machine.start()
    code, reply = srv.request("POST", "/api/spaces", {"path": "proj"})
    assert code == 409 and "session_id" in reply["message"], reply
    time.sleep(0.5)
    assert not out.exists() and sessions(machine.sock) == []


def test_resuming_a_session_named_like_a_flag_or_path_is_refused_before_anything(machine):
    srv = machine.start()
    (machine.root / "proj").mkdir()
    register(srv, "proj")
    for sid in ("--yolo", "..%2F..%2Fx", "-r", "a%00b"):
        code, reply = srv.request("POST", f"/api/spaces/sessions/claude/{sid}/resume", {})
        assert code in (400, 404), (sid, code, reply)
        assert isinstance(reply["message"], str)
    assert sessions(machine.sock) == []


def test_screen_text_that_came_with_a_clone_is_shown_as_text(machine):
    folder = machine.root / "proj"
    plant(folder, doc("c10ned05", pane("p001", ["/bin/sh"], kind="shell")))
    screens = folder / ".jupyter-spaces" / "screens"
    screens.mkdir()
    hostile = (
        "\x1b]2;PWNED-TITLE\x07before-\x1b[31mred\x1b[0m-after\r\n"
        "\x1b[?1049h\x1b[?2004h\x9b2J\x1bP+q\x1b\\line-two\n"
    )
    (screens / "p001.txt").write_text(hostile)
    # A variant: a capture that is a link to a file outside the folder is never shown.
    outside = machine.root.parent / "secret.txt"
    outside.write_text("OUTSIDE-SECRET\n")
    plant(machine.root / "linked", doc("c10ned06", pane("p001", ["/bin/sh"], kind="shell")))
    (machine.root / "linked" / ".jupyter-spaces" / "screens").mkdir()
    (machine.root / "linked" / ".jupyter-spaces" / "screens" / "p001.txt").symlink_to(outside)

    srv = machine.start()
    space, linked = register(srv, "proj"), register(srv, "linked")
    _, plan = srv.request("GET", f"/api/spaces/{space['id']}/plan")
    assert plan["plans"][0]["prints"] == ".jupyter-spaces/screens/p001.txt"
    _, plan = srv.request("GET", f"/api/spaces/{linked['id']}/plan")
    assert plan["plans"][0]["prints"] is None
    assert trust(srv, space["id"])[0] == 200 and trust(srv, linked["id"])[0] == 200

    def screen(space_id: str) -> str:
        code, body = srv.request("GET", f"/api/spaces/{space_id}/panes/p001/screen?lines=100")
        return str(body["text"]) if code == 200 else ""

    wait(lambda: "line-two" in screen(space["id"]) and "restored from" in screen(space["id"]))
    text = screen(space["id"])
    # Shown as text: the escape characters are gone, the rest of each sequence is visible.
    assert "before-[31mred[0m-after" in text and "\x1b" not in text, text
    name = f"jsp_{space['id']}_p001"

    def fmt(f: str) -> str:
        return subprocess.run(
            ["tmux", "-S", str(machine.sock / "tmux.sock"), "display", "-p", "-t", f"={name}:", f],
            capture_output=True,
            text=True,
        ).stdout.strip()

    assert fmt("#{pane_title}") != "PWNED-TITLE"
    assert fmt("#{alternate_on}") == "0"
    colours = subprocess.run(
        ["tmux", "-S", str(machine.sock / "tmux.sock"), "capture-pane", "-p", "-e", "-t", name],
        capture_output=True,
        text=True,
    ).stdout
    assert "\x1b[31m" not in colours
    wait(lambda: "restored from" in screen(linked["id"]))
    assert "OUTSIDE-SECRET" not in screen(linked["id"])


# -- 2. trust that appears by itself ------------------------------------------------------------


@pytest.mark.parametrize("how", ["delete-database", "new-trust-dir", "new-secret"])
def test_a_missing_trust_database_trusts_nothing(machine, how):
    out = machine.root / "ran.json"
    (machine.root / "proj").mkdir()
    srv = machine.start()
    space = register(srv, "proj")
    code, made = srv.request(
        "POST",
        f"/api/spaces/{space['id']}/panes",
        {"kind": "command", "argv": rec(out), "autorestart": True},
    )
    assert code == 201, made
    read_record(out)
    srv.stop()
    machine.kill_tmux()
    out.unlink()
    trust_dir = machine.data / "jupyter-data" / "jupyter_spaces"
    options = {}
    if how == "delete-database":
        (trust_dir / "trusted.sqlite").unlink()
    elif how == "new-secret":
        (trust_dir / "trust-secret").unlink()
    else:
        options["trust_dir"] = machine.data / "elsewhere"
    srv = machine.start(**options)
    code, again = srv.request("GET", f"/api/spaces/{space['id']}")
    assert code == 200 and again["trusted"] is False, again
    time.sleep(1.5)
    assert not out.exists() and sessions(machine.sock) == []


# -- 3. signing only what the server wrote -------------------------------------------------------


def test_a_file_changed_with_the_same_size_and_time_is_not_taken_as_unchanged(machine):
    (machine.root / "proj").mkdir()
    srv = machine.start()
    space = register(srv, "proj")
    path = machine.root / "proj" / ".jupyter-spaces" / "space.json"
    data = path.read_bytes()
    st = path.stat()
    evil = data.replace(b'"proj"', b'"PWND"', 1)
    assert len(evil) == len(data)
    path.write_bytes(evil)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    _, now = srv.request("GET", f"/api/spaces/{space['id']}")
    assert now["name"] == "PWND" and now["trusted"] is False, now


# -- 4. tmux never parses what is data ----------------------------------------------------------


def test_every_argument_variable_and_folder_reaches_the_process_byte_for_byte(machine):
    out = machine.root / "ran.json"
    marker = machine.root / "PWNED"
    words = ["done;", "run-shell", f"touch {marker}", "a\\;", "{", "}", "%if", "-e", ";", "é\n", ""]
    env = {"PATH": "/opt/nowhere:" + os.environ["PATH"], "SEMI": "v;", "BRACE": "{"}
    folder = machine.root / "proj" / "d;x {y}"
    folder.mkdir(parents=True)
    srv = machine.start()
    space = register(srv, "proj")
    sid = space["id"]
    code, made = srv.request(
        "POST",
        f"/api/spaces/{sid}/panes",
        {"kind": "command", "argv": rec(out, *words), "env": env, "cwd": "d;x {y}"},
    )
    assert code == 201, made

    def check() -> None:
        got = read_record(out)
        assert got["argv"] == words
        assert cmdline(got["pid"]) == rec(out, *words)
        assert {k: got["env"][k] for k in env} == env
        assert got["cwd"] == str(folder)
        assert not marker.exists()

    check()
    out.unlink()
    code, _ = srv.request("POST", f"/api/spaces/{sid}/panes/{made['id']}/restart")
    assert code == 200
    check()
    # And after the machine restarts (the command waits for Enter, then runs the same).
    srv.kill()
    machine.kill_tmux()
    out.unlink()
    srv = machine.start()
    wait(lambda: srv.request("GET", f"/api/spaces/{sid}")[1]["panes"][0]["state"] == "running")
    srv.request("POST", f"/api/spaces/{sid}/panes/{made['id']}/input", {"text": "\r"})
    check()


# -- 7. writes never follow links out ------------------------------------------------------------


def test_a_linked_state_folder_makes_the_space_broken_and_nothing_is_written_through_it(machine):
    outside = machine.root.parent / "outside"
    outside.mkdir()
    plant(outside, doc("c10ned07", pane("p001", ["true"])))
    before = sorted(p.name for p in (outside / ".jupyter-spaces").iterdir())
    (machine.root / "proj").mkdir()
    (machine.root / "proj" / ".jupyter-spaces").symlink_to(outside / ".jupyter-spaces")
    (machine.root / "other").mkdir()
    (machine.root / "other" / ".jupyter-spaces").mkdir()
    (machine.root / "other" / ".jupyter-spaces" / "space.json").symlink_to(
        outside / ".jupyter-spaces" / "space.json"
    )
    srv = machine.start()
    for name in ("proj", "other"):
        code, space = srv.request("POST", "/api/spaces", {"path": name})
        assert code == 409 or space["status"] == "broken", space
    assert sorted(p.name for p in (outside / ".jupyter-spaces").iterdir()) == before


@pytest.mark.parametrize("link", ["screens", "snapshots"])
def test_captures_and_snapshots_never_land_outside_through_a_planted_link(machine, link):
    outside = machine.root.parent / "outside"
    outside.mkdir()
    (machine.root / "proj").mkdir()
    srv = machine.start(capture_interval=0.3)
    space = register(srv, "proj")
    sid = space["id"]
    code, made = srv.request(
        "POST",
        f"/api/spaces/{sid}/panes",
        {"kind": "command", "argv": ["sh", "-c", "echo hi; exec cat"]},
    )
    assert code == 201, made
    state = machine.root / "proj" / ".jupyter-spaces"
    shutil.rmtree(state / link, ignore_errors=True)
    (state / link).symlink_to(outside)
    srv.request("POST", f"/api/spaces/{sid}/panes/{made['id']}/input", {"text": "more output\n"})
    time.sleep(1.5)  # several capture rounds
    code, reply = srv.request("POST", f"/api/spaces/{sid}/snapshots", {})
    assert code == 409 and "symbolic link" in reply["message"], reply
    assert list(outside.iterdir()) == []
    # The rest of the server goes on working.
    assert srv.request("GET", "/api/spaces")[0] == 200


# -- 8. one bad file does not take everything down ---------------------------------------------


@pytest.mark.parametrize(
    "poison",
    [
        lambda d: d["panes"]["p001"].update(
            argv=["a\x00b"], launch={"argv": ["a\x00b"], "env": {}}
        ),
        lambda d: d["panes"]["p001"].update(
            env={"A": "\x00"}, launch={"argv": ["true"], "env": {"A": "\x00"}}
        ),
        lambda d: d.update(name="bad\ud800name"),
        lambda d: d.update(deep="DEEP"),
    ],
)
def test_a_trusted_file_with_invalid_values_is_broken_and_the_rest_works(machine, poison):
    (machine.root / "good").mkdir()
    srv = machine.start()
    good = register(srv, "good")
    srv.stop()
    bad = doc("c10ned08", pane("p001", ["true"]))
    poison(bad)
    # Nesting deeper than Python's own recursion limit is written as text.
    data = json.dumps(bad).replace('"DEEP"', "[" * 5000 + "]" * 5000).encode()
    path = plant(machine.root / "bad", data)
    # Even signed as this user's (as if a previous version had written it), it is refused.
    Notary(machine.data / "jupyter-data" / "jupyter_spaces").trust(data, str(path.parent.parent))
    registry = json.loads((machine.data / "registry.json").read_text())
    registry["spaces"]["c10ned08"] = {"dir": str(machine.root / "bad"), "name": "bad", "added": "x"}
    (machine.data / "registry.json").write_text(json.dumps(registry))
    srv = machine.start()
    code, listing = srv.request("GET", "/api/spaces")
    assert code == 200, listing
    by_id = {s["id"]: s for s in listing["spaces"]}
    assert by_id["c10ned08"]["status"] == "broken" and by_id["c10ned08"]["message"]
    assert by_id[good["id"]]["status"] == "ok"
    for path_ in ("", "/panes", "/plan", "/snapshots"):
        code, _ = srv.request("GET", f"/api/spaces/c10ned08{path_}")
        assert code < 500
    assert srv.request("DELETE", "/api/spaces/c10ned08")[0] == 204
    assert srv.request("GET", f"/api/spaces/{good['id']}")[0] == 200


# -- 9. copies of a project --------------------------------------------------------------------


def test_each_copy_of_a_project_is_its_own_space_and_trust_does_not_carry_over(machine):
    (machine.root / "proj").mkdir()
    srv = machine.start()
    original = register(srv, "proj")
    code, made = srv.request(
        "POST",
        f"/api/spaces/{original['id']}/panes",
        {"kind": "command", "argv": ["sh", "-c", 'echo "$PWD" > here; exec cat']},
    )
    assert code == 201, made
    wait(lambda: (machine.root / "proj" / "here").exists())
    for copy in ("copy", "worktree"):
        shutil.copytree(machine.root / "proj", machine.root / copy)
        (machine.root / copy / "here").unlink()
    committed = (machine.root / "copy" / ".jupyter-spaces" / "space.json").read_bytes()
    copy = register(srv, "copy")
    assert copy["id"] != original["id"] and copy["copy_of"] == original["id"], copy
    assert copy["trusted"] is False and copy["panes"][0]["state"] == "gone"
    # The committed file is not rewritten until the user trusts the copy.
    assert (machine.root / "copy" / ".jupyter-spaces" / "space.json").read_bytes() == committed
    worktree = register(srv, "worktree")
    assert len({original["id"], copy["id"], worktree["id"]}) == 3
    # The same bytes were trusted in the first folder: not in these.
    assert srv.request("GET", f"/api/spaces/{original['id']}")[1]["trusted"] is True
    _, plan = srv.request("GET", f"/api/spaces/{copy['id']}/plan")
    assert plan["copy_of"] == original["id"] and plan["plans"][0]["cwd"] == "copy"
    assert trust(srv, copy["id"])[0] == 200
    on_disk = json.loads((machine.root / "copy" / ".jupyter-spaces" / "space.json").read_text())
    assert on_disk["id"] == copy["id"]
    assert srv.request("GET", f"/api/spaces/{worktree['id']}")[1]["trusted"] is False
    srv.request("POST", f"/api/spaces/{copy['id']}/panes/{made['id']}/input", {"text": "\r"})
    wait(lambda: (machine.root / "copy" / "here").exists())
    assert (machine.root / "copy" / "here").read_text().strip() == str(machine.root / "copy")
    assert f"jsp_{copy['id']}_{made['id']}" in sessions(machine.sock)
    assert f"jsp_{original['id']}_{made['id']}" in sessions(machine.sock)
    # After a restart each is still its own, with its own trust.
    srv.stop()
    srv = machine.start()
    states = {s["id"]: s["trusted"] for s in srv.request("GET", "/api/spaces")[1]["spaces"]}
    assert states == {original["id"]: True, copy["id"]: True, worktree["id"]: False}


# -- 10. bad requests -------------------------------------------------------------------------


def test_deeply_nested_requests_get_a_clear_answer(machine):
    (machine.root / "proj").mkdir()
    srv = machine.start()
    space = register(srv, "proj")
    body = "[" * 100000 + "]" * 100000
    req = urllib.request.Request(
        f"{srv.url}/api/spaces/{space['id']}", data=body.encode(), method="PATCH"
    )
    req.add_header("Authorization", f"token {srv.token}")
    try:
        urllib.request.urlopen(req, timeout=30)
        raise AssertionError("accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 400 and "nested" in json.loads(e.read())["message"]


# -- trust given with `jupyter spaces trust` while no server runs ------------------------------


@pytest.mark.parametrize("changed", [False, True])
def test_an_offline_trust_starts_only_the_plan_it_showed(machine, changed):
    out = machine.root / "ran.json"
    (machine.root / "proj" / "sub").mkdir(parents=True)
    plant(
        machine.root / "proj",
        doc("c10ned09", pane("p001", rec(out), cwd="sub", autorestart=True)),
    )
    srv = machine.start()
    register(srv, "proj")
    srv.stop()
    config = machine.data / "cli-config"
    config.mkdir()
    settings = {
        "socket_dir": str(machine.sock),
        "registry_path": str(machine.data / "registry.json"),
    }
    (config / "jupyter_server_config.json").write_text(json.dumps({"SpacesApp": settings}))
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_DATA_DIR": str(machine.data / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(machine.data / "runtime"),
        "SHELL": "/bin/sh",
    }
    cli = [sys.executable, "-m", "jupyter_spaces.cli", "trust", str(machine.root / "proj")]
    shown = subprocess.run(cli, capture_output=True, text=True, env=env, timeout=120)
    assert shown.returncode == 1 and "--yes" in shown.stderr, shown.stderr
    assert str(out) in shown.stdout and "in proj/sub" not in shown.stdout, shown.stdout
    done = subprocess.run([*cli, "--yes"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    if changed:
        # What it would run is no longer what was shown (its folder is gone: it would start in
        # the space's folder): the file is the same, the plan is not.
        (machine.root / "proj" / "sub").rmdir()
    srv = machine.start()
    space = srv.request("GET", "/api/spaces/c10ned09")[1]
    if changed:
        time.sleep(1.5)
        assert not out.exists() and space["trusted"] is False, space
    else:
        got = read_record(out)
        assert got["cwd"] == str(machine.root / "proj" / "sub")
        assert space["trusted"] is True
