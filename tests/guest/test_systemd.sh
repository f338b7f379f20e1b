#!/usr/bin/env bash
# The systemd series (systemd/patches) end to end: run by
# `tests/vm/run --systemd build/systemd/obj/systemd`, i.e. inside the patched
# systemd 252 booted as PID 1, with $SYSTEMCTL and $SYSTEMD_RUN from the same
# build. A slice with DMABufPinnedMax= and services in it pin udmabuf memory
# through soft-RoCE (dmabuf-pin); TAP on stdout.
set -u
. "$(dirname "$0")/lib.sh"

SYSTEMCTL=${SYSTEMCTL:-systemctl}
SYSTEMD_RUN=${SYSTEMD_RUN:-systemd-run}
JOURNALCTL=${JOURNALCTL:-journalctl}
UNITS=/etc/systemd/system
M4=4194304
M8=8388608
M12=12582912
SLICE=dmabuf_test.slice
SLICE_CG=$CGROOT/dmabuf_test.slice
# The test device's region (lib/test_dmabuf_dev.c, built into the 7.3 test
# kernel): a pool with a size, for percentages.
VRAM=dmabuf_testdev.0/vram

# The systemd boot runs tests/vm/guest-init-systemd's units only: reload after
# writing ours.
reload() { "$SYSTEMCTL" daemon-reload || fail "systemctl daemon-reload failed"; }

# prop UNIT PROPERTY: the value, as `systemctl show -P` prints it.
prop() { "$SYSTEMCTL" show -P "$2" ${1:+"$1"}; }

# expect_prop UNIT PROPERTY WANT
expect_prop() {
	local v
	v=$(prop "$1" "$2")
	expect "$1 $2" "$v" "$3"
}

# expect_pool UNIT PROPERTY POOL WANT: the value of POOL in an a(st)
# property (systemctl show -P prints a "POOL VALUE" line per pool).
expect_pool() {
	local v
	v=$(prop "$1" "$2" | sed -n "s|^$3 ||p")
	expect "$1 $2 $3" "$v" "$4"
}

has_controller() {	# has_controller FILE: dmabuf is listed in FILE
	[[ " $(cat "$1") " == *" dmabuf "* ]]
}

# kick: start a oneshot service in -.slice. systemd adjusts the controllers
# of a cgroup when it realizes it again (when a unit below starts or stops),
# not at daemon-reload itself; this makes it realize the root.
kick() {
	printf '[Service]\nType=oneshot\nSlice=-.slice\nExecStart=/bin/true\n' > "$UNITS/dmabuf_kick.service"
	reload || return 1
	"$SYSTEMCTL" start dmabuf_kick.service || fail "cannot start dmabuf_kick.service"
}

# The loaded units that have dma-buf accounting or limits (for diagnostics).
wanting_dmabuf() {
	local u
	"$SYSTEMCTL" list-units --all --plain --no-legend | while read -r u _; do
		"$SYSTEMCTL" show -p Id -p DMABufAccounting -p DMABufPinnedMax -p ActiveState -p LoadState -- "$u" |
			tr '\n' ' ' | grep -E 'DMABufAccounting=yes|DMABufPinnedMax=.' && echo
	done
}

# settles FILE yes|no: dmabuf is (not) listed in FILE within 10 s. After a
# daemon-reload, systemd re-realizes the cgroups from its event loop, after
# the reload call has returned.
settles() {
	local i
	for i in $(seq 1 50); do
		if has_controller "$1"; then
			[ "$2" = yes ] && return 0
		else
			[ "$2" = no ] && return 0
		fi
		sleep 0.2
	done
	return 1
}

write_slice() {	# write_slice [DMABufPinnedMax value [DMABufAccounting value]]
	cat > "$UNITS/$SLICE" <<EOF
[Unit]
Description=dmabuf test slice

[Slice]
${1:+DMABufPinnedMax=$1}
${2:+DMABufAccounting=$2}
EOF
}

# journal_has TEXT: the journal of this boot has a line with TEXT, within 10 s.
journal_has() {
	local i
	for i in $(seq 1 50); do
		"$JOURNALCTL" -b -q --no-pager -o cat 2>/dev/null | grep -qF -- "$1" && return 0
		sleep 0.2
	done
	return 1
}

# pin_service NAME ARGS...: a oneshot service in the slice running dmabuf-pin.
pin_service() {
	local name=$1
	shift
	cat > "$UNITS/$name.service" <<EOF
[Unit]
Description=dmabuf test: dmabuf-pin $*

[Service]
Type=oneshot
Slice=$SLICE
ExecStart=$PIN $*
EOF
}

# start_pin NAME: start it and wait; sets $status to dmabuf-pin's exit status.
start_pin() {
	"$SYSTEMCTL" start "$1.service"
	status=$(prop "$1.service" ExecMainStatus)
}

# pin3_in_slice: the slice limited to udmabuf 8M and a service in it
# registering three 4 MiB MRs: the third is refused (dmabuf-pin exits 3).
pin3_in_slice() {
	write_slice "udmabuf 8M"
	pin_service dmabuf_pin3 -s udmabuf -z 4M -n 3
	reload || return 1
	start_pin dmabuf_pin3
	expect "dmabuf-pin in $SLICE (udmabuf 8M; 3: EAGAIN on the third 4M MR)" "$status" 3
}

cleanup_units() {
	"$SYSTEMCTL" stop "$SLICE" 2>/dev/null
	"$SYSTEMCTL" reset-failed 2>/dev/null
	rm -rf "$UNITS"/dmabuf_*.service "$UNITS/$SLICE" "$UNITS"/*.d/50-DMABuf* \
		/etc/systemd/system.control/dmabuf_* /run/systemd/system.control/dmabuf_*
	"$SYSTEMCTL" daemon-reload
}

t_defaults() {
	expect_prop "" DefaultDMABufAccounting yes || return 1
	expect_prop init.scope DMABufAccounting yes || return 1
	has_controller "$CGROOT/cgroup.subtree_control" ||
		fail "dmabuf not enabled in the root's cgroup.subtree_control: $(cat "$CGROOT/cgroup.subtree_control")"
}

# The issue's main case: the slice's limit in its file, the third 4M MR of a
# service in the slice refused, the usage gone afterwards.
t_slice_limit() {
	pin3_in_slice || return 1
	expect_file "$SLICE_CG" dmabuf.pinned.max udmabuf $M8 || return 1
	expect_file "$SLICE_CG" dmabuf.pinned.events udmabuf max=1 || return 1
	expect_file "$SLICE_CG" dmabuf.pinned.peak udmabuf $M8 || return 1
	expect_file "$SLICE_CG" dmabuf.pinned.current udmabuf 0 || return 1
	has_controller "$CGROOT/cgroup.subtree_control" || fail "dmabuf not enabled on -.slice" || return 1
	has_controller "$SLICE_CG/cgroup.subtree_control" || fail "dmabuf not enabled on $SLICE"
}

# While a service holds 8M: systemctl show and status report it.
t_show_status() {
	local st
	write_slice "udmabuf 8M"
	cat > "$UNITS/dmabuf_hold.service" <<EOF
[Service]
Slice=$SLICE
ExecStart=/bin/sh -c 'exec $PIN -s udmabuf -z 4M -n 2 --hold < /run/dmabuf_hold.fifo'
EOF
	rm -f /run/dmabuf_hold.fifo
	mkfifo /run/dmabuf_hold.fifo
	reload || return 1
	"$SYSTEMCTL" start dmabuf_hold.service || return 1
	exec {hfd}> /run/dmabuf_hold.fifo
	for _ in $(seq 1 300); do
		[ "$(get "$SLICE_CG" dmabuf.pinned.current udmabuf 2>/dev/null)" = $M8 ] && break
		sleep 0.2
	done
	expect_prop $SLICE DMABufPinnedMax "udmabuf $M8" || return 1
	expect_pool $SLICE DMABufPinnedCurrent udmabuf $M8 || return 1
	expect_pool dmabuf_hold.service DMABufPinnedCurrent udmabuf $M8 || return 1
	expect_pool dmabuf_hold.service DMABufPinnedCurrent dma_heap/system 0 || return 1
	# The service's own cgroup has no limit of its own.
	expect_file "$SLICE_CG/dmabuf_hold.service" dmabuf.pinned.max udmabuf max || return 1
	expect_prop dmabuf_hold.service DMABufPinnedMax "" || return 1
	expect_pool $SLICE DMABufPinnedPeak udmabuf $M8 || return 1
	st=$(SYSTEMD_COLORS=0 "$SYSTEMCTL" status --no-pager $SLICE 2>&1)
	[[ $st == *"DMABuf: udmabuf 8.0M (max: 8.0M peak: 8.0M)"* ]] ||
		fail "systemctl status $SLICE has no 'DMABuf: udmabuf 8.0M (max: 8.0M peak: 8.0M)' line:" "$st" || return 1
	st=$(SYSTEMD_COLORS=0 "$SYSTEMCTL" status --no-pager dmabuf_hold.service 2>&1)
	[[ $st == *"DMABuf: udmabuf 8.0M"* ]] ||
		fail "systemctl status dmabuf_hold.service has no 'DMABuf: udmabuf 8.0M' line:" "$st" || return 1
	echo release >&$hfd
	exec {hfd}>&-
	"$SYSTEMCTL" stop dmabuf_hold.service
	rm -f /run/dmabuf_hold.fifo
	expect_file "$SLICE_CG" dmabuf.pinned.current udmabuf 0
}

# set-property --runtime raises the limit of the running slice; the next
# service gets all three MRs. A persistent set-property writes a drop-in
# that survives daemon-reload.
t_set_property() {
	local dropin
	pin3_in_slice || return 1

	"$SYSTEMCTL" set-property --runtime $SLICE "DMABufPinnedMax=udmabuf 12M" ||
		fail "set-property --runtime failed" || return 1
	expect_file "$SLICE_CG" dmabuf.pinned.max udmabuf $M12 || return 1
	expect_prop $SLICE DMABufPinnedMax "udmabuf $M12" || return 1
	start_pin dmabuf_pin3
	expect "pin under 12M (runtime)" "$status" 0 || return 1

	"$SYSTEMCTL" set-property $SLICE "DMABufPinnedMax=/dev/udmabuf 4M" ||
		fail "set-property failed" || return 1
	dropin=/etc/systemd/system.control/$SLICE.d/50-DMABufPinnedMax.conf
	[ -f "$dropin" ] || fail "no drop-in $dropin" || return 1
	grep -qx "DMABufPinnedMax=udmabuf $M4" "$dropin" ||
		fail "drop-in does not name the pool: $(cat "$dropin")" || return 1
	reload || return 1
	expect_prop $SLICE DMABufPinnedMax "udmabuf $M4" || return 1
	expect_file "$SLICE_CG" dmabuf.pinned.max udmabuf $M4 || return 1

	# An empty assignment removes the limits: the file goes back to max.
	"$SYSTEMCTL" set-property --runtime $SLICE "DMABufPinnedMax=" || return 1
	"$SYSTEMCTL" set-property $SLICE "DMABufPinnedMax=" || return 1
	expect_prop $SLICE DMABufPinnedMax "" || return 1
	expect_file "$SLICE_CG" dmabuf.pinned.max udmabuf max || return 1
	start_pin dmabuf_pin3
	expect "pin without a limit" "$status" 0
}

# DMABufPinnedMax=POOL N%: a share of the pool's capacity (dmabuf.capacity
# of the root), resolved into bytes, rounded down, when the limits are
# applied. The test device's region has a size; udmabuf does not ("max"):
# 50% of it is warned about and skipped, 100% is no limit.
t_percent() {
	local cap scale want st dropin=/etc/systemd/system.control/$SLICE.d/50-DMABufPinnedMax.conf
	cap=$(get "$CGROOT" dmabuf.capacity "$VRAM") || return 1
	[ "$cap" != max ] || fail "$VRAM has no capacity" || return 1
	# UINT32_SCALE_FROM_PERMYRIAD(2500), then the manager's two-step
	# product, rounded down to whole pages.
	scale=$(( (2500 * 4294967295 + 5000) / 10000 ))
	want=$(( (cap / 4294967295 * scale + cap % 4294967295 * scale / 4294967295) / 4096 * 4096 ))
	write_slice "$VRAM 25%"
	reload || return 1
	"$SYSTEMCTL" start $SLICE || return 1
	expect_file "$SLICE_CG" dmabuf.pinned.max "$VRAM" "$want" || return 1
	expect_prop $SLICE DMABufPinnedMax "" || return 1
	expect_prop $SLICE DMABufPinnedMaxScale "$VRAM 25.00%" || return 1
	st=$(SYSTEMD_COLORS=0 "$SYSTEMCTL" status --no-pager $SLICE 2>&1)
	[[ $st == *"DMABuf: $VRAM 0B (max: 25.00% peak: 0B)"* ]] ||
		fail "systemctl status $SLICE has no 'DMABuf: $VRAM 0B (max: 25.00% peak: 0B)' line:" "$st" || return 1

	# set-property with a percentage: the drop-in keeps the percentage.
	"$SYSTEMCTL" set-property $SLICE "DMABufPinnedMax=$VRAM 50%" || return 1
	grep -qx "DMABufPinnedMax=$VRAM 50.00%" "$dropin" ||
		fail "the drop-in does not keep the percentage:" "$(cat "$dropin")" || return 1
	scale=$(( (5000 * 4294967295 + 5000) / 10000 ))
	want=$(( (cap / 4294967295 * scale + cap % 4294967295 * scale / 4294967295) / 4096 * 4096 ))
	expect_file "$SLICE_CG" dmabuf.pinned.max "$VRAM" "$want" || return 1

	# A pool without a size: 50% is refused with a warning and leaves the
	# pool without a limit (not with the 8M it had); 100% is max.
	"$SYSTEMCTL" set-property --runtime $SLICE "DMABufPinnedMax=udmabuf 8M" || return 1
	expect_file "$SLICE_CG" dmabuf.pinned.max udmabuf $M8 || return 1
	"$SYSTEMCTL" set-property --runtime $SLICE "DMABufPinnedMax=udmabuf 50%" || return 1
	journal_has "gives pool 'udmabuf' a percentage, but its exporter did not register a size" ||
		fail "no warning about 50% of udmabuf in the journal" || return 1
	expect_file "$SLICE_CG" dmabuf.pinned.max udmabuf max || return 1
	"$SYSTEMCTL" set-property --runtime $SLICE "DMABufPinnedMax=udmabuf 8M" || return 1
	"$SYSTEMCTL" set-property --runtime $SLICE "DMABufPinnedMax=udmabuf 100%" || return 1
	expect_prop $SLICE DMABufPinnedMaxScale "$VRAM 50.00%
udmabuf 100.00%" || return 1
	expect_file "$SLICE_CG" dmabuf.pinned.max udmabuf max
}

# The manager's DefaultDMABufAccounting=no, which t_default_off checks and
# the tests after it run under, each setting it itself so that it can run
# alone (SYSTEMD_TESTS=limit_only); t_default_on takes it back.
default_off() {
	local f=/etc/systemd/system.conf.d/50-dmabuf-test.conf
	[ -f "$f" ] && return 0
	mkdir -p "${f%/*}"
	printf '[Manager]\nDefaultDMABufAccounting=no\n' > "$f"
	reload
}

# With DefaultDMABufAccounting=no, a limit alone does not turn the
# controller on: the setting is kept, a warning says why it does nothing,
# and status still lists the limited pool.
t_limit_only() {
	local st
	default_off || return 1
	write_slice "udmabuf 8M"
	reload || return 1
	"$SYSTEMCTL" start $SLICE || return 1
	expect_prop $SLICE DMABufAccounting no || return 1
	expect_prop $SLICE DMABufPinnedMax "udmabuf $M8" || return 1
	kick || return 1
	settles "$CGROOT/cgroup.subtree_control" no ||
		fail "DMABufPinnedMax= alone turned the controller on in the root" || return 1
	journal_has "$SLICE: DMABufPinnedMax= is set but DMABufAccounting=no" ||
		fail "no warning that the limit is not applied" || return 1
	st=$(SYSTEMD_COLORS=0 "$SYSTEMCTL" status --no-pager $SLICE 2>&1)
	[[ $st == *"DMABuf: udmabuf - (max: 8.0M)"* ]] ||
		fail "systemctl status $SLICE has no 'DMABuf: udmabuf - (max: 8.0M)' line:" "$st"
}

# A transient service: systemd-run -p DMABufPinnedMax=. The service keeps
# running after the pins (sleep) so that its cgroup can be looked at.
t_systemd_run() {
	local unit=dmabuf_run.service cg=$CGROOT/system.slice/dmabuf_run.service err
	rm -f /run/dmabuf_run.status
	"$SYSTEMD_RUN" --quiet --unit=$unit -p "DMABufPinnedMax=udmabuf 4M" /bin/sh -c \
		"$PIN -s udmabuf -z 4M -n 2; echo \$? > /run/dmabuf_run.status; exec sleep 600" ||
		fail "systemd-run failed" || return 1
	for _ in $(seq 1 300); do
		[ -s /run/dmabuf_run.status ] && break
		sleep 0.2
	done
	expect "dmabuf-pin exit status in the transient service" "$(cat /run/dmabuf_run.status 2>/dev/null)" 3 || return 1
	expect_prop $unit DMABufPinnedMax "udmabuf $M4" || return 1
	expect_file "$cg" dmabuf.pinned.max udmabuf $M4 || return 1
	expect_file "$cg" dmabuf.pinned.events.local udmabuf max=1 || return 1
	"$SYSTEMCTL" stop $unit
	# A bad pool is refused by the client, naming the problem.
	err=$("$SYSTEMD_RUN" --quiet -p "DMABufPinnedMax=/dev/sda 4M" /bin/true 2>&1) &&
		fail "systemd-run accepted the pool /dev/sda" && return 1
	[[ $err == *"Invalid dma-buf pool '/dev/sda'"* ]] || fail "systemd-run's error: $err"
}

# A template names its instance's pool: DMABufPinnedMax=%i 4M in
# dmabuf_tpl@udmabuf.service is a limit on udmabuf, and the second 4M MR of
# that instance is refused.
t_template() {
	local unit=dmabuf_tpl@udmabuf.service
	write_slice
	cat > "$UNITS/dmabuf_tpl@.service" <<EOF
[Service]
Type=oneshot
Slice=$SLICE
ExecStart=$PIN -s udmabuf -z 4M -n 2
DMABufPinnedMax=%i 4M
EOF
	reload || return 1
	expect_prop $unit DMABufPinnedMax "udmabuf $M4" || return 1
	start_pin dmabuf_tpl@udmabuf
	expect "dmabuf-pin in $unit (%i = udmabuf, 4M; 2: EAGAIN on the second 4M MR)" "$status" 3 || return 1
	# The instance's cgroup is gone with it: the slice counts the refusal
	# of its descendant, and has no limit of its own.
	expect_file "$SLICE_CG" dmabuf.pinned.events udmabuf max=1 || return 1
	expect_file "$SLICE_CG" dmabuf.pinned.events.local udmabuf max=0
}

# Bad values: warned about with the unit file and line, ignored; the unit
# still loads and the good line of the same unit still counts.
t_bad_values() {
	local log
	cat > "$UNITS/dmabuf_bad.service" <<EOF
[Service]
Type=oneshot
ExecStart=/bin/true
DMABufPinnedMax=udmabuf 8X
DMABufPinnedMax=/dev/sda 1M
DMABufPinnedMax=udmabuf
DMABufPinnedMax=dma_heap/system 2M
EOF
	reload || return 1
	expect_prop dmabuf_bad.service LoadState loaded || return 1
	expect_prop dmabuf_bad.service DMABufPinnedMax "dma_heap/system 2097152" || return 1
	for _ in $(seq 1 50); do
		log=$("$JOURNALCTL" -b -q --no-pager -o cat 2>/dev/null | grep dmabuf_bad.service)
		[[ $log == *":6: "* ]] && break
		sleep 0.2
	done
	[[ $log == *"dmabuf_bad.service:4: Invalid DMABufPinnedMax= size '8X'"* ]] ||
		fail "no warning for line 4 in the journal:" "$log" || return 1
	[[ $log == *"dmabuf_bad.service:5: Invalid dma-buf pool '/dev/sda'"* ]] ||
		fail "no warning for line 5 in the journal:" "$log" || return 1
	[[ $log == *"dmabuf_bad.service:6: Invalid DMABufPinnedMax= setting 'udmabuf'"* ]] ||
		fail "no warning for line 6 in the journal:" "$log"
}

# With DefaultDMABufAccounting=no (system.conf, re-read by daemon-reload; not
# daemon-reexec, which would exec the distribution's /lib/systemd/systemd), systemd
# enables the controller only where a unit needs it, and removes it again
# when no unit does.
t_default_off() {
	default_off || return 1
	expect_prop "" DefaultDMABufAccounting no || return 1
	expect_prop init.scope DMABufAccounting no || return 1
	kick || return 1
	settles "$CGROOT/cgroup.subtree_control" no ||
		fail "dmabuf still enabled in the root although no unit needs it; units that want it:" \
			"$(wanting_dmabuf)"
}

t_enable_remove() {
	default_off || return 1
	write_slice "udmabuf 8M" yes
	pin_service dmabuf_pin3 -s udmabuf -z 4M -n 3
	reload || return 1
	start_pin dmabuf_pin3
	expect "dmabuf-pin in $SLICE (udmabuf 8M, DMABufAccounting=yes)" "$status" 3 || return 1
	has_controller "$CGROOT/cgroup.subtree_control" ||
		fail "dmabuf not enabled in the root for $SLICE" || return 1
	! has_controller "$CGROOT/system.slice/cgroup.subtree_control" ||
		fail "dmabuf enabled in system.slice, where no unit needs it" || return 1
	"$SYSTEMCTL" stop $SLICE
	rm -f "$UNITS/$SLICE" "$UNITS/dmabuf_pin3.service"
	reload || return 1
	settles "$CGROOT/cgroup.subtree_control" no ||
		fail "dmabuf still enabled in the root after $SLICE went"
}

# Delegate=dmabuf hands the controller to the service: systemd enables it on
# the ancestors (with the default off, nothing else does).
t_delegate() {
	default_off || return 1
	cat > "$UNITS/dmabuf_deleg.service" <<EOF
[Service]
Delegate=dmabuf
ExecStart=/bin/sleep 600
EOF
	reload || return 1
	"$SYSTEMCTL" start dmabuf_deleg.service || return 1
	expect_prop dmabuf_deleg.service DelegateControllers dmabuf || return 1
	has_controller "$CGROOT/system.slice/dmabuf_deleg.service/cgroup.controllers" ||
		fail "dmabuf not in the delegated cgroup's cgroup.controllers:" \
			"$(cat "$CGROOT/system.slice/dmabuf_deleg.service/cgroup.controllers")" || return 1
	"$SYSTEMCTL" stop dmabuf_deleg.service
}

t_default_on() {
	rm -f /etc/systemd/system.conf.d/50-dmabuf-test.conf
	reload || return 1
	expect_prop "" DefaultDMABufAccounting yes || return 1
	kick || return 1
	settles "$CGROOT/cgroup.subtree_control" yes ||
		fail "dmabuf not enabled in the root after DefaultDMABufAccounting=yes came back"
}

# systemd's own unit tests of the series that need a booted systemd and a
# writable cgroup tree: the controller masks (test-cgroup-mask) and the
# cgroup helpers (test-cgroup-util). The others run on the host.
t_unit_tests() {
	local t bin rc=0
	for t in test-cgroup-mask test-cgroup-util; do
		bin=${VM_SYSTEMD%/*}/$t
		[ -x "$bin" ] || { fail "$bin not built (make systemd)"; rc=1; continue; }
		SYSTEMD_LOG_LEVEL=info "$bin" > /tmp/$t.log 2>&1 ||
			{ tail -n 20 /tmp/$t.log >&2; fail "$t failed"; rc=1; continue; }
		# Skipped tests exit 77 (a failure for us: they must run here).
		grep -q "skipped" /tmp/$t.log && { grep skipped /tmp/$t.log >&2; fail "$t skipped tests"; rc=1; }
	done
	return $rc
}

# dmabufctl (tools/dmabufctl) under systemd: a unit's cgroup is systemd's.
CTL=${DMABUFCTL:-$top/build/bin/dmabufctl}
[ -x "$CTL" ] || CTL=$top/build/dmabufctl/dmabufctl

# ctl EXPECTED_STATUS ARGS...: dmabufctl's stdout in $out, stderr in $cerr.
ctl() {
	local want=$1 f
	shift
	f=$(mktemp)
	out=$("$CTL" "$@" 2> "$f")
	status=$?
	cerr=$(cat "$f")
	rm -f "$f"
	[ "$status" = "$want" ] && return 0
	fail "dmabufctl $*: status $status, want $want; stdout: $out; stderr: $cerr"
}

# `set` on a running service's cgroup is refused (status 3) and names the
# systemctl set-property that does it; nothing is written. enable --subtree
# (its children are systemd's) likewise; set-property itself works.
t_dmabufctl_owned() {
	local cg=$CGROOT/system.slice/dmabuf_ctl.service
	[ -x "$CTL" ] || { fail "no $CTL (make -C tools/dmabufctl)"; return 1; }
	printf '[Service]\nExecStart=/bin/sleep 600\n' > "$UNITS/dmabuf_ctl.service"
	reload || return 1
	"$SYSTEMCTL" start dmabuf_ctl.service || fail "cannot start dmabuf_ctl.service" || return 1
	expect_file "$cg" dmabuf.pinned.max udmabuf max || return 1
	ctl 3 set system.slice/dmabuf_ctl.service udmabuf 4M || return 1
	[[ $cerr == *'systemctl set-property dmabuf_ctl.service "DMABufPinnedMax=udmabuf 4194304"'* ]] ||
		fail "the fix is not named: $cerr" || return 1
	expect_file "$cg" dmabuf.pinned.max udmabuf max || return 1
	ctl 3 -j set "$cg" udmabuf=4M || return 1
	python3 -c 'import json, sys; d = json.loads(sys.argv[1]); sys.exit(d["error"]["status"] != 3)' "$out" ||
		fail "JSON error: $out" || return 1
	ctl 3 enable system.slice/dmabuf_ctl.service --subtree || return 1
	has_controller "$cg/cgroup.subtree_control" && fail "dmabuf enabled in $cg/cgroup.subtree_control" && return 1
	# the slice, and -.slice's own root
	ctl 3 set system.slice udmabuf 1G || return 1
	[[ $cerr == *"systemctl set-property system.slice"* ]] || fail "slice: $cerr" || return 1
	# what it names works, and is not undone
	"$SYSTEMCTL" set-property --runtime dmabuf_ctl.service "DMABufPinnedMax=udmabuf 4194304" ||
		fail "set-property failed" || return 1
	expect_file "$cg" dmabuf.pinned.max udmabuf $M4 || return 1
	# --systemd no: the old behaviour, for those who know what they do
	ctl 0 --systemd no set system.slice/dmabuf_ctl.service udmabuf 8M || return 1
	expect_file "$cg" dmabuf.pinned.max udmabuf $M8 || return 1
	"$SYSTEMCTL" stop dmabuf_ctl.service
}

# `run` without --parent: COMMAND in a transient scope (delegated), our
# cgroup inside it with the limit; the caller does not move; exit statuses.
no_run_scopes() { [ -z "$(find "$CGROOT/system.slice" -maxdepth 2 -name 'dmabufctl-run.*')" ]; }

t_dmabufctl_run() {
	local before after cg
	[ -x "$CTL" ] || { fail "no $CTL (make -C tools/dmabufctl)"; return 1; }
	before=$(cat /proc/self/cgroup)
	ctl 0 run -l udmabuf=4M -- sh -c 'cg=$(sed -n "s/^0:://p" /proc/self/cgroup); echo "$cg"; cat /sys/fs/cgroup$cg/dmabuf.pinned.max' || return 1
	cg=$(echo "$out" | head -n 1)
	[[ $cg =~ ^/system\.slice/run-[^/]+\.scope/dmabufctl-run\.[0-9]+$ ]] ||
		fail "COMMAND's cgroup is $cg, not SCOPE/dmabufctl-run.PID in a transient scope" || return 1
	echo "$out" | grep -qx "udmabuf $M4" || fail "the limit in $cg: $out" || return 1
	after=$(cat /proc/self/cgroup)
	expect "the caller's cgroup" "$after" "$before" || return 1
	[ -e "$CGROOT$(sed -n 's/^0:://p' /proc/self/cgroup)/leaf" ] &&
		fail "run made a leaf in the caller's cgroup" && return 1
	# the limit holds: a second 4M MR is refused (dmabuf-pin exits 3)
	ctl 3 run -l udmabuf=4M -- "$PIN" -s udmabuf -z 4M -n 2 || return 1
	[[ $cerr == *"pool udmabuf: 1 pin refused"* ]] || fail "no refusal reported: $cerr" || return 1
	# statuses: COMMAND's (2 is its), 127, 126, 128+N; 125 is dmabufctl's
	ctl 2 run -- sh -c 'exit 2' || return 1
	ctl 127 run -- /nonexistent/cmd || return 1
	ctl 126 run -- /etc/passwd || return 1
	ctl $((128 + 9)) run -- sh -c 'kill -KILL $$' || return 1
	ctl 125 run -l nosuch=1M -- true || return 1
	ctl 125 run --parent system.slice -- true || return 1
	[[ $cerr == *"systemd-run --scope -p Delegate=yes"* ]] || fail "the fix is not named: $cerr" || return 1
	# the scopes are gone (--collect): systemd removes them as it gets to it
	until_true 10 no_run_scopes ||
		fail "left behind: $(find "$CGROOT/system.slice" -maxdepth 2 -name 'dmabufctl-run.*')"
}

cleanup_test_units() { cleanup_units; cleanup_test; }

if [ -z "${VM_SYSTEMD:-}" ] || [ ! -d /run/systemd/system ]; then
	skip "systemd series" "not running under systemd as PID 1 (tests/vm/run --systemd)"
	tap_done
	exit
fi
if ! setup_rxe; then
	not_ok "soft-RoCE device rxe0" "rdma link add failed"
	tap_done
	exit
fi

# SYSTEMD_TESTS: some of them only (names without t_).
for t in ${SYSTEMD_TESTS:-unit_tests defaults slice_limit show_status set_property percent systemd_run \
	template bad_values default_off limit_only enable_remove delegate default_on dmabufctl_owned dmabufctl_run}; do
	run_test "systemd: $t" "t_$t"
	cleanup_units
done
tap_done
