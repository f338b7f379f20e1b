#!/usr/bin/env bash
# End-to-end tests of vfio-pci's BAR dma-bufs, in the VM (Linux 7.3, booted
# with tests/vm/run --vfio): QEMU's ivshmem-plain device (1af4:1110, a 4 MiB
# memory BAR 2) behind its vIOMMU, bound to vfio-pci. iommufd-pin --vfio
# binds the device's cdev to an iommufd, exports slices of BAR 2 as dma-bufs
# (VFIO_DEVICE_FEATURE_DMA_BUF) and maps them into the IOAS with
# IOMMU_IOAS_MAP_FILE, which pins them until the mapping goes. vfio-pci
# charges them to the BAR's pool, "vfio/<device>/bar2", registered while
# the device is bound to vfio-pci. TAP on stdout.
set -u
. "$(dirname "$0")/lib.sh"
PIN=$top/build/bin/iommufd-pin	# what lib.sh's pin and hold run

M2=2097152
M4=4194304
T=dmabuf_vfio	# the tests' parent cgroup

# The ivshmem device, bound to vfio-pci; sets $BDF, $POOL and $CDEV.
bind_vfio() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ] || continue
		BDF=${d##*/}
	done
	[ -n "${BDF:-}" ] || return 1
	POOL=vfio/$BDF/bar2
	if [ ! -e "/sys/bus/pci/devices/$BDF/vfio-dev" ]; then
		[ -e "/sys/bus/pci/devices/$BDF/driver" ] &&
			echo "$BDF" > "/sys/bus/pci/devices/$BDF/driver/unbind"
		echo vfio-pci > "/sys/bus/pci/devices/$BDF/driver_override" &&
			echo "$BDF" > /sys/bus/pci/drivers_probe || return 2
	fi
	CDEV=/dev/vfio/devices/$(ls "/sys/bus/pci/devices/$BDF/vfio-dev" | head -1)
	[ -c "$CDEV" ] || return 2
}

# The BAR's pool is listed while the device is bound to vfio-pci.
listed() { grep -q "^$POOL " "$CGROOT/dmabuf.capacity"; }

# Unbind the device from vfio-pci and bind it again.
rebind() {
	echo "$BDF" > /sys/bus/pci/drivers/vfio-pci/unbind || return 1
	if listed; then
		fail "$POOL still listed after the device left vfio-pci"
		return 1
	fi
	echo "$BDF" > /sys/bus/pci/drivers_probe || return 1
	listed || fail "$POOL not listed after the device came back to vfio-pci" || return 1
	CDEV=/dev/vfio/devices/$(ls "/sys/bus/pci/devices/$BDF/vfio-dev" | head -1)
	[ -c "$CDEV" ] || fail "no vfio cdev after binding $BDF again"
}

t_capacity() {
	expect_file "$CGROOT" dmabuf.capacity "$POOL" $M4 || return 1
	mkcg $T/a
	local a=$CGROOT/$T/a
	expect_file "$a" dmabuf.pinned.max "$POOL" max &&
	expect_file "$a" dmabuf.pinned.current "$POOL" 0
}

t_charged() {
	mkcg $T/a
	local a=$CGROOT/$T/a
	hold h "$a" --vfio "$CDEV" -z 1M -n 2 || return 1
	grep -q '^map 2: ok' "${held_out[h]}" || fail "map 2 not ok: $(cat "${held_out[h]}")" || return 1
	expect_file "$a" dmabuf.pinned.current "$POOL" $M2 &&
	expect_file "$CGROOT/$T" dmabuf.pinned.current "$POOL" $M2 &&
	expect_file "$a" dmabuf.pinned.stat "$POOL" "pins=2 refused=0 registered=1" || return 1
	# vfio-pci's exporter-wide pool, the fallback, is not charged.
	if grep -q "^vfio_pci_core " "$a/dmabuf.pinned.current"; then
		expect_file "$a" dmabuf.pinned.current vfio_pci_core 0 || return 1
	fi
	release h
	expect "exit status of the holder" "$status" 0 &&
	expect_file "$a" dmabuf.pinned.current "$POOL" 0 &&
	expect_file "$a" dmabuf.pinned.peak "$POOL" $M2 &&
	expect_file "$a" dmabuf.pinned.stat "$POOL" "pins=0 refused=0 registered=1"
}

# A limit set before anything is exported refuses the mapping over it, and
# survives the device leaving vfio-pci and coming back (limits follow the
# pool's name).
t_limit_refuses() {
	mkcg $T/a
	local a=$CGROOT/$T/a
	echo "$POOL 2M" > "$a/dmabuf.pinned.max" ||
		fail "writing '$POOL 2M' to dmabuf.pinned.max failed" || return 1
	hold h "$a" --vfio "$CDEV" -z 1M -n 3 || return 1
	grep -q '^map 2: ok' "${held_out[h]}" || fail "map 2 not ok: $(cat "${held_out[h]}")" || return 1
	grep -q '^map 3: refused: EAGAIN' "${held_out[h]}" ||
		fail "map 3 not refused with EAGAIN: $(cat "${held_out[h]}")" || return 1
	expect_file "$a" dmabuf.pinned.current "$POOL" $M2 &&
	expect_file "$a" dmabuf.pinned.events "$POOL" max=1 &&
	expect_file "$a" dmabuf.pinned.stat "$POOL" "pins=2 refused=1 registered=1" || return 1
	tell h unmap '^unmapped 2 mappings' || return 1
	expect_file "$a" dmabuf.pinned.current "$POOL" 0 || return 1
	release h
	expect "exit status of 3 maps under 2M" "$status" 3 || return 1
	rebind || return 1
	expect_file "$a" dmabuf.pinned.max "$POOL" $M2
}

t_exit_without_unmap() {
	mkcg $T/a
	local a=$CGROOT/$T/a
	hold h "$a" --vfio "$CDEV" -z 2M -x || return 1
	expect_file "$a" dmabuf.pinned.current "$POOL" $M2 || return 1
	release h
	expect "exit status of the holder" "$status" 0 &&
	expect_file "$a" dmabuf.pinned.current "$POOL" 0 &&
	expect_file "$a" dmabuf.pinned.stat "$POOL" "pins=0 refused=0 registered=1"
}

case $(uname -r) in
[1-6].*) skip_all "vfio-pci BAR tests" "vfio-pci exports BARs as dma-bufs from Linux 6.19 on" ;;
esac
[ -e /dev/iommu ] || skip_all "vfio-pci BAR tests" "no /dev/iommu (CONFIG_IOMMUFD)"
[ -d /sys/bus/pci/drivers/vfio-pci ] || skip_all "vfio-pci BAR tests" "no vfio-pci driver"
grep -qw dmabuf "$CGROOT/cgroup.controllers" || skip_all "vfio-pci BAR tests" "no dmabuf controller"
bind_vfio
case $? in
0) ;;
1) skip_all "vfio-pci BAR tests" "no ivshmem device (boot with tests/vm/run --vfio)" ;;
*) not_ok "binding the ivshmem device to vfio-pci" "$BDF: $(ls -l "/sys/bus/pci/devices/$BDF/" | head -40)"
   tap_done; exit ;;
esac
echo "+dmabuf" > "$CGROOT/cgroup.subtree_control"
mkdir -p "$CGROOT/$T"

run_test "a BAR's pool is listed, with the BAR's size, while the device is bound to vfio-pci" t_capacity
run_test "IOAS mappings of BAR dma-bufs are charged to the BAR's pool up the tree" t_charged
run_test "a limit set before the first export refuses with EAGAIN and survives a rebind" t_limit_refuses
run_test "exiting without unmapping uncharges" t_exit_without_unmap

rmdir "$CGROOT/$T" 2>/dev/null
# Give the device back: later tests must not see its pools.
echo "$BDF" > /sys/bus/pci/drivers/vfio-pci/unbind
echo > "/sys/bus/pci/devices/$BDF/driver_override"
echo "$BDF" > /sys/bus/pci/drivers_probe 2>/dev/null
tap_done
