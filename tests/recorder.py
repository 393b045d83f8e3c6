"""A program for panes in tests: writes what it was started with (argv, environment, working
directory) as JSON to the file named by its first argument, then waits to be killed. The file is
written whole (temp file and rename), so a test that sees it can read it."""

from __future__ import annotations

import json
import os
import signal
import sys

out = sys.argv[1]
record = {"argv": sys.argv[2:], "env": dict(os.environ), "cwd": os.getcwd(), "pid": os.getpid()}
with open(out + ".tmp", "w", encoding="utf-8", errors="surrogateescape") as f:
    json.dump(record, f)
os.replace(out + ".tmp", out)
while True:
    signal.pause()
