#!/usr/bin/env bash
# Fuzzes one target of a tree fuzz/build.sh made, starting from its seeds;
# exits non-zero on any crash, leak, timeout or sanitizer report, and keeps
# the input that caused it in DIR/artifacts/TARGET/.
#   bash fuzz/run.sh DIR TARGET [libFuzzer flags ...]
#   e.g. bash fuzz/run.sh build/fuzz-tree ingest -max_total_time=20
# TARGET is one of frame, record, ingest, query, config. The corpus grows in
# DIR/corpus/TARGET (kept between runs); the seeds are never changed. The
# inputs that once found a bug (fuzz/regressions/TARGET/) run first, every
# time; fuzz/TARGET.dict, where there is one, is the mutation dictionary.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
tree=$(cd "$1" && pwd)
target=$2
shift 2
binary=$tree/fuzz/cw_fuzz_$target
[ -x "$binary" ] || { echo "fuzz: no $binary: run fuzz/build.sh $tree first"; exit 1; }
corpus=$tree/corpus/$target
artifacts=$tree/artifacts/$target
mkdir -p "$corpus" "$artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$src/fuzz/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# -timeout: one input taking 10 s is a hang worth a report; -rss_limit_mb: a
# decoder that allocates what a corrupt length asks for is a bug too.
dict=()
[ -f "$src/fuzz/$target.dict" ] && dict=(-dict="$src/fuzz/$target.dict")
started=$(mktemp)
trap 'rm -f "$started"' EXIT
status=0
"$binary" "${dict[@]}" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$@" "$corpus" "$tree/seeds/$target" \
  $( [ -d "$src/fuzz/regressions/$target" ] && echo "$src/fuzz/regressions/$target" ) || status=$?
if [ "$status" -ne 0 ]; then
  # The artifact dies with a CI machine: print it (base64, first 4 KiB), so
  # that it can be rebuilt with base64 -d into fuzz/regressions/TARGET/.
  find "$artifacts" -type f -newer "$started" | while read -r input; do
    echo "fuzz: input that failed: $input ($(stat -c %s "$input") bytes), base64:"
    head -c 4096 "$input" | base64
  done
fi
exit "$status"
