#!/usr/bin/env bash
# The stock-systemd recipe of Documentation/systemd-stock.md, under Debian's
# systemd 252 as PID 1 (tests/vm/run --systemd): a Delegate=yes service whose
# ExecStart is `dmabufctl run`, which limits the job in a child cgroup of the
# service's own. The unit file and the User= drop-in are read from the
# document, so that what it shows is what runs here. TAP on stdout.
set -u
. "$(dirname "$0")/lib.sh"

DOC=$top/Documentation/systemd-stock.md
SYSTEMCTL=${SYSTEMCTL:-systemctl}
JOURNALCTL=${JOURNALCTL:-journalctl}
UNIT=rdma-job.service
UNITDIR=/etc/systemd/system
DROPINS=$UNITDIR/$UNIT.d
SLICE=$CGROOT/system.slice
SVC=$SLICE/$UNIT
FIFO=/run/rdma-job.hold
NOBODY=65534
M8=8388608

# doc_block PATH: the code block after the line
# "<!-- test_systemd_stock.sh: PATH -->" of the document.
doc_block() {
	awk -v m="<!-- test_systemd_stock.sh: $1 -->" '
		$0 == m { found = 1; next }
		found == 1 && /^```/ { found = 2; next }
		found == 2 && /^```/ { exit }
		found == 2 { print }' "$DOC"
}

prop() { "$SYSTEMCTL" show -p "$1" --value "${2:-$UNIT}"; }

# expect_prop PROPERTY WANT [UNIT]
expect_prop() { expect "${3:-$UNIT} $1" "$(prop "$1" "${3:-$UNIT}")" "$2"; }

enabled_in() { grep -qw dmabuf "$1/cgroup.subtree_control"; }
is_inactive() { case $(prop ActiveState) in inactive|failed) return 0 ;; esac; return 1; }

# As after boot: dmabuf enabled nowhere below the root, so that the recipe
# has to enable it itself.
reset_ancestors() {
	local cg
	for cg in "$SLICE" "$CGROOT"; do
		if enabled_in "$cg"; then
			echo -dmabuf > "$cg/cgroup.subtree_control" ||
				fail "cannot disable dmabuf in $cg (children: $(cat "$cg"/*/cgroup.subtree_control | sort -u | tr '\n' ' '))" ||
				return 1
		fi
	done
}

ancestors_enabled() {
	enabled_in "$CGROOT" || fail "dmabuf gone from the root's cgroup.subtree_control: $(cat "$CGROOT/cgroup.subtree_control")" || return 1
	enabled_in "$SLICE" || fail "dmabuf gone from system.slice's cgroup.subtree_control: $(cat "$SLICE/cgroup.subtree_control")"
}

# has_journal ID TEXT: a run of the unit (its invocation ID) logged TEXT;
# its own messages and systemd's about it. journald may lag.
journal() { "$JOURNALCTL" -o cat _SYSTEMD_INVOCATION_ID="$1" + INVOCATION_ID="$1"; }
journal_has() { journal "$1" | grep -qF -- "$2"; }
has_journal() {
	until_true 10 journal_has "$1" "$2" || fail "no '$2' in the journal of $UNIT: $(journal "$1")"
}

# The service stopped: its cgroups are gone and nothing is pinned any more.
cleaned_up() {
	until_true 10 test ! -e "$SVC" || fail "$SVC still there: $(find "$SVC" -type d)" || return 1
	expect_file "$CGROOT" dmabuf.pinned.current udmabuf 0
}

# The job's cgroup: dmabufctl run's child of the service's cgroup.
job_cg() { echo "$SVC/dmabufctl-run.$(prop MainPID)"; }

# Start the job with the test's drop-in hold.conf: it holds 2 MRs, up to the
# limit, until the fifo is closed (EOF) or it gets SIGTERM.
hold_fd=''
held_id=
holding() { [ "$(get "$(job_cg)" dmabuf.pinned.current udmabuf 2>/dev/null)" = $M8 ]; }
start_held() {
	rm -f "$FIFO"
	mkfifo -m 0600 "$FIFO" || return 1
	exec {hold_fd}<>"$FIFO"
	"$SYSTEMCTL" start $UNIT || fail "systemctl start $UNIT failed" || return 1
	held_id=$(prop InvocationID)
	until_true 60 holding ||
		fail "the job did not get to hold 8 MiB: $("$SYSTEMCTL" status $UNIT 2>&1)"
}
end_hold() {
	[ -n "$hold_fd" ] && exec {hold_fd}>&-
	hold_fd=
}

# The limit is in place and holds: another 4 MiB pin in the job's cgroup is
# refused.
limit_holds() {
	local job
	job=$(job_cg)
	expect_prop ActiveState active &&
	expect_file "$job" dmabuf.pinned.max udmabuf $M8 &&
	expect_file "$job" dmabuf.pinned.current udmabuf $M8 || return 1
	pin "$job" -s udmabuf -z 4M -n 1
	expect "status of one more 4 MiB pin in $job" "$status" 3 || { echo "$out" >&2; return 1; }
	ancestors_enabled
}

t_unit() {
	local names
	mkdir -p "$DROPINS" || return 1
	doc_block "$UNITDIR/$UNIT" > "$UNITDIR/$UNIT"
	grep -q '^ExecStart=.*dmabufctl run' "$UNITDIR/$UNIT" ||
		fail "no unit $UNITDIR/$UNIT in $DOC: $(cat "$UNITDIR/$UNIT")" || return 1
	# For t_other_unit: a service with resource limits in the same slice.
	cat > "$UNITDIR/rdma-other.service" <<-EOF
	[Service]
	ExecStart=/bin/sleep 600
	MemoryMax=64M
	TasksMax=32
	CPUWeight=50
	IOWeight=50
	EOF
	"$SYSTEMCTL" daemon-reload || return 1
	expect_prop LoadState loaded && expect_prop Delegate yes || return 1
	# Stock systemd knows nothing of the controller.
	names=$("$SYSTEMCTL" show $UNIT | cut -d= -f1 | grep -i dmabuf)
	[ -z "$names" ] || fail "systemctl show has dmabuf properties: $names" || return 1
	[[ " $(prop DelegateControllers) " != *" dmabuf "* ]] ||
		fail "DelegateControllers has dmabuf: $(prop DelegateControllers)"
}

journal_line() { "$JOURNALCTL" -u rdma-job -o cat | grep -qxF -- "$1"; }

# The commands of the document, with its output. The unit's first run in
# this boot, so all of its journal is this run's.
t_refused() {
	local st line
	reset_ancestors || return 1
	"$SYSTEMCTL" start --wait rdma-job
	st=$?
	expect "status of systemctl start --wait" $st 1 &&
	expect "systemctl show" "$("$SYSTEMCTL" show rdma-job -p Result -p ExecMainStatus)" \
		"Result=exit-code"$'\n'"ExecMainStatus=3" || return 1
	for line in "mr 2: registered 4194304 bytes of udmabuf (dma-buf 2)" \
		"mr 3: refused: EAGAIN (Resource temporarily unavailable)" \
		"dmabufctl: pool udmabuf: 1 pin refused (limit 8MiB, peak 8MiB)" \
		"rdma-job.service: Main process exited, code=exited, status=3/NOTIMPLEMENTED"; do
		until_true 10 journal_line "$line" ||
			fail "no line '$line' in: $("$JOURNALCTL" -u rdma-job -o cat)" || return 1
	done
	cleaned_up && ancestors_enabled
}

t_held() {
	local main job cg
	cat > "$DROPINS/hold.conf" <<-EOF
	[Service]
	StandardInput=file:$FIFO
	StandardOutput=journal
	ExecStart=
	ExecStart=/usr/local/bin/dmabufctl run -l udmabuf=8M -- /usr/local/bin/dmabuf-pin -s udmabuf -z 4M -n 2 --hold
	EOF
	"$SYSTEMCTL" daemon-reload || return 1
	reset_ancestors && start_held || return 1
	main=$(prop MainPID)
	job=$(job_cg)
	expect_prop ControlGroup /system.slice/$UNIT || return 1
	# dmabufctl moved itself into "leaf", the job runs in its own cgroup.
	expect "processes in the service's cgroup" "$(cat "$SVC/cgroup.procs")" "" &&
	expect "processes in leaf" "$(cat "$SVC/leaf/cgroup.procs")" "$main" &&
	expect "processes of $job" "$(wc -l < "$job/cgroup.procs")" 1 &&
	expect_file "$job" dmabuf.pinned.max udmabuf $M8 &&
	expect_file "$job" dmabuf.pinned.stat udmabuf "pins=2 refused=0 registered=1" || return 1
	# The service's own cgroup: systemd's, no limit written there.
	expect "limits of $SVC" "$(grep -v ' max$' "$SVC/dmabuf.pinned.max")" "" &&
	expect_file "$SVC" dmabuf.pinned.current udmabuf $M8 || return 1
	enabled_in "$SVC" || fail "dmabuf not enabled in $SVC/cgroup.subtree_control" || return 1
	for cg in "$SVC/leaf" "$job"; do
		expect "cgroup.subtree_control of $cg" "$(cat "$cg/cgroup.subtree_control")" "" || return 1
	done
	limit_holds
}

t_reload() {
	"$SYSTEMCTL" daemon-reload || return 1
	limit_holds
}

t_other_unit() {
	"$SYSTEMCTL" start rdma-other.service || return 1
	expect_prop ControlGroup /system.slice/rdma-other.service rdma-other.service &&
	limit_holds || return 1
	"$SYSTEMCTL" stop rdma-other.service || return 1
	limit_holds
}

t_release() {
	end_hold
	until_true 30 is_inactive || fail "$UNIT still $(prop ActiveState)" || return 1
	# An inactive unit is unloaded: its state is in the journal only.
	has_journal "$held_id" "holding 2 MRs" &&
	has_journal "$held_id" "$UNIT: Deactivated successfully." || return 1
	cleaned_up && ancestors_enabled
}

t_user() {
	local modes job st
	# Whatever an earlier failure left running.
	end_hold
	"$SYSTEMCTL" stop $UNIT
	doc_block "$DROPINS/user.conf" > "$DROPINS/user.conf"
	grep -q '^User=' "$DROPINS/user.conf" ||
		fail "no drop-in $DROPINS/user.conf in $DOC: $(cat "$DROPINS/user.conf")" || return 1
	"$SYSTEMCTL" daemon-reload || return 1
	# The VM has no udev to grant the devices.
	modes=$(stat -c '%a %n' /dev/udmabuf /dev/infiniband/*)
	chmod 0666 /dev/udmabuf /dev/infiniband/* || return 1
	reset_ancestors && start_held
	st=$?
	if [ $st = 0 ]; then
		job=$(job_cg)
		expect "owner of $SVC" "$(stat -c %u "$SVC")" $NOBODY &&
		expect "owner of $job" "$(stat -c %u "$job")" $NOBODY &&
		expect "owner of system.slice" "$(stat -c %u "$SLICE")" 0 &&
		limit_holds
		st=$?
	fi
	# systemctl stop: SIGTERM to all of the service's processes.
	"$SYSTEMCTL" stop $UNIT
	end_hold
	while read -r m f; do chmod "$m" "$f"; done <<< "$modes"
	[ $st = 0 ] || return 1
	has_journal "$held_id" "$UNIT: Deactivated successfully." && cleaned_up
}

# Limits across a reboot: dmabufctl-limits@.service (tools/dmabufctl/units)
# and its helper, installed where the Debian package puts them, and the
# document's limits.d file for rdma-jobs.slice.
PSLICE=rdma-jobs.slice
PCG=$CGROOT/rdma.slice/rdma-jobs.slice
PINST=dmabufctl-limits@$PSLICE.service
PUNIT=rdma-persist.service

# A service in the slice registering three 4 MiB MRs; its exit status.
persist_pin() {
	"$SYSTEMCTL" start --wait $PUNIT
	prop ExecMainStatus $PUNIT
}

t_persist() {
	local st
	install -D -m 0755 "$top/tools/dmabufctl/dmabufctl-limits" /usr/libexec/dmabufctl/dmabufctl-limits &&
	install -D -m 0755 "$top/build/bin/dmabufctl" /usr/sbin/dmabufctl &&
	install -D -m 0644 "$top/tools/dmabufctl/units/dmabufctl-limits@.service" \
		/lib/systemd/system/dmabufctl-limits@.service &&
	mkdir -p /etc/dmabufctl/limits.d || return 1
	doc_block /etc/dmabufctl/limits.d/$PSLICE.conf > /etc/dmabufctl/limits.d/$PSLICE.conf
	grep -qx 'udmabuf 8M' /etc/dmabufctl/limits.d/$PSLICE.conf ||
		fail "no limits.d file in the document" || return 1
	printf '[Service]\nType=oneshot\nSlice=%s\nExecStart=%s -s udmabuf -z 4M -n 3\n' "$PSLICE" "$PIN" \
		> "$UNITDIR/$PUNIT"
	reset_ancestors || return 1
	"$SYSTEMCTL" enable $PINST 2>&1 | grep -q "$PSLICE.wants/$PINST" ||
		fail "systemctl enable $PINST did not link it into $PSLICE.wants" || return 1
	"$SYSTEMCTL" daemon-reload || return 1

	st=$(persist_pin)
	expect "status of the third 4 MiB pin in $PSLICE" "$st" 3 || return 1
	expect_prop ActiveState active $PINST || return 1
	expect_file "$PCG" dmabuf.pinned.max udmabuf $M8 || return 1
	expect_file "$PCG" dmabuf.pinned.max dma_heap/system 1073741824 || return 1
	enabled_in "$PCG" || fail "dmabuf not in $PSLICE's cgroup.subtree_control" || return 1

	# systemd re-executes itself (as after a package upgrade): nothing undone.
	"$SYSTEMCTL" daemon-reexec || return 1
	expect_file "$PCG" dmabuf.pinned.max udmabuf $M8 || return 1
	enabled_in "$CGROOT" || fail "dmabuf gone from the root after daemon-reexec" || return 1

	# As after a reboot: the slices stopped (cgroups removed), dmabuf
	# enabled nowhere; the next start of a unit in the slice applies the
	# limits before the unit runs.
	"$SYSTEMCTL" stop $PSLICE rdma.slice || return 1
	until_true 10 test ! -e "$CGROOT/rdma.slice" || fail "rdma.slice's cgroup still there" || return 1
	reset_ancestors || return 1
	expect_prop ActiveState inactive $PINST || return 1
	st=$(persist_pin)
	expect "status of the third 4 MiB pin after the slice came back" "$st" 3 || return 1
	expect_file "$PCG" dmabuf.pinned.max udmabuf $M8 || return 1

	# A bad line: the instance fails, naming the file and line, and writes
	# nothing.
	"$SYSTEMCTL" stop $PSLICE rdma.slice || return 1
	printf 'udmabuf 8M\ndma_heap/system\n' > /etc/dmabufctl/limits.d/$PSLICE.conf
	"$SYSTEMCTL" start $PSLICE
	expect_prop ActiveState failed $PINST || return 1
	"$JOURNALCTL" -u $PINST -o cat | grep -qF "$PSLICE.conf:2: 'dma_heap/system': want 'POOL SIZE'" ||
		fail "no error naming the line in the journal: $("$JOURNALCTL" -u $PINST -o cat | tail -n 5)" || return 1
	# The slice started without the instance: a new cgroup, no limit.
	[ ! -e "$PCG/dmabuf.pinned.max" ] || expect_file "$PCG" dmabuf.pinned.max udmabuf max
}

if [ -z "${VM_SYSTEMD:-}" ] || [ "$(cat /proc/1/comm)" != systemd ]; then
	echo "Bail out! not under systemd as PID 1 in the test VM (tests/vm/run --systemd)"
	exit 1
fi
setup_rxe || { echo "Bail out! no rxe device"; exit 1; }
# make install, in the VM's overlay root: the paths of the document.
install -m 0755 "$top/build/bin/dmabufctl" "$PIN" /usr/local/bin/ ||
	{ echo "Bail out! cannot install dmabufctl and dmabuf-pin (make dmabufctl test-bins)"; exit 1; }

echo "# $("$SYSTEMCTL" --version | head -n 1), PID 1: $VM_SYSTEMD"
run_test "the unit of the document loads; systemd shows no dmabuf property" t_unit
run_test "the recipe: third 4 MiB pin refused, job status 3, cgroups removed" t_refused
run_test "held: the limit in the job's cgroup, none in the service's" t_held
run_test "daemon-reload: dmabuf stays enabled, the limit stays and holds" t_reload
run_test "another unit started in system.slice: the limit stays and holds" t_other_unit
run_test "released: the job exits 0, its cgroups are removed" t_release
run_test "User= drop-in: the job as nobody, stopped by systemctl stop" t_user
run_test "dmabufctl-limits@: a slice's limits applied before its units, across daemon-reexec and a restart" t_persist
end_hold
tap_done
