#!/usr/bin/env bash
# make stress: a torture run of the controller in the VM (tests/guest/stress.sh)
# on the debug test kernel (KASAN, lockdep, DEBUG_OBJECTS, kmemleak booted
# on), with two guest CPUs, for STRESS_SECONDS (default 600). KVER=6.12 runs
# it on the backport; STRESS_WORKERS, STRESS_FAULT_PERCENT, STRESS_WRITES and
# DMABUF_TEST_SEED go to the guest (tests/guest/stress.sh). Prints the
# guest's TAP and figures; fails when a test
# fails or the VM runner reports a timeout, a panic or a kernel splat.
# Logs in build/stress-KVER/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kver=${KVER:-7.3}
secs=${STRESS_SECONDS:-600}
out=$top/build/stress-$kver
kernel=$top/build/obj-$kver/arch/x86/boot/bzImage
[ -f "$kernel" ] || { echo "stress: no $kernel: run 'make kernels' first" >&2; exit 1; }
mkdir -p "$out"
echo "stress: Linux $kver, ${secs} s, 2 CPUs (logs: ${out#"$top"/})"
rc=0
"$top/tests/vm/run" --kernel "$kernel" --smp 2 --alloc-failures-ok --append "kmemleak=on kunit.enable=0" \
	--timeout $((secs * 2 + 900)) --log "$out/console.log" --out "$out/vm" -- \
	env STRESS_SECONDS="$secs" STRESS_WORKERS="${STRESS_WORKERS:-4}" \
	STRESS_FAULT_PERCENT="${STRESS_FAULT_PERCENT:-2}" STRESS_WRITES="${STRESS_WRITES:-100000}" \
	${DMABUF_TEST_SEED:+DMABUF_TEST_SEED="$DMABUF_TEST_SEED"} "$top/tests/guest/stress.sh" \
	| tee "$out/stress.tap" || rc=$?
grep -q '^not ok' "$out/stress.tap" && { [ "$rc" != 0 ] || rc=1; }
grep -q '^1\.\.' "$out/stress.tap" || { echo "stress: the guest script did not finish" >&2; { [ "$rc" != 0 ] || rc=1; }; }
echo "stress: $([ "$rc" = 0 ] && echo passed || echo "FAILED (status $rc)")"
exit "$rc"
