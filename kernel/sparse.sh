#!/usr/bin/env bash
# Print the path of a sparse that can check the kernel tree KERNEL_TREE:
#
#   kernel/sparse.sh build/linux-7.3
#
# kbuild's C=2 quietly checks nothing when sparse is too old for the kernel
# (scripts/checker-valid.sh), and Debian 12's sparse 0.6.4 is too old for
# 7.3 (no __typeof_unqual__). Then this builds sparse from the newest Debian
# source package (sid), fetched by apt from the mirror apt already uses
# (kernel/apt-suite.sh --mirror) through a private source list under
# build/apt-sid: nothing is added to /etc/apt. The result is kept in
# build/tools/sparse. Exit status 1, with the reason on stderr, when no
# sparse can check the tree.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tree=${1:?usage: kernel/sparse.sh KERNEL_TREE}
dir=$top/build/tools/sparse
apt_dir=$top/build/apt-sid

die() { echo "sparse: $*" >&2; exit 1; }

valid() {	# valid SPARSE: it can check $tree (kernels before 6.14 have no test)
	[ -x "$(command -v "$1")" ] || return 1
	[ ! -f "$tree/scripts/checker-valid.sh" ] ||
		[ "$(sh "$tree/scripts/checker-valid.sh" "$1" 2>/dev/null)" = 1 ]
}

for s in sparse "$dir/sparse"; do
	if valid "$s"; then
		command -v "$s"
		exit 0
	fi
done

mirror=$("$top/kernel/apt-suite.sh" --mirror) || die "no Debian mirror known to apt"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
apt_opts=(-q -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
	  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache")
rm -rf "$apt_dir" "$dir"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$dir/src"
echo "deb-src [signed-by=$keyring] $mirror sid main" > "$apt_dir/sources.list"
echo "sparse: $(sparse --version 2>/dev/null || echo none) cannot check ${tree##*/}: building sid's" >&2
apt-get "${apt_opts[@]}" update > "$apt_dir/update.log" 2>&1 ||
	die "apt-get update of sid's sources failed (see ${apt_dir#"$top"/}/update.log)"
(cd "$dir/src" && apt-get "${apt_opts[@]}" source --download-only sparse) > "$apt_dir/source.log" 2>&1 ||
	die "apt-get source sparse failed (see ${apt_dir#"$top"/}/source.log)"
tar -C "$dir/src" -xzf "$(ls "$dir"/src/sparse_*.orig.tar.gz)"
src=$(ls -d "$dir"/src/sparse-*/)
make -s -C "$src" -j"$(nproc)" HAVE_GTK=no HAVE_LLVM=no HAVE_SQLITE=no HAVE_LIBXML=no sparse \
	> "$dir/build.log" 2>&1 || die "building sparse failed (see ${dir#"$top"/}/build.log)"
cp "$src/sparse" "$dir/sparse"
valid "$dir/sparse" || die "sid's sparse ($("$dir/sparse" --version)) cannot check ${tree##*/} either"
echo "$dir/sparse"
