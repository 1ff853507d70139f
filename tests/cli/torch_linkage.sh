#!/bin/sh
# Usage: torch_linkage.sh none|torch BINARY
# Checks with ldd whether BINARY loads LibTorch (libtorch*, libc10*): "none"
# fails if it does (the CLI must start without it), "torch" fails if it does
# not (run on conceptwatch-refit, it shows the check sees LibTorch at all).
expect=$1
binary=$2
libs=$(ldd "$binary") || { echo "ldd $binary failed"; exit 2; }
echo "$libs" | grep -q libzmq || { echo "ldd $binary lists no libzmq: not the dynamically linked program"; exit 2; }
torch=$(echo "$libs" | grep -Ei 'libtorch|libc10')
if [ "$expect" = none ] && [ -n "$torch" ]; then
  echo "$binary loads LibTorch:"; echo "$torch"; exit 1
fi
if [ "$expect" = torch ] && [ -z "$torch" ]; then
  echo "$binary loads no LibTorch"; exit 1
fi
echo "$binary: LibTorch as expected ($expect)"
