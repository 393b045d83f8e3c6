"""Pane titles in `%spaces list` and the `%spaces` panel follow the foreground program, as the
front end's do (labextension/src/paneident.ts), until the pane is renamed."""

from __future__ import annotations

from jupyter_spaces.kernel.results import display_title, is_shell_program, pane_row


def shell(foreground: str | None, title: str = "shell", state: str = "running") -> dict:
    return {"id": "p1", "kind": "shell", "title": title, "foreground": foreground, "state": state}


def test_four_shells_are_told_apart() -> None:
    names = [display_title(shell(p)) for p in ("top", "vim", "python3", "bash")]
    assert names == ["top", "vim", "python3", "shell"]


def test_a_chosen_title_stays_and_defaults_fall_back() -> None:
    assert display_title(shell("top", title="monitor")) == "monitor"
    assert display_title(shell("top", state="exited")) == "shell"
    assert display_title({"kind": "agent", "agent": "claude", "title": "claude"}) == "claude"
    assert display_title({"kind": "command", "title": "make", "foreground": "cc1"}) == "make"
    assert is_shell_program("-zsh") and is_shell_program(None) and not is_shell_program("htop")


def test_the_list_row_shows_it() -> None:
    assert pane_row(shell("htop"))[1] == "htop"


def test_usage_lines_are_sentences_not_dicts() -> None:
    from jupyter_spaces.kernel.pane_commands import PaneCommands

    run = PaneCommands._p_run(None).format_usage()  # type: ignore[arg-type]
    send = PaneCommands._p_send(None).format_usage()  # type: ignore[arg-type]
    assert run.startswith("usage: %spaces run [SPACE] [--title T]"), run
    assert send.startswith("usage: %spaces send [--space S]") and "|  %spaces send PANE" in send
    assert "{" not in run + send
