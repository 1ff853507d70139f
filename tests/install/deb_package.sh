#!/bin/sh
# Usage: deb_package.sh CPACK BUILD_DIR
# Builds the .deb with cpack into a temporary directory (not installing it:
# that would change the machine) and checks its name, that `dpkg-deb -c`
# lists the programs, the Python module, the unit and the configuration
# (a conffile), and that `dpkg-deb -I` has Depends with libsystemd0 (from
# dpkg-shlibdeps: the daemon's sd_notify). Skips (77) without dpkg's tools.
# Where it runs as root and no conceptwatch package is installed (a CI
# machine: nobody's install is overwritten), it then installs the .deb with
# dpkg, starts the installed daemon on the installed configuration (ports,
# data directory and HTTP port of its own, so nothing else is disturbed),
# asks the installed CLI, and purges the package again. The build's own
# Python path (a .pth in /usr/local) comes before /usr/lib/python3, so tests
# running meanwhile keep importing the build's module.
set -eu
cpack=$1
build=$2
for tool in dpkg-deb dpkg-shlibdeps; do
  command -v $tool > /dev/null || { echo "$tool not installed: no .deb to check"; exit 77; }
done
out=$(mktemp -d /tmp/cw-deb-XXXXXX)
trap 'rm -rf "$out"' EXIT
"$cpack" --config "$build/CPackConfig.cmake" -B "$out" > "$out/cpack.log" 2>&1 || { cat "$out/cpack.log"; exit 1; }
deb=$(ls "$out"/conceptwatch_*_amd64.deb) || { echo "no conceptwatch_<version>_amd64.deb in:"; ls "$out"; exit 1; }
echo "built $(basename "$deb")"
contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/conceptwatchd ./usr/bin/conceptwatch ./usr/bin/conceptwatch-refit ./usr/bin/conceptwatch-trainer \
            ./usr/lib/python3/dist-packages/conceptwatch/__init__.py \
            ./usr/lib/systemd/system/conceptwatchd.service ./usr/lib/systemd/system/conceptwatch-trainer@.service \
            ./etc/conceptwatch/conceptwatchd.toml \
            ./usr/share/doc/conceptwatch/INSTALL.md; do
  echo "$contents" | grep -q " $path\$" || { echo "dpkg-deb -c lists no $path:"; echo "$contents"; exit 1; }
done
echo "$contents" | grep -q " ./usr/lib/python3/dist-packages/conceptwatch/_conceptwatch\..*\.so\$" \
  || { echo "dpkg-deb -c lists no Python module:"; echo "$contents"; exit 1; }
# Nothing of the tests, benches or fuzz targets.
if echo "$contents" | grep -E "cw_tests|cw_bench|_fuzzer|tinygpt"; then echo "test/bench/fuzz files packaged"; exit 1; fi
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
echo "$depends" | grep -Eq "(^|, )libsystemd0( |,|$)" || { echo "Depends names no libsystemd0"; exit 1; }
dpkg-deb -I "$deb" conffiles | grep -qx /etc/conceptwatch/conceptwatchd.toml \
  || { echo "the configuration is not a conffile"; exit 1; }
# The installed unit runs the installed daemon on the installed configuration.
dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/lib/systemd/system/conceptwatchd.service \
  | grep -q "^ExecStart=/usr/bin/conceptwatchd --config /etc/conceptwatch/conceptwatchd.toml" \
  || { echo "the packaged unit's ExecStart is not /usr/bin/conceptwatchd --config /etc/..."; exit 1; }
dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/lib/systemd/system/conceptwatch-trainer@.service \
  | grep -q "^ExecStart=/usr/bin/conceptwatch-trainer --rank %i " \
  || { echo "the packaged trainer unit's ExecStart is not /usr/bin/conceptwatch-trainer --rank %i ..."; exit 1; }
echo "ok: $(echo "$contents" | grep -vc '/$') files, Depends with libsystemd0"

[ "$(id -u)" = 0 ] || { echo "not root: the .deb is not installed"; exit 0; }
if dpkg-query -W -f='${Status}' conceptwatch 2>/dev/null | grep -q installed; then
  echo "a conceptwatch package is installed already: not replacing it"; exit 0
fi
cleanup() {
  if [ -n "$daemon" ]; then kill "$daemon" 2> /dev/null || true; fi
  dpkg --purge conceptwatch > /dev/null 2>&1 || true
  rm -rf "$out"
}
trap cleanup EXIT
daemon=
dpkg -i "$deb" > "$out/dpkg.log" 2>&1 || { cat "$out/dpkg.log"; echo "dpkg -i failed"; exit 1; }
echo "installed: $(dpkg-query -W -f='${Package} ${Version} ${Status}' conceptwatch)"
ports=$(/usr/bin/python3 -c 'import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
set -- $ports
/usr/bin/conceptwatchd --config /etc/conceptwatch/conceptwatchd.toml --data-dir "$out/data" \
  --ingest "tcp://127.0.0.1:$1" --query "tcp://127.0.0.1:$2" --http "127.0.0.1:$3" > "$out/daemon.log" 2>&1 &
daemon=$!
answer=
for _ in $(seq 100); do
  answer=$(/usr/bin/conceptwatch --endpoint "tcp://127.0.0.1:$2" --timeout-ms 200 --json status 2>/dev/null) && break
  sleep 0.1
done
echo "$answer" | /usr/bin/python3 -c 'import json, sys; s = json.load(sys.stdin); assert s["daemon"]["up"] is True and s["runs"] == [], s' \
  || { echo "the installed daemon did not answer the installed CLI:"; cat "$out/daemon.log"; exit 1; }
/usr/bin/python3 -c "import urllib.request; assert urllib.request.urlopen('http://127.0.0.1:$3/readyz').status == 200" \
  || { echo "the installed daemon's /readyz is not ready"; cat "$out/daemon.log"; exit 1; }
kill -TERM "$daemon"; wait "$daemon" || { echo "the installed daemon did not stop cleanly"; cat "$out/daemon.log"; exit 1; }
daemon=
dpkg --purge conceptwatch > "$out/dpkg.log" 2>&1 || { cat "$out/dpkg.log"; echo "dpkg --purge failed"; exit 1; }
[ ! -e /usr/bin/conceptwatchd ] || { echo "/usr/bin/conceptwatchd is still there after the purge"; exit 1; }
echo "ok: installed with dpkg, the installed daemon answered the installed CLI (status, /readyz), purged"
