"""The server side of the agent-session index: keeps it current and answers the API's queries.

On start the index is brought up to date in a thread (incremental, so a warm start takes about a
second); then the CLIs' folders are watched with ``watchfiles`` (inotify on Linux) and each changed
file is re-read from its last complete line, so a session a CLI writes is searchable within about a
second. Where watching fails (no inotify, too many watches) the folders are re-scanned on an
interval instead. Folders that do not exist yet (a CLI installed later) are looked for every few
seconds and watched once they appear.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

from .agents import AGENT_NAMES, SearchQueryError, Session, SessionIndex, valid_session_id
from .agents.model import epoch_to_iso, iso_to_epoch
from .errors import SpacesError
from .paths import relative_to_root, resolve_inside

# A CLI writes a session as .jsonl (Gemini's legacy format: .json; Codex archives: .jsonl.zst).
_SUFFIXES = (".jsonl", ".json", ".zst")
# How long watchfiles gathers changes before handing them over, and how often missing folders
# are looked for.
WATCH_DEBOUNCE_MS = 400
ROOT_CHECK_SECONDS = 5.0
CATCH_UP_SECONDS = 1.0
MAX_LIMIT = 500

SpacesOf = Callable[[], Iterable[tuple[str, Path]]]


async def _changes(dirs: list[Path], stop: asyncio.Event) -> AsyncIterator[set[Any]]:
    """The changes watchfiles sees under ``dirs`` until ``stop`` is set or this is closed.

    ``watchfiles.watch`` runs in a daemon thread of ours, not through ``awatch``: awatch's
    anyio worker thread is no daemon, so a jupyter-server ended by a SIGINT it does not
    handle (no terminal, as under JupyterHub's LocalProcessSpawner) would never exit."""
    import watchfiles

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[set[Any] | BaseException | None] = asyncio.Queue()
    halt = threading.Event()

    def hand_over(item: set[Any] | BaseException | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody listens
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def run() -> None:
        try:
            for changes in watchfiles.watch(
                *dirs,
                watch_filter=_wanted,
                stop_event=halt,
                debounce=WATCH_DEBOUNCE_MS,
                step=50,
                rust_timeout=1000,
                yield_on_timeout=False,
                raise_interrupt=False,
            ):
                hand_over(changes)
        except Exception as e:
            hand_over(e)
        else:
            hand_over(None)

    threading.Thread(target=run, name="jupyter-spaces-watch", daemon=True).start()
    stopper = asyncio.ensure_future(stop.wait())
    stopper.add_done_callback(lambda _: queue.put_nowait(None))
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        halt.set()
        stopper.cancel()


def watch_dirs(index: SessionIndex) -> list[Path]:
    """The folders worth watching under each agent's roots (not all of ``~/.claude``)."""
    out: list[Path] = []
    for agent in AGENT_NAMES:
        for root in index.roots(agent):
            if agent == "claude":
                out.append(root / "projects")
            elif agent == "gemini":
                out.append(root / "tmp")
            else:  # codex: sessions/, archived_sessions/ and session_index.jsonl (thread names)
                out.append(root)
    return out


def _wanted(_change: object, path: str) -> bool:
    return path.endswith(_SUFFIXES)


class SessionService:
    def __init__(
        self,
        index: SessionIndex,
        root: Path,
        spaces: SpacesOf,
        on_change: Callable[[int], None],
        log: logging.Logger,
        *,
        watch: bool = True,
        poll_interval: float = 5.0,
    ) -> None:
        self.index = index
        self.root = root
        self.spaces = spaces
        self.on_change = on_change
        self.log = log
        self.watch = watch
        self.poll_interval = poll_interval
        self.indexing = True
        self.mode = "starting"  # then "watching" or "polling"
        self._task: asyncio.Task[None] | None = None
        self._catching_up: asyncio.Future[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self.index.close()

    # -- keeping the index current --------------------------------------------------------

    async def _run(self) -> None:
        try:
            stats = await asyncio.to_thread(self.index.sync)
            self.log.info(
                "jupyter-spaces: agent sessions indexed: %d files seen, %d parsed, "
                "%.1f MB in %.1f s",
                stats.files_seen,
                stats.files_parsed,
                stats.bytes_read / 1e6,
                stats.seconds,
            )
        except Exception:
            self.log.exception("jupyter-spaces: the first scan of agent sessions failed")
            stats = None
        self.indexing = False
        self.on_change(stats.sessions_updated if stats else 0)
        if self.watch:
            try:
                await self._watch()
                return
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.log.warning(
                    "jupyter-spaces: cannot watch the agent folders (%s); re-scanning every %g s",
                    e,
                    self.poll_interval,
                )
        await self._poll()

    async def _watch(self) -> None:
        while True:
            dirs = [d for d in watch_dirs(self.index) if d.is_dir()]
            stop = asyncio.Event()
            checker = asyncio.ensure_future(self._await_new_dirs(set(dirs), stop))
            # What was written between the last scan and the watch taking hold is found by one
            # more scan once the watch is surely in place (it has no "ready" signal).
            catch_up = asyncio.get_running_loop().call_later(CATCH_UP_SECONDS, self._catch_up)
            self.mode = "watching"
            try:
                if not dirs:
                    await stop.wait()
                else:
                    async for changes in _changes(dirs, stop):
                        await self._sync_paths(sorted({p for _c, p in changes}))
            finally:
                checker.cancel()
                catch_up.cancel()
            # A folder appeared: take in what it already holds, then watch it too.
            await self._sync_all()

    def _catch_up(self) -> None:
        self._catching_up = asyncio.ensure_future(self._sync_all())

    async def _await_new_dirs(self, watched: set[Path], stop: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(ROOT_CHECK_SECONDS)
            if any(d.is_dir() and d not in watched for d in watch_dirs(self.index)):
                stop.set()
                return

    async def _poll(self) -> None:
        self.mode = "polling"
        while True:
            await asyncio.sleep(self.poll_interval)
            await self._sync_all()

    async def _sync_all(self) -> None:
        try:
            stats = await asyncio.to_thread(self.index.sync)
        except Exception:
            self.log.exception("jupyter-spaces: re-scanning agent sessions failed")
            return
        if stats.sessions_updated:
            self.on_change(stats.sessions_updated)

    async def _sync_paths(self, paths: list[str]) -> None:
        def sync() -> int:
            return sum(self.index.sync_file(p).sessions_updated for p in paths)

        try:
            updated = await asyncio.to_thread(sync)
        except Exception:
            self.log.exception("jupyter-spaces: reading changed agent session files failed")
            return
        if updated:
            self.on_change(updated)

    # -- answering the API ------------------------------------------------------------------

    def space_of(self, cwd: str | None) -> str | None:
        """The space whose folder holds ``cwd`` (the deepest one when spaces nest)."""
        if not cwd:
            return None
        best: tuple[int, str] | None = None
        for space_id, directory in self.spaces():
            d = str(directory)
            inside = cwd == d or cwd.startswith(d.rstrip(os.sep) + os.sep)
            if inside and (best is None or len(d) > best[0]):
                best = (len(d), space_id)
        return best[1] if best else None

    def session_json(self, session: Session) -> dict[str, Any]:
        """The session as the API shows it. ``tokens`` is its own transcript's; ``tokens_total``
        adds its sub-agents (as ccusage's session report and Claude Code's cost report do), each
        response counted once; ``subagents`` lists those, nested, with their own figures."""
        d = session.to_json()
        if session.is_subagent:
            d["tokens_total"] = self.index.subagent_usage(session.agent, session.id).to_dict()
            d["subagents"] = []
        else:
            key = (session.agent, session.id)
            d["tokens_total"] = self.index.usage_totals([key])[key].to_dict()
            d["subagents"] = [
                {
                    "id": sub.id,
                    "title": sub.title,
                    "agent_type": sub.meta.get("agent_type"),
                    "started": epoch_to_iso(sub.started),
                    "last_activity": epoch_to_iso(sub.last_activity),
                    "models": sub.models,
                    "message_count": sub.message_count,
                    "tokens": self.index.subagent_usage(sub.agent, sub.id).to_dict(),
                    "gone": sub.gone,
                }
                for sub in self.index.subagents_of(session.agent, session.id)
            ]
        d["space_id"] = self.space_of(session.cwd)
        try:
            d["path"] = relative_to_root(self.root, Path(session.cwd)) if session.cwd else None
        except (ValueError, OSError):
            d["path"] = None  # not a path (a NUL in a cwd an older index kept)
        return d

    async def search(self, args: dict[str, str]) -> dict[str, Any]:
        query = _search_args(args, self.root, dict(self.spaces()))

        def run() -> list[dict[str, Any]]:
            hits = self.index.search(**query)
            out = []
            for h in hits:
                d = self.session_json(h.session)
                d["snippet"] = h.snippet
                d["matches"] = h.matches if query.get("q") else None
                out.append(d)
            return out

        try:
            sessions = await asyncio.to_thread(run)
        except SearchQueryError as e:
            raise SpacesError(400, str(e)) from None
        return {
            "sessions": sessions,
            "limit": query["limit"],
            "offset": query["offset"],
            "indexing": self.indexing,
        }

    async def get(self, agent: str, session_id: str) -> Session:
        check_session_id(agent, session_id)
        session = await asyncio.to_thread(self.index.get, agent, session_id)
        if session is None:
            raise SpacesError(404, f"no {agent} session {session_id!r}")
        return session

    async def messages(self, agent: str, session_id: str, args: dict[str, str]) -> dict[str, Any]:
        await self.get(agent, session_id)
        limit = _whole(args.get("limit"), "limit", 200, 1, 1000)
        offset = _whole(args.get("offset"), "offset", 0, 0, 10**9)
        msgs = await asyncio.to_thread(self.index.messages, agent, session_id, limit, offset)
        return {"messages": [m.to_dict() for m in msgs], "limit": limit, "offset": offset}


def check_session_id(agent: str, session_id: str) -> None:
    """SpacesError(404) unless ``agent`` is a CLI the index knows and ``session_id`` can be one of
    its sessions, checked before any lookup (and so before any resume): a NUL, ``../`` or a
    leading ``-`` never reaches the index, a path or an argv.

    Ids are the CLI's UUIDs (``valid_session_id``); the index also lists sub-agent transcripts
    and legacy files under the id their file name gives (a Claude ``agentId``, a file stem),
    which the custom-agent alphabet admits, so those still open."""
    if agent not in AGENT_NAMES:
        raise SpacesError(
            404, f"unknown agent {agent[:64]!r}; expected one of claude, codex, gemini"
        )
    if not (valid_session_id(agent, session_id) or valid_session_id("custom", session_id)):
        raise SpacesError(404, f"{session_id[:128]!r} is not a {agent} session id")


_SEARCH_ARGS = {
    "q",
    "agent",
    "space",
    "cwd",
    "since",
    "until",
    "limit",
    "offset",
    "order",
    "subagents",
}


def _search_args(args: dict[str, str], root: Path, spaces: dict[str, Path]) -> dict[str, Any]:
    """The index's search arguments from query parameters, or SpacesError(400) saying why."""
    unknown = sorted(set(args) - _SEARCH_ARGS)
    if unknown:
        allowed = ", ".join(sorted(_SEARCH_ARGS))
        raise SpacesError(400, f"unknown parameter(s) {', '.join(unknown)}; allowed: {allowed}")
    out: dict[str, Any] = {
        "limit": _whole(args.get("limit"), "limit", 50, 1, MAX_LIMIT),
        "offset": _whole(args.get("offset"), "offset", 0, 0, 10**9),
    }
    q = args.get("q", "")
    if len(q) > 1000:
        raise SpacesError(400, "q is longer than 1000 characters")
    if q.strip():
        out["q"] = q
    agent = args.get("agent")
    if agent:
        if agent not in AGENT_NAMES:
            raise SpacesError(400, f"agent must be one of {', '.join(AGENT_NAMES)}, not {agent!r}")
        out["agent"] = agent
    space = args.get("space")
    if space:
        if space not in spaces:
            raise SpacesError(404, f"no space {space!r}")
        out["under"] = str(spaces[space])
    cwd = args.get("cwd")
    if cwd is not None:
        out["cwd"] = str(resolve_inside(root, cwd, "cwd"))
    for key in ("since", "until"):
        raw = args.get(key)
        if raw:
            out[key] = parse_time(raw, key)
    order = args.get("order", "relevance")
    if order not in ("relevance", "recent"):
        raise SpacesError(400, f"order must be 'relevance' or 'recent', not {order!r}")
    out["order"] = order
    sub = args.get("subagents", "false")
    if sub not in ("true", "false"):
        raise SpacesError(400, "subagents must be true or false")
    out["subagents"] = sub == "true"
    return out


def _whole(raw: str | None, what: str, default: int, lo: int, hi: int) -> int:
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not lo <= int(raw) <= hi:
        raise SpacesError(400, f"{what} must be a whole number from {lo} to {hi}")
    return int(raw)


def parse_time(raw: str, what: str) -> float:
    try:
        t: float | None = float(raw)
    except ValueError:
        t = iso_to_epoch(raw)
    if t is None or not math.isfinite(t):
        raise SpacesError(400, f"{what} must be an ISO-8601 time or POSIX seconds, not {raw!r}")
    return t
