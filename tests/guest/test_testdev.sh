#!/usr/bin/env bash
# End-to-end tests of device memory, in the VM: the test device
# (lib/test_dmabuf_dev.c, built into the 7.3 test kernel) exports dma-bufs
# from a region of "device memory" registered both as a dmem region and as a
# dmabuf pool, "dmabuf_testdev.0/vram". soft-RoCE (rxe) pins its buffers as
# memory regions through the revocable path. TAP on stdout.
set -u
. "$(dirname "$0")/lib.sh"

M1=1048576
M2=2097152
M3=3145728
DEV=dmabuf_testdev.0
VRAM=$DEV/vram
SYS=$DEV/system
DRV=/sys/bus/platform/drivers/dmabuf_testdev
T=dmabuf_testdev	# the tests' parent cgroup
MKCG_CONTROLLERS="+dmabuf +dmem"

# The region has the same name and size in dmem.capacity and
# dmabuf.capacity, with no manual step.
t_capacity() {
	local dmem dmabuf
	dmem=$(get "$CGROOT" dmem.capacity "$VRAM") || return 1
	dmabuf=$(get "$CGROOT" dmabuf.capacity "$VRAM") || return 1
	expect "dmabuf.capacity of $VRAM" "$dmabuf" "$dmem" &&
	expect "region size" "$dmem" $((4 * M1))
}

# A pin of a buffer in the region is charged to the region's pool, and the
# allocation to dmem, in the same cgroup tree.
t_region_pin() {
	mkcg $T/p && mkcg $T/p/c || return 1
	local p=$CGROOT/$T/p c=$CGROOT/$T/p/c
	hold h "$c" -s testdev -z 1M -n 1 || return 1
	hold_cmd h query || return 1
	expect "placement of the pinned buffer" "$(buf_state h 1)" \
		"region pins=1 revoked=0 moves=0" || return 1
	for cg in "$c" "$p"; do
		expect_file "$cg" dmabuf.pinned.current "$VRAM" $M1 &&
		expect_file "$cg" dmabuf.pinned.current "$SYS" 0 &&
		expect_file "$cg" dmem.current "$VRAM" $M1 || return 1
	done
	expect_file "$c" dmabuf.pinned.stat "$VRAM" "pins=1 refused=0 registered=1" || return 1
	release h
	expect "exit status of the holder" "$status" 0 &&
	expect_file "$c" dmabuf.pinned.current "$VRAM" 0 &&
	expect_file "$c" dmem.current "$VRAM" 0
}

t_limit_refuses() {
	mkcg $T/a
	local a=$CGROOT/$T/a
	echo "$VRAM 2M" > "$a/dmabuf.pinned.max" || return 1
	pin "$a" -s testdev -z 1M -n 3
	expect "exit status of 3 pins under 2M" "$status" 3 || { echo "$out" >&2; return 1; }
	echo "$out" | grep -q '^mr 3: refused: EAGAIN' || fail "mr 3 not refused: $out" || return 1
	expect_file "$a" dmabuf.pinned.events "$VRAM" max=1 &&
	expect_file "$a" dmabuf.pinned.current "$VRAM" 0
}

# Unpinned buffers make room; the pinned one stays; a pin that finds no
# room lands in system memory and is charged there.
t_eviction() {
	mkcg $T/u && mkcg $T/p && mkcg $T/q || return 1
	local u=$CGROOT/$T/u p=$CGROOT/$T/p q=$CGROOT/$T/q
	local ev
	hold u "$u" -s testdev -z 1M -n 2 -N || return 1
	expect_file "$u" dmem.current "$VRAM" $M2 || return 1
	hold_cmd u stats || return 1
	ev=$(stat_field u evictions)
	expect "free region before p" "$(stat_field u free)" $M2 || return 1
	hold p "$p" -s testdev -z 3M -n 1 || return 1
	hold_cmd u query && hold_cmd p query && hold_cmd u stats || return 1
	expect "evictions for p" "$(stat_field u evictions)" $((ev + 1)) &&
	expect "region pinned after p" "$(stat_field u pinned)" $M3 || return 1
	expect "the pinned buffer" "$(buf_state p 1)" "region pins=1 revoked=0 moves=0" &&
	expect "u's buffers (the oldest was evicted)" "$(buf_state u 1) / $(buf_state u 2)" \
		"system pins=0 revoked=0 moves=1 / region pins=0 revoked=0 moves=0" &&
	expect_file "$u" dmem.current "$VRAM" $M1 &&
	expect_file "$p" dmabuf.pinned.current "$VRAM" $M3 || return 1

	# The region is full: p's 3 MiB (pinned) and u's last 1 MiB. 2 MiB
	# asked: evicting u's buffer could not make room, so nothing is
	# evicted, and the buffer and its pin stay in system memory.
	hold q "$q" -s testdev -z 2M -n 1 || return 1
	hold_cmd q query && hold_cmd u query && hold_cmd p query && hold_cmd u stats || return 1
	expect "evictions for q (none could make room)" "$(stat_field u evictions)" $((ev + 1)) &&
	expect "free region after q" "$(stat_field u free)" 0 &&
	expect "a pin with no room in the region" "$(buf_state q 1)" \
		"system pins=1 revoked=0 moves=0" &&
	expect "the pinned buffer, again" "$(buf_state p 1)" "region pins=1 revoked=0 moves=0" &&
	expect "u's buffers, again" "$(buf_state u 1) / $(buf_state u 2)" \
		"system pins=0 revoked=0 moves=1 / region pins=0 revoked=0 moves=0" &&
	expect_file "$q" dmabuf.pinned.current "$SYS" $M2 &&
	expect_file "$q" dmabuf.pinned.current "$VRAM" 0 &&
	expect_file "$q" dmem.current "$VRAM" 0 &&
	expect_file "$u" dmem.current "$VRAM" $M1
}

# A revoke ends the MR's pin and its charge, once: nothing is uncharged
# again when the MR is deregistered.
t_revoke() {
	mkcg $T/a
	local a=$CGROOT/$T/a root_before
	root_before=$(get "$CGROOT" dmabuf.pinned.current "$VRAM") || return 1
	hold h "$a" -s testdev -z 1M -n 2 || return 1
	expect_file "$a" dmabuf.pinned.current "$VRAM" $M2 || return 1
	hold_cmd h revoke && hold_cmd h query || return 1
	expect "buffer 1 after revoke" "$(buf_state h 1)" "region pins=0 revoked=1 moves=0" &&
	expect_file "$a" dmem.current "$VRAM" $M2 &&
	expect_file "$a" dmabuf.pinned.current "$VRAM" 0 &&
	expect_file "$a" dmabuf.pinned.stat "$VRAM" "pins=0 refused=0 registered=1" || return 1
	release h
	expect "deregistering revoked MRs" "$status" 0 &&
	expect_file "$a" dmabuf.pinned.current "$VRAM" 0 &&
	expect_file "$CGROOT" dmabuf.pinned.current "$VRAM" "$root_before"
}

# Unbinding the device revokes its buffers: the charge ends once, and the
# drained, unregistered pool leaves the files (its limit is kept, unseen);
# binding again lists it with the limit in place.
t_unbind() {
	mkcg $T/a
	local a=$CGROOT/$T/a f
	echo "$VRAM 3M" > "$a/dmabuf.pinned.max" || return 1
	hold h "$a" -s testdev -z 1M -n 1 || return 1
	expect_file "$a" dmabuf.pinned.current "$VRAM" $M1 || return 1
	echo $DEV > $DRV/unbind || fail "unbind failed" || return 1
	[ ! -e /dev/dmabuf_testdev0 ] || fail "/dev/dmabuf_testdev0 still there" || return 1
	for f in "$CGROOT/dmem.capacity" "$CGROOT/dmabuf.capacity" "$CGROOT/dmabuf.pinned.current" \
		 "$a/dmabuf.pinned.current" "$a/dmabuf.pinned.max"; do
		if grep -q "^$VRAM " "$f"; then
			fail "$f still lists $VRAM after unbind: $(grep "^$VRAM " "$f")"
			return 1
		fi
	done
	echo $DEV > $DRV/bind || fail "bind failed" || return 1
	[ -e /dev/dmabuf_testdev0 ] || fail "no /dev/dmabuf_testdev0 after bind" || return 1
	expect_file "$a" dmabuf.pinned.max "$VRAM" $M3 &&
	expect_file "$a" dmabuf.pinned.current "$VRAM" 0 &&
	expect_file "$a" dmabuf.pinned.stat "$VRAM" "pins=0 refused=0 registered=1" || return 1
	release h
	expect "the holder, after its device went away" "$status" 0 || return 1
	pin "$a" -s testdev -z 1M -n 4
	expect "the limit after bind: 3 pins of 1M, the 4th refused" "$status" 3
}

[ -e /dev/dmabuf_testdev0 ] ||
	skip_all "test device tests" "no /dev/dmabuf_testdev0 (CONFIG_TEST_DMABUF_DEV, 7.3)"
need_rxe
if ! { echo "+dmabuf +dmem" > "$CGROOT/cgroup.subtree_control" && mkdir -p "$CGROOT/$T" &&
	echo "+dmabuf +dmem" > "$CGROOT/$T/cgroup.subtree_control"; }; then
	not_ok "dmabuf and dmem enabled for $T"
	tap_done
	exit
fi

run_test "the region: same name and size in dmem.capacity and dmabuf.capacity" t_capacity
run_test "a pin in the region: charged to its pool, the allocation to dmem, up the tree" t_region_pin
run_test "a limit on the region's pool refuses the next pin with EAGAIN" t_limit_refuses
run_test "unpinned buffers are evicted, the pinned one stays; no room: the pin lands in system memory" t_eviction
run_test "a revoke ends the charge of a revocable MR once" t_revoke
run_test "unbind revokes: the charge ends once and the pool leaves the files; bind finds the limit" t_unbind
# Whatever t_unbind left, the device is bound for what runs after.
[ -e /dev/dmabuf_testdev0 ] || echo $DEV > $DRV/bind

rmdir "$CGROOT/$T" 2>/dev/null
tap_done
