#!/usr/bin/env bash
# Who holds what: the list of pins held (dma_buf/pins in debugfs) and the
# tracepoints dmabuf_cgroup:charge, uncharge and refuse (through tracefs),
# while dmabuf-pin registers dma-buf MRs on soft-RoCE (rxe): who pinned
# what, in which cgroup and pool, since when, and which limit refused. TAP
# on stdout.
set -u
. "$(dirname "$0")/lib.sh"

T=dmabuf_trace	# the tests' parent cgroup
TR=/sys/kernel/tracing
PINS=/sys/kernel/debug/dma_buf/pins
M1=1048576

# Start tracing EVENTS... of dmabuf_cgroup from an empty buffer.
trace_on() {
	local e
	echo 0 > "$TR/tracing_on"
	echo > "$TR/set_event"
	for e in "$@"; do
		echo "dmabuf_cgroup:$e" >> "$TR/set_event" || return 1
	done
	echo > "$TR/trace"
	echo 1 > "$TR/tracing_on"
}

# The dmabuf_cgroup lines of the trace so far, as "EVENT: FIELDS".
trace_lines() {
	sed -nE 's/.* (charge|uncharge|refuse): /\1: /p' "$TR/trace"
}

# The events off, tracing back on as the boot had it, the buffer empty.
trace_off() {
	echo > "$TR/set_event"
	echo > "$TR/trace"
	echo 1 > "$TR/tracing_on"
}

# After each test (lib.sh's cleanup_test), whether it passed or not.
cleanup_hook() {
	trace_off
	rm -f /tmp/who-helper.out /tmp/who-helper.go /tmp/who-perf.data /tmp/who-perf.out
}

# cgid DIR: the id the tracepoints give the cgroup DIR.
cgid() { stat -c %i "$1"; }

# count PATTERN: how many trace lines match the extended regex PATTERN.
count() { trace_lines | grep -cE "$1"; }

# uverbs_fd PID: the number of PID's open uverbs file.
uverbs_fd() {
	local f
	for f in /proc/"$1"/fd/*; do
		[[ $(readlink "$f") == /dev/infiniband/uverbs* ]] && { echo "${f##*/}"; return 0; }
	done
	return 1
}

t_charge_uncharge() {
	mkcg $T/a && mkcg $T/b || return 1
	local a=$CGROOT/$T/a id pid n fd helper out=/tmp/who-helper.out go=/tmp/who-helper.go
	id=$(cgid "$a")
	trace_on charge uncharge || fail "cannot enable the events" || return 1
	# -x: the holder exits without deregistering its MRs.
	hold h "$a" -s udmabuf -z 1M -n 2 -x || return 1
	pid=${held_pid[h]}
	local want="cgroup_id=$id pool=udmabuf bytes=$M1 pid=$pid comm=dmabuf-pin importer=$IMPORTER\$"
	n=$(count "^charge: $want")
	expect "charge events of 2 MRs" "$n" 2 || { trace_lines >&2; return 1; }
	n=$(count '^uncharge: ')
	expect "uncharge events while the MRs are held" "$n" 0 || { trace_lines >&2; return 1; }
	# Another task takes a copy of the holder's uverbs file
	# (pidfd_getfd), so that the MRs outlive the holder and are released
	# when that task closes it: the uncharges happen in that task, and
	# must still name the holder, and the cgroup charged although the
	# holder moved.
	fd=$(uverbs_fd "$pid") || fail "no uverbs file open in the holder" || return 1
	rm -f "$go" "$out"
	python3 -c '
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
pidfd = os.pidfd_open(int(sys.argv[1]))
fd = libc.syscall(438, pidfd, int(sys.argv[2]), 0)  # pidfd_getfd
if fd < 0:
    sys.exit("pidfd_getfd: " + os.strerror(ctypes.get_errno()))
print("got", flush=True)
end = time.monotonic() + 300  # a failed test never touches the file
while not os.path.exists(sys.argv[3]) and time.monotonic() < end:
    time.sleep(0.05)
os.close(fd)
' "$pid" "$fd" "$go" > "$out" 2>&1 &
	helper=$!
	test_pids+=("$helper")
	for _ in $(seq 1 300); do grep -q got "$out" && break; sleep 0.1; done
	grep -q got "$out" || fail "the helper got no copy: $(cat "$out")" || return 1
	echo "$pid" > "$CGROOT/$T/b/cgroup.procs" || return 1
	release h
	expect "exit status of the holder" "$status" 0 || return 1
	# The holder is gone; its pins are held, and listed under its name.
	n=$(grep -c "^pid=$pid comm=dmabuf-pin cgroup=/$T/a " "$PINS")
	expect "pins listed after the pinner exited" "$n" 2 || { cat "$PINS" >&2; return 1; }
	expect "uncharge events after the holder exited" "$(count '^uncharge: ')" 0 || return 1
	touch "$go"
	wait "$helper"
	expect "exit status of the helper" "$?" 0 || return 1
	n=$(count "^uncharge: $want")
	expect "uncharge events naming the pinner" "$n" 2 || { trace_lines >&2; return 1; }
	# ... made by the helper (the task column of the trace).
	n=$(grep -cE "^ *python3-$helper .* uncharge: " "$TR/trace")
	expect "uncharges made by the task that closed the file" "$n" 2 || { cat "$TR/trace" >&2; return 1; }
	expect "pins listed after the last close" "$(grep -c "^pid=$pid " "$PINS")" 0 || return 1
	# Every field of an uncharge is its charge's, importer included.
	expect "uncharges match the charges" \
		"$(trace_lines | sed -n 's/^uncharge: //p' | sort | uniq -c | sed 's/^ *//')" \
		"$(trace_lines | sed -n 's/^charge: //p' | sort | uniq -c | sed 's/^ *//')"
}

t_refuse_names_the_limit() {
	mkcg $T/p && mkcg $T/p/c || return 1
	local p=$CGROOT/$T/p c=$CGROOT/$T/p/c n
	echo "udmabuf 1M" > "$p/dmabuf.pinned.max"
	trace_on charge refuse || fail "cannot enable the events" || return 1
	pin "$c" -s udmabuf -z 1M -n 2
	expect "exit status of 2 pins under a parent's 1M" "$status" 3 || return 1
	n=$(count "^charge: cgroup_id=$(cgid "$c") pool=udmabuf bytes=$M1 pid=[0-9]+ comm=dmabuf-pin ")
	expect "charge events" "$n" 1 || { trace_lines >&2; return 1; }
	n=$(count "^refuse: cgroup_id=$(cgid "$c") limited_id=$(cgid "$p") max=$M1 pool=udmabuf bytes=$M1 pid=[0-9]+ comm=dmabuf-pin importer=$IMPORTER\$")
	expect "refuse events naming the parent's limit" "$n" 1 || { trace_lines >&2; return 1; }
	expect_file "$p" dmabuf.pinned.events.local udmabuf max=1
}

# pins_of PID: the lines of the list of pins held by PID.
pins_of() { grep "^pid=$1 " "$PINS"; }

t_pins_list() {
	mkcg $T/a && mkcg $T/b || return 1
	local a=$CGROOT/$T/a pid n age1 age2
	hold h "$a" -s udmabuf -z 1M -n 2 || return 1
	pid=${held_pid[h]}
	local want="^pid=$pid comm=dmabuf-pin cgroup=/$T/a cgroup_id=$(cgid "$a") pool=udmabuf bytes=$M1 age_ms=[0-9]+ importer=$IMPORTER exporter=udmabuf inode=[0-9]+\$"
	n=$(pins_of "$pid" | grep -cE "$want")
	expect "pins listed for 2 MRs" "$n" 2 || { cat "$PINS" >&2; return 1; }
	# Moved away, the pins stay listed where they are charged.
	echo "$pid" > "$CGROOT/$T/b/cgroup.procs" || return 1
	age1=$(pins_of "$pid" | head -n 1 | sed -E 's/.* age_ms=([0-9]+) .*/\1/')
	sleep 1
	n=$(pins_of "$pid" | grep -cE "$want")
	expect "pins listed after the holder moved" "$n" 2 || { cat "$PINS" >&2; return 1; }
	age2=$(pins_of "$pid" | head -n 1 | sed -E 's/.* age_ms=([0-9]+) .*/\1/')
	[ $((age2 - age1)) -ge 900 ] && [ $((age2 - age1)) -le 10000 ] ||
		fail "age_ms went from $age1 to $age2 in a second" || return 1
	# A heap pin of another holder is listed under its own pool.
	hold g "$CGROOT/$T/b" -s heap -z 1M -n 1 || return 1
	n=$(pins_of "${held_pid[g]}" | grep -cE " cgroup=/$T/b .* pool=dma_heap/system bytes=$M1 .* exporter=system ")
	expect "the heap pin listed" "$n" 1 || { cat "$PINS" >&2; return 1; }
	release h
	expect "exit status of the holder" "$status" 0 || return 1
	expect "pins listed after release" "$(pins_of "$pid" | wc -l)" 0 &&
	expect "the other holder's pin still listed" "$(pins_of "${held_pid[g]}" | wc -l)" 1
}

# What perf, bpftrace and libtraceevent read: the events' formats.
t_formats() {
	local e f fields
	for e in charge uncharge refuse; do
		fields="cgroup_id pool bytes pid comm importer"
		[ $e = refuse ] && fields="cgroup_id limited_id max pool bytes pid comm importer"
		for f in $fields; do
			grep -qE "field:[^;]* $f(\[[0-9]+\])?;" "$TR/events/dmabuf_cgroup/$e/format" ||
				fail "no field $f in $e's format: $(cat "$TR/events/dmabuf_cgroup/$e/format")" || return 1
		done
	done
}

# perf record/script, Debian's linux-perf: the events by name, fields parsed.
t_perf() {
	command -v perf >/dev/null || fail "no perf: 'make deps' installs Debian's linux-perf" || return 1
	mkcg $T/a || return 1
	local data=/tmp/who-perf.data n
	echo 0 > "$TR/tracing_on"
	perf record -q -o "$data" -e dmabuf_cgroup:charge -e dmabuf_cgroup:uncharge -a -- \
		sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$CGROOT/$T/a" \
		"$PIN" -s udmabuf -z 1M -n 2 > /tmp/who-perf.out 2>&1 ||
		fail "perf record: $(cat /tmp/who-perf.out)" || return 1
	n=$(perf script -i "$data" 2>&1 | grep -cE "dmabuf_cgroup:charge: cgroup_id=$(cgid "$CGROOT/$T/a") pool=udmabuf bytes=$M1 pid=[0-9]+ comm=dmabuf-pin ")
	expect "charges perf script shows" "$n" 2 || { perf script -i "$data" >&2; return 1; }
	n=$(perf script -i "$data" 2>&1 | grep -c "dmabuf_cgroup:uncharge: ")
	expect "uncharges perf script shows" "$n" 2 || { perf script -i "$data" >&2; return 1; }
}

grep -qw dmabuf "$CGROOT/cgroup.controllers" || skip_all "who holds what" "no dmabuf controller"
# The test kernel has both; a kernel without them fails here.
grep -q " /sys/kernel/debug debugfs " /proc/mounts || mount -t debugfs nodev /sys/kernel/debug
grep -q " $TR tracefs " /proc/mounts || mount -t tracefs nodev $TR
for f in "$PINS" "$TR/events/dmabuf_cgroup/charge" "$TR/events/dmabuf_cgroup/uncharge" \
	 "$TR/events/dmabuf_cgroup/refuse"; do
	[ -e "$f" ] || { not_ok "$f exists"; tap_done; exit; }
done
need_rxe
# rxe maps for the device under its netdev: the importer the events name.
IMPORTER=$(basename "$(readlink -f "/sys/class/net/${VM_NETDEV:-eth0}/device")")
echo "+dmabuf" > "$CGROOT/cgroup.subtree_control"
mkdir -p "$CGROOT/$T"

run_test "dma_buf/pins lists each pin held: pinner, cgroup, pool, bytes, age, importer, exporter" t_pins_list
run_test "charge and uncharge name the cgroup, pool, bytes, pinner and importer; an uncharge by another task names the pinner" t_charge_uncharge
run_test "refuse names the cgroup whose limit refused, and the limit" t_refuse_names_the_limit
run_test "the events' formats have the fields tools read" t_formats
run_test "perf record and perf script show the events" t_perf
rmdir "$CGROOT/$T" 2>/dev/null
tap_done
