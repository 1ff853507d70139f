#!/usr/bin/env bash
# Installs every Debian 12 package conceptwatch needs and builds it into
# build/. Idempotent and non-interactive; run as root or with sudo available.
#   bash deploy/setup.sh            # install + build
#   CW_SKIP_APT=1 bash deploy/setup.sh   # build only
#   CW_BUILD_TARGETS="conceptwatchd tinygpt" bash deploy/setup.sh   # build only those (deploy/demo.sh)
# apt's and ninja's output go to apt.log and build.log; a line every 30 s
# says they are still going, and a failure prints the log's tail.
set -euo pipefail
cd "$(dirname "$0")/.."

# Runs a long command with its output appended to LOG, printing its last
# line every 30 s instead of its hundreds of lines; on failure, the tail.
run_logged() {
  local log=$1 label=$2 waited=0 rc=0
  shift 2
  "$@" >> "$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    waited=$((waited + 1))
    if [ $((waited % 30)) -eq 0 ]; then
      echo "setup: $label, ${waited} s: $(tail -n 1 "$log" | tr -d '\r' | tail -c 100)"
    fi
  done
  wait "$pid" || rc=$?
  if [ "$rc" -ne 0 ]; then
    tail -n 60 "$log"
    echo "setup: $label failed (exit $rc; full log: $log)"
    exit 1
  fi
}

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libgloo-dev libopenblas0-pthread
  libzmq3-dev cppzmq-dev librocksdb-dev capnproto libcapnp-dev
  libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libspdlog-dev libtomlplusplus-dev libcpp-httplib-dev libxxhash-dev libpng-dev libsystemd-dev
  pybind11-dev python3-dev python3-torch python3-zmq python3-numpy
  bible-kjv bible-kjv-text
  prometheus-alertmanager  # the alertmanager sink's end-to-end test (docs/METRICS.md "Alertmanager")
  clang-14 libclang-rt-14-dev  # the fuzz tree (fuzz/build.sh): clang++ and libFuzzer's runtime
  chromium  # the dashboard's browser test (tests/observe/dashboard_test.cc; skipped without it)
)

if [ -z "${CW_SKIP_APT:-}" ]; then
  missing=()
  for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing ${#missing[@]} Debian packages and their dependencies (log: apt.log): ${missing[*]}"
    : > apt.log
    run_logged apt.log "apt-get update" $SUDO apt-get update -q
    run_logged apt.log "apt-get install" $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    echo "setup: $(grep -c '^Setting up' apt.log) Debian packages installed"
  else
    echo "setup: all ${#PACKAGES[@]} Debian packages present"
  fi
fi

# Two compile jobs: a torch translation unit needs ~1.2 GB and 20 s.
JOBS="${CW_JOBS:-2}"
# -g1: line tables only (backtraces, perf and gdb's "where" still name file
# and line). Full -g made a translation unit 35-50% slower to compile
# (cli/keygen_command.cc 13.3 s against 8.8 s) for variable views nobody
# asked of a release build.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" > build.log 2>&1 || { cat build.log; exit 1; }
# Empty: everything (the tests need it all); deploy/demo.sh names the three
# programs it runs, about half the build.
read -r -a targets <<< "${CW_BUILD_TARGETS:-}"
echo "setup: building ${targets[*]:-everything} with $JOBS jobs (log: build.log)"
run_logged build.log build ninja -C build -j "$JOBS" "${targets[@]}"
echo "setup: built into build/"

# The Python hook: put build/python on Debian's python3 path (a .pth file).
site_dir=$(/usr/bin/python3 -c 'import site; print(site.getsitepackages()[0])')
if [ ! -f build/python/conceptwatch/__init__.py ]; then
  echo "setup: Python hook not built (CW_BUILD_TARGETS without it; ninja -C build cw_python_package)"
elif mkdir -p "$site_dir" 2>/dev/null && [ -w "$site_dir" ]; then
  echo "$PWD/build/python" > "$site_dir/conceptwatch.pth"
  echo "setup: Python hook importable as 'conceptwatch' by /usr/bin/python3"
else
  echo "setup: to use the Python hook, export PYTHONPATH=$PWD/build/python"
fi
