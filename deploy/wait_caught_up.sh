#!/usr/bin/env bash
# Waits until every crosscoder of the daemon the given CLI reaches is idle
# with no snapshot left to take in, or SECONDS seconds have passed.
# Usage: bash deploy/wait_caught_up.sh SECONDS conceptwatch [CLI options...]
set -uo pipefail
seconds="$1"; shift
for _ in $(seq "$seconds"); do
  backlog=$("$@" --json status 2>/dev/null | /usr/bin/python3 -c \
    'import json,sys; c=json.load(sys.stdin)["daemon"].get("crosscoder_summary",{}); print(c.get("backlog",0)+c.get("taps",0)-c.get("by_state",{}).get("idle",0))' || echo 1)
  [ "$backlog" = "0" ] && exit 0
  sleep 1
done
echo "wait_caught_up: the daemon still had snapshots to take in after $seconds s" >&2
