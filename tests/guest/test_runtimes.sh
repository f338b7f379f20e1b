#!/usr/bin/env bash
# Container runtimes and libcgroup with the dmabuf controller, in the VM:
# crun 1.8.1, runc 1.1.5 and podman 4.3 put dmabuf.pinned.max from a
# container's spec into its cgroup, a pin beyond it is refused with EAGAIN,
# `crun update` / `runc update` change it while the container runs, and
# everything goes when the container does; libcgroup 2.0.2's tools and
# cgconfigparser set the same file. TAP on stdout.
#
#   tests/guest/test_runtimes.sh [--only GROUP[,GROUP]...]
#
# Groups: libcgroup crun runc podman podman-runc podman-systemd (default: all).
# podman-systemd needs systemd as PID 1 and is skipped without it.
#
# The commands that Documentation/{runtimes,libcgroup}.md show are run here
# through `doc`, which fails the test when the page no longer has the
# command, so the pages' examples are the ones tested.
set -u
# shellcheck disable=SC2016 # the pages' commands are run with eval, $PWD there
. "$(dirname "$0")/lib.sh"

only=
while [ $# -gt 0 ]; do
	case $1 in
	--only) only=,$2,; shift 2 ;;
	--only=*) only=,${1#--only=},; shift ;;
	*) echo "usage: $0 [--only GROUP[,GROUP]...]" >&2; exit 1 ;;
	esac
done
want() { [ -z "$only" ] || [[ $only == *",$1,"* ]]; }

CTL=$top/build/bin/dmabufctl
# The pages call the installed tool.
dmabufctl() { "$CTL" "$@"; }
M4=4194304
M8=8388608
JOB=/tmp/job				# the OCI bundle of the pages
CG=$CGROOT/containers/job		# its linux.cgroupsPath
PM=/tmp/dmabuf-podman			# podman's storage and config in the VM
doc_out=/tmp/dmabuf-doc.out

# doc_cmds PAGE: the commands of PAGE's ```console blocks (indented or not),
# one a line: the lines after a "# " prompt, with " \" continuation lines
# joined.
doc_cmds() {
	awk '
	/^[ \t]*```/ { inb = ($0 ~ /^[ \t]*```console/); cont = 0; next }
	!inb { next }
	{ s = $0; sub(/^[ \t]+/, "", s) }
	cont { cmd = cmd " " s }
	!cont && s ~ /^# / { cmd = substr(s, 3) }
	!cont && s !~ /^# / { next }
	{ if (cmd ~ / \\$/) { sub(/ \\$/, "", cmd); cont = 1 } else { print cmd; cont = 0 } }
	' "$top/Documentation/$1"
}

# doc PAGE COMMAND: COMMAND must be one of PAGE's commands; run it (eval)
# with its output in $out and its status in $status. (Few execs: each
# costs a good part of a second in the VM.)
declare -A doc_cache
doc() {
	local page=$1 cmd=$2 nl=$'\n'
	[ -n "${doc_cache[$page]:-}" ] || doc_cache[$page]=$nl$(doc_cmds "$page")$nl
	if [[ ${doc_cache[$page]} != *"$nl$cmd$nl"* ]]; then
		fail "Documentation/$page does not show the command: $cmd"
		return 1
	fi
	eval "$cmd" > "$doc_out" 2>&1 < /dev/null
	status=$?
	out=$(< "$doc_out")
	return 0
}

# doc_ok PAGE COMMAND: doc, and the command succeeds.
doc_ok() {
	doc "$@" || return 1
	[ "$status" = 0 ] || fail "$2: status $status: $out"
}

# doc_has PAGE TEXT: PAGE has TEXT verbatim (a file it shows, for example).
doc_has() {
	local text
	text=$(< "$top/Documentation/$1")
	[[ $text == *"$2"* ]] || fail "Documentation/$1 does not show, verbatim: $2"
}

# expect_refused WHAT: $status and $out are those of dmabuf-pin refusing
# its last MR (number N) with EAGAIN.
expect_refused() {	# expect_refused WHAT N
	expect "$1: exit status" "$status" 3 || { echo "$out" >&2; return 1; }
	has_line "mr $2: refused: EAGAIN (Resource temporarily unavailable)" ||
		fail "$1: mr $2 not refused with EAGAIN: $out"
}

# has_line LINE: $out has LINE (without an exec of grep).
has_line() { [[ $'\n'$out$'\n' == *$'\n'"$1"$'\n'* ]]; }

note() {	# note TEXT: a TAP comment, every line of it
	local l
	while IFS= read -r l; do echo "# $l"; done <<< "$*"
}

# ---- libcgroup ----

# Whether the root cgroup had dmabuf enabled for its children when a test
# started; the tests disable it first where they can (nothing below uses it
# between tests) to see what libcgroup does on its own.
root_off() {
	echo "-dmabuf" > "$CGROOT/cgroup.subtree_control" 2>/dev/null &&
		! grep -qw dmabuf "$CGROOT/cgroup.subtree_control"
}

t_lcg_tools() {
	local off=0
	root_off && off=1
	test_cgroups=("$CGROOT/job")
	doc_ok libcgroup.md 'cgcreate -g dmabuf:job' || return 1
	[ -f "$CGROOT/job/dmabuf.pinned.max" ] || fail "cgcreate: no dmabuf files in job" || return 1
	if [ $off = 1 ]; then
		grep -qw dmabuf "$CGROOT/cgroup.subtree_control" ||
			fail "cgcreate did not enable dmabuf in the root's cgroup.subtree_control" || return 1
	fi
	doc_ok libcgroup.md 'cgset -r dmabuf.pinned.max="udmabuf 8M" job' || return 1
	expect_file "$CGROOT/job" dmabuf.pinned.max udmabuf $M8 || return 1
	doc_ok libcgroup.md 'cgget -r dmabuf.pinned.max job' || return 1
	echo "$out" | grep -qP '^\tudmabuf 8388608$|^dmabuf.pinned.max: udmabuf 8388608$' ||
		fail "cgget -r dmabuf.pinned.max: $out" || return 1
	doc libcgroup.md 'cgexec -g dmabuf:job build/bin/dmabuf-pin -s udmabuf -z 4M -n 3' || return 1
	expect_refused "cgexec dmabuf-pin -n 3 in job" 3 || return 1
	expect_file "$CGROOT/job" dmabuf.pinned.events udmabuf max=1 || return 1
	hold h "$CGROOT/job" -s udmabuf -z 4M -n 2 || return 1
	doc_ok libcgroup.md 'cgget -r dmabuf.pinned.current job' || return 1
	echo "$out" | grep -qP '^\tudmabuf 8388608$|^dmabuf.pinned.current: udmabuf 8388608$' ||
		fail "cgget -r dmabuf.pinned.current with 8M held: $out" || return 1
	release h
	doc_ok libcgroup.md 'cgdelete -g dmabuf:job' || return 1
	[ ! -d "$CGROOT/job" ] || fail "cgdelete left $CGROOT/job"
}

# What the kernel refuses, cgset reports with the kernel's errno.
t_lcg_errors() {
	test_cgroups=("$CGROOT/job")
	cgcreate -g dmabuf:job || return 1
	cgset -r dmabuf.pinned.max="udmabuf 8M" job || return 1
	out=$(cgset -r dmabuf.pinned.max="udmabuf 8X" job 2>&1) && fail "cgset of 'udmabuf 8X' succeeded" && return 1
	echo "$out" | grep -q 'Invalid argument' || fail "cgset 'udmabuf 8X': $out" || return 1
	note "cgset -r dmabuf.pinned.max=\"udmabuf 8X\" job: $out"
	out=$(cgset -r dmabuf.pinned.max="nosuch 8M" job 2>&1) && fail "cgset of an unknown pool succeeded" && return 1
	echo "$out" | grep -q 'No such device' || fail "cgset 'nosuch 8M': $out" || return 1
	note "cgset -r dmabuf.pinned.max=\"nosuch 8M\" job: $out"
	expect_file "$CGROOT/job" dmabuf.pinned.max udmabuf $M8 || return 1
	# Two pools in one write: both or neither.
	doc_ok libcgroup.md "cgset -r dmabuf.pinned.max=\$'udmabuf 4M\\ndma_heap/system 1G' job" || return 1
	expect_file "$CGROOT/job" dmabuf.pinned.max udmabuf $M4 &&
	expect_file "$CGROOT/job" dmabuf.pinned.max dma_heap/system 1073741824 || return 1
	cgdelete -g dmabuf:job
}

# libcgroup 2.0.2 enables the controller in the new group's parent only:
# a group two levels below a root without dmabuf fails with ENOENT, with
# cgcreate and with cgconfigparser, and the parent it made stays. Creating
# the levels in order works.
t_lcg_nested() {
	if ! root_off; then
		skip_reason="dmabuf is enabled below the root cgroup by another group"
		return 2
	fi
	test_cgroups=("$CGROOT/jobs/a" "$CGROOT/jobs")
	doc libcgroup.md 'cgcreate -g dmabuf:jobs/a' || return 1
	[ "$status" != 0 ] || fail "cgcreate -g dmabuf:jobs/a succeeded: libcgroup changed, update Documentation/libcgroup.md" || return 1
	echo "$out" | grep -q "can't create cgroup jobs/a: No such file or directory" ||
		fail "cgcreate -g dmabuf:jobs/a: $out" || return 1
	note "cgcreate -g dmabuf:jobs/a (dmabuf not enabled in the root): $out"
	[ -d "$CGROOT/jobs" ] && note "it left $CGROOT/jobs behind"
	cgdelete -r -g dmabuf:jobs 2>/dev/null
	rmdir "$CGROOT/jobs" 2>/dev/null
	# cgconfigparser, with a stanza for jobs/a alone: the same.
	root_off || fail "cannot disable dmabuf in the root again" || return 1
	printf 'group jobs/a {\n\tdmabuf {\n\t\tdmabuf.pinned.max = "udmabuf 8M";\n\t}\n}\n' > /tmp/jobs-a.conf
	out=$(cgconfigparser -l /tmp/jobs-a.conf 2>&1) &&
		fail "cgconfigparser of a lone jobs/a stanza succeeded: update Documentation/libcgroup.md" && return 1
	[[ $out == *"error loading /tmp/jobs-a.conf: No such file or directory"* ]] ||
		fail "cgconfigparser of a lone jobs/a stanza: $out" || return 1
	note "cgconfigparser -l /tmp/jobs-a.conf (group jobs/a alone): $out"
	[ -d "$CGROOT/jobs" ] && note "it left $CGROOT/jobs behind"
	cgdelete -r -g dmabuf:jobs 2>/dev/null
	rmdir "$CGROOT/jobs" 2>/dev/null
	rm -f /tmp/jobs-a.conf
	doc_ok libcgroup.md 'cgcreate -g dmabuf:jobs && cgcreate -g dmabuf:jobs/a' || return 1
	[ -f "$CGROOT/jobs/a/dmabuf.pinned.max" ] || fail "no dmabuf files in jobs/a" || return 1
	doc_ok libcgroup.md 'cgdelete -r -g dmabuf:jobs' || return 1
	[ ! -d "$CGROOT/jobs" ] || fail "cgdelete -r left $CGROOT/jobs"
}

# The cgconfig.conf stanza of the page, applied by cgconfigparser.
CGCONFIG='group job {
	dmabuf {
		dmabuf.pinned.max = "udmabuf 8M";
	}
}'
CGCONFIG_NESTED='group jobs {
	dmabuf {
	}
}
group jobs/a {
	dmabuf {
		dmabuf.pinned.max = "udmabuf 8M";
	}
}'

t_lcg_cgconfig() {
	root_off
	test_cgroups=("$CGROOT/job" "$CGROOT/jobs/a" "$CGROOT/jobs")
	doc_has libcgroup.md "$CGCONFIG" || return 1
	echo "$CGCONFIG" > /tmp/job.conf
	doc_ok libcgroup.md 'cgconfigparser -l /tmp/job.conf' || return 1
	expect_file "$CGROOT/job" dmabuf.pinned.max udmabuf $M8 || return 1
	pin "$CGROOT/job" -s udmabuf -z 4M -n 3
	expect_refused "dmabuf-pin -n 3 in the group of cgconfig.conf" 3 || return 1
	cgdelete -g dmabuf:job || return 1
	# A group below another: the parent's stanza first.
	root_off
	doc_has libcgroup.md "$CGCONFIG_NESTED" || return 1
	echo "$CGCONFIG_NESTED" > /tmp/jobs.conf
	doc_ok libcgroup.md 'cgconfigparser -l /tmp/jobs.conf' || return 1
	expect_file "$CGROOT/jobs/a" dmabuf.pinned.max udmabuf $M8 || return 1
	cgdelete -r -g dmabuf:jobs || return 1
	rm -f /tmp/job.conf /tmp/jobs.conf
	[ ! -d "$CGROOT/job" ] && [ ! -d "$CGROOT/jobs" ] || fail "cgdelete left a group"
}

# ---- OCI runtimes: crun and runc with the bundle of the page ----

# make_bundle RUNTIME: the bundle /tmp/job, as the page makes it.
make_bundle() {
	rm -rf "$JOB"
	doc_has runtimes.md "$(< "$top/Documentation/examples/oci-dmabuf.jq")" || return 1
	doc_ok runtimes.md "mkdir -p /run/hostroot && mount --bind / /run/hostroot" || return 1
	doc_ok runtimes.md "mkdir -p $JOB && $1 spec -b $JOB" || return 1
	doc_ok runtimes.md "jq -f Documentation/examples/oci-dmabuf.jq --rawfile udmabuf /sys/class/misc/udmabuf/dev --rawfile uverbs /sys/class/infiniband_verbs/uverbs0/dev $JOB/config.json > $JOB/config.new && mv $JOB/config.new $JOB/config.json" || return 1
	jq -e '.linux.resources.unified["dmabuf.pinned.max"] == "udmabuf 8388608"' "$JOB/config.json" > /dev/null ||
		fail "no unified limit in $JOB/config.json"
}

# ctr_pid RUNTIME: the container's init pid, from `RUNTIME state job`.
ctr_pid() { "$1" state job 2>/dev/null | jq -r .pid; }

# The limit of the spec is in the container's cgroup, the one its process
# is in; a pin inside beyond it is refused.
ctr_limit() {	# ctr_limit RUNTIME
	local rt=$1 pid
	doc_ok runtimes.md "$rt run -d --bundle $JOB job" || return 1
	pid=$(ctr_pid "$rt")
	[[ $pid =~ ^[0-9]+$ ]] && [ "$pid" -gt 0 ] || fail "$rt state job: no pid: $("$rt" state job 2>&1)" || return 1
	expect "cgroup of the container's process" "$(< "/proc/$pid/cgroup")" "0::/containers/job" || return 1
	doc_ok runtimes.md "cat $CG/dmabuf.pinned.max" || return 1
	has_line "udmabuf $M8" || fail "cat $CG/dmabuf.pinned.max: $out" || return 1
	doc runtimes.md "$rt exec job \$PWD/build/bin/dmabuf-pin -s udmabuf -z 4M -n 3" || return 1
	expect_refused "$rt exec job dmabuf-pin -n 3" 3 &&
	expect_file "$CG" dmabuf.pinned.events udmabuf max=1 &&
	expect_file "$CG" dmabuf.pinned.current udmabuf 0
}

# RUNTIME update with a new unified value changes the limit of the running
# container; a value the kernel refuses fails and changes nothing.
ctr_update() {	# ctr_update RUNTIME
	local rt=$1
	doc_ok runtimes.md "echo '{\"unified\": {\"dmabuf.pinned.max\": \"udmabuf 4194304\"}}' > $JOB/update.json" || return 1
	doc_ok runtimes.md "$rt update --resources $JOB/update.json job" || return 1
	expect_file "$CG" dmabuf.pinned.max udmabuf $M4 || return 1
	doc runtimes.md "$rt exec job \$PWD/build/bin/dmabuf-pin -s udmabuf -z 4M -n 2" || return 1
	expect_refused "$rt exec job dmabuf-pin -n 2 under 4M" 2 || return 1
	echo '{"unified": {"dmabuf.pinned.max": "udmabuf 4X"}}' > $JOB/bad.json
	out=$("$rt" update --resources $JOB/bad.json job 2>&1) &&
		fail "$rt update with 'udmabuf 4X' succeeded" && return 1
	echo "$out" | grep -qi 'invalid argument' || fail "$rt update with 'udmabuf 4X': $out" || return 1
	note "$rt update with \"udmabuf 4X\": $out"
	expect_file "$CG" dmabuf.pinned.max udmabuf $M4
}

# RUNTIME delete --force: no container, no cgroup; the parent is ours to
# remove, and it is empty.
ctr_delete() {	# ctr_delete RUNTIME
	local rt=$1
	doc_ok runtimes.md "$rt delete --force job" || return 1
	"$rt" list -q 2>/dev/null | grep -qx job && fail "$rt list still has job" && return 1
	[ ! -d "$CG" ] || fail "$CG still there after $rt delete" || return 1
	rmdir "$CGROOT/containers" || fail "$CGROOT/containers: not empty"
}

# crun 1.8.1 enables only its own list of controllers in the ancestors it
# creates: without dmabuf in the parent the container does not start.
t_crun_not_enabled() {
	make_bundle crun || return 1
	rmdir "$CGROOT/containers" 2>/dev/null
	doc runtimes.md "crun run -d --bundle $JOB job" || return 1
	[ "$status" != 0 ] || { crun delete --force job; fail "crun run started without dmabuf in the parent"; return 1; }
	expect "crun's error" "$out" "the requested cgroup controller \`dmabuf\` is not available" || return 1
	doc_has runtimes.md "$out" || return 1
	note "crun run without dmabuf in the parent: $out"
	crun list -q | grep -qx job && fail "crun list has job after the failed run" && return 1
	# crun 1.8.1 leaves the container's (empty) cgroup behind.
	if [ -d "$CG" ]; then
		[ -z "$(< "$CG/cgroup.procs")" ] || fail "processes in $CG after the failed run" || return 1
		doc_ok runtimes.md "rmdir $CG" || return 1
		note "crun left $CG behind (empty)"
	fi
	grep -qw dmabuf "$CGROOT/containers/cgroup.subtree_control" &&
		fail "crun enabled dmabuf in $CGROOT/containers after all" && return 1
	note "controllers crun enabled in /containers: $(< "$CGROOT/containers/cgroup.subtree_control")"
}

t_crun_limit() {
	doc_ok runtimes.md "mkdir -p $CGROOT/containers && dmabufctl cgroup enable containers --subtree" || return 1
	ctr_limit crun
}

# runc creates the parent and enables every controller it finds there.
t_crun_update() { ctr_update crun; }
t_crun_delete() { ctr_delete crun; }
t_runc_update() { ctr_update runc; }
t_runc_delete() { ctr_delete runc; }

t_runc_limit() {
	make_bundle runc || return 1
	[ ! -d "$CGROOT/containers" ] || fail "$CGROOT/containers exists before runc" || return 1
	ctr_limit runc || return 1
	grep -qw dmabuf "$CGROOT/containers/cgroup.subtree_control" ||
		fail "runc did not enable dmabuf in $CGROOT/containers"
}

# ---- podman ----

# podman's storage, network configuration and events go to a tmpfs of
# their own: the VM's root is read-only (or, under systemd, an overlay,
# which cannot be the upper layer of podman's overlay for --rootfs /:O).
# Nothing else differs from a real host.
podman_env() {
	mkdir -p $PM && mount -t tmpfs tmpfs $PM || return 1
	cat > $PM/containers.conf <<-EOF
	[network]
	network_config_dir = "$PM/networks"
	[engine]
	events_logger = "file"
	EOF
	cat > $PM/storage.conf <<-EOF
	[storage]
	driver = "vfs"
	graphroot = "$PM/root"
	runroot = "$PM/run"
	EOF
	export CONTAINERS_CONF=$PM/containers.conf CONTAINERS_STORAGE_CONF=$PM/storage.conf
}

# podman_gone [CGROUP_DIR]: no container left, nor its cgroup.
podman_gone() {
	[ -z "$(podman ps -a -q)" ] || fail "podman ps -a: $(podman ps -a)" || return 1
	[ -z "${1:-}" ] || [ ! -d "$1" ] || fail "$1 still there"
}

# The issue's `podman run --rootfs /`: the runtime mounts a new sysfs over
# the host's, which is there already, and that fails.
t_podman_rootfs_slash() {
	podman --cgroup-manager=cgroupfs run --rm --network host --rootfs / true > /tmp/pm.out 2>&1
	status=$?
	out=$(< /tmp/pm.out)
	[ "$status" != 0 ] || fail "podman run --rootfs / worked: update Documentation/runtimes.md" || return 1
	echo "$out" | grep -q 'mount `sysfs` to `sys`: Device or resource busy' ||
		fail "podman run --rootfs /: $out" || return 1
	doc_has runtimes.md "$out" || return 1
	note "podman run --rootfs /: $out"
	podman_gone
}

PODMAN_RUN='podman --cgroup-manager=cgroupfs run --rm --network host --device /dev/udmabuf --device /dev/infiniband/uverbs0 --cgroup-conf=dmabuf.pinned.max="udmabuf 8M" --rootfs /:O sh -c "grep udmabuf /sys/fs/cgroup/dmabuf.pinned.max; exec $PWD/build/bin/dmabuf-pin -s udmabuf -z 4M -n 3"'

podman_run() {	# podman_run COMMAND: one of the page's --rm runs
	doc runtimes.md "$1" || return 1
	expect_refused "podman run dmabuf-pin -n 3" 3 || return 1
	has_line "udmabuf $M8" || fail "the container's dmabuf.pinned.max: $out" || return 1
	podman_gone
}

# podman makes its parent cgroup, libpod_parent, and enables every
# controller there: crun finds dmabuf enabled without help.
t_podman_run() {
	[ ! -d "$CGROOT/libpod_parent" ] || fail "libpod_parent exists before podman ran" || return 1
	podman_run "$PODMAN_RUN" || return 1
	grep -qw dmabuf "$CGROOT/libpod_parent/cgroup.subtree_control" ||
		fail "podman did not enable dmabuf in libpod_parent: $(< "$CGROOT/libpod_parent/cgroup.subtree_control")"
}
t_podman_runc() { podman_run "${PODMAN_RUN/podman --cgroup-manager=cgroupfs/podman --cgroup-manager=cgroupfs --runtime runc}"; }

# A running podman container: the limit in its cgroup, a pin refused, the
# limit changed with crun update (podman 4.3's `podman update` has no
# unified values), and nothing left after podman rm.
t_podman_update() {
	local pid= id= cg= info
	doc_ok runtimes.md 'podman --cgroup-manager=cgroupfs run -d --name job --network host --device /dev/udmabuf --device /dev/infiniband/uverbs0 --cgroup-conf=dmabuf.pinned.max="udmabuf 8M" --rootfs /:O sleep infinity' || return 1
	# (No "< <(...)": the VM's /dev has no /dev/fd.)
	info=$(podman inspect --format '{{.State.Pid}} {{.Id}}' job) || fail "podman inspect job: $info" || return 1
	pid=${info% *} id=${info#* }
	cg=$(< "/proc/$pid/cgroup")
	expect "cgroup of the container" "$cg" "0::/libpod_parent/libpod-$id" || return 1
	cg=$CGROOT/libpod_parent/libpod-$id
	expect_file "$cg" dmabuf.pinned.max udmabuf $M8 || return 1
	doc runtimes.md 'podman exec job $PWD/build/bin/dmabuf-pin -s udmabuf -z 4M -n 3' || return 1
	expect_refused "podman exec job dmabuf-pin -n 3" 3 || return 1
	mkdir -p $JOB
	echo '{"unified": {"dmabuf.pinned.max": "udmabuf 4194304"}}' > $JOB/update.json
	doc_ok runtimes.md "crun update --resources $JOB/update.json \$(podman inspect --format '{{.Id}}' job)" || return 1
	expect_file "$cg" dmabuf.pinned.max udmabuf $M4 || return 1
	doc runtimes.md 'podman exec job $PWD/build/bin/dmabuf-pin -s udmabuf -z 4M -n 2' || return 1
	expect_refused "podman exec job dmabuf-pin -n 2 under 4M" 2 || return 1
	doc_ok runtimes.md 'podman rm --force --time 0 job' || return 1
	podman_gone "$cg"
}

# With systemd as the cgroup manager the container is a scope in
# machine.slice, which stock systemd creates without dmabuf; crun then puts
# the container into a sub-cgroup of the scope, "container", and enables
# only its own list of controllers in the scope: dmabuf must be enabled on
# the slice, and crun told to use the scope itself.
t_podman_systemd() {
	doc_ok runtimes.md 'systemctl start machine.slice && dmabufctl cgroup enable machine.slice --subtree' || return 1
	doc runtimes.md "${PODMAN_RUN/cgroupfs/systemd}" || return 1
	[ "$status" != 0 ] || fail "crun in a systemd scope's sub-cgroup found dmabuf: update Documentation/runtimes.md" || return 1
	has_line "Error: OCI runtime error: crun: the requested cgroup controller \`dmabuf\` is not available" ||
		fail "crun, systemd manager, default sub-cgroup: $out" || return 1
	note "podman --cgroup-manager=systemd (crun, its sub-cgroup): $out"
	podman_gone || return 1
	doc runtimes.md "${PODMAN_RUN/cgroupfs run --rm/systemd run --rm --annotation run.oci.systemd.subgroup=}" || return 1
	expect_refused "podman --cgroup-manager=systemd run --annotation run.oci.systemd.subgroup= dmabuf-pin -n 3" 3 || return 1
	has_line "udmabuf $M8" || fail "the container's dmabuf.pinned.max: $out" || return 1
	podman_gone
}

# runc enables every controller on the scope's path itself.
t_podman_systemd_runc() {
	doc runtimes.md "${PODMAN_RUN/cgroupfs/systemd --runtime runc}" || return 1
	expect_refused "podman --cgroup-manager=systemd --runtime runc run dmabuf-pin -n 3" 3 || return 1
	has_line "udmabuf $M8" || fail "the container's dmabuf.pinned.max: $out" || return 1
	podman_gone
}

# Each test's time, as a TAP comment.
run_timed() {	# run_timed RUNNER NAME FUNCTION
	local t0=$SECONDS
	"$@"
	note "$((SECONDS - t0)) s"
}

# Whatever a failed test left: containers, cgroups, mounts.
cleanup_all() {
	local rt
	for rt in crun runc; do
		"$rt" delete --force job > /dev/null 2>&1
	done
	if command -v podman > /dev/null && [ -n "${CONTAINERS_CONF:-}" ]; then
		podman rm --all --force --time 0 > /dev/null 2>&1
	fi
	rmdir "$CGROOT/containers/job" "$CGROOT/containers" \
		"$CGROOT/libpod_parent/conmon" "$CGROOT/libpod_parent" 2>/dev/null
	cgdelete -r -g dmabuf:job dmabuf:jobs > /dev/null 2>&1
	mountpoint -q /run/hostroot && umount /run/hostroot
	mountpoint -q $PM && umount -l $PM
	rm -rf "$JOB" "$PM" /tmp/pm.out "$doc_out"
}

need() {	# need COMMAND...: the missing ones, on stdout
	local c
	for c in "$@"; do command -v "$c" > /dev/null || echo -n "$c "; done
}

# A script that dies half-way (a shell error in a test) must not pass for
# one whose remaining tests did not exist.
trap 'echo "Bail out! test_runtimes.sh ended early (status $?)"' EXIT

if ! grep -qw dmabuf "$CGROOT/cgroup.controllers"; then
	skip "runtime and libcgroup tests" "no dmabuf controller"
	trap - EXIT
	tap_done
	exit
fi
setup_rxe || { trap - EXIT; echo "Bail out! no rxe device"; exit 1; }
cd "$top" || exit 1

if want libcgroup; then
	missing=$(need cgcreate cgset cgget cgexec cgdelete cgconfigparser)
	if [ -n "$missing" ]; then
		skip "libcgroup" "not installed: $missing(apt-get install cgroup-tools)"
	else
		run_timed run_test "libcgroup: cgcreate -g dmabuf:job, cgset, cgget, cgexec (third 4M MR refused), cgdelete" t_lcg_tools
		run_timed run_test "libcgroup: cgset reports the kernel's EINVAL and ENODEV; two pools in one cgset" t_lcg_errors
		run_timed run_test "libcgroup: a group two levels down fails (cgcreate, cgconfigparser) unless created level by level (2.0.2)" t_lcg_nested
		run_timed run_test "libcgroup: cgconfigparser applies a dmabuf stanza, nested groups parent first" t_lcg_cgconfig
	fi
fi

if want crun; then
	missing=$(need crun jq)
	if [ -n "$missing" ]; then
		skip "crun" "not installed: $missing"
	else
		run_timed run_test "crun: without dmabuf in the parent, 'the requested cgroup controller \`dmabuf\` is not available'" t_crun_not_enabled
		run_timed run_test "crun: after dmabufctl cgroup enable, the spec's limit is in the container's cgroup, third 4M MR refused" t_crun_limit
		run_timed run_test "crun update --resources: the new unified limit applies to the running container" t_crun_update
		run_timed run_test "crun delete --force: container and cgroup gone" t_crun_delete
	fi
	cleanup_all
fi

if want runc; then
	missing=$(need runc jq)
	if [ -n "$missing" ]; then
		skip "runc" "not installed: $missing"
	else
		run_timed run_test "runc: enables dmabuf on the ancestors itself; the spec's limit is in the container's cgroup, third 4M MR refused" t_runc_limit
		run_timed run_test "runc update --resources: the new unified limit applies to the running container" t_runc_update
		run_timed run_test "runc delete --force: container and cgroup gone" t_runc_delete
	fi
	cleanup_all
fi

if want podman || want podman-runc || want podman-systemd; then
	missing=$(need podman conmon crun)
	if [ -n "$missing" ]; then
		skip "podman" "not installed: $missing"
	else
		podman_env || not_ok "podman: tmpfs on $PM"
		if want podman; then
			run_timed run_test "podman (cgroupfs, crun) run --cgroup-conf=dmabuf.pinned.max: limit in the container, third 4M MR refused" t_podman_run
			run_timed run_test "podman run --rootfs / fails: the host's /sys is in the way (use --rootfs /:O)" t_podman_rootfs_slash
			run_timed run_test "podman (cgroupfs, crun) run -d: limit in libpod_parent/libpod-ID, crun update changes it, podman rm cleans up" t_podman_update
		fi
		if want podman-runc; then
			run_timed run_test "podman (cgroupfs, runc) run --cgroup-conf=dmabuf.pinned.max: limit in the container, third 4M MR refused" t_podman_runc
		fi
		if want podman-systemd; then
			if [ -d /run/systemd/system ]; then
				run_timed run_test "podman (systemd, crun) run: dmabuf on machine.slice, run.oci.systemd.subgroup= ; third 4M MR refused" t_podman_systemd
				run_timed run_test "podman (systemd, runc) run --cgroup-conf=dmabuf.pinned.max: limit in the container, third 4M MR refused" t_podman_systemd_runc
			else
				skip "podman with the systemd cgroup manager (crun and runc)" "needs systemd as PID 1; this VM's init is tests/vm/guest-init"
			fi
		fi
	fi
	cleanup_all
fi

trap - EXIT
tap_done
