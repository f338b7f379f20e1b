#!/usr/bin/env bash
# Run every test of the project and print one summary line "N passed, N failed".
#
# 1. On the host: checkpatch --strict on every patch of both series (the
#    mainline one and the 6.12 backport's own patches), the dmabufctl unit
#    tests and the systemd series' host unit tests.
# 2. For each kernel, 7.3 (mainline) and 6.12 (backport): one VM boot with
#    the KUnit suites (run at boot, read from the console log) and the guest
#    tests (tests/guest/run-all, TAP), and a second boot with
#    cgroup_disable=dmabuf: tests/guest/test_disabled.sh.
# 3. On 7.3, a boot with Debian's systemd as PID 1 (tests/vm/run --systemd):
#    tests/guest/test_systemd_stock.sh.
# 4. On 7.3, a boot with the patched systemd (make systemd) as PID 1:
#    tests/guest/test_systemd.sh.
# 5. On the host, 7.3: the KUnit suites that run on UML (TTM's), built by
#    kernel/build.sh uml.
# 6. For each kernel, a short torture run (tests/guest/stress.sh, 90 s; make
#    stress runs the long one) booted with kmemleak=on.
# The boots run two at a time (CHECK_JOBS=N to change it), on two guest CPUs
# each (CHECK_SMP=N). Test names carry the kernel: "[7.3] ...", "[6.12] ...".
# The run fails when a test fails, when nothing ran, or when the VM runner
# reports a timeout, a panic or a kernel splat (lockdep, KASAN, WARN).
# Logs stay in build/check/.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/check
ksrc=$top/build/linux-7.3
rm -rf "$out"
mkdir -p "$out"

. "$top/tests/tap.sh"

echo "== checkpatch --strict"
# The backport's series names the mainline patches it shares as ../patches/.
while read -r dir p; do
	[ -z "$p" ] && continue
	case $p in ../*) continue ;; esac
	# The backport's own patches too are checked in the 7.3 tree.
	if "$top/kernel/checkpatch.sh" "$ksrc" "$top/kernel/$dir/$p" > "$out/checkpatch.log" 2>&1; then
		result ok "checkpatch $dir/$p"
	else
		cat "$out/checkpatch.log"
		result fail "checkpatch $dir/$p"
	fi
done < <(for d in patches patches-6.12; do grep -v -e '^#' -e '^$' "$top/kernel/$d/series" | sed "s|^|$d |"; done)
for v in ${CHECK_KVERS:-7.3 6.12}; do
	name="[$v] every file the series adds is in its MAINTAINERS section"
	if [ ! -d "$top/build/linux-$v/.git" ]; then
		result fail "$name: no build/linux-$v (make kernels first)"
	elif KVER=$v "$top/kernel/build.sh" maintainers > "$out/maintainers-$v.log" 2>&1; then
		result ok "$name"
	else
		cat "$out/maintainers-$v.log"
		result fail "$name"
	fi
done

echo "== host: dmabufctl unit tests (cmocka, fake cgroupfs)"
CMOCKA_MESSAGE_OUTPUT=TAP make -s -C "$top/tools/dmabufctl" O="$top/build/dmabufctl" test \
	> "$out/dmabufctl.tap" 2>&1 ||
	grep -q '^not ok' "$out/dmabufctl.tap" || result fail "dmabufctl unit tests: build or run failed"
cat "$out/dmabufctl.tap"
count_tap "$out/dmabufctl.tap"

echo "== host: systemd series unit tests (test-load-fragment, test-cgroup-util)"
"$top/systemd/build.sh" test > "$out/systemd-unit.tap" 2>&1 ||
	grep -q '^not ok' "$out/systemd-unit.tap" || result fail "systemd unit tests: build or run failed"
cat "$out/systemd-unit.tap"
count_tap "$out/systemd-unit.tap"


# KUnit results (kunit.py's JSON) as TAP, each test named "[LABEL] kunit SUITE.CASE".
kunit_tap() {	# kunit_tap JSON LABEL
	python3 - "$1" "$2" <<'PY'
import json, sys
label = sys.argv[2]
try:
    doc = json.load(open(sys.argv[1]))
except Exception as e:
    print("not ok - [%s] KUnit results could not be parsed: %s" % (label, e))
    sys.exit(0)
def walk(group, path):
    for case in group.get("test_cases", []):
        name = "[%s] kunit %s.%s" % (label, path, case["name"])
        st = case.get("status", "FAIL")
        print(("ok - %s # SKIP" if st == "SKIP" else
               "ok - %s" if st == "PASS" else "not ok - %s") % name)
    for sub in group.get("sub_groups", []):
        walk(sub, path + "." + sub["name"] if path else sub["name"])
walk(doc, "")
PY
}

# KUnit from a boot's console log, as TAP.
kunit_tests() {	# kunit_tests NAME
	local name=$1
	echo "== [$kver] KUnit (from build/check/$name.console.log)"
	python3 "$ksrc/tools/testing/kunit/kunit.py" parse --json="$out/$name.kunit.json" \
		< "$out/$name.console.log" > "$out/$name.kunit.txt" 2>&1
	kunit_tap "$out/$name.kunit.json" "$kver" > "$out/$name.kunit.tap"
	cat "$out/$name.kunit.tap"
	count_tap "$out/$name.kunit.tap"
	local suites=(cgroup_dmabuf cgroup_dmabuf_dma_buf)
	# The dma-buf core's vmap test (patch 13): its suites are KUnit on 7.3.
	[ "$kver" = 6.12 ] || suites+=(dma-buf-vmap)
	for suite in "${suites[@]}"; do
		grep -q "kunit \.*$suite\." "$out/$name.kunit.tap" ||
			result fail "[$kver] KUnit suite $suite ran (not found in the console log)"
	done
}

# KUnit on UML (kernel/build.sh uml): TTM's suites, the series' ttm_pin_pool
# among them. The mainline series only: the backport has no TTM pools.
if [[ " ${CHECK_KVERS:-7.3} " = *" 7.3 "* ]]; then
	echo "== host: KUnit on UML (kernel/configs/kunit-uml.kunitconfig, build/kunit-uml-7.3)"
	uml_rc=0
	python3 "$ksrc/tools/testing/kunit/kunit.py" exec --build_dir="$top/build/kunit-uml-7.3" \
		--json="$out/kunit-uml.json" > "$out/kunit-uml.txt" 2>&1 || uml_rc=$?
	kunit_tap "$out/kunit-uml.json" "7.3 uml" > "$out/kunit-uml.tap"
	# A failed test is in the TAP; a crash or a suite that never ran is not.
	[ "$uml_rc" = 0 ] || grep -q '^not ok' "$out/kunit-uml.tap" ||
		result fail "[7.3 uml] kunit.py exec: status $uml_rc (see build/check/kunit-uml.txt)"
	cat "$out/kunit-uml.tap"
	count_tap "$out/kunit-uml.tap"
	grep -q "kunit ttm_pin_pool\." "$out/kunit-uml.tap" ||
		result fail "[7.3 uml] KUnit suite ttm_pin_pool ran (see build/check/kunit-uml.txt)"
fi

# The boots: both kernels (KUnit runs at the first boot; the second has the
# controller disabled), and systemd as PID 1 on the mainline kernel.
# CHECK_KVERS=7.3 limits the run to one kernel. They run in CHECK_JOBS lanes
# (default 2: most of the time one guest CPU is busy, on one host thread,
# so two boots use this machine's two cores), the longest boots first, each lane
# taking the next boot when it is free; results are reported in order.
boots=()
for kver in ${CHECK_KVERS:-7.3 6.12}; do
	# The main boots run every guest test: more time than the others.
	# 7.3's also has a vIOMMU and a device for vfio-pci (test_vfio.sh).
	# 7.3 runs the dma-buf core's KUnit suites too: fence-chain's
	# test_wait_backward alone took 143 s on a loaded host (the default
	# limit per test is 300 s).
	vfio= append=
	[ "$kver" = 7.3 ] && vfio=" --vfio" append="kunit.timeout=900"
	boots+=("main-$kver|$kver|$append|$top/tests/guest/run-all|--timeout 2400$vfio")
done
if [[ " ${CHECK_KVERS:-7.3} " = *" 7.3 "* ]]; then
	# The stock-systemd recipe, under Debian's systemd as PID 1. The
	# systemd boots take 700 to 1100 s on an idle host, and past the
	# runner's default of 1200 s beside a build: 2400, as the main boots.
	boots+=("systemd-stock|7.3|kunit.enable=0|$top/tests/guest/run-all systemd-stock|--timeout 2400 --systemd")
	# The systemd series: the patched systemd (make systemd) as PID 1.
	boots+=("systemd|7.3|kunit.enable=0|$top/tests/guest/run-all systemd|--timeout 2400 --systemd $top/build/systemd/obj/systemd")
fi
for kver in ${CHECK_KVERS:-7.3 6.12}; do
	boots+=("stress-$kver|$kver|kmemleak=on kunit.enable=0|env STRESS_SECONDS=${CHECK_STRESS_SECONDS:-90} STRESS_WRITES=0 $top/tests/guest/stress.sh|--timeout 1200 --alloc-failures-ok")
done
for kver in ${CHECK_KVERS:-7.3 6.12}; do
	boots+=("disabled-$kver|$kver|cgroup_disable=dmabuf kunit.enable=0|$top/tests/guest/test_disabled.sh")
done

next=$out/next-job
echo 0 > "$next"
lane() {	# take boots off the list until none is left
	local n name kver append script opts
	while :; do
		n=$(flock "$next" sh -c 'n=$(cat "$1"); echo $((n + 1)) > "$1"; echo "$n"' sh "$next")
		[ "$n" -lt ${#boots[@]} ] || return 0
		IFS='|' read -r name kver append script opts <<< "${boots[$n]}"
		echo "   started $name [$kver]"
		# shellcheck disable=SC2086 # opts: runner options, words
		vm_run "$name" "$kver" "$append" "$script" $opts
		echo "   finished $name [$kver]: status $(cat "$out/$name.rc"), $(vm_seconds "$name") s"
	done
}
echo "== VM boots: ${#boots[@]}, in ${CHECK_JOBS:-2} lanes"
lanes=()
for ((l = 0; l < ${CHECK_JOBS:-2}; l++)); do
	lane &
	lanes+=($!)
done
# Interrupted: stop the lanes and their runners (whose trap stops QEMU).
stop_lanes() {
	local pid
	for pid in "${lanes[@]}"; do
		pkill -TERM -P "$pid" 2>/dev/null
		kill "$pid" 2>/dev/null
	done
	wait
	exit 130
}
trap stop_lanes INT TERM HUP
wait
trap - INT TERM HUP
for boot in "${boots[@]}"; do
	name=${boot%%|*}
	vm_report "$name"
	case $name in main-*) kver=${name#main-}; kunit_tests "$name" ;; esac
done

echo
echo "logs: build/check/ (main-KVER.console.log, main-KVER.tap, disabled-KVER.*, main-KVER.kunit.txt)"
vm_retried
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
