#!/usr/bin/env bash
# Sets up (packages + build) and runs the whole test suite with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
cd build
status=0
ctest --output-on-failure --timeout 900 -j "${CW_TEST_JOBS:-2}" || status=$?
if [ "$status" -ne 0 ] && [ -s Testing/Temporary/LastTestsFailed.log ]; then
  # A CI log is often read from its end only: repeat each failed test's own
  # output there (its last 60 lines), not just its name.
  while IFS=: read -r _ name; do
    name=${name%% *}  # a parameterised test's line ends in "  # GetParam() = ..."
    echo "===== output of failed test $name (last 60 lines) ====="
    awk -v t="$name" '$2 == "Testing:" && $3 == t { on = 1; next }
                      on && $2 == "Testing:" { on = 0 }
                      on' Testing/Temporary/LastTest.log | tail -n 60
  done < Testing/Temporary/LastTestsFailed.log
fi
exit "$status"
