#!/usr/bin/env bash
# Build the dmabuf test kernel from Debian's linux-source-6.12 and the series.
#
#   kernel/build.sh [bzimage]  tree + config + bzImage (build/obj/arch/x86/boot/bzImage)
#   kernel/build.sh tree       unpack the source and apply the series (build/linux)
#   kernel/build.sh config     merge the config fragments (build/obj/.config)
#   kernel/build.sh export     write build/linux's commits back to kernel/patches
#   kernel/build.sh reset      drop build/linux's work and re-apply the series
#   kernel/build.sh checkpatch checkpatch --strict on every patch of the series
#   kernel/build.sh each       build every patch on its own, with W=1 and sparse
#
# build/linux is a git tree: the tarball is its "base" tag and every patch of
# the series a commit on top (branch "dmabuf"). Work on it with git commit,
# rebase -i and friends, then "export". A change of the series re-applies
# only the patches from the first one that changed, so that a rebuild
# recompiles only what those patches touch.
#
# Environment: DEBUG_KERNEL=0 leaves out debug.config (KASAN, lockdep, KUnit),
# OBJ=DIR builds elsewhere (default build/obj), JOBS=N.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
src=$top/build/linux
obj=${OBJ:-$top/build/obj}
patches=$top/kernel/patches
tarball=/usr/src/linux-source-6.12.tar.xz
stamp=$src/.git/dmabuf-series
jobs=${JOBS:-$(($(nproc) + 1))}
fragments=("$src/kernel/configs/kvm_guest.config" "$top/kernel/configs/dmabuf.config"
	   "$top/kernel/configs/vm.config")
[ "${DEBUG_KERNEL:-1}" = 1 ] && fragments+=("$top/kernel/configs/debug.config")

# Let clones of the repo in other folders (CI) share ccache's entries.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$top}

log() { printf '[kernel] %s\n' "$*" >&2; }
die() { printf '[kernel] error: %s\n' "$*" >&2; exit 1; }
git_() { git -C "$src" -c user.name="dmabuf build" -c user.email=build@localhost \
	-c advice.detachedHead=false "$@"; }

source_version() { dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown; }
series() { grep -v -e '^#' -e '^$' "$patches/series"; }
series_id() {
	{ source_version; series | while read -r p; do cat "$patches/$p"; done; } |
		sha256sum | cut -d' ' -f1
}
save_stamp() { echo "$(series_id) $(git_ rev-parse HEAD)" > "$stamp"; }

new_tree() {
	[ -f "$tarball" ] || die "$tarball is missing: apt-get install linux-source-6.12"
	log "unpacking linux-source-6.12 $(source_version)"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" -xf "$tarball"
	mv "$src.tmp/linux-source-6.12" "$src"
	rmdir "$src.tmp"
	git -C "$src" init -q -b dmabuf
	# Debian's .gitignore ignores the whole top level: add with -f.
	git_ add -f -A
	git_ commit -q -m "Linux 6.12.$(sed -n 's/^SUBLEVEL = //p' "$src/Makefile") (Debian linux-source-6.12 $(source_version))"
	git_ tag base
}

# Re-apply the series, keeping the commits of the longest unchanged prefix.
apply_series() {
	local keep commits ids p i=0 n=0
	keep=$(git_ rev-parse base)
	mapfile -t commits < <(git_ rev-list --reverse base..HEAD)
	mapfile -t ids < <(series | while read -r p; do
		git_ patch-id --stable < "$patches/$p" | cut -d' ' -f1; done)
	while [ $i -lt ${#commits[@]} ] && [ $i -lt ${#ids[@]} ] &&
	      [ "$(git_ show "${commits[$i]}" | git_ patch-id --stable | cut -d' ' -f1)" = "${ids[$i]}" ]; do
		keep=${commits[$i]}
		i=$((i + 1))
	done
	git_ checkout -q -f -B dmabuf
	git_ reset -q --hard "$keep"
	while read -r p; do
		n=$((n + 1))
		[ $n -le $i ] && continue
		git_ am -q --keep-cr "$patches/$p" || { git_ am --abort || true; die "$p does not apply to $(git_ log -1 --format=%s base)"; }
	done < <(series)
	log "series: $n patches ($i unchanged, $((n - i)) applied)"
	save_stamp
}

cmd_tree() {
	if [ ! -d "$src/.git" ]; then
		new_tree
		apply_series
		return
	fi
	local have= head=
	[ -f "$stamp" ] && read -r have head < "$stamp"
	[ "$(series_id)" = "$have" ] && return
	if [ -z "$head" ] || [ "$(git_ rev-parse HEAD)" != "$head" ] ||
	   [ -n "$(git_ status --porcelain --untracked-files=no)" ]; then
		die "build/linux has work that is not in kernel/patches: 'kernel/build.sh export' keeps it, 'kernel/build.sh reset' drops it"
	fi
	if ! git_ log -1 --format=%s base | grep -qF "$(source_version))"; then
		log "linux-source-6.12 is now $(source_version): new tree"
		new_tree
	fi
	apply_series
}

cmd_export() {
	[ -d "$src/.git" ] || die "no tree: run 'kernel/build.sh tree' first"
	[ -z "$(git_ status --porcelain --untracked-files=no)" ] ||
		die "build/linux has uncommitted changes: commit them first"
	rm -f "$patches"/*.patch
	git_ format-patch -q --no-signature --zero-commit -o "$patches" base..HEAD
	(cd "$patches" && ls -1 -- *.patch) > "$patches/series"
	save_stamp
	log "exported $(wc -l < "$patches/series") patches to kernel/patches"
}

cmd_checkpatch() {
	local p rc=0
	for p in $(series); do
		"$src/scripts/checkpatch.pl" --strict -q --no-summary "$patches/$p" || rc=1
	done
	[ $rc = 0 ] && log "checkpatch --strict: $(series | wc -l) patches clean"
	return $rc
}

# Generate the config in a scratch directory and install it only if it
# differs, so that an unchanged config does not make kbuild rebuild.
cmd_config() {
	local tmp=$top/build/config.tmp f missing
	rm -rf "$tmp"
	mkdir -p "$tmp" "$obj"
	make -s -C "$src" O="$tmp" defconfig >/dev/null
	(cd "$tmp" && "$src/scripts/kconfig/merge_config.sh" -m -O "$tmp" "$tmp/.config" \
		"${fragments[@]}" >/dev/null)
	make -s -C "$src" O="$tmp" olddefconfig >/dev/null
	# Every =y of ours must survive olddefconfig (kvm_guest.config has
	# options of other architectures and for DRM, which we leave out).
	missing=$(cat "${fragments[@]:1}" | grep -E '^CONFIG_[A-Z0-9_]+=y' | while read -r f; do
		grep -qx "$f" "$tmp/.config" || echo "$f"; done)
	[ -z "$missing" ] || die "config options did not stick: $missing"
	if ! cmp -s "$tmp/.config" "$obj/.config"; then
		log "new config: defconfig + ${fragments[*]##*/}"
		cp "$tmp/.config" "$obj/.config"
	fi
	rm -rf "$tmp"
}

cmd_bzimage() {
	cmd_tree
	cmd_config
	local cc=gcc
	command -v ccache >/dev/null && cc="ccache gcc"
	log "building bzImage in ${obj#"$top"/} (-j$jobs, $cc)"
	make -s -C "$src" O="$obj" CC="$cc" -j"$jobs" bzImage
	log "built ${obj#"$top"/}/arch/x86/boot/bzImage"
}

# Every patch of the series must build on its own, without W=1 warnings in
# the files it touches and sparse-clean: build bzImage at each commit.
cmd_each() {
	local tip commits c objs rc=0 n=0 logf=$top/build/each.log
	tip=$(git_ rev-parse HEAD)
	[ -z "$(git_ status --porcelain --untracked-files=no)" ] ||
		die "build/linux has uncommitted changes: commit them first"
	mapfile -t commits < <(git_ rev-list --reverse base..HEAD)
	: > "$logf"
	for c in "${commits[@]}"; do
		n=$((n + 1))
		git_ checkout -q "$c"
		mapfile -t objs < <(git_ diff --name-only "$c~1" "$c" -- '*.c' |
			grep -v -e '^tools/' -e '_kunit\.c$' | sed 's/\.c$/.o/')
		if ! make -s -C "$src" O="$obj" CC="$cc" -j"$jobs" bzImage >> "$logf" 2>&1; then
			log "patch $n does not build: $(git_ log -1 --format=%s "$c") (see build/each.log)"
			rc=1
			continue
		fi
		if [ ${#objs[@]} -gt 0 ] &&
		   make -C "$src" O="$obj" CC="$cc" W=1 C=2 CHECK=sparse "${objs[@]}" 2>&1 |
		   tee -a "$logf" | grep -E 'warning:|error:'; then
			log "patch $n has W=1 or sparse warnings: $(git_ log -1 --format=%s "$c")"
			rc=1
			continue
		fi
		log "patch $n builds, W=1 and sparse clean: $(git_ log -1 --format=%s "$c")"
	done
	git_ checkout -q dmabuf
	[ "$(git_ rev-parse HEAD)" = "$tip" ] || die "could not return to the tip of the series"
	return $rc
}

case ${1:-bzimage} in
bzimage) cmd_bzimage ;;
tree) cmd_tree ;;
config) cmd_tree; cmd_config ;;
export) cmd_export ;;
reset) [ -d "$src/.git" ] || new_tree; apply_series ;;
checkpatch) cmd_tree; cmd_checkpatch ;;
each) cmd_tree; cmd_config; cc=gcc; command -v ccache >/dev/null && cc="ccache gcc"; cmd_each ;;
*) die "unknown command '$1': bzimage, tree, config, export, reset, checkpatch, each" ;;
esac
