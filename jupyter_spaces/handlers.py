"""REST and WebSocket handlers. Every route goes through jupyter-server's authentication
(``@web.authenticated`` / ``@ws_authenticated``) and authorization (resource ``spaces``): reading
needs ``read``, changing needs ``write``, and anything that starts a process or types into one
(new panes, input, restart, trust, restoring a snapshot, resuming a session, the channel, and
turning on ``autorestart``) needs ``execute`` as well, as jupyter-server asks of kernels and
terminals. Permission to edit is not permission to run.

The pane channel speaks terminado's messages (``["stdin", s]``, ``["stdout", s]``,
``["set_size", rows, cols]``, ``["setup", {}]``) so JupyterLab's terminal client code can talk
to a pane, plus two of its own: the client may send ``["ack", n]`` (total characters it has
processed) to get windowed flow control, and the server sends ``["error", message]`` when a
message is refused (nothing else happens then). A channel to a pane that does not exist or is
gone (or with a bad query) is accepted and closed at once with code 4000 + the HTTP status
(4404, 4409, 4400) and the reason, so browsers stop retrying; failed authentication or
authorization is refused at the handshake (403).

Why one module of over 400 lines: the route table, and each handler a few lines that check the
query or the message and call one service; the channel handler's message checks are most of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from .agents.launch import agent_clis
from .errors import SpacesError
from .host.stream import PaneStream, Watcher
from .manager import SpaceManager
from .services.common import check_size
from .services.settings import SpacesSettings
from .sessions import parse_time

AUTH_RESOURCE = "spaces"
# Stacked under ``@authorized`` (which checks read/write by HTTP method).
executes: Callable[[Any], Any] = authorized("execute", AUTH_RESOURCE)
_ID = r"(?P<space_id>[^/]+)"
_PANE = r"(?P<pane_id>[^/]+)"
_SNAPSHOT = r"(?P<snapshot_id>[^/]+)"


class SpacesAPIHandler(APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def manager(self) -> SpaceManager:
        return self.settings["spaces_manager"]

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        await self.manager.ready()

    def update_api_activity(self) -> None:
        """Reads are what an open front end does on its own (re-reading a space after an
        event, refreshing lists): they are not user activity for JupyterHub's idle culler.
        Changes (create, type, restart, save a layout) are, as jupyter-server counts them."""
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return
        super().update_api_activity()

    async def require_execute(self) -> None:
        if not await ensure_async(
            self.authorizer.is_authorized(self, self.current_user, "execute", AUTH_RESOURCE)
        ):
            raise SpacesError(403, f"not authorized to execute on resource: {AUTH_RESOURCE}")

    def body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as e:
            raise SpacesError(400, f"the request body is not valid JSON: {e}") from None
        except RecursionError:
            raise SpacesError(400, "the request body is nested too deeply") from None
        if not isinstance(body, dict):
            raise SpacesError(400, "the request body must be a JSON object")
        return body

    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, SpacesError):
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(exc.to_json()))
            return
        super().write_error(status_code, **kwargs)


class SpacesHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(
            {
                "spaces": await self.manager.spaces.list_spaces(),
                "host": self.manager.panes.status(),
                # Which agent CLIs panes can start (the buttons and launcher tiles ask).
                "agents": agent_clis(),
            }
        )

    @web.authenticated
    @authorized
    async def post(self) -> None:
        space = await self.manager.spaces.create_space(self.body())
        self.set_header("Location", self.base_url + f"api/spaces/{space['id']}")
        self.reply(space, 201)


class SpaceHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, space_id: str) -> None:
        self.reply(await self.manager.spaces.get_space(space_id))

    @web.authenticated
    @authorized
    async def patch(self, space_id: str) -> None:
        self.reply(await self.manager.spaces.update_space(space_id, self.body()))

    @web.authenticated
    @authorized
    async def delete(self, space_id: str) -> None:
        remove = self.get_query_argument("remove_files", "false")
        if remove not in ("true", "false"):
            raise SpacesError(400, "remove_files must be true or false")
        snapshot = self.get_query_argument("snapshot", "true")
        if snapshot not in ("true", "false"):
            raise SpacesError(400, "snapshot must be true or false")
        # A before_delete snapshot first, unless asked not to.
        await self.manager.snapshots.delete_space(space_id, remove == "true", snapshot == "true")
        self.set_status(204)
        self.finish()


class PanesHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, space_id: str) -> None:
        space = await self.manager.spaces.get_space(space_id)
        self.reply({"panes": space["panes"]})

    @web.authenticated
    @authorized
    @executes
    async def post(self, space_id: str) -> None:
        pane = await self.manager.spaces.create_pane(space_id, self.body())
        self.set_header("Location", self.base_url + f"api/spaces/{space_id}/panes/{pane['id']}")
        self.reply(pane, 201)


class PaneHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, space_id: str, pane_id: str) -> None:
        self.reply(await self.manager.spaces.get_pane(space_id, pane_id))

    @web.authenticated
    @authorized
    async def patch(self, space_id: str, pane_id: str) -> None:
        body = self.body()
        if body.get("autorestart") is True:
            # A command that restarts by itself runs without anyone pressing Enter.
            await self.require_execute()
        self.reply(await self.manager.spaces.update_pane(space_id, pane_id, body))

    @web.authenticated
    @authorized
    async def delete(self, space_id: str, pane_id: str) -> None:
        await self.manager.spaces.delete_pane(space_id, pane_id)
        self.set_status(204)
        self.finish()


class PaneInputHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    @executes
    async def post(self, space_id: str, pane_id: str) -> None:
        if len(self.request.body) > self.settings["spaces_settings"].max_message_size + 1024:
            raise SpacesError(413, "the request body is too large")
        await self.manager.panes.send_input(space_id, pane_id, self.body())
        self.set_status(204)
        self.finish()


class PaneRestartHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    @executes
    async def post(self, space_id: str, pane_id: str) -> None:
        self.reply(await self.manager.spaces.restart_pane(space_id, pane_id))


class PaneScreenHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, space_id: str, pane_id: str) -> None:
        limits: SpacesSettings = self.settings["spaces_settings"]
        raw = self.get_query_argument("lines", "0")
        if not (raw.isascii() and raw.isdigit()) or int(raw) > limits.history_limit:
            raise SpacesError(400, f"lines must be a whole number from 0 to {limits.history_limit}")
        self.reply(await self.manager.panes.screen(space_id, pane_id, int(raw)))


class PaneStatesHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, space_id: str, pane_id: str) -> None:
        args = query_args(self)
        unknown = sorted(set(args) - {"since"})
        if unknown:
            raise SpacesError(400, f"unknown parameter(s) {', '.join(unknown)}; allowed: since")
        since = parse_time(args["since"], "since") if args.get("since") else 0.0
        self.reply(self.manager.agent_states.timeline(space_id, pane_id, since))


def query_args(handler: SpacesAPIHandler) -> dict[str, str]:
    """The query's arguments, without the bare ``&<timestamp>`` JupyterLab's request helper adds
    to every GET to defeat caches."""
    return {
        k: handler.get_query_argument(k)
        for k in handler.request.query_arguments
        if not (k.isdigit() and handler.get_query_argument(k) == "")
    }


class SpacePlanHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, space_id: str) -> None:
        self.reply(await self.manager.restore.space_plan(space_id))


class SpaceTrustHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    @executes
    async def post(self, space_id: str) -> None:
        self.reply(await self.manager.restore.trust_space(space_id, self.body()))


class SnapshotsHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, space_id: str) -> None:
        self.reply(await self.manager.snapshots.list_snapshots(space_id))

    @web.authenticated
    @authorized
    async def post(self, space_id: str) -> None:
        snapshot = await self.manager.snapshots.create_snapshot(space_id, self.body())
        self.set_header(
            "Location", self.base_url + f"api/spaces/{space_id}/snapshots/{snapshot['id']}"
        )
        self.reply(snapshot, 201)

    @web.authenticated
    @authorized
    async def delete(self, space_id: str) -> None:
        self.reply(await self.manager.snapshots.prune_snapshots(space_id, query_args(self)))


class SnapshotPruneHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    async def post(self, space_id: str) -> None:
        self.reply(await self.manager.snapshots.apply_retention(space_id, self.body()))


class SnapshotSettingsHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, space_id: str) -> None:
        self.reply(await self.manager.snapshots.get_settings(space_id))

    @web.authenticated
    @authorized
    async def patch(self, space_id: str) -> None:
        self.reply(await self.manager.snapshots.update_settings(space_id, self.body()))


class SnapshotHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, space_id: str, snapshot_id: str) -> None:
        self.reply(await self.manager.snapshots.get_snapshot(space_id, snapshot_id))

    @web.authenticated
    @authorized
    async def patch(self, space_id: str, snapshot_id: str) -> None:
        self.reply(await self.manager.snapshots.update_snapshot(space_id, snapshot_id, self.body()))

    @web.authenticated
    @authorized
    async def delete(self, space_id: str, snapshot_id: str) -> None:
        await self.manager.snapshots.delete_snapshot(space_id, snapshot_id)
        self.set_status(204)
        self.finish()


class SnapshotScreenHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, space_id: str, snapshot_id: str, pane_id: str) -> None:
        self.reply(await self.manager.snapshots.get_screen(space_id, snapshot_id, pane_id))


class SnapshotRestoreHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    @executes
    async def post(self, space_id: str, snapshot_id: str) -> None:
        self.reply(
            await self.manager.snapshots.restore_snapshot(space_id, snapshot_id, self.body())
        )


class SessionsHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(await self.manager.sessions.search(query_args(self)))


class UsageHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(await self.manager.usage.report(query_args(self)))


class SessionHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, agent: str, session_id: str) -> None:
        session = await self.manager.sessions.get(agent, session_id)
        self.reply(self.manager.sessions.session_json(session))


class SessionMessagesHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    async def get(self, agent: str, session_id: str) -> None:
        args = query_args(self)
        if set(args) - {"limit", "offset"}:
            raise SpacesError(400, "messages takes only limit and offset")
        self.reply(await self.manager.sessions.messages(agent, session_id, args))


class SessionResumeHandler(SpacesAPIHandler):
    @web.authenticated
    @authorized
    @executes
    async def post(self, agent: str, session_id: str) -> None:
        pane = await self.manager.agent_sessions.resume_session(agent, session_id, self.body())
        self.set_header(
            "Location", self.base_url + f"api/spaces/{pane['space_id']}/panes/{pane['id']}"
        )
        self.reply(pane, 201)


class PaneChannelHandler(WebSocketMixin, WebSocketHandler, JupyterHandler):  # type: ignore[misc]
    """The live terminal of one pane."""

    auth_resource = AUTH_RESOURCE
    pane_stream: PaneStream | None = None
    watcher: Watcher | None = None
    refusal: SpacesError | None = None
    ids: tuple[str, str] = ("", "")
    checking: asyncio.Future[None] | None = None  # the last stdin waiting for a state check

    @property
    def manager(self) -> SpaceManager:
        return self.settings["spaces_manager"]

    @property
    def max_message_size(self) -> int:  # type: ignore[override]
        # Frames up to 4x the limit reach on_message and get a clear ["error", ...] answer;
        # beyond that tornado closes the socket (code 1009) without reading them whole.
        return int(self.settings["spaces_settings"].max_message_size * 4)

    async def pre_get(self, space_id: str, pane_id: str) -> None:
        user = self.current_user
        if not await ensure_async(
            self.authorizer.is_authorized(self, user, "execute", AUTH_RESOURCE)
        ):
            raise web.HTTPError(403)
        await self.manager.ready()
        limits: SpacesSettings = self.settings["spaces_settings"]
        raw = self.get_query_argument("history", str(limits.attach_history))
        try:
            if not (raw.isascii() and raw.isdigit()) or int(raw) > limits.history_limit:
                limit = limits.history_limit
                raise SpacesError(400, f"history must be a whole number from 0 to {limit}")
            self.history = int(raw)
            self.pane_stream = await self.manager.panes.stream(space_id, pane_id)
        except SpacesError as e:
            # A browser cannot read a refused handshake's status and would retry for ever;
            # an accepted socket closed with 4000 + status and the reason tells it to stop.
            self.refusal = e

    @ws_authenticated
    async def get(self, space_id: str, pane_id: str) -> None:  # type: ignore[override]
        await self.pre_get(space_id, pane_id)
        await super().get(space_id, pane_id)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, SpacesError):
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(exc.to_json()))
            return
        super().write_error(status_code, **kwargs)

    def open(self, space_id: str, pane_id: str) -> None:  # type: ignore[override]
        if self.refusal is not None:
            # Close reasons are limited to 123 bytes.
            reason = self.refusal.message.encode()[:120].decode("utf-8", "ignore")
            self.close(4000 + self.refusal.status_code, reason)
            return
        assert self.pane_stream is not None
        self.ids = (space_id, pane_id)
        self.send(["setup", {}])
        self.watcher = self.pane_stream.attach(self.send, self.history, on_end=self.ended)

    async def checked_stdin(self, text: str, before: asyncio.Future[None] | None) -> None:
        """Type ``text`` if the pane runs (a restart may have happened since the last poll),
        else say it exited: tmux drops keys sent to a dead pane without a word."""
        this = self.checking
        if before is not None:
            await before
        try:
            await self.manager.panes.check_live(*self.ids)
            if self.pane_stream is not None and self.pane_stream.alive:
                self.pane_stream.write(text, on_error=self.refuse)
                self.manager.panes.touch()
        except SpacesError as e:
            self.refuse(e.message)
        finally:
            if self.checking is this:
                self.checking = None

    def ended(self, reason: str) -> None:
        self.close(1000, reason[:120])

    def send(self, msg: list[Any]) -> Any:
        return self.write_message(json.dumps(msg))

    def refuse(self, message: str) -> None:
        with contextlib.suppress(WebSocketClosedError):
            self.send(["error", message])

    def on_message(self, message: str | bytes) -> None:
        limits: SpacesSettings = self.settings["spaces_settings"]
        if isinstance(message, bytes):
            self.refuse("binary messages are not accepted; send JSON text")
            return
        if len(message) > limits.max_message_size:
            self.refuse(f"message larger than {limits.max_message_size} bytes refused")
            return
        try:
            msg = json.loads(message)
        except ValueError:
            self.refuse("message is not valid JSON")
            return
        except RecursionError:
            self.refuse("message is nested too deeply")
            return
        if not isinstance(msg, list) or not msg or not isinstance(msg[0], str):
            self.refuse('a message is a JSON list such as ["stdin", "text"]')
            return
        try:
            self.handle(msg)
        except SpacesError as e:
            self.refuse(e.message)

    def handle(self, msg: list[Any]) -> None:
        assert self.pane_stream is not None and self.watcher is not None
        kind = msg[0]
        if kind == "stdin":
            if len(msg) != 2 or not isinstance(msg[1], str):
                raise SpacesError(400, 'stdin takes one string: ["stdin", "text"]')
            try:
                msg[1].encode("utf-8")
            except UnicodeEncodeError:
                raise SpacesError(400, "stdin is not valid UTF-8 (a lone surrogate)") from None
            if self.checking is not None or self.manager.panes.maybe_exited(*self.ids):
                # Seen exited (or being checked): ask tmux afresh, in order, before typing.
                self.checking = asyncio.ensure_future(self.checked_stdin(msg[1], self.checking))
                return
            self.pane_stream.write(msg[1], on_error=self.refuse)
            self.manager.panes.touch()
        elif kind == "set_size":
            # terminado clients may add pixel sizes after rows and cols; they are ignored.
            if len(msg) < 3:
                raise SpacesError(400, "set_size takes rows and cols")
            limits: SpacesSettings = self.settings["spaces_settings"]
            rows, cols = check_size(msg[1], msg[2], limits.max_rows, limits.max_cols)
            self.pane_stream.resize(rows, cols)
        elif kind == "ack":
            if (
                len(msg) != 2
                or not isinstance(msg[1], int)
                or isinstance(msg[1], bool)
                or msg[1] < 0
            ):
                raise SpacesError(400, "ack takes the total number of characters processed")
            self.watcher.ack(msg[1])
        else:
            raise SpacesError(400, f"unknown message type {kind!r}")

    def on_close(self) -> None:
        if self.pane_stream is not None and self.watcher is not None:
            self.pane_stream.detach(self.watcher)
            self.manager.panes.release(self.pane_stream)


def route_table() -> list[tuple[str, type]]:
    base = r"/api/spaces"
    pane = rf"{base}/{_ID}/panes/{_PANE}"
    session = rf"{base}/sessions/(?P<agent>[^/]+)/(?P<session_id>[^/]+)"
    snapshot = rf"{base}/{_ID}/snapshots/{_SNAPSHOT}"
    return [
        (base, SpacesHandler),
        # Before "{base}/{space_id}", which would take "sessions" for a space id.
        (rf"{base}/sessions", SessionsHandler),
        (rf"{base}/usage", UsageHandler),
        (session, SessionHandler),
        (rf"{session}/messages", SessionMessagesHandler),
        (rf"{session}/resume", SessionResumeHandler),
        (rf"{base}/{_ID}", SpaceHandler),
        (rf"{base}/{_ID}/plan", SpacePlanHandler),
        (rf"{base}/{_ID}/trust", SpaceTrustHandler),
        (rf"{base}/{_ID}/snapshots", SnapshotsHandler),
        # Before the snapshot route: neither word is a snapshot id.
        (rf"{base}/{_ID}/snapshots/prune", SnapshotPruneHandler),
        (rf"{base}/{_ID}/snapshots/settings", SnapshotSettingsHandler),
        (snapshot, SnapshotHandler),
        (rf"{snapshot}/restore", SnapshotRestoreHandler),
        (rf"{snapshot}/screens/{_PANE}", SnapshotScreenHandler),
        (rf"{base}/{_ID}/panes", PanesHandler),
        (pane, PaneHandler),
        (rf"{pane}/input", PaneInputHandler),
        (rf"{pane}/restart", PaneRestartHandler),
        (rf"{pane}/screen", PaneScreenHandler),
        (rf"{pane}/states", PaneStatesHandler),
        (rf"{pane}/channel", PaneChannelHandler),
    ]
