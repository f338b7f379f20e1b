#!/usr/bin/env bash
# The demo, run inside the VM by tests/demo.sh: a cgroup with a pinned
# dma-buf limit whose third RDMA memory registration is refused.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
PIN=$top/build/bin/dmabuf-pin
cd /sys/fs/cgroup || exit 1

step() { printf '\n### %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; eval "$@"; }

step "The dmabuf controller is there; enable it for the children of the root"
run 'cat cgroup.controllers'
run 'echo +dmabuf > cgroup.subtree_control'
run 'mkdir demo'
run 'ls -1 demo | grep ^dmabuf'
run 'cat dmabuf.capacity'

step "Limit the cgroup to 8 MiB of pinned udmabuf memory"
run 'echo "udmabuf 8M" > demo/dmabuf.pinned.max'
run 'cat demo/dmabuf.pinned.max'

step "Bad writes are refused and change nothing"
run 'echo "udmabuf 8X" > demo/dmabuf.pinned.max'
run 'echo "udmabf 8M" > demo/dmabuf.pinned.max'
run 'cat demo/dmabuf.pinned.max'

step "A soft-RoCE device on the VM's e1000 NIC"
run "rdma link add rxe0 type rxe netdev ${VM_NETDEV:-eth0}"
run 'rdma link show'

step "Register two 4 MiB dma-buf memory regions from the demo cgroup and hold them"
mkfifo /tmp/demo-hold
sh -c 'echo $$ > demo/cgroup.procs; exec "$1" --source udmabuf --size 4M --count 2 --hold' \
	sh "$PIN" < /tmp/demo-hold > /tmp/demo-hold.out &
holder=$!
exec 3> /tmp/demo-hold
until grep -q '^holding' /tmp/demo-hold.out; do sleep 0.1; done
printf '$ dmabuf-pin --source udmabuf --size 4M --count 2 --hold &\n'
cat /tmp/demo-hold.out
run 'cat demo/dmabuf.pinned.current'

step "A third registration goes over the limit: refused with EAGAIN"
run "sh -c 'echo \$\$ > demo/cgroup.procs; exec $PIN --source udmabuf --size 4M --count 1'"
echo "(exit status $?: 3 means a registration was refused with EAGAIN)"

step "The files tell why"
for f in current peak events events.local stat; do
	run "cat demo/dmabuf.pinned.$f"
done

step "Releasing the held regions uncharges them"
echo release >&3
exec 3>&-
wait $holder
run 'cat demo/dmabuf.pinned.current'
rmdir demo

# Device memory, where pinning matters: 7.3's test kernel has a test device
# (lib/test_dmabuf_dev.c) with a 4 MiB region of "device memory".
[ -e /dev/dmabuf_testdev0 ] || exit 0
R=dmabuf_testdev.0/vram

# hold NAME CGROUP ARGS...: dmabuf-pin --hold in the background, fd 3+N.
declare -A hfd hpid
holdbg() {
	local name=$1 cg=$2 fd
	shift 2
	mkfifo "/tmp/demo-$name"
	sh -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' sh "$cg" "$PIN" --hold "$@" \
		< "/tmp/demo-$name" > "/tmp/demo-$name.out" &
	hpid[$name]=$!
	exec {fd}> "/tmp/demo-$name"
	hfd[$name]=$fd
	waitfor "/tmp/demo-$name.out" '^holding' 0 "${hpid[$name]}"
	printf '$ dmabuf-pin %s --hold &   # in %s\n' "$*" "$cg"
	cat "/tmp/demo-$name.out"
}
# waitfor FILE REGEX N PID: until FILE has more than N lines matching REGEX;
# gives up after 60 s or when PID is gone.
waitfor() {
	local i
	for i in $(seq 1 600); do
		[ "$(grep -c "$2" "$1")" -gt "$3" ] && return 0
		kill -0 "$4" 2>/dev/null || break
		sleep 0.1
	done
	echo "demo: dmabuf-pin stopped: $(cat "$1")" >&2
	exit 1
}
query() {	# query NAME N: where the holder's N buffers are
	local n
	n=$(grep -c '^query done' "/tmp/demo-$1.out")
	echo query >&"${hfd[$1]}"
	waitfor "/tmp/demo-$1.out" '^query done' "$n" "${hpid[$1]}"
	grep '^buf ' "/tmp/demo-$1.out" | tail -n "$2" | sed "s/^/$1's /"
}
release_all() {
	local name
	for name in "${!hfd[@]}"; do
		echo release >&"${hfd[$name]}"
		wait "${hpid[$name]}"
		rm -f "/tmp/demo-$name" "/tmp/demo-$name.out"
	done
}

step "Device memory: the test device's region, one name in dmem and in dmabuf"
run 'echo +dmem > cgroup.subtree_control'
run "grep -H $R dmem.capacity dmabuf.capacity"
run 'mkdir demo-alloc demo-pin'

step "A job allocates three 1 MiB buffers in the region and pins none (dmem charges the allocation)"
holdbg alloc demo-alloc --source testdev --size 1M --count 3 --no-mr
run "grep $R demo-alloc/dmem.current demo-alloc/dmabuf.pinned.current"

step "Limit demo-pin to 2 MiB of pinned device memory, then pin a 2 MiB buffer as an MR"
run "echo '$R 2M' > demo-pin/dmabuf.pinned.max"
holdbg pin demo-pin --source testdev --size 2M --count 1
echo "The region had 1 MiB free: the job's oldest buffer was evicted to system memory to make room."
query alloc 3
query pin 1
run "grep $R demo-alloc/dmem.current demo-pin/dmabuf.pinned.current"

step "One more 1 MiB buffer, pinned from demo-pin, goes over its 2 MiB: refused with EAGAIN"
echo "(its buffer still gets a place in the region: another of the job's buffers is evicted for it)"
run "sh -c 'echo \$\$ > demo-pin/cgroup.procs; exec $PIN --source testdev --size 1M --count 1'"
echo "(exit status $?: 3 means refused with EAGAIN)"
run "grep $R demo-pin/dmabuf.pinned.events demo-pin/dmabuf.pinned.stat"

step "Releasing ends the pin and the allocations"
release_all
run "grep $R demo-alloc/dmem.current demo-pin/dmabuf.pinned.current"
rmdir demo-alloc demo-pin
