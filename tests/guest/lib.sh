# Helpers for the guest tests: TAP output, cgroups, and pins held by
# dmabuf-pin in the background. Sourced by tests/guest/test_*.sh.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PIN=$top/build/bin/dmabuf-pin
CGROOT=/sys/fs/cgroup

tap_n=0
tap_failed=0

# ok NAME: the test passed; not_ok NAME WHY: it failed.
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
not_ok() {
	tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
	shift
	local l
	for l in "$@"; do echo "#   $l"; done
}
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"; }
tap_done() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }

# run_test NAME FUNCTION: the function returns 0 for a pass, or 2 with
# $skip_reason set for a test that cannot run here; what it prints on stderr
# (the reasons) goes into the TAP diagnostics.
run_test() {
	local name=$1 fn=$2 err rc
	skip_reason=
	err=$(mktemp)
	"$fn" 2> "$err"
	rc=$?
	if [ $rc = 0 ]; then
		ok "$name"
	elif [ $rc = 2 ] && [ -n "$skip_reason" ]; then
		skip "$name" "$skip_reason"
	else
		mapfile -t lines < "$err"
		not_ok "$name" "${lines[@]}"
	fi
	rm -f "$err"
	cleanup_test
}

fail() { echo "$*" >&2; return 1; }

# until_true SECONDS COMMAND...: poll COMMAND until it succeeds, for up to
# SECONDS.
until_true() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# expect WHAT GOT WANT
expect() {
	[ "$2" = "$3" ] && return 0
	fail "$1: got '$2', want '$3'"
}

# The value of POOL in a dmabuf file of a cgroup: "get CG FILE POOL".
get() {
	local line
	line=$(grep "^$3 " "$1/$2") || { fail "no pool $3 in $1/$2"; return 1; }
	echo "${line#"$3 "}"
}

# expect_file CG FILE POOL WANT
expect_file() {
	local v
	v=$(get "$1" "$2" "$3") || return 1
	expect "${1#"$CGROOT"/} $2 $3" "$v" "$4"
}

# Cgroups made by a test are removed after it, children first.
test_cgroups=()
# MKCG_CONTROLLERS: what mkcg enables in the parent (default "+dmabuf").
mkcg() {	# mkcg PATH (relative to the root): with dmabuf enabled in its parent
	local cg=$CGROOT/$1
	echo "${MKCG_CONTROLLERS:-+dmabuf}" > "$(dirname "$cg")/cgroup.subtree_control" || return 1
	mkdir "$cg" || return 1
	test_cgroups=("$cg" "${test_cgroups[@]}")
}

# Background pins: "hold NAME CGROUP ARGS..." starts dmabuf-pin --hold in
# CGROUP and waits until it holds its MRs; "release NAME" ends it and sets
# $status to its exit status. Output in $held_out[NAME].
declare -A held_pid held_fd held_out
hold() {
	local name=$1 cg=$2 fifo out fd i
	shift 2
	fifo=$(mktemp -u /tmp/hold.XXXXXX)
	out=$(mktemp /tmp/hold-out.XXXXXX)
	mkfifo "$fifo"
	sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$cg" \
		"$PIN" --hold "$@" < "$fifo" > "$out" 2>&1 &
	held_pid[$name]=$!
	exec {fd}> "$fifo"
	rm -f "$fifo"
	held_fd[$name]=$fd
	held_out[$name]=$out
	for i in $(seq 1 600); do
		grep -q '^holding' "$out" && return 0
		kill -0 "${held_pid[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	cat "$out" >&2
	fail "dmabuf-pin $* did not get to hold its MRs"
}

# tell NAME COMMAND PATTERN: send COMMAND to the holder NAME's stdin and
# wait until its output has a line matching PATTERN.
tell() {
	# A write to the fifo of a holder that is gone would kill us (SIGPIPE).
	kill -0 "${held_pid[$1]}" 2>/dev/null ||
		fail "the holder exited before '$2': $(cat "${held_out[$1]}")" || return 1
	# From a subshell: a holder that died in between must not take us along.
	( echo "$2" >&"${held_fd[$1]}" ) 2>/dev/null || fail "cannot write to holder $1" || return 1
	for _ in $(seq 1 600); do
		grep -q "$3" "${held_out[$1]}" && return 0
		kill -0 "${held_pid[$1]}" 2>/dev/null || break
		sleep 0.1
	done
	fail "no '$3' from the holder after '$2': $(cat "${held_out[$1]}")"
}

release() {
	local name=$1 fd=${held_fd[$1]}
	[ -n "$fd" ] || return 0
	( echo release >&"$fd" ) 2>/dev/null
	exec {fd}>&-
	wait "${held_pid[$name]}"
	status=$?
	unset "held_fd[$name]"
	return 0
}

# pin CGROUP ARGS...: run dmabuf-pin in CGROUP to completion; sets $status
# and $out.
pin() {
	local cg=$1
	shift
	out=$(sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$cg" \
		"$PIN" "$@" 2>&1)
	status=$?
}

# Background processes a test started, killed after it (test_pids+=($!)),
# and what a test file wants undone after each test (cleanup_hook).
test_pids=()
cleanup_test() {
	local name cg pid
	for pid in "${test_pids[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	test_pids=()
	declare -F cleanup_hook >/dev/null && cleanup_hook
	for name in "${!held_fd[@]}"; do
		release "$name"
	done
	for name in "${!held_out[@]}"; do
		rm -f "${held_out[$name]}"
	done
	held_pid=() held_fd=() held_out=()
	for cg in "${test_cgroups[@]}"; do
		# Move stragglers out, then remove.
		if [ -f "$cg/cgroup.procs" ]; then
			while read -r p; do echo "$p" > "$CGROOT/cgroup.procs"; done \
				< "$cg/cgroup.procs" 2>/dev/null
			rmdir "$cg" 2>/dev/null
		fi
	done
	test_cgroups=()
}

# skip_all NAME REASON: the whole program is one skipped result, and ends.
skip_all() { skip "$1" "$2"; tap_done; exit; }

# need_rxe: soft-RoCE is set up, or the program ends with that failure.
need_rxe() {
	setup_rxe && return 0
	not_ok "soft-RoCE device rxe0 on ${VM_NETDEV:-eth0}"
	tap_done
	exit
}

# The RDMA device for the tests: soft-RoCE over the VM's e1000 netdev.
setup_rxe() {
	local nd=${VM_NETDEV:-eth0}
	[ -e /sys/class/infiniband/rxe0 ] && return 0
	rdma link add rxe0 type rxe netdev "$nd" || return 1
}

# hold_cmd NAME CMD: send CMD ("query", "revoke", "stats") to a holder and wait for
# its "CMD done"; buf_state NAME K then prints the latest query line of
# buffer K ("region pins=1 revoked=0 moves=0").
hold_cmd() {
	local name=$1 cmd=$2 out=${held_out[$1]} before i
	before=$(grep -c "^$cmd done" "$out")
	kill -0 "${held_pid[$name]}" 2>/dev/null ||
		{ fail "holder $name is gone: $(cat "$out")"; return 1; }
	( echo "$cmd" >&"${held_fd[$name]}" ) 2>/dev/null ||
		{ fail "holder $name does not read its commands"; return 1; }
	for i in $(seq 1 300); do
		[ "$(grep -c "^$cmd done" "$out")" -gt "$before" ] && return 0
		sleep 0.1
	done
	fail "holder $name did not answer '$cmd': $(cat "$out")"
}

# stat_field NAME FIELD: FIELD of the holder's latest "stats" line.
stat_field() {
	grep '^stats size=' "${held_out[$1]}" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

buf_state() {
	local line
	line=$(grep "^buf $2: " "${held_out[$1]}" | tail -n 1)
	echo "${line#"buf $2: "}"
}
