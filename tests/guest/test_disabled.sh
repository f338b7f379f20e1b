#!/usr/bin/env bash
# In a VM booted with cgroup_disable=dmabuf: the controller is gone from
# cgroupfs, and RDMA pins of dma-bufs work, uncharged. TAP on stdout.
set -u
. "$(dirname "$0")/lib.sh"

t_controller_absent() {
	grep -q 'cgroup_disable=dmabuf' /proc/cmdline || fail "not booted with cgroup_disable=dmabuf" || return 1
	if grep -qw dmabuf "$CGROOT/cgroup.controllers"; then
		fail "dmabuf listed in cgroup.controllers: $(cat "$CGROOT/cgroup.controllers")"
		return 1
	fi
	[ ! -e "$CGROOT/dmabuf.capacity" ] || fail "dmabuf.capacity exists" || return 1
	[ ! -e "$CGROOT/dmabuf.pinned.current" ] || fail "dmabuf.pinned.current exists" || return 1
	if echo "+dmabuf" > "$CGROOT/cgroup.subtree_control" 2>/dev/null; then
		fail "+dmabuf accepted in cgroup.subtree_control"
		return 1
	fi
	grep -E '^dmabuf[[:space:]]' /proc/cgroups | awk '$4 != 0 { exit 1 }' ||
		fail "dmabuf enabled in /proc/cgroups: $(grep ^dmabuf /proc/cgroups)"
}

t_pins_uncharged() {
	mkdir "$CGROOT/dmabuf_disabled" || return 1
	test_cgroups=("$CGROOT/dmabuf_disabled")
	pin "$CGROOT/dmabuf_disabled" -s udmabuf -z 4M -n 3
	expect "exit status of 3 pins with the controller disabled" "$status" 0 || { echo "$out" >&2; return 1; }
	pin "$CGROOT/dmabuf_disabled" -s heap -z 1M -n 1 -w
	expect "rdma write into a heap MR" "$status" 0 || { echo "$out" >&2; return 1; }
}

run_test "cgroup_disable=dmabuf: no controller, no files, cannot be enabled" t_controller_absent
if setup_rxe; then
	run_test "cgroup_disable=dmabuf: dma-buf MRs register and work, uncharged" t_pins_uncharged
else
	not_ok "soft-RoCE device rxe0 on ${VM_NETDEV:-eth0}"
fi
tap_done
