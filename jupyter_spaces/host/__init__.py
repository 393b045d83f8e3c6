"""The pane host: where pane processes live.

``tmux.TmuxServer`` is the durable host (processes outlive jupyter-server); ``control`` and
``stream`` carry a pane's live terminal; ``screen`` turns tmux's view of a pane into a redraw.
The manager only uses the operations in ``PaneHost``, so another host can stand in for tmux.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .tmux import PaneInfo


class PaneHost(Protocol):
    available: bool

    async def new_pane(
        self,
        name: str,
        argv: Sequence[str],
        cwd: str,
        env: dict[str, str],
        size: tuple[int, int] | None = None,
    ) -> PaneInfo: ...

    async def list_panes(self) -> dict[str, PaneInfo]: ...

    async def kill(self, name: str) -> None: ...

    async def send_text(self, name: str, text: str) -> None: ...

    async def capture(self, name: str, history: int) -> str: ...
