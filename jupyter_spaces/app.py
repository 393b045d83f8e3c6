"""SpacesApp: the jupyter-server extension. Every setting is a traitlet (``c.SpacesApp.*``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from traitlets import (
    Bool,
    Dict,
    Enum,
    Float,
    Int,
    List,
    TraitError,
    Unicode,
    default,
    observe,
    validate,
)

from .handlers import route_table
from .host.tmux import TmuxServer, default_socket_dir
from .hub import describe, hub_server, identity_problems
from .manager import SpaceManager
from .services.settings import LIVE_FIELDS, SpacesSettings
from .snapshots.schedule import parse_schedule
from .usage.pricing import PriceOverrideError, check_overrides

EVENTS_SCHEMA = Path(__file__).parent / "schema" / "events.json"


class SpacesApp(ExtensionApp):
    """Durable terminal and agent panes, grouped in spaces beside the notebooks."""

    name = "jupyter_spaces"
    load_other_extensions = True

    tmux_command = Unicode(
        "tmux", config=True, help="tmux executable (a name looked up on PATH, or a path)."
    )
    socket_dir = Unicode(
        config=True,
        help="Directory (made 0700) for the private tmux server's socket and config. "
        "Default: $XDG_RUNTIME_DIR/jupyter-spaces, else /tmp/jupyter-spaces-<uid>.",
    )
    registry_path = Unicode(
        config=True,
        help="Per-user registry of known spaces. Default: <jupyter data dir>/jupyter_spaces/"
        "registry.json.",
    )
    tmux_timeout = Float(
        20.0,
        config=True,
        help="Seconds a tmux command may take before the private tmux server counts as not "
        "answering (stopped or stuck); it is then checked again with back-off. Generous, so "
        "that a server that is only very busy (a flood of output on a loaded machine) is not "
        "taken for a stuck one.",
    )
    history_limit = Int(
        50000, config=True, help="Lines of scrollback tmux keeps per pane (tmux history-limit)."
    )
    attach_history = Int(
        10000,
        config=True,
        help="Lines of history sent to a client when it connects to a pane (it may ask for "
        "fewer or more with ?history=N, up to history_limit).",
    )
    max_panes_per_space = Int(16, config=True, help="Most panes one space may hold.")
    max_message_size = Int(
        1 << 20,
        config=True,
        help="Largest WebSocket message or input text accepted, in bytes (bigger ones are "
        "refused with an error and change nothing).",
    )
    default_rows = Int(24, config=True, help="Rows of a new pane until a client sets a size.")
    default_cols = Int(80, config=True, help="Columns of a new pane until a client sets a size.")
    max_rows = Int(500, config=True, help="Largest pane height a client may ask for.")
    max_cols = Int(1000, config=True, help="Largest pane width a client may ask for.")
    flow_window = Int(
        32768,
        config=True,
        help="Characters a client that acknowledges (['ack', n]) may have unacknowledged.",
    )
    flow_queue_limit = Int(
        16384,
        config=True,
        help="Characters queued for one client before the pane's program is held back.",
    )
    stall_timeout = Float(
        1.0,
        config=True,
        help="Seconds a client may hold a pane back before it is switched to lossy mode "
        "(its backlog dropped and its screen redrawn when it catches up).",
    )
    flood_rate = Float(
        4 * 2**20,
        config=True,
        help="Output rate (bytes/s) above which a pane is in flood mode: watchers get a redraw "
        "of the screen several times a second instead of every byte, and the last lines whole "
        "when the flood ends.",
    )
    flood_held = Float(
        0.5,
        config=True,
        help="Share of the time (0-1) a pane's output was held back by slow clients above "
        "which it is in flood mode too, whatever its rate.",
    )
    input_resync = Float(
        0.05,
        config=True,
        help="Seconds a client may be behind (output queued, not caught up) before a keystroke "
        "skips its queued output: it gets the screen redrawn after the keystroke instead, so "
        "Ctrl-C in a flood answers at once whatever the load.",
    )
    poll_interval = Float(
        2.0,
        config=True,
        help="Seconds between checks of pane states (exits, vanished sessions) for the "
        "change announcements.",
    )

    activity_policy = Enum(
        ["agents", "output", "none"],
        "agents",
        config=True,
        help="What panes do on their own that counts as server activity (the last_activity "
        "JupyterHub's idle culler reads): 'agents', an agent pane working or waiting for its "
        "user; 'output', any output of any pane; 'none', nothing. Typing into a pane counts "
        "under every policy.",
    )
    max_keepalive_hours = Float(
        12.0,
        min=0.0,
        config=True,
        help="Hours after the user's own last activity (requests, kernels, typing) after which "
        "panes alone no longer keep the server alive (0: they never do).",
    )

    usage_price_overrides = Dict(
        config=True,
        help="Prices that replace genai-prices' for these model names, in USD per million "
        "tokens, e.g. {'my-model': {'input': 1.0, 'output': 4.0, 'cache_read': 0.1, "
        "'cache_write': 1.25}} (a rate left out is 0). Usage of a model neither these nor "
        "genai-prices know is shown unpriced, never as $0.",
    )

    @validate("usage_price_overrides")
    def _check_price_overrides(self, proposal: dict[str, Any]) -> dict[str, dict[str, float]]:
        try:
            return check_overrides(proposal["value"])
        except PriceOverrideError as e:
            raise TraitError(str(e)) from None

    sessions_index_path = Unicode(
        config=True,
        help="SQLite index of agent sessions (Claude Code, Codex CLI, Gemini CLI). Default: "
        "<jupyter data dir>/spaces/agent-sessions.sqlite.",
    )
    agent_roots = Dict(
        value_trait=List(Unicode()),
        key_trait=Unicode(),
        config=True,
        help="Folders to find each agent's sessions in, e.g. {'claude': ['/home/me/.claude']}. "
        "An agent left out uses its own defaults: CLAUDE_CONFIG_DIR (or ~/.claude and "
        "~/.config/claude), CODEX_HOME (or ~/.codex), GEMINI_CLI_HOME (or ~) /.gemini.",
    )
    sessions_watch = Bool(
        True,
        config=True,
        help="Watch the agents' folders (inotify through watchfiles) so new sessions are "
        "searchable at once; when False, or when watching fails, re-scan every "
        "sessions_poll_interval seconds.",
    )
    sessions_poll_interval = Float(
        5.0, config=True, help="Seconds between re-scans of the agents' folders when not watching."
    )

    trust_dir = Unicode(
        config=True,
        help="Where the secret that signs workspace files, and the signatures of trusted ones, "
        "are kept. Default: <jupyter data dir>/jupyter_spaces.",
    )
    capture_interval = Float(
        30.0,
        config=True,
        help="Seconds between saves of the text of panes that printed something (for a restore "
        "after the machine restarts); also done at a clean shutdown.",
    )
    capture_lines = Int(10000, config=True, help="Lines of history saved with a pane's screen.")
    capture_max_bytes = Int(
        1 << 20, config=True, help="Most bytes of screen text saved per pane (the newest kept)."
    )

    snapshot_schedule = Unicode(
        "hourly",
        config=True,
        help="How often each space is snapshotted by itself, when it had activity (pane output "
        "or input, a change of its workspace file) since its last snapshot: off, hourly, daily, "
        "or a whole number with a unit (90s, 30m, 2h, 1d). A space may set its own "
        "(PATCH /api/spaces/{space}/snapshots/settings).",
    )
    snapshot_keep_last = Int(
        10, config=True, help="Retention: the newest N snapshots of a space are kept (at least 1)."
    )
    snapshot_keep_hourly = Int(
        24,
        config=True,
        help="Retention: for each hour of the last N hours, the newest snapshot of it is kept.",
    )
    snapshot_keep_daily = Int(
        7,
        config=True,
        help="Retention: for each day (UTC) of the last N days, the newest snapshot is kept.",
    )
    snapshot_keep_weekly = Int(
        4,
        config=True,
        help="Retention: for each ISO week of the last N weeks, the newest snapshot is kept.",
    )
    snapshot_auto_prune = Bool(
        True,
        config=True,
        help="Apply the retention policy after each new snapshot. Named and pinned snapshots "
        "are never removed.",
    )

    @validate("snapshot_schedule")
    def _check_schedule(self, proposal: dict[str, Any]) -> str:
        try:
            parse_schedule(proposal["value"])
        except ValueError as e:
            raise TraitError(f"snapshot_schedule: {e}") from None
        return str(proposal["value"])

    @validate(
        "snapshot_keep_last", "snapshot_keep_hourly", "snapshot_keep_daily", "snapshot_keep_weekly"
    )
    def _check_keep(self, proposal: dict[str, Any]) -> int:
        value = int(proposal["value"])
        low = 1 if proposal["trait"].name == "snapshot_keep_last" else 0
        if not low <= value <= 100000:
            raise TraitError(f"{proposal['trait'].name} must be from {low} to 100000")
        return value

    @default("trust_dir")
    def _default_trust_dir(self) -> str:
        return str(Path(jupyter_data_dir()) / "jupyter_spaces")

    @default("sessions_index_path")
    def _default_sessions_index_path(self) -> str:
        from .agents import default_index_path

        return str(default_index_path())

    @default("socket_dir")
    def _default_socket_dir(self) -> str:
        return str(default_socket_dir())

    @default("registry_path")
    def _default_registry_path(self) -> str:
        return str(Path(jupyter_data_dir()) / "jupyter_spaces" / "registry.json")

    def spaces_settings(self) -> SpacesSettings:
        """The settings the services read, as plain values."""
        assert self.serverapp is not None
        return SpacesSettings(
            root=Path(self.serverapp.root_dir).resolve(),
            registry_path=Path(self.registry_path),
            trust_dir=Path(self.trust_dir),
            sessions_index_path=Path(self.sessions_index_path),
            **{name: getattr(self, name) for name in LIVE_FIELDS},
        )

    @observe(*LIVE_FIELDS)
    def _setting_changed(self, change: dict[str, Any]) -> None:
        # A traitlet set at run time reaches the services as it reached them when they read
        # the app: from their next use on.
        settings: SpacesSettings | None = getattr(self, "_services_settings", None)
        if settings is not None:
            setattr(settings, change["name"], change["new"])

    def tmux_server(self) -> TmuxServer:
        return TmuxServer(
            Path(self.socket_dir),
            self.tmux_command,
            self.history_limit,
            (self.default_rows, self.default_cols),
            self.tmux_timeout,
        )

    def initialize_settings(self) -> None:
        assert self.serverapp is not None and self.serverapp.event_logger is not None
        hub = hub_server()
        if hub is not None:
            self.log.info(
                "jupyter-spaces: %s", describe(hub, self.socket_dir, self.sessions_index_path)
            )
            for problem in identity_problems(hub):
                self.log.warning("jupyter-spaces: %s", problem)
        self.serverapp.event_logger.register_event_schema(EVENTS_SCHEMA)
        assert self.serverapp.web_app is not None
        self._services_settings = self.spaces_settings()
        self.manager = SpaceManager(
            settings=self._services_settings,
            host=self.tmux_server(),
            emit=self._emit,
            log=self.log,
            # The dict jupyter-server reads ``*_last_activity`` from (``self.settings`` is a copy).
            web_settings=self.serverapp.web_app.settings,
        )
        self.settings["spaces_manager"] = self.manager
        self.settings["spaces_settings"] = self._services_settings
        self.settings["spaces_app"] = self

    def _emit(self, data: dict[str, Any]) -> None:
        assert self.serverapp is not None and self.serverapp.event_logger is not None
        self.serverapp.event_logger.emit(schema_id=EVENTS_SCHEMA_ID, data=data)

    def initialize_handlers(self) -> None:
        self.handlers.extend(route_table())

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """Adopt the panes that outlived the previous server before serving requests."""
        await self.manager.ready()

    async def stop_extension(self) -> None:
        await self.manager.stop()


EVENTS_SCHEMA_ID = "https://events.jupyter.org/jupyter_spaces/spaces/v1"
