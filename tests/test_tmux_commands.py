"""The control-mode command line and send-keys encoding, against a real tmux."""

from __future__ import annotations

import asyncio
from pathlib import Path

from jupyter_spaces.host.control import ControlClient
from jupyter_spaces.host.tmux import TmuxServer, command_line, quote, send_keys_commands

from .conftest import needs_tmux

pytestmark = needs_tmux

AWKWARD = ["%0:pause", "#comment", "~root", "$HOME", "{x}", "a;b", "semi;", "it's", "\\", "é ☃"]


async def test_awkward_arguments_reach_tmux_verbatim(tmux_dir: Path) -> None:
    tmux = TmuxServer(tmux_dir / "s")
    tmux.prepare()
    await tmux.new_pane("jsp_aaaa_bbbb", ["cat"], "/tmp", {})
    client = ControlClient(tmux, "jsp_aaaa_bbbb", lambda d: None, lambda n, a: None, lambda r: None)
    await client.start(pause_after=5)
    try:
        for arg in AWKWARD:
            _, shown = await client.run(
                [["set-option", "-g", "@t", arg], ["show-options", "-gqv", "@t"]]
            )
            assert not shown.error, (arg, shown.text())
            assert shown.text() == arg, (quote(arg), shown.text())
        # Several commands on one line each get their own reply, in order.
        cmds = []
        for i, arg in enumerate(AWKWARD):
            cmds += [["set-option", "-g", f"@t{i}", arg], ["show-options", "-gqv", f"@t{i}"]]
        replies = await client.run(cmds)
        assert [r.text() for r in replies[1::2]] == AWKWARD
    finally:
        await client.close()


async def test_typed_text_arrives_byte_for_byte(tmux_dir: Path, tmp_path: Path) -> None:
    tmux = TmuxServer(tmux_dir / "s")
    tmux.prepare()
    out = tmp_path / "typed"
    # stty raw: the terminal passes every byte through, so the file holds exactly what was typed.
    await tmux.new_pane(
        "jsp_aaaa_cccc", ["sh", "-c", f"stty raw -echo; head -c 64 > {out}"], "/tmp", {}
    )
    text = "a;b 'q' \\ %0 #x ~ $HOME {y} é☃\x01\x1b[A\t" + "z" * 20
    data = text.encode()
    text += "." * (64 - len(data))
    await asyncio.sleep(0.2)
    await tmux.send_text("jsp_aaaa_cccc", text)
    for _ in range(100):
        if out.exists() and out.stat().st_size == 64:
            break
        await asyncio.sleep(0.05)
    assert out.read_bytes() == text.encode()
    assert command_line(send_keys_commands("=x:", "it's")).count("send-keys") == 3
