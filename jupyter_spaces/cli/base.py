"""What every ``jupyter spaces`` command shares: the server's configuration, ``--json``,
a parser that reports in one line."""

from __future__ import annotations

import argparse
import json
from typing import Any, NoReturn

from jupyter_core.application import JupyterApp
from traitlets import Bool

from .. import __version__
from ..app import SpacesApp


class _Command(JupyterApp):
    version = __version__
    # The server's own config files, so settings match what the server uses.
    config_file_name = "jupyter_server_config"
    json_output = Bool(False, config=True, help="Print JSON instead of text.")
    flags = {"json": ({"_Command": {"json_output": True}}, "Print JSON instead of text.")}
    classes = [SpacesApp]

    def settings(self) -> SpacesApp:
        return SpacesApp(config=self.config)

    def emit(self, data: Any, text: str) -> None:
        print(json.dumps(data, indent=2) if self.json_output else text)


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    # argparse prints the whole usage and exits; one line from us is clearer.
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)
