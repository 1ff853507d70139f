#!/usr/bin/env bash
# The long fuzzing run (docs/FUZZING.md): builds the fuzz tree if needed,
# then runs every target (or those named) for RUNS executions each, one
# after the other, and prints a Markdown row per target: executions, wall
# time, executions per second, peak memory, corpus size, and the result.
# Exits non-zero if any target found a crash, leak, timeout or sanitizer
# report (the input is kept in DIR/artifacts/TARGET/).
#   nice -n 19 bash fuzz/run_long.sh                  # 1,000,000 each, build/fuzz-tree
#   RUNS=5000000 DIR=/tmp/tree bash fuzz/run_long.sh ingest query
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
tree=${DIR:-$src/build/fuzz-tree}
runs=${RUNS:-1000000}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(frame record ingest query config)
[ -x "$tree/fuzz/cw_fuzz_seeds" ] || bash "$src/fuzz/build.sh" "$tree" || exit 1
mkdir -p "$tree/logs"
failed=0
echo "| target | executions | wall time | exec/s | peak RSS | corpus | result |"
echo "|---|---:|---:|---:|---:|---:|---|"
for target in "${targets[@]}"; do
  log=$tree/logs/$target.log
  start=$(date +%s)
  bash "$src/fuzz/run.sh" "$tree" "$target" -runs="$runs" > "$log" 2>&1
  rc=$?
  seconds=$(( $(date +%s) - start ))
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  corpus=$(ls "$tree/corpus/$target" | wc -l)
  if [ $rc -eq 0 ]; then result="no crash, leak or report"; else result="FAILED (rc $rc, see $log)"; failed=1; fi
  echo "| $target | ${executions:-?} | ${seconds} s | $(( ${executions:-0} / (seconds > 0 ? seconds : 1) )) | ${rss:-?} MB | $corpus | $result |"
done
exit $failed
