#!/usr/bin/env bash
# Installs every Debian 12 package conceptwatch needs and builds it into
# build/. Idempotent and non-interactive; run as root or with sudo available.
#   bash deploy/setup.sh            # install + build
#   CW_SKIP_APT=1 bash deploy/setup.sh   # build only
set -euo pipefail
cd "$(dirname "$0")/.."

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
)

if [ -z "${CW_SKIP_APT:-}" ]; then
  missing=()
  for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "setup: all ${#PACKAGES[@]} Debian packages present"
  fi
fi

# Two compile jobs: a torch translation unit needs ~1.2 GB and 20 s.
JOBS="${CW_JOBS:-2}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > build.log 2>&1 || { cat build.log; exit 1; }
echo "setup: building with $JOBS jobs (log: build.log)"
ninja -C build -j "$JOBS" >> build.log 2>&1 || { tail -n 80 build.log; echo "setup: build failed (full log: build.log)"; exit 1; }
echo "setup: built into build/"

# The Python hook: put build/python on Debian's python3 path (a .pth file).
site_dir=$(/usr/bin/python3 -c 'import site; print(site.getsitepackages()[0])')
if mkdir -p "$site_dir" 2>/dev/null && [ -w "$site_dir" ]; then
  echo "$PWD/build/python" > "$site_dir/conceptwatch.pth"
  echo "setup: Python hook importable as 'conceptwatch' by /usr/bin/python3"
else
  echo "setup: to use the Python hook, export PYTHONPATH=$PWD/build/python"
fi
