"""Who the hub says a server is for, and the checks that the spawner ran it as that user
(``jupyter_spaces/hub.py``); the real hub is in test_hub.py."""

from __future__ import annotations

import pwd

from jupyter_spaces.hub import describe, hub_server, identity_problems


def test_outside_a_hub_there_is_nothing_to_check() -> None:
    assert hub_server({"HOME": "/home/x"}) is None


def test_the_hubs_environment_names_the_server() -> None:
    env = {
        "JUPYTERHUB_USER": "alice",
        "JUPYTERHUB_SERVER_NAME": "gpu",
        "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/gpu/",
        "JUPYTERHUB_API_URL": "http://127.0.0.1:8081/hub/api",
    }
    server = hub_server(env)
    assert server is not None
    assert (server.user, server.server_name, server.prefix) == ("alice", "gpu", "/user/alice/gpu/")
    line = describe(server, "/tmp/jupyter-spaces-1000", "/home/alice/x.sqlite")
    assert "'alice' (server 'gpu')" in line and "/tmp/jupyter-spaces-1000" in line


def test_root_and_another_accounts_uid_are_refused_a_container_uid_is_not() -> None:
    server = hub_server({"JUPYTERHUB_USER": "no-such-account-jsp"})
    assert server is not None
    assert identity_problems(server, uid=1000) == []  # jovyan in the user's own pod
    [problem] = identity_problems(server, uid=0)
    assert "runs as root" in problem
    existing = pwd.getpwuid(0).pw_name  # an account that surely exists: root's
    other = hub_server({"JUPYTERHUB_USER": existing})
    assert other is not None
    [problem] = identity_problems(other, uid=4321)
    assert "runs as uid 4321" in problem and "is uid 0" in problem
