"""Agent sessions as notebooks: ``session_notebook`` and ``jupyter spaces export``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import nbformat
import pytest

from jupyter_spaces.agents import SessionIndex
from jupyter_spaces.agents.model import TOOL_TEXT_CAP
from jupyter_spaces.export import CALL_MARK, notebook_filename, session_notebook

from .export_fixtures import CLAUDE_ID, CWD, EXPECTED, IDS, RESULT, WRITERS, write_claude

AGENTS = list(WRITERS)
REPO = Path(__file__).resolve().parents[1]
WHEN = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def homes(tmp_path: Path) -> dict[str, Path]:
    """Each CLI's data folder, as CLAUDE_CONFIG_DIR, CODEX_HOME and GEMINI_CLI_HOME name them."""
    h = {a: tmp_path / "homes" / a for a in AGENTS}
    for agent, p in h.items():
        p.mkdir(parents=True)
        WRITERS[agent](p)
    return h


@pytest.fixture
def index(tmp_path: Path, homes: dict[str, Path]) -> Iterator[SessionIndex]:
    roots = {
        "claude": [homes["claude"]],
        "codex": [homes["codex"]],
        "gemini": [homes["gemini"] / ".gemini"],
    }
    idx = SessionIndex(tmp_path / "index.sqlite", roots=roots)
    idx.sync()
    yield idx
    idx.close()


def export_from(index: SessionIndex, agent: str, sid: str) -> tuple[dict[str, Any], Any]:
    session = index.get(agent, sid)
    assert session is not None
    messages = [m.to_dict() for m in index.messages(agent, sid, limit=10_000)]
    data = session.to_json()
    return data, session_notebook(data, messages, exported_at=WHEN)


def cell_text(cell: Any) -> str:
    outputs = "".join(o.get("text", "") for o in cell.get("outputs", []))
    return cell.source + outputs


def check_cells(nb: Any, agent: str) -> None:
    nbformat.validate(nb)
    assert (
        nb.cells[0].cell_type == "markdown" and nb.cells[0].metadata.jupyter_spaces.kind == "title"
    )
    cells = nb.cells[1:]
    got = [(c.metadata.jupyter_spaces.kind, c.cell_type) for c in cells]
    assert got == [(k, t) for k, t, _ in EXPECTED[agent]]
    for cell, (kind, _, words) in zip(cells, EXPECTED[agent], strict=True):
        assert words in cell_text(cell), (kind, cell.source)
        if cell.cell_type == "code":
            assert cell.execution_count is None
            assert cell.source.startswith(CALL_MARK)
            assert [o.output_type for o in cell.outputs] == ["stream"]
            assert cell.outputs[0].text == RESULT + "\n"


# -- the function -------------------------------------------------------------------------------


@pytest.mark.parametrize("agent", AGENTS)
def test_each_agent_becomes_a_notebook(index: SessionIndex, agent: str) -> None:
    data, nb = export_from(index, agent, IDS[agent])
    check_cells(nb, agent)

    meta = nb.metadata.jupyter_spaces
    assert meta.agent == agent and meta.session_id == IDS[agent] and meta.cwd == CWD
    assert meta.models == data["models"] and meta.models
    assert meta.tokens == data["tokens"] and meta.tokens["total"] > 0
    assert meta.started == data["started"] and meta.last_activity == data["last_activity"]
    assert meta.title == data["title"] and nb.metadata.title == data["title"]
    assert meta.exported_at == "2026-06-01T12:00:00+00:00"
    assert "kernelspec" not in nb.metadata

    title = nb.cells[0].source
    assert IDS[agent] in title and CWD in title and data["models"][0] in title
    assert f"{data['tokens']['total']:,}" in title
    assert "--resume" in title or "resume" in title


def test_same_session_same_notebook(index: SessionIndex) -> None:
    _, a = export_from(index, "claude", CLAUDE_ID)
    _, b = export_from(index, "claude", CLAUDE_ID)
    assert nbformat.writes(a) == nbformat.writes(b)
    assert len({c.id for c in a.cells}) == len(a.cells)


def msg(kind: str, text: str, time: str | None = "2026-03-02T09:00:00Z") -> dict[str, Any]:
    role = {"tool_call": "assistant", "tool_result": "tool"}.get(kind, kind)
    return {"role": role, "kind": kind, "text": text, "time": time}


def test_results_pair_with_calls_in_order() -> None:
    messages = [
        msg("user", "look around"),
        msg("tool_call", "Bash: command=ls"),
        msg("tool_call", "Bash: command=pwd"),
        msg("tool_result", "a.txt"),
        msg("tool_result", "/home/alice"),
        msg("tool_result", "stray"),  # no open call: a cell of its own
        msg("tool_call", "Bash: command=sleep 99"),  # interrupted, no result
        msg("user", "stop"),
        msg("tool_result", "late"),  # the interrupted call is closed by the new prompt
        msg("assistant", "   "),  # nothing to show
    ]
    nb = session_notebook({"agent": "claude", "id": "x"}, messages)
    nbformat.validate(nb)
    shown = [(c.cell_type, c.source, [o.text for o in c.get("outputs", [])]) for c in nb.cells[1:]]
    assert shown == [
        ("markdown", "**User** · 2026-03-02 09:00:00 UTC\n\n> look around", []),
        ("code", "→ Bash: command=ls", ["a.txt\n"]),
        ("code", "→ Bash: command=pwd", ["/home/alice\n"]),
        ("code", "→ (tool call not recorded)", ["stray\n"]),
        ("code", "→ Bash: command=sleep 99", []),
        ("markdown", "**User** · 2026-03-02 09:00:00 UTC\n\n> stop", []),
        ("code", "→ (tool call not recorded)", ["late\n"]),
    ]


def test_code_cells_cannot_run_what_the_agent_ran() -> None:
    """Tool text that happens to be valid Python (``name: x=expr`` is an annotated assignment)
    must not execute if someone runs the cell in a Python kernel: the whole cell fails to
    compile, before IPython's transforms and after them."""
    risky = "Bash: command=__import__('os').system('touch /tmp/pwned')\n!rm -rf ~\n%run evil.py"
    nb = session_notebook({"agent": "claude", "id": "x"}, [msg("tool_call", risky)])
    source = nb.cells[1].source
    with pytest.raises(SyntaxError):
        compile(source, "<cell>", "exec")
    ipython = pytest.importorskip("IPython.core.inputtransformer2")
    with pytest.raises(SyntaxError):
        compile(ipython.TransformerManager().transform_cell(source), "<cell>", "exec")


def test_text_is_shown_not_interpreted() -> None:
    session = {
        "agent": "codex",
        "id": "abc",
        "title": "<img src=x onerror=alert(1)> *bold* | pipe",
        "cwd": "/srv/we`ird|dir",
        "started": 1767225600.0,  # Session.to_dict() times (POSIX seconds) work too
        "tokens": {"input": 1234567, "total": 1234567},
    }
    long = "x" * TOOL_TEXT_CAP
    messages = [
        msg("tool_call", "shell: command=cat big"),
        msg("tool_result", long),
        msg("info", "bell\x07 and nul\x00 gone, \x1b[31mcolour\x1b[0m kept"),
        msg("harness", "<command-name>/x</command-name> ``` fence"),
        msg("mystery", "future kind", time=None),
    ]
    nb = session_notebook(session, messages)
    nbformat.validate(nb)
    title = nb.cells[0].source
    assert title.startswith("# \\<img src=x onerror=alert(1)\\> \\*bold\\* \\| pipe\n")
    assert "``/srv/we`ird\\|dir``" in title and "1,234,567" in title
    assert "2026-01-01 00:00:00 UTC" in title
    assert nb.metadata.jupyter_spaces.started == "2026-01-01T00:00:00.000+00:00"
    assert nb.cells[1].outputs[0].text.endswith("characters in the session index)\n")
    assert nb.cells[2].source.endswith("> bell and nul gone, \x1b[31mcolour\x1b[0m kept")
    assert "````\n<command-name>/x</command-name> ``` fence\n````" in nb.cells[3].source
    assert nb.cells[4].source == "*mystery*\n\n> future kind"


def test_default_file_name() -> None:
    assert notebook_filename("codex", CLAUDE_ID) == "codex-c1a0de00.ipynb"
    assert notebook_filename("claude", "../../x") == "claude-x.ipynb"


# -- the command --------------------------------------------------------------------------------


def run(
    args: list[str], tmp_path: Path, homes: dict[str, Path], cwd: Path
) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        HOME=str(tmp_path / "home"),  # so no real ~/.claude, ~/.codex or ~/.gemini is scanned
        XDG_CONFIG_HOME=str(tmp_path / "home" / ".config"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
        CLAUDE_CONFIG_DIR=str(homes["claude"]),
        CODEX_HOME=str(homes["codex"]),
        GEMINI_CLI_HOME=str(homes["gemini"]),
        # The command runs in another folder; the package may not be installed.
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    return subprocess.run(
        [sys.executable, "-m", "jupyter_spaces.cli", "export", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def out(tmp_path: Path) -> Path:
    d = tmp_path / "out"
    d.mkdir()
    return d


@pytest.mark.parametrize(
    ("agent", "ref"),
    [
        ("claude", CLAUDE_ID),  # the whole id
        ("codex", IDS["codex"][:8]),  # a unique prefix
        ("gemini", f"gemini:{IDS['gemini']}"),  # agent:id
    ],
)
def test_cli_writes_the_notebook(
    tmp_path: Path, homes: dict[str, Path], out: Path, agent: str, ref: str
) -> None:
    index = tmp_path / "idx" / "sessions.sqlite"
    r = run([ref, "--index", str(index)], tmp_path, homes, out)
    assert r.returncode == 0, r.stderr
    name = notebook_filename(agent, IDS[agent])
    assert r.stdout.strip() == name
    assert sorted(os.listdir(out)) == [name]  # no temporary file left
    nb = nbformat.read(out / name, as_version=4)
    check_cells(nb, agent)
    meta = nb.metadata.jupyter_spaces
    assert meta.agent == agent and meta.session_id == IDS[agent] and meta.cwd == CWD


def test_cli_options(tmp_path: Path, homes: dict[str, Path], out: Path) -> None:
    index = str(tmp_path / "sessions.sqlite")
    target = out / "deploy.ipynb"
    r = run([CLAUDE_ID[:6], "-o", str(target), "--index", index, "--json"], tmp_path, homes, out)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["path"] == str(target) and info["agent"] == "claude" and info["messages"] == 6
    first = target.read_text()

    # --no-sync reads the index as it is; --force replaces; a folder takes the default name.
    r = run([CLAUDE_ID, "-o", str(target), "--index", index, "--no-sync", "--force"], tmp_path,
            homes, out)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert target.read_text().count('"cell_type"') == first.count('"cell_type"')
    r = run([CLAUDE_ID, "-o", str(out), "--index", index, "--agent", "claude"], tmp_path, homes,
            tmp_path)  # fmt: skip
    assert r.returncode == 0 and (out / "claude-c1a0de00.ipynb").is_file(), r.stderr

    r = run(["codex:" + IDS["codex"], "-o", "-", "--index", index], tmp_path, homes, out)
    assert r.returncode == 0, r.stderr
    nbformat.validate(nbformat.reads(r.stdout, as_version=4))


BAD_CASES: list[tuple[list[str], int, str]] = [
    (["deadbeef-0000"], 1, "no agent session with id or id prefix 'deadbeef-0000'"),
    (["c1a"], 1, "at least 4 characters"),
    (["codex:" + CLAUDE_ID], 1, "no Codex CLI session"),
    (["c1a0de00"], 1, "matches 2 sessions: claude:c1a0de00-"),
    (["claude:" + CLAUDE_ID, "--agent", "codex"], 2, "--agent says codex"),
    ([CLAUDE_ID, "--agent", "aider"], 2, "invalid choice: 'aider'"),
    ([CLAUDE_ID, "--bogus"], 2, "unrecognized arguments: --bogus"),
    ([], 2, "the following arguments are required: SESSION"),
    ([CLAUDE_ID, "-o"], 2, "expected one argument"),
    ([CLAUDE_ID, "-o", "missing/x.ipynb"], 1, "folder missing does not exist"),
    ([CLAUDE_ID, "-o", "taken.ipynb"], 1, "taken.ipynb already exists; pass --force"),
    ([CLAUDE_ID, "--no-sync", "--index", "nowhere.sqlite"], 1, "no session index at"),
    ([CLAUDE_ID, "--index", "not-an-index.sqlite"], 1, "cannot open the session index"),
]


@pytest.mark.parametrize(("args", "status", "words"), BAD_CASES)
def test_bad_input_says_why_and_writes_nothing(
    tmp_path: Path, homes: dict[str, Path], out: Path, args: list[str], status: int, words: str
) -> None:
    write_claude(homes["claude"], sid=CLAUDE_ID[:-1] + "2", cwd="/srv/other")  # shares 8 chars
    (out / "taken.ipynb").write_text("mine")
    (out / "not-an-index.sqlite").write_text("not SQLite " * 100)
    before = {p: p.read_bytes() for p in out.iterdir()}
    if "--index" not in args:
        args = [*args, "--index", str(tmp_path / "sessions.sqlite")]
    r = run(args, tmp_path, homes, out)
    assert r.returncode == status, r
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("jupyter spaces export: ") and words in lines[0], lines[0]
    assert {p: p.read_bytes() for p in out.iterdir()} == before


def test_spaces_lists_export(tmp_path: Path, homes: dict[str, Path]) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "jupyter_spaces.cli", "export", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert r.returncode == 0 and "AGENT:ID" in r.stdout and "--force" in r.stdout


# -- JupyterLab reads it ------------------------------------------------------------------------


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    # A plain jupyter-server: what is checked here is that its contents API (which JupyterLab
    # loads notebooks through) takes the file as a valid notebook.
    return {"ServerApp": {"jpserver_extensions": {"jupyter_spaces": False}}}


async def test_jupyter_server_opens_the_export(
    index: SessionIndex, jp_root_dir: Path, jp_fetch: Callable[..., Awaitable[Any]]
) -> None:
    for agent, sid in IDS.items():
        _, nb = export_from(index, agent, sid)
        nbformat.write(nb, jp_root_dir / f"{agent}.ipynb")
        r = await jp_fetch("api", "contents", f"{agent}.ipynb", method="GET")
        model = json.loads(r.body)
        assert model["type"] == "notebook" and model["format"] == "json"
        assert not model.get("message"), model.get("message")  # no validation complaint
        assert model["content"]["metadata"]["jupyter_spaces"]["session_id"] == sid
