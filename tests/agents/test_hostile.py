"""Hostile transcripts: whatever a record holds, the parsers and the index skip and count it, go
on with the rest of the file and the scan, and never read it again (issue 10).

Property tests: records in each CLI's documented shape (the fixture writers) are mutated at random
(a value anywhere replaced by one of another type, a huge number, a string with NUL or a lone
surrogate, deep nesting; keys deleted; the record swapped for non-object JSON or raw bytes that are
not JSON, not UTF-8 or nested past the recursion limit) and written between a valid header and a
valid last record. Every parser and ``SessionIndex.sync`` must finish without an exception or a
file-level error, the last record must be searchable, and a second scan must parse nothing.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_spaces.agents import FORMATS, SessionIndex
from jupyter_spaces.agents.base import MAX_LINE, LineReader

from . import fixtures as fx

SID = "3f0c9a52-7d1e-4b8a-9c55-1e2f3a4b5c6d"
WORD = "zyxsentinel"
LAST_TS = "2026-12-31T23:59:59.000Z"

# -- what a hostile record may hold --------------------------------------------------------------


def _nested(depth: int) -> Any:
    v: Any = "deep"
    for _ in range(depth):
        v = [v]
    return v


_weird_text = st.text(
    alphabet=st.sampled_from(
        ["a", "/", ".", "-", "\x00", "\n", "\ud800", "\udfff", "é", "😀", " "]
    ),
    max_size=20,
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([10**300, -1, 2**63, 2**64 + 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    _weird_text,
    st.sampled_from(
        [
            "",
            "x" * 100_000,
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+00:01",
            "not a time",
            "../../etc/passwd",
            "-rf",
            "<command-name>/x</command-name>",
            "## My request for Codex:",
        ]
    ),
)
hostile_values = st.one_of(
    _scalars,
    st.builds(_nested, st.just(400)),
    st.recursive(
        _scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(_weird_text, inner, max_size=3)
        ),
        max_leaves=6,
    ),
)

# Lines that are no JSON object at all: each must count as one malformed line.
RAW_BAD = [
    b"[" * 100_000 + b"]" * 100_000,  # past the recursion limit of json.loads
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b"\xff\xfe\x00garbage",  # not UTF-8
    b'{"type":"user","message":{"content":"\xc3\x28"}}',  # invalid UTF-8 inside a string
    b"\x00\x00\x00",
    b'{"type": "user"',  # cut short
    b"[1, 2, 3]",
    b'"just a string"',
    b"12345678901234567890123456789",
    b"null",
    b"1" * 5000,  # an integer past Python's digit limit
]


def _paths(v: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if len(prefix) > 6:  # not into a deep value that an earlier mutation put there
        return out
    if isinstance(v, dict):
        for k, x in v.items():
            out += _paths(x, (*prefix, k))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            out += _paths(x, (*prefix, i))
    return out


def _set(rec: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    parent = rec
    for k in path[:-1]:
        parent = parent[k]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return rec


@st.composite
def mutated(draw: st.DrawFn, base: list[dict[str, Any]]) -> tuple[bytes, bool]:
    """One hostile line: (bytes, whether it is certainly malformed)."""
    kind = draw(st.sampled_from(["mutate", "mutate", "mutate", "mutate2", "raw", "nondict"]))
    if kind == "raw":
        return draw(st.sampled_from(RAW_BAD)), True
    if kind == "nondict":
        v = draw(hostile_values)
        if isinstance(v, dict):
            v = [v]
        return json.dumps(v).encode(), True
    rec = json.loads(json.dumps(draw(st.sampled_from(base))))
    for _ in range(1 if kind == "mutate" else 3):
        paths = [p for p in _paths(rec) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        rec = _set(rec, path, draw(hostile_values), draw(st.booleans()))
    ascii_only = draw(st.booleans())
    # Without ASCII escapes, a lone surrogate becomes bytes that are not UTF-8 (also hostile).
    text = json.dumps(rec, ensure_ascii=ascii_only)
    return text.encode("utf-8", "surrogatepass"), False


# -- each CLI: a file of records around the hostile ones ---------------------------------------


def _claude(root: Path) -> tuple[Path, list[dict[str, Any]], dict[str, Any]]:
    base = [
        fx.c_user(SID, "hello there", 1),
        fx.c_assistant(SID, "msg_1", fx.text("answer"), 2),
        fx.c_assistant(SID, "msg_2", fx.tool_use("Read", {"file_path": "/a"}), 3),
        fx.c_user(SID, fx.tool_result("file body"), 4),
        {"type": "custom-title", "customTitle": "t", "sessionId": SID},
        {"type": "summary", "summary": "s", "leafUuid": "x"},
        {"type": "system", "subtype": "compact_boundary", "sessionId": SID, "cwd": "/a"},
    ]
    path = fx.claude_project(root, "/home/alice/app") / f"{SID}.jsonl"
    return path, base, fx.c_user(SID, WORD, 59)


def _codex(root: Path) -> tuple[Path, list[dict[str, Any]], dict[str, Any]]:
    ts = "2026-02-10T14:03:11.000Z"
    base = [
        fx.x_meta(SID, ts),
        fx.x_turn(ts),
        *fx.x_user(ts, "hello there"),
        fx.x_assistant(ts, "answer"),
        fx.x_tokens(ts, fx.usage(100, 50, 10), fx.usage(100, 50, 10)),
        fx.x_env(ts),
        fx.x(ts, "response_item", {"type": "function_call", "name": "sh", "arguments": "{}"}),
        fx.x(ts, "response_item", {"type": "function_call_output", "output": '{"output":1}'}),
        fx.x(ts, "compacted", {"message": "summary"}),
    ]
    path = fx.codex_path(root, SID)
    return path, base, fx.x_user(LAST_TS, WORD)[1]


def _gemini(root: Path) -> tuple[Path, list[dict[str, Any]], dict[str, Any]]:
    calls = [{"name": "ls", "args": {"p": "."}, "resultDisplay": "a b"}]
    base = [
        fx.g_meta(SID),
        fx.g_user("m1", "hello there"),
        fx.g_reply("m2", "answer", calls=calls),
        {"$set": {"summary": "s", "lastUpdated": "2026-05-04T08:13:00.000Z"}},
        {"$set": {"messages": [fx.g_user("m1", "again")]}},
        {"$rewindTo": "m2"},
        {"id": "m3", "type": "info", "content": "notice"},
    ]
    path = (
        fx.gemini_chats(root, "app", "/home/alice/app") / "session-2026-05-04T08-12-ab12cd34.jsonl"
    )
    return path, base, fx.g_user("sentinel-id", WORD, 30)


LAYOUTS: dict[str, Callable[[Path], tuple[Path, list[dict[str, Any]], dict[str, Any]]]] = {
    "claude": _claude,
    "codex": _codex,
    "gemini": _gemini,
}
HOSTILE = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _write(path: Path, lines: list[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as f:
        for b in lines:
            f.write(b + b"\n")


@pytest.mark.parametrize("agent", sorted(LAYOUTS))
@HOSTILE
@given(data=st.data())
def test_hostile_records_are_skipped_and_the_rest_indexed(agent: str, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / agent
        path, base, last = LAYOUTS[agent](root)
        lines = data.draw(st.lists(mutated(base), min_size=1, max_size=6), label="lines")
        split = data.draw(st.integers(0, len(lines)), label="split")
        header = json.dumps(base[0]).encode()
        first = [header] + [b for b, _ in lines[:split]]
        rest = [b for b, _ in lines[split:]] + [json.dumps(last).encode()]
        surely_bad = sum(bad for _, bad in lines)

        # The parser alone, whole file at once.
        _write(path, first + rest)
        res = FORMATS[agent].parse_file(str(path), None)
        assert res.state.offset == path.stat().st_size
        assert res.malformed >= surely_bad
        assert any(WORD in m.text for m in res.messages)
        path.unlink()

        # The index, in two appends (the parse state is stored and resumed in between).
        idx = SessionIndex(Path(tmp) / "index.sqlite", roots={agent: [root]})
        try:
            _write(path, first)
            s1 = idx.sync()
            _write(path, rest)
            fx.touch_later(path)
            s2 = idx.sync()
            assert s1.errors == s2.errors == 0
            assert s1.malformed_lines + s2.malformed_lines >= surely_bad
            hits = idx.search(WORD, subagents=True)
            assert len(hits) == 1, hits
            # The offset advanced past every line: nothing is parsed again.
            s3 = idx.sync()
            assert s3.files_parsed == 0 and s3.errors == 0
            assert idx.search(WORD, subagents=True)
            for h in idx.search(subagents=True):  # every listed session answers as JSON
                json.dumps(h.to_json())
        finally:
            idx.close()


@HOSTILE
@given(lines=st.lists(mutated(_codex(Path("/x"))[1]), min_size=1, max_size=6))
def test_hostile_codex_archive(lines: list[tuple[bytes, bool]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "codex"
        path = fx.codex_path(root, SID, archived=True, suffix=".jsonl.zst")
        path.parent.mkdir(parents=True)
        body = b"".join(b + b"\n" for b, _ in lines)
        head = json.dumps(fx.x_meta(SID, "2026-02-10T14:03:11.000Z")).encode() + b"\n"
        tail = json.dumps(fx.x_user(LAST_TS, WORD)[1]).encode()  # no final newline
        import zstandard

        path.write_bytes(zstandard.ZstdCompressor().compress(head + body + tail))
        res = FORMATS["codex"].parse_file(str(path), None)
        assert res.malformed >= sum(bad for _, bad in lines)
        assert any(WORD in m.text for m in res.messages)


@HOSTILE
@given(
    messages=st.lists(
        mutated([fx.g_user("m1", "hi"), fx.g_reply("m2", "answer")]), min_size=1, max_size=5
    ),
    meta=mutated([fx.g_meta(SID)]),
)
def test_hostile_gemini_json(messages: list[tuple[bytes, bool]], meta: tuple[bytes, bool]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "gemini"
        path = fx.gemini_chats(root, "app", "/home/alice/app") / "session-2026-05-04T08-12-a.json"
        try:
            doc = json.loads(meta[0])
        except (ValueError, RecursionError):
            doc = {}
        if not isinstance(doc, dict):
            doc = {"sessionId": doc}
        msgs = []
        for b, _ in messages:
            try:
                msgs.append(json.loads(b))
            except (ValueError, RecursionError):
                msgs.append(b.decode("latin-1"))
        doc["messages"] = [*msgs, fx.g_user("sentinel-id", WORD)]
        path.write_text(json.dumps(doc))
        idx = SessionIndex(Path(tmp) / "index.sqlite", roots={"gemini": [root]})
        try:
            s = idx.sync()
            assert s.errors == 0
            assert idx.search(WORD, subagents=True)
        finally:
            idx.close()


def test_cut_surrogates_become_replacement_characters(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    """Node writes a string cut inside an emoji as a lone ``\\ud83d``: kept, not dropped."""
    path = fx.claude_project(roots["claude"], "/a") / f"{SID}.jsonl"
    fx.write_lines(path, [fx.c_user(SID, "cut here \ud83d and here", 1, cwd="/a")])
    s = index.sync()
    assert s.errors == 0 and s.malformed_lines == 0
    [msg] = index.messages("claude", SID)
    assert msg.text == "cut here \ufffd and here"


def test_record_without_cwd_and_timestamp_is_indexed(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    """The record that once stopped every scan at its file: a prompt without cwd and timestamp,
    here under a session id of its own."""
    other = "aaaaaaaa-0000-4000-8000-000000000000"
    rec = {"type": "user", "sessionId": other, "message": {"role": "user", "content": "lonely"}}
    path = fx.claude_project(roots["claude"], "/a") / f"{SID}.jsonl"
    fx.write_lines(
        path, [fx.c_user(SID, "first", 1, cwd="/a"), rec, fx.c_user(SID, WORD, 2, cwd="/a")]
    )
    s = index.sync()
    assert s.errors == 0
    assert index.search("lonely") and index.search(WORD)
    assert index.sync().files_parsed == 0


def test_unparsable_whole_json_is_counted_once_settled(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    path = fx.gemini_chats(roots["gemini"], "app", "/a") / "session-2026-05-04T08-12-a.json"
    path.write_text('{"sessionId": "x", "messages": [')  # never finished
    assert index.sync().malformed_lines == 0  # just written: maybe half-written, retried later
    fx.touch_later(path, -60)  # long unchanged: broken, not being written
    s = index.sync()
    assert s.malformed_lines == 1 and s.errors == 0
    assert index.sync().files_parsed == 0 and index.sync().malformed_lines == 0


def test_line_reader_offsets_around_an_oversized_line() -> None:
    import io

    data = b'{"a":1}\n' + b"x" * (MAX_LINE + 10) + b'\n{"b":2}\n' + b"y" * (MAX_LINE + 1)
    reader = LineReader(io.BytesIO(data), 0)
    assert list(reader) == [b'{"a":1}', b'{"b":2}']
    assert reader.oversized == 1
    assert reader.offset == data.index(b"yyy")  # the unfinished last line is left for later
    final = LineReader(io.BytesIO(data), 0, final=True)
    assert list(final) == [b'{"a":1}', b'{"b":2}']
    assert final.oversized == 2 and final.offset == len(data)
