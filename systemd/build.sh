#!/usr/bin/env bash
# Build Debian 12's systemd 252 with the DMABufPinnedMax= series (systemd/patches).
#
#   systemd/build.sh fetch     apt-get source systemd into build/systemd (adds a deb-src entry if needed)
#   systemd/build.sh tree      a git tree of the source (tag "base", branch "dmabuf") with the series applied
#   systemd/build.sh build     meson build of what the tests need: systemd, systemctl, systemd-run and
#                              the unit tests test-cgroup-mask, test-load-fragment, test-cgroup-util
#   systemd/build.sh test      run those unit tests that need no booted systemd (the VM runs the others)
#   systemd/build.sh export    git format-patch base..dmabuf back into systemd/patches
#   systemd/build.sh each      build the targets at every patch of the series (each builds on its own)
#   systemd/build.sh deb       Debian packages of the patched systemd in build/systemd/deb
#   systemd/build.sh reset     remove the tree and build dir (the fetched source stays)
#
# The series is the source of truth: edit in build/systemd/src (branch dmabuf), commit, then export.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/build/systemd
patches=$top/systemd/patches
src=$work/src
obj=$work/obj
targets=(systemd systemctl systemd-run test-cgroup-mask test-load-fragment test-cgroup-util)
unit_tests=(test-load-fragment test-cgroup-util)

die() { echo "systemd/build.sh: $*" >&2; exit 1; }

# The test builds (build, each) share ccache's entries (meson uses ccache
# when it is installed) with clones of the repo in other folders, CI's: the
# paths of a compile are relative to the repo, and meson's debug build (-g)
# leaves the build dir out of the hash, as ccache would otherwise put it in
# (the debug info names the build dir of the clone that compiled first). Not
# for 'deb', whose packages keep their own paths.
share_ccache() { export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$top} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}; }
git_id=(-c user.name="dmabuf build" -c user.email=build@localhost)

have_deb_src() {
	grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/
}

# The newest Debian systemd source: apt-get source into $work/pkg/<version>.
fetch() {
	if ! have_deb_src; then
		[ "$(id -u)" = 0 ] || die "no deb-src entry in apt's sources; add one (as root) or run 'make deps'"
		if [ -f /etc/apt/sources.list.d/debian.sources ]; then
			sed -i 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources
		else
			sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > /etc/apt/sources.list.d/dmabuf-deb-src.list
		fi
		apt-get update -qq
	fi
	mkdir -p "$work/pkg"
	(cd "$work/pkg" && apt-get source -qq --download-only systemd >/dev/null 2>&1 ||
		apt-get source -qq --download-only systemd)
	dsc=$(ls -t "$work"/pkg/systemd_*.dsc | head -n1)
	echo "$dsc"
}

tree() {
	local dsc ver
	dsc=$(fetch | tail -n1)
	ver=$(basename "$dsc" .dsc)
	ver=${ver#systemd_}
	if [ -d "$src/.git" ] && [ "$(cat "$work/src.version" 2>/dev/null)" = "$ver" ]; then
		echo "tree: $src exists ($ver); 'systemd/build.sh reset' to start again"
		return
	fi
	rm -rf "$src" "$obj"
	dpkg-source --no-check -x "$dsc" "$src" >/dev/null
	echo "$ver" > "$work/src.version"
	(
		cd "$src"
		git init -q
		git add -A -f
		git "${git_id[@]}" commit -q -m "systemd $ver (Debian source, Debian patches applied)"
		git tag base
		git checkout -q -b dmabuf
		mapfile -t series < <(grep -v '^#' "$patches/series" | grep .)
		git "${git_id[@]}" am -q --keep-cr "${series[@]/#/$patches/}" ||
			die "the series does not apply to systemd $ver; see 'git am --show-current-patch' in $src"
	)
	echo "tree: $src (systemd $ver + $(grep -vc '^#' "$patches/series") patches)"
}

# The build dependencies of Debian's systemd (and what 'deb' needs), installed when missing.
deps() {
	local missing=()
	for p in dpkg-dev devscripts quilt meson ninja-build python3-lxml; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ] || ! (cd "$src" && dpkg-checkbuilddeps >/dev/null 2>&1); then
		[ "$(id -u)" = 0 ] || die "build dependencies of systemd missing; run (as root) apt-get build-dep systemd"
		echo "deps: installing the build dependencies of systemd"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			dpkg-dev devscripts quilt meson ninja-build python3-lxml >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq systemd >/dev/null
	fi
}

build() {
	share_ccache
	[ -d "$src/.git" ] || tree
	deps
	if [ ! -f "$obj/build.ninja" ]; then
		# Debian's paths (debian/rules), so that the result runs on a Debian 12 root.
		meson setup "$obj" "$src" \
			-Dmode=release -Dsplit-usr=true -Drootlibdir=/usr/lib/x86_64-linux-gnu \
			-Ddefault-hierarchy=unified -Dsysvinit-path=/etc/init.d -Dsysvrcnd-path=/etc \
			-Dtelinit-path=/lib/sysvinit/telinit -Dmount-path=/bin/mount -Dumount-path=/bin/umount \
			-Dsulogin-path=/sbin/sulogin -Dkmod-path=/bin/kmod -Ddebug-shell=/bin/bash \
			-Ddefault-kill-user-processes=false -Dstatus-unit-format-default=combined \
			-Dman=false -Dtranslations=false -Dtests=true -Dinstall-tests=false \
			-Dversion-tag="$(cat "$work/src.version")+dmabuf" > "$work/meson-setup.log" ||
			{ tail -n 30 "$work/meson-setup.log"; die "meson setup failed"; }
	fi
	ninja -C "$obj" "${targets[@]}"
	echo "build: $obj/{systemd,systemctl,systemd-run}"
}

unit_tests() {
	local t rc=0
	build >/dev/null
	for t in "${unit_tests[@]}"; do
		if "$obj/$t" > "$work/$t.log" 2>&1; then
			echo "ok - systemd $t"
		else
			echo "not ok - systemd $t (log: build/systemd/$t.log)"
			rc=1
		fi
	done
	if hold_test > "$work/apt-hold.log" 2>&1; then
		echo "ok - systemd apt preferences hold the patched packages against Debian's next update"
	else
		echo "not ok - systemd apt preferences (log: build/systemd/apt-hold.log)"
		rc=1
	fi
	# The D-Bus API documentation is generated from the built manager's
	# introspection (upstream's update-dbus-docs): every property the series
	# adds must be in it, and documented. Debian's python3 has lxml.
	if (cd "$src" && /usr/bin/python3 tools/update-dbus-docs.py --test --build-dir "$obj" \
		man/org.freedesktop.systemd1.xml > "$work/dbus-docs.log" 2>&1) &&
		! grep -q 'DMABuf[A-Za-z]* is not documented' "$src/man/org.freedesktop.systemd1.xml"; then
		echo "ok - systemd D-Bus docs of the series generated and documented"
	else
		echo "not ok - systemd D-Bus docs (log: build/systemd/dbus-docs.log; run tools/update-dbus-docs.py)"
		rc=1
	fi
	return $rc
}

# Every patch builds on its own: a worktree at each commit of base..dmabuf, one build dir.
each() {
	local wt=$work/each-src eobj=$work/each-obj c n=0
	share_ccache
	[ -d "$src/.git" ] || tree
	deps
	rm -rf "$wt" "$eobj"
	git -C "$src" worktree prune
	git -C "$src" worktree add -q --detach "$wt" base
	for c in $(git -C "$src" rev-list --reverse base..dmabuf); do
		n=$((n + 1))
		git -C "$wt" checkout -q "$c"
		if [ ! -f "$eobj/build.ninja" ]; then
			meson setup "$eobj" "$wt" -Dmode=release -Dsplit-usr=true -Dman=false \
				-Dtranslations=false -Dtests=true > "$work/each-setup.log" ||
				die "meson setup failed (log: $work/each-setup.log)"
		fi
		if ninja -C "$eobj" "${targets[@]}" > "$work/each-$n.log" 2>&1; then
			echo "ok - systemd patch $n builds: $(git -C "$wt" log -1 --format=%s)"
		else
			tail -n 20 "$work/each-$n.log"
			die "patch $n does not build: $(git -C "$wt" log -1 --format=%s) (log: $work/each-$n.log)"
		fi
	done
	git -C "$src" worktree remove --force "$wt"
	rm -rf "$eobj"
}

export_series() {
	[ -d "$src/.git" ] || die "no tree in $src"
	rm -f "$patches"/*.patch
	(cd "$src" && git format-patch -q --no-signature --zero-commit -o "$patches" base..dmabuf)
	(cd "$patches" && ls ./*.patch | sed 's|^\./||' > series)
	echo "export: $(wc -l < "$patches/series") patches in systemd/patches"
}

# The version `deb` gives the packages: Debian's, with a +dmabuf1 local suffix.
deb_version() {
	echo "$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)+dmabuf1"
}

# An apt preferences file that keeps the patched packages installed: Debian's
# next stable update (~deb12u3) sorts above 252.39-1~deb12u2+dmabuf1 and would
# replace them, dropping every unit's DMABufPinnedMax= without a word. The pin
# (990: above any repository's 500, below 1000, which would allow downgrades)
# holds each binary package of the source at our version; written by `deb`
# next to the packages, and by `pref` to stdout. apt then shows no pending
# update of them: the file says how to see one.
pref() {
	local ver pkgs
	[ -d "$src/.git" ] || tree >/dev/null
	ver=${1:-$(deb_version)}
	pkgs=$(sed -n 's/^Package: *//p' "$src/debian/control" | sort | tr '\n' ' ')
	cat <<EOF
# The systemd packages with the dmabuf series (systemd/patches), $ver.
# Debian's own updates of these packages sort higher and would replace them,
# silently dropping DMABufAccounting= and DMABufPinnedMax= (units would fail
# to parse them: "Unknown key name", ignored). This file holds them at this
# version. To take a Debian update: rebuild the series on it (make
# systemd-deb builds from the newest Debian source), install the new
# packages and this file from the new build, then daemon-reexec. A Debian
# update waiting: apt-cache policy systemd (a version above the installed).
Explanation: dmabuf series for systemd
Package: ${pkgs% }
Pin: version $ver
Pin-Priority: 990
EOF
}

# apt keeps the patched packages with the preferences file, and would replace
# them without it: `apt-get -s upgrade` with a dpkg status that has them
# installed at our version, against a local repository with Debian's next
# version (synthetic indexes, no root, nothing installed).
hold_test() {
	local d=$work/apt-hold ver next p
	ver=$(deb_version)
	next=${ver%+dmabuf1}
	next=${next%u*}u$(( ${next##*u} + 1 ))
	rm -rf "$d"
	mkdir -p "$d"/etc/preferences.d "$d"/state/lists/partial "$d"/cache/archives/partial "$d"/repo
	: > "$d/status"
	for p in systemd libsystemd0 udev; do
		printf 'Package: %s\nStatus: install ok installed\nPriority: important\nSection: admin\nInstalled-Size: 1\nMaintainer: x <x@localhost>\nArchitecture: %s\nVersion: %s\nDescription: %s\n\n' \
			"$p" "$(dpkg --print-architecture)" "$ver" "$p" >> "$d/status"
		printf 'Package: %s\nPriority: important\nSection: admin\nInstalled-Size: 1\nMaintainer: x <x@localhost>\nArchitecture: %s\nVersion: %s\nFilename: ./%s.deb\nSize: 1\nDescription: %s\n\n' \
			"$p" "$(dpkg --print-architecture)" "$next" "$p" "$p" >> "$d/repo/Packages"
	done
	echo "deb [trusted=yes] file:$d/repo ./" > "$d/etc/sources.list"
	local apt=(apt-get -q -o Dir::State::status="$d/status" -o Dir::Etc="$d/etc" -o Dir::State="$d/state"
		-o Dir::Cache="$d/cache" -o Dir::Etc::SourceParts=- -o Dir::Etc::Preferences="$d/etc/preferences"
		-o Dir::Etc::PreferencesParts="$d/etc/preferences.d" -o Debug::NoLocking=1)
	"${apt[@]}" update > "$d/update.log" 2>&1 || { cat "$d/update.log"; return 1; }
	# Without the file: apt would replace systemd by Debian's $next.
	"${apt[@]}" -s upgrade > "$d/without.log" 2>&1
	grep -q "^Inst systemd \[$ver\] ($next" "$d/without.log" || {
		cat "$d/without.log"; echo "apt-get -s upgrade does not offer $next without the pin"; return 1; }
	pref "$ver" > "$d/etc/preferences.d/dmabuf-systemd.pref"
	"${apt[@]}" -s upgrade > "$d/with.log" 2>&1
	"${apt[@]}" -s dist-upgrade >> "$d/with.log" 2>&1
	if grep -q "^Inst " "$d/with.log" || ! grep -q "^0 upgraded" "$d/with.log"; then
		cat "$d/with.log"; echo "apt would replace the patched packages despite the pin"; return 1
	fi
}

# Debian packages: the series added to debian/patches of a fresh unpack, built with
# dpkg-buildpackage: with the man pages (the systemd package carries them, an upgrade
# without would remove them), without running the test suite and without udebs.
# About 30-40 minutes on 2 cores.
deb() {
	local dsc d
	[ -d "$src/.git" ] || tree
	deps
	dsc=$(fetch | tail -n1)
	d=$work/deb
	rm -rf "$d"
	mkdir -p "$d"
	dpkg-source --no-check -x "$dsc" "$d/src" >/dev/null
	mapfile -t series < <(grep -v '^#' "$patches/series" | grep .)
	for p in "${series[@]}"; do
		cp "$patches/$p" "$d/src/debian/patches/dmabuf-$p"
		echo "dmabuf-$p" >> "$d/src/debian/patches/series"
	done
	(
		cd "$d/src"
		QUILT_PATCHES=debian/patches quilt push -a -q >/dev/null
		DEBFULLNAME="dmabuf build" DEBEMAIL=build@localhost \
			dch --local +dmabuf --distribution bookworm "Add DMABufAccounting= and DMABufPinnedMax= (dmabuf cgroup controller)."
		DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" DEB_BUILD_PROFILES="nocheck noudeb noinsttest" \
			dpkg-buildpackage -b -uc -us -j"$(nproc)" > "$d/build.log" 2>&1 ||
			{ tail -n 40 "$d/build.log"; die "dpkg-buildpackage failed (log: $d/build.log)"; }
	)
	pref "$(dpkg-deb -f "$(ls "$d"/systemd_*.deb | head -n1)" Version)" > "$d/dmabuf-systemd.pref"
	ls "$d"/*.deb "$d/dmabuf-systemd.pref"
}

case ${1:-build} in
fetch) fetch ;;
tree) tree ;;
build) build ;;
test) unit_tests ;;
pref) pref "${2:-}" ;;
export) export_series ;;
each) each ;;
deb) deb ;;
reset) rm -rf "$src" "$obj" "$work/src.version" ;;
*) die "unknown command '$1' (fetch|tree|build|test|export|each|deb|reset)" ;;
esac
