#!/usr/bin/env bash
# checkpatch --strict of patches, as the series is held to it:
#
#   kernel/checkpatch.sh KERNEL_TREE PATCH...
#
# Run from inside the tree: elsewhere checkpatch misreads blank context
# lines. /usr/bin first: its spdxcheck needs Debian's python3-ply.
# UNKNOWN_COMMIT_ID off: the trees start at the release tarball, with no
# history in which to look up the commit a Fixes: tag names.
# FILE_PATH_CHANGES off: `kernel/build.sh maintainers` answers its question.
set -euo pipefail
tree=$(realpath "${1:?usage: kernel/checkpatch.sh KERNEL_TREE PATCH...}")
shift
patches=()
for p in "$@"; do patches+=("$(realpath "$p")"); done
cd "$tree"
PATH=/usr/bin:$PATH exec scripts/checkpatch.pl --strict -q --no-summary \
	--ignore UNKNOWN_COMMIT_ID,FILE_PATH_CHANGES "${patches[@]}"
