"""Activity: what of the panes counts as work, for JupyterHub's idle culler.

jupyter-server reports ``last_activity`` (``GET /api/status``; JupyterHub's single-user server
posts it to the hub, whose idle culler reads it) as the latest of its own sources (API requests,
kernels) and of the times extensions put in the ``last_activity_times`` setting, the hook it
documents for extensions that must keep a server from being culled. This service owns two
entries there:

- ``jupyter_spaces.input``: the last time a user typed into a pane (the channel's ``stdin`` or
  ``POST …/input``). A user at the keyboard is activity whatever the policy, as typing into a
  notebook's kernel or a stock terminal is.
- ``jupyter_spaces.panes``: what the panes do on their own, by ``activity_policy``:

  - ``agents`` (default): now, while any agent pane is ``working`` or ``needs_input`` (the agent
    state service's word); a dev server printing a log line a minute is not work;
  - ``output``: the last output of any live pane (what tmux notes per window);
  - ``none``: nothing.

  Panes alone keep a server alive for at most ``max_keepalive_hours`` after the user's own last
  activity (every other source of jupyter-server's ``last_activity``: requests, kernels, typing,
  the server's start): the entry is never later than that. An agent left working over a weekend
  then lets the culler stop the server after the keep-alive plus the culler's timeout; its panes
  come back from their captures and workspace files at the next start.

Reads through the spaces API (``GET``) and the event bus are not user activity (see
``handlers.SpacesAPIHandler.update_api_activity``): an open browser tab alone does not count.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from ..host.tmux import PaneInfo
from .settings import SpacesSettings

POLICIES = ("agents", "output", "none")
INPUT_KEY = "jupyter_spaces.input"
PANES_KEY = "jupyter_spaces.panes"
# Seconds between two records of typing (each keystroke need not touch a dict).
INPUT_EVERY = 1.0
EPOCH = datetime.fromtimestamp(0, timezone.utc)


def utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, timezone.utc)


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class Activity:
    def __init__(
        self,
        settings: SpacesSettings,
        log: logging.Logger,
        busy: Callable[[], bool],
        web_settings: dict[str, Any],
    ) -> None:
        """``busy`` says whether any agent pane works or waits for its user now;
        ``web_settings`` is the dict jupyter-server's ``last_activity()`` reads (the
        extension's own settings are a copy)."""
        self.settings = settings
        self.log = log
        self.busy = busy
        self.web_settings = web_settings
        self._typed_at = 0.0

    @property
    def times(self) -> dict[str, datetime]:
        times: dict[str, datetime] = self.web_settings.setdefault("last_activity_times", {})
        return times

    def typed(self) -> None:
        """A user typed into a pane: activity under every policy."""
        now = time.time()
        if now - self._typed_at >= INPUT_EVERY:
            self._typed_at = now
            self.times[INPUT_KEY] = utc(now)

    def user_last_activity(self) -> datetime:
        """The latest of jupyter-server's activity sources except what panes do alone."""
        sources: list[Any] = [self.web_settings.get("started")]
        kernels = self.web_settings.get("kernel_manager")
        sources.append(getattr(kernels, "last_kernel_activity", None))
        sources += [v for k, v in self.web_settings.items() if k.endswith("_last_activity")]
        sources += [v for k, v in self.times.items() if k != PANES_KEY]
        return max((t for t in map(_aware, sources) if t is not None), default=EPOCH)

    def pane_activity(self, infos: Iterable[PaneInfo], now: float) -> datetime | None:
        """When the panes last did work by the policy (None: never, as far as is known)."""
        policy = self.settings.activity_policy
        if policy == "agents":
            return utc(now) if self.busy() else None
        if policy == "output":
            latest = max((i.activity for i in infos if not i.dead), default=0)
            return utc(latest) if latest else None
        return None

    def update(self, infos: dict[tuple[str, str], PaneInfo], now: float | None = None) -> None:
        """Record what the panes did (called after each look at the panes)."""
        if self.settings.activity_policy == "none":
            self.times.pop(PANES_KEY, None)
            return
        seen = self.pane_activity(infos.values(), time.time() if now is None else now)
        if seen is None:
            return
        limit = self.user_last_activity() + timedelta(hours=self.settings.max_keepalive_hours)
        value = min(seen, limit)
        if value > self.times.get(PANES_KEY, EPOCH):
            self.times[PANES_KEY] = value
