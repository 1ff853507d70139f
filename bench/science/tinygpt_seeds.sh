#!/usr/bin/env bash
# The main job's transition across seeds and widths: tinygpt's repeat task
# (deploy/demo.sh's run and daemon config) per (seed, d_model), each with a
# fresh conceptwatchd, and one line per run: where the job's own second-copy
# loss first fell below 2.0, every transition the daemon raised and which
# feature signals and job scalars flagged it. The crosscoder runs at normal
# priority (not the daemon's default idle one), so that what is measured is
# the method, not how busy the machine was. Usage (after a build):
#   bash bench/science/tinygpt_seeds.sh [STEPS] [SEEDS] [WIDTHS]
#   bash bench/science/tinygpt_seeds.sh 1000 "0 1 2 3 4" "64 128"
#   TINYGPT_FLAGS="--positions learned" bash bench/science/tinygpt_seeds.sh   # tinygpt flags (default: the demo's --positions rotary)
#   CONFIG=my.toml bash bench/science/tinygpt_seeds.sh                      # daemon config (default: deploy/demo.toml)
#   OUT=out/seeds-x bash bench/science/tinygpt_seeds.sh                      # where each run's files go (default: out/seeds)
# Progress on stderr; the table on stdout; each run's files in $OUT/s<seed>-d<d>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS="${1:-1000}"
SEEDS="${2:-0 1 2 3 4}"
WIDTHS="${3:-64 128}"
CONFIG="${CONFIG:-deploy/demo.toml}"
OUT="${OUT:-out/seeds}"
for bin in build/daemon/conceptwatchd build/cli/conceptwatch build/examples/tinygpt/tinygpt; do
  [ -x "$bin" ] || { echo "tinygpt_seeds: $bin is missing: build first (bash deploy/setup.sh)" >&2; exit 2; }
done
echo "| seed | d_model | loss < 2.0 | transitions (step: feature signals / scalars) | largest emergence burst (step: features) | flicker / returned |"
echo "|---|---|---|---|---|---|"
for d in $WIDTHS; do
  for seed in $SEEDS; do
    out="$OUT/s${seed}-d${d}"
    rm -rf "$out"; mkdir -p "$out"
    cli=(build/cli/conceptwatch --endpoint tcp://127.0.0.1:17792 --ingest tcp://127.0.0.1:17791 --data-dir "$out/data")
    build/daemon/conceptwatchd --config "$CONFIG" --ingest tcp://127.0.0.1:17791 --query tcp://127.0.0.1:17792 \
      --data-dir "$out/data" --crosscoder-priority normal > "$out/daemon.log" 2>&1 &
    daemon=$!
    for _ in $(seq 50); do "${cli[@]}" --timeout-ms 200 status > /dev/null 2>&1 && break; sleep 0.2; done
    echo "tinygpt_seeds: seed $seed, d_model $d, $STEPS steps" >&2
    build/examples/tinygpt/tinygpt ${TINYGPT_FLAGS:---positions rotary} --dataset repeat --steps "$STEPS" --seed "$seed" --d-model "$d" --tap blocks.1.resid_post \
      --log-spaced-until 64 --snapshot-every 20 --log-every 200 --quiet-sink --run tinygpt-repeat \
      --conceptwatch tcp://127.0.0.1:17791 --out "$out/tinygpt.jsonl" > "$out/tinygpt.log" 2>&1
    bash deploy/wait_caught_up.sh 300 "${cli[@]}"
    "${cli[@]}" --json phases --run tinygpt-repeat > "$out/phases.json"
    "${cli[@]}" --json crosscoder --run tinygpt-repeat > "$out/crosscoder.json"  # for cw_replay_transitions
    "${cli[@]}" --json features --run tinygpt-repeat --filter all --limit 0 > "$out/features.json"
    "${cli[@]}" crosscoder --run tinygpt-repeat | grep -E '^(flicker|returned):' > "$out/flicker.txt" || true
    kill -TERM "$daemon"; wait "$daemon" || true
    /usr/bin/python3 deploy/transition_summary.py "$out" --row "$seed" "$d"
  done
done
