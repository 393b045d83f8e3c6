"""A property of trust, tried on generated workspace files: the processes that start after a
trust are exactly those of the plan the user was shown, byte for byte (argv, environment,
folder), and a file nobody trusted starts none. Strings include control characters, ``;``,
NUL, lone surrogates, leading dashes and tmux's own syntax; some files are not UTF-8."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import needs_tmux
from .hostile import Machine, cmdline, doc, machine_fixture, pane, plant, read_record, rec, sessions
from .test_server_restart import wait

pytestmark = needs_tmux

# Words that tmux, sh or a CLI would read as syntax if they were ever parsed.
TRICKY = ["done;", ";", "\\;", "{", "}", "%if", "#{pane_id}", "$HOME", "`id`", "-e", "--yolo"]
words = st.one_of(
    st.sampled_from(TRICKY),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12),
    st.text(st.characters(), max_size=6),  # may hold NUL or a lone surrogate: broken
    st.sampled_from(["a\x00b", "\ud800", "x\udcffy"]),
    st.builds(lambda w: "-" + w, st.text(max_size=6)),
)
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda n: n not in ("PATH", "HOME", "LD_PRELOAD", "PYTHONPATH", "PYTHONHOME")
)
panes = st.lists(
    st.tuples(st.lists(words, max_size=5), st.dictionaries(names, words, max_size=3)),
    min_size=1,
    max_size=3,
)


def valid(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[Machine]:
    yield from machine_fixture(tmp_path)


def test_only_the_plan_that_was_shown_runs(machine: Machine) -> None:
    srv = machine.start()
    counter = itertools.count()

    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(spec=panes)
    def check(spec: list[tuple[list[str], dict[str, str]]]) -> None:
        n = next(counter)
        folder = machine.root / f"p{n}"
        outs = [machine.root / f"out-{n}-{i}.json" for i in range(len(spec))]
        made = [
            pane(f"pane{i:04d}", rec(out, *args), env=env)
            for i, ((args, env), out) in enumerate(zip(spec, outs, strict=True))
        ]
        space_id = f"prop{n:04d}"
        data = json.dumps(doc(space_id, *made)).encode()
        plant(folder, data)
        expect_ok = all(valid(w) for args, env in spec for w in [*args, *env.values()])
        code, space = srv.request("POST", "/api/spaces", {"path": folder.name})
        if not expect_ok:
            assert code == 409 and space["message"], space
            assert not any(s.startswith(f"jsp_{space_id}") for s in sessions(machine.sock))
            return
        assert code == 201 and space["trusted"] is False, space
        assert not any(s.startswith(f"jsp_{space['id']}") for s in sessions(machine.sock))
        code, plan = srv.request("GET", f"/api/spaces/{space['id']}/plan")
        assert code == 200, plan
        shown = {p["pane_id"]: p for p in plan["plans"]}
        assert not any(out.exists() for out in outs), "showing the plan ran something"
        code, trusted = srv.request(
            "POST", f"/api/spaces/{space['id']}/trust", {"plan_sha256": plan["plan_sha256"]}
        )
        assert code == 200, trusted
        for p, out in zip(made, outs, strict=True):
            # A command restored from a file waits for Enter; then it runs its plan.
            wait(
                lambda p=p: (
                    srv.request("GET", f"/api/spaces/{space['id']}/panes/{p['id']}")[1]["state"]
                    == "running"
                )
            )
            srv.request("POST", f"/api/spaces/{space['id']}/panes/{p['id']}/input", {"text": "\r"})
            got = read_record(out)
            plan_of = shown[p["id"]]
            assert cmdline(got["pid"]) == plan_of["argv"] == p["argv"]
            assert {k: got["env"].get(k) for k in plan_of["env"]} == plan_of["env"]
            assert got["cwd"] == str(folder)

    check()


def test_a_file_that_is_not_utf8_starts_nothing(machine: Machine) -> None:
    out = machine.root / "ran.json"
    data = json.dumps(doc("notutf8", pane("pane0001", rec(out, "x")))).encode()
    plant(machine.root / "p", data.replace(b'"x"', b'"\xff\xfe"'))
    srv = machine.start()
    code, reply = srv.request("POST", "/api/spaces", {"path": "p"})
    assert code == 409 and "UTF-8" in reply["message"], reply
    assert not out.exists() and sessions(machine.sock) == []
