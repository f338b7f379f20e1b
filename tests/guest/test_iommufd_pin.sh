#!/usr/bin/env bash
# End-to-end tests of the iommufd pin path, in the VM (Linux 7.3 only):
# dma-bufs of iommufd's test exporter (CONFIG_IOMMUFD_TEST, in the 7.3 test
# kernel: kernel/configs/dmabuf-7.3.config) mapped into an IOAS with the
# IOMMU_IOAS_MAP_FILE ioctl, which pins them until the mapping goes, charged
# to the mapping task's cgroup. The exporter registers no pool: its buffers
# are charged to the pool named after it, "iommufd", registered by the
# dma-buf core when the first buffer is made. The exporter makes buffers of
# at most 2 MiB. TAP on stdout.
set -u
. "$(dirname "$0")/lib.sh"
PIN=$top/build/bin/iommufd-pin	# what lib.sh's pin and hold run

POOL=iommufd
M2=2097152
M4=4194304
T=dmabuf_iommufd	# the tests' parent cgroup

t_charged() {
	mkcg $T/a
	local a=$CGROOT/$T/a root_before root_held
	root_before=$(get "$CGROOT" dmabuf.pinned.current $POOL) || return 1
	hold h "$a" -z 2M -n 1 || return 1
	grep -q '^map 1: ok' "${held_out[h]}" || fail "map 1 not ok: $(cat "${held_out[h]}")" || return 1
	expect_file "$a" dmabuf.pinned.current $POOL $M2 &&
	expect_file "$a" dmabuf.pinned.stat $POOL "pins=1 refused=0 registered=1" || return 1
	root_held=$(get "$CGROOT" dmabuf.pinned.current $POOL) || return 1
	expect "root's $POOL current while the mapping is held" "$root_held" $((root_before + M2)) || return 1
	release h
	expect "exit status of the holder" "$status" 0 &&
	expect_file "$a" dmabuf.pinned.current $POOL 0 &&
	expect_file "$a" dmabuf.pinned.peak $POOL $M2 &&
	expect_file "$a" dmabuf.pinned.stat $POOL "pins=0 refused=0 registered=1"
}

t_limit_refuses() {
	mkcg $T/a
	local a=$CGROOT/$T/a
	echo "$POOL 4M" > "$a/dmabuf.pinned.max" || fail "writing '$POOL 4M' to dmabuf.pinned.max failed" || return 1
	hold h "$a" -z 2M -n 3 || return 1
	grep -q '^map 2: ok' "${held_out[h]}" || fail "map 2 not ok: $(cat "${held_out[h]}")" || return 1
	grep -q '^map 3: refused: EAGAIN' "${held_out[h]}" ||
		fail "map 3 not refused with EAGAIN: $(cat "${held_out[h]}")" || return 1
	expect_file "$a" dmabuf.pinned.current $POOL $M4 &&
	expect_file "$a" dmabuf.pinned.events $POOL max=1 &&
	expect_file "$a" dmabuf.pinned.events.local $POOL max=1 &&
	expect_file "$a" dmabuf.pinned.stat $POOL "pins=2 refused=1 registered=1" || return 1
	release h
	expect "exit status of 3 maps under 4M" "$status" 3 &&
	expect_file "$a" dmabuf.pinned.current $POOL 0 &&
	expect_file "$a" dmabuf.pinned.events $POOL max=1 &&
	expect_file "$a" dmabuf.pinned.stat $POOL "pins=0 refused=1 registered=1"
}

# A revoke takes the buffer out of iommufd's page tables but not the pin:
# the charge stays until the unmap. With a mock domain, the revoke also
# unmaps the buffer from a (software) page table.
revoke_keeps_charge() {	# revoke_keeps_charge [--mock-domain]
	mkcg $T/a
	local a=$CGROOT/$T/a
	hold h "$a" -z 2M -n 1 --revoke "$@" || return 1
	grep -q '^map 1: revoked' "${held_out[h]}" || fail "map 1 not revoked: $(cat "${held_out[h]}")" || return 1
	expect_file "$a" dmabuf.pinned.current $POOL $M2 &&
	expect_file "$a" dmabuf.pinned.stat $POOL "pins=1 refused=0 registered=1" || return 1
	tell h unmap '^unmapped 1 mappings' || return 1
	expect_file "$a" dmabuf.pinned.current $POOL 0 &&
	expect_file "$a" dmabuf.pinned.stat $POOL "pins=0 refused=0 registered=1" || return 1
	release h
	expect "exit status of the holder" "$status" 0
}
t_revoke() { revoke_keeps_charge; }
t_revoke_mock_domain() { revoke_keeps_charge --mock-domain; }

t_exit_without_unmap() {
	mkcg $T/a
	local a=$CGROOT/$T/a
	hold h "$a" -z 2M -n 2 -x || return 1
	expect_file "$a" dmabuf.pinned.current $POOL $M4 || return 1
	release h
	expect "exit status of the holder" "$status" 0 &&
	expect_file "$a" dmabuf.pinned.current $POOL 0 &&
	expect_file "$a" dmabuf.pinned.stat $POOL "pins=0 refused=0 registered=1"
}

case $(uname -r) in
[1-6].*) skip_all "iommufd pin tests" "iommufd imports dma-bufs from Linux 6.19 on (this is $(uname -r))" ;;
esac
[ -e /dev/iommu ] || skip_all "iommufd pin tests" "no /dev/iommu (CONFIG_IOMMUFD)"
grep -qw dmabuf "$CGROOT/cgroup.controllers" || skip_all "iommufd pin tests" "no dmabuf controller"
# The pool exists once the exporter made a buffer: make one, so that the
# tests can set limits on it.
if ! out=$("$PIN" -q -z 4K 2>&1); then
	case $out in
	*CONFIG_IOMMUFD_TEST*) skip "iommufd pin tests" "no iommufd test exporter (CONFIG_IOMMUFD_TEST)" ;;
	*) not_ok "a first iommufd-pin mapping" "$out" ;;
	esac
	tap_done
	exit
fi
if ! grep -q "^$POOL " "$CGROOT/dmabuf.pinned.current"; then
	not_ok "the test exporter's buffers are charged to pool $POOL" \
		"pools: $(cut -d' ' -f1 "$CGROOT/dmabuf.pinned.current" | tr '\n' ' ')"
	tap_done
	exit
fi
echo "+dmabuf" > "$CGROOT/cgroup.subtree_control"
mkdir -p "$CGROOT/$T"

run_test "an IOAS mapping of a dma-buf is charged to the mapping task's cgroup until it goes" t_charged
run_test "a limit allows maps up to it and refuses the next with EAGAIN" t_limit_refuses
run_test "a revoked dma-buf stays charged until its mapping is unmapped" t_revoke
run_test "the same with the IOAS attached to a mock domain" t_revoke_mock_domain
run_test "closing /dev/iommu without unmapping uncharges" t_exit_without_unmap

rmdir "$CGROOT/$T" 2>/dev/null
tap_done
