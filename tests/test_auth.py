"""Every route goes through jupyter-server's authentication, authorization and XSRF checks.
Routes are enumerated from the running app, so a route added later cannot be forgotten."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from jupyter_spaces.handlers import route_table

from .conftest import needs_tmux

pytestmark = needs_tmux

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")


def spaces_routes(serverapp: Any) -> list[tuple[str, type]]:
    """(pattern, handler) for every route of the web app under api/spaces."""
    found = []

    def walk(rules: list[Any]) -> None:
        for rule in rules:
            if hasattr(rule.target, "rules"):
                walk(rule.target.rules)
                continue
            pattern = getattr(rule.matcher, "regex", None)
            if pattern is not None and "api/spaces" in pattern.pattern:
                found.append((pattern.pattern, rule.target))

    app = serverapp.web_app
    walk(app.default_router.rules + app.wildcard_router.rules)
    return found


def concrete(pattern: str, space_id: str, pane_id: str) -> str:
    path = re.sub(r"\(\?P<space_id>[^)]*\)", space_id, pattern)
    path = re.sub(r"\(\?P<pane_id>[^)]*\)", pane_id, path)
    path = re.sub(r"\(\?P<agent>[^)]*\)", "claude", path)
    path = re.sub(r"\(\?P<session_id>[^)]*\)", "0b0e4c1e-3d7c-4a51-9a56-1f1a1f1a1f1a", path)
    path = re.sub(r"\(\?P<snapshot_id>[^)]*\)", "20260101-120000-abcd", path)
    return path.rstrip("$")


def implemented(handler: type) -> list[str]:
    from tornado.web import RequestHandler

    return [
        m
        for m in METHODS
        if getattr(handler, m.lower(), None) is not getattr(RequestHandler, m.lower(), None)
    ]


async def make_ids(api, jp_root_dir) -> tuple[str, str]:
    (jp_root_dir / "p").mkdir()
    _, space = await api("POST", body={"path": "p"})
    _, pane = await api("POST", space["id"], "panes", body={"kind": "command", "argv": ["cat"]})
    return space["id"], pane["id"]


async def test_every_route_refuses_unauthenticated_requests(
    jp_serverapp, jp_http_port, api, jp_root_dir
):
    ids = await make_ids(api, jp_root_dir)
    routes = spaces_routes(jp_serverapp)
    assert {h for _, h in routes} == {h for _, h in route_table()}, "all our routes are found"
    client = AsyncHTTPClient()
    checked = 0
    for pattern, handler in routes:
        path = concrete(pattern, *ids)
        url = f"http://127.0.0.1:{jp_http_port}{path}"
        if path.endswith("/channel"):
            with pytest.raises(HTTPClientError) as e:
                await websocket_connect(url.replace("http", "ws", 1))
            assert e.value.code == 403, path
            checked += 1
            continue
        for method in implemented(handler):
            body = "{}" if method in ("POST", "PATCH", "PUT") else None
            r = await client.fetch(url, method=method, body=body, raise_error=False)
            assert r.code == 403, f"{method} {path} answered {r.code} without credentials"
            checked += 1
    assert checked >= 12


async def test_mutating_requests_with_a_cookie_need_the_xsrf_token(
    jp_http_port, jp_base_url, jp_serverapp, jp_fetch
):
    token = jp_serverapp.identity_provider.token
    base = f"http://127.0.0.1:{jp_http_port}{jp_base_url}"
    client = AsyncHTTPClient()
    # Logging in with the token in the URL gives a login cookie and an _xsrf cookie.
    r = await client.fetch(f"{base}api/spaces?token={token}", raise_error=False)
    cookies = dict(c.split(";", 1)[0].split("=", 1) for c in r.headers.get_list("Set-Cookie"))
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    listing = await client.fetch(HTTPRequest(f"{base}api/spaces", headers={"Cookie": cookie}))
    assert listing.code == 200, "the cookie authenticates"
    r = await client.fetch(
        HTTPRequest(
            f"{base}api/spaces",
            method="POST",
            body=json.dumps({"path": ""}),
            headers={"Cookie": cookie},
        ),
        raise_error=False,
    )
    assert r.code == 403 and b"xsrf" in r.body.lower()
