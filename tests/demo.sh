#!/usr/bin/env bash
# Boot the test kernel and show the dmabuf controller at work (make demo).
# KVER=7.3 (default): the mainline series; KVER=6.12: the LTS backport.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kver=${KVER:-7.3}
kernel=$top/build/obj-$kver/arch/x86/boot/bzImage
[ -f "$kernel" ] || { echo "demo: no $kernel: run 'make demo KVER=$kver'" >&2; exit 1; }
echo "demo: Linux $kver with the dmabuf series (${kernel#"$top"/})"
# kunit.enable=0: the KUnit suites leave a test pool registered.
exec "$top/tests/vm/run" --kernel "$kernel" --append kunit.enable=0 \
	--log "$top/build/vm/demo-$kver-console.log" --out "$top/build/vm/demo-$kver" \
	-- "$top/tests/guest/demo.sh"
