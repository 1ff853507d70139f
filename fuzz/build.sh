#!/usr/bin/env bash
# Builds the fuzz tree into DIR (clang++-14 with libFuzzer, AddressSanitizer
# and UBSan; only the fuzz targets and the libraries they link) and writes
# the seed corpora into DIR/seeds.
#   bash fuzz/build.sh [DIR]        # default: build/fuzz-tree
#   CW_FUZZ_JOBS=1 bash fuzz/build.sh   # compile jobs (default 2)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
tree=${1:-$src/build/fuzz-tree}
for tool in clang++-14 clang-14; do
  command -v "$tool" > /dev/null || { echo "fuzz: $tool is missing: install clang-14 and libclang-rt-14-dev (deploy/setup.sh does)"; exit 1; }
done
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
mkdir -p "$tree"
cmake -S "$src" -B "$tree" -G Ninja -DCW_FUZZ=ON -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  "${launcher[@]}" > "$tree/configure.log" 2>&1 || { cat "$tree/configure.log"; exit 1; }
ninja -C "$tree" -j "${CW_FUZZ_JOBS:-2}" fuzzers
rm -rf "$tree/seeds"
"$tree/fuzz/cw_fuzz_seeds" "$tree/seeds" "$src"/deploy/*.toml
