"""A stand-in for the ``claude``, ``codex`` and ``gemini`` CLIs in tests (installed under those
names by ``tests/agent_env.py``). It records how it was started and writes its session file where
and how the real CLI does (agent-formats.md), one exchange per line typed at it.

- claude: ``--session-id ID`` (refused if that session exists) or ``--resume ID`` (refused if it
  does not); writes ``$CLAUDE_CONFIG_DIR/projects/<encoded cwd>/<ID>.jsonl`` from the first prompt.
- codex: picks its own id; ``codex resume ID`` appends to that rollout. Writes
  ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<ID>.jsonl`` at start and keeps it open.
- gemini: ``--session-id ID`` (only when its version, ``$FAKE_GEMINI_VERSION``, is 0.41 or
  later), ``--resume ID``, or a new id; writes ``$GEMINI_CLI_HOME/.gemini/tmp/<slug>/chats/``.

Each start appends ``{"agent", "argv", "cwd", "pane", "session_id"}`` to ``$FAKE_AGENT_LOG``.
Type ``exit`` to quit.

State signals, as the real CLIs give them (docs/agent-signals.md):

- claude runs the hook commands of every settings source (``--settings`` JSON or file, and
  ``$CLAUDE_CONFIG_DIR/settings.json``) with the hook's JSON on stdin: ``SessionStart`` at
  start, ``UserPromptSubmit`` for a prompt, ``Stop`` when the reply is written,
  ``SessionEnd`` on ``exit``.
- codex writes ``task_started``/``task_complete`` events to its rollout and runs its ``notify``
  program (``-c notify=[...]``) with the ``agent-turn-complete`` JSON as last argument.
- gemini runs the hooks of ``$GEMINI_CLI_SYSTEM_SETTINGS_PATH`` (``SessionStart``,
  ``BeforeAgent``, ``AfterAgent``, ``SessionEnd``).

A prompt starting with ``ask`` asks permission first and waits for a line: claude fires
``PreToolUse``, ``PermissionRequest`` and a ``permission_prompt`` ``Notification``; gemini a
``ToolPermission`` ``Notification``; codex writes its function call and rings the bell (as its
TUI does with notifications on). After the answer: ``PostToolUse``/``AfterTool``, then the
turn ends. A prompt starting with ``slow`` works for two seconds before it answers.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fail(message: str) -> None:
    print(message, file=sys.stderr)
    sys.exit(1)


def record(agent: str, session_id: str) -> None:
    with open(os.environ["FAKE_AGENT_LOG"], "a") as f:
        entry = {
            "agent": agent,
            "argv": sys.argv[1:],
            "cwd": os.getcwd(),
            "pane": os.environ.get("JUPYTER_SPACES_PANE"),
            "session_id": session_id,
        }
        f.write(json.dumps(entry) + "\n")


def flag(name: str) -> str | None:
    args = sys.argv[1:]
    return args[args.index(name) + 1] if name in args else None


def flags(name: str) -> list[str]:
    args = sys.argv[1:]
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == name]


def load_settings(text: str) -> dict[str, Any]:
    """A settings value: JSON, or the path of a JSON file (as ``claude --settings`` takes)."""
    if text.lstrip().startswith("{"):
        return json.loads(text)
    return json.loads(Path(text).read_text())


class Hooks:
    """The hook commands of several settings sources, run as the CLIs run them: every
    matching command, through ``sh -c``, the event's JSON on stdin, waited for."""

    def __init__(self, sources: list[dict[str, Any]]) -> None:
        self.sources = sources

    def fire(self, event: str, **fields: Any) -> None:
        payload = json.dumps({"hook_event_name": event, **fields})
        for settings in self.sources:
            for group in settings.get("hooks", {}).get(event, []):
                matcher = group.get("matcher", "")
                target = fields.get("tool_name") or fields.get("notification_type") or ""
                if matcher not in ("", "*") and matcher != target:
                    continue
                for hook in group.get("hooks", []):
                    done = subprocess.run(
                        ["sh", "-c", hook["command"]],
                        input=payload.encode(),
                        capture_output=True,
                        timeout=30,
                    )
                    with open(os.environ["FAKE_AGENT_LOG"] + ".hooks", "a") as f:
                        f.write(
                            json.dumps(
                                {
                                    "event": event,
                                    "rc": done.returncode,
                                    "err": done.stderr.decode()[-2000:],
                                }
                            )
                            + "\n"
                        )


def claude_hooks() -> Hooks:
    sources = []
    user = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "settings.json"
    if user.exists():
        sources.append(json.loads(user.read_text()))
    sources += [load_settings(v) for v in flags("--settings")]
    return Hooks(sources)


def gemini_hooks() -> Hooks:
    path = os.environ.get("GEMINI_CLI_SYSTEM_SETTINGS_PATH")
    return Hooks([json.loads(Path(path).read_text())] if path else [])


class Claude:
    def __init__(self) -> None:
        self.cwd = os.getcwd()
        enc = "".join(c if c.isalnum() else "-" for c in self.cwd)
        root = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects" / enc
        new, old = flag("--session-id"), flag("--resume")
        self.sid = new or old or str(uuid.uuid4())
        self.path = root / f"{self.sid}.jsonl"
        if new and self.path.exists():
            fail(f"Error: Session ID {new} is already in use.")
        if old and not self.path.exists():
            fail(f"No conversation found with session ID: {old}")
        self.n = 0
        self.hooks = claude_hooks()
        self.common = {"session_id": self.sid, "transcript_path": str(self.path), "cwd": self.cwd}
        self.hooks.fire("SessionStart", source="resume" if old else "startup", **self.common)

    def prompt(self, prompt: str) -> None:
        self.hooks.fire("UserPromptSubmit", prompt=prompt, **self.common)

    def ask(self) -> None:
        tool = {"tool_name": "Bash", "tool_input": {"command": "ls"}}
        self.hooks.fire("PreToolUse", **tool, **self.common)
        self.hooks.fire("PermissionRequest", **tool, **self.common)
        self.hooks.fire(
            "Notification",
            notification_type="permission_prompt",
            message="Claude needs your permission to use Bash",
            **self.common,
        )
        print("Do you want to proceed? (yes/no)", flush=True)

    def answered(self) -> None:
        tool = {"tool_name": "Bash", "tool_input": {"command": "ls"}}
        self.hooks.fire("PostToolUse", **tool, **self.common)

    def done(self) -> None:
        self.hooks.fire("Stop", stop_hook_active=False, **self.common)

    def end(self) -> None:
        self.hooks.fire("SessionEnd", reason="prompt_input_exit", **self.common)

    def exchange(self, prompt: str, reply: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.n += 1
        base = {"cwd": self.cwd, "sessionId": self.sid, "version": "2.1.50", "timestamp": now()}
        user = {
            **base,
            "type": "user",
            "uuid": f"u{self.n}",
            "message": {"role": "user", "content": prompt},
        }
        usage = {
            "input_tokens": 10,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": 5,
        }
        assistant = {
            **base,
            "type": "assistant",
            "uuid": f"a{self.n}",
            "requestId": f"r{self.n}",
            "message": {
                "id": f"m{self.sid[:4]}{self.n}",
                "role": "assistant",
                "model": "fake-claude",
                "usage": usage,
                "content": [{"type": "text", "text": reply}],
            },
        }
        with open(self.path, "a") as f:
            f.write(json.dumps(user) + "\n" + json.dumps(assistant) + "\n")


class Codex:
    def __init__(self) -> None:
        self.cwd = os.getcwd()
        home = Path(os.environ["CODEX_HOME"])
        args = sys.argv[1:]
        if args[:1] == ["resume"]:
            self.sid = args[1]
            found = list(home.glob(f"sessions/*/*/*/rollout-*-{self.sid}.jsonl"))
            if not found:
                fail(f"No saved session found with ID {self.sid}")
            self.file: TextIO = open(found[0], "a")  # noqa: SIM115 - held open like Codex does
        else:
            self.sid = str(uuid.uuid4())
            t = datetime.now(timezone.utc)
            day = home / "sessions" / t.strftime("%Y/%m/%d")
            day.mkdir(parents=True, exist_ok=True)
            path = day / f"rollout-{t.strftime('%Y-%m-%dT%H-%M-%S')}-{self.sid}.jsonl"
            self.file = open(path, "a")  # noqa: SIM115
            self.write(
                "session_meta",
                {
                    "id": self.sid,
                    "timestamp": now(),
                    "cwd": self.cwd,
                    "originator": "codex_cli_rs",
                    "cli_version": "0.98.0",
                    "source": "cli",
                    "model_provider": "openai",
                },
            )
        self.write("turn_context", {"cwd": self.cwd, "model": "fake-codex"})
        self.notify: list[str] = []
        for override in flags("-c"):
            key, _, value = override.partition("=")
            if key == "notify":
                self.notify = json.loads(value)  # a TOML array of strings, as JSON writes it
        self.turn = 0

    def prompt(self, prompt: str) -> None:
        self.turn += 1
        self.write("event_msg", {"type": "task_started", "turn_id": str(self.turn)})

    def ask(self) -> None:
        self.write("response_item", {"type": "function_call", "name": "shell", "call_id": "c1"})
        print("Allow command? (y/n)\a", flush=True)

    def answered(self) -> None:
        self.write("response_item", {"type": "function_call_output", "call_id": "c1"})

    def done(self) -> None:
        self.write("event_msg", {"type": "task_complete", "turn_id": str(self.turn)})
        if self.notify:
            event = {
                "type": "agent-turn-complete",
                "thread-id": self.sid,
                "turn-id": str(self.turn),
            }
            subprocess.run([*self.notify, json.dumps(event)], timeout=30)

    def end(self) -> None:
        pass

    def write(self, type_: str, payload: dict[str, Any]) -> None:
        self.file.write(json.dumps({"timestamp": now(), "type": type_, "payload": payload}) + "\n")
        self.file.flush()

    def exchange(self, prompt: str, reply: str) -> None:
        self.write(
            "response_item",
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": prompt}],
            },
        )
        self.write("event_msg", {"type": "user_message", "message": prompt, "images": []})
        self.write(
            "response_item",
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": reply}],
            },
        )


class Gemini:
    def __init__(self) -> None:
        self.cwd = os.getcwd()
        version = os.environ.get("FAKE_GEMINI_VERSION", "0.45.0")
        new, old = flag("--session-id"), flag("--resume")
        if new and tuple(int(x) for x in version.split(".")) < (0, 41, 0):
            fail("Unknown argument: session-id")
        slug = "proj-" + hashlib.sha256(self.cwd.encode()).hexdigest()[:8]
        chats = Path(os.environ["GEMINI_CLI_HOME"]) / ".gemini" / "tmp" / slug / "chats"
        chats.mkdir(parents=True, exist_ok=True)
        (chats.parent / ".project_root").write_text(self.cwd)
        if old:
            found = list(chats.glob(f"session-*-{old[:8]}.jsonl"))
            if not found:
                fail(f"Error resuming session: Invalid session identifier {old!r}")
            self.sid, self.path = old, found[0]
        else:
            self.sid = new or str(uuid.uuid4())
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M")
            self.path = chats / f"session-{stamp}-{self.sid[:8]}.jsonl"
            meta = {
                "sessionId": self.sid,
                "startTime": now(),
                "lastUpdated": now(),
                "kind": "main",
                "projectHash": hashlib.sha256(self.cwd.encode()).hexdigest(),
            }
            self.path.write_text(json.dumps(meta) + "\n")
        self.n = 0
        self.hooks = gemini_hooks()
        self.common = {"session_id": self.sid, "transcript_path": str(self.path), "cwd": self.cwd}
        self.hooks.fire("SessionStart", source="resume" if old else "startup", **self.common)

    def prompt(self, prompt: str) -> None:
        self.hooks.fire("BeforeAgent", prompt=prompt, **self.common)

    def ask(self) -> None:
        self.hooks.fire("BeforeTool", tool_name="run_shell_command", **self.common)
        self.hooks.fire("Notification", notification_type="ToolPermission", **self.common)
        print("Allow execution? (y/n)", flush=True)

    def answered(self) -> None:
        self.hooks.fire("AfterTool", tool_name="run_shell_command", **self.common)

    def done(self) -> None:
        self.hooks.fire("AfterAgent", prompt_response="done", **self.common)

    def end(self) -> None:
        self.hooks.fire("SessionEnd", reason="exit", **self.common)

    def exchange(self, prompt: str, reply: str) -> None:
        self.n += 1
        user = {
            "id": f"u{self.n}",
            "timestamp": now(),
            "type": "user",
            "content": [{"text": prompt}],
        }
        tokens = {"input": 10, "output": 5, "cached": 0, "thoughts": 0, "tool": 0, "total": 15}
        answer = {
            "id": f"g{self.n}",
            "timestamp": now(),
            "type": "gemini",
            "content": reply,
            "model": "fake-gemini",
            "tokens": tokens,
        }
        with open(self.path, "a") as f:
            f.write(json.dumps(user) + "\n" + json.dumps(answer) + "\n")


def main() -> None:
    agent = Path(sys.argv[0]).name
    if "--version" in sys.argv[1:]:
        print(os.environ.get("FAKE_GEMINI_VERSION", "0.45.0") if agent == "gemini" else "1.0.0")
        return
    cli = {"claude": Claude, "codex": Codex, "gemini": Gemini}[agent]()
    record(agent, cli.sid)
    print(f"fake {agent} session {cli.sid} in {os.getcwd()}", flush=True)
    lines = iter(sys.stdin)
    for prompt in lines:
        prompt = prompt.strip()
        if prompt == "exit":
            cli.end()
            return
        cli.prompt(prompt)
        if prompt.startswith("ask"):
            cli.ask()
            answer = next(lines, "").strip()
            cli.answered()
            prompt = f"{prompt} ({answer})"
        if prompt.startswith("slow"):
            time.sleep(2)
        reply = f"reply to {prompt}"
        cli.exchange(prompt, reply)
        print(f"{agent}> {reply}", flush=True)
        cli.done()


if __name__ == "__main__":
    main()
