#!/usr/bin/env bash
# make stress (and make check's short run): a torture run of the controller
# in the VM, started by tests/stress.sh. TAP on stdout, figures as
# "# stress KEY=VALUE" lines.
#
# For STRESS_SECONDS (default 600), at once:
#  - STRESS_WORKERS workers (default 4) run "dmabuf-pin --churn": they pin 1
#    to 3 buffers from every exporter there is (udmabuf, the system heap,
#    the test device's region and its system memory), hold them, revoke
#    some, release them or exit holding; every other worker is subject to
#    fault injection (failslab and fail_page_alloc, STRESS_FAULT_PERCENT);
#  - a chaos loop SIGKILLs and migrates workers while they hold pins,
#    removes and recreates cgroups, writes valid limits (some below the
#    usage) and invalid ones, with and without fault injection, and unbinds
#    and rebinds the test device;
#  - a sampler reads every cgroup's files and checks what must hold at any
#    time: limits that never change are never exceeded, by usage or peak.
# At the end, with everything stopped: every counter is back to zero, no
# pool is left over, the workers saw no error but refusals, injected
# ENOMEMs and a vanished device, and a kmemleak scan (kmemleak=on) is clean.
# tests/vm/run fails the boot on a kernel splat.
set -u
. "$(dirname "$0")/lib.sh"

SECONDS_TOTAL=${STRESS_SECONDS:-600}
WORKERS=${STRESS_WORKERS:-4}
FAULT_PERCENT=${STRESS_FAULT_PERCENT:-2}
S=$CGROOT/stress
W=/tmp/stress	# workers' counts, chaos and sampler logs
DBG=/sys/kernel/debug
DEV=dmabuf_testdev.0
DRV=/sys/bus/platform/drivers/dmabuf_testdev
FAULT_TIMES=1000000000

mount -t debugfs debugfs $DBG 2>/dev/null
need_rxe
rm -rf $W
mkdir -p $W

# The exporters there are, and their pools.
sources=udmabuf pools=(udmabuf)
if [ -e /dev/dma_heap/system ]; then
	sources+=,heap:system
	pools+=(dma_heap/system)
fi
testdev=0
if [ -e /dev/dmabuf_testdev0 ] && [ -d $DRV ]; then
	testdev=1
	sources+=,testdev:0,testdev-system:0
	pools+=("$DEV/vram" "$DEV/system")
fi
pools_before=$(cut -d' ' -f1 $CGROOT/dmabuf.capacity | sort)

# stress/{fixed,chaos,free}: fixed's limits never change (the sampler checks
# them), chaos's are rewritten all along, free has none. Workers land in
# their leaves; chaos/e* are removed and recreated.
echo +dmabuf > $CGROOT/cgroup.subtree_control
mkdir $S
echo +dmabuf > $S/cgroup.subtree_control
for g in fixed chaos free; do
	mkdir $S/$g
	echo +dmabuf > $S/$g/cgroup.subtree_control
	for l in l1 l2; do mkdir $S/$g/$l; done
done
for e in e1 e2; do mkdir $S/chaos/$e; done
fixed_limits=""
for p in "${pools[@]}"; do fixed_limits+="$p 2M"$'\n'; done
printf '%s' "$fixed_limits" > $S/fixed/dmabuf.pinned.max
printf '%s' "${fixed_limits//2M/1M}" > $S/fixed/l1/dmabuf.pinned.max
leaves=($S/fixed/l1 $S/fixed/l2 $S/chaos/l1 $S/chaos/l2 $S/chaos/e1 $S/chaos/e2
	$S/free/l1 $S/free/l2)

# Fault injection, for the processes that ask for it (task-filter), on
# GFP_KERNEL allocations too; "times" counts down the failures injected.
faults=0
if [ -d $DBG/failslab ] && [ -d $DBG/fail_page_alloc ]; then
	faults=1
	for f in failslab fail_page_alloc; do
		echo Y > $DBG/$f/task-filter
		echo "$FAULT_PERCENT" > $DBG/$f/probability
		echo 1 > $DBG/$f/interval
		echo $FAULT_TIMES > $DBG/$f/times
		echo 0 > $DBG/$f/verbose
		echo N > $DBG/$f/ignore-gfp-wait
	done
	echo N > $DBG/fail_page_alloc/ignore-gfp-highmem
fi

kmemleak=0
if [ -w $DBG/kmemleak ] && echo clear > $DBG/kmemleak 2> /dev/null; then
	kmemleak=1
fi

stop_at=$(($(date +%s) + SECONDS_TOTAL))
running() { [ "$(date +%s)" -lt "$stop_at" ] && [ ! -e $W/stop ]; }
rnd_leaf() { echo "${leaves[RANDOM % ${#leaves[@]}]}"; }

# A worker slot: workers one after another, each in a random leaf (one
# that was just removed makes the slot try another).
worker_slot() {
	local slot=$1 n=0 fail=() leaf left rc t
	[ $((slot % 2)) = 1 ] && [ $faults = 1 ] && fail=(--fail-injected)
	while running; do
		n=$((n + 1))
		leaf=$(rnd_leaf)
		left=$((stop_at - $(date +%s)))
		[ $left -gt 0 ] || break
		t=$((1 + RANDOM % 20))
		[ $t -le $left ] || t=$left
		sh -c 'echo $$ > "$1/cgroup.procs" 2>/dev/null || exit 99; shift; exec "$@"' \
			sh "$leaf" "$PIN" -q --churn "$t" --sources "$sources" \
			--stats "$W/stats.$slot.$n" "${fail[@]}" 2>> "$W/err.$slot"
		rc=$?
		case $rc in
		0|137|143|99) ;;	# done, SIGKILL, SIGTERM, cgroup gone
		*) echo "worker $slot.$n in ${leaf#"$S"/} exited with status $rc" >> $W/err.$slot ;;
		esac
	done
}

# One random action every few tens of milliseconds.
count() { echo "$1" >> $W/chaos.count; }
limit_write() {	# limit_write CG TEXT [fail]: the file changes exactly as written, or not at all
	local cg=$1 text=$2 before after rc
	before=$(cat "$cg/dmabuf.pinned.max" 2>/dev/null) || return 0
	if [ "${3:-}" = fail ]; then
		( echo 1 > /proc/$BASHPID/make-it-fail; printf '%s' "$text" > "$cg/dmabuf.pinned.max" ) 2> $W/limit.err
	else
		printf '%s' "$text" > "$cg/dmabuf.pinned.max" 2> $W/limit.err
	fi
	rc=$?
	after=$(cat "$cg/dmabuf.pinned.max" 2>/dev/null) || return 0
	if [ $rc = 0 ]; then
		count write_ok
	elif grep -q 'Cannot allocate memory' $W/limit.err; then
		count write_enomem
	elif grep -q 'Invalid argument\|No such device' $W/limit.err; then
		count write_einval
	else
		echo "writing '$text' to ${cg#"$S"/}: $(cat $W/limit.err)" >> $W/chaos.err
	fi
	if [ $rc != 0 ] && [ "$before" != "$after" ]; then
		echo "a failed write '$text' changed ${cg#"$S"/}/dmabuf.pinned.max" >> $W/chaos.err
	fi
}
chaos() {
	local pids pid p cg v bound=1
	while running; do
		mapfile -t pids < <(pgrep -f -- "--churn" 2>/dev/null)
		case $((RANDOM % 10)) in
		0)	[ ${#pids[@]} -gt 0 ] && kill -9 "${pids[RANDOM % ${#pids[@]}]}" 2>/dev/null &&
				count kill ;;
		1|2)	[ ${#pids[@]} -gt 0 ] &&
				echo "${pids[RANDOM % ${#pids[@]}]}" > "$(rnd_leaf)/cgroup.procs" 2>/dev/null &&
				count migrate ;;
		3)	cg=$S/chaos/e$((1 + RANDOM % 2))
			if [ -d "$cg" ]; then
				# Move its workers out first: they hold pins, and go on.
				while read -r pid; do
					echo "$pid" > $S/free/l1/cgroup.procs 2>/dev/null
				done < "$cg/cgroup.procs"
				rmdir "$cg" 2>/dev/null && count rmdir
			else
				mkdir "$cg" && count mkdir
			fi ;;
		4|5)	p=${pools[RANDOM % ${#pools[@]}]}
			case $((RANDOM % 4)) in
			0) v=max ;;
			1) v=0 ;;		# below any usage
			*) v=$(((1 + RANDOM % 64) * 64))K ;;
			esac
			cg=$S/chaos
			[ $((RANDOM % 2)) = 0 ] && cg=$S/chaos/l$((1 + RANDOM % 2))
			if [ $((RANDOM % 4)) = 0 ] && [ $faults = 1 ]; then
				limit_write "$cg" "$p $v"$'\n' fail
			else
				limit_write "$cg" "$p $v"$'\n'
			fi ;;
		6)	p=${pools[RANDOM % ${#pools[@]}]}
			case $((RANDOM % 4)) in
			0) v="$p 1M 2" ;;
			1) v="nosuchpool 1M" ;;
			2) v="$p 1M"$'\n'"$p -1" ;;
			*) v="$p 99999999999999999999K" ;;
			esac
			limit_write $S/chaos/l1 "$v" ;;
		7)	if [ $testdev = 1 ] && [ $((RANDOM % 4)) = 0 ]; then
				if [ $bound = 1 ]; then
					echo $DEV > $DRV/unbind && bound=0 && count unbind
				else
					echo $DEV > $DRV/bind && bound=1 && count bind
				fi
			fi ;;
		*)	sleep 0.05 ;;
		esac
	done
	[ $bound = 1 ] || echo $DEV > $DRV/bind || echo "rebinding $DEV failed" >> $W/chaos.err
}

# fixed's limits never change: no charge they refuse is ever committed, so
# peak, the largest committed usage, stays within them. (current may show
# for an instant a charge on its way to being refused: read it again.)
sampler() {
	local cg p max cur peak n=0
	while running; do
		for cg in $S/fixed $S/fixed/l1; do
			for p in "${pools[@]}"; do
				max=$(get "$cg" dmabuf.pinned.max "$p" 2>/dev/null) || continue
				peak=$(get "$cg" dmabuf.pinned.peak "$p")
				cur=$(get "$cg" dmabuf.pinned.current "$p")
				[ "$cur" -gt "$max" ] && cur=$(get "$cg" dmabuf.pinned.current "$p")
				if [ "$cur" -gt "$max" ] || [ "$peak" -gt "$max" ]; then
					echo "${cg#"$S"/} $p: current $cur, peak $peak, above the fixed limit $max" >> $W/sampler.err
				fi
			done
		done
		n=$((n + 1))
		echo $n > $W/samples
		sleep 0.2
	done
}

# First, alone: the selftest's random writes to dmabuf.pinned.max
# (STRESS_WRITES of them, default 100000; 0 skips it).
t_random_writes() {
	local n=${STRESS_WRITES:-100000} out
	[ "$n" != 0 ] || { skip_reason="STRESS_WRITES=0"; return 2; }
	out=$(DMABUF_TEST_WRITES=$n "$top/build/selftests/test_dmabuf" 2>&1)
	grep '^# .*random writes' <<< "$out"
	grep -q '^ok [0-9]* test_dmabuf_max_random' <<< "$out" && return 0
	grep -v '^ok ' <<< "$out" >&2
	return 1
}
run_test "selftest test_dmabuf_max_random: random writes to dmabuf.pinned.max" t_random_writes

echo "# stress: ${SECONDS_TOTAL}s, $WORKERS workers, sources $sources, faults $([ $faults = 1 ] && echo "${FAULT_PERCENT}%" || echo off), kmemleak $([ $kmemleak = 1 ] && echo on || echo off)"
t0=$(date +%s)
slot_pids=()
for i in $(seq 1 "$WORKERS"); do
	worker_slot "$i" &
	slot_pids+=($!)
done
chaos &
chaos_pid=$!
sampler &
sampler_pid=$!
wait "${slot_pids[@]}" "$chaos_pid" "$sampler_pid"
# Stragglers: a worker migrated out of a slot's sight ends with its time.
pkill -9 -f -- "--churn"
while pgrep -f -- "--churn" > /dev/null; do sleep 0.2; done
elapsed=$(($(date +%s) - t0))

if [ $faults = 1 ]; then
	for f in failslab fail_page_alloc; do
		echo 0 > $DBG/$f/probability
		eval "injected_$f=$((FAULT_TIMES - $(cat $DBG/$f/times)))"
	done
fi

sum() {	# sum FIELD: the total of FIELD over every worker's counts
	cat $W/stats.* 2>/dev/null | tr ' ' '\n' | sed -n "s/^$1=//p" |
		awk '{ s += $1 } END { print s + 0 }'
}
chaos_count() { grep -cx "$1" $W/chaos.count 2>/dev/null; }

rounds=$(sum rounds) pins=$(sum pins)
echo "# stress seconds=$elapsed workers_started=$(ls $W | grep -c '^stats\.') rounds=$rounds pins=$pins pins_per_s=$((pins / (elapsed ? elapsed : 1)))"
echo "# stress refused=$(sum refused) enomem=$(sum enomem) buf_enomem=$(sum buf_enomem) dereg_enomem=$(sum dereg_enomem) nodev=$(sum nodev) buf_gone=$(sum buf_gone) revokes=$(sum revokes)"
echo "# stress kills=$(chaos_count kill) migrations=$(chaos_count migrate) rmdirs=$(chaos_count rmdir) mkdirs=$(chaos_count mkdir) unbinds=$(chaos_count unbind) writes=$(chaos_count write_ok) writes_refused=$(chaos_count write_einval) writes_enomem=$(chaos_count write_enomem) samples=$(cat $W/samples 2>/dev/null || echo 0)"
[ $faults = 1 ] &&
	echo "# stress faults_injected=$((injected_failslab + injected_fail_page_alloc)) failslab=$injected_failslab fail_page_alloc=$injected_fail_page_alloc"

t_ran() {
	[ "$pins" -gt 0 ] || fail "no pin in $elapsed s"
}
t_worker_errors() {
	local errors
	errors=$(sum errors)
	[ "$errors" = 0 ] && ! cat $W/err.* 2>/dev/null | grep -q . && return 0
	fail "$errors unexpected errors in the workers:"
	grep -h '^last_error=[^ ]' $W/stats.* 2>/dev/null | sort | uniq -c | head -n 20 >&2
	cat $W/err.* 2>/dev/null | sort | uniq -c | sort -rn | head -n 20 >&2
	return 1
}
t_chaos_errors() {
	[ ! -s $W/chaos.err ] && return 0
	fail "the chaos loop saw:"
	sort $W/chaos.err | uniq -c | head -n 20 >&2
	return 1
}
t_sampler() {
	[ ! -s $W/sampler.err ] && return 0
	fail "invariants broken while running:"
	head -n 20 $W/sampler.err >&2
	return 1
}
t_drained() {
	local cg p v bad=0
	# Charges end as the workers' files are released: wait a little.
	for _ in $(seq 1 50); do
		bad=0
		while read -r p v; do
			[ "$v" = 0 ] || bad=1
		done < $CGROOT/dmabuf.pinned.current
		[ $bad = 0 ] && break
		sleep 0.2
	done
	while read -r cg; do
		while read -r p v; do
			[ "$v" = 0 ] || { fail "${cg#"$CGROOT"/} dmabuf.pinned.current: $p $v"; bad=1; }
		done < "$cg/dmabuf.pinned.current"
		while read -r p v; do
			case $v in
			"pins=0 "*) ;;
			*) fail "${cg#"$CGROOT"/} dmabuf.pinned.stat: $p $v"; bad=1 ;;
			esac
		done < "$cg/dmabuf.pinned.stat"
	done < <(find $S -type d)
	while read -r p v; do
		[ "$v" = 0 ] || { fail "root dmabuf.pinned.current: $p $v"; bad=1; }
	done < $CGROOT/dmabuf.pinned.current
	[ $bad = 0 ]
}
t_pools() {
	local cg
	# Remove the cgroups, and with them the limits that keep pools alive.
	find $S -depth -type d -exec rmdir {} \; || fail "cannot remove $S" || return 1
	for _ in $(seq 1 50); do
		[ "$(cut -d' ' -f1 $CGROOT/dmabuf.pinned.current | sort)" = "$pools_before" ] && return 0
		sleep 0.2
	done
	fail "pools before: $(echo $pools_before); after: $(cut -d' ' -f1 $CGROOT/dmabuf.pinned.current | sort | xargs)"
}
t_kmemleak() {
	local leaks
	[ $kmemleak = 1 ] || { skip_reason="kmemleak is off (CONFIG_DEBUG_KMEMLEAK, kmemleak=on)"; return 2; }
	# Twice, as Documentation/dev-tools/kmemleak.rst advises: objects
	# freed in between are not reported.
	echo scan > $DBG/kmemleak
	sleep 5
	echo scan > $DBG/kmemleak
	leaks=$(grep -c '^unreferenced object' $DBG/kmemleak)
	echo "# stress kmemleak_leaks=$leaks"
	[ "$leaks" = 0 ] && return 0
	fail "kmemleak: $leaks unreferenced objects"
	head -n 60 $DBG/kmemleak >&2
	return 1
}

run_test "workers pinned" t_ran
run_test "workers saw only refusals, injected ENOMEMs and a vanished device" t_worker_errors
run_test "limit writes: applied as written, or failed and changed nothing" t_chaos_errors
run_test "fixed limits held all along (sampler)" t_sampler
run_test "every counter back to zero" t_drained
run_test "no pool left over once the cgroups are gone" t_pools
run_test "kmemleak scan clean" t_kmemleak
tap_done
