#!/bin/sh
# Issue 12's full-size check of streamed training (docs/SCALE_OUT.md
# "Streamed activations"): one tap with 64 snapshots of 64 MiB (4 GiB of
# probe activations) trained by the real daemon under a 1 GiB
# [analysis] memory_cap_bytes; prints the daemon's RSS at rest and at most
# while training, and fails if it exceeds rest + cap + the constant of
# tests/analysis/trainer_pool_daemon_test.cc (kRssBesideTheCap).
# Needs ~9 GiB of disk under TMPDIR (the store and the row files) and
# minutes. Usage: bench/stream/full_size.sh [build dir] [ranks]
# ("ranks": the same on two trainer ranks, each rank's RSS printed and held
# under its own at rest plus the cap and the constant.)
set -eu
build=${1:-build}
test=DISABLED_SixtyFourSnapshotsOf64MiBTrainStreamedUnderAOneGiBCap
[ "${2:-}" = ranks ] && test=DISABLED_SixtyFourSnapshotsOf64MiBOnTwoRanksUnderAOneGiBCap
exec "$build/tests/cw_tests" --gtest_also_run_disabled_tests --gtest_filter="TrainerPoolDaemon.$test"
