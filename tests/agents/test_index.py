from __future__ import annotations

import io
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from jupyter_spaces.agents import SearchQueryError, SessionIndex, fts_query
from jupyter_spaces.agents import base as agents_base
from jupyter_spaces.agents.base import LineReader
from jupyter_spaces.agents.claude import FORMAT as CLAUDE

from .fixtures import (
    append,
    c_assistant,
    c_user,
    claude_project,
    codex_path,
    g_meta,
    g_user,
    gemini_chats,
    line,
    text,
    write_lines,
    x_meta,
    x_turn,
    x_user,
)

A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "bbbbbbbb-0000-4000-8000-000000000002"
XT = "019c4a2e-1b7f-7c11-9a3e-4d5e6f708192"
GID = "6d1f2e3a-4b5c-4d6e-8f70-8192a3b4c5d6"


def claude_file(roots: dict[str, Path], sid: str, cwd: str = "/home/alice/app") -> Path:
    return claude_project(roots["claude"], cwd) / f"{sid}.jsonl"


def corpus(roots: dict[str, Path]) -> dict[str, Path]:
    """One session per CLI with distinct words, plus a second Claude session elsewhere."""
    a = write_lines(
        claude_file(roots, A),
        [
            c_user(A, "Add a --dry-run flag to the deploy script", 0),
            c_assistant(A, "m1", text("The deploy script now has a dry-run mode."), 1),
        ],
    )
    b = write_lines(
        claude_file(roots, B, "/srv/other"),
        [
            c_user(
                B,
                "Why is the parser slow on huge files?",
                0,
                cwd="/srv/other",
                timestamp="2026-04-01T10:00:00.000Z",
            ),
        ],
    )
    x = write_lines(
        codex_path(roots["codex"], XT),
        [
            x_meta(XT, "2026-02-10T14:03:11.470Z", "/home/alice/app/api"),
            x_turn("2026-02-10T14:03:12.000Z", "/home/alice/app/api"),
            *x_user("2026-02-10T14:03:15.003Z", "Rotate the deploy credentials"),
        ],
    )
    chats = gemini_chats(roots["gemini"], "my-app", "/home/alice/app")
    g = write_lines(
        chats / "session-2026-05-04T08-12-6d1f2e3a.jsonl",
        [g_meta(GID), g_user("u1", "Summarise the inode handling", 1)],
    )
    return {"a": a, "b": b, "x": x, "g": g}


def test_rescan_with_nothing_changed_does_not_parse(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    files = corpus(roots)
    first = index.sync()
    assert (first.files_seen, first.files_parsed) == (4, 4)
    assert first.bytes_read == sum(p.stat().st_size for p in files.values())
    again = index.sync()
    assert (again.files_seen, again.files_parsed, again.bytes_read) == (4, 0, 0)
    assert again.sessions_updated == 0


def test_append_parses_only_the_new_bytes(index: SessionIndex, roots: dict[str, Path]) -> None:
    f = corpus(roots)
    index.sync()
    added = append(f["a"], line(c_assistant(A, "m2", text("Shipped the kumquat release."), 2)))
    stats = index.sync()
    assert (stats.files_parsed, stats.bytes_read) == (1, added)
    assert [h.session.id for h in index.search("kumquat")] == [A]
    s = index.get("claude", A)
    assert s is not None and s.message_count == 3


def test_partial_last_line_waits_then_completes(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    f = corpus(roots)
    index.sync()
    rest = line(c_assistant(A, "m2", text("halfway zanzibar"), 2))
    append(f["a"], rest[:25])
    stats = index.sync()
    assert stats.files_parsed == 1 and stats.bytes_read == 0 and stats.malformed_lines == 0
    assert index.search("zanzibar") == []
    append(f["a"], rest[25:])
    stats = index.sync()
    assert stats.bytes_read == len(rest)
    assert [h.session.id for h in index.search("zanzibar")] == [A]


def test_malformed_lines_are_counted_in_stats(index: SessionIndex, roots: dict[str, Path]) -> None:
    f = corpus(roots)
    append(f["a"], "{oops\n" + line(c_user(A, "after the bad line", 5)))
    stats = index.sync()
    assert stats.malformed_lines == 1
    assert [h.session.id for h in index.search("after the bad line")] == [A]


def test_shrunk_or_replaced_file_is_reread_from_zero(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    f = corpus(roots)
    index.sync()
    # Shrink (same inode): truncated and rewritten with other content.
    with open(f["a"], "w") as fh:
        fh.write(line(c_user(A, "rewritten walrus", 0)))
    stats = index.sync()
    assert stats.bytes_read == f["a"].stat().st_size
    assert index.search("deploy script", agent="claude") == []
    assert [m.text for m in index.messages("claude", A)] == ["rewritten walrus"]
    # Atomic replace (new inode), larger than before.
    tmp = f["a"].with_suffix(".tmp")
    write_lines(
        tmp, [c_user(A, "replaced narwhal " + "x" * 500, 0), c_user(A, "second narwhal", 1)]
    )
    os.replace(tmp, f["a"])
    stats = index.sync()
    assert stats.bytes_read == f["a"].stat().st_size
    assert index.search("walrus") == []
    assert [h.session.id for h in index.search("narwhal")] == [A]
    assert len(index.messages("claude", A)) == 2


def test_same_inode_rewrite_that_grew_is_detected(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    f = corpus(roots)
    index.sync()
    old = f["a"].stat().st_size
    with open(f["a"], "r+") as fh:  # rewritten in place, longer, no newline at the old offset
        fh.write(line(c_user(A, "y" * (old + 10), 0)))
    stats = index.sync()
    assert stats.bytes_read == f["a"].stat().st_size
    assert index.search("deploy script", agent="claude") == []


def test_vanished_sessions_stay_listed_and_searchable(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    f = corpus(roots)
    index.sync()
    f["b"].unlink()
    stats = index.sync()
    assert stats.files_gone == 1
    s = index.get("claude", B)
    assert s is not None and s.gone and s.first_prompt == "Why is the parser slow on huge files?"
    hits = index.search("parser")
    assert [(h.session.id, h.session.gone) for h in hits] == [(B, True)]
    assert index.search("parser", gone=False) == []
    assert len(index.search()) == 4
    assert index.sync().files_gone == 0  # not counted twice
    # The file comes back (e.g. restored): no longer gone.
    write_lines(f["b"], [c_user(B, "back again", 0, cwd="/srv/other")])
    index.sync()
    s = index.get("claude", B)
    assert s is not None and not s.gone


def test_search_snippets_and_filters(index: SessionIndex, roots: dict[str, Path]) -> None:
    corpus(roots)
    index.sync()
    hits = index.search("deploy")
    assert {h.session.agent for h in hits} == {"claude", "codex"}
    top = next(h for h in hits if h.session.id == A)
    assert top.snippet is not None and "<mark>deploy</mark>" in top.snippet
    assert top.matches == 2
    assert [h.session.id for h in index.search("deploy", agent="codex")] == [XT]
    assert [h.session.id for h in index.search("deploy", cwd="/home/alice/app")] == [A]
    assert [h.session.id for h in index.search(since="2026-03-15T00:00:00Z")] == [GID, B]
    assert [h.session.id for h in index.search(until="2026-03-01T00:00:00Z")] == [XT]
    assert [h.session.id for h in index.search("deploy", order="recent")] == [A, XT]
    assert [h.session.id for h in index.search(limit=2, offset=1)] == [B, A]
    assert {h.session.id for h in index.search("dep*")} == {A, XT}
    assert [h.session.id for h in index.search('"dry-run flag"')] == [A]
    assert index.search("deploy inode") == []  # terms are ANDed
    # Results are safe to put into HTML: message text is escaped, only <mark> is markup.
    write_lines(claude_file(roots, B), [c_user(B, "<script>alert(1)</script> tapir", 0)])
    index.sync()
    snip = index.search("tapir")[0].snippet
    assert snip is not None and "<script>" not in snip and "&lt;script&gt;" in snip


def test_snippet_is_the_latest_match_with_and_without_prefix(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    # Plain terms look the chosen messages up by rowid; prefix terms take one pass over the hits.
    write_lines(
        claude_file(roots, A),
        [
            c_user(A, "walrus first", 0),
            c_user(A, "unrelated", 1),
            c_user(A, "walrus latest", 2),
        ],
    )
    write_lines(claude_file(roots, B), [c_user(B, "only walrus here", 0, cwd="/srv/other")])
    index.sync()
    for q, raw in (("walrus", False), ("walr*", False), ("walr* OR nothing", True)):
        snippets = {h.session.id: (h.snippet, h.matches) for h in index.search(q, raw=raw)}
        assert snippets[A][1] == 2 and snippets[B][1] == 1, q
        assert snippets[A][0] is not None and "latest" in snippets[A][0], q
        assert snippets[B][0] is not None and "<mark>walrus</mark> here" in snippets[B][0], q


@pytest.mark.parametrize(
    "q",
    [
        '"',
        "*",
        "NEAR(",
        "-",
        "",
        "   ",
        "AND",
        "OR OR",
        "(",
        ")",
        "NOT deploy",
        "deploy -script",
        "col:deploy",
        "^deploy",
        '"deploy',
        "deploy*)",
        "a'b",
        "\x00",
        "dep\x00loy",
        "NEAR(deploy script, 2)",
        "🙂",
        "x" * 5000,
    ],
)
def test_hostile_queries_never_raise(index: SessionIndex, roots: dict[str, Path], q: str) -> None:
    corpus(roots)
    index.sync()
    hits = index.search(q)
    assert isinstance(hits, list)


def test_hostile_queries_match_as_plain_words(index: SessionIndex, roots: dict[str, Path]) -> None:
    corpus(roots)
    index.sync()
    assert len(index.search("*")) == 4  # nothing searchable: the plain list
    assert {h.session.id for h in index.search("NOT deploy")} == set()  # "not" is a word here
    assert {h.session.id for h in index.search("(deploy) deploy- *deploy")} == {A, XT}
    assert index.search("NEAR(deploy") == []  # the phrase "near deploy", not an operator
    assert fts_query('say "hi there" NEAR( x* -') == '"say" "hi there" "NEAR(" "x"*'


def test_raw_fts_syntax_errors_have_a_clear_type(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    corpus(roots)
    index.sync()
    assert [h.session.id for h in index.search("deploy NOT credentials", raw=True)] == [A]
    with pytest.raises(SearchQueryError, match="bad full-text query"):
        index.search('"unterminated', raw=True)
    with pytest.raises(SearchQueryError):
        index.search("NEAR(", raw=True)


def test_sessions_under_a_folder(index: SessionIndex, roots: dict[str, Path]) -> None:
    corpus(roots)
    write_lines(
        claude_file(roots, "cccccccc", "/home/alice/application"),
        [
            c_user(
                "cccccccc", "sibling folder with a common prefix", 0, cwd="/home/alice/application"
            )
        ],
    )
    index.sync()
    under = {(s.agent, s.id) for s in index.sessions_under("/home/alice/app/")}
    assert under == {("claude", A), ("codex", XT), ("gemini", GID)}
    assert {s.id for s in index.sessions_under("/home/alice/app", agent="codex")} == {XT}
    assert len(index.sessions_under("/")) == 5
    found = {(h.session.agent, h.session.id) for h in index.search(under="/home/alice/app")}
    assert found == under
    assert [h.session.id for h in index.search("sibling", under="/home/alice/app")] == []
    assert [h.session.id for h in index.search("sibling", under="/home/alice")] == ["cccccccc"]


def test_messages_are_paged_in_order(index: SessionIndex, roots: dict[str, Path]) -> None:
    write_lines(claude_file(roots, A), [c_user(A, f"prompt {i}", i) for i in range(25)])
    index.sync()
    first = index.messages("claude", A, limit=10)
    rest = index.messages("claude", A, limit=100, offset=10)
    assert [m.text for m in first + rest] == [f"prompt {i}" for i in range(25)]
    assert index.messages("claude", "nope") == []


def test_sync_file_for_a_watcher(index: SessionIndex, roots: dict[str, Path]) -> None:
    f = corpus(roots)
    index.sync()
    added = append(f["g"], line(g_user("u2", "ocelot question", 2)))
    stats = index.sync_file(f["g"])
    assert (stats.files_parsed, stats.bytes_read) == (1, added)
    assert [h.session.id for h in index.search("ocelot")] == [GID]
    assert index.sync_file(f["g"]).files_parsed == 0  # nothing new
    new = write_lines(claude_file(roots, "dddddddd"), [c_user("dddddddd", "brand new", 0)])
    assert index.sync_file(new).files_parsed == 1
    f["x"].unlink()
    assert index.sync_file(f["x"]).files_gone == 1
    s = index.get("codex", XT)
    assert s is not None and s.gone
    outside = write_lines(roots["claude"].parent / "elsewhere.jsonl", [c_user(A, "x", 0)])
    assert index.sync_file(outside).files_seen == 0


def test_index_survives_reopen_and_reads_from_threads(
    tmp_path: Path, roots: dict[str, Path]
) -> None:
    f = corpus(roots)
    path = tmp_path / "idx.sqlite"
    r = {a: [p] for a, p in roots.items()}
    idx = SessionIndex(path, roots=r)
    idx.sync()
    idx.close()
    idx = SessionIndex(path, roots=r)
    assert idx.sync().files_parsed == 0  # state survived
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(30):
                assert idx.search("deploy")
                idx.get("claude", A)
        except BaseException as e:  # surfaced in the main thread
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(20):
        append(f["a"], line(c_user(A, f"more words {i}", 10 + i)))
        idx.sync()
    for t in threads:
        t.join()
    assert errors == []
    s = idx.get("claude", A)
    assert s is not None and s.message_count == 22
    idx.close()
    with pytest.raises(RuntimeError):
        idx.search("deploy")
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_parser_error_is_contained(
    index: SessionIndex, roots: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus(roots)

    def boom(path: str, state: object) -> None:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(CLAUDE, "parse_file", boom)
    stats = index.sync()
    assert stats.errors == 2 and stats.files_parsed == 2  # codex and gemini still indexed
    assert index.get("codex", XT) is not None


def test_line_reader_joins_lines_across_chunks_and_drops_oversized_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(agents_base, "CHUNK", 7)
    monkeypatch.setattr(agents_base, "MAX_LINE", 30)
    data = b"short\n" + b"a" * 25 + b"\n" + b"b" * 100 + b"\nend\npartial"
    r = LineReader(io.BytesIO(data))
    assert list(r) == [b"short", b"a" * 25, b"end"]
    assert r.oversized == 1
    assert r.offset == len(data) - len(b"partial")
    r = LineReader(io.BytesIO(data), final=True)
    assert list(r)[-1] == b"partial" and r.offset == len(data)


def test_a_big_file_is_read_in_bounded_steps(
    index: SessionIndex, roots: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [c_user(A, f"prompt number {i}", i) for i in range(40)]
    lines += [c_assistant(A, f"m{i}", text(f"answer {i}"), 40 + i) for i in range(40)]
    p = write_lines(claude_file(roots, A), lines)
    one = CLAUDE.parse_file(str(p), None, budget=300)
    assert not one.complete and 300 <= one.bytes_read < 300 + len(line(lines[0])) + 1
    monkeypatch.setattr("jupyter_spaces.agents.index.PARSE_STEP", 500)
    stats = index.sync()
    assert stats.files_parsed == 1 and stats.bytes_read == p.stat().st_size
    s = index.get("claude", A)
    assert s is not None and s.message_count == 80 and s.tokens.total == 40 * 1115
    assert [m.text for m in index.messages("claude", A, limit=3)] == [
        "prompt number 0",
        "prompt number 1",
        "prompt number 2",
    ]
    assert len(index.messages("claude", A, limit=500)) == 80


def test_a_sync_interrupted_between_steps_resumes(
    index: SessionIndex, roots: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    p = write_lines(claude_file(roots, A), [c_user(A, f"prompt {i}", i) for i in range(30)])
    monkeypatch.setattr("jupyter_spaces.agents.index.PARSE_STEP", 400)
    monkeypatch.setattr("jupyter_spaces.agents.index.COMMIT_EVERY", -1.0)  # commit every step
    real = CLAUDE.parse_file
    calls = [0]

    def dies_on_third_step(path: str, state: object, budget: int | None = None) -> object:
        calls[0] += 1
        if calls[0] == 3:
            raise KeyboardInterrupt  # the server stops mid-file
        return real(path, state, budget)  # type: ignore[arg-type]

    monkeypatch.setattr(CLAUDE, "parse_file", dies_on_third_step)
    with pytest.raises(KeyboardInterrupt):
        index.sync()
    done = len(index.messages("claude", A, limit=100))
    assert 0 < done < 30
    monkeypatch.setattr(CLAUDE, "parse_file", real)
    stats = index.sync()
    assert stats.bytes_read == p.stat().st_size - sum(
        len(line(c_user(A, f"prompt {i}", i))) for i in range(done)
    )
    assert [m.text for m in index.messages("claude", A, limit=100)] == [
        f"prompt {i}" for i in range(30)
    ]


def test_files_without_a_conversation_are_not_listed(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    write_lines(
        claude_file(roots, A),
        [
            {"type": "summary", "summary": "old", "leafUuid": "u"},
            {"type": "file-history-snapshot", "messageId": "m"},
        ],
    )
    x = codex_path(roots["codex"], XT)
    x.parent.mkdir(parents=True)
    x.write_text(line(x_meta(XT, "2026-02-10T14:03:11.470Z"))[:30])  # header still being written
    chats = gemini_chats(roots["gemini"], "my-app", "/home/alice/app")
    (chats / "session-2026-05-04T08-12-6d1f2e3a.jsonl").write_text("")
    index.sync()
    assert index.search() == []
    x.write_text(line(x_meta(XT, "2026-02-10T14:03:11.470Z")))
    index.sync()
    assert [h.session.id for h in index.search()] == [XT]
