#!/usr/bin/env bash
# Runs the README's test command N times in a row (default 3) with two CPU-bound processes
# beside it, as on a busy machine, and prints each run's wall time. Stops at the first failure.
#   ./scripts/test-under-load.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
hogs=()
stop_hogs() { kill "${hogs[@]}" 2>/dev/null || true; }
trap stop_hogs EXIT
for _ in 1 2; do
  # Bounded: each hog ends by itself after two hours.
  python3 -c 'import time
end = time.monotonic() + 7200
while time.monotonic() < end: pass' &
  hogs+=($!)
done
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  ./scripts/test.sh -q
  echo "under load: run $i of $runs passed in $(( $(date +%s) - start )) s"
done
