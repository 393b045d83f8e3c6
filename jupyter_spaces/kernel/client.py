"""A small client of the jupyter-spaces REST API, for the kernel side (``%spaces``, the panel).

Synchronous calls use the standard library's ``urllib``: the magics run in the kernel's main
thread while a cell executes (nothing else would run anyway), and it adds no dependency to every
kernel environment. The panel's background updates use tornado's async client on the kernel's
own event loop (:meth:`SpacesClient.afetch`), so a live panel never blocks the kernel.

Every failure becomes :class:`ClientError`, whose text is one line: the server's
``{"message"}`` when it gave one, else what went wrong and with which server.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from .discovery import ServerInfo


class ClientError(Exception):
    """A refused or failed request; ``str()`` is one line."""

    def __init__(
        self, message: str, status: int | None = None, body: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body or {}

    @property
    def reason(self) -> str | None:
        reason = self.body.get("reason")
        return reason if isinstance(reason, str) else None

    def __str__(self) -> str:
        return self.message


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def q(part: str) -> str:
    """One path segment, quoted."""
    return quote(part, safe="")


class SpacesClient:
    """Calls on one server. Paths are relative to the server's base URL (``api/spaces``)."""

    def __init__(self, server: ServerInfo, timeout: float = 30) -> None:
        self.server = server
        self.timeout = timeout

    @property
    def base_url(self) -> str:
        return self.server.url

    def headers(self) -> dict[str, str]:
        h = {"Accept": "application/json"}
        if self.server.token:
            h["Authorization"] = f"token {self.server.token}"
        return h

    def url(self, path: str, query: Mapping[str, Any] | None = None) -> str:
        url = self.server.url + path.lstrip("/")
        params = {k: v for k, v in (query or {}).items() if v is not None}
        return url + ("?" + urlencode(params) if params else "")

    def _error(self, status: int, raw: bytes, url: str) -> ClientError:
        body: dict[str, Any] = {}
        try:
            parsed = json.loads(raw or b"null")
            if isinstance(parsed, dict):
                body = parsed
        except ValueError:
            pass
        message = body.get("message")
        if not isinstance(message, str):
            message = None
        # A token the server does not accept: a bare 401/403, or (for POST, PUT, ...) the XSRF
        # check, which only applies to requests that the token did not authenticate.
        refused = status == 401 or (
            status == 403 and (not message or message == "Forbidden" or "_xsrf" in message)
        )
        if refused:
            return ClientError(
                f"the server at {self.server.url} refused the token ({status}; found via "
                f"{self.server.source}); set JUPYTER_SPACES_TOKEN to a valid token",
                status,
                body,
            )
        if isinstance(message, str) and message:
            return ClientError(_one_line(message), status, body)
        if status == 404:
            return ClientError(f"not found on the server: {url.split('?')[0]}", status, body)
        return ClientError(f"the server answered {status} for {url.split('?')[0]}", status, body)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
    ) -> Any:
        """The decoded JSON answer (None for an empty one), or :class:`ClientError`."""
        url = self.url(path, query)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method, headers=self.headers())
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            raise self._error(e.code, e.read(), url) from None
        except (urllib.error.URLError, OSError) as e:
            why = getattr(e, "reason", e)
            raise ClientError(
                f"cannot reach the Jupyter server at {self.server.url} (found via "
                f"{self.server.source}): {why}"
            ) from None
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            raise ClientError(f"the server sent something that is not JSON for {path}") from None

    async def afetch(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
    ) -> Any:
        """As :meth:`request`, without blocking the event loop (tornado's client)."""
        from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

        url = self.url(path, query)
        req = HTTPRequest(
            url,
            method=method,
            headers=self.headers(),
            body=None if body is None else json.dumps(body),
            request_timeout=self.timeout,
        )
        try:
            r = await AsyncHTTPClient().fetch(req)
        except HTTPClientError as e:
            raw = e.response.body if e.response is not None else b""
            raise self._error(e.code, raw, url) from None
        except OSError as e:
            raise ClientError(
                f"cannot reach the Jupyter server at {self.server.url}: {e}"
            ) from None
        return json.loads(r.body) if r.body else None

    def ws_url(self, path: str, query: Mapping[str, Any] | None = None) -> str:
        url = self.url(path, query)
        return "ws" + url[4:] if url.startswith("http") else url

    # -- the calls %spaces makes ------------------------------------------------------------

    def spaces(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "api/spaces")["spaces"])

    def space(self, space_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"api/spaces/{q(space_id)}"))

    def create_space(self, path: str, name: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"path": path}
        if name is not None:
            body["name"] = name
        return dict(self.request("POST", "api/spaces", body))

    def create_pane(self, space_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("POST", f"api/spaces/{q(space_id)}/panes", body))

    def pane(self, space_id: str, pane_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"api/spaces/{q(space_id)}/panes/{q(pane_id)}"))

    def send(self, space_id: str, pane_id: str, text: str) -> None:
        self.request("POST", f"api/spaces/{q(space_id)}/panes/{q(pane_id)}/input", {"text": text})

    def screen(self, space_id: str, pane_id: str, lines: int) -> dict[str, Any]:
        path = f"api/spaces/{q(space_id)}/panes/{q(pane_id)}/screen"
        return dict(self.request("GET", path, query={"lines": lines}))

    def sessions(self, **query: Any) -> dict[str, Any]:
        return dict(self.request("GET", "api/spaces/sessions", query=query))

    def usage(self, **query: Any) -> dict[str, Any]:
        return dict(self.request("GET", "api/spaces/usage", query=query))

    def session(self, agent: str, session_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"api/spaces/sessions/{q(agent)}/{q(session_id)}"))

    def messages(self, agent: str, session_id: str, page: int = 200) -> list[dict[str, Any]]:
        """Every message of a session, page by page."""
        out: list[dict[str, Any]] = []
        path = f"api/spaces/sessions/{q(agent)}/{q(session_id)}/messages"
        while True:
            got = self.request("GET", path, query={"limit": page, "offset": len(out)})["messages"]
            out.extend(got)
            if len(got) < page:
                return out

    def resume(self, agent: str, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
        path = f"api/spaces/sessions/{q(agent)}/{q(session_id)}/resume"
        return dict(self.request("POST", path, body))

    def kernel_sessions(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "api/sessions"))

    def contents(self, path: str, content: bool = True) -> dict[str, Any]:
        query = {"content": 1 if content else 0}
        return dict(self.request("GET", "api/contents/" + quote(path), query=query))

    def save_contents(self, path: str, model: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("PUT", "api/contents/" + quote(path), model))
