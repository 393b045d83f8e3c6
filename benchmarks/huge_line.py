"""Server memory when a watched Claude transcript holds one 64 MB line (issue 10).

Starts a real ``jupyter server`` with jupyter-spaces (agent roots in a temp dir via
CLAUDE_CONFIG_DIR, CODEX_HOME, GEMINI_CLI_HOME), records its RSS once it answers, then writes a
transcript with normal lines around one 64 MB line into the watched folder and waits until the
normal lines are searchable through GET /api/spaces/sessions?q=... . Peak RSS is the kernel's
high-water mark (VmHWM), sampled meanwhile. Target: growth <= 200 MB.

    python benchmarks/huge_line.py [--mb 64]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.server_process import ServerProcess

SID = "3f0c9a52-7d1e-4b8a-9c55-1e2f3a4b5c6d"
TARGET_MB = 200.0


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def record(n: int, text: str, cwd: str) -> bytes:
    return (
        json.dumps(
            {
                "type": "user",
                "sessionId": SID,
                "cwd": cwd,
                "uuid": f"u-{n}",
                "timestamp": f"2026-03-02T09:00:{n:02d}.000Z",
                "message": {"role": "user", "content": text},
            }
        ).encode()
        + b"\n"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=64, help="size of the huge line in MB")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="huge-line-"))
    sock = Path(tempfile.mkdtemp(prefix="jsp-", dir="/tmp"))
    root = tmp / "root"
    root.mkdir()
    homes = {k: tmp / k for k in ("claude", "codex", "gemini")}
    for p in homes.values():
        p.mkdir()
    (homes["claude"] / "projects").mkdir()
    srv = ServerProcess(
        root,
        sock,
        tmp / "data",
        env={
            "CLAUDE_CONFIG_DIR": str(homes["claude"]),
            "CODEX_HOME": str(homes["codex"]),
            "GEMINI_CLI_HOME": str(homes["gemini"]),
        },
        sessions_index_path=tmp / "data" / "sessions.sqlite",
    )
    try:
        srv.start()
        time.sleep(2)  # let the first (empty) scan and the watcher settle
        before = status_kb(srv.pid, "VmRSS")

        project = homes["claude"] / "projects" / "-work"
        project.mkdir()
        path = project / f"{SID}.jsonl"
        t0 = time.monotonic()
        with open(path, "wb") as f:
            f.write(record(1, "alphabench before the huge line", "/work"))
            head = record(2, "HOLE", "/work")
            pre, post = head.split(b"HOLE")
            f.write(pre)
            piece = b"y" * (1 << 20)
            for _ in range(args.mb * (1 << 20) // len(piece)):
                f.write(piece)
            f.write(post)
            f.write(record(3, "omegabench after the huge line", "/work"))

        def found(word: str) -> bool:
            q = urllib.parse.urlencode({"q": word})
            code, body = srv.request("GET", f"/api/spaces/sessions?{q}")
            return code == 200 and len(body["sessions"]) == 1

        peak = before
        deadline = time.monotonic() + 120
        while not (found("alphabench") and found("omegabench")):
            peak = max(peak, status_kb(srv.pid, "VmHWM"))
            if time.monotonic() > deadline:
                raise SystemExit("the normal lines never became searchable")
            time.sleep(0.05)
        seconds = time.monotonic() - t0
        peak = max(peak, status_kb(srv.pid, "VmHWM"))
        after = status_kb(srv.pid, "VmRSS")
    finally:
        srv.stop()
        subprocess.run(["tmux", "-S", str(sock / "tmux.sock"), "kill-server"], capture_output=True)
        shutil.rmtree(sock, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    growth = (peak - before) / 1024
    verdict = "PASS" if growth <= TARGET_MB else "FAIL"
    rows = [
        ("huge line", f"{args.mb} MB"),
        ("RSS before", f"{before / 1024:.1f} MB"),
        ("peak RSS (VmHWM)", f"{peak / 1024:.1f} MB"),
        ("growth", f"{growth:.1f} MB"),
        ("RSS after", f"{after / 1024:.1f} MB"),
        ("searchable after", f"{seconds:.1f} s"),
        ("target", f"<= {TARGET_MB:.0f} MB"),
        ("result", verdict),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    if verdict == "FAIL":
        sys.exit(1)


if __name__ == "__main__":
    main()
