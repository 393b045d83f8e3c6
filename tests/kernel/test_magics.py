"""``%spaces`` in real kernels started by a real server: discovery, panes that outlive the
kernel, cells sent to panes, the notebook link."""

from __future__ import annotations

import json

import nbformat

from .conftest import Lab, until


def test_the_kernel_finds_the_server_that_launched_it(lab: Lab) -> None:
    _, k = lab.notebook("disc/find.ipynb")
    got = k.ok(
        "from jupyter_spaces.kernel.discovery import find_server\n"
        "s = find_server(); print(s.url); print(s.source); print(s.pid)"
    )
    url, source, pid = got.stdout.strip().splitlines()
    assert url == lab.srv.url + "/"
    assert "parent process" in source and f"jpserver-{lab.srv.pid}.json" in source
    assert int(pid) == lab.srv.pid
    listing = k.ok("%spaces list")
    assert "text/html" in listing.data and listing.text, "a rich result, with a plain-text form"


def test_pane_from_a_kernel_outlives_a_kernel_restart(lab: Lab) -> None:
    (lab.root / "proj").mkdir()
    kernel_id, k = lab.notebook("proj/work.ipynb")
    k.ok("space = %spaces new . --name work")  # "." is the notebook's folder
    space = k.value("space.space")
    assert space["path"] == "proj" and space["name"] == "work"
    k.ok("pane = %spaces run work --title sh --env 'PS1=READY> ' -- bash --norc --noprofile -i")
    pane = k.value("pane.pane")
    assert pane["state"] == "running"
    # The sidebar learns of it at once from the server's announcement; the REST view agrees.
    assert pane["id"] in [p["id"] for p in lab.api("GET", f"/api/spaces/{space['id']}")["panes"]]

    k.ok("%spaces send sh echo before-$((40+2))")
    lab.restart(kernel_id, k)

    after = lab.api("GET", f"/api/spaces/{space['id']}/panes/{pane['id']}")
    assert after["state"] == "running" and after["pid"] == pane["pid"], "the same process"

    def tail() -> str:
        return k.ok("%spaces tail sh -n 10").text

    assert "before-42" in until(lambda: "before-42" in tail() and tail())
    k.ok("%spaces send sh echo after-$((50+5))")
    assert "after-55" in until(lambda: "after-55" in tail() and tail())


def test_a_cell_is_sent_to_a_pane_and_its_output_read_back(lab: Lab) -> None:
    (lab.root / "cells").mkdir()
    _, k = lab.notebook("cells/c.ipynb")
    k.ok("%spaces new cells")
    k.ok("%spaces run cells --title sh --env PS1=$ -- bash --norc --noprofile -i")
    sent = k.ok(
        "%%spaces send cells/sh\nfor i in 1 2 3; do echo line-$((i*11)); done\necho done-$((6*7))\n"
    )
    assert "sent 2 lines" in sent.text

    def tail() -> str:
        text = k.ok("%spaces tail cells/sh -n 8").text
        return text if "done-42" in text else ""

    screen = until(tail)
    for word in ("line-11", "line-22", "line-33", "done-42"):
        assert word in screen
    html = k.ok("%spaces tail sh --space cells").data["text/html"]
    assert "<pre" in html and "done-42" in html


def test_link_is_kept_in_the_notebook_metadata(lab: Lab) -> None:
    (lab.root / "linked").mkdir()
    kernel_id, k = lab.notebook("linked/l.ipynb")
    space = k.result("%spaces new linked", "space")
    note = k.ok(f"%spaces link {space['id']}").text
    assert "Revert" in note, "says what JupyterLab will ask"
    nb = nbformat.read(lab.root / "linked/l.ipynb", as_version=4)
    assert nb.metadata["jupyter_spaces"] == {"space": space["id"]}
    nbformat.validate(nb)

    lab.restart(kernel_id, k)  # a new kernel reads the link back from the notebook
    assert space["id"] in k.ok("%spaces link").text
    pane = k.result("%spaces run -- sh -c 'echo in-linked; sleep 600'", "pane")
    assert pane["space_id"] == space["id"], "commands default to the linked space"
    assert "in-linked" in until(lambda: k.ok(f"%spaces tail {pane['id']}").text)

    k.ok("%spaces link --clear")
    nb = nbformat.read(lab.root / "linked/l.ipynb", as_version=4)
    assert "jupyter_spaces" not in nb.metadata


def test_results_escape_what_they_show(lab: Lab) -> None:
    (lab.root / "esc").mkdir()
    _, k = lab.notebook("esc/e.ipynb")
    k.ok("%spaces new esc --name '<b>bold</b>'")
    html = k.ok("%spaces list esc").data["text/html"]
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    helped = k.ok("%spaces run --help")
    assert "%spaces run" in helped.text and helped.error is None


def test_open_shows_a_button_for_jupyterlab(lab: Lab) -> None:
    (lab.root / "op").mkdir()
    _, k = lab.notebook("op/o.ipynb")
    space = k.result("%spaces new op", "space")
    got = k.ok("%spaces open op")
    assert "data-commandlinker-command='jupyter-spaces:open'" in got.data["text/html"]
    assert json.dumps({"spaceId": space["id"]}).replace('"', "&quot;") in got.data["text/html"]
    assert "Spaces panel" in got.text
