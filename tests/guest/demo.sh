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
