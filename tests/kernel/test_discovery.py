"""The discovery order, on made-up runtime dirs and process trees (the real path, a kernel
launched by a real server, is covered in test_magics.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from jupyter_spaces.kernel.discovery import DiscoveryError, ancestors, find_server


def server_file(d: Path, pid: int, port: int, token: str = "tok", **extra: object) -> None:
    info = {"url": f"http://127.0.0.1:{port}/", "token": token, "pid": pid, "root_dir": "/r"}
    (d / f"jpserver-{pid}.json").write_text(json.dumps({**info, **extra}))


def test_override_comes_first(tmp_path: Path) -> None:
    server_file(tmp_path, os.getpid(), 1)
    env = {"JUPYTER_SPACES_URL": "http://h:9/base", "JUPYTER_SPACES_TOKEN": "t"}
    s = find_server(env, [tmp_path], [os.getpid()])
    assert (s.url, s.token, s.source) == ("http://h:9/base/", "t", "JUPYTER_SPACES_URL")


def test_jupyterhub_service_url_and_prefix(tmp_path: Path) -> None:
    env = {
        "JUPYTERHUB_API_TOKEN": "hub",
        "JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:8888",
        "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/",
    }
    s = find_server(env, [tmp_path], [])
    assert (s.url, s.token) == ("http://127.0.0.1:8888/user/alice/", "hub")
    env["JUPYTERHUB_SERVICE_URL"] = "http://127.0.0.1:8888/user/alice/"
    assert find_server(env, [tmp_path], []).url == "http://127.0.0.1:8888/user/alice/"


def test_hub_token_without_url_goes_with_the_parent_server(tmp_path: Path) -> None:
    server_file(tmp_path, os.getpid(), 7, token="")
    s = find_server({"JUPYTERHUB_API_TOKEN": "hub"}, [tmp_path], [os.getpid()])
    assert (s.url, s.token) == ("http://127.0.0.1:7/", "hub")


def test_the_parent_server_wins_over_others(tmp_path: Path) -> None:
    server_file(tmp_path, os.getppid(), 1)
    server_file(tmp_path, os.getpid(), 2)  # alive, but not an ancestor in this made-up tree
    s = find_server({}, [tmp_path], [12345678, os.getppid()])
    assert s.url == "http://127.0.0.1:1/" and s.pid == os.getppid()


def test_one_live_server_is_a_last_resort_and_stale_files_are_skipped(tmp_path: Path) -> None:
    server_file(tmp_path, os.getpid(), 3)
    server_file(tmp_path, 2**22 + 12345, 4)  # no such process
    s = find_server({}, [tmp_path], [1])
    assert s.url == "http://127.0.0.1:3/" and "only running-server file" in s.source


def test_two_candidates_and_none_are_explained(tmp_path: Path) -> None:
    server_file(tmp_path, os.getpid(), 5)
    server_file(tmp_path, os.getppid(), 6)
    with pytest.raises(DiscoveryError) as e:
        find_server({}, [tmp_path], [1])
    msg = str(e.value)
    assert "2 servers run" in msg and "\n" not in msg and "JUPYTER_SPACES_URL=" in msg
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DiscoveryError, match="no live server has a file there"):
        find_server({}, [empty], [1])


def test_unix_socket_servers_are_named(tmp_path: Path) -> None:
    server_file(tmp_path, os.getppid(), 0, sock="/tmp/j.sock")
    with pytest.raises(DiscoveryError, match=r"Unix socket /tmp/j\.sock"):
        find_server({}, [tmp_path], [os.getppid()])


def test_ancestors_walk_up_from_the_parent() -> None:
    chain = ancestors()
    assert chain[0] == os.getppid()
    assert chain[-1] == 1 or len(chain) == 64
