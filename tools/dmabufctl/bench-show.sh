#!/usr/bin/env bash
# The speed of `dmabufctl show` and `dmabufctl pins` on a big host: a fake cgroupfs tree
# of 10,000 cgroups (100 x 100) with 4 pools each, built in a temporary
# directory (tmpfs /dev/shm if there is one), shown recursively in text and
# JSON. Prints the figures; a benchmark, not a test.
#
#   bench-show.sh [DMABUFCTL] [N_TOP] [N_CHILDREN]
set -euo pipefail

ctl=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build/dmabufctl/dmabufctl}
top=${2:-100}
children=${3:-100}
base=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
tree=$(mktemp -d "$base/dmabufctl-bench.XXXXXX")
trap 'rm -rf "$tree"' EXIT

python3 - "$tree" "$top" "$children" <<'PY'
import os, sys
root, top, children = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pools = ["udmabuf", "dma_heap/system", "drm/0000:03:00.0/vram0", "drm/0000:04:00.0/vram0"]
def files(d, nonroot=True):
    w = lambda n, s: open(os.path.join(d, n), "w").write(s)
    w("cgroup.controllers", "cpu memory dmabuf\n")
    w("cgroup.subtree_control", "dmabuf\n")
    w("dmabuf.pinned.current", "".join(f"{p} 4194304\n" for p in pools))
    if not nonroot:
        w("dmabuf.capacity", "".join(f"{p} max\n" for p in pools))
        return
    w("dmabuf.pinned.peak", "".join(f"{p} 8388608\n" for p in pools))
    w("dmabuf.pinned.max", "".join(f"{p} max\n" for p in pools))
    w("dmabuf.pinned.events", "".join(f"{p} max=0\n" for p in pools))
    w("dmabuf.pinned.events.local", "".join(f"{p} max=0\n" for p in pools))
    w("dmabuf.pinned.stat", "".join(f"{p} pins=1 refused=0\n" for p in pools))
files(root, False)
for i in range(top):
    d = os.path.join(root, f"job{i}")
    os.mkdir(d); files(d)
    for j in range(children - 1):
        c = os.path.join(d, f"task{j}")
        os.mkdir(c); files(c)
PY
n=$(find "$tree" -mindepth 1 -type d | wc -l)

# best of 3 runs of "$@" (output discarded): "WALL s (CPU s user+sys)".
# CPU time is what the tool costs; wall time also shows a loaded machine.
best() {
	local b= c= t
	for _ in 1 2 3; do
		t=$( { TIMEFORMAT='%R %U %S'; time "$@" > /dev/null; } 2>&1 )
		read -r w u s <<< "$t"
		if [ -z "$b" ] || [ "$(echo "$w < $b" | bc)" = 1 ]; then
			b=$w
			c=$(echo "$u + $s" | bc)
		fi
	done
	printf '%.3f s wall (%.3f s CPU)' "$b" "$c"
}

lines=$(LC_ALL=C "$ctl" --cgroup-root "$tree" show | wc -l)
echo "dmabufctl show (the tree) over $n cgroups x 4 pools ($lines lines of output), in $tree:"
echo "  text: $(best env LC_ALL=C "$ctl" --cgroup-root "$tree" show)"
echo "  text, UTF-8 tree: $(best env LC_ALL=C.UTF-8 "$ctl" --cgroup-root "$tree" show)"
echo "  raw: $(best "$ctl" --cgroup-root "$tree" show --raw)"
echo "  JSON: $(best "$ctl" --cgroup-root "$tree" -j show)"

# pins: 10,000 live pins in a fake dma_buf/pins (the kernel's format, patch 24).
mkdir -p "$tree/debug/dma_buf"
python3 - "$tree/debug/dma_buf/pins" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(10000):
        f.write(f"pid={1000 + i % 500} comm=rdma\\040job cgroup=/job{i % 100}/task{i % 99} cgroup_id={5000 + i} "
                f"pool={'udmabuf' if i % 2 else 'drm/0000:03:00.0/vram0'} bytes={(i % 64 + 1) << 20} "
                f"age_ms={i * 7} importer=0000:00:02.0 exporter=udmabuf inode={70000 + i}\n")
PY
echo "dmabufctl pins over 10000 live pins:"
echo "  text: $(best "$ctl" --cgroup-root "$tree" --debugfs-root "$tree/debug" pins)"
echo "  JSON: $(best "$ctl" --cgroup-root "$tree" --debugfs-root "$tree/debug" -j pins)"
echo "  --cgroup job7: $(best "$ctl" --cgroup-root "$tree" --debugfs-root "$tree/debug" pins --cgroup job7)"
