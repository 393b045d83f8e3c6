"""Agent sessions from a notebook: search, resume (and its refusals), export."""

from __future__ import annotations

import nbformat

from ..agents import fixtures as fx
from .conftest import Lab, until

SID = "5e55a0c1-1111-4222-8333-944445555666"


def test_search_resume_and_export_a_session(lab: Lab) -> None:
    folder = lab.root / "agentproj"
    folder.mkdir()
    cwd = str(folder)
    fx.write_lines(
        fx.claude_project(lab.claude_dir, cwd) / f"{SID}.jsonl",
        [
            fx.c_user(SID, "please find the zebrafish <script> bug", 1, cwd=cwd),
            fx.c_assistant(SID, "msg_1", fx.text("Found the zebrafish bug."), 2, cwd=cwd),
        ],
    )
    _, k = lab.notebook("agentproj/a.ipynb")

    def found() -> bool:
        return SID[:8] in k.ok("%spaces sessions zebrafish").text

    until(found, timeout=40)
    got = k.ok("%spaces sessions zebrafish --agent claude")
    html = got.data["text/html"]
    assert "<mark>" in html and "<script>" not in html, "snippets keep only <mark>"
    assert "%spaces resume" in got.text

    # No space holds the session's folder yet: one line that says what to do.
    got = k.run(f"%spaces resume {SID[:8]}")
    assert got.status == "error" and len(got.error["traceback"]) == 1
    assert "%spaces new agentproj" in got.error["traceback"][0]
    assert lab.api("GET", "/api/spaces")["spaces"] == []

    k.ok("%spaces new agentproj")
    got = k.run(f"%spaces resume claude:{SID}")
    if got.status == "ok":  # the claude CLI is installed here
        assert k.value("_.pane")["agent"] == "claude"
    else:
        assert len(got.error["traceback"]) == 1, got.error
        assert "cannot resume" in got.error["traceback"][0]

    # The panel's search box and Resume button do the same through the kernel's event loop.
    k.ok("panel = %spaces")
    k.ok("panel.w_query.value = 'zebrafish'")
    until(lambda: SID in str(k.value("[s['id'] for s in panel.model.sessions]")))
    k.ok("panel.w_results.children[0].children[0].click()")
    status = until(lambda: k.value("panel.model.status"))
    assert status.startswith(("resumed", "cannot resume")), status
    k.ok("panel.close()")

    out = k.ok(f"%spaces export {SID[:8]}")
    assert "agentproj/claude-session-5e55a0c1.ipynb" in out.text
    nb = nbformat.read(folder / "claude-session-5e55a0c1.ipynb", as_version=4)
    nbformat.validate(nb)
    again = k.run(f"%spaces export {SID[:8]}")
    assert again.status == "error" and "--force" in again.error["traceback"][0]
