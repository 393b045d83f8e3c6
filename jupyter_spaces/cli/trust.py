"""``jupyter spaces trust``: show what a space would run and, once the user agrees, sign it."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from ..agent_panes import AgentPanes
from ..host.tmux import TmuxServer, session_name
from ..kernel.client import SpacesClient, q
from ..plan import describe, plans_digest, restore_plans
from ..registry import Registry
from .folder import CommandError, _SpaceCommand


class TrustApp(_SpaceCommand):
    name = "jupyter-spaces-trust"
    description = "Show what a space would run and, once you say yes, trust exactly that."
    command = "trust"

    def confirm(self, plan: dict[str, Any]) -> None:
        """Print the plan (to stderr with --json), then ask unless --yes."""
        out = sys.stderr if self.json_output else sys.stdout
        plans = plan["plans"]
        if plan.get("copy_of"):
            print(
                f"This folder is a copy of space {plan['copy_of']}; trusting it gives it its "
                "own id in space.json.",
                file=out,
            )
        starts = sum(1 for p in plans if not p.get("running"))
        print(
            f"Trusting it starts {starts} pane(s) now, and lets its {len(plans)} pane(s) run "
            "exactly this:",
            file=out,
        )
        for p in plans:
            print("\n".join(describe(p)), file=out)
        if self.options.yes:
            return
        if not sys.stdin.isatty():
            raise CommandError("not trusted: pass --yes to trust without a question")
        answer = input("Trust this space and start these? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            raise CommandError("not trusted; nothing was started")

    def remote(self, client: SpacesClient, space_id: str) -> tuple[Any, str]:
        plan = client.request("GET", f"api/spaces/{q(space_id)}/plan")
        self.confirm(plan)
        body = {"plan_sha256": plan["plan_sha256"]}
        space = client.request("POST", f"api/spaces/{q(space_id)}/trust", body)
        n = len(space.get("panes") or [])
        return space, f"trusted space {space.get('name')} ({space_id}); {n} pane(s)"

    def local(self, folder: Path, loaded: Any) -> tuple[Any, str]:
        if loaded.status != "ok" or loaded.space is None or loaded.data is None:
            raise CommandError(f"the space cannot be trusted: {loaded.message}")
        space = loaded.space
        known = Registry(Path(self.settings().registry_path)).find_by_dir(folder)
        if known is not None and known != space.id:
            raise CommandError(
                f"this folder is a copy of space {space.id}: start Jupyter and trust it there, "
                "so that it gets its own id"
            )
        app = self.settings()
        tmux = TmuxServer(Path(app.socket_dir), app.tmux_command)
        live = asyncio.run(tmux.list_panes()) if tmux.available else {}
        running = [p for p in space.panes if session_name(space.id, p) in live]
        index = self.index()
        try:
            index.sync(agents=sorted({p.agent for p in space.panes.values() if p.agent}))
            agents = AgentPanes(index, index.roots("claude"))
            plans = asyncio.run(restore_plans(folder, space, agents))
        finally:
            index.close()
        digest = plans_digest(plans, folder, running)
        shown = [{**p.to_json(folder), "running": p.pane_id in running} for p in plans]
        self.confirm({"plans": shown, "copy_of": None})
        # The digest is recorded: the server starts these panes only while they still match.
        self.notary().trust(loaded.data, str(folder), plan=digest)
        result = {"id": space.id, "name": space.name, "trusted": True, "plan_sha256": digest}
        return result, (
            f"trusted space {space.name} ({space.id}); no server runs, so its panes start "
            "when one does"
        )
