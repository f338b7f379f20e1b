#!/usr/bin/env bash
# Build the dmabuf test kernel from Debian's linux-source-$KVER and its series.
#
#   kernel/build.sh [bzimage]  tree + config + bzImage (build/obj-$KVER/arch/x86/boot/bzImage)
#   kernel/build.sh tree       unpack the source and apply the series (build/linux-$KVER)
#   kernel/build.sh config     merge the config fragments (build/obj-$KVER/.config)
#   kernel/build.sh export     write build/linux-$KVER's commits back to the series
#   kernel/build.sh reset      drop build/linux-$KVER's work and re-apply the series
#   kernel/build.sh checkpatch checkpatch --strict on every patch of the series
#   kernel/build.sh maintainers every file the series adds has a maintainer
#   kernel/build.sh each       build every patch on its own, with W=1 and sparse
#   kernel/build.sh uml        the UML kernel of the KUnit suites that run on UML (TTM's)
#   kernel/build.sh squash     squash fixup! commits without touching the tree's files
#   kernel/build.sh deb        Debian packages with Debian's config + the controller (build/kernel-deb/$KVER)
#   kernel/build.sh series-id  the series' id (Debian's source version and the patches), which
#                              deb records in build/kernel-deb/$KVER/built-from
#
# KVER=7.3 (the default) is the mainline series, kernel/patches, on Debian's
# linux-source-7.3 (trixie-backports). KVER=6.12 is the LTS backport,
# kernel/patches-6.12, on Debian 12's linux-source-6.12: its series file
# names mainline patches that apply unchanged as ../patches/NAME, and holds
# its own copy of those that had to change, plus backport-only patches.
# "export" on 6.12 writes a commit as ../patches/NAME when it is the same
# change (git patch-id) as the mainline patch of the same subject.
#
# build/linux-$KVER is a git tree: the tarball is its "base" tag and every
# patch of the series a commit on top (branch "dmabuf"). Work on it with git
# commit, rebase -i and friends, then "export". A change of the series
# re-applies only the patches from the first one that changed, so that a
# rebuild recompiles only what those patches touch.
#
# Environment: KVER=7.3|6.12, DEBUG_KERNEL=0 leaves out debug.config (KASAN,
# lockdep, KUnit) and debug-$KVER.config, OBJ=DIR builds elsewhere (default
# build/obj-$KVER), JOBS=N, KERNEL_BUILD_CACHE=0 builds even when the build
# cache (below) has the result.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kver=${KVER:-7.3}
case $kver in
7.3) patches=$top/kernel/patches ;;
6.12) patches=$top/kernel/patches-6.12 ;;
*) echo "[kernel] error: KVER=$kver: the series exist for 7.3 (mainline) and 6.12 (backport)" >&2; exit 1 ;;
esac
mainline=$top/kernel/patches
src=$top/build/linux-$kver
obj=${OBJ:-$top/build/obj-$kver}
pkg=linux-source-$kver
tarball=/usr/src/$pkg.tar.xz
stamp=$src/.git/dmabuf-series
# Where 'each' checks the commits out: a worktree of the tree.
each_wt=$top/build/each-src-$kver
jobs=${JOBS:-$(($(nproc) + 1))}
fragments=("$src/kernel/configs/kvm_guest.config" "$top/kernel/configs/dmabuf.config"
	   "$top/kernel/configs/vm.config")
# What one kernel has and the other lacks (dmem and the test device: 7.3).
[ -f "$top/kernel/configs/dmabuf-$kver.config" ] &&
	fragments+=("$top/kernel/configs/dmabuf-$kver.config")
if [ "${DEBUG_KERNEL:-1}" = 1 ]; then
	fragments+=("$top/kernel/configs/debug.config")
	[ -f "$top/kernel/configs/debug-$kver.config" ] &&
		fragments+=("$top/kernel/configs/debug-$kver.config")
fi
# EXTRA_CONFIG=FILE... merges more fragments.
for f in ${EXTRA_CONFIG:-}; do
	fragments+=("$(cd "$top" && realpath "$f")")
done

# Let clones of the repo in other folders (CI) share ccache's entries.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$top}

log() { printf '[kernel %s] %s\n' "$kver" "$*" >&2; }
die() { printf '[kernel %s] error: %s\n' "$kver" "$*" >&2; exit 1; }
git_() { git -C "$src" -c user.name="dmabuf build" -c user.email=build@localhost \
	-c advice.detachedHead=false "$@"; }

source_version() { dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || echo unknown; }
series() { grep -v -e '^#' -e '^$' "$patches/series"; }
series_id() {
	{ source_version; series | while read -r p; do cat "$patches/$p"; done; } |
		sha256sum | cut -d' ' -f1
}
save_stamp() { echo "$(series_id) $(git_ rev-parse HEAD)" > "$stamp"; }

new_tree() {
	[ -f "$tarball" ] || die "$tarball is missing: 'make deps' installs $pkg"
	log "unpacking $pkg $(source_version)"
	# The old tree's worktree goes with it; not under a running 'each'.
	exec {wt_fd}>"$each_wt.lock"
	flock -n "$wt_fd" ||
		die "an 'each' is running in ${each_wt#"$top"/}: let it end (or stop it) before a new tree"
	rm -rf "$each_wt" "$src" "$src.tmp"
	exec {wt_fd}>&-
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" -xf "$tarball"
	mv "$src.tmp/$pkg" "$src"
	rmdir "$src.tmp"
	git -C "$src" init -q -b dmabuf
	# No background "git gc --auto" after the huge base commit: it races
	# the git am that follows ("unable to write index file").
	git -C "$src" config gc.auto 0
	git -C "$src" config maintenance.auto false
	git -C "$src" config gc.autoDetach false
	# Debian's .gitignore ignores the whole top level: add with -f.
	git_ add -f -A
	git_ commit -q -m "Linux $kver.$(sed -n 's/^SUBLEVEL = //p' "$src/Makefile") (Debian $pkg $(source_version))"
	git_ tag base
}

# The backport applies mainline patches (../patches/NAME in its series) with
# fuzz, as quilt would, when their context differs on 6.12. .git/dmabuf-shared
# records "PATCH-ID ENTRY" for the commit each of them became, so that the
# commit is recognised as that patch again (apply_series, export).
shared=$src/.git/dmabuf-shared

# The patch-id a series entry has once applied.
entry_id() {	# entry_id ENTRY
	local id
	if [[ $1 == ../* ]] && [ -f "$shared" ] &&
	   id=$(awk -v e="$1" -v h="$(sha256sum < "$patches/$1" | cut -c1-16)" \
		'$2 == e && $3 == h { print $1 }' "$shared") &&
	   [ -n "$id" ]; then
		echo "$id"
	else
		git_ patch-id --stable < "$patches/$1" | cut -d' ' -f1
	fi
}

# Apply one patch as a commit with its author, date and message.
apply_patch() {	# apply_patch ENTRY
	local p=$1 f=$patches/$1 err=$src/.git/dmabuf-am.err info
	if [ "$kver" = 6.12 ] && [[ $p == ../* ]]; then
		# The mechanical part of the backport, made here rather than in
		# copies of the patches: 6.12 spells symbol namespaces unquoted
		# (6.13 quoted them), calls the importer's notification
		# move_notify (later renamed invalidate_mappings), a kernfs
		# node's parent is a plain pointer (later an __rcu __parent),
		# the cgroup selftests build cgroup_util.c themselves and
		# include ../kselftest.h (later lib/libcgroup.mk, kselftest.h),
		# and dma-buf's list of buffers is debugfs_list (later
		# dmabuf_list).
		sed -E -e 's/(EXPORT_SYMBOL_NS(_GPL)?\([A-Za-z0-9_]+, )"([A-Z0-9_]+)"\)/\1\3)/' \
			-e 's/^([ +]\$\(OUTPUT\)\/test_[a-z_]+:) \$\(LIBCGROUP_O\)$/\1 cgroup_util.c/' \
			-e 's/^\+#include "kselftest.h"$/+#include "..\/kselftest.h"/' \
			-e 's/MODULE_IMPORT_NS\("([A-Z0-9_]+)"\)/MODULE_IMPORT_NS(\1)/' \
			-e 's/\bdma_buf_invalidate_mappings\b/dma_buf_move_notify/g' \
			-e 's/\binvalidate_mappings\b/move_notify/g' \
			-e 's/RCU_INIT_POINTER\(([a-z]+)->__parent, ([a-z]+)\);/\1->parent = \2;/' \
			-e 's/\bdmabuf_list(_mutex)?\b/debugfs_list\1/g' \
			"$f" > "$src/.git/dmabuf-612.patch"
		f=$src/.git/dmabuf-612.patch
	fi
	if git_ am -q --keep-cr "$f" > "$err" 2>&1; then
		:
	elif git_ am --abort 2>/dev/null; [[ $p == ../* ]] && grep -q -e '^error: patch failed' -e 'does not apply' "$err"; then
		# A mainline patch whose context moved: fuzz, as quilt does.
		if ! patch -d "$src" -p1 -F3 -s --no-backup-if-mismatch < "$f" > "$err" 2>&1; then
			cat "$err" >&2
			git_ reset -q --hard
			git_ clean -q -f -d -x -e .git
			die "$p does not apply to $(git_ log -1 --format=%s base), even with fuzz: refresh kernel/patches-$kver (Documentation/building.md)"
		fi
		log "${p#../patches/}: applied with fuzz"
		info=$(git_ mailinfo "$src/.git/dmabuf-msg" /dev/null < "$f")
		git_ add -f -A
		GIT_AUTHOR_NAME=$(sed -n 's/^Author: //p' <<< "$info") \
		GIT_AUTHOR_EMAIL=$(sed -n 's/^Email: //p' <<< "$info") \
		GIT_AUTHOR_DATE=$(sed -n 's/^Date: //p' <<< "$info") \
			git_ commit -q -F - < <(sed -n 's/^Subject: //p' <<< "$info"; echo; cat "$src/.git/dmabuf-msg")
	else
		# (Without git's advice to continue the am it aborted.)
		sed -e '/^When you have resolved/,$d' -e '/^hint: /d' "$err" >&2
		grep -q -e '^error: patch failed' -e 'does not apply' "$err" &&
			die "$p does not apply to $(git_ log -1 --format=%s base)"
		die "git am $p failed (git's error above)"
	fi
	if [[ $p == ../* ]]; then
		sed -i "\| $p |d" "$shared" 2>/dev/null || true
		echo "$(git_ show HEAD | git_ patch-id --stable | cut -d' ' -f1) $p $(sha256sum < "$patches/$p" | cut -c1-16)" >> "$shared"
	fi
}

# Re-apply the series, keeping the commits of the longest unchanged prefix.
apply_series() {
	local keep commits ids p i=0 n=0
	keep=$(git_ rev-parse base)
	mapfile -t commits < <(git_ rev-list --reverse base..HEAD)
	mapfile -t ids < <(series | while read -r p; do entry_id "$p"; done)
	git -C "$src" config gc.auto 0
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
		apply_patch "$p"
	done < <(series)
	# Only the entries of this series keep a record: a renumbered mainline
	# patch must not be found under its old name.
	if [ -f "$shared" ]; then
		awk 'NR == FNR { entry[$0]; next } $2 in entry' <(series) "$shared" > "$shared.tmp"
		mv "$shared.tmp" "$shared"
	fi
	log "series: $n patches ($i unchanged, $((n - i)) applied)"
	save_stamp
}

cmd_tree() {
	if [ ! -d "$src/.git" ]; then
		new_tree
		apply_series
		return
	fi
	local have="" head=""
	[ -f "$stamp" ] && read -r have head < "$stamp"
	if [ "$(series_id)" = "$have" ]; then
		# Up to date; but what is built is always the tip of the
		# series, whatever was checked out by hand.
		[ "$(git_ rev-parse HEAD)" = "$head" ] &&
			[ "$(git_ symbolic-ref -q HEAD)" = refs/heads/dmabuf ] && return
		[ -z "$(git_ status --porcelain --untracked-files=no)" ] ||
			die "${src#"$top"/} is not at the tip of the series and has changes: commit or drop them"
		log "checking out the tip of the series"
		git_ checkout -q dmabuf
		[ "$(git_ rev-parse HEAD)" = "$head" ] ||
			die "${src#"$top"/}: branch dmabuf has commits that are not in ${patches#"$top"/}: 'KVER=$kver kernel/build.sh export' keeps them"
		return
	fi
	if [ -z "$head" ] || [ "$(git_ rev-parse HEAD)" != "$head" ] ||
	   [ -n "$(git_ status --porcelain --untracked-files=no)" ]; then
		die "${src#"$top"/} has work that is not in ${patches#"$top"/}: 'KVER=$kver kernel/build.sh export' keeps it, 'KVER=$kver kernel/build.sh reset' drops it"
	fi
	if ! git_ log -1 --format=%s base | grep -qF "$(source_version))"; then
		log "$pkg is now $(source_version): new tree"
		new_tree
	fi
	apply_series
}

cmd_export() {
	local tmp=$top/build/export-$kver f m id hash
	[ -d "$src/.git" ] || die "no tree: run 'KVER=$kver kernel/build.sh tree' first"
	[ -z "$(git_ status --porcelain --untracked-files=no)" ] ||
		die "${src#"$top"/} has uncommitted changes: commit them first"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	if [ "$patches" = "$mainline" ]; then
		# The cover letter's text is kept in kernel/cover-letter.txt.
		git_ config branch.dmabuf.description "$(cat "$top/kernel/cover-letter.txt")"
		# The cover letter is from the series' author (format-patch takes
		# the committer, this script's "dmabuf build").
		git_ -c user.name="$(git_ log -1 --format=%an HEAD)" -c user.email="$(git_ log -1 --format=%ae HEAD)" \
			format-patch -q --no-signature --zero-commit --cover-letter \
			--cover-from-description=subject -o "$tmp" base..HEAD
		mv "$tmp"/0000-cover-letter.patch "$tmp/cover-letter"
	else
		git_ format-patch -q --no-signature --zero-commit -o "$tmp" base..HEAD
	fi
	# Written to $tmp/out first: an export that stops changes nothing.
	mkdir -p "$tmp/out"
	[ -f "$tmp/cover-letter" ] && mv "$tmp/cover-letter" "$tmp/out/0000-cover-letter.patch"
	: > "$tmp/out/series"
	[ "$patches" != "$mainline" ] && cat > "$tmp/out/series" <<-EOF
	# The $kver backport (Documentation/building.md): the mainline series'
	# patches as ../patches/NAME, the backport's own patches by name.
	EOF
	for f in "$tmp"/*.patch; do
		if [ "$patches" != "$mainline" ]; then
			# The commit a mainline patch became, unchanged: share it.
			id=$(git_ patch-id --stable < "$f" | cut -d' ' -f1)
			read -r m hash < <(awk -v id="$id" '$1 == id { print $2, $3; exit }' "$shared" 2>/dev/null) || true
			if [ -n "$m" ] && [ -f "$patches/$m" ]; then
				# Applied from an older version of the mainline patch?
				[ "$(sha256sum < "$patches/$m" | cut -c1-16)" = "$hash" ] ||
					die "$m changed since it was applied to ${src#"$top"/}: 'KVER=$kver kernel/build.sh tree' first"
				echo "$m" >> "$tmp/out/series"
				continue
			fi
		fi
		mv "$f" "$tmp/out/"
		echo "${f##*/}" >> "$tmp/out/series"
	done
	rm -f "$patches"/*.patch
	mv "$tmp"/out/* "$patches/"
	rm -rf "$tmp"
	save_stamp
	log "exported $(grep -vc '^#' "$patches/series") patches to ${patches#"$top"/} ($(grep -c '^\.\./' "$patches/series" || true) shared with mainline)"
}

cmd_checkpatch() {
	local p rc=0
	for p in $(series); do
		"$top/kernel/checkpatch.sh" "$src" "$patches/$p" || rc=1
	done
	[ $rc = 0 ] && log "checkpatch --strict: $(series | wc -l) patches clean"
	export_lengths || rc=1
	cmd_maintainers || rc=1
	return $rc
}

# modpost of a kernel with CONFIG_MODVERSIONS and no EXTENDED_MODVERSIONS
# (Debian's 6.12, for one) refuses a module that uses a symbol of
# MODULE_NAME_LEN (64 - sizeof(long): 56 on 64-bit) characters or more: no
# build here but the packages has that config, so the series' exports are
# checked by name.
export_lengths() {
	local p sym bad=()
	for p in $(series); do
		while read -r sym; do
			[ ${#sym} -lt 56 ] || bad+=("$sym (${#sym}, $p)")
		done < <(sed -nE 's/^\+[[:space:]]*EXPORT_SYMBOL(_NS)?(_GPL)?(_FOR_MODULES)?\(([A-Za-z0-9_]+)[,)].*/\4/p' "$patches/$p")
	done
	[ ${#bad[@]} = 0 ] && return 0
	log "exported symbols too long for modpost with CONFIG_MODVERSIONS (55 characters at most): ${bad[*]}"
	return 1
}

# checkpatch asks of every added file whether MAINTAINERS needs updating:
# each file the series adds must be the controller's (its own section), or
# a test in a directory whose subsystem keeps its tests there (the dma-buf
# core's KUnit suites). A parent directory's section is not enough: CGROUP
# covers kernel/cgroup/, and would hide a missing F: line.
own_section="CONTROL GROUP - DMA-BUF PINNED MEMORY CONTROLLER"
cmd_maintainers() {
	local f n=0 bad=() out
	while read -r f; do
		[ -n "$f" ] || continue
		n=$((n + 1))
		out=$(cd "$src" && scripts/get_maintainer.pl --no-git --no-git-fallback -f "$f" 2>&1) || true
		case $f in
		drivers/dma-buf/st-*.c)
			[[ $out == *"(maintainer:DMA BUFFER SHARING FRAMEWORK"* ]] || bad+=("$f") ;;
		*)	[[ $out == *"(maintainer:$own_section)"* ]] || bad+=("$f") ;;
		esac
	done < <(git_ diff --no-renames --diff-filter=A --name-only base dmabuf)
	if [ ${#bad[@]} -gt 0 ]; then
		log "files the series adds that their MAINTAINERS section does not name: ${bad[*]}"
		return 1
	fi
	log "MAINTAINERS: the $n files the series adds are in their sections"
}

# The build cache: what a test build made (the test kernel's bzImage, the
# UML KUnit kernel, the trimmed test package of 'deb') is kept outside the
# repo, beside ccache's entries, under a key of everything it was built
# from, so that a clean clone (CI's) that builds the same takes it from
# there: kbuild with every object in ccache still takes about 8 minutes per
# debug kernel here. The key: the tree's contents (its git tree: the tarball
# and the series as applied), the config, the versions of gcc, binutils and
# pahole, this script, the settings kbuild and the packaging take from the
# environment or from make's command line, and what the build is told. A
# tree with changes not committed, or with files git does not track, is
# built and never cached. The 3 entries of each kind used last are kept.
# KERNEL_BUILD_CACHE=0 builds anyway, and keeps nothing.
bcache=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/dmabuf-cgroup/kernel-builds

# bcache_key KIND [INPUT...]: prints KIND-HASH, or fails when the build
# cannot be cached.
bcache_key() {
	local status untracked tree
	[ "${KERNEL_BUILD_CACHE:-1}" != 0 ] || return 1
	status=$(git_ status --porcelain) || return 1
	# Debian's .gitignore hides the whole top level: git status does not
	# show a new file. (kunit.py leaves its __pycache__ in the tree.)
	# (checkpatch.pl leaves .checkpatch-camelcase.git.* in it.)
	untracked=$(git_ ls-files --others --exclude=__pycache__ --exclude='.checkpatch-camelcase.*' \
		--directory --no-empty-directory) || return 1
	if [ -n "$status$untracked" ]; then
		log "not cached: ${src#"$top"/} has changes not committed, or files git does not track"
		return 1
	fi
	tree=$(git_ rev-parse 'HEAD^{tree}') || return 1
	{
		printf '%s\n' "$@" "tree $tree"
		gcc --version | head -n1
		ld --version | head -n1
		pahole --version 2>/dev/null || echo "no pahole"
		sha256sum < "${BASH_SOURCE[0]}"
		# What kbuild and bindeb-pkg read from the environment; make
		# exports the variables given on its command line (make kernels
		# KCFLAGS=...) to it too. (awk, not grep: none is no failure.)
		env | awk '/^(K[A-Z]*FLAGS|KBUILD_[A-Z_]+|KCONFIG_[A-Z_]+|KDEB_[A-Z_]+|LLVM[A-Z_]*|CROSS_COMPILE|ARCH|LOCALVERSION|INSTALL_MOD_[A-Z_]+|DEB_[A-Z_]+|DEBEMAIL|DEBFULLNAME|SOURCE_DATE_EPOCH|W|C)=/' |
			LC_ALL=C sort
	} | sha256sum | cut -c1-32 | sed "s/^/$1-/"
}

# bcache_get KEY DIR: copies the entry's files into DIR; fails on a miss.
bcache_get() {
	local entry=$bcache/${1:-none}
	[ -n "$1" ] && [ -d "$entry" ] || return 1
	mkdir -p "$2" "$bcache"
	# Not evicted while it is copied (bcache_put evicts under the lock).
	if ! (
		flock -s 9 || exit 1
		[ -d "$entry" ] && touch "$entry" &&
			find "$entry" -mindepth 1 -maxdepth 1 -exec cp -p -t "$2" -- {} +
	) 9> "$bcache/.lock"; then
		# No half-copied file for kbuild to take as up to date.
		find "$entry" -mindepth 1 -maxdepth 1 -printf '%f\0' 2>/dev/null |
			(cd "$2" && xargs -r -0 rm -f --) || :
		return 1
	fi
	log "${2#"$top"/}: taken from the build cache, built before from this tree and config (${bcache/#"${HOME:-/root}"/\~}/$1; KERNEL_BUILD_CACHE=0 builds anyway)"
}

# bcache_put KEY DIR FILE...: keeps DIR's FILEs as the entry KEY (none
# when KEY is empty), then drops all but the 3 entries of its kind used
# last. A failure costs the next run a build, and fails nothing.
bcache_put() {
	local key=$1 dir=$2 tmp=
	shift 2
	[ -n "$key" ] || return 0
	if mkdir -p "$bcache" && tmp=$(mktemp -d "$bcache/.new-XXXXXX") &&
	   (cd "$dir" && cp -p -- "$@" "$tmp/") && chmod 755 "$tmp"; then
		(
			flock 9 || exit 1
			# Another build of the same key may have come first: keep its.
			mv -T "$tmp" "$bcache/$key" 2>/dev/null || rm -rf "$tmp"
			find "$bcache" -mindepth 1 -maxdepth 1 -name "${key%-*}-*" -printf '%T@ %p\n' |
				BCACHE_KIND="$bcache/${key%-*}-" awk '{ p = substr($0, index($0, " ") + 1) }
					substr(p, 1, length(ENVIRON["BCACHE_KIND"])) == ENVIRON["BCACHE_KIND"] &&
					length(p) == length(ENVIRON["BCACHE_KIND"]) + 32' |
				LC_ALL=C sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r -d '\n' rm -rf --
			# What builds killed while they wrote left.
			find "$bcache" -mindepth 1 -maxdepth 1 -name '.new-*' -mmin +1440 -exec rm -rf -- {} +
		) 9> "$bcache/.lock" || { rm -rf "$tmp"; log "could not keep the build in $bcache (its lock)"; }
	else
		[ -n "$tmp" ] && rm -rf "$tmp"
		log "could not keep the build in $bcache: the next build of it is a full one"
	fi
	return 0
}

# Generate the config in a scratch directory and install it only if it
# differs, so that an unchanged config does not make kbuild rebuild.
cmd_config() {
	local tmp=$top/build/config-$kver.tmp f missing
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
	local cc=gcc key boot=$obj/arch/x86/boot
	key=$(bcache_key "bzimage-${obj##*/}" "$(sha256sum < "$obj/.config")") || key=
	bcache_get "$key" "$boot" && return
	command -v ccache >/dev/null && cc="ccache gcc"
	log "building bzImage in ${obj#"$top"/} (-j$jobs, $cc)"
	make -s -C "$src" O="$obj" CC="$cc" -j"$jobs" bzImage
	log "built ${boot#"$top"/}/bzImage"
	bcache_put "$key" "$boot" bzImage
}

# Squash the tree's "fixup!", "amend!" and "squash!" commits into the
# patches they name, as "git rebase -i --autosquash" would, but in a worktree
# of its own: a rebase in the tree itself rewinds every file the series
# touches and so makes kbuild rebuild most of the kernel. The tree's files
# stay as they are (the result has the same tree); only its branch moves.
cmd_squash() {
	local wt=$top/build/squash-$kver old new
	old=$(git_ rev-parse HEAD)
	[ "$(git_ symbolic-ref -q HEAD)" = refs/heads/dmabuf ] ||
		die "${src#"$top"/} is not on branch dmabuf"
	[ -z "$(git_ status --porcelain --untracked-files=no)" ] ||
		die "${src#"$top"/} has uncommitted changes: commit them first"
	# Not grep -q: it exits at the first match, and git log's SIGPIPE
	# fails the pipeline (pipefail) when the fixup is the newest commit.
	[ -n "$(git_ log --format=%s base..HEAD | grep -E '^(fixup|squash|amend)! ')" ] ||
		{ log "nothing to squash"; return 0; }
	rm -rf "$wt"
	git_ worktree prune
	git_ worktree add -q --detach "$wt" "$old"
	if ! GIT_SEQUENCE_EDITOR=true GIT_EDITOR=true git -C "$wt" -c user.name="dmabuf build" \
		-c user.email=build@localhost rebase -q -i --autosquash base; then
		git -C "$wt" rebase --abort 2>/dev/null
		git_ worktree remove --force "$wt"
		die "the fixups do not squash cleanly: squash them by hand"
	fi
	new=$(git -C "$wt" rev-parse HEAD)
	git_ worktree remove --force "$wt"
	[ "$(git_ rev-parse "$new^{tree}")" = "$(git_ rev-parse "$old^{tree}")" ] ||
		die "squashing changed the tree: left as it was"
	git_ update-ref -m "squash fixups" refs/heads/dmabuf "$new" "$old"
	log "squashed: $(git_ rev-list --count base..dmabuf) patches"
}

# KUnit suites that run on UML, as their subsystem intends: TTM's (with the
# series' tests of the pools of TTM placements) "depends on UML ||
# COMPILE_TEST", since no other TTM driver may be loaded while they run.
# kernel/configs/kunit-uml.kunitconfig, built in build/kunit-uml-$KVER;
# tests/check.sh runs it with "kunit.py exec".
cmd_uml() {
	cmd_tree
	local cc=gcc key dir=$top/build/kunit-uml-$kver
	local kunitconfig=$top/kernel/configs/kunit-uml.kunitconfig
	# What kunit.py exec runs: the kernel, and the config it checks.
	key=$(bcache_key "uml-$kver" "$(sha256sum < "$kunitconfig")") || key=
	bcache_get "$key" "$dir" && return
	command -v ccache >/dev/null && cc="ccache gcc"
	log "building the UML KUnit kernel in build/kunit-uml-$kver (-j$jobs, $cc)"
	python3 "$src/tools/testing/kunit/kunit.py" build --kunitconfig="$kunitconfig" \
		--build_dir="$dir" --make_options CC="$cc" \
		--jobs "$jobs" > "$top/build/kunit-uml-$kver.log" 2>&1 ||
		die "the UML KUnit kernel did not build (see build/kunit-uml-$kver.log)"
	bcache_put "$key" "$dir" linux .config
}

# Every patch of the series must build on its own, without W=1 warnings in
# the files it touches and sparse-clean. The per-patch builds use a small
# configuration of their own (allnoconfig + kernel/configs/series.config, in
# build/obj-series-$KVER): every file of the series is compiled, importers
# as modules, and a patch that changes a widely included header rebuilds
# minutes of kernel, not the debug test kernel's hour.
series_config() {
	local f missing all=$top/build/series-$kver.config
	mkdir -p "$sobj"
	# What one series touches and the other lacks: series-$kver.config.
	cat "$top/kernel/configs/series.config" > "$all"
	[ ! -f "$top/kernel/configs/series-$kver.config" ] ||
		cat "$top/kernel/configs/series-$kver.config" >> "$all"
	make -s -C "$src" O="$sobj" KCONFIG_ALLCONFIG="$all" allnoconfig >/dev/null
	missing=$(grep -E '^CONFIG_[A-Z0-9_]+=[ym]' "$all" |
		while read -r f; do
			grep -qx "$f" "$sobj/.config" && continue
			# Options the series adds do not exist before their patch.
			f=${f%%=*}
			if git_ grep -q "^config ${f#CONFIG_}\$" -- '*Kconfig*'; then
				echo "$f"
			fi
		done)
	[ -z "$missing" ] || die "series.config: options did not stick: $missing"
}

# The warnings and errors of a W=1/sparse build log, without line numbers,
# so that a patch's are told from those its files had before it.
warnings() {
	grep -E 'warning:|error:' | sed -E 's/:[0-9]+(:[0-9]+)?:/:/' || true
}

cmd_each() {
	local tip commits c objs out mrc nosparse new_warnings base rc=0 n=0
	local logf=$top/build/each-$kver.log
	local sobj=$top/build/obj-series-$kver
	local wt=$each_wt each_fd
	tip=$(git_ rev-parse dmabuf)
	# The commits are checked out in a worktree of their own, so that the
	# tree stays at the tip, free for work and for the other commands, for
	# the hours this takes. One 'each' at a time per worktree: a second
	# one gives up rather than hold the tree's lock while it waits.
	exec {each_fd}>"$wt.lock"
	flock -n "$each_fd" ||
		die "another 'each' is running in ${wt#"$top"/}"
	# A worktree of an older tree (unpacked again since) is made anew.
	if [ "$(git -C "$wt" rev-parse --path-format=absolute --git-common-dir 2>/dev/null)" != "$src/.git" ]; then
		rm -rf "$wt"
		git_ worktree prune
		git_ worktree add -q --detach "$wt" "$tip"
	fi
	flock -u "$lock_fd"
	log "checking the series at $(git_ rev-parse --short "$tip") in ${wt#"$top"/}"
	local src=$wt
	mapfile -t commits < <(git_ rev-list --reverse "base..$tip")
	: > "$logf"
	# A sparse that can check this kernel (Debian 12's cannot check 7.3).
	local sparse
	sparse=$("$top/kernel/sparse.sh" "$src") || {
		log "sparse: none can check this kernel (see above); W=1 only"
		sparse=sparse
	}
	git_ checkout -q -f base
	series_config
	log "building the base in ${sobj#"$top"/} (allnoconfig + series.config)"
	make -s -C "$src" O="$sobj" CC="$cc" -j"$jobs" bzImage modules >> "$logf" 2>&1 ||
		die "the base does not build with series.config (see ${logf#"$top"/})"
	for c in "${commits[@]}"; do
		n=$((n + 1))
		nosparse=
		git_ checkout -q "$c"
		# A patch may add a Kconfig option series.config names.
		series_config
		mapfile -t objs < <(git_ diff --name-only "$c~1" "$c" -- '*.c' |
			grep -v -e '^tools/' -e '_kunit\.c$' | sed 's/\.c$/.o/')
		if ! make -s -C "$src" O="$sobj" CC="$cc" -j"$jobs" bzImage modules >> "$logf" 2>&1; then
			log "patch $n does not build: $(git_ log -1 --format=%s "$c") (see ${logf#"$top"/})"
			rc=1
			continue
		fi
		if [ ${#objs[@]} -gt 0 ]; then
			mrc=0
			out=$(make -C "$src" O="$sobj" CC="$cc" W=1 C=2 CHECK="$sparse" \
				"${objs[@]}" 2>&1) || mrc=$?
			printf '%s\n' "$out" >> "$logf"
			# kbuild drops C=2 with only a note when sparse is too old
			# for the kernel (Debian 12's 0.6.4 is, for 7.3): say so.
			if grep -q 'sparse is not available or not up to date' <<< "$out"; then
				nosparse=1
			fi
			new_warnings=$(warnings <<< "$out")
			if [ "$mrc" = 0 ] && [ -n "$new_warnings" ]; then
				# Only what the patch adds: the files it touches may
				# have warnings of their own upstream (vfio_pci_core.c
				# has sparse's). Compare with the files before it.
				git_ checkout -q "$c~1"
				# Files the patch adds have no rule before it: -k, and
				# a failed make is fine here.
				base=$(make -C "$src" O="$sobj" CC="$cc" W=1 C=2 CHECK="$sparse" \
					-k "${objs[@]}" 2>&1 | warnings) || true
				git_ checkout -q "$c"
				# Not sort -u: a second copy of an old warning is new.
				new_warnings=$(comm -23 <(sort <<< "$new_warnings") \
					<(sort <<< "$base"))
			fi
			if [ "$mrc" != 0 ] || [ -n "$new_warnings" ]; then
				printf '%s\n' "$new_warnings" >&2
				log "patch $n has W=1 or sparse warnings or errors: $(git_ log -1 --format=%s "$c")"
				rc=1
				continue
			fi
		fi
		if [ -n "$nosparse" ]; then
			log "patch $n builds, W=1 clean (sparse did not run: too old for this kernel): $(git_ log -1 --format=%s "$c")"
		else
			log "patch $n builds, W=1 and sparse clean: $(git_ log -1 --format=%s "$c")"
		fi
	done
	return $rc
}

# Debian's own configuration of this kernel: config.amd64_none_FLAVOUR from
# linux-config-$kver at the linux-source version we build (downloaded into
# build/distro-config, not installed).
distro_config() {	# distro_config FLAVOUR: prints the path of the config
	local ver d=$top/build/distro-config deb suite=
	ver=$(source_version)
	[ "$kver" = 7.3 ] && suite=/trixie-backports
	mkdir -p "$d"
	deb=$(ls "$d"/linux-config-"${kver}"_"${ver//:/%3a}"_*.deb 2>/dev/null | head -n1)
	if [ -z "$deb" ]; then
		log "downloading linux-config-$kver $ver (Debian's configs of this kernel)"
		(cd "$d" && apt-get download -q "linux-config-$kver=$ver" >/dev/null 2>&1 ||
			apt-get download -q "linux-config-$kver$suite" >/dev/null) ||
			die "cannot download linux-config-$kver (apt-get update?)"
		deb=$(ls -t "$d"/linux-config-"${kver}"_*.deb | head -n1)
	fi
	rm -rf "$d/x-$kver"
	dpkg-deb -x "$deb" "$d/x-$kver"
	local f=$d/x-$kver/usr/src/linux-config-$kver/config.amd64_none_$1.xz
	[ -f "$f" ] || die "Debian has no config flavour '$1' for $kver (try amd64 or cloud-amd64)"
	xz -dc "$f" > "$d/config-$kver-$1"
	echo "$d/config-$kver-$1"
}

# Installable Debian packages of the kernel with the series (make kernel-deb):
# Debian's config for KERNEL_DEB_FLAVOUR (default amd64, the generic one) plus
# the controller; the packages are named after the release, VERSION-dmabuf
# (linux-image-7.3.4-dmabuf), which no Debian package has, so apt never
# replaces them. Build dir build/kernel-deb/$kver/obj, packages in
# build/kernel-deb/$kver.
#
# KERNEL_DEB_CONFIG="OPTION=VALUE ..." sets more options (y, m, n, a number
# or a string) on top of Debian's, each checked to stick: CGROUP_DMEM=y, say.
#
# KERNEL_DEB_MODULES=FILE (tests only): localmodconfig to the modules FILE
# names (lsmod's format), in a build that fits CI's time. 9p and overlayfs
# stay modules, as in Debian's config: the VM boots the package with the
# initramfs that a chroot's hooks made (tests/packages.sh), which loads
# them, as it does for the full package. It builds in
# build/kernel-deb/$kver-localmod, never in the dir of the full build.
# Prepares build/kernel-deb/$kver/obj/.config (or $kver-localmod) and checks it;
# sets flavour, out, dobj and extra (KERNEL_DEB_CONFIG's options), which the
# caller declares.
deb_config() {
	local cfg o kv
	flavour=${KERNEL_DEB_FLAVOUR:-amd64} out=$top/build/kernel-deb/$kver${KERNEL_DEB_MODULES:+-localmod}
	dobj=$out/obj
	cfg=$(distro_config "$flavour")
	mkdir -p "$dobj"
	cp "$cfg" "$dobj/.config"
	local sc=("$src/scripts/config" --file "$dobj/.config")
	# The config of an installed Debian kernel (/boot/config-*) names its
	# signing certificates (debian/certs), which the source package lacks:
	# trust only the key the build generates, and sign every module with it
	# (a kernel with lockdown, as under Secure Boot, loads only signed
	# modules).
	"${sc[@]}" --set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS "" \
		--set-str MODULE_SIG_KEY certs/signing_key.pem --enable MODULE_SIG_ALL \
		--set-str LOCALVERSION "" --disable LOCALVERSION_AUTO \
		--enable CGROUP_DMABUF --disable CGROUP_DMABUF_KUNIT_TEST --disable TEST_DMABUF_DEV
	# Spaces or newlines between the options.
	extra=()
	read -ra extra -d '' <<< "${KERNEL_DEB_CONFIG:-}" || true
	for kv in "${extra[@]}"; do
		kv=${kv#CONFIG_}
		case $kv in
		[A-Z0-9_]*=y) "${sc[@]}" --enable "${kv%%=*}" ;;
		[A-Z0-9_]*=m) "${sc[@]}" --module "${kv%%=*}" ;;
		[A-Z0-9_]*=n) "${sc[@]}" --disable "${kv%%=*}" ;;
		[A-Z0-9_]*=[0-9]*) "${sc[@]}" --set-val "${kv%%=*}" "${kv#*=}" ;;
		[A-Z0-9_]*=*) "${sc[@]}" --set-str "${kv%%=*}" "${kv#*=}" ;;
		*) die "KERNEL_DEB_CONFIG: '$kv' is not NAME=VALUE (CGROUP_DMEM=y, say)" ;;
		esac
	done
	if [ -n "${KERNEL_DEB_MODULES:-}" ]; then
		"${sc[@]}" --disable DEBUG_INFO_BTF --enable DEBUG_INFO_NONE \
			--disable DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT
		make -s -C "$src" O="$dobj" olddefconfig >/dev/null
		# yes would die of SIGPIPE, which pipefail counts: a process
		# substitution instead.
		make -s -C "$src" O="$dobj" LSMOD="$(realpath "$KERNEL_DEB_MODULES")" \
			localmodconfig < <(yes '') > "$out/localmodconfig.log" 2>&1 ||
			die "localmodconfig failed (${out#"$top"/}/localmodconfig.log)"
	fi
	make -s -C "$src" O="$dobj" olddefconfig >/dev/null
	for o in CGROUP_DMABUF=y MODULE_SIG_ALL=y "${extra[@]#CONFIG_}"; do
		case $o in
		*=n) grep -q "^CONFIG_${o%=n}=[ym]\$" "$dobj/.config" || continue ;;
		*=[ym]|*=[0-9]*) grep -Fqx "CONFIG_$o" "$dobj/.config" && continue ;;
		*) grep -Fqx "CONFIG_${o%%=*}=\"${o#*=}\"" "$dobj/.config" && continue ;;
		esac
		die "CONFIG_$o did not stick in Debian's $flavour config of $kver (a dependency is off, or $kver has no such option)"
	done
	if grep -q '^CONFIG_\(KASAN\|PROVE_LOCKING\|KUNIT\)=y' "$dobj/.config"; then
		die "a debug option is on in the package config: $(grep '^CONFIG_\(KASAN\|PROVE_LOCKING\|KUNIT\)=y' "$dobj/.config")"
	fi
}

# kernel/build.sh deb-config: the package's config only, to read before
# the build (make kernel-deb checks every kernel's first).
cmd_deb_config() {
	local flavour out dobj extra
	cmd_tree
	deb_config
	log "package config ($flavour${extra[*]:+ + ${extra[*]}}): ${dobj#"$top"/}/.config"
}

# tree_cpu PID: the CPU seconds (user + system) of PID and its living
# descendants, each with the children it has waited for. A run stopped by a
# signal to its process group loses the part of its tree whose parent died
# first (dpkg-buildpackage does not wait for its make): cmd_deb samples it.
tree_cpu() {
	# cat fails when a process ends between the glob and its read.
	{ cat /proc/[0-9]*/stat 2>/dev/null || :; } | awk -v root="$1" -v hz="$(getconf CLK_TCK)" '
		{ pid = $1; sub(/^.*\) /, ""); ppid[pid] = $2; t[pid] = $12 + $13 + $14 + $15 }
		END {
			for (pid in t) {
				q = pid
				for (d = 0; d < 64 && q != root && q > 1; d++)
					q = ppid[q]
				if (q == root)
					n += t[pid]
			}
			printf "%d\n", n / hz
		}'
}

# deb_done OUT RELEASE SERIES-ID: what cmd_deb writes beside the packages.
deb_done() {
	echo "$2" > "$1/release"
	printf 'series %s\nKERNEL_DEB_CONFIG %s\n' "$3" "$(tr '\n' ' ' <<< "${KERNEL_DEB_CONFIG:-}")" > "$1/built-from"
}

cmd_deb() {
	local flavour out dobj extra cc=gcc release upstream pkgver localversion=-dmabuf
	command -v ccache >/dev/null && cc="ccache gcc"
	cmd_tree
	deb_config
	rm -f "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes
	upstream=$(make -s -C "$src" O="$dobj" kernelversion)
	# The trimmed test build is named apart: it has the test VM's modules
	# only, and is never for a real host.
	[ -n "${KERNEL_DEB_MODULES:-}" ] && localversion=-dmabuf-vmtest
	release=$upstream$localversion
	# Debian's revision of the source, then ours: 7.3.4-1~bpo13+1+dmabuf1.
	pkgver=$(source_version)+dmabuf1
	# No -dbg package (gigabytes of unstripped modules) unless KERNEL_DEB_DBG=1.
	local profiles=pkg.linux-dmabuf.nokerneldbg
	[ "${KERNEL_DEB_DBG:-0}" = 1 ] && profiles=
	local start=$SECONDS cpu0 cpu1 sampler='' id key
	# What the packages are built from, for tests/packages.sh to tell a
	# package of an older series: taken now, as the tree is now.
	id=$(series_id)
	rm -f "$out/built-from"
	# Only the trimmed test package is cached: a real host's is built once,
	# and its modules are signed with the key of its own build dir
	# (Documentation/install.md).
	key=
	if [ -n "${KERNEL_DEB_MODULES:-}" ]; then
		key=$(bcache_key "deb-$kver$localversion" "$(sha256sum < "$dobj/.config")" "$pkgver" \
			"$localversion" "profiles $profiles" "xz linux-dmabuf") || key=
	fi
	if bcache_get "$key" "$out"; then
		echo "$(date -Is) taken from the build cache (${key})" >> "$out/build-times.log"
		deb_done "$out" "$release" "$id"
		return
	fi
	log "building Debian packages of $release ($flavour config${KERNEL_DEB_MODULES:+, localmodconfig}) in ${dobj#"$top"/} (-j$jobs)"
	cpu0=$(tree_cpu $$)
	# A build stopped and started again goes on where it stopped: each run's
	# time is logged, so that the time of the whole build is their sum. The
	# CPU time beside it depends less on what else the machine runs, and
	# says roughly how long the build takes on a machine with more CPUs.
	echo "$(date -Is) start (${KERNEL_DEB_MODULES:+localmodconfig, }-j$jobs on $(nproc) CPUs${CCACHE_DISABLE:+, no ccache})" >> "$out/build-times.log"
	deb_end() {	# deb_end WHAT: logs how the run ended
		[ -n "$sampler" ] && { kill "$sampler" 2>/dev/null || :; }
		sampler=
		cpu1=$(tree_cpu $$)
		if [ -s "$out/.cpu" ] && [ "$(cat "$out/.cpu")" -gt "$cpu1" ]; then
			cpu1=$(cat "$out/.cpu")
		fi
		rm -f "$out/.cpu" "$out/.cpu.new"
		echo "$(date -Is) $1 $((SECONDS - start)) s (CPU $((cpu1 - cpu0)) s)" >> "$out/build-times.log"
	}
	trap 'deb_end "stopped after"; exit 129' HUP
	trap 'deb_end "stopped after"; exit 130' INT
	trap 'deb_end "stopped after"; exit 143' TERM
	# Every 5 s, the CPU time so far, for a run that is stopped; it ends
	# with the script, whatever ends that.
	rm -f "$out/.cpu" "$out/.cpu.new"
	( while kill -0 $$ 2>/dev/null; do
		tree_cpu $$ > "$out/.cpu.new" && mv "$out/.cpu.new" "$out/.cpu"
		sleep 5
	done ) < /dev/null > /dev/null 2>&1 &
	sampler=$!
	DEB_BUILD_PROFILES=$profiles make -s -C "$src" O="$dobj" CC="$cc" -j"$jobs" LOCALVERSION="$localversion" \
		KDEB_PKGVERSION="$pkgver" KDEB_SOURCENAME="linux-dmabuf" KDEB_COMPRESS=xz bindeb-pkg \
		> "$out/build.log" 2>&1 ||
		{
			trap - HUP INT TERM
			deb_end "failed after"
			tail -n 30 "$out/build.log"
			die "bindeb-pkg failed (log: ${out#"$top"/}/build.log)"
		}
	trap - HUP INT TERM
	deb_end "built in"
	# bindeb-pkg writes the packages next to the build dir. Its linux-libc-dev
	# (the uAPI headers, at our version, above every Debian update of the
	# package glibc's headers come from) is not for installing: removed.
	rm -f "$out"/linux-libc-dev_*.deb
	log "built in $(( (SECONDS - start) / 60 )) min: $(cd "$out" && ls ./*.deb | tr '\n' ' ')"
	local f made=()
	for f in "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes; do
		[ -f "$f" ] && made+=("${f##*/}")
	done
	bcache_put "$key" "$out" "${made[@]}"
	deb_done "$out" "$release" "$id"
}

# Read-only: no lock.
if [ "${1:-}" = series-id ]; then
	series_id
	exit
fi

# One build.sh at a time per tree ('each' lets go of it once its worktree
# is set up).
mkdir -p "$top/build"
exec {lock_fd}>"$top/build/linux-$kver.lock"
if ! flock -n "$lock_fd"; then
	log "waiting for another kernel/build.sh working on build/linux-$kver"
	flock "$lock_fd"
fi

case ${1:-bzimage} in
bzimage) cmd_bzimage ;;
tree) cmd_tree ;;
config) cmd_tree; cmd_config ;;
export) cmd_export ;;
reset) [ -d "$src/.git" ] || new_tree; apply_series ;;
checkpatch) cmd_tree; cmd_checkpatch ;;
maintainers) cmd_tree; cmd_maintainers ;;
each) cmd_tree; cc=gcc; command -v ccache >/dev/null && cc="ccache gcc"; cmd_each ;;
uml) cmd_uml ;;
squash) cmd_squash ;;
deb) cmd_deb ;;
deb-config) cmd_deb_config ;;
*) die "unknown command '$1': bzimage, tree, config, export, reset, checkpatch, maintainers, each, uml, squash, deb, deb-config, series-id" ;;
esac
