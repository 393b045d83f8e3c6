"""The settings the services read, as plain values: no service imports the app.

``SpacesApp`` builds one ``SpacesSettings`` from its traitlets and keeps it current when a
traitlet changes at run time (tests and ``%config`` do that), so a service reads a setting when
it needs it, as it read the traitlet before.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from ..host.stream import FlowSettings


@dataclass
class SpacesSettings:
    root: Path
    registry_path: Path
    trust_dir: Path
    sessions_index_path: Path
    agent_roots: dict[str, list[str]] = field(default_factory=dict)
    sessions_watch: bool = True
    sessions_poll_interval: float = 5.0
    poll_interval: float = 2.0
    capture_interval: float = 30.0
    capture_lines: int = 10000
    capture_max_bytes: int = 1 << 20
    history_limit: int = 50000
    attach_history: int = 10000
    max_panes_per_space: int = 16
    max_message_size: int = 1 << 20
    max_rows: int = 500
    max_cols: int = 1000
    flow_window: int = 32768
    flow_queue_limit: int = 16384
    stall_timeout: float = 1.0
    flood_rate: float = 4 * 2**20
    flood_held: float = 0.5
    input_resync: float = 0.05
    snapshot_schedule: str = "hourly"
    snapshot_keep_last: int = 10
    snapshot_keep_hourly: int = 24
    snapshot_keep_daily: int = 7
    snapshot_keep_weekly: int = 4
    snapshot_auto_prune: bool = True
    activity_policy: str = "agents"
    max_keepalive_hours: float = 12.0
    usage_price_overrides: dict[str, dict[str, float]] = field(default_factory=dict)

    def flow(self) -> FlowSettings:
        """Flow control for a stream started now."""
        return FlowSettings(
            window=self.flow_window,
            queue_limit=self.flow_queue_limit,
            stall_timeout=self.stall_timeout,
            flood_rate=self.flood_rate,
            flood_held=self.flood_held,
            input_resync=self.input_resync,
        )


# The fields an app traitlet of the same name sets (the paths are converted, so not these).
LIVE_FIELDS: tuple[str, ...] = tuple(
    f.name
    for f in fields(SpacesSettings)
    if f.name not in ("root", "registry_path", "trust_dir", "sessions_index_path")
)
