# Sourced by tests/check.sh and tests/packages.sh: PASS/FAIL/SKIP lines and
# their counts ($pass, $fail, $skip), TAP files counted into them, and VM
# boots reported as tests. Needs $top (the repo) and $out (the logs).
# shellcheck shell=bash

pass=0 fail=0 skip=0
result() {	# result ok|fail|skip NAME
	case $1 in
	ok) pass=$((pass + 1)); echo "PASS: $2" ;;
	skip) skip=$((skip + 1)); echo "SKIP: $2" ;;
	*) fail=$((fail + 1)); echo "FAIL: $2" ;;
	esac
}

# Count TAP results of a file: lines "ok N ..." / "not ok N ..." at any nesting
# depth are counted once per test program run, "# SKIP" as skipped, and a
# "Bail out!" as a failure. With --plan, every program (a section of the file
# that starts at a "# == NAME" line, or the whole file) must print a plan
# "1..N" and report N results: a program that died half-way fails.
count_tap() {	# count_tap FILE [--plan]
	local line section=${1##*/} planned='' ran=0 plan=${2:-} named=0
	while IFS= read -r line; do
		case $line in
		"ok "*"# SKIP"*|"ok "*"# skip"*) result skip "${line#ok }"; ran=$((ran + 1)) ;;
		"ok "*) result ok "${line#ok }"; ran=$((ran + 1)) ;;
		"not ok "*"# SKIP"*) result skip "${line#not ok }"; ran=$((ran + 1)) ;;
		"not ok "*) result fail "${line#not ok }"; ran=$((ran + 1)) ;;
		"Bail out!"*) result fail "$line" ;;
		"1.."[0-9]*) planned=${line#1..}; planned=${planned%%[!0-9]*} ;;
		"# == "*)
			# Before the first section: only if something was reported.
			[ -n "$plan" ] && { [ $named = 1 ] || [ "$ran$planned" != 0 ]; } &&
				tap_plan "$section" "$planned" "$ran"
			section=${line#"# == "} planned='' ran=0 named=1 ;;
		esac
	done < "$1"
	[ -n "$plan" ] && tap_plan "$section" "$planned" "$ran"
	return 0
}

tap_plan() {	# tap_plan SECTION PLANNED RAN
	if [ -z "$2" ]; then
		result fail "$1: no TAP plan line (1..N): the program stopped before its end"
	elif [ "$2" != "$3" ]; then
		result fail "$1: planned $2 tests, reported $3: the program stopped before its end"
	fi
}

# VM boots. vm_run NAME KVER APPEND SCRIPT [RUNNER_OPTIONS...] boots KVER's
# kernel and runs SCRIPT (TAP) in it; vm_report NAME then prints its TAP and
# counts the boot's own verdict as a test. The runner exits 125 for a
# timeout, a panic or a kernel splat; any other status is SCRIPT's, whose
# failures are in its TAP already. Logs: $out/NAME.{console.log,tap,err}.
# RUNNER_OPTIONS come after the kernel: a --kernel there boots another one.
#
# A boot that died on "Oops: int3" as its first splat is booted once more, when
# it had two vCPUs or more on QEMU's multi-threaded TCG. Seen twice in such
# boots (once in ~20 of an older kernel, once in CI on 2026-12-05, 0 of 20 in
# a run meant to reproduce it): right after "sched_clock: Marking stable", a
# vCPU hit the int3 that text_poke_bp() puts at the jump site of the
# __sched_clock_stable static key in sched_clock_cpu(), when the patching was
# over (poke_int3_handler() no longer claimed it). Most likely a race in QEMU
# 7.2's multi-threaded TCG, not reproduced on demand and not found in QEMU.
# The retry is printed, counted in the summary (vm_retried), its first boot's
# logs kept (NAME.int3.*); a second such boot, or any other failure, fails.
vm_run() {
	local name=$1 kver=$2 append=$3 script=$4 cmd f try
	shift 4
	read -ra cmd <<< "$script"	# SCRIPT [ARGS]: words
	echo "$kver ${append:-} ${script#"$top"/} $*" > "$out/$name.what"
	rm -f "$out/$name.retried" "$out/$name".int3.*
	for try in 1 2; do
		"$top/tests/vm/run" --kernel "$top/build/obj-$kver/arch/x86/boot/bzImage" \
			--smp "${CHECK_SMP:-2}" --append "$append" --log "$out/$name.console.log" \
			--out "$out/$name.vm" "$@" -- "${cmd[@]}" > "$out/$name.tap" 2> "$out/$name.err"
		echo $? > "$out/$name.rc"
		if [ "$try" = 2 ] || [ "$(cat "$out/$name.rc")" != 125 ] ||
			[ "${CHECK_SMP:-2}" -lt 2 ] || [ "${VM_TCG_THREAD:-multi}" != multi ] ||
			! vm_tcg_int3 "$out/$name.err"; then
			break
		fi
		for f in console.log tap err rc; do
			[ ! -e "$out/$name.$f" ] || mv "$out/$name.$f" "$out/$name.int3.$f"
		done
		echo "# $name: the first boot died on \"Oops: int3\" (most likely QEMU TCG's race" \
			"with static key patching), booted again; its logs: ${out#"$top"/}/$name.int3.*" \
			> "$out/$name.retried"
		echo "   retrying $name [$kver]: the first boot died on \"Oops: int3\""
	done
}

# vm_tcg_int3 ERR: the runner's report ERR (tests/vm/run's wording) names
# "Oops: int3" as the boot's first splat, and the guest died.
vm_tcg_int3() {
	grep -q 'guest reported no exit status' "$1" &&
		awk 'f { int3 = ($0 ~ /\] Oops: int3: /); exit }
			/^vm: kernel splat on the console:$/ { f = 1 }
			END { exit !int3 }' "$1"
}

vm_retried() {	# the summary's line on boots booted again, if any
	local n
	n=$(find "$out" -maxdepth 1 -name '*.retried' | wc -l)
	[ "$n" = 0 ] || echo "boots booted again after \"Oops: int3\": $n (their first boots'" \
		"logs: ${out#"$top"/}/*.int3.*)"
}

vm_report() {	# vm_report NAME
	local name=$1 kver what rc retried=
	read -r kver what < "$out/$name.what"
	[ -f "$out/$name.retried" ] && retried=1
	rc=$(cat "$out/$name.rc" 2>/dev/null || echo 125)
	echo "== VM $name [$kver]: $what ($(vm_seconds "$name") s${retried:+, two boots})"
	[ -z "$retried" ] || cat "$out/$name.retried"
	sed -i -e "s/^ok \([0-9]*\) /ok \1 [$kver] /" -e "s/^not ok \([0-9]*\) /not ok \1 [$kver] /" \
		"$out/$name.tap"
	cat "$out/$name.tap"
	if [ "$rc" -eq 125 ]; then
		cat "$out/$name.err"
		result fail "[$kver] VM $name: boot and run without timeout, panic or kernel splat (see ${out#"$top"/}/$name.console.log)"
	else
		result ok "[$kver] VM $name: boot and run without timeout, panic or kernel splat"
	fi
	count_tap "$out/$name.tap" --plan
}

vm_seconds() {	# how long the boot took, from its files' times
	echo $(( $(stat -c %Y "$out/$1.rc" 2>/dev/null || date +%s) - $(stat -c %Y "$out/$1.what") ))
}
