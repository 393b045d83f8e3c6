"""What every CLI parser shares: the parse state, the result, the line reader, the file walk.

A parser is incremental. ``AgentFormat.parse_file(path, state)`` resumes at ``state.offset`` (the
byte just after the last complete line it consumed), reads only complete lines, and returns the
full aggregate of every session in the file, the messages that are new since ``state``, and the
state to pass next time. A partial last line is left for the next call. Formats that are not
append-only (zstd archives, whole-file JSON) are re-read from the start on every change.
"""

from __future__ import annotations

import json
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Generic, Protocol, TypeVar

from .model import AgentName, Message, Session, UsageEvent

# Read size: large enough that Python-level overhead per chunk is negligible.
CHUNK = 1 << 20
# A single record larger than this is dropped (and counted malformed): the reader never holds more
# than one line plus a chunk, and decoding a line costs a few times its size, so this cap is what
# bounds the parser's memory on a hostile or runaway file (a 60 MB line once took the server to
# 1.75 GB). Real records are far smaller (the largest reported are a few hundred KB; a pasted
# screenshot is at most a few MB of base64), so 8 MiB loses nothing a person would search for.
MAX_LINE = 8 << 20
# How many bytes the index asks a parser to read per call: bounds the messages held in memory
# when a file of hundreds of MB is first read.
PARSE_STEP = 64 << 20
# Whole-file JSON formats (Gemini <= v0.38, the 2025 TypeScript Codex) have no record boundaries,
# so they are decoded whole; a file beyond this is skipped and counted malformed (peak memory is a
# few times the file's size). They are conversation documents of a few MB at most.
MAX_WHOLE_JSON = 32 << 20
# Decompressed bytes read from one .jsonl.zst archive at most: a tiny "zstd bomb" must not keep a
# scan busy for hours. Codex rollouts are tens of MB; what lies beyond is counted malformed.
MAX_ZST_OUTPUT = 1 << 30
# A whole-file JSON that does not parse is taken as half-written (retried) for this long after its
# last change, then counted malformed, so that a broken file is not re-read on every scan.
SETTLE_SECONDS = 5.0
# Token counts above this are not counts (2**53: exact in JSON numbers and in JavaScript).
MAX_COUNT = 1 << 53
# A timestamp is short ISO-8601 text; anything longer is not one (and would bloat the state).
MAX_TS = 64
# Paths longer than PATH_MAX are not paths.
MAX_PATH = 4096
_SURROGATE = re.compile("[\ud800-\udfff]")


class Incomplete(Exception):
    """The file is being rewritten right now (e.g. half of a whole-file JSON); retry later."""


class TooLarge(Exception):
    """A whole-file document beyond MAX_WHOLE_JSON: skipped and counted malformed."""


@dataclass
class FileState:
    """What a parser needs to continue a file: the offset and the CLI's running aggregates."""

    offset: int = 0
    malformed: int = 0
    data: dict[str, Any] = field(default_factory=dict)

    def dumps(self) -> str:
        return json.dumps(
            {"offset": self.offset, "malformed": self.malformed, "data": self.data},
            separators=(",", ":"),
        )

    @classmethod
    def loads(cls, text: str) -> FileState:
        d = json.loads(text)
        return cls(offset=int(d["offset"]), malformed=int(d["malformed"]), data=d["data"])


@dataclass
class ParseResult:
    """The outcome of one ``parse_file`` call.

    The index applies it in this order: if ``reset``, drop everything stored for the file; rename
    sessions per ``renamed``; delete messages with ``seq >= truncate[session]`` and those whose
    ``seq`` is in ``replaced[session]``; insert ``messages``; store ``sessions`` (complete
    aggregates of every session the file holds) and ``state``. Usage: with ``reset`` the file's
    usage rows go too; for a session in ``usage_replace`` its rows in this file are replaced by the
    ``usage`` events given for it; otherwise each event is stored by ``(part, key)``, an existing
    one replaced only by a larger total (Claude's streaming placeholders only undercount).
    """

    sessions: dict[str, Session]
    messages: list[Message]
    state: FileState
    reset: bool
    bytes_read: int
    malformed: int  # malformed lines met in this call
    truncate: dict[str, int] = field(default_factory=dict)
    replaced: dict[str, set[int]] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)
    usage: list[UsageEvent] = field(default_factory=list)
    usage_replace: set[str] = field(default_factory=set)
    complete: bool = True  # False: the byte budget ran out first; call again with ``state``


class Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class LineReader:
    """Complete lines of a binary stream, without ever holding more than one line plus a chunk.

    ``offset`` advances past each line as it is yielded. With ``final`` the bytes after the last
    newline count as a line too (for streams that are known to be complete, e.g. zstd archives).
    """

    def __init__(self, stream: Readable, offset: int = 0, *, final: bool = False) -> None:
        self._stream = stream
        self.offset = offset
        self.final = final
        self.oversized = 0

    def __iter__(self) -> Iterator[bytes]:
        read = self._stream.read
        pending: list[bytes] = []
        pending_len = 0
        discarding = False
        while True:
            chunk = read(CHUNK)
            if not chunk:
                break
            lines = chunk.split(b"\n")
            tail = lines.pop()
            if lines:
                first = lines[0]
                if pending or discarding:
                    length = pending_len + len(first)
                    if discarding or length > MAX_LINE:
                        self.oversized += 1
                        self.offset += length + 1
                        lines = lines[1:]
                    else:
                        lines[0] = b"".join((*pending, first))
                    pending = []
                    pending_len = 0
                    discarding = False
                for line in lines:
                    self.offset += len(line) + 1
                    yield line
            if tail:
                pending_len += len(tail)
                if discarding or pending_len > MAX_LINE:
                    discarding = True
                    pending = []
                else:
                    pending.append(tail)
        if self.final and pending_len:
            self.offset += pending_len
            if discarding:
                self.oversized += 1
            else:
                yield b"".join(pending)


def records(reader: LineReader, counter: list[int]) -> Iterator[dict[str, Any]]:
    """JSON objects of a reader's lines; malformed ones (bad JSON or UTF-8, nested too deep, not
    an object) add to ``counter[0]``. Lone UTF-16 surrogates (``"\\ud800"``: valid JSON, written by
    Node when it cuts a string inside an emoji; or their UTF-8 bytes) become U+FFFD, as SQLite
    cannot store them."""
    loads = json.loads
    for line in reader:
        if not line or line.isspace():
            continue
        try:
            rec = loads(line)
        except (ValueError, RecursionError):
            counter[0] += 1
            continue
        if not isinstance(rec, dict):
            counter[0] += 1
            continue
        if _may_hold_surrogates(line):
            rec = without_surrogates(rec)
        yield rec


def _may_hold_surrogates(raw: bytes) -> bool:
    # An escaped one, or the 3-byte UTF-8 form json.loads lets through ("surrogatepass"); the
    # \xed lead byte also starts U+D000..U+D7FF (Hangul), which only costs a needless walk.
    return b"\\ud" in raw or b"\\uD" in raw or b"\xed" in raw


def without_surrogates(value: Any) -> Any:
    """``value`` (decoded JSON) with every lone surrogate in its strings replaced by U+FFFD.

    Iterative, so that the deepest document ``json.loads`` accepts cannot overflow the stack."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if not isinstance(value, dict | list):
        return value
    root: list[Any] = [value]
    stack: list[tuple[Any, Any, Any]] = [(root, 0, value)]
    while stack:
        parent, key, v = stack.pop()
        if isinstance(v, str):
            parent[key] = _SURROGATE.sub("\ufffd", v)
        elif isinstance(v, list):
            copy = list(v)
            parent[key] = copy
            stack.extend(
                (copy, i, x) for i, x in enumerate(copy) if isinstance(x, str | list | dict)
            )
        elif isinstance(v, dict):
            copy_d: dict[str, Any] = {}
            for k, x in v.items():
                copy_d[_SURROGATE.sub("\ufffd", k)] = x
            parent[key] = copy_d
            stack.extend(
                (copy_d, k, x) for k, x in copy_d.items() if isinstance(x, str | list | dict)
            )
    return root[0]


class LineParser(Protocol):
    def feed(self, rec: dict[str, Any]) -> None: ...

    def dump(self) -> dict[str, Any]: ...


P = TypeVar("P", bound=LineParser)


@dataclass
class LineRun(Generic[P]):
    """What ``parse_lines`` did: the parser fed with the new records, and the new state."""

    parser: P
    state: FileState
    reset: bool
    bytes_read: int
    malformed: int
    complete: bool


def parse_lines(
    path: str,
    state: FileState | None,
    make: Callable[[dict[str, Any] | None], P],
    budget: int | None,
) -> LineRun[P]:
    """Feed the complete JSONL records of ``path`` after ``state.offset`` (all of them when the
    file no longer continues where the state ended) to ``make(state.data)``, stopping once
    ``budget`` bytes were read."""
    with open(path, "rb") as f:
        reset = state is None or not newline_before(f, state.offset)
        start = FileState() if reset or state is None else state
        f.seek(start.offset)
        parser = make(None if reset else start.data)
        reader = LineReader(f, start.offset)
        bad = [0]
        limit = start.offset + budget if budget else None
        complete = True
        for rec in records(reader, bad):
            feed(parser, rec, bad)
            if limit is not None and reader.offset >= limit:
                complete = False
                break
    malformed = bad[0] + reader.oversized
    return LineRun(
        parser=parser,
        state=FileState(reader.offset, start.malformed + malformed, parser.dump()),
        reset=reset,
        bytes_read=reader.offset - start.offset,
        malformed=malformed,
        complete=complete,
    )


def feed(parser: LineParser, rec: dict[str, Any], counter: list[int]) -> None:
    """``parser.feed(rec)``; a record the parser chokes on (a shape no CLI writes, nested too deep
    to re-encode) is skipped and counted in ``counter[0]``, never the end of the file."""
    try:
        parser.feed(rec)
    except Exception:
        counter[0] += 1


def read_whole_json(path: str) -> tuple[Any, int]:
    """A whole-file JSON document (lone surrogates replaced) and its size; Incomplete if it does
    not parse (yet), TooLarge beyond MAX_WHOLE_JSON."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_WHOLE_JSON:
            raise TooLarge(f"{path} is larger than {MAX_WHOLE_JSON} bytes")
        raw = f.read(MAX_WHOLE_JSON + 1)
    if len(raw) > MAX_WHOLE_JSON:
        raise TooLarge(f"{path} is larger than {MAX_WHOLE_JSON} bytes")
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as e:
        # These files are rewritten in full on every update; a reader can catch one half-written.
        raise Incomplete(str(path)) from e
    if _may_hold_surrogates(raw):
        doc = without_surrogates(doc)
    return doc, len(raw)


def newline_before(f: IO[bytes], offset: int) -> bool:
    """Whether the byte before ``offset`` is a newline, i.e. ``offset`` still starts a line.

    An append-only file keeps this true; a file rewritten in place under the same inode (and
    grown past the old size) almost never does.
    """
    if offset == 0:
        return True
    f.seek(offset - 1)
    ok = f.read(1) == b"\n"
    return ok


def walk(root: Path, want: Callable[[str], bool], max_depth: int) -> Iterator[str]:
    """Paths of regular files under ``root`` whose name ``want`` accepts, to ``max_depth`` levels.

    Directory symlinks are not followed (no loops); unreadable directories are skipped.
    """
    stack = [(str(root), 0)]
    while stack:
        top, depth = stack.pop()
        try:
            it = os.scandir(top)
        except OSError:
            continue
        with it:
            for entry in it:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if depth < max_depth:
                            stack.append((entry.path, depth + 1))
                    elif want(entry.name) and entry.is_file() and storable(entry.path):
                        yield entry.path
                except OSError:
                    continue


def storable(path: str) -> bool:
    """Whether ``path`` is valid UTF-8 (SQLite text): a name with undecodable bytes (which Python
    carries as lone surrogates) cannot be indexed, so such a file is left out, not a failure."""
    try:
        path.encode()
    except UnicodeEncodeError:
        return False
    return True


def is_inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def dedupe_roots(paths: Sequence[Path]) -> list[Path]:
    """Existing directories among ``paths``, each once (by real path), in order."""
    seen: set[str] = set()
    out: list[Path] = []
    for p in paths:
        try:
            real = os.path.realpath(p)
        except OSError:
            continue
        if real not in seen and os.path.isdir(real):
            seen.add(real)
            out.append(Path(p))
    return out


@dataclass
class Part:
    """One file's share of a session, as the index hands it back for merging."""

    session: Session
    path: str
    gone: bool = False


class AgentFormat(ABC):
    """One CLI's files: where they are, how to parse them, how to merge and resume sessions."""

    name: AgentName

    @abstractmethod
    def default_roots(
        self, env: Mapping[str, str] | None = None, home: Path | None = None
    ) -> list[Path]:
        """The CLI's data directories that exist, from its environment overrides and defaults."""

    @abstractmethod
    def iter_files(self, roots: Sequence[Path]) -> Iterator[str]:
        """Every session file under ``roots``."""

    @abstractmethod
    def owns(self, path: str, roots: Sequence[Path]) -> bool:
        """Whether ``path`` is (or was) a session file of this CLI under ``roots``."""

    @abstractmethod
    def parse_file(
        self, path: str, state: FileState | None, budget: int | None = None
    ) -> ParseResult:
        """Parse ``path`` from ``state`` (None: from the start), reading about ``budget`` bytes
        at most (None: to the end; whole-file formats ignore it). Raises OSError, Incomplete."""

    @abstractmethod
    def merge(self, parts: list[Part]) -> tuple[Session, set[str]]:
        """One session from the parts that files hold of it, and the paths whose messages count
        (the others are stale copies, e.g. an archived duplicate). Also fills the resume fields."""

    def new_session_argv(self, session_id: str) -> list[str] | None:
        """argv that starts a new session with a caller-chosen id, where the CLI allows it."""
        return None

    @abstractmethod
    def continue_argv(self) -> list[str]:
        """argv that resumes the most recent session of the current directory."""


def not_resumable(s: Session, reason: str) -> None:
    s.resumable = False
    s.resume_reason = reason
    s.resume_argv = None
    s.resume_cwd = None


def resumable(s: Session, argv: list[str], cwd: str, caveat: str | None = None) -> None:
    s.resumable = True
    s.resume_reason = caveat
    s.resume_argv = argv
    s.resume_cwd = cwd


def merge_common(parts: list[Part], primary: Part) -> Session:
    """A copy of the primary part's session with the file list and gone flag of all parts."""
    s = Session.from_dict(primary.session.to_dict())
    s.files = [p.path for p in parts]
    s.gone = all(p.gone for p in parts)
    return s


def first_str(*values: Any) -> str | None:
    for v in values:
        if isinstance(v, str) and v:
            return v
    return None


def as_int(v: Any) -> int:
    """A token count, or 0: bool is an int subclass but never a count, and a negative or huge
    number would poison every sum it enters."""
    return v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_COUNT else 0


def as_ts(v: Any) -> str | None:
    """A record's timestamp text (compared and stored as written), or None if it cannot be one."""
    return v if isinstance(v, str) and 0 < len(v) <= MAX_TS else None


def as_path(v: Any) -> str | None:
    """A working directory from a record, or None: it becomes a Path and a subprocess cwd later,
    where a NUL or control character raises, and an empty or huge string means nothing."""
    if not isinstance(v, str) or not 0 < len(v) <= MAX_PATH or not v.isprintable():
        return None
    return v


def small_json(v: Any, cap: int = 4096) -> Any:
    """``v`` if it re-encodes as JSON within ``cap`` characters, else None (for free-form fields
    kept in the parse state, which must stay small and serialisable)."""
    try:
        return v if len(json.dumps(v)) <= cap else None
    except (TypeError, ValueError, RecursionError):
        return None
