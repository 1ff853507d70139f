#!/bin/sh
# Usage: deb_package.sh CPACK BUILD_DIR
# Builds the .deb with cpack into a temporary directory (not installing it:
# that would change the machine) and checks its name, that `dpkg-deb -c`
# lists the programs, the Python module, the unit and the configuration
# (a conffile), and that `dpkg-deb -I` has Depends with libsystemd0 (from
# dpkg-shlibdeps: the daemon's sd_notify). Skips (77) without dpkg's tools.
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
for path in ./usr/bin/conceptwatchd ./usr/bin/conceptwatch ./usr/bin/conceptwatch-refit \
            ./usr/lib/python3/dist-packages/conceptwatch/__init__.py \
            ./usr/lib/systemd/system/conceptwatchd.service ./etc/conceptwatch/conceptwatchd.toml \
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
echo "ok: $(echo "$contents" | grep -vc '/$') files, Depends with libsystemd0"
