#!/usr/bin/env bash
# Add a Debian suite to apt from the Debian mirror apt already uses, so that
# the named packages can be installed from it and nothing else is taken
# from it, not even by "apt upgrade":
#
#   kernel/apt-suite.sh trixie-backports linux-source-7.3
#
# The mirror is the one apt itself reports (apt-cache policy) for Debian's
# main archive (origin and label "Debian", not Debian-Security): whatever
# the sources' format, a local mirror included. Nothing here names a host.
#
# The new source is tried with "apt-get update" on its own before it is
# installed; if that fails, nothing is left behind. Idempotent: a suite that
# apt already knows only gets the pin.
set -euo pipefail

# kernel/apt-suite.sh --mirror: print that mirror's URI (for kernel/sparse.sh).
if [ "${1:-}" = --mirror ]; then
	mode=mirror
else
	mode=add
	suite=${1:?usage: kernel/apt-suite.sh SUITE PACKAGE... | --mirror}
	shift
fi
[ $mode = mirror ] || [ $# -gt 0 ] ||
	{ echo "usage: kernel/apt-suite.sh SUITE PACKAGE... | --mirror" >&2; exit 1; }
name=dmabuf-${suite:-}
list=/etc/apt/sources.list.d/$name.sources
prefs=/etc/apt/preferences.d/$name
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

die() { echo "apt-suite: $*" >&2; exit 1; }

# The pin: the named packages from $suite like any package (500), the rest
# of $suite never (1), even where an installed version is known nowhere else
# (a backport, a local build), which a pin of 100 would let it upgrade.
# A suite the host already had (a Debian 13 host with backports, say) keeps
# its own priority for everything else: WHOLE=0 leaves out the global pin of
# 1, which would freeze the backports the host already installed.
write_prefs() {	# write_prefs FILE WHOLE PACKAGE...
	local out=$1 whole=$2 p
	shift 2
	{
		if [ "$whole" = 1 ]; then
			echo "# Added by the dmabuf repo (kernel/apt-suite.sh): from $suite,"
			echo "# only the packages below, and nothing else, ever."
		else
			echo "# Added by the dmabuf repo (kernel/apt-suite.sh): the packages"
			echo "# below from $suite, which this host already used for others."
		fi
		for p in "$@"; do
			printf 'Package: %s\nPin: release n=%s\nPin-Priority: 500\n\n' "$p" "$suite"
		done
		[ "$whole" = 1 ] && printf 'Package: *\nPin: release n=%s\nPin-Priority: 1\n' "$suite"
		return 0
	} > "$out"
}

known() { apt-cache policy 2>/dev/null | grep -q "n=${suite},"; }

# The URI of Debian's main archive, as apt-cache policy lists it. awk reads
# to the end: exiting early would kill apt-cache with SIGPIPE, and pipefail
# would turn that into a failure.
mirror() {
	apt-cache policy 2>/dev/null | awk '
		/^ *[0-9-]+ [a-z]+:/ { uri = $2; next }
		/^ *release / && uri != "" {
			if (!found && $0 ~ /o=Debian,/ && $0 ~ /l=Debian,/ && uri !~ /^cdrom:/) {
				print uri
				found = 1
			}
			uri = ""
		}'
}

if [ $mode = mirror ]; then
	uri=$(mirror)
	[ -n "$uri" ] || die "apt-cache policy names no Debian mirror"
	echo "$uri"
	exit 0
fi

[ "$(id -u)" = 0 ] || die "adding $suite to apt needs root (run 'sudo $0 $suite $*')"

if [ -f "$prefs" ] && { [ -f "$list" ] || known; }; then
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if known && [ ! -f "$list" ]; then
	write_prefs "$tmp/prefs" 0 "$@"
else
	write_prefs "$tmp/prefs" 1 "$@"
fi

if ! known; then
	uri=$(mirror)
	[ -n "$uri" ] || die "apt lists no mirror of Debian's main archive: add '$suite' to apt by hand"
	[ -f "$keyring" ] || die "$keyring is missing: apt-get install debian-archive-keyring"
	cat > "$tmp/$name.sources" <<-EOF
	# Added by the dmabuf repo (kernel/apt-suite.sh): $suite from this
	# host's Debian mirror, pinned in $prefs.
	Types: deb
	URIs: $uri
	Suites: $suite
	Components: main
	Signed-By: $keyring
	EOF
	# Try the new source alone first, in apt's own lists directory.
	if ! apt-get update -qq -o Dir::Etc::sourcelist=/dev/null \
		-o Dir::Etc::sourceparts="$tmp" -o APT::Get::List-Cleanup=0 >"$tmp/log" 2>&1 ||
	   grep -q '^[WE]:' "$tmp/log"; then
		cat "$tmp/log" >&2
		die "$suite from $uri does not work here (above): nothing was changed"
	fi
	cp "$tmp/$name.sources" "$list"
	echo "apt-suite: added $suite from $uri" >&2
fi
cp "$tmp/prefs" "$prefs"
echo "apt-suite: pinned $suite: only $* from it" >&2
apt-get update -qq
