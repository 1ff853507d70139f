#!/usr/bin/env bash
# The main job: a real small pre-training run (tinygpt, 2-layer attention-only
# transformer on random tokens repeated twice) with conceptwatchd attached.
# Shows snapshots arriving, the crosscoder's explained variance, features
# emerging and the phase-transition alert live; ends with a summary (when the
# transition was flagged vs when the loss dropped) and PNG figures in out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
# Only the three programs this script runs (about half of the full build's
# steps; deploy/test.sh builds everything): the first live line comes sooner.
CW_BUILD_TARGETS="conceptwatchd conceptwatch tinygpt" bash deploy/setup.sh

OUT=out/demo
rm -rf "$OUT"
mkdir -p "$OUT"
STEPS="${CW_DEMO_STEPS:-1400}"
# blocks.1 by default; blocks.0 was measured and shows the transition in the
# job's scalars only (docs/CROSSCODER.md "Why nearly every feature fades").
TAP="${CW_DEMO_TAP:-blocks.1.resid_post}"
CLI=(build/cli/conceptwatch --endpoint tcp://127.0.0.1:17782 --ingest tcp://127.0.0.1:17781 --data-dir "$OUT/data")

build/daemon/conceptwatchd --config deploy/demo.toml --data-dir "$OUT/data" > "$OUT/daemon.log" 2>&1 &
DAEMON=$!
FOLLOW=""
cleanup() {
  # The follower is a pipeline in a subshell: stop its processes too.
  [ -n "$FOLLOW" ] && { pkill -P "$FOLLOW" 2>/dev/null; kill "$FOLLOW" 2>/dev/null; } || true
  kill -TERM "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 50); do "${CLI[@]}" --timeout-ms 200 status > /dev/null 2>&1 && break; sleep 0.2; done

echo "== conceptwatchd is up; phase events follow live (prefixed 'event:'), feature counts every 10 s"
# Feature events are many (one per feature); they are counted in the status
# lines and listed at the end. Transitions and phase changes print as raised.
# The subshell's stderr is closed: when the cleanup stops its pipeline it
# would print "Terminated" after the summary.
( "${CLI[@]}" events --follow 2>/dev/null | grep --line-buffered -v ' feature [0-9]' | sed -u 's/^/event: /' ) 2>/dev/null &
FOLLOW=$!
feature_counts() {
  "${CLI[@]}" --json features --run tinygpt-repeat --filter all --limit 0 2>/dev/null | /usr/bin/python3 -c '
import json, sys
f = json.load(sys.stdin)["features"]
emerged = [x for x in f if x["emerged_step"] is not None]
faded = [x for x in f if x["faded_step"] is not None]
latest = max((x["emerged_step"] for x in emerged), default=None)
print("features  %d live, %d emerged (latest at step %s), %d faded" % (sum(x["live"] for x in f), len(emerged), latest, len(faded)))' || true
}

echo "== training tinygpt for $STEPS steps with the hook attached"
build/examples/tinygpt/tinygpt --dataset repeat --steps "$STEPS" --positions rotary --tap "$TAP" \
  --log-spaced-until 64 --snapshot-every 20 --log-every 50 --quiet-sink --run tinygpt-repeat \
  --conceptwatch tcp://127.0.0.1:17781 --out "$OUT/tinygpt.jsonl" | tee "$OUT/tinygpt.log" \
  | grep -v '^conceptwatch: publishing' &
TRAIN=$!
while kill -0 "$TRAIN" 2>/dev/null; do
  sleep 10
  kill -0 "$TRAIN" 2>/dev/null || break
  "${CLI[@]}" status --run tinygpt-repeat 2>/dev/null | grep -E '^(snapshots|crosscoder)' | sed 's/^/status: /' || true
  feature_counts | sed 's/^/status: /'
done
wait "$TRAIN"
TRAINING_ENDED_MS=$(date +%s%3N)

echo "== training finished; waiting for the daemon to catch up"
bash deploy/wait_caught_up.sh 120 "${CLI[@]}"
REFINE_STEPS=$(sed -n 's/^refine_steps = \([0-9]*\).*/\1/p' deploy/demo.toml)
echo "== caught up; the idle daemon refines the crosscoder ([crosscoder] refine_steps in deploy/demo.toml: $REFINE_STEPS more steps, 10 s after its last update)"
bash deploy/wait_caught_up.sh --refined 900 "${CLI[@]}"

"${CLI[@]}" crosscoder --run tinygpt-repeat | tail -n 8
"${CLI[@]}" features --run tinygpt-repeat --limit 10
"${CLI[@]}" plot --run tinygpt-repeat --out "$OUT/features.png"
# The figure's feature: the strongest (decoder norm) of those that emerged,
# leaving out the newest emergence step, whose features are the least
# trained (a recruit dated at the last snapshot plots as one spike).
TOP=$("${CLI[@]}" --json features --run tinygpt-repeat --filter emerged --limit 0 | /usr/bin/python3 -c '
import json, sys
f = [x for x in json.load(sys.stdin)["features"] if x["live"] and x["emerged_step"] is not None]
newest = max((x["emerged_step"] for x in f), default=None)
f = [x for x in f if x["emerged_step"] != newest] or f
print(max(f, key=lambda x: x["decoder_norm"])["feature"] if f else -1)')
[ "$TOP" -ge 0 ] && "${CLI[@]}" plot --run tinygpt-repeat --feature "$TOP" --out "$OUT/feature.png"

echo "== summary"
"${CLI[@]}" --json phases --run tinygpt-repeat > "$OUT/phases.json"
"${CLI[@]}" --json features --run tinygpt-repeat --filter all --limit 0 > "$OUT/features.json"
"${CLI[@]}" --json events --run tinygpt-repeat > "$OUT/events.jsonl"
/usr/bin/python3 deploy/transition_summary.py "$OUT" --ended-ms "$TRAINING_ENDED_MS"
