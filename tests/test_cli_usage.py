"""`jupyter spaces usage` as a user runs it: a subprocess, no server, the index synced first."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .agents.fixtures import c_assistant, c_user, claude_project, text, write_lines

pytestmark = pytest.mark.timeout(600)

A = "5b1c9d3e-1111-4a2b-8c3d-aaaaaaaaaaaa"
U = {"input_tokens": 1000, "output_tokens": 100, "cache_read_input_tokens": 5000}


def run(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / "cfg"),
        JUPYTER_DATA_DIR=str(home / "data"),
        CLAUDE_CONFIG_DIR=str(home / "claude"),
        CODEX_HOME=str(home / "codex"),
        GEMINI_CLI_HOME=str(home / "gemini"),
    )
    env.pop("TZ", None)
    return subprocess.run(
        [sys.executable, "-m", "jupyter_spaces.cli", "usage", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_usage_without_a_server(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (tmp_path / "cfg").mkdir()
    registry = tmp_path / "reg.json"
    registry.write_text(
        json.dumps({"version": 1, "spaces": {"proj1": {"dir": str(project), "name": "proj"}}})
    )
    (tmp_path / "cfg" / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "SpacesApp": {
                    "registry_path": str(registry),
                    "usage_price_overrides": {"house-model": {"input": 1.0}},
                }
            }
        )
    )
    cwd = str(project)
    write_lines(
        claude_project(tmp_path / "claude", cwd) / f"{A}.jsonl",
        [
            c_user(A, "count", 0, cwd=cwd),
            c_assistant(A, "m1", text("a"), 1, cwd=cwd, usage=U),
            c_assistant(A, "m2", text("b"), 2, cwd=cwd, usage=U, model="house-model"),
        ],
    )
    out = run(["--by", "session", "--json"], tmp_path)
    assert out.returncode == 0, out.stderr
    [row] = json.loads(out.stdout)["rows"]
    assert (row["session_id"], row["space_id"], row["title"]) == (A, "proj1", "count")
    assert row["tokens"]["input"] == 2000 and row["cost_usd"] is not None

    out = run(["--by", "model,day", "--csv", "--tz", "Asia/Tokyo", "--no-sync"], tmp_path)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert {(r["model"], r["day"]) for r in rows} == {
        ("claude-sonnet-4-5", "2026-03-02"),
        ("house-model", "2026-03-02"),
    }
    house = next(r for r in rows if r["model"] == "house-model")
    assert float(house["cost_usd"]) == pytest.approx(0.001) and house["input"] == "1000"

    out = run(["--by", "day"], tmp_path)
    assert out.returncode == 0 and "2026-03-02" in out.stdout and "estimate" in out.stdout

    for args, words in (
        (["--by", "year"], "unknown dimension(s) year"),
        (["--tz", "Nowhere/Land"], "unknown time zone"),
        (["--space", "nope"], "no space 'nope'"),
        (["--json", "--csv"], "not allowed with argument"),
    ):
        bad = run(args, tmp_path)
        assert bad.returncode == 2 and words in bad.stderr, (args, bad.stderr)
    missing = run(["--no-sync", "--index", str(tmp_path / "none.sqlite")], tmp_path)
    assert missing.returncode == 1 and "no session index" in missing.stderr
    assert not (tmp_path / "none.sqlite").exists()
