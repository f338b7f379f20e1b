#!/usr/bin/env bash
# End-to-end tests of the pin path, in the VM: dma-bufs from udmabuf and the
# system dma-heap registered as memory regions on soft-RoCE (rxe) through
# the REG_DMABUF_MR uverbs ioctl, charged to the registering task's cgroup.
# TAP on stdout.
set -u
. "$(dirname "$0")/lib.sh"

M4=4194304
M8=8388608
T=dmabuf_rdma	# the tests' parent cgroup

t_limit_refuses() {
	mkcg $T/a
	local a=$CGROOT/$T/a
	echo "udmabuf 8M" > "$a/dmabuf.pinned.max"
	pin "$a" -s udmabuf -z 4M -n 3
	expect "exit status of 3 pins under 8M" "$status" 3 || return 1
	echo "$out" | grep -q '^mr 2: registered' || fail "mr 2 not registered: $out" || return 1
	echo "$out" | grep -q '^mr 3: refused: EAGAIN' || fail "mr 3 not refused with EAGAIN: $out" || return 1
	# Everything is released when the process is done.
	expect_file "$a" dmabuf.pinned.current udmabuf 0
}

t_files_while_held() {
	mkcg $T/a
	local a=$CGROOT/$T/a
	echo "udmabuf 8M" > "$a/dmabuf.pinned.max"
	hold h "$a" -s udmabuf -z 4M -n 2 || return 1
	pin "$a" -s udmabuf -z 4M -n 1
	expect "exit status of a pin over the limit" "$status" 3 || return 1
	expect_file "$a" dmabuf.pinned.current udmabuf $M8 &&
	expect_file "$a" dmabuf.pinned.peak udmabuf $M8 &&
	expect_file "$a" dmabuf.pinned.events udmabuf max=1 &&
	expect_file "$a" dmabuf.pinned.events.local udmabuf max=1 &&
	expect_file "$a" dmabuf.pinned.stat udmabuf "pins=2 refused=1 registered=1" &&
	expect_file "$a" dmabuf.pinned.current dma_heap/system 0 || return 1
	local root_before
	root_before=$(get "$CGROOT" dmabuf.pinned.current udmabuf)
	[ "$root_before" -ge $M8 ] || fail "root current $root_before < $M8" || return 1
	release h
	expect "exit status of the holder" "$status" 0 &&
	expect_file "$a" dmabuf.pinned.current udmabuf 0 &&
	expect_file "$a" dmabuf.pinned.peak udmabuf $M8 &&
	expect_file "$a" dmabuf.pinned.events udmabuf max=1 &&
	expect_file "$a" dmabuf.pinned.stat udmabuf "pins=0 refused=1 registered=1"
}

t_pools_independent() {
	mkcg $T/a
	local a=$CGROOT/$T/a
	echo "udmabuf 4M" > "$a/dmabuf.pinned.max"
	hold h "$a" -s heap -z 4M -n 3 || return 1
	expect_file "$a" dmabuf.pinned.current dma_heap/system $((3 * M4)) &&
	expect_file "$a" dmabuf.pinned.current udmabuf 0 &&
	expect_file "$a" dmabuf.pinned.stat dma_heap/system "pins=3 refused=0 registered=1" || return 1
	pin "$a" -s udmabuf -z 4M -n 2
	expect "udmabuf pins beside heap pins" "$status" 3 &&
	expect_file "$a" dmabuf.pinned.events dma_heap/system max=0 &&
	expect_file "$a" dmabuf.pinned.events udmabuf max=1
}

t_parent_limit() {
	mkcg $T/p && mkcg $T/p/c || return 1
	local p=$CGROOT/$T/p c=$CGROOT/$T/p/c
	echo "udmabuf 4M" > "$p/dmabuf.pinned.max"
	pin "$c" -s udmabuf -z 4M -n 2
	expect "exit status of 2 pins under a parent's 4M" "$status" 3 &&
	expect_file "$p" dmabuf.pinned.events udmabuf max=1 &&
	expect_file "$p" dmabuf.pinned.events.local udmabuf max=1 &&
	expect_file "$c" dmabuf.pinned.events udmabuf max=0 &&
	expect_file "$c" dmabuf.pinned.events.local udmabuf max=0 &&
	expect_file "$c" dmabuf.pinned.stat udmabuf "pins=0 refused=1 registered=1" &&
	expect_file "$p" dmabuf.pinned.stat udmabuf "pins=0 refused=1 registered=1" &&
	expect_file "$p" dmabuf.pinned.peak udmabuf $M4 &&
	# The child's peak may include the second pin, which the child's
	# own (absent) limit allowed before the parent's refused it: the
	# page_counter watermark, as memory.peak has it (cgroup-v2.rst).
	case $(get "$c" dmabuf.pinned.peak udmabuf) in
	"$M4"|"$M8") ;;
	*) fail "dmabuf_rdma/p/c dmabuf.pinned.peak udmabuf: $(get "$c" dmabuf.pinned.peak udmabuf), want $M4 or $M8" ;;
	esac
}

t_migration() {
	mkcg $T/a && mkcg $T/b || return 1
	local a=$CGROOT/$T/a b=$CGROOT/$T/b
	hold h "$a" -s udmabuf -z 4M -n 1 || return 1
	echo "${held_pid[h]}" > "$b/cgroup.procs"
	grep -qx "${held_pid[h]}" "$b/cgroup.procs" || fail "holder did not move" || return 1
	expect_file "$a" dmabuf.pinned.current udmabuf $M4 &&
	expect_file "$b" dmabuf.pinned.current udmabuf 0 || return 1
	release h
	expect_file "$a" dmabuf.pinned.current udmabuf 0 &&
	expect_file "$b" dmabuf.pinned.current udmabuf 0 &&
	expect_file "$a" dmabuf.pinned.stat udmabuf "pins=0 refused=0 registered=1"
}

t_exit_without_dereg() {
	mkcg $T/a
	local a=$CGROOT/$T/a
	hold h "$a" -s udmabuf -z 4M -n 2 -x || return 1
	expect_file "$a" dmabuf.pinned.current udmabuf $M8 || return 1
	release h
	expect_file "$a" dmabuf.pinned.current udmabuf 0 &&
	expect_file "$a" dmabuf.pinned.stat udmabuf "pins=0 refused=0 registered=1"
}

t_rmdir_while_held() {
	mkcg $T/p && mkcg $T/p/a && mkcg $T/p/b || return 1
	local p=$CGROOT/$T/p a=$CGROOT/$T/p/a b=$CGROOT/$T/p/b
	hold h "$a" -s heap -z 4M -n 2 || return 1
	echo "${held_pid[h]}" > "$b/cgroup.procs"
	rmdir "$a" || fail "rmdir of a cgroup with pins held elsewhere failed" || return 1
	[ ! -d "$a" ] || fail "$a still there" || return 1
	expect_file "$p" dmabuf.pinned.current dma_heap/system $M8 || return 1
	release h
	expect "exit status of the holder" "$status" 0 &&
	expect_file "$p" dmabuf.pinned.current dma_heap/system 0 &&
	expect_file "$p" dmabuf.pinned.stat dma_heap/system "pins=0 refused=0 registered=1"
}

t_two_mrs_one_buf() {
	mkcg $T/a
	local a=$CGROOT/$T/a
	hold h "$a" -s udmabuf -z 4M -n 2 -b 1 || return 1
	grep -q 'mr 2: registered .*(dma-buf 1)' "${held_out[h]}" ||
		fail "mr 2 not over dma-buf 1: $(cat "${held_out[h]}")" || return 1
	expect_file "$a" dmabuf.pinned.current udmabuf $M8 &&
	expect_file "$a" dmabuf.pinned.stat udmabuf "pins=2 refused=0 registered=1"
}

t_max_below_usage() {
	mkcg $T/a
	local a=$CGROOT/$T/a
	hold h "$a" -s udmabuf -z 4M -n 2 || return 1
	echo "udmabuf 4M" > "$a/dmabuf.pinned.max" || fail "writing a max below usage failed" || return 1
	expect_file "$a" dmabuf.pinned.max udmabuf $M4 &&
	expect_file "$a" dmabuf.pinned.current udmabuf $M8 || return 1
	pin "$a" -s udmabuf -z 4K -n 1
	expect "a new pin over a lowered max" "$status" 3 || return 1
	release h
	expect "the held pins were not revoked" "$status" 0 &&
	expect_file "$a" dmabuf.pinned.current udmabuf 0 || return 1
	pin "$a" -s udmabuf -z 4M -n 1
	expect "a pin within the max once usage dropped" "$status" 0
}

t_rdma_write() {
	local src
	mkcg $T/a
	for src in udmabuf heap; do
		pin "$CGROOT/$T/a" -s $src -z 1M -n 1 -w
		expect "rdma write into a $src MR" "$status" 0 || { echo "$out" >&2; return 1; }
		echo "$out" | grep -q 'data ok' || fail "no data check: $out" || return 1
	done
}

# REG_DMABUF_MR with random bad fds, offsets, lengths, iovas and access
# flags: each fails with an errno of the uAPI's and charges nothing, or
# succeeds and charges the buffer's size (dmabuf-pin --fuzz checks both).
t_reg_fuzz() {
	mkcg $T/a
	pin "$CGROOT/$T/a" -s udmabuf -z 64K --fuzz "${FUZZ_REGS:-2000}"
	echo "# $(echo "$out" | tail -n 1)"
	expect "dmabuf-pin --fuzz" "$status" 0 || { echo "$out" | tail -n 12 >&2; return 1; }
	expect_file "$CGROOT/$T/a" dmabuf.pinned.current udmabuf 0
}

grep -qw dmabuf "$CGROOT/cgroup.controllers" || skip_all "rdma pin tests" "no dmabuf controller"
need_rxe
echo "+dmabuf" > "$CGROOT/cgroup.subtree_control"
mkdir -p "$CGROOT/$T"

run_test "a limit allows pins up to it and refuses the next with EAGAIN" t_limit_refuses
run_test "current/peak/events/events.local/stat while pins are held and after release" t_files_while_held
run_test "pools are independent: a udmabuf limit does not touch heap pins" t_pools_independent
run_test "a parent's limit refuses a child's pin, counted at the parent" t_parent_limit
run_test "migration leaves the charge with the old cgroup" t_migration
run_test "process exit without deregistering uncharges" t_exit_without_dereg
run_test "rmdir of a cgroup whose pins are held by a task that moved away" t_rmdir_while_held
run_test "two MRs over one dma-buf charge twice" t_two_mrs_one_buf
run_test "a max lowered below usage refuses new pins only" t_max_below_usage
run_test "RDMA WRITE into dma-buf MRs over a loopback QP moves the right bytes" t_rdma_write
run_test "REG_DMABUF_MR with random bad input fails cleanly and charges nothing" t_reg_fuzz

rmdir "$CGROOT/$T" 2>/dev/null
tap_done
