#!/usr/bin/env bash
# Runs in the VM for tests/bench.sh: register+deregister a udmabuf MR in a
# loop from a cgroup at depth 1 and at depth 8, several rounds, alternating.
# Prints "bench depth=D round=R ops=X" lines.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
PIN=$top/build/bin/dmabuf-pin
N=${BENCH_LOOPS:-3000}
ROUNDS=${BENCH_ROUNDS:-5}
cg=/sys/fs/cgroup

rdma link add rxe0 type rxe netdev "${VM_NETDEV:-eth0}" || exit 1
enabled=0
grep -qw dmabuf $cg/cgroup.controllers && enabled=1
echo "bench controller=$([ $enabled = 1 ] && echo on || echo off)"

# bench1 and bench/l2/.../l8, the controller enabled on every level.
path=$cg
for d in 1 2 3 4 5 6 7 8; do
	[ $enabled = 1 ] && echo +dmabuf > "$path/cgroup.subtree_control"
	path=$path/l$d
	mkdir "$path"
	[ $d = 1 ] && depth1=$path
done
depth8=$path
# Limits everywhere on the way, so that every level checks one.
if [ $enabled = 1 ]; then
	p=$depth8
	while [ "$p" != "$cg" ]; do
		[ -f "$p/dmabuf.pinned.max" ] && echo "udmabuf 1G" > "$p/dmabuf.pinned.max"
		p=$(dirname "$p")
	done
fi
# Depth 1: a sibling of l1 (l1 has children, so it cannot hold processes).
leaf1=$cg/leaf1
mkdir "$leaf1"
[ $enabled = 1 ] && echo "udmabuf 1G" > "$leaf1/dmabuf.pinned.max"

for r in $(seq 1 "$ROUNDS"); do
	for d in 1 8; do
		[ $d = 1 ] && where=$leaf1 || where=$depth8
		ops=$(sh -c 'echo $$ > "$1/cgroup.procs"; exec "$2" --size 1M --loop "$3"' \
			sh "$where" "$PIN" "$N" | sed -n 's/.*: \([0-9]*\) ops\/s/\1/p')
		echo "bench depth=$d round=$r ops=$ops"
	done
done
