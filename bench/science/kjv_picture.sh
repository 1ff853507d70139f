#!/usr/bin/env bash
# The paper's picture on a real text model: tinygpt on KJV characters with
# MLPs, log-spaced snapshots, a fresh conceptwatchd (bench/science/kjv.toml)
# watching one residual tap; then what the daemon claims, read against the
# job's own losses by bench/science/kjv_picture.py. Usage (after a build):
#   bash bench/science/kjv_picture.sh [STEPS] [SEED] [OUT]
# Defaults: 1500 steps, seed 0, out/kjv/s0; REFIT_STEPS=0 skips the offline
# refit (`conceptwatch refit`, 4,000 steps) whose emergence dates are compared. Progress on stderr; the report
# on stdout; the run's files (features.png included) in OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS="${1:-1500}"
SEED="${2:-0}"
OUT="${3:-out/kjv/s${SEED}}"
for bin in build/daemon/conceptwatchd build/cli/conceptwatch build/examples/tinygpt/tinygpt; do
  [ -x "$bin" ] || { echo "kjv_picture: $bin is missing: build first (bash deploy/setup.sh)" >&2; exit 2; }
done
rm -rf "$OUT"; mkdir -p "$OUT"
cli=(build/cli/conceptwatch --endpoint tcp://127.0.0.1:17892 --ingest tcp://127.0.0.1:17891 --data-dir "$OUT/data")
build/daemon/conceptwatchd --config bench/science/kjv.toml --ingest tcp://127.0.0.1:17891 --query tcp://127.0.0.1:17892 \
  --data-dir "$OUT/data" > "$OUT/daemon.log" 2>&1 &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true' EXIT
for _ in $(seq 50); do "${cli[@]}" --timeout-ms 200 status > /dev/null 2>&1 && break; sleep 0.2; done
echo "kjv_picture: tinygpt on KJV, 4 layers, d_model 128, MLPs, seed $SEED, $STEPS steps (progress: $OUT/tinygpt.log)" >&2
# Learned positions: what docs/CROSSCODER.md's KJV figures were measured with
# (tinygpt's default is rotary since).
build/examples/tinygpt/tinygpt --positions learned --dataset kjv --layers 4 --d-model 128 --mlp --lr 1e-3 --batch 16 --steps "$STEPS" \
  --seed "$SEED" --probe-sequences 128 --tap blocks.1.resid_post --log-spaced-until 128 --snapshot-every 50 \
  --log-every 50 --quiet-sink --run kjv --conceptwatch tcp://127.0.0.1:17891 --out "$OUT/tinygpt.jsonl" \
  > "$OUT/tinygpt.log" 2>&1
echo "kjv_picture: job done; waiting for the crosscoder to take in every snapshot" >&2
bash deploy/wait_caught_up.sh 900 "${cli[@]}"
"${cli[@]}" --json crosscoder --run kjv > "$OUT/crosscoder.json"
"${cli[@]}" --json features --run kjv --filter all --limit 0 > "$OUT/features.json"
"${cli[@]}" --json phases --run kjv > "$OUT/phases.json"
"${cli[@]}" plot --run kjv --out "$OUT/features.png" > /dev/null
kill -TERM "$daemon"; wait "$daemon" || true
if [ "${REFIT_STEPS:-4000}" != 0 ]; then
  echo "kjv_picture: refitting offline (${REFIT_STEPS:-4000} steps, a few minutes) to compare emergence dates" >&2
  build/cli/conceptwatch --config bench/science/kjv.toml --data-dir "$OUT/data" refit --run kjv \
    --steps "${REFIT_STEPS:-4000}" --json > "$OUT/refit.json"
fi
/usr/bin/python3 bench/science/kjv_picture.py "$OUT"
