#!/usr/bin/env bash
# Add a Debian suite to apt from the mirror apt already uses, pinned low so
# that nothing installed is upgraded from it: only packages asked for by name
# (and found nowhere else) come from it.
#
#   kernel/apt-suite.sh trixie-backports    (linux-source-7.3 lives there)
#
# The mirror is read from apt's own sources (deb822 debian.sources or the
# one-line sources.list): the first "deb" entry for Debian's main archive.
# Nothing here names a host. Idempotent; runs apt-get update only when it
# added something.
set -euo pipefail

suite=${1:?usage: kernel/apt-suite.sh SUITE}
name=dmabuf-$suite
list=/etc/apt/sources.list.d/$name.sources
prefs=/etc/apt/preferences.d/$name

die() { echo "apt-suite: $*" >&2; exit 1; }

[ -f "$list" ] && [ -f "$prefs" ] && exit 0
[ "$(id -u)" = 0 ] || die "adding $suite to apt needs root (run 'sudo $0 $suite')"

# The URI and keyring of the first Debian main-archive entry (not -security).
mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '
			/^[[:space:]]*$/ { if (t ~ /deb( |$)/ && u != "" && u !~ /security/ && s ~ /bookworm|trixie|stable/) { print u " " k; exit } t = u = s = k = ""; next }
			/^Types:/ { t = $0 " " }
			/^URIs:/ { u = $2 }
			/^Suites:/ { s = $0 }
			/^Signed-By:/ { k = $2 }
			END { if (t ~ /deb( |$)/ && u != "" && u !~ /security/ && s ~ /bookworm|trixie|stable/) print u " " k }
		' "$f" | head -n1
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" && $0 !~ /security/ && $0 ~ /bookworm|trixie|stable/ {
			for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i; exit } }' "$f" | head -n1
	done
}

read -r uri key < <(mirror | head -n1) || true
[ -n "${uri:-}" ] || die "no Debian mirror found in /etc/apt/sources.list{,.d}: add $suite by hand"
[ -n "${key:-}" ] || key=/usr/share/keyrings/debian-archive-keyring.gpg

cat > "$list" <<EOF
# Added by the dmabuf repo (kernel/apt-suite.sh): $suite from this host's
# Debian mirror, pinned low in $prefs.
Types: deb
URIs: $uri
Suites: $suite
Components: main
Signed-By: $key
EOF
cat > "$prefs" <<EOF
# Added by the dmabuf repo (kernel/apt-suite.sh): never upgrade anything
# from $suite; install from it only what is asked for by name.
Package: *
Pin: release n=$suite
Pin-Priority: 100
EOF
echo "apt-suite: added $suite from $uri (pin priority 100)" >&2
apt-get update -qq
