"""``jupyter spaces …``: commands that work with no server running.

They read the same configuration as the server (``c.SpacesApp.*`` in jupyter_server_config),
so ``doctor`` checks the tmux, socket directory and registry the server will use.
"""

from .app import SpacesCLI, main

__all__ = ["SpacesCLI", "main"]
