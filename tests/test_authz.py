"""With an authorizer that denies the ``spaces`` resource, every route answers 403."""

from __future__ import annotations

from typing import Any

import pytest
from jupyter_server.auth.authorizer import Authorizer
from tornado.httpclient import HTTPClientError

from .test_auth import concrete, implemented, spaces_routes


class NoSpaces(Authorizer):
    """Lets the user do anything except touch spaces."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return resource != "spaces"


@pytest.fixture
def jp_server_config(jp_server_config):  # type: ignore[no-untyped-def]
    return {
        **jp_server_config,
        "ServerApp": {**jp_server_config["ServerApp"], "authorizer_class": NoSpaces},
    }


async def test_every_route_checks_authorization(jp_serverapp, jp_fetch, jp_ws_fetch):
    checked = 0
    for pattern, handler in spaces_routes(jp_serverapp):
        parts = concrete(pattern, "abcd1234", "ef567890").split("/api/", 1)[1].split("/")
        if parts[-1] == "channel":
            with pytest.raises(HTTPClientError) as e:
                await jp_ws_fetch("api", *parts)
            assert e.value.code == 403
            checked += 1
            continue
        for method in implemented(handler):
            body = "{}" if method in ("POST", "PATCH", "PUT") else None
            with pytest.raises(HTTPClientError) as e:
                await jp_fetch("api", *parts, method=method, body=body)
            assert e.value.code == 403, f"{method} {parts}"
            checked += 1
    assert checked >= 12
