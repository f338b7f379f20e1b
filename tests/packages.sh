#!/usr/bin/env bash
# make check-packages: what a real host installs, tested as a new user would
# use it (Documentation/install.md). One summary line "N passed, N failed".
#
# 1. The dmabufctl package (make dmabufctl-deb): built with its tests and
#    lintian clean; its dependencies are runtime libraries only; installed
#    with apt into clean Debian 12 and Debian 13 chroots (debootstrap
#    --variant=minbase from apt's own mirror, cached for a week in
#    ~/.cache/dmabuf-cgroup, beside ccache's ~/.cache/ccache), dmabufctl,
#    its man page, bash completion and units work there.
# 2. The kernel package (kernel/build.sh deb), PKG_KVERS (default 7.3; empty: none):
#    Debian's amd64 config plus the controller, reduced by localmodconfig to
#    the modules the test VM loads (tests/vm/kernel-deb.modules) to fit CI's
#    time; its package metadata and config; installed with apt into clean
#    Debian 12 and 13 chroots with initramfs-tools and install.md's Secure
#    Boot key and signing hook (the initramfs made, the image signed once),
#    then removed; the signed image booted in the VM with that initramfs
#    and its own modules (tests/vm/run --initrd --modules) through the core
#    guest tests, and again under Debian 13's userspace (a Debian 13 chroot
#    with the packages installed as the VM's root: tests/vm/run --root);
#    KERNEL_DEB_CONFIG taken, and refused when an option cannot stick.
# 3. The full package of make kernel-deb, when build/kernel-deb/KVER has one
#    of this series: the same checks, chroots and boots (else a SKIP).
# The held patched systemd (apt preferences) is tested by systemd/build.sh
# test, and limits across reboots under stock systemd by the systemd-stock
# boot of make check. Logs: build/check-packages/.
set -uo pipefail

# (-P: the repo is copied into a chroot at this path, which tests/vm/run,
# from its own physical path, looks for.)
top=$(cd "$(dirname "$0")/.." && pwd -P)
out=$top/build/check-packages
# (--one-file-system: a run killed before its cleanup may have left a chroot's
# /dev mounted.)
rm -rf --one-file-system "$out"
mkdir -p "$out"
. "$top/tests/tap.sh"

# The Debian mirror apt uses (the same one kernel/apt-suite.sh adds suites from).
mirror=$("$top/kernel/apt-suite.sh" --mirror) || { echo "no Debian mirror in apt's sources"; exit 1; }

echo "== dmabufctl package"
if make -C "$top" dmabufctl-deb > "$out/dmabufctl-deb.log" 2>&1; then
	result ok "dmabufctl package: dpkg-buildpackage (its tests run) and lintian --fail-on error,warning"
else
	tail -n 30 "$out/dmabufctl-deb.log"
	result fail "dmabufctl package: dpkg-buildpackage or lintian (log: build/check-packages/dmabufctl-deb.log)"
fi
deb=$(ls "$top"/build/deb/dmabufctl_*_"$(dpkg --print-architecture)".deb 2>/dev/null | head -n1)

depends=$( [ -n "$deb" ] && dpkg-deb -f "$deb" Depends)
if [ -n "$depends" ] && ! grep -qE -- '-dev\b|cmocka|jsonschema|python3|lintian' <<< "$depends"; then
	result ok "dmabufctl package: runtime dependencies only ($depends)"
else
	result fail "dmabufctl package: Depends '$depends'"
fi

root=$out/chroot
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 HOME=/root "$@"; }
umount_root() {
	local m
	for m in sys/fs/cgroup sys proc dev; do
		mountpoint -q "$root/$m" && umount -l "$root/$m"
	done
}
trap umount_root EXIT

# chroot_open SUITE: a clean chroot of SUITE in $root, mounted
# (debootstrap --variant=minbase from apt's mirror, cached as a tarball in
# $cache, outside the repo so that CI's clean clones share it, made again
# once a week old; unpacked anew each time, with apt's mirror of today).
# Fails when there is no such tarball.
cache=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/dmabuf-cgroup
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
	echo "# $cache is not writable: the chroot tarballs go to build/"
	cache=$top/build
fi
# (The tarballs of earlier versions of this script, in build/: gone.)
rm -f "$top"/build/chroot-{bookworm,trixie}-minbase.tar{,.tmp}
# Temporary files of a run killed while it wrote a tarball.
find "$cache" -maxdepth 1 -name 'chroot-*-minbase.tar.??????' -mmin +60 -delete 2>/dev/null
declare -A bootstrapped=()
chroot_open() {
	local suite=$1 base=$cache/chroot-$1-minbase.tar tmp
	# Missing, or a week old: debootstrap, once a run; the old tarball, if
	# any, stays until a new one replaces it, and serves if that fails.
	if [ -z "${bootstrapped[$suite]:-}" ] && { [ ! -f "$base" ] || [ -n "$(find "$base" -mtime +6 2>/dev/null)" ]; }; then
		bootstrapped[$suite]=1
		dpkg-query -W -f='${Status}' debootstrap 2>/dev/null | grep -q 'ok installed' ||
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap > /dev/null
		umount -R "$out/bootstrap" 2>/dev/null
		rm -rf --one-file-system "$out/bootstrap"
		if debootstrap --variant=minbase "$suite" "$out/bootstrap" "$mirror" > "$out/debootstrap-$suite.log" 2>&1; then
			# (A temporary name of its own: another clone's run may be
			# making the same tarball.)
			tmp=$(mktemp "$base.XXXXXX") && chmod 644 "$tmp" && tar -C "$out/bootstrap" -cf "$tmp" . && mv "$tmp" "$base"
			rm -f "$tmp"
		else
			tail -n 20 "$out/debootstrap-$suite.log"
			[ -f "$base" ] && echo "# debootstrap $suite failed: the tarball of $(date -r "$base" +%F) instead"
		fi
		umount -R "$out/bootstrap" 2>/dev/null
		rm -rf --one-file-system "$out/bootstrap"
	fi
	[ -f "$base" ] || return 1
	rm -rf --one-file-system "$root"
	mkdir -p "$root" && tar -C "$root" -xf "$base" || return 1
	# A tarball made before the host's mirror changed still gets today's.
	printf 'deb %s %s main\n' "$mirror" "$suite" > "$root/etc/apt/sources.list"
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
	# The host's apt proxy settings, if any, so that the chroot reaches the mirror.
	cp /etc/apt/apt.conf.d/*proxy* "$root/etc/apt/apt.conf.d/" 2>/dev/null
	# /dev a slave: the umount -l of umount_root must not reach the host's
	# /dev/pts, /dev/shm and /dev/mqueue where /dev is shared (systemd's default).
	mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev" &&
		mount -t sysfs sys "$root/sys" &&
		mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup"
}

# chroot_test SUITE NAME: the dmabufctl package installed with apt into a
# clean chroot of SUITE, and used there.
chroot_test() {
	local suite=$1 name=$2 added v expected msg rc
	if [ -z "$deb" ] || ! chroot_open "$suite"; then
		result fail "dmabufctl package, $name: no clean chroot (debootstrap $suite from $mirror: build/check-packages/debootstrap-$suite.log) or no package"
		umount_root
		return
	fi
	cp "$deb" "$root/tmp/"
	in_root dpkg-query -W -f='${Package}\n' | sort > "$out/before-$suite.txt"
	if in_root sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends /tmp/dmabufctl_*.deb' \
		> "$out/chroot-install-$suite.log" 2>&1; then
		in_root dpkg-query -W -f='${Package}\n' | sort > "$out/after-$suite.txt"
		added=$(comm -13 "$out/before-$suite.txt" "$out/after-$suite.txt" | tr '\n' ' ')
		result ok "dmabufctl package: apt installs it into a clean $name chroot (added: $added)"
		if grep -qE -- '-dev |cmocka|jsonschema|python3|lintian|gcc' <<< "$added "; then
			result fail "dmabufctl package, $name: a build or test dependency came along: $added"
		else
			result ok "dmabufctl package, $name: nothing but runtime packages came along"
		fi
	else
		tail -n 20 "$out/chroot-install-$suite.log"
		result fail "dmabufctl package: apt-get install in the $name chroot (log: build/check-packages/chroot-install-$suite.log)"
	fi
	v=$(in_root dmabufctl --version 2>&1)
	expected=$(dpkg-deb -f "$deb" Version)
	[ "$v" = "dmabufctl $expected" ] && result ok "dmabufctl --version in the $name chroot: $v" ||
		result fail "dmabufctl --version in the $name chroot: '$v', want 'dmabufctl $expected'"
	# This host's kernel has no dmabuf controller: dmabufctl says so and fails.
	msg=$(in_root dmabufctl show 2>&1); rc=$?
	if [ $rc -ne 0 ] && grep -q "this kernel has no dmabuf cgroup controller" <<< "$msg"; then
		result ok "dmabufctl show in the $name chroot, on a kernel without the controller: exit $rc, '$(head -n1 <<< "$msg")'"
	else
		result fail "dmabufctl show in the $name chroot, on a kernel without the controller: exit $rc, '$msg'"
	fi
	if in_root sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends man-db > /dev/null 2>&1 &&
		MANPAGER=cat man dmabufctl' > "$out/man-$suite.txt" 2>&1 && grep -q 'SYSTEMD-OWNED CGROUPS' "$out/man-$suite.txt"; then
		result ok "man dmabufctl in the $name chroot"
	else
		head -n 5 "$out/man-$suite.txt"
		result fail "man dmabufctl in the $name chroot"
	fi
	if in_root bash -c '. /usr/share/bash-completion/completions/dmabufctl && complete -p dmabufctl' \
		> "$out/completion-$suite.txt" 2>&1; then
		result ok "bash completion of the package in the $name chroot: $(cat "$out/completion-$suite.txt")"
	else
		result fail "bash completion of the package in the $name chroot: $(cat "$out/completion-$suite.txt")"
	fi
	# The units where the release's systemd looks for them (Debian 13: /usr/lib).
	if in_root sh -c 'systemd-analyze --version >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null 2>&1;
		for u in dmabufctl-limits@.service dmabufctl-export.timer; do
			p=$(systemd-analyze unit-paths | while read -r d; do [ -f "$d/$u" ] && echo "$d/$u" && break; done)
			[ -n "$p" ] || { echo "$u: not in any unit directory"; exit 1; }
			echo "$p"
		done' > "$out/units-$suite.txt" 2>&1; then
		result ok "the package's units are where $name's systemd finds them: $(tr '\n' ' ' < "$out/units-$suite.txt")"
	else
		result fail "the package's units in the $name chroot: $(tr '\n' ' ' < "$out/units-$suite.txt")"
	fi
	umount_root
}

# doc_hook: the signing hook of install.md step 3, the body of its one
# `cat > /etc/kernel/postinst.d/zz-sign-dmabuf <<'EOF'` block; fails unless
# there is exactly one such block, closed.
doc_hook() {
	awk '
		/^  # cat > \/etc\/kernel\/postinst.d\/zz-sign-dmabuf <<.EOF.$/ { n++; inside = 1; next }
		inside && /^  EOF$/ { inside = 0; closed++; next }
		inside { sub(/^  /, ""); print }
		END { exit !(n == 1 && closed == 1) }
	' "$top/Documentation/install.md"
}

# doc_key: the openssl commands of install.md step 3 that make the MOK key
# (a "# " prompt, "\" continuations joined).
doc_key() {
	awk '
		/^- \*\*Sign it with your own key/ { want = 1; next }
		want && /^  ```$/ { if (inside) exit; inside = 1; next }
		inside && /^  # openssl / {
			cmd = substr($0, 5)
			while (cmd ~ /\\$/ && (getline line) > 0) {
				sub(/\\$/, "", cmd); sub(/^ +/, " ", line); cmd = cmd line
			}
			print cmd
		}
	' "$top/Documentation/install.md"
}

# signatures IMAGE: how many signatures sbverify lists on IMAGE in the chroot.
# ($log: the calling kernel_chroot's.)
signatures() { in_root sbverify --list "$1" 2>> "$log" | grep -c '^signature [0-9]'; }

# signed_once IMAGE: IMAGE in the chroot has one signature, and it is the
# MOK key's (install.md step 3).
signed_once() {
	[ "$(signatures "$1")" = 1 ] &&
		in_root sbverify --cert /root/mok.pem "$1" >> "$log" 2>&1
}

# initramfs_9p: the chroot's initramfs-tools make initramfs images that
# boot the VM's 9p root (boot=9p: tests/vm/initramfs-9p, and the modules it
# loads early).
initramfs_9p() {
	cp "$top/tests/vm/initramfs-9p" "$root/etc/initramfs-tools/scripts/9p" &&
		printf '%s\n' 9pnet_virtio 9p overlay >> "$root/etc/initramfs-tools/modules"
}

# kernel_chroot KVER SUITE NAME IMAGE REL: the kernel package installed with
# apt into a clean chroot of SUITE that has what a Debian host has for it
# (initramfs-tools) and install.md's Secure Boot key and signing hook (step
# 3, taken from the page itself); its hooks make the initramfs and sign the
# image once, also when run again; then removed as install.md says (step 5).
# For the VM boot, the initramfs can mount the VM's root (boot=9p:
# tests/vm/initramfs-9p); the signed image and the initramfs are kept as
# $out/vmlinuz-KVER-SUITE-signed and $out/initrd-KVER-SUITE.
kernel_chroot() {
	local kver=$1 suite=$2 name=$3 image=$4 rel=$5 hook key list again log=$out/kernel-chroot-$1-$2.log t="[$1, $3 chroot]"
	if ! hook=$(doc_hook) || [ "$(head -n1 <<< "$hook")" != "#!/bin/sh" ] || ! grep -q sbsign <<< "$hook"; then
		result fail "$t install.md step 3: no single zz-sign-dmabuf hook block (#!/bin/sh ... sbsign ... EOF)"
		return
	fi
	key=$(doc_key)
	if [ "$(grep -c '^openssl ' <<< "$key")" -lt 2 ]; then
		result fail "$t install.md step 3: no openssl commands for the MOK key: '$key'"
		return
	fi
	if ! chroot_open "$suite"; then
		result fail "$t no clean chroot of $suite (build/check-packages/debootstrap-$suite.log, or tar or mount failed)"
		umount_root
		return
	fi
	if ! in_root sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq initramfs-tools sbsigntool openssl && set -e && $(tr '\n' ';' <<< "$key")" \
		> "$log" 2>&1; then
		tail -n 20 "$log"
		result fail "$t initramfs-tools, sbsigntool or the MOK key of install.md (log: ${log#"$top"/})"
		umount_root
		return
	fi
	initramfs_9p
	mkdir -p "$root/etc/kernel/postinst.d"
	printf '%s\n' "$hook" > "$root/etc/kernel/postinst.d/zz-sign-dmabuf"
	chmod 755 "$root/etc/kernel/postinst.d/zz-sign-dmabuf"
	cp "$image" "$root/tmp/"
	if in_root sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y /tmp/linux-image-*.deb' >> "$log" 2>&1; then
		result ok "$t apt installs linux-image-$rel, with the key and the $(grep -c . <<< "$hook")-line signing hook of install.md"
	else
		tail -n 20 "$log"
		result fail "$t apt-get install of linux-image-$rel (log: ${log#"$top"/})"
		umount_root
		return
	fi
	# (Captured, not piped into grep -q: pipefail would see lsinitramfs's SIGPIPE.)
	list=$(in_root lsinitramfs "/boot/initrd.img-$rel" 2>> "$log")
	if grep -qE "^(usr/)?lib/modules/$rel/modules.dep\$" <<< "$list" &&
		grep -qE "^(usr/)?lib/modules/$rel/kernel/.*\.ko" <<< "$list"; then
		result ok "$t the initramfs hook made /boot/initrd.img-$rel: its modules.dep and $(grep -cE '\.ko' <<< "$list") of its modules"
		cp "$root/boot/initrd.img-$rel" "$out/initrd-$kver-$suite" ||
			result fail "$t copying /boot/initrd.img-$rel out of the chroot"
	else
		result fail "$t no /boot/initrd.img-$rel with lib/modules/$rel in it: $(ls "$root/boot")"
	fi
	if in_root sbverify --cert /root/mok.pem "/boot/vmlinuz-$rel" >> "$log" 2>&1; then
		result ok "$t the hook signed /boot/vmlinuz-$rel with the MOK key (sbverify)"
		cp "$root/boot/vmlinuz-$rel" "$out/vmlinuz-$kver-$suite-signed" ||
			result fail "$t copying /boot/vmlinuz-$rel out of the chroot"
	else
		result fail "$t /boot/vmlinuz-$rel not signed with the MOK key: $(tail -n 2 "$log" | tr '\n' ' ')"
	fi
	if grep -qE "^..5.* /boot/vmlinuz-$rel\$" <<< "$(in_root dpkg --verify "linux-image-$rel" 2>&1)"; then
		result ok "$t dpkg --verify lists the signed image as changed (install.md says so)"
	else
		result fail "$t dpkg --verify does not list /boot/vmlinuz-$rel"
	fi
	# The hooks run again on an installed image (dpkg-reconfigure, or
	# dpkg --configure -a after a later hook failed), and on a reinstall
	# (a new unsigned image): one signature each time.
	for again in "dpkg-reconfigure linux-image-$rel" "apt-get install -y --reinstall /tmp/${image##*/}"; do
		if in_root sh -c "DEBIAN_FRONTEND=noninteractive $again" >> "$log" 2>&1 &&
			signed_once "/boot/vmlinuz-$rel"; then
			result ok "$t after ${again%% /*}: one signature, the MOK key's"
		else
			result fail "$t after ${again%% /*}: $(signatures "/boot/vmlinuz-$rel") signatures, or not the MOK key's (log: ${log#"$top"/})"
		fi
	done
	# The hook failing (here: the key gone): apt fails and says so, and
	# /boot keeps the unsigned image, with no half-written one beside it
	# (sbsign fails here before it writes; a full /boot, where the hook's
	# rm matters, is not tested). Then, the cause fixed, dpkg --configure -a
	# signs it, as install.md says.
	mv "$root/root/mok.key" "$root/root/mok.key.away"
	if ! in_root sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall /tmp/${image##*/}" >> "$log" 2>&1 &&
		[ -f "$root/boot/vmlinuz-$rel" ] && [ ! -e "$root/boot/vmlinuz-$rel.signed" ] &&
		[ "$(signatures "/boot/vmlinuz-$rel")" = 0 ]; then
		result ok "$t the hook failing (no key): apt fails, /boot keeps the unsigned image and nothing else"
	else
		result fail "$t the hook failing (no key): apt's status, or /boot: $(ls "$root/boot" | tr '\n' ' ')"
	fi
	mv "$root/root/mok.key.away" "$root/root/mok.key"
	if in_root sh -c "DEBIAN_FRONTEND=noninteractive dpkg --configure -a" >> "$log" 2>&1 &&
		[ "$(in_root dpkg-query -W -f='${Status}' "linux-image-$rel")" = "install ok installed" ] &&
		signed_once "/boot/vmlinuz-$rel"; then
		result ok "$t the key back, dpkg --configure -a configures the package and signs the image once"
	else
		result fail "$t the key back, dpkg --configure -a: $(in_root dpkg-query -W -f='${Status}' "linux-image-$rel") (log: ${log#"$top"/})"
	fi
	if in_root sh -c "DEBIAN_FRONTEND=noninteractive apt-get remove -y linux-image-$rel" >> "$log" 2>&1 &&
		[ ! -e "$root/boot/vmlinuz-$rel" ] && [ ! -e "$root/boot/initrd.img-$rel" ] &&
		[ -z "$(find "$root/lib/modules/$rel" -name '*.ko*' 2>/dev/null)" ]; then
		result ok "$t apt remove takes the image, its initramfs and its modules away"
	else
		result fail "$t after apt remove: $(ls "$root/boot") $(find "$root/lib/modules/$rel" -name '*.ko*' 2>/dev/null | head -n 3)"
	fi
	umount_root
}

# package_test KVER ID DIR: the kernel package in DIR (DIR/release names
# it): its name, version and config, its modules signed and its modules.dep;
# installed into Debian 12 and 13 chroots (kernel_chroot); booted in the VM
# as the Debian 12 chroot has it, with its own modules, through the core
# guest tests, and at the same time in a second VM under Debian 13's
# userspace (debian13_boot). ID names it in the results: KVER for the
# trimmed test package, KVER-full for the full one of make kernel-deb.
package_test() {
	local kver=$1 id=$2 kdir=$3 rel image want_ver pkgroot cfg bad unsigned nmod ko trailer vmlinuz initrd d12
	rel=$(cat "$kdir/release")
	image=$(ls "$kdir"/linux-image-"$rel"_*.deb 2>/dev/null | head -n1)
	want_ver="$(dpkg-query -W -f='${Version}' "linux-source-$kver")+dmabuf1"
	if [ -n "$image" ] && [ "$(dpkg-deb -f "$image" Version)" = "$want_ver" ]; then
		result ok "[$id] linux-image-$rel, version $want_ver: a name no Debian package has"
	else
		result fail "[$id] no linux-image-$rel package at version $want_ver: $(ls "$kdir")"
		return
	fi
	# Unpacked under $out (emptied by each run), not beside the packages.
	pkgroot=$out/pkgroot-$id
	rm -rf "$pkgroot"
	dpkg-deb -x "$image" "$pkgroot"
	cfg=$pkgroot/boot/config-$rel
	bad=$(grep -E '^CONFIG_(KASAN|PROVE_LOCKING|KUNIT|CGROUP_DMABUF_KUNIT_TEST|TEST_DMABUF_DEV|LOCALVERSION_AUTO)=' "$cfg")
	if grep -qx CONFIG_CGROUP_DMABUF=y "$cfg" && grep -qx CONFIG_MODULE_SIG_ALL=y "$cfg" &&
		grep -qx CONFIG_RDMA_RXE=m "$cfg" && grep -qx 'CONFIG_SYSTEM_TRUSTED_KEYS=""' "$cfg" && [ -z "$bad" ]; then
		result ok "[$id] the package's config: controller built in, rxe a module, modules signed, no debug or test options, no Debian certificates"
	else
		result fail "[$id] the package's config: $bad $(grep -E 'CONFIG_(CGROUP_DMABUF|MODULE_SIG_ALL|RDMA_RXE|SYSTEM_TRUSTED_KEYS)=' "$cfg" | tr '\n' ' ')"
	fi
	# Every module signed with the key built into that kernel (a kernel in
	# lockdown, as under Secure Boot, loads no other): the signature trailer
	# on each, and the boot below enforces signatures.
	unsigned=0 nmod=0
	while IFS= read -r -d '' ko; do
		nmod=$((nmod + 1))
		case $ko in
		*.xz) trailer=$(xz -dc "$ko" | tail -c 28) ;;
		*.zst) trailer=$(zstd -dcq "$ko" | tail -c 28) ;;
		*.gz) trailer=$(gzip -dc "$ko" | tail -c 28) ;;
		*) trailer=$(tail -c 28 "$ko") ;;
		esac
		[ "$trailer" = "~Module signature appended~" ] || { unsigned=$((unsigned + 1)); echo "# unsigned: $ko"; }
	done < <(find "$pkgroot/lib/modules/$rel" -name '*.ko*' -print0)
	if [ "$nmod" -gt 0 ] && [ "$unsigned" = 0 ]; then
		result ok "[$id] all $nmod modules of the package are signed"
	else
		result fail "[$id] $unsigned of $nmod modules of the package are not signed"
	fi
	# The package ships its modules.dep (bindeb-pkg's modules_install runs
	# depmod; nothing on the host does it at install): the boot below loads
	# modules through it as the package has it.
	if [ -s "$pkgroot/lib/modules/$rel/modules.dep" ]; then
		result ok "[$id] the package ships modules.dep"
	else
		result fail "[$id] the package has no modules.dep: modprobe would find no module"
	fi
	# What a host does with it: Debian 12 and, the same package, Debian 13.
	kernel_chroot "$id" bookworm "Debian 12" "$image" "$rel"
	kernel_chroot "$id" trixie "Debian 13" "$image" "$rel"
	# Booted as a Debian 12 host boots it: the image its hook signed (else
	# the package's, the signing's failure above) and the initramfs its
	# hooks made, which loads 9p. Without that initramfs (the chroot's
	# failure is above) the VM cannot mount its root: not booted.
	# In the background: the Debian 13 boot below runs beside it (two
	# boots, as make check runs them, use the two CPUs of this machine).
	vmlinuz=$out/vmlinuz-$id-bookworm-signed initrd=$out/initrd-$id-bookworm d12=
	[ -f "$vmlinuz" ] || vmlinuz=$pkgroot/boot/vmlinuz-$rel
	if [ -f "$initrd" ]; then
		echo "# booting ${vmlinuz#"$top"/} with ${initrd#"$top"/}"
		vm_run "package-$id" "$id" module.sig_enforce=1 "$top/tests/guest/run-all package" \
			--kernel "$vmlinuz" --initrd "$initrd" --modules "$pkgroot/lib/modules" --timeout 1800 &
		d12=$!
	else
		result fail "[$id] VM boot: not booted: no initramfs from the Debian 12 chroot (its failure is above; log: ${out#"$top"/}/kernel-chroot-$id-bookworm.log)"
	fi
	debian13_boot "$id" "$image" "$rel"
	if [ -n "$d12" ]; then
		wait "$d12"
		vm_report "package-$id"
	fi
	# (Not booted: debian13_boot said why.)
	[ -f "$out/package-$id-debian13.what" ] || return
	vm_report "package-$id-debian13"
	if grep -q '^# userspace: Debian GNU/Linux 13' "$out/package-$id-debian13.tap"; then
		result ok "[$id, Debian 13 userspace] the guest ran $(sed -n 's/^# userspace: //p' "$out/package-$id-debian13.tap")"
	else
		result fail "[$id, Debian 13 userspace] the guest did not say it ran Debian 13: $(grep '^# userspace:' "$out/package-$id-debian13.tap")"
	fi
}

# debian13_boot ID IMAGE REL: the kernel package booted under Debian 13's
# own userspace, as VM run package-ID-debian13 (reported by the caller; when
# it cannot boot, a failure says why). A clean Debian 13 chroot, with the
# package, the dmabufctl package and what the guest tests run (iproute2's
# rdma, rdma-core's libibverbs and providers, python3) installed with apt,
# is the VM's root (tests/vm/run --root): its initramfs (checked as
# kernel_chroot checks its own, and for the boot script), its /lib/modules,
# its dmabufctl.
# The image is the one the Debian 13 chroot's hook signed (kernel_chroot).
# The repo's tests/ and test binaries (built here, on Debian 12) are copied
# in at their paths.
debian13_boot() {
	local id=$1 image=$2 rel=$3 vmlinuz=$out/vmlinuz-$1-trixie-signed log=$out/debian13-root-$1.log t="[$1, Debian 13 userspace]" list
	if [ ! -f "$vmlinuz" ]; then
		result fail "$t not booted: no image signed in the Debian 13 chroot (its failure is above)"
		return 1
	fi
	if [ -z "$deb" ] || ! chroot_open trixie; then
		result fail "$t not booted: no clean Debian 13 chroot, or no dmabufctl package (both above)"
		umount_root
		return 1
	fi
	cp "$image" "$deb" "$root/tmp/"
	if in_root sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends initramfs-tools' > "$log" 2>&1 &&
		initramfs_9p &&
		in_root sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends /tmp/${image##*/} /tmp/${deb##*/} iproute2 ibverbs-providers python3 kmod" >> "$log" 2>&1 &&
		[ -f "$root/boot/initrd.img-$rel" ]; then
		result ok "$t apt installs the kernel and dmabufctl packages, rdma-core and iproute2 into a clean Debian 13 root"
	else
		tail -n 20 "$log"
		result fail "$t the Debian 13 root: apt-get install, or no /boot/initrd.img-$rel (log: ${log#"$top"/})"
		umount_root
		return 1
	fi
	list=$(in_root lsinitramfs "/boot/initrd.img-$rel" 2>> "$log")
	umount_root
	if grep -qE "^(usr/)?lib/modules/$rel/modules.dep\$" <<< "$list" && grep -qx scripts/9p <<< "$list" &&
		grep -qE "^(usr/)?lib/modules/$rel/kernel/.*/9p\.ko" <<< "$list"; then
		result ok "$t its initramfs has modules.dep, the boot script and 9p, of $(grep -cE '\.ko' <<< "$list") modules"
	else
		result fail "$t /boot/initrd.img-$rel lacks modules.dep, scripts/9p or 9p.ko (log: ${log#"$top"/})"
		return 1
	fi
	if ! { mkdir -p "$root$top/build" && cp -a "$top/tests" "$root$top/" &&
		cp -a "$top/build/bin" "$top/build/selftests" "$root$top/build/"; }; then
		result fail "$t copying tests/ and the test binaries into the Debian 13 root"
		return 1
	fi
	echo "# booting ${vmlinuz#"$top"/} with the Debian 13 root ${root#"$top"/} and its initramfs"
	(cd "$top" && vm_run "package-$id-debian13" "$id" module.sig_enforce=1 \
		"env DMABUFCTL=/usr/sbin/dmabufctl $top/tests/guest/run-all package" \
		--kernel "$vmlinuz" --initrd "$root/boot/initrd.img-$rel" --root "$root" --timeout 1800)
}

# deb_config_test KVER DIR: KERNEL_DEB_CONFIG, on the trimmed build in DIR:
# an option that cannot stick stops the build before it starts, naming it;
# one that can is in the package's config.
deb_config_test() {
	local kver=$1 kdir=$2 msg rc
	msg=$(KVER=$kver KERNEL_DEB_MODULES=$top/tests/vm/kernel-deb.modules KERNEL_DEB_CONFIG="NO_SUCH_OPTION=y" \
		"$top/kernel/build.sh" deb-config 2>&1); rc=$?
	if [ $rc -ne 0 ] && grep -q "CONFIG_NO_SUCH_OPTION=y did not stick" <<< "$msg"; then
		result ok "[$kver] KERNEL_DEB_CONFIG=NO_SUCH_OPTION=y refused before building: $(tail -n1 <<< "$msg")"
	else
		result fail "[$kver] KERNEL_DEB_CONFIG=NO_SUCH_OPTION=y: exit $rc, '$msg'"
	fi
	if KVER=$kver KERNEL_DEB_MODULES=$top/tests/vm/kernel-deb.modules KERNEL_DEB_CONFIG=$'CONFIG_RDMA_RXE=n\nINFINIBAND_IRDMA=n' \
		"$top/kernel/build.sh" deb-config > "$out/deb-config-$kver.log" 2>&1 &&
		grep -qx '# CONFIG_RDMA_RXE is not set' "$kdir/obj/.config"; then
		result ok "[$kver] KERNEL_DEB_CONFIG over two lines (RDMA_RXE=n) in the package's config"
	else
		result fail "[$kver] KERNEL_DEB_CONFIG: $(tail -n 3 "$out/deb-config-$kver.log") $(grep RDMA_RXE "$kdir/obj/.config")"
	fi
}

chroot_test bookworm "Debian 12"
# The same package (built on Debian 12) on Debian 13.
chroot_test trixie "Debian 13"

for kver in ${PKG_KVERS-7.3}; do
	echo "== kernel package, $kver"
	kdir=$top/build/kernel-deb/$kver-localmod
	start=$SECONDS
	if KVER=$kver KERNEL_DEB_MODULES=$top/tests/vm/kernel-deb.modules "$top/kernel/build.sh" deb \
		> "$out/kernel-deb-$kver.log" 2>&1; then
		result ok "[$kver] kernel/build.sh deb (Debian's amd64 config + the controller, localmodconfig): $(( (SECONDS - start) / 60 )) min"
		package_test "$kver" "$kver" "$kdir"
		deb_config_test "$kver" "$kdir"
	else
		tail -n 20 "$out/kernel-deb-$kver.log"
		result fail "[$kver] kernel/build.sh deb (log: build/check-packages/kernel-deb-$kver.log)"
	fi

	# The full package of make kernel-deb (Debian's whole config: hours
	# to build, so not built here), tested when it is there and of this
	# series and source (built-from, written by kernel/build.sh deb).
	full=$top/build/kernel-deb/$kver
	fullimage=$( [ -f "$full/release" ] && ls "$full"/linux-image-"$(cat "$full/release")"_*.deb 2>/dev/null | head -n1)
	if [ -z "$fullimage" ]; then
		result skip "[$kver-full] the full package of make kernel-deb KVER=$kver (hours): none in build/kernel-deb/$kver (not built, or a build under way), so not tested"
	elif ! grep -qx "series $(KVER=$kver "$top/kernel/build.sh" series-id)" "$full/built-from" 2>/dev/null; then
		result skip "[$kver-full] the full package in build/kernel-deb/$kver (built $(date -r "$fullimage" '+%F %R')) is not of this series and source: make kernel-deb KVER=$kver rebuilds it"
	else
		echo "== the full kernel package of make kernel-deb, $kver (built $(date -r "$fullimage" '+%F %R'); $(grep '^KERNEL_DEB_CONFIG' "$full/built-from"))"
		package_test "$kver" "$kver-full" "$full"
	fi
done

echo
echo "logs: build/check-packages/"
vm_retried
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
