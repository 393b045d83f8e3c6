"""What every ``%spaces`` subcommand stands on: the server's client, this kernel's notebook and
its linked space, and finding spaces, panes and sessions by name."""

from __future__ import annotations

import os
import posixpath
import re
from typing import Any

from .client import ClientError, SpacesClient
from .discovery import ServerInfo, find_server
from .errors import SpacesMagicError, SpacesUsageError
from .results import Note

AGENTS = ("claude", "codex", "gemini")
META_KEY = "jupyter_spaces"
ENV_KEYS = ("JUPYTER_SPACES_URL", "JUPYTER_SPACES_TOKEN", "JUPYTERHUB_API_TOKEN")


class SpacesContext:
    """The state and lookups the subcommand groups share (mixed into ``SpacesMagics``)."""

    _server: ServerInfo | None
    _client: SpacesClient | None
    _client_key: tuple[str, ...]
    _notebook: str | None
    _notebook_known: bool
    _link: str | None
    _link_known: bool

    def _init_context(self, server: ServerInfo | None) -> None:
        self._server = server
        self._client = None
        self._client_key = ()
        self._notebook = None
        self._notebook_known = False
        self._link = None
        self._link_known = False

    # -- server, notebook, link -------------------------------------------------------------

    @property
    def client(self) -> SpacesClient:
        # Found again when the user changes the override (%env JUPYTER_SPACES_URL=...).
        key = tuple(os.environ.get(k, "") for k in ENV_KEYS)
        if self._client is None or key != self._client_key:
            self._client = SpacesClient(self._server or find_server())
            self._client_key = key
        return self._client

    def notebook_path(self) -> str | None:
        """This kernel's notebook, relative to the server root, from the server's sessions."""
        if self._notebook_known:
            return self._notebook
        kernel_id = _kernel_id()
        path = None
        if kernel_id is not None:
            for s in self.client.kernel_sessions():
                if (s.get("kernel") or {}).get("id") == kernel_id and str(
                    s.get("path", "")
                ).endswith(".ipynb"):
                    path = str(s["path"])
                    break
        self._notebook, self._notebook_known = path, True
        return path

    def linked_space(self) -> str | None:
        """The space id in the notebook's metadata (``metadata.jupyter_spaces.space``)."""
        if self._link_known:
            return self._link
        link = None
        path = self.notebook_path()
        if path is not None:
            try:
                nb = self._read_notebook(path)
            except ClientError as e:
                if e.status != 404:  # a notebook not saved yet has no link, no error
                    raise
            else:
                meta = nb.metadata.get(META_KEY) or {}
                value = meta.get("space") if isinstance(meta, dict) else None
                link = value if isinstance(value, str) and value else None
        self._link, self._link_known = link, True
        return link

    def _read_notebook(self, path: str) -> Any:
        import nbformat

        model = self.client.contents(path)
        return nbformat.from_dict(model["content"])

    # -- lookups ----------------------------------------------------------------------------

    def space(self, ref: str | None) -> dict[str, Any]:
        """A space by id, name or folder; None means the notebook's linked space."""
        if ref is None:
            linked = self.linked_space()
            if linked is None:
                raise SpacesUsageError(
                    "which space? name one, or link this notebook to a space with "
                    "%spaces link SPACE"
                )
            ref = linked
        spaces = self.client.spaces()
        for test in (
            lambda s: s.get("id") == ref,
            lambda s: s.get("name") == ref,
            lambda s: (s.get("path") or "").strip("/") == ref.strip("/") and ref.strip("/"),
            lambda s: str(s.get("name", "")).lower() == ref.lower(),
        ):
            found = [s for s in spaces if test(s)]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                ids = ", ".join(str(s["id"]) for s in found)
                raise SpacesMagicError(f"{len(found)} spaces are called {ref!r} ({ids}); use an id")
        if not spaces:
            raise SpacesMagicError(
                f"no space {ref!r}: there are no spaces yet; create one with %spaces new PATH"
            )
        known = ", ".join(f"{s.get('name')} ({s.get('id')})" for s in spaces[:8])
        more = ", …" if len(spaces) > 8 else ""
        raise SpacesMagicError(f"no space {ref!r}; the spaces are: {known}{more}")

    def pane(self, ref: str, space_ref: str | None = None) -> dict[str, Any]:
        """A pane by id or title: in ``space_ref``, else in the linked space, else anywhere;
        ``SPACE/PANE`` names both."""
        if space_ref is not None:
            return self._pane_in(self.space(space_ref), ref)
        linked = self.linked_space()
        if linked is not None:
            try:
                return self._pane_in(self.space(linked), ref)
            except SpacesMagicError:
                pass  # not in the linked space: look everywhere below
        spaces = self.client.spaces()
        panes = [p for s in spaces for p in s.get("panes") or []]
        for test in (lambda p: p.get("id") == ref, lambda p: p.get("title") == ref):
            found = [p for p in panes if test(p)]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                where = ", ".join(f"{p['space_id']}/{p['id']}" for p in found)
                raise SpacesMagicError(
                    f"{len(found)} panes are called {ref!r} ({where}); name one as SPACE/PANE "
                    "or by its id"
                )
        if "/" in ref:
            space_part, pane_part = ref.rsplit("/", 1)
            return self._pane_in(self.space(space_part), pane_part)
        if not panes:
            raise SpacesMagicError(f"no pane {ref!r}: no space has panes yet (%spaces run SPACE)")
        raise SpacesMagicError(f"no pane {ref!r}; %spaces list SPACE shows a space's panes")

    def _pane_in(self, space: dict[str, Any], ref: str) -> dict[str, Any]:
        panes = list(space.get("panes") or [])
        for test in (lambda p: p.get("id") == ref, lambda p: p.get("title") == ref):
            found = [p for p in panes if test(p)]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                ids = ", ".join(str(p["id"]) for p in found)
                raise SpacesMagicError(f"{len(found)} panes are called {ref!r} ({ids}); use an id")
        known = ", ".join(f"{p.get('title')} ({p.get('id')})" for p in panes[:8]) or "none"
        raise SpacesMagicError(f"no pane {ref!r} in space {space.get('name')}; its panes: {known}")

    def session(self, ref: str) -> dict[str, Any]:
        """An agent session from ``AGENT:ID``, a whole id or a unique id prefix."""
        agent, _, sid = ref.partition(":")
        if sid and agent in AGENTS:
            try:
                return self.client.session(agent, sid)
            except ClientError as e:
                if e.status != 404:
                    raise
                agents: tuple[str, ...] = (agent,)
                prefix = sid
        else:
            agents, prefix = AGENTS, ref
            for a in AGENTS:
                try:
                    return self.client.session(a, ref)
                except ClientError as e:
                    if e.status != 404:
                        raise
        found: dict[tuple[str, str], dict[str, Any]] = {}
        page = 200
        for offset in range(0, 5000, page):  # a prefix needs the listing; bounded
            got = self.client.sessions(limit=page, offset=offset, order="recent", subagents="true")[
                "sessions"
            ]
            for s in got:
                if s.get("agent") in agents and str(s.get("id", "")).startswith(prefix):
                    found[(s["agent"], s["id"])] = s
            if len(got) < page:
                break
        if len(found) == 1:
            return next(iter(found.values()))
        if found:
            names = ", ".join(f"{a}:{i}" for a, i in list(found)[:6])
            raise SpacesMagicError(
                f"{len(found)} sessions start with {prefix!r} ({names}); say more"
            )
        raise SpacesMagicError(f"no agent session {ref!r}; %spaces sessions QUERY searches them")

    def _folder(self, path: str) -> str:
        """PATH relative to the server root; ``.``, ``./x``, ``../x`` are taken from this
        notebook's folder (or the kernel's working directory when there is no notebook)."""
        if path != "." and not path.startswith(("./", "../")) and path != "..":
            return path.strip("/")
        nb = self.notebook_path()
        if nb is not None:
            base = posixpath.dirname(nb)
        else:
            root = self.client.server.root_dir
            cwd = os.getcwd()
            if root is None or os.path.relpath(cwd, root).startswith(".."):
                raise SpacesUsageError(
                    f"cannot tell where {path!r} is on the server; give PATH from the server root"
                )
            base = os.path.relpath(cwd, root).replace(os.sep, "/")
        joined = posixpath.normpath(posixpath.join(base, path))
        if joined.startswith(".."):
            raise SpacesUsageError(f"{path!r} leads outside the server's root")
        return "" if joined == "." else joined

    def _write_link(self, space_id: str | None) -> Note:
        """Write the link into the notebook file through the server's contents API."""
        import nbformat

        path = self.notebook_path()
        if path is None:
            raise SpacesMagicError(
                "cannot link: the server has no notebook for this kernel (is it a console "
                "or a script?); pass SPACE to each command instead"
            )
        try:
            nb = self._read_notebook(path)
        except ClientError as e:
            if e.status == 404:
                raise SpacesMagicError(f"cannot link: save {path} first") from None
            raise
        meta = dict(nb.metadata.get(META_KEY) or {})
        if space_id is None:
            meta.pop("space", None)
        else:
            meta["space"] = space_id
        if meta:
            nb.metadata[META_KEY] = meta
        else:
            nb.metadata.pop(META_KEY, None)
        nbformat.validate(nb)
        self.client.save_contents(path, {"type": "notebook", "format": "json", "content": nb})
        self._link, self._link_known = space_id, True
        what = f"linked {path} to space {space_id}" if space_id else f"unlinked {path}"
        return Note(
            f"{what} (saved in its metadata). JupyterLab will say the file changed on disk: "
            "choose Revert to load it; Overwrite keeps your open version without the link",
            space=space_id,
        )


def _kernel_id() -> str | None:
    """This kernel's id: the server names connection files ``kernel-<id>.json``."""
    try:
        from ipykernel.connect import get_connection_file

        name = os.path.basename(get_connection_file())
    except Exception:
        return None
    m = re.fullmatch(r"kernel-(.+)\.json", name)
    return m.group(1) if m else None
