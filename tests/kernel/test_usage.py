"""``%spaces usage`` in a real kernel: a DataFrame with pandas, a table without, and refusals."""

from __future__ import annotations

import importlib.util

import pytest

from ..agents import fixtures as fx
from .conftest import Lab, until

SID = "7a55a0c1-1111-4222-8333-944445555777"
U = {"input_tokens": 1000, "output_tokens": 100, "cache_read_input_tokens": 5000}


def test_usage_as_dataframe_and_table(lab: Lab) -> None:
    folder = lab.root / "usageproj"
    folder.mkdir()
    cwd = str(folder)
    fx.write_lines(
        fx.claude_project(lab.claude_dir, cwd) / f"{SID}.jsonl",
        [
            fx.c_user(SID, "count the llamas", 1, cwd=cwd),
            fx.c_assistant(SID, "msg_1", fx.text("three"), 2, cwd=cwd, usage=U),
            fx.c_assistant(SID, "msg_2", fx.text("four"), 3, cwd=cwd, usage=U, model="mystery-9"),
        ],
    )
    _, k = lab.notebook("usageproj/u.ipynb")
    k.ok("%spaces new usageproj --link")

    def found() -> bool:
        return SID in k.ok("%spaces usage --by session --table").text

    until(found, timeout=40)
    got = k.ok("%spaces usage --by model,day --tz Europe/Paris --table")
    assert "claude-sonnet-4-5" in got.text and "mystery-9" in got.text
    assert "unknown (unpriced models)" in got.text and "estimate" in got.text
    assert "<table" in got.data["text/html"]

    if importlib.util.find_spec("pandas") is None:
        pytest.skip("pandas is not installed here: the DataFrame case is not run")
    k.ok("df = %spaces usage --by session --space")
    assert k.value("type(df).__name__") == "DataFrame"
    assert k.value("df.loc[0, 'session_id']") == SID
    assert k.value("int(df.loc[0, 'input'])") == 2000
    assert k.value("bool(df['cost_usd'].isna().all())")  # mystery-9 is unpriced
    assert k.value("int(df.loc[0, 'unpriced_tokens'])") == 6100
    # Without pandas (a kernel where it cannot be imported): the table.
    k.ok("import sys; sys.modules['pandas'] = None")
    k.ok("t = %spaces usage")
    assert k.value("type(t).__name__") == "UsageTable"
    k.ok("del sys.modules['pandas']")

    for line, words in (
        ("%spaces usage --by year", "unknown dimension(s) year"),
        ("%spaces usage --tz Nowhere/Land", "unknown time zone"),
        ("%spaces usage --agent cursor", "invalid choice"),
    ):
        got = k.run(line)
        assert got.status == "error" and len(got.error["traceback"]) == 1, got.error
        assert words in got.error["traceback"][0], got.error
