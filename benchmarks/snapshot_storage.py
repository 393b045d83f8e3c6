"""Disk and time of a week of hourly snapshots of a space with a big, growing agent transcript.

A space with a shell pane and a Claude Code pane whose transcript starts at 90 MB and grows by
1 MB an hour, as a busy agent conversation does (decimal megabytes, so appends do not line up
with the store's 256 KiB chunks); each hour the shell's screen changes and one snapshot is taken
(through ``jupyter_spaces.snapshots.create``, as the server does, with the clock set to that
hour). Reported:

- disk used by the snapshots folder after all of them, every snapshot kept (shared blobs once),
  against one full copy per snapshot (the sum of what each snapshot holds, as version 1 stored);
- the same after the default retention policy ran after each snapshot (what a server keeps);
- the time one snapshot takes: the first (everything new), then median, p95 and max.

Run: ``python benchmarks/snapshot_storage.py`` (about a minute, ~600 MB of temporary disk);
``--hours 24 --base-mb 20`` for a quick run; ``--dir DIR`` to put the files elsewhere.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from jupyter_spaces import snapshots as snaps
from jupyter_spaces.model import Pane, Space
from jupyter_spaces.restore import SCREENS_DIR
from jupyter_spaces.store import WorkspaceStore

MB = 1 << 20
SID = "0b6f7c1e-2a3d-4e5f-8a9b-0c1d2e3f4a5b"


def block(n_bytes: int, seed: int) -> bytes:
    """``n_bytes`` of transcript lines (distinct per ``seed``, so no two hours share chunks)."""
    lines = []
    size = 0
    i = 0
    while size < n_bytes:
        line = json.dumps(
            {
                "type": "assistant",
                "sessionId": SID,
                "uuid": f"{seed:06d}-{i:08d}",
                "message": {"content": [{"type": "text", "text": f"step {seed}.{i} " * 12}]},
            }
        )
        lines.append(line)
        size += len(line) + 1
        i += 1
    return ("\n".join(lines) + "\n").encode()[:n_bytes]


def fmt(n: float) -> str:
    return f"{n / MB:,.1f} MiB" if n < 1024 * MB else f"{n / MB / 1024:,.2f} GiB"


def run(root: Path, hours: int, base_mb: int, growth_mb: float) -> None:
    folder = root / "proj"
    folder.mkdir(parents=True)
    space = Space.new("bench")
    shell = Pane.new("shell", ["/bin/bash"], "", "sh")
    space.add_pane(shell)
    space.add_pane(Pane.new("agent", ["claude"], "", "claude", agent="claude", session_id=SID))
    WorkspaceStore().save(folder, space)
    data = WorkspaceStore.space_file(folder).read_bytes()
    transcript = root / "claude" / "projects" / "-proj" / f"{SID}.jsonl"
    transcript.parent.mkdir(parents=True)
    with transcript.open("wb") as f:
        for i in range(base_mb):
            f.write(block(1_000_000, -1 - i))
    screen = folder / ".jupyter-spaces" / SCREENS_DIR / f"{shell.id}.txt"
    screen.parent.mkdir(parents=True, exist_ok=True)
    source = [snaps.TranscriptSource("claude", SID, [str(transcript)])]
    start = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)

    # Two spaces' worth of snapshots side by side: all kept, and with the default policy.
    pruned_root = root / "pruned"
    pruned = pruned_root / "proj"
    shutil.copytree(folder, pruned)
    policy = snaps.Policy()
    times: list[float] = []
    logical = 0
    for hour in range(hours):
        if hour:
            with transcript.open("ab") as f:
                # Decimal megabytes: appends do not line up with the 256 KiB chunks.
                f.write(block(int(growth_mb * 1_000_000), hour))
        screen.write_text("".join(f"$ make step-{hour}-{n}\nok\n" for n in range(2000)))
        shutil.copy2(screen, pruned / ".jupyter-spaces" / SCREENS_DIR / screen.name)
        now = start + timedelta(hours=hour)
        t0 = time.perf_counter()
        m = snaps.create(folder, data, source, now=now, reason="scheduled")
        times.append(time.perf_counter() - t0)
        logical += m["bytes"]
        snaps.create(pruned, data, source, now=now, reason="scheduled")
        snaps.apply_policy(pruned, policy, now=now)
    kept = snaps.summary(folder)
    thinned = snaps.summary(pruned)
    rest = sorted(times[1:]) or times
    p95 = rest[min(len(rest) - 1, int(len(rest) * 0.95))]
    final = transcript.stat().st_size
    rows = [
        ("transcript at the start / at the end", f"{fmt(base_mb * 1_000_000)} / {fmt(final)}", ""),
        (f"{hours} hourly snapshots, all kept: disk used", fmt(kept["disk"]["bytes"]), ""),
        ("the same as one full copy per snapshot", fmt(logical), ""),
        (
            "ratio (full copies / shared)",
            f"{logical / kept['disk']['bytes']:.1f}x",
            f"{kept['disk']['bytes'] / final:.2f}x one copy of the final transcript",
        ),
        (
            f"with the default retention ({policy.last} last, {policy.hourly} hourly, "
            f"{policy.daily} daily, {policy.weekly} weekly)",
            f"{fmt(thinned['disk']['bytes'])}",
            f"{len(thinned['snapshots'])} snapshots kept",
        ),
        ("one snapshot: the first (everything new)", f"{times[0]:.3f} s", ""),
        (
            "one snapshot after that: median / p95 / max",
            f"{statistics.median(rest):.3f} / {p95:.3f} / {max(rest):.3f} s",
            "target < 1 s: " + ("PASS" if max(rest) < 1 else "FAIL"),
        ),
    ]
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    print(f"{'measurement':<{width}}  {'result':<{vwidth}}  note")
    print(f"{'-' * width}  {'-' * vwidth}  ----")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:<{vwidth}}  {note}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=int, default=168)
    p.add_argument("--base-mb", type=int, default=90)
    p.add_argument("--growth-mb", type=float, default=1.0)
    p.add_argument("--dir", type=Path, default=None, help="where to put the files (a new folder)")
    args = p.parse_args()
    root = Path(tempfile.mkdtemp(prefix="snapshot-bench-", dir=args.dir))
    try:
        run(root, args.hours, args.base_mb, args.growth_mb)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
