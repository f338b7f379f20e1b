#!/usr/bin/env bash
# The cost of the controller on the pin path (make bench): boots the kernel
# twice, with the controller and with cgroup_disable=dmabuf, registers and
# deregisters a 1 MiB udmabuf MR on soft-RoCE in a loop from a cgroup at
# depth 1 and depth 8, and prints ops/s (median of the rounds) and the cost.
#
# BENCH_KERNEL picks the kernel (default: the non-debug build/obj-bench-7.3
# one, built by "make bench-kernel"; BENCH_NAME labels it; the test kernel's KASAN and lockdep would
# drown the figures). A benchmark, not a test: it prints figures, it does
# not judge them.
#
# Then the KUnit microbenchmark (cgroup_dmabuf.dmabuf_bench_scaling) on the
# debug test kernel of the same version (BENCH_DEBUG_KERNEL, default
# build/obj-NAME), with two guest CPUs: charges per second into one cgroup
# on one CPU, into two cgroups on two CPUs, and into two cgroups under one
# parent. It runs on wall-clock time with multi-threaded TCG, so the host
# must be idle for the scaling to mean anything; KASAN and lockdep inflate
# the cost of each charge, not the ratio.
#
# Guest time runs on QEMU's instruction counter (-icount shift=0: one
# nanosecond per guest instruction), so ops/s measure the guest instructions
# of a registration, not the host's load: with wall-clock time, TCG's
# round-to-round noise (about 8 %) drowns the controller's cost.
set -euo pipefail
export VM_QEMU_ARGS=${VM_QEMU_ARGS-"-icount shift=0,sleep=off"}
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=${BENCH_KERNEL:-$top/build/obj-bench-7.3/arch/x86/boot/bzImage}
name=${BENCH_NAME:-7.3}
out=$top/build/bench/$name
echo "bench: Linux $name (${kernel#"$top"/})"
mkdir -p "$out"

run() {	# run NAME EXTRA_APPEND
	# One vCPU, single-threaded TCG: QEMU has no icount with multi-threaded
	# TCG (the runner's default since make check boots two CPUs).
	"$top/tests/vm/run" --kernel "$kernel" --smp 1 --tcg-thread single \
		--append "$2 kunit.enable=0" \
		--log "$out/$1-console.log" --out "$out/$1" -- \
		env BENCH_LOOPS="${BENCH_LOOPS:-3000}" BENCH_ROUNDS="${BENCH_ROUNDS:-5}" \
		"$top/tests/guest/bench.sh" | tee "$out/$1.txt"
}
run on ""
run off "cgroup_disable=dmabuf"

debug_kernel=${BENCH_DEBUG_KERNEL:-$top/build/obj-$name/arch/x86/boot/bzImage}
if [ -f "$debug_kernel" ]; then
	VM_QEMU_ARGS= "$top/tests/vm/run" --kernel "$debug_kernel" --smp 2 \
		--append "kunit.filter_glob=cgroup_dmabuf.dmabuf_bench_scaling" \
		--log "$out/kunit-console.log" --out "$out/kunit" -- true > /dev/null || true
	scaling=$(grep -o 'charge+uncharge of 4K.*' "$out/kunit-console.log" || true)
else
	scaling="no debug kernel at ${debug_kernel#"$top"/}: make kernels"
fi

python3 - "$out/on.txt" "$out/off.txt" "$name" <<'PY'
import re, statistics, sys
def load(p):
    r = {}
    for l in open(p):
        m = re.match(r"bench depth=(\d+) round=\d+ ops=(\d+)", l)
        if m:
            r.setdefault(int(m[1]), []).append(int(m[2]))
    return {d: statistics.median(v) for d, v in r.items()}
on, off = load(sys.argv[1]), load(sys.argv[2])
print()
print("Linux %s:" % sys.argv[3])
print("| depth | controller on (ops/s) | cgroup_disable=dmabuf (ops/s) | cost of the controller |")
print("|---|---|---|---|")
for d in sorted(on):
    cost = (off[d] - on[d]) / off[d] * 100
    print("| %d | %.0f | %.0f | %+.2f %% |" % (d, on[d], off[d], cost))
PY
echo
echo "KUnit microbenchmark, debug kernel, 2 CPUs: ${scaling:-did not run (see ${out#"$top"/}/kunit-console.log)}"
