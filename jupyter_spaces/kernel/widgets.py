"""The ``%spaces`` panel: spaces and their panes, a live tail of one pane, agent session search
with Resume buttons. It is a client of the server's API like everything else in the kernel.

:class:`PanelModel` holds the state and applies the server's change announcements; it has no
widgets and no I/O, so it is tested on its own. :class:`SpacesPanel` draws it with ipywidgets and
keeps it current from the kernel's own event loop:

- changes: a WebSocket to jupyter-server's event bus (``/api/events/subscribe``), reconnected
  with back-off; a space named in an event is fetched again (pane states are patched in place);
- the tail: the pane's ``screen`` endpoint, every second while a pane is chosen (slower when
  nothing changes). Not the pane's channel: a kernel busy with a long cell cannot read a socket,
  and an unread channel would hold back the pane's program (flow control); the channel also
  carries raw terminal bytes that would need a terminal emulator to show as text.

Longer than 400 lines on purpose: the model and its one view change together, and the model's
tests read both.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from .client import ClientError, SpacesClient, q
from .errors import resume_refusal
from .results import (
    PANE_HEADERS,
    SESSION_HEADERS,
    _html_table,
    clip,
    display_title,
    esc,
    pane_row,
    pane_state,
    session_row,
    snippet_html,
)

EVENTS_SCHEMA_ID = "https://events.jupyter.org/jupyter_spaces/spaces/v1"


class PanelModel:
    """What the panel shows. Pure state: events in, rows out."""

    def __init__(self) -> None:
        self.spaces: dict[str, dict[str, Any]] = {}
        self.selected: tuple[str, str] | None = None
        self.tail = ""
        self.sessions: list[dict[str, Any]] = []
        self.query = ""
        self.status = ""
        self.live = False
        self.version = 0  # bumped on every change, so views and tests can tell
        self.listeners: list[Callable[[], None]] = []

    def changed(self) -> None:
        self.version += 1
        for listener in list(self.listeners):
            listener()

    # -- spaces and panes -------------------------------------------------------------------

    def set_spaces(self, spaces: list[dict[str, Any]]) -> None:
        self.spaces = {str(s["id"]): s for s in spaces}
        self._check_selection()
        self.changed()

    def set_space(self, space: dict[str, Any]) -> None:
        self.spaces[str(space["id"])] = space
        self._check_selection()
        self.changed()

    def remove_space(self, space_id: str) -> None:
        if self.spaces.pop(space_id, None) is not None:
            self._check_selection()
            self.changed()

    def patch_state(self, space_id: str, pane_id: str, state: str, exit_code: Any) -> bool:
        for pane in (self.spaces.get(space_id) or {}).get("panes") or []:
            if pane.get("id") == pane_id:
                pane["state"] = state
                pane["exit_code"] = exit_code
                self.changed()
                return True
        return False

    def patch_agent_state(self, event: dict[str, Any]) -> bool:
        """Apply an ``agent_state`` announcement to its pane and its space's count."""
        space = self.spaces.get(event["space_id"]) or {}
        for pane in space.get("panes") or []:
            if pane.get("id") == event["pane_id"]:
                pane["agent_state"] = event["state"]
                pane["agent_state_since"] = event.get("since")
                pane["agent_state_source"] = event.get("source")
                pane["agent_state_reason"] = event.get("reason")
                space["needs_input"] = sum(
                    1 for p in space.get("panes") or [] if p.get("agent_state") == "needs_input"
                )
                self.changed()
                return True
        return False

    def plan(self, event: dict[str, Any]) -> str | None:
        """What an event from the bus asks for: ``remove`` the space, patch a pane's
        ``state``, ``fetch`` the space again, ``sessions`` (the index changed), or None."""
        if event.get("schema_id") != EVENTS_SCHEMA_ID:
            return None
        action = event.get("action")
        if action == "sessions_changed":
            return "sessions"
        if not isinstance(event.get("space_id"), str):
            return None
        if action == "space_deleted":
            return "remove"
        if (
            action == "pane_state"
            and isinstance(event.get("pane_id"), str)
            and isinstance(event.get("state"), str)
            and self.patch_state(
                event["space_id"], event["pane_id"], event["state"], event.get("exit_code")
            )
        ):
            return "state"
        if (
            action == "agent_state"
            and isinstance(event.get("pane_id"), str)
            and isinstance(event.get("state"), str)
            and self.patch_agent_state(event)
        ):
            return "state"
        return "fetch"

    def panes(self) -> list[dict[str, Any]]:
        return [p for s in self.spaces.values() for p in s.get("panes") or []]

    def pane_ids(self) -> list[str]:
        return [str(p.get("id")) for p in self.panes()]

    def pane(self, key: tuple[str, str] | None) -> dict[str, Any] | None:
        if key is None:
            return None
        for p in (self.spaces.get(key[0]) or {}).get("panes") or []:
            if p.get("id") == key[1]:
                return p
        return None

    def options(self) -> list[tuple[str, tuple[str, str] | None]]:
        out: list[tuple[str, tuple[str, str] | None]] = [("(choose a pane)", None)]
        for s in self.spaces.values():
            for p in s.get("panes") or []:
                label = f"{s.get('name')} / {display_title(p) or p.get('id')} [{pane_state(p)}]"
                out.append((label, (str(s["id"]), str(p["id"]))))
        return out

    def select(self, key: tuple[str, str] | None) -> None:
        if key != self.selected:
            self.selected = key
            self.tail = ""
            self.changed()

    def _check_selection(self) -> None:
        if self.selected is not None and self.pane(self.selected) is None:
            self.selected = None
            self.tail = ""

    def set_tail(self, text: str) -> bool:
        lines = [ln.rstrip() for ln in text.split("\n")]
        while lines and not lines[-1]:
            lines.pop()
        tail = "\n".join(lines[-30:])
        if tail == self.tail:
            return False
        self.tail = tail
        self.changed()
        return True

    def set_sessions(self, query: str, sessions: list[dict[str, Any]]) -> None:
        self.query, self.sessions = query, sessions
        self.changed()

    def set_status(self, text: str) -> None:
        if text != self.status:
            self.status = text
            self.changed()

    # -- rendering helpers (HTML, escaped) ----------------------------------------------------

    def spaces_html(self) -> str:
        if not self.spaces:
            return "<div>no spaces yet; create one with <code>%spaces new PATH</code></div>"
        parts = []
        for s in self.spaces.values():
            head = f"<div><b>{esc(s.get('name'))}</b> <small>({esc(s.get('id'))}, "
            head += f"{esc(s.get('path') or '(root)')})</small></div>"
            panes = s.get("panes") or []
            body = (
                _html_table(PANE_HEADERS, [pane_row(p) for p in panes])
                if panes
                else "<div><small>no panes</small></div>"
            )
            parts.append(head + body)
        return "".join(parts)

    def sessions_html(self) -> str:
        if not self.sessions:
            return f"<div><small>no sessions match {esc(self.query)}</small></div>"
        raw = [snippet_html(s["snippet"]) if s.get("snippet") else "" for s in self.sessions]
        return _html_table(SESSION_HEADERS, [session_row(s) for s in self.sessions], raw)


class SpacesPanel:
    """The ipywidgets panel. Displaying it shows the widget; ``close()`` stops its updates."""

    poll_interval = 1.0

    def __init__(self, client: SpacesClient) -> None:
        import ipywidgets as w

        self.client = client
        self.model = PanelModel()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._tail_wakeup: asyncio.Event | None = None
        self.model.set_spaces(client.spaces())  # synchronous: the first view is complete

        self.w_status = w.HTML()
        self.w_refresh = w.Button(description="Refresh", icon="refresh")
        self.w_spaces = w.HTML()
        self.w_pane = w.Dropdown(description="Tail", layout=w.Layout(width="60%"))
        self.w_tail = w.HTML()
        self.w_query = w.Text(
            placeholder="search agent sessions", continuous_update=False, description="Sessions"
        )
        self.w_search = w.Button(description="Search", icon="search")
        self.w_results = w.VBox()
        self.widget = w.VBox(
            [
                w.HBox([self.w_refresh, self.w_status]),
                self.w_spaces,
                self.w_pane,
                self.w_tail,
                w.HBox([self.w_query, self.w_search]),
                self.w_results,
            ]
        )
        self.w_refresh.on_click(lambda _: self._spawn(self.refresh()))
        self.w_pane.observe(self._on_pick, names="value")
        self.w_query.observe(lambda _: self._spawn(self.search(self.w_query.value)), names="value")
        self.w_search.on_click(lambda _: self._spawn(self.search(self.w_query.value)))
        self.model.listeners.append(self.render)
        self.render()
        self._start()

    # -- display ------------------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        n = len(self.model.panes())
        return f"<spaces panel: {len(self.model.spaces)} spaces, {n} panes>"

    def render(self) -> None:
        m = self.model
        live = "live" if m.live else "not live"
        self.w_status.value = (
            f"<small>{esc(self.client.base_url)} — {live}"
            + (f" — {esc(m.status)}" if m.status else "")
            + "</small>"
        )
        self.w_spaces.value = m.spaces_html()
        options = m.options()
        if [o[1] for o in options] != [o[1] for o in self.w_pane.options] or [
            o[0] for o in options
        ] != [o[0] for o in self.w_pane.options]:
            self.w_pane.options = options
        if self.w_pane.value != m.selected:
            self.w_pane.value = m.selected
        pane = m.pane(m.selected)
        if pane is None:
            self.w_tail.value = ""
        else:
            self.w_tail.value = (
                f"<pre style='margin:0;max-height:30em;overflow:auto'>{esc(m.tail)}</pre>"
            )

    def _render_results(self) -> None:
        import ipywidgets as w

        m = self.model
        rows: list[Any] = []
        if m.query and not m.sessions:
            rows.append(w.HTML(f"<small>no sessions match {esc(m.query)}</small>"))
        for s in m.sessions:
            title = clip(s.get("title") or s.get("first_prompt") or "", 60)
            label = (
                f"<b>{esc(s.get('agent'))}</b> <code>{esc(str(s.get('id'))[:8])}</code> "
                f"{esc(title)} <small>{esc(s.get('path') or s.get('cwd') or '')}, "
                f"{esc(str(s.get('last_activity') or '')[:16])}</small>"
            )
            if s.get("snippet"):
                label += f"<br><small>{snippet_html(s['snippet'])}</small>"
            button = w.Button(description="Resume", disabled=bool(s.get("gone")))
            button.on_click(lambda _, s=s: self._spawn(self.resume(s)))
            rows.append(w.HBox([button, w.HTML(label)]))
        self.w_results.children = rows

    # -- behaviour ----------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        try:
            task = asyncio.ensure_future(coro)
        except RuntimeError:
            coro.close()  # no event loop (a plain script): the panel stays as it is
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _start(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self.model.set_status("no event loop: call refresh() to update")
            return
        self._spawn(self._events())
        self._spawn(self._tail())

    def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        self.widget.close()

    def _on_pick(self, change: dict[str, Any]) -> None:
        self.model.select(change["new"])
        if self._tail_wakeup is not None:
            self._tail_wakeup.set()

    async def refresh(self) -> None:
        try:
            got = await self.client.afetch("GET", "api/spaces")
            self.model.set_spaces(list(got["spaces"]))
        except ClientError as e:
            self.model.set_status(str(e))

    async def apply(self, event: dict[str, Any]) -> None:
        plan = self.model.plan(event)
        if plan == "remove":
            self.model.remove_space(event["space_id"])
        elif plan == "fetch":
            try:
                space = await self.client.afetch("GET", f"api/spaces/{q(event['space_id'])}")
                self.model.set_space(space)
            except ClientError as e:
                if e.status == 404:
                    self.model.remove_space(event["space_id"])
                else:
                    self.model.set_status(str(e))
        elif plan == "sessions" and self.model.query:
            await self.search(self.model.query)
        if plan in ("fetch", "state") and self._tail_wakeup is not None:
            self._tail_wakeup.set()

    async def _events(self) -> None:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        delay = 1.0
        while not self._closed:
            req = HTTPRequest(
                self.client.ws_url("api/events/subscribe"), headers=self.client.headers()
            )
            try:
                conn = await websocket_connect(req)
            except Exception as e:
                self.model.live = False
                self.model.set_status(f"no live updates ({clip(e, 80)}); retrying")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
                continue
            delay = 1.0
            self.model.live = True
            self.model.set_status("")
            await self.refresh()  # changes made while disconnected
            try:
                while not self._closed:
                    raw = await conn.read_message()
                    if raw is None:
                        break
                    try:
                        event = json.loads(raw)
                        if isinstance(event, dict):
                            await self.apply(event)
                    except Exception as e:  # one bad event must not end the live updates
                        self.model.set_status(f"an update failed: {clip(e, 80)}")
            finally:
                conn.close()
            self.model.live = False
            self.model.changed()

    async def _tail(self) -> None:
        self._tail_wakeup = asyncio.Event()
        quiet = 0
        while not self._closed:
            key = self.model.selected
            if key is not None:
                try:
                    path = f"api/spaces/{q(key[0])}/panes/{q(key[1])}/screen"
                    got = await self.client.afetch("GET", path, query={"lines": 30})
                    if key == self.model.selected:
                        quiet = 0 if self.model.set_tail(str(got.get("text", ""))) else quiet + 1
                except ClientError as e:
                    if key == self.model.selected:
                        self.model.set_tail(f"({e})")
            # Slow down when the pane is quiet; events and picks wake the loop at once.
            wait = self.poll_interval if quiet < 30 else self.poll_interval * 3
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._tail_wakeup.wait(), wait)
            self._tail_wakeup.clear()

    async def search(self, query: str) -> None:
        params: dict[str, Any] = {"limit": 20}
        if query.strip():
            params["q"] = query.strip()
        else:
            params["order"] = "recent"
        try:
            got = await self.client.afetch("GET", "api/spaces/sessions", query=params)
        except ClientError as e:
            self.model.set_status(str(e))
            return
        self.model.set_sessions(query.strip(), list(got.get("sessions") or []))
        self._render_results()

    async def resume(self, session: dict[str, Any]) -> None:
        name = f"{session.get('agent')}:{session.get('id')}"
        path = f"api/spaces/sessions/{q(str(session['agent']))}/{q(str(session['id']))}/resume"
        try:
            pane = await self.client.afetch("POST", path, {})
        except ClientError as e:
            self.model.set_status(resume_refusal(e, name, session))
            return
        self.model.set_status(f"resumed {name} in pane {pane.get('id')}")
        await self.apply(
            {"schema_id": EVENTS_SCHEMA_ID, "action": "pane_created", "space_id": pane["space_id"]}
        )
        self.model.select((str(pane["space_id"]), str(pane["id"])))
