"""Run plans: what a pane will run, decided in one place.

A workspace file names commands, and it may come from anyone (``git clone``). What the user is
shown before trusting it and what the server then starts must be the same thing, so both are made
from one value, the pane's ``RunPlan``: the program's argv after every template is filled, the
environment it adds, its working directory, whether it waits for Enter, the text file it prints
first, and the shell that takes over when an agent ends. ``RunPlan.command`` turns a plan into
the argv given to tmux, and nothing else decides what runs. A trust names the digest of the plans
it was shown (``plans_digest``); the server refuses it if the plans changed since.

Text printed before a restored shell comes from ``screens/<pane>.txt``, which can arrive with a
copied project; it is shown as text: control characters are removed before it reaches the
terminal (``restore.printable``).
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .agent_panes import AgentPanes
from .agent_state.instrument import Reporter, tracked_by_hooks, with_hooks
from .agents.launch import AgentLaunch, wrap
from .errors import SpacesError
from .model import Pane, Space, valid_session_id
from .paths import existing_dir
from .restore import capture_file, captured_at, restored_shell, waiting_command, when_text

PURPOSES = ("start", "restart", "restore")


@dataclass(frozen=True)
class RunPlan:
    """What one pane will run. ``cwd`` is absolute; ``prints`` is relative to the space's
    folder (the server copies it, made printable, somewhere private just before the start)."""

    pane_id: str
    kind: str
    argv: tuple[str, ...]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    waits: bool = False
    prints: str | None = None
    notice: str = ""
    then_shell: str | None = None
    session_id: str | None = None
    agent: str | None = None

    def command(self, printed: Path | None = None, report: Reporter | None = None) -> list[str]:
        """The argv tmux starts; ``printed`` is the private, printable copy of ``prints``;
        ``report``, the pane's state reporter, is given to an agent's hooks and wrapper."""
        if self.then_shell is not None:
            if report is None:
                return wrap(self.argv, self.then_shell, self.notice)
            argv = with_hooks(self.agent, self.argv, report.argv())
            return wrap(argv, self.then_shell, self.notice, report.exit_words())
        if self.waits:
            return waiting_command(self.argv, self.notice)
        if self.notice or printed is not None:
            return restored_shell(self.argv, printed, self.notice)
        return list(self.argv)

    def to_json(self, root: Path) -> dict[str, Any]:
        """The plan as the API, the trust dialog and the CLI show it (paths from the root)."""
        try:
            cwd = self.cwd.relative_to(root).as_posix()
        except ValueError:
            cwd = str(self.cwd)
        return {
            "pane_id": self.pane_id,
            "kind": self.kind,
            "argv": list(self.argv),
            "env": dict(self.env),
            "cwd": "" if cwd == "." else cwd,
            "waits_for_enter": self.waits,
            "prints": self.prints,
            "notice": self.notice,
            "then_shell": self.then_shell,
            "session_id": self.session_id,
            "state_hooks": self.kind == "agent" and tracked_by_hooks(self.agent),
        }


def plans_digest(plans: Iterable[RunPlan], space_dir: Path, running: Iterable[str] = ()) -> str:
    """The SHA-256 a trust names: the plan of every pane, which of them run now (they are not
    started again), and the space's folder; paths are taken from that folder, so the CLI with
    no server computes the same. Left out: the notice, a line of text shown, never run, that
    holds a local time; and ``state_hooks``, which follows from the agent (the file cannot
    change what the hooks run: the server writes them, see agent_state/instrument.py)."""
    shown = [
        {k: v for k, v in p.to_json(space_dir).items() if k not in ("notice", "state_hooks")}
        for p in plans
    ]
    doc = {
        "space": str(space_dir),
        "plans": sorted(shown, key=lambda p: p["pane_id"]),
        "running": sorted(running),
    }
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def describe(plan: dict[str, Any]) -> list[str]:
    """Lines for a person reading a plan's JSON in a terminal (the CLI's trust prompt); every
    string is quoted with ``repr``-style escapes, so invisible characters show."""
    lines = [f"pane {plan['pane_id']} ({plan['kind']}) in {_shown(plan['cwd'] or '.')}"]
    if plan.get("running"):
        lines[0] += ", running now (this is what it runs when it is started again)"
    lines.append("  runs: " + " ".join(_shown(a) for a in plan["argv"]))
    for key, value in plan["env"].items():
        lines.append(f"  env:  {_shown(key)}={_shown(value)}")
    if plan["waits_for_enter"]:
        lines.append("  waits for Enter before it runs")
    if plan["prints"]:
        lines.append(f"  first shows the text of {_shown(plan['prints'])} (as plain text)")
    if plan["then_shell"]:
        lines.append(f"  then: {_shown(plan['then_shell'])} -l")
    if plan.get("state_hooks"):
        lines.append("  with jupyter-spaces' own hooks, which record the agent's state")
    return lines


def _shown(text: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", text):
        return text
    return json.dumps(text, ensure_ascii=True)


def login_shell() -> str:
    shell = os.environ.get("SHELL")
    if not shell:
        try:
            shell = pwd.getpwuid(os.getuid()).pw_shell
        except KeyError:
            shell = ""
    return shell or "/bin/sh"


def pane_env(space: Space, pane: Pane) -> dict[str, str]:
    """The variables a pane's process gets on top of the server's environment."""
    return {
        "COLORTERM": "truecolor",
        "JUPYTER_SPACES_SPACE": space.id,
        "JUPYTER_SPACES_PANE": pane.id,
        **pane.env,
    }


async def make_plan(
    space_dir: Path,
    space: Space,
    pane: Pane,
    purpose: str,
    agents: AgentPanes,
    launch: AgentLaunch | None = None,
) -> RunPlan:
    """What ``pane`` runs when it is started (``"start"``: a new pane, with the ``launch`` its
    request made), started again (``"restart"``), or brought back after the machine restarted
    (``"restore"``). The only place that decides it: the server starts what this returns, and
    the trust dialog and ``jupyter spaces trust`` show what this returns."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, not {purpose!r}")
    try:
        cwd = existing_dir(space_dir, pane.cwd, "cwd")
    except SpacesError:
        if purpose != "restore":
            raise
        cwd = space_dir  # its folder was removed: come back in the space's folder
    env = pane_env(space, pane)
    when = f"restored from {when_text(captured_at(space_dir, pane.id))}"
    if pane.kind == "agent":
        if launch is None:
            launch, cwd = await agents.restart(pane, space_dir, cwd)
        sid = launch.session_id
        if sid is not None and not valid_session_id(pane.agent or "custom", sid):
            raise SpacesError(409, f"{sid!r} is not a session id of {pane.agent}")
        return RunPlan(
            pane.id,
            "agent",
            tuple(launch.argv),
            cwd,
            env,
            notice=launch.notice or (when if purpose == "restore" else ""),
            then_shell=login_shell(),
            session_id=sid,
            agent=pane.agent,
        )
    argv = tuple(pane.launch.argv)
    if purpose != "restore":
        return RunPlan(pane.id, pane.kind, argv, cwd, env)
    if pane.kind == "shell":
        prints = None
        if captured_at(space_dir, pane.id) is not None:
            prints = capture_file(space_dir, pane.id).relative_to(space_dir).as_posix()
        return RunPlan(pane.id, "shell", argv, cwd, env, prints=prints, notice=when)
    return RunPlan(pane.id, pane.kind, argv, cwd, env, waits=not pane.autorestart, notice=when)


async def restore_plans(space_dir: Path, space: Space, agents: AgentPanes) -> list[RunPlan]:
    """The plan of every pane of a space as a cold restore would start it. A trust shows them
    all: a pane that runs now is not started, but it runs its plan when it restarts."""
    return [
        await make_plan(space_dir, space, pane, "restore", agents) for pane in space.panes.values()
    ]
