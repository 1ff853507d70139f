#!/usr/bin/env bash
# Sets up (packages + build) and runs the whole test suite with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
cd build
ctest --output-on-failure --timeout 900 -j "${CW_TEST_JOBS:-2}"
