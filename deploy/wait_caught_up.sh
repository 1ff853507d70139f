#!/usr/bin/env bash
# Waits until every crosscoder of the daemon the given CLI reaches is idle
# with no snapshot left to take in, or SECONDS seconds have passed. With
# --refined it also waits for the refinement an idle daemon does after its
# last update ([crosscoder] refine_steps, which starts after
# refine_after_idle_seconds without a new snapshot).
# Usage: bash deploy/wait_caught_up.sh [--refined] SECONDS conceptwatch [CLI options...]
set -uo pipefail
refined=0
[ "${1:-}" = "--refined" ] && { refined=1; shift; }
seconds="$1"; shift
for i in $(seq "$seconds"); do
  left=$("$@" --json status 2>/dev/null | /usr/bin/python3 -c '
import json, sys
c = json.load(sys.stdin)["daemon"].get("crosscoder_summary", {})
states = c.get("by_state", {})
left = c.get("backlog", 0) + c.get("taps", 0) - states.get("idle", 0)
if sys.argv[1] == "1":
    left += c.get("refine_steps_left", 0)
else:
    left -= states.get("refining", 0)  # caught up: refining uses idle time only
print(left)' "$refined" || echo 1)
  [ "$left" = "0" ] && exit 0
  # Progress every 10 s: the refinement of a large crosscoder takes minutes.
  [ "$refined" = 1 ] && [ $((i % 10)) = 0 ] && echo "wait_caught_up: $left (taps busy + backlog + refinement steps) left" >&2
  sleep 1
done
what="snapshots to take in"
[ "$refined" = 1 ] && what="snapshots to take in or refinement to do"
echo "wait_caught_up: the daemon still had $what after $seconds s" >&2
