"""Running under JupyterHub: who the hub says this server is for, and whether this process is
that user (docs/jupyterhub.md).

The extension adds nothing multi-tenant of its own. Under a hub each user has their own
single-user server, and everything of jupyter-spaces runs inside it: the private tmux server
(started by this process, so with its uid), its socket in a 0700 folder this uid owns
(``$XDG_RUNTIME_DIR/jupyter-spaces`` where the spawner sets a writable one, else
``/tmp/jupyter-spaces-<uid>``; a folder of another uid is refused), the agent index and the
trust secret in this user's Jupyter data folder, the agents' folders under this user's ``$HOME``.
Who may reach the server's API at all (its owner, and whoever the hub grants
``access:servers!server=<user>/<name>``; not even an admin otherwise) is the hub's OAuth,
checked by jupyter-server's identity provider before any handler of this extension runs.

What this module adds is a check that the spawner did run the server as the user: a server that
runs as root, or as a local account other than the hub user's, would run every pane so too.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class HubServer:
    user: str  # JUPYTERHUB_USER: the hub's name of the server's owner
    server_name: str  # JUPYTERHUB_SERVER_NAME: '' for the default server
    prefix: str  # JUPYTERHUB_SERVICE_PREFIX, e.g. /user/alice/
    api_url: str  # JUPYTERHUB_API_URL


def hub_server(environ: Mapping[str, str] | None = None) -> HubServer | None:
    """The hub's description of this server, or None when not spawned by a hub."""
    env = os.environ if environ is None else environ
    user = env.get("JUPYTERHUB_USER")
    if not user:
        return None
    return HubServer(
        user=user,
        server_name=env.get("JUPYTERHUB_SERVER_NAME", ""),
        prefix=env.get("JUPYTERHUB_SERVICE_PREFIX", ""),
        api_url=env.get("JUPYTERHUB_API_URL", ""),
    )


def identity_problems(server: HubServer, uid: int | None = None) -> list[str]:
    """What is wrong with who this process is, for the hub user it serves (empty: nothing).

    - uid 0: every pane would run as root;
    - a local account with the hub user's name and another uid: the spawner did not switch to
      it (LocalProcessSpawner and SystemdSpawner do; containers usually run everyone as one
      uid such as jovyan, with no account named after the user, which is fine: the pod is the
      user's).
    """
    uid = os.getuid() if uid is None else uid
    problems = []
    if uid == 0:
        problems.append(
            f"this server for hub user {server.user!r} runs as root, so every pane and agent "
            "would too: have the spawner run it as the user (LocalProcessSpawner, "
            "SystemdSpawner) or as an unprivileged uid in the user's container"
        )
    try:
        account = pwd.getpwnam(server.user)
    except KeyError:
        return problems
    if account.pw_uid != uid and uid != 0:
        problems.append(
            f"this server for hub user {server.user!r} runs as uid {uid}, but the local "
            f"account {server.user!r} is uid {account.pw_uid}: panes would run as uid {uid}"
        )
    return problems


def describe(server: HubServer, socket_dir: str, index_path: str) -> str:
    """One line for the server's log and ``jupyter spaces doctor``."""
    name = f" (server {server.server_name!r})" if server.server_name else ""
    return (
        f"JupyterHub user {server.user!r}{name}, uid {os.getuid()}: tmux socket in "
        f"{socket_dir}, agent index {index_path}"
    )
