"""jupyter-spaces: durable terminal and agent panes beside your notebooks."""

from typing import Any

__version__ = "0.1.0"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-spaces"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import SpacesApp

    return [{"module": "jupyter_spaces", "app": SpacesApp}]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_spaces``: registers the ``%spaces`` magics."""
    from .kernel.magics import SpacesMagics

    ipython.register_magics(SpacesMagics)
