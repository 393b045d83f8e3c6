"""A 64 MB transcript line: skipped and counted, the lines around it indexed, and the parser's
memory bounded by MAX_LINE rather than by the line (a 60 MB line once took the server to
1.75 GB)."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
import zstandard

from jupyter_spaces.agents import SessionIndex
from jupyter_spaces.agents.base import MAX_LINE, MAX_WHOLE_JSON

from . import fixtures as fx

SID = "3f0c9a52-7d1e-4b8a-9c55-1e2f3a4b5c6d"
HUGE = 64 << 20


def huge_record_chunks(size: int) -> Iterator[bytes]:
    """One Claude user record of about ``size`` bytes, in 1 MiB pieces (never whole in memory)."""
    head = json.dumps(fx.c_user(SID, "HOLE", 2, cwd="/a")).encode()
    before, after = head.split(b"HOLE")
    yield before
    piece = b"y" * (1 << 20)
    for _ in range(size // len(piece)):
        yield piece
    yield after


@pytest.fixture
def huge_transcript(roots: dict[str, Path]) -> Iterator[Path]:
    path = fx.claude_project(roots["claude"], "/a") / f"{SID}.jsonl"
    path.parent.mkdir(parents=True)
    with open(path, "wb") as f:
        f.write(fx.line(fx.c_user(SID, "alphaword before", 1, cwd="/a")).encode())
        for chunk in huge_record_chunks(HUGE):
            f.write(chunk)
        f.write(b"\n")
        f.write(fx.line(fx.c_user(SID, "omegaword after", 3, cwd="/a")).encode())
    yield path
    path.unlink(missing_ok=True)


def test_a_64mb_line_is_skipped_counted_and_memory_stays_bounded(
    index: SessionIndex, huge_transcript: Path
) -> None:
    assert MAX_LINE < HUGE
    tracemalloc.start()
    try:
        stats = index.sync()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stats.errors == 0
    assert stats.malformed_lines == 1
    assert stats.bytes_read == huge_transcript.stat().st_size  # the offset moved past it
    assert index.search("alphaword") and index.search("omegaword")
    # At most one capped line plus a read chunk or two, not the line: well below its 64 MB.
    assert peak < HUGE // 3, f"peak {peak / 2**20:.1f} MiB"
    assert index.sync().files_parsed == 0  # not read again


def test_a_huge_line_still_being_written_is_not_held(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    """No newline yet: nothing is consumed, memory stays bounded, and once the line ends the
    record after it is found."""
    path = fx.claude_project(roots["claude"], "/a") / f"{SID}.jsonl"
    path.parent.mkdir(parents=True)
    try:
        with open(path, "wb") as f:
            f.write(fx.line(fx.c_user(SID, "alphaword", 1, cwd="/a")).encode())
            for chunk in huge_record_chunks(2 * MAX_LINE):
                f.write(chunk)
        first = index.sync()
        assert first.malformed_lines == 0 and index.search("alphaword")
        with open(path, "ab") as f:
            f.write(b"\n" + fx.line(fx.c_user(SID, "omegaword", 3, cwd="/a")).encode())
        fx.touch_later(path)
        second = index.sync()
        assert second.malformed_lines == 1 and index.search("omegaword")
    finally:
        path.unlink(missing_ok=True)


def test_a_huge_line_in_a_codex_archive(index: SessionIndex, roots: dict[str, Path]) -> None:
    tid = "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
    path = fx.codex_path(roots["codex"], tid, archived=True, suffix=".jsonl.zst")
    path.parent.mkdir(parents=True)
    ts = "2026-02-10T14:03:11.000Z"
    cctx = zstandard.ZstdCompressor()
    try:
        with open(path, "wb") as raw, cctx.stream_writer(raw) as w:
            w.write(fx.line(fx.x_meta(tid, ts)).encode())
            w.write(fx.line(fx.x_user(ts, "alphaword")[1]).encode())
            w.write(b'{"type":"event_msg","payload":{"message":"')
            piece = b"z" * (1 << 20)
            for _ in range(HUGE // len(piece)):
                w.write(piece)
            w.write(b'"}}\n')
            w.write(fx.line(fx.x_user(ts, "omegaword")[1]).encode())
        tracemalloc.start()
        try:
            stats = index.sync()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert stats.errors == 0 and stats.malformed_lines == 1
        assert index.search("alphaword") and index.search("omegaword")
        assert peak < HUGE // 3, f"peak {peak / 2**20:.1f} MiB"
    finally:
        path.unlink(missing_ok=True)


def test_a_whole_file_json_beyond_the_cap_is_skipped_and_counted(
    index: SessionIndex, roots: dict[str, Path]
) -> None:
    chats = fx.gemini_chats(roots["gemini"], "app", "/a")
    big = chats / "session-2026-05-04T08-12-big.json"
    small = chats / "session-2026-05-04T08-12-small.json"
    try:
        with open(big, "wb") as f:
            f.write(b'{"sessionId":"big","messages":[{"id":"m","type":"user","content":"')
            f.write(b"q" * (MAX_WHOLE_JSON + 1))
            f.write(b'"}]}')
        small.write_text(
            json.dumps({**fx.g_meta("small"), "messages": [fx.g_user("m1", "omegaword")]})
        )
        stats = index.sync()
        assert stats.errors == 0 and stats.malformed_lines == 1
        assert index.search("omegaword")
        again = index.sync()
        assert again.files_parsed == 0 and again.malformed_lines == 0  # not read again
    finally:
        big.unlink(missing_ok=True)
