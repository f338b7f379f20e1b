# Sourced by tests/check.sh and tests/packages.sh: PASS/FAIL/SKIP lines and
# their counts ($pass, $fail, $skip), and TAP files counted into them.
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
