"""Reading a ``%spaces`` line: argparse that raises instead of exiting, and shell-like splitting."""

from __future__ import annotations

import argparse
import shlex
from typing import Any, NoReturn

from .errors import SpacesUsageError


class _ShowHelp(Exception):
    def __init__(self, text: str) -> None:
        self.text = text


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing and calling sys.exit."""

    def error(self, message: str) -> NoReturn:
        raise SpacesUsageError(f"{self.prog}: {message} (see {self.prog} --help)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise SpacesUsageError(message.strip() if message else f"{self.prog}: stopped")

    def print_help(self, file: Any = None) -> None:
        raise _ShowHelp(self.format_help())


def _parser(name: str, description: str) -> _Parser:
    return _Parser(prog=f"%spaces {name}", description=description, add_help=True)


def _positive(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, not {text!r}")
    return int(text)


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as e:
        raise SpacesUsageError(f"cannot read the line: {e}") from None


def _split_head(text: str) -> tuple[list[str], str | None]:
    """For ``send``: options and PANE as words; everything after PANE verbatim (quotes around
    the whole of it are removed)."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    head: list[str] = []
    expects_value = forced = False
    try:
        while True:
            token = lexer.get_token()
            if token is None or token == lexer.eof:
                return head, None
            head.append(token)
            if expects_value:
                expects_value = False
            elif forced or not token.startswith("-") or token == "-":
                break  # PANE
            elif token == "--":
                forced = True  # what follows is PANE even if it starts with "-"
            elif token == "--space":
                expects_value = True
    except ValueError as e:
        raise SpacesUsageError(f"cannot read the line: {e}") from None
    pos = lexer.instream.tell()  # type: ignore[attr-defined]
    rest = text[pos:].strip() if pos < len(text) else ""
    if not rest:
        return head, None
    if rest[0] in "'\"":
        try:
            words = shlex.split(rest)
        except ValueError:
            words = []
        if len(words) == 1:
            return head, words[0]
    return head, rest
