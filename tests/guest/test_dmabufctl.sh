#!/usr/bin/env bash
# dmabufctl end to end, in the VM, against the real dmabuf controller:
# pool/cgroup show, set, enable, run (a pin refused beyond the limit), watch,
# JSON output checked with python3, and run as an unprivileged user inside a
# delegated subtree. TAP on stdout.
set -u
. "$(dirname "$0")/lib.sh"

# DMABUFCTL: another dmabufctl, e.g. the package's /usr/sbin/dmabufctl.
CTL=${DMABUFCTL:-$top/build/bin/dmabufctl}
[ -x "$CTL" ] || [ -n "${DMABUFCTL:-}" ] || CTL=$top/build/dmabufctl/dmabufctl
M4=4194304
M8=8388608
T=dmabufctl_t	# the tests' parent cgroup
NOBODY=65534

# json FILE PYEXPR: FILE parses as JSON and PYEXPR (over `d`) is true.
json() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>&1 ||
		fail "JSON check '$2' failed on: $(cat "$1")"
}

# jsonl FILE PYEXPR: FILE is one JSON document per line (watch -j), each
# with "version": 1, and PYEXPR over `d`, their list, is true.
jsonl() {
	python3 -c 'import json, sys
d = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
sys.exit(0 if all(x["version"] == 1 for x in d) and eval(sys.argv[2]) else 1)' "$1" "$2" 2>&1 ||
		fail "JSON lines check '$2' failed on: $(cat "$1")"
}

# ctl EXPECTED_STATUS ARGS...: runs dmabufctl; output in $out, stderr in
# $cerr (not $err: run_test has a local of that name).
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

t_pool_show() {
	local j
	ctl 0 pool || return 1
	echo "$out" | grep -q '^udmabuf ' || fail "no udmabuf in: $out" || return 1
	echo "$out" | grep -q '^dma_heap/system ' || fail "no dma_heap/system in: $out" || return 1
	ctl 0 -j pool || return 1
	j=$(mktemp); echo "$out" > "$j"
	json "$j" '{p["pool"] for p in d["pools"]} >= {"udmabuf", "dma_heap/system"}'; local r=$?
	rm -f "$j"; return $r
}

t_set_show() {
	mkcg $T && mkcg $T/a || return 1
	ctl 0 cgroup set $T/a /dev/udmabuf 8M || return 1
	expect_file "$CGROOT/$T/a" dmabuf.pinned.max udmabuf $M8 || return 1
	ctl 0 set "$CGROOT/$T/a" /dev/dma_heap/system=1.5G || return 1
	expect_file "$CGROOT/$T/a" dmabuf.pinned.max dma_heap/system 1610612736 || return 1
	ctl 0 cgroup show $T/a || return 1
	echo "$out" | grep -Eq '^/'$T'/a +udmabuf +0 +0 +8MiB |^ +udmabuf +0 +0 +8MiB ' || fail "text show: $out" || return 1
	ctl 0 -b show $T/a || return 1
	echo "$out" | grep -Eq ' dma_heap/system +0 +0 +1610612736 ' || fail "show -b: $out" || return 1
	ctl 0 show $T/a --raw -n -o cgroup,pool,max || return 1
	expect "show --raw" "$(echo "$out" | grep udmabuf)" "/$T/a udmabuf 8MiB" || return 1
	ctl 0 -j cgroup show /$T/a || return 1
	local j; j=$(mktemp); echo "$out" > "$j"
	json "$j" '[p["max"] for p in d["cgroups"][0]["pools"] if p["pool"] == "udmabuf"] == [8388608]' || return 1
	ctl 0 cgroup set $T/a udmabuf max dma_heap/system max || return 1
	expect_file "$CGROOT/$T/a" dmabuf.pinned.max udmabuf max &&
	expect_file "$CGROOT/$T/a" dmabuf.pinned.max dma_heap/system max || return 1
	ctl 0 -p show $T -a || return 1
	echo "$out" > "$j"
	json "$j" '[c["cgroup"] for c in d["cgroups"]] == ["/'$T'", "/'$T'/a"]'; local r=$?
	rm -f "$j"; return $r
}

t_errors() {
	mkcg $T && mkcg $T/a || return 1
	mkdir "$CGROOT/$T/a/noctl" && test_cgroups=("$CGROOT/$T/a/noctl" "${test_cgroups[@]}")
	ctl 1 cgroup set $T/a udmabf 8M || return 1
	case $cerr in
	"dmabufctl: no such pool 'udmabf': pools: "*udmabuf*) ;;
	*) fail "unknown pool message: $cerr"; return 1 ;;
	esac
	echo "$cerr" | grep -q "dma_heap/system" || fail "pools not listed: $cerr" || return 1
	ctl 1 cgroup set $T/a udmabuf 8X || return 1
	ctl 1 cgroup set / udmabuf 8M || return 1
	ctl 1 cgroup set $T/nosuch udmabuf 8M || return 1
	ctl 2 cgroup show $T/a/noctl || return 1
	echo "$cerr" | grep -q "controller dmabuf not enabled in $CGROOT/$T/a/noctl: run \`dmabufctl enable $T/a/noctl\`" ||
		fail "not-enabled message: $cerr" || return 1
	ctl 2 -j cgroup set $T/a/noctl udmabuf 1M || return 1
	local j; j=$(mktemp); echo "$out" > "$j"
	json "$j" 'd["error"]["status"] == 2 and "enable" in d["error"]["fix"]' || return 1
	ctl 1 -j cgroup frob || return 1
	echo "$out" > "$j"
	json "$j" 'd["error"]["status"] == 1'; local r=$?
	rm -f "$j"
	expect_file "$CGROOT/$T/a" dmabuf.pinned.max udmabuf max || return 1
	return $r
}

t_enable() {
	mkcg $T || return 1
	mkdir -p "$CGROOT/$T/e1/e2" || return 1
	test_cgroups=("$CGROOT/$T/e1/e2" "$CGROOT/$T/e1" "${test_cgroups[@]}")
	[ ! -e "$CGROOT/$T/e1/e2/dmabuf.pinned.max" ] || fail "dmabuf already in e2" || return 1
	ctl 0 cgroup enable $T/e1/e2 || return 1
	[ -e "$CGROOT/$T/e1/e2/dmabuf.pinned.max" ] || fail "no dmabuf files in e2 after enable: $out" || return 1
	ctl 0 -j enable $T/e1/e2 || return 1
	local j; j=$(mktemp); echo "$out" > "$j"
	json "$j" 'd["cgroup"] == "/'$T'/e1/e2" and d["enabled_in"] == []'; local r=$?
	rm -f "$j"; return $r
}

t_run_refuses() {
	mkcg $T || return 1
	ctl 3 run -l udmabuf=8M --parent $T -- "$PIN" --size 4M --count 3 || return 1
	echo "$out" | grep -q '^mr 3: refused: EAGAIN' || fail "mr 3 not refused: $out" || return 1
	echo "$cerr" | grep -q 'pool udmabuf: 1 pin refused (limit 8MiB, peak 8MiB)' || fail "no refusal note: $cerr" || return 1
	[ -z "$(find "$CGROOT/$T" -mindepth 1 -type d)" ] || fail "run left a cgroup: $(ls "$CGROOT/$T")" || return 1
	ctl 0 run -l /dev/udmabuf=8M --parent $T -- "$PIN" --size 4M --count 2 || return 1
	ctl 3 -j run -l udmabuf=4M --parent $T -- "$PIN" --size 4M --count 2 || return 1
	# the document follows the command's own output
	local j; j=$(mktemp); echo "$out" | tail -n 1 > "$j"
	json "$j" 'd["run"]["status"] == 3 and [(p["max"], p["peak"], p["refused"]) for p in d["run"]["pools"] if p["pool"] == "udmabuf"] == [(4194304, 4194304, 1)]'
	local r=$?; rm -f "$j"; return $r
}

# The default parent is the caller's own cgroup.
t_run_own_cgroup() {
	mkcg $T && mkcg $T/own || return 1
	test_cgroups=("$CGROOT/$T/own/leaf" "${test_cgroups[@]}")
	out=$(sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$CGROOT/$T/own" \
		"$CTL" run -l udmabuf=4M -- "$PIN" -z 4M -n 2 2>&1)
	status=$?
	expect "status of run in its own cgroup" "$status" 3 || { echo "$out" >&2; return 1; }
	echo "$out" | grep -q "moved 1 process of /$T/own into /$T/own/leaf" || fail "no leaf note: $out" || return 1
	# Another process in the cgroup is not dmabufctl's to move: refused.
	mkcg $T/shared || return 1
	sleep 300 &
	local other=$!
	test_pids+=($other)
	echo $other > "$CGROOT/$T/shared/cgroup.procs" || return 1
	out=$(sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$CGROOT/$T/shared" \
		"$CTL" run -l udmabuf=4M -- "$PIN" -z 4M -n 1 2>&1)
	status=$?
	expect "status of run beside another process" "$status" 125 || { echo "$out" >&2; return 1; }
	echo "$out" | grep -q "cannot enable dmabuf in /$T/shared: it has processes other than dmabufctl ($other)" ||
		fail "refusal message: $out" || return 1
	expect "the other process stayed" "$(cat "$CGROOT/$T/shared/cgroup.procs")" "$other" || return 1
	kill $other; wait $other 2>/dev/null
	[ ! -e "$CGROOT/$T/shared/leaf" ] || fail "a leaf was made in /$T/shared"
}

# watch_settled PID INO: process PID has an inotify watch on the inode INO
# (hex) and is back in read() on its inotify fd, or has exited.
# (/proc/PID/syscall's first field is the syscall's number: read() is 0 on
# x86_64, the only architecture the VM runs.)
watch_settled() {
	local fd
	[ -d /proc/"$1" ] || return 0
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd")" = anon_inode:inotify ] || continue
		fd=${fd##*/}
		grep -q " ino:$2 " /proc/"$1"/fdinfo/"$fd" 2>/dev/null &&
			[ "$(cut -d' ' -f1,2 /proc/"$1"/syscall 2>/dev/null)" = "0 $(printf '0x%x' "$fd")" ] &&
			return 0
	done
	return 1
}

# watching PID FILE: waits (up to 30 s) until dmabufctl watch, process PID,
# watches FILE and waits for its events: it has then read FILE's baseline,
# and reports every refusal from now on.
watching() {
	local ino
	ino=$(stat -c %i "$2") || return 1
	until_true 30 watch_settled "$1" "$(printf '%x' "$ino")" ||
		fail "dmabufctl watch (pid $1) is not watching $2 after 30 s" || return 1
	[ -d /proc/"$1" ] || fail "dmabufctl watch (pid $1) exited before watching $2"
}

# first_round FILE PID: top (PID) has printed its first JSON round to FILE,
# or has exited.
first_round() { grep -q '"version"' "$1" || ! kill -0 "$2" 2>/dev/null; }

t_watch() {
	mkcg $T && mkcg $T/w || return 1
	local f j
	f=$(mktemp); j=$(mktemp)
	echo "udmabuf 4M" > "$CGROOT/$T/w/dmabuf.pinned.max"
	"$CTL" watch $T/w -n 1 > "$f" 2>&1 &
	local wpid=$!
	test_pids+=($wpid)
	"$CTL" -j watch $T/w -n 2 > "$j" 2>&1 &
	local jpid=$!
	test_pids+=($jpid)
	watching $wpid "$CGROOT/$T/w/dmabuf.pinned.events.local" &&
		watching $jpid "$CGROOT/$T/w/dmabuf.pinned.events.local" || return 1
	pin "$CGROOT/$T/w" -z 4M -n 2
	expect "pin status" "$status" 3 || return 1
	pin "$CGROOT/$T/w" -z 8M -n 1
	wait $wpid; expect "watch status" "$?" 0 || return 1
	wait $jpid; expect "watch -j status" "$?" 0 || return 1
	grep -Eq "^[0-9T:.-]+Z /$T/w udmabuf refused \+1 events.local max=1 limit 4MiB$" "$f" ||
		fail "watch line: $(cat "$f")" || return 1
	jsonl "$j" 'len(d) == 2 and [(x["cgroup"], x["pool"], x["events_local_delta"], x["events_local"], x["max"]) for x in d] == [("/'$T'/w", "udmabuf", 1, 1, 4194304), ("/'$T'/w", "udmabuf", 1, 2, 4194304)]' || return 1
	# SIGTERM ends the stream of lines: none without a refusal
	"$CTL" -j watch $T/w > "$j" 2>&1 &
	wpid=$!
	test_pids+=($wpid)
	watching $wpid "$CGROOT/$T/w/dmabuf.pinned.events.local" || return 1
	kill -TERM $wpid; wait $wpid; expect "status of watch after SIGTERM" "$?" 0 || return 1
	jsonl "$j" 'd == []'; local r=$?
	rm -f "$f" "$j"; return $r
}

# watch /: the whole host. The refusing cgroup is the one whose limit
# refused (a parent's here, for a pin of a task in a cgroup made after
# watch started), not the pinning task's.
t_watch_host() {
	mkcg $T && mkcg $T/p || return 1
	local j; j=$(mktemp)
	echo "udmabuf 4M" > "$CGROOT/$T/p/dmabuf.pinned.max"
	"$CTL" -j watch / -n 1 > "$j" 2>&1 &
	local wpid=$!
	test_pids+=($wpid)
	watching $wpid "$CGROOT/$T/p/dmabuf.pinned.events.local" || return 1
	mkcg $T/p/late || return 1
	watching $wpid "$CGROOT/$T/p/late/dmabuf.pinned.events.local" || return 1
	pin "$CGROOT/$T/p/late" -z 4M -n 2
	expect "pin status" "$status" 3 || return 1
	wait $wpid; expect "watch / status" "$?" 0 || return 1
	jsonl "$j" '[(x["cgroup"], x["pool"], x["events_local_delta"], x["max"]) for x in d] == [("/'$T'/p", "udmabuf", 1, 4194304)]'
	local r=$?; rm -f "$j"; return $r
}

# top: the cgroups that pin, the most first, and refusals per second from
# the second round on. Its output is shown in the README.
t_top() {
	mkcg $T && mkcg $T/big && mkcg $T/small && mkcg $T/lim || return 1
	echo "udmabuf 4M" > "$CGROOT/$T/lim/dmabuf.pinned.max"
	hold big "$CGROOT/$T/big" -z 8M -n 2 || return 1
	hold small "$CGROOT/$T/small" -z 4M -n 1 || return 1
	local j; j=$(mktemp)
	# The refusals must fall between the two rounds: the pin starts once
	# the first is out, and must be done well before the second.
	local e; e=$(mktemp)
	"$CTL" -j top -n 2 -d 10 > "$j" 2> "$e" &
	local tpid=$!
	test_pids+=($tpid)
	until_true 30 first_round "$j" $tpid
	grep -q '"version"' "$j" || fail "no first round from top in 30 s: $(cat "$j" "$e")" || { rm -f "$j" "$e"; return 1; }
	pin "$CGROOT/$T/lim" -z 4M -n 3 -k
	kill -0 $tpid 2>/dev/null ||
		fail "top ended before the pin was done (a pin slower than its 10 s round?): $(cat "$e")" || { rm -f "$j" "$e"; return 1; }
	wait $tpid; expect "top status" "$?" 0 || { cat "$e" >&2; rm -f "$j" "$e"; return 1; }
	rm -f "$e"
	jsonl "$j" 'len(d) == 2 and [(c["cgroup"], c["current"]) for c in d[0]["cgroups"] if c["cgroup"].startswith("/'$T'/") and c["pool"] == "udmabuf"] == [("/'$T'/big", 16777216), ("/'$T'/small", 4194304)]' || { rm -f "$j"; return 1; }
	jsonl "$j" '[c["refused_per_s"] > 0 for c in d[1]["cgroups"] if c["cgroup"] == "/'$T'/lim" and c["pool"] == "udmabuf"] == [True] and "refused_per_s" not in d[0]' || { rm -f "$j"; return 1; }
	rm -f "$j"
	ctl 0 top -n 1 || return 1
	echo "$out" | grep -Eq "^/$T/big +udmabuf +16MiB " || fail "top: $out" || return 1
	echo "$out" | sed 's/^/# top: /'
	ctl 0 pins --cgroup $T || return 1
	echo "$out" | sed 's/^/# pins: /'
	ctl 0 show $T || return 1
	echo "$out" | sed 's/^/# show: /'
}

t_show_pid() {
	mkcg $T && mkcg $T/h || return 1
	hold h "$CGROOT/$T/h" -z 4M -n 1 || return 1
	ctl 0 -j show --pid "${held_pid[h]}" || return 1
	local j; j=$(mktemp); echo "$out" > "$j"
	json "$j" 'd["cgroups"][0]["cgroup"] == "/'$T'/h" and [(p["current"], p["pins"]) for p in d["cgroups"][0]["pools"] if p["pool"] == "udmabuf"] == [(4194304, 1)]' || return 1
	ctl 0 -j pool || return 1
	echo "$out" > "$j"
	json "$j" '[p for p in d["pools"] if p["pool"] == "udmabuf" and p["current"] >= 4194304 and p["pins"] >= 1]'; local r=$?
	rm -f "$j"; return $r
}

# pins: who holds what, from the kernel's list (dma_buf/pins in debugfs).
t_pins() {
	mkcg $T && mkcg $T/h && mkcg $T/o || return 1
	grep -q " /sys/kernel/debug debugfs " /proc/mounts || mount -t debugfs nodev /sys/kernel/debug
	hold h "$CGROOT/$T/h" -z 4M -n 2 || return 1
	hold o "$CGROOT/$T/o" -s heap -z 1M -n 1 || return 1
	local pid=${held_pid[h]} j
	ctl 0 pins --cgroup $T/h || return 1
	[ "$(echo "$out" | grep -cE "^ *$pid dmabuf-pin +/$T/h +udmabuf +4MiB ")" = 2 ] ||
		fail "pins --cgroup $T/h: $out" || return 1
	j=$(mktemp)
	ctl 0 -j pins --pid "$pid" || return 1
	echo "$out" > "$j"
	json "$j" '[(p["cgroup"], p["pool"], p["bytes"], p["comm"]) for p in d["pins"]] == [("/'$T'/h", "udmabuf", 4194304, "dmabuf-pin")] * 2' || { rm -f "$j"; return 1; }
	ctl 0 -j pins --cgroup "/$T" --pool /dev/dma_heap/system || return 1
	echo "$out" > "$j"
	json "$j" '[(p["pid"], p["cgroup"], p["bytes"]) for p in d["pins"]] == [('"${held_pid[o]}"', "/'$T'/o", 1048576)]' || { rm -f "$j"; return 1; }
	rm -f "$j"
	release h
	ctl 0 pins --pid "$pid" || return 1
	expect "pins of a released holder" "$(echo "$out" | sed 1d | wc -l)" 0
}

# An unprivileged user in a delegated cgroup: run works there; the limits
# of the delegated cgroup itself are its parent's (root's) to set.
t_delegated() {
	mkcg $T && mkcg $T/deleg || return 1
	local d=$CGROOT/$T/deleg f
	test_cgroups=("$d/leaf" "${test_cgroups[@]}")
	# The devices are root's in the VM (no udev): let nobody pin too.
	chmod 0666 /dev/udmabuf /dev/infiniband/* || return 1
	chown $NOBODY "$d" "$d/cgroup.procs" "$d/cgroup.subtree_control" "$d/cgroup.threads" || return 1
	out=$(sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$d" \
		setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
		"$CTL" run -l udmabuf=8M -- "$PIN" --size 4M --count 3 2>&1)
	status=$?
	expect "status of run as nobody" "$status" 3 || { echo "$out" >&2; return 1; }
	echo "$out" | grep -q '^mr 3: refused: EAGAIN' || fail "mr 3 not refused: $out" || return 1
	[ -z "$(find "$d" -mindepth 1 -type d -name 'dmabufctl-run.*')" ] || fail "run left its cgroup" || return 1
	out=$(setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$CTL" cgroup set $T/deleg udmabuf 1M 2>&1)
	status=$?
	expect "status of nobody setting its own limit" "$status" 2 || return 1
	echo "$out" | grep -q "permission denied writing $d/dmabuf.pinned.max: limits of a cgroup are set from its parent" ||
		fail "permission message: $out" || return 1
	out=$(setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$CTL" -j run --parent / -- true)
	status=$?
	f=$(mktemp); echo "$out" > "$f"
	expect "status of nobody running under the root" "$status" 125 &&
	json "$f" 'd["error"]["status"] == 125 and "permission denied" in d["error"]["message"]'; local r=$?
	rm -f "$f"; return $r
}

setup_rxe || { echo "Bail out! no rxe device"; exit 1; }
[ -x "$CTL" ] || { echo "Bail out! no $CTL (make -C tools/dmabufctl)"; exit 1; }
echo "+dmabuf" > "$CGROOT/cgroup.subtree_control"

run_test "pool: text and JSON" t_pool_show
run_test "set and show: /dev pools, POOL=SIZE, -b, --raw, -o, JSON, -a" t_set_show
run_test "errors: messages, fixes, exit status 1 and 2, JSON errors" t_errors
run_test "enable on every ancestor" t_enable
run_test "run: third 4M pin under 8M refused, exit 3, cgroup removed" t_run_refuses
run_test "run in the caller's own cgroup: itself moved into a leaf, never another process" t_run_own_cgroup
run_test "watch: a line per refusal, JSON lines" t_watch
run_test "watch /: the refusing cgroup, also one made after watch started" t_watch_host
run_test "top: by pinned bytes, refusals per second; pins and show of the same" t_top
run_test "show --pid and pool with a held pin" t_show_pid
run_test "pins: each pin held, filtered by cgroup, pool and pid; text and JSON" t_pins
modes=$(stat -c '%a %n' /dev/udmabuf /dev/infiniband/*)
run_test "non-root run in a delegated subtree" t_delegated
while read -r m f; do chmod "$m" "$f"; done <<< "$modes"
rmdir "$CGROOT/$T" 2>/dev/null
tap_done
