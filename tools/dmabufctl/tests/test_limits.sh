#!/bin/sh
# Host test of dmabufctl-limits (the helper of dmabufctl-limits@.service):
# the slice's cgroup path, the checks of the slice name and of the file,
# one `set` per pool; against a fake cgroup root, with a stand-in dmabufctl
# that logs its arguments (and refuses the pool "unknown", as the kernel
# would with ENODEV).
set -u
helper=${1:?usage: test_limits.sh DMABUFCTL-LIMITS}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
mkdir -p "$d/etc" "$d/cg"
cat > "$d/ctl" <<'CTL'
#!/bin/sh
echo "$*" >> "$LOG"
case "$*" in *" unknown "*) echo "dmabufctl: no pool unknown" >&2; exit 2 ;; esac
exit 0
CTL
chmod +x "$d/ctl"
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
run() {	# run SLICE: the helper's status; its calls in $d/log
	: > "$d/log"
	DMABUFCTL_LIMITS_DIR=$d/etc DMABUFCTL_CGROUP_ROOT=$d/cg DMABUFCTL=$d/ctl LOG=$d/log \
		sh "$helper" "$1" 2> "$d/err"
}

printf 'udmabuf 8M\n# a comment\n\ndma_heap/system 1G\n' > "$d/etc/rdma-jobs.slice.conf"
: > "$d/cg/dmabuf.capacity"
if run rdma-jobs.slice; then
	want="--cgroup-root $d/cg enable /rdma.slice/rdma-jobs.slice --subtree
--cgroup-root $d/cg set /rdma.slice/rdma-jobs.slice udmabuf 8M
--cgroup-root $d/cg set /rdma.slice/rdma-jobs.slice dma_heap/system 1G"
	[ "$(cat "$d/log")" = "$want" ] && [ -d "$d/cg/rdma.slice/rdma-jobs.slice" ] &&
		ok "a-b.slice: cgroup a.slice/a-b.slice made, enabled, one set per pool" ||
		not_ok "a-b.slice: calls $(cat "$d/log")"
else
	not_ok "a-b.slice: the run failed: $(cat "$d/err")"
fi

for s in -.slice system.slice a-.slice -a.slice a--b.slice 'a\x2db.slice' 'x*.slice' foo.service; do
	printf 'udmabuf 8M\n' > "$d/etc/$s.conf" 2>/dev/null
	if run "$s" || [ -s "$d/log" ]; then
		not_ok "slice name '$s' refused, nothing done"
	else
		ok "slice name '$s' refused, nothing done: $(cat "$d/err")"
	fi
done

printf 'udmabuf 8M\ndma_heap/system\n' > "$d/etc/bad.slice.conf"
if ! run bad.slice && [ ! -s "$d/log" ] && grep -q "bad.slice.conf:2: 'dma_heap/system': want 'POOL SIZE'" "$d/err"; then
	ok "a bad line: refused with file and line, nothing written"
else
	not_ok "a bad line: $(cat "$d/err"; cat "$d/log")"
fi
run missing.slice && not_ok "no file: not refused" || ok "no file: refused ($(cat "$d/err"))"

printf 'unknown 1M\nudmabuf 8M\n' > "$d/etc/part.slice.conf"
if ! run part.slice && grep -q "set /part.slice udmabuf 8M" "$d/log" &&
	grep -q "the limit of pool unknown is not applied" "$d/err"; then
	ok "an unknown pool: reported and the run fails, the other pools are set"
else
	not_ok "an unknown pool: $(cat "$d/err"; cat "$d/log")"
fi

rm -f "$d/cg/dmabuf.capacity"
if ! run rdma-jobs.slice && grep -q "has no dmabuf controller" "$d/err" && ! grep -q set "$d/log"; then
	ok "no controller: fails, saying so"
else
	not_ok "no controller: $(cat "$d/err")"
fi
echo "1..$n"
exit $failed
