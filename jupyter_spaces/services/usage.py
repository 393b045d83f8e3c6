"""Usage: the usage report over the agent index's usage events and the agent state history.

Owns nothing but the pricer (rebuilt when the price overrides change). It reads events through
the session index's public queries, spaces and titles through ``SessionService`` and time per
state through ``AgentStates.intervals``. See :mod:`jupyter_spaces.usage.report`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

from ..agents import SessionIndex
from ..errors import SpacesError
from ..sessions import SessionService
from ..usage.pricing import Pricer
from ..usage.report import Interval, UsageQueryError, parse_query, report
from .agent_state import AgentStates
from .settings import SpacesSettings


class Usage:
    def __init__(
        self,
        settings: SpacesSettings,
        log: logging.Logger,
        index: SessionIndex,
        sessions: SessionService,
        agent_states: AgentStates,
    ) -> None:
        self.settings = settings
        self.log = log
        self.index = index
        self.sessions = sessions
        self.agent_states = agent_states
        self._pricer: tuple[Any, Pricer] | None = None

    def pricer(self) -> Pricer:
        overrides = self.settings.usage_price_overrides
        if self._pricer is None or self._pricer[0] != overrides:
            self._pricer = (dict(overrides), Pricer(overrides))
        return self._pricer[1]

    async def report(self, args: dict[str, str]) -> dict[str, Any]:
        """``GET /api/spaces/usage``: SpacesError(400) with the reason for a bad parameter."""
        spaces = dict(self.sessions.spaces())
        try:
            query = parse_query(args, spaces)
        except UsageQueryError as e:
            raise SpacesError(400, str(e)) from None
        pricer = self.pricer()
        now = time.time()
        lo = query.since if query.since is not None else 0.0
        hi = query.until if query.until is not None else math.inf
        raw = self.agent_states.intervals(lo, min(hi, now + 1))

        def run() -> dict[str, Any]:
            events = self.index.usage_events(
                query.since, query.until, agent=query.agent, model=query.model
            )
            intervals = [
                Interval(
                    r["space_id"], r["agent"], r["session_id"], r["state"], r["start"], r["end"]
                )
                for r in raw
            ]

            def title_of(agent: str, sid: str) -> str | None:
                s = self.index.get(agent, sid)
                return s.title if s else None

            out = report(
                events, query, pricer, self.sessions.space_of, intervals, title_of, now=now
            )
            out["indexing"] = self.sessions.indexing
            return out

        return await asyncio.to_thread(run)
