#!/usr/bin/env bash
# make stress (and make check's short run): a torture run of the controller
# in the VM, started by tests/stress.sh. TAP on stdout, figures as
# "# stress KEY=VALUE" lines.
#
# First, alone, the selftest's random writes to dmabuf.pinned.max. Then, for
# STRESS_SECONDS (default 600), at once:
#  - STRESS_WORKERS workers (default 4) run "dmabuf-pin --churn": they pin 1
#    to 3 buffers from every exporter there is (udmabuf, the system heap,
#    the test device's region and its system memory), hold them, revoke
#    some, release them or exit holding; every other worker is subject to
#    fault injection (failslab, and fail_page_alloc from order 1 up, its
#    default: STRESS_FAULT_PERCENT of the allocations, sleeping ones too);
#  - a chaos loop kills (SIGKILL; SIGUSR2 for a worker under fault
#    injection, which ends injection before it exits) and migrates workers
#    while they hold pins,
#    removes and recreates cgroups (some mkdirs under fault injection),
#    writes limits (some below the usage, some invalid, some under fault
#    injection), and unbinds and rebinds the test device (some binds under
#    fault injection);
#  - a sampler checks, all along, that limits that never change are never
#    exceeded by the peak, the largest committed usage. (The usage itself
#    may show for an instant a charge on its way to being refused.)
# At the end, with everything stopped: every counter is back to zero, the
# pools are those of the start, the workers saw no error but refusals,
# ENOMEMs where faults were injected and a vanished test device, and a
# kmemleak scan (kmemleak=on) is clean. tests/vm/run fails the boot on a
# kernel splat.
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

bail() { echo "Bail out! $*"; exit 1; }

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
IFS=, read -ra source_list <<< "$sources"
pools_before=$(cut -d' ' -f1 $CGROOT/dmabuf.capacity | sort)

# The selftest's random writes to dmabuf.pinned.max, alone (STRESS_WRITES of
# them, default 100000; 0 skips it).
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

# stress/{fixed,chaos,free}: fixed's limits never change (the sampler checks
# them), chaos's are rewritten all along, free has none. Workers land in
# their leaves; chaos/e* are removed and recreated.
echo +dmabuf > $CGROOT/cgroup.subtree_control
mkdir $S || bail "mkdir $S"
echo +dmabuf > $S/cgroup.subtree_control
for g in fixed chaos free; do
	mkdir $S/$g && echo +dmabuf > $S/$g/cgroup.subtree_control || bail "cgroup $g"
	for l in l1 l2; do mkdir $S/$g/$l || bail "cgroup $g/$l"; done
done
for e in e1 e2; do mkdir $S/chaos/$e || bail "cgroup chaos/$e"; done
declare -A fixed_max=()
for p in "${pools[@]}"; do
	echo "$p 2M" > $S/fixed/dmabuf.pinned.max && echo "$p 1M" > $S/fixed/l1/dmabuf.pinned.max ||
		bail "setting fixed's limits of $p"
	fixed_max[$S/fixed $p]=2097152
	fixed_max[$S/fixed/l1 $p]=1048576
done
leaves=($S/fixed/l1 $S/fixed/l2 $S/chaos/l1 $S/chaos/l2 $S/chaos/e1 $S/chaos/e2
	$S/free/l1 $S/free/l2)

# Fault injection, for the processes that ask for it (task-filter), on
# sleeping allocations too; "times" counts down the failures injected.
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

# kmemleak: what boot and the random writes left is scanned and cleared
# first, so that the final scan reports what the run leaked. A scan fails
# (EPERM) when kmemleak is off.
kmemleak=0
if [ -w $DBG/kmemleak ] && echo scan > $DBG/kmemleak 2>/dev/null; then
	kmemleak=1
	echo scan > $DBG/kmemleak
	echo clear > $DBG/kmemleak
fi

stop_at=$((EPOCHSECONDS + SECONDS_TOTAL))
running() { [ "$EPOCHSECONDS" -lt "$stop_at" ]; }
# rnd_leaf: a random leaf in $leaf (no command substitution: a fork costs
# much under TCG and KASAN).
rnd_leaf() { leaf=${leaves[RANDOM % ${#leaves[@]}]}; }
count() { echo "$1" >> $W/chaos.count; }

# A worker slot: workers one after another, each in a random leaf (one that
# was just removed makes the slot try another). The running worker's pid is
# in $W/pid.SLOT for the chaos loop.
worker_slot() {
	local slot=$1 n=0 fail=() leaf left rc t pid
	[ $((slot % 2)) = 1 ] && [ $faults = 1 ] && fail=(--fail-injected)
	while running; do
		n=$((n + 1))
		rnd_leaf
		left=$((stop_at - EPOCHSECONDS))
		[ $left -gt 0 ] || break
		t=$((1 + RANDOM % 20))
		[ $t -le $left ] || t=$left
		sh -c '{ echo $$ > "$1/cgroup.procs"; } 2>/dev/null || exit 99; shift; exec "$@"' \
			sh "$leaf" "$PIN" -q --churn "$t" --sources "$sources" \
			--stats "$W/stats.$slot.$n" "${fail[@]}" 2>> "$W/err.$slot" &
		pid=$!
		echo $pid > $W/pid.$slot
		wait $pid
		rc=$?
		case $rc in
		# Done, SIGKILLed (or SIGUSR2ed, see chaos(): 137 from the
		# handler, 140 before it was installed), cgroup gone.
		0|137|140|99) ;;
		*) echo "worker $slot.$n in ${leaf#"$S"/} exited with status $rc" >> $W/err.$slot ;;
		esac
	done
	rm -f $W/pid.$slot
}

# limit_write CG POOL VALUE EXPECTED [fail]: the write applies (the pool
# then reads EXPECTED) or fails and changes nothing; with "fail", under
# fault injection.
limit_write() {
	local cg=$1 text="$2 $3" want=$4 before after rc v
	before=$(< "$cg/dmabuf.pinned.max") || return 0
	if [ "${5:-}" = fail ]; then
		faulty write "$cg/dmabuf.pinned.max" "$text"$'\n' 2> $W/limit.err
	else
		echo "$text" > "$cg/dmabuf.pinned.max" 2> $W/limit.err
	fi
	rc=$?
	after=$(< "$cg/dmabuf.pinned.max") || return 0
	if [ $rc = 0 ]; then
		count write_ok
		v=$(get "$cg" dmabuf.pinned.max "$2" 2>/dev/null)
		if [ -z "$want" ]; then
			echo "the bad write '$text' to ${cg#"$S"/} succeeded" >> $W/chaos.err
		elif [ "$v" != "$want" ]; then
			echo "'$text' written to ${cg#"$S"/}: it reads '$v'" >> $W/chaos.err
		fi
		return 0
	fi
	if grep -q 'Cannot allocate memory' $W/limit.err && [ "${5:-}" = fail ]; then
		count write_enomem
	elif grep -q 'Invalid argument\|No such device' $W/limit.err && [ -z "$want" ]; then
		count write_einval
	elif grep -q 'No such device' $W/limit.err && [[ $2 == "$DEV"/* ]]; then
		count write_enodev	# the test device is unbound
	else
		echo "writing '$text' to ${cg#"$S"/}: $(< $W/limit.err)" >> $W/chaos.err
	fi
	# The line of this pool only: another may finish draining meanwhile.
	[ "$(grep "^$2 " <<< "$before")" = "$(grep "^$2 " <<< "$after")" ] ||
		echo "a failed write '$text' changed ${cg#"$S"/}/dmabuf.pinned.max" >> $W/chaos.err
}

# faulty mkdir DIR | faulty write FILE TEXT: the operation alone under
# fault injection (python3: no exec, and make-it-fail set around the call
# only; a whole marked process, exit included, can break the VM's 9p root;
# so can code first run in the window, an error path, paged in from 9p
# under fault injection: everything mapped is locked in memory first).
# Status 0, or 3 for ENOMEM (and EBUSY from a driver's bind file:
# misc_register() turns any failure to allocate a minor into EBUSY), or 1;
# the error on stderr as strerror() says it.
faulty() {
	python3 - "$@" <<-'PY'
	import ctypes, errno, os, sys
	op, path = sys.argv[1:3]
	libc = ctypes.CDLL(None, use_errno=True)
	if libc.mlockall(3) != 0:	# MCL_CURRENT | MCL_FUTURE
	    sys.exit("mlockall: " + os.strerror(ctypes.get_errno()))
	fail = os.open("/proc/self/make-it-fail", os.O_WRONLY)
	fd = os.open(path, os.O_WRONLY) if op == "write" else -1
	try:
	    os.pwrite(fail, b"1", 0)
	    try:
	        if op == "mkdir":
	            os.mkdir(path)
	        else:
	            os.write(fd, sys.argv[3].encode())
	    finally:
	        os.pwrite(fail, b"0", 0)
	except MemoryError:
	    print(os.strerror(errno.ENOMEM), file=sys.stderr)
	    sys.exit(3)
	except OSError as e:
	    print(os.strerror(e.errno), file=sys.stderr)
	    busy = e.errno == errno.EBUSY and path.endswith("/bind")
	    sys.exit(3 if e.errno == errno.ENOMEM or busy else 1)
	PY
}

# chaos_faulty KIND OP ARGS...: faulty OP ARGS, counted as KIND (mkdir,
# bind) or KIND_enomem; another failure is an error.
chaos_faulty() {
	local kind=$1 rc
	shift
	faulty "$@" 2> $W/faulty.err
	rc=$?
	case $rc in
	0) count "$kind"; return 0 ;;
	3) count "${kind}_enomem" ;;
	*) echo "$kind $2 with fault injection: $(< $W/faulty.err)" >> $W/chaos.err ;;
	esac
	return 1
}

# One random action at a time, as fast as the shell goes. The actions are
# dealt from a shuffled deck, so that every kind comes once in ten however
# few the run has time for (a short run on a loaded host: a dozen), a kill
# and a migration first; those stay on top until they succeed (the worker
# picked may just have exited).
chaos() {
	local pids slots pid p cg v want bound=1 f i sig leaf deck=(0 1)
	# Ahead of the workers, which keep both CPUs busy in the kernel:
	# otherwise a short run on a loaded host has time for a few actions.
	renice -n -10 -p $BASHPID > /dev/null
	while running; do
		pids=() slots=()
		for f in $W/pid.*; do
			[ -e "$f" ] && read -r pid < "$f" && pids+=("$pid") &&
				slots+=("${f##*.}")
		done
		[ ${#deck[@]} -gt 0 ] || mapfile -t deck < <(shuf -i 0-9)
		[ ${#deck[@]} -gt 0 ] || deck=($((RANDOM % 10)))	# shuf failed
		case ${deck[0]} in
		0)	# A worker under fault injection (odd slot) dies by
			# SIGUSR2: its handler ends injection first (see
			# churn_killed() in dmabuf-pin.c: 9p and a failed clunk).
			i=$((RANDOM % (${#pids[@]} ? ${#pids[@]} : 1)))
			sig=KILL
			[ $faults = 1 ] && [ $((${slots[i]:-0} % 2)) = 1 ] && sig=USR2
			if [ ${#pids[@]} -gt 0 ] && kill -$sig "${pids[i]}" 2>/dev/null; then
				count kill
			else
				sleep 0.1
				continue
			fi ;;
		1|2)	rnd_leaf
			# 2> first: a leaf just removed fails the > itself.
			if [ ${#pids[@]} -gt 0 ] &&
			   echo "${pids[RANDOM % ${#pids[@]}]}" 2>/dev/null > "$leaf/cgroup.procs"; then
				count migrate
			else
				sleep 0.1
				continue
			fi ;;
		3)	cg=$S/chaos/e$((1 + RANDOM % 2))
			if [ -d "$cg" ]; then
				# Move its workers out first: they hold pins, and go on.
				while read -r pid; do
					echo "$pid" 2>/dev/null > $S/free/l1/cgroup.procs
				done < "$cg/cgroup.procs"
				rmdir "$cg" 2>/dev/null && count rmdir
			elif [ $faults = 1 ] && [ $((RANDOM % 2)) = 0 ]; then
				# The controller's state allocations under fault
				# injection: a clean ENOMEM, or a cgroup.
				chaos_faulty mkdir mkdir "$cg"
			else
				mkdir "$cg" && count mkdir
			fi ;;
		4|5)	p=${pools[RANDOM % ${#pools[@]}]}
			case $((RANDOM % 4)) in
			0) v=max want=max ;;
			1) v=0 want=0 ;;		# below any usage
			*) v=$((1 + RANDOM % 64)) want=$((v * 65536)) v=$((v * 64))K ;;
			esac
			cg=$S/chaos
			[ $((RANDOM % 2)) = 0 ] && cg=$S/chaos/l$((1 + RANDOM % 2))
			if [ $((RANDOM % 4)) = 0 ] && [ $faults = 1 ]; then
				limit_write "$cg" "$p" "$v" "$want" fail
			else
				limit_write "$cg" "$p" "$v" "$want"
			fi ;;
		6)	p=${pools[RANDOM % ${#pools[@]}]}
			case $((RANDOM % 4)) in
			0) limit_write $S/chaos/l1 "$p" "1M 2" "" ;;
			1) limit_write $S/chaos/l1 nosuchpool 1M "" ;;
			2) limit_write $S/chaos/l1 "$p" -1 "" ;;
			*) limit_write $S/chaos/l1 "$p" 99999999999999999999K "" ;;
			esac ;;
		7)	if [ $testdev = 1 ] && [ $((RANDOM % 4)) = 0 ]; then
				if [ $bound = 1 ]; then
					echo $DEV > $DRV/unbind && bound=0 && count unbind
				elif [ $faults = 1 ] && [ $((RANDOM % 2)) = 0 ]; then
					# Pool registration under fault injection:
					# a failure fails the probe.
					chaos_faulty bind write $DRV/bind $DEV && bound=1
				else
					echo $DEV > $DRV/bind && bound=1 && count bind
				fi
			fi ;;
		*)	sleep 0.05 ;;
		esac
		count action
		deck=("${deck[@]:1}")
	done
	if [ $testdev = 1 ] && [ $bound = 0 ]; then
		echo $DEV > $DRV/bind || echo "rebinding $DEV failed" >> $W/chaos.err
	fi
}

# fixed's limits never change: no charge they refuse is ever committed, so
# the peak, the largest committed usage, stays within them. Builtins only.
sampler() {
	local key cg p v max n=0
	renice -n -10 -p $BASHPID > /dev/null
	while running; do
		for key in "${!fixed_max[@]}"; do
			cg=${key% *} p=${key#* } max=${fixed_max[$key]}
			while read -r pool v; do
				[ "$pool" = "$p" ] || continue
				if [ "$v" -gt "$max" ]; then
					echo "${cg#"$S"/} $p: peak $v above the fixed limit $max" >> $W/sampler.err
				fi
			done < "$cg/dmabuf.pinned.peak"
			while read -r pool v; do
				[ "$pool" = "$p" ] || continue
				[ "$v" = "$max" ] ||
					echo "${cg#"$S"/} $p: the fixed limit $max reads $v" >> $W/sampler.err
			done < "$cg/dmabuf.pinned.max"
		done
		n=$((n + 1))
		echo $n > $W/samples
		sleep 0.2
	done
}

echo "# stress: ${SECONDS_TOTAL}s, $WORKERS workers, sources $sources, faults $([ $faults = 1 ] && echo "${FAULT_PERCENT}%" || echo off), kmemleak $([ $kmemleak = 1 ] && echo on || echo off)"
t0=$EPOCHSECONDS
slot_pids=()
for i in $(seq 1 "$WORKERS"); do
	# Its stderr: bash's "Killed" notes for the workers SIGKILLed.
	worker_slot "$i" 2> $W/slot.$i.log &
	slot_pids+=($!)
done
chaos &
chaos_pid=$!
sampler &
sampler_pid=$!
wait "${slot_pids[@]}" "$chaos_pid" "$sampler_pid"
elapsed=$((EPOCHSECONDS - t0))
# Every worker was waited for by its slot; a process left would be stuck.
for _ in $(seq 1 300); do
	pgrep -f -- "--churn" > /dev/null || break
	sleep 0.2
done
for pid in $(pgrep -f -- "--churn"); do
	echo "# stuck worker $pid: $(tr '\0' ' ' < /proc/$pid/cmdline)"
	sed 's/^/#   /' /proc/$pid/stack 2>/dev/null
done

if [ $faults = 1 ]; then
	for f in failslab fail_page_alloc; do
		echo 0 > $DBG/$f/probability
		eval "injected_$f=$((FAULT_TIMES - $(< $DBG/$f/times)))"
	done
fi

sum() {	# sum FIELD: the total of FIELD over every worker's counts
	cat $W/stats.* 2>/dev/null | tr ' ' '\n' | sed -n "s/^$1=//p" |
		awk '{ s += $1 } END { print s + 0 }'
}
chaos_count() { local n; n=$(grep -cx "$1" $W/chaos.count 2>/dev/null); echo "${n:-0}"; }

rounds=$(sum rounds) pins=$(sum pins)
echo "# stress seconds=$elapsed workers_started=$(ls $W | grep -c '^stats\.') rounds=$rounds pins=$pins pins_per_s=$((pins / (elapsed ? elapsed : 1)))"
pins_by_source=""
for i in "${!source_list[@]}"; do pins_by_source+=" ${source_list[i]}=$(sum pins$i)"; done
echo "# stress pins by source:$pins_by_source"
echo "# stress refused=$(sum refused) enomem=$(sum enomem) buf_enomem=$(sum buf_enomem) dereg_enomem=$(sum dereg_enomem) nodev=$(sum nodev) buf_gone=$(sum buf_gone) revokes=$(sum revokes)"
echo "# stress chaos_actions=$(chaos_count action) kills=$(chaos_count kill) migrations=$(chaos_count migrate) rmdirs=$(chaos_count rmdir) mkdirs=$(chaos_count mkdir) unbinds=$(chaos_count unbind) binds=$(chaos_count bind) writes=$(chaos_count write_ok) writes_refused=$(chaos_count write_einval) writes_enomem=$(chaos_count write_enomem) writes_unbound=$(chaos_count write_enodev) mkdir_enomem=$(chaos_count mkdir_enomem) bind_enomem=$(chaos_count bind_enomem) samples=$(cat $W/samples 2>/dev/null || echo 0)"
[ $faults = 1 ] &&
	echo "# stress faults_injected=$((injected_failslab + injected_fail_page_alloc)) failslab=$injected_failslab fail_page_alloc=$injected_fail_page_alloc"

t_ran() {
	local i bad=0
	for i in "${!source_list[@]}"; do
		[ "$(sum pins$i)" -gt 0 ] || { fail "no pin of ${source_list[i]} in $elapsed s"; bad=1; }
	done
	[ "$(cat $W/samples 2>/dev/null || echo 0)" -gt 0 ] || { fail "the sampler never sampled"; bad=1; }
	[ "$(chaos_count kill)$(chaos_count migrate)" != 00 ] ||
		{ fail "the chaos loop neither killed nor migrated ($(chaos_count action) actions in $elapsed s)"; bad=1; }
	! pgrep -f -- "--churn" > /dev/null || { fail "workers stuck after the run (stacks above)"; bad=1; }
	[ $bad = 0 ]
}
t_worker_errors() {
	local errors
	errors=$(sum errors)
	[ "$errors" = 0 ] && ! cat $W/err.* 2>/dev/null | grep -q . && return 0
	fail "unexpected errors in the workers ($errors counted):"
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
	bad=0
	for cg in $(find $S -type d); do
		while read -r p v; do
			[ "$v" = 0 ] || { fail "${cg#"$CGROOT"/} dmabuf.pinned.current: $p $v"; bad=1; }
		done < "$cg/dmabuf.pinned.current"
		while read -r p v; do
			case $v in
			"pins=0 "*) ;;
			*) fail "${cg#"$CGROOT"/} dmabuf.pinned.stat: $p $v"; bad=1 ;;
			esac
		done < "$cg/dmabuf.pinned.stat"
	done
	while read -r p v; do
		[ "$v" = 0 ] || { fail "root dmabuf.pinned.current: $p $v"; bad=1; }
	done < $CGROOT/dmabuf.pinned.current
	[ $bad = 0 ]
}
t_pools() {
	# The cgroups go, and with them the limits that keep unregistered
	# pools listed.
	find $S -depth -type d -exec rmdir {} \;
	[ ! -d $S ] || fail "cannot remove $S" || return 1
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
	echo scan > $DBG/kmemleak && sleep 5 && echo scan > $DBG/kmemleak ||
		fail "kmemleak scan failed: kmemleak turned itself off? $(dmesg | grep -i kmemleak | tail -n 3)" ||
		return 1
	leaks=$(grep -c '^unreferenced object' $DBG/kmemleak)
	echo "# stress kmemleak_leaks=$leaks"
	[ "$leaks" = 0 ] && return 0
	fail "kmemleak: $leaks unreferenced objects"
	head -n 60 $DBG/kmemleak >&2
	return 1
}

run_test "workers pinned from every source, chaos and sampler ran" t_ran
run_test "workers saw only refusals, injected ENOMEMs and a vanished test device" t_worker_errors
run_test "limit writes: applied as written, or failed and changed nothing" t_chaos_errors
run_test "fixed limits held all along (sampler)" t_sampler
run_test "every counter back to zero" t_drained
run_test "the pools of the start, and no other, once the cgroups are gone" t_pools
run_test "kmemleak scan clean" t_kmemleak
tap_done
