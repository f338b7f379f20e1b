#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The bash completion of dmabufctl (completion/dmabufctl), exercised: it is
# sourced after bash-completion, as bash loads it, and _dmabufctl is called
# with COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT as readline sets them
# (words split at blanks and at "=" and ":", COMP_WORDBREAKS), on a fake
# cgroup tree; COMPREPLY must be exactly the candidates expected.
#
#   [DMABUFCTL=BINARY] tests/test_completion.sh [COMPLETION_FILE]
#
# With DMABUFCTL, every option of its --help texts must be completed too.
#
# Needs bash-completion (Debian: package bash-completion).


here=$(cd "$(dirname "$0")" && pwd)
completion=${1:-$here/../completion/dmabufctl}
bc=${BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}
if [[ ! -r $bc ]]; then
	echo "test_completion: no $bc: install bash-completion (apt-get install bash-completion)" >&2
	exit 1
fi
# shellcheck source=/dev/null
. "$bc"
# shellcheck source=/dev/null
. "$completion"
[[ $(complete -p dmabufctl 2>/dev/null) == "complete -F _dmabufctl dmabufctl" ]] || {
	echo "test_completion: $completion does not register _dmabufctl" >&2
	exit 1
}

# compopt works only inside a completion readline started: record its options
compopt() { compopts+=" $*"; }

tmp=$(mktemp -d /tmp/dmabufctl-completion.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/cg
mkdir -p "$root"/job/a "$root"/job/b "$root"/other "$root/with space" "$tmp/files/dir"
echo "cpu memory dmabuf" >"$root/cgroup.controllers"
printf 'udmabuf max\ndma_heap/system 1073741824\ndrm/0000:03:00.0/vram0 17179869184\n' \
	>"$root/dmabuf.capacity"
touch "$root/job/dmabuf.pinned.max" "$tmp/files/a.prom" "$tmp/files/b.txt"
unset DMABUFCTL_CGROUP_ROOT

[[ ${DMABUFCTL-} && $DMABUFCTL != /* ]] && DMABUFCTL=$PWD/$DMABUFCTL
cd "$tmp" || exit 1	# no file of the current directory in the candidates
pass=0 failed=0

# complete LINE: COMPREPLY for the cursor at its end
complete_line()
{
	local line=$1 w='' c i
	COMP_WORDS=()
	for ((i = 0; i < ${#line}; i++)); do
		c=${line:i:1}
		if [[ $c == ' ' ]]; then
			[[ $w ]] && COMP_WORDS+=("$w")
			w=
		elif [[ $c == [=:] ]]; then
			[[ $w ]] && COMP_WORDS+=("$w")
			COMP_WORDS+=("$c")
			w=
		else
			w+=$c
		fi
	done
	if [[ $w ]]; then
		COMP_WORDS+=("$w")
	elif [[ $line == *' ' ]]; then
		COMP_WORDS+=("")
	fi
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	compopts=
	_dmabufctl dmabufctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
}

# expect LINE [CANDIDATE]...: completing at the end of LINE gives exactly
# the candidates (in any order).
expect()
{
	local line=$1 got want
	shift
	complete_line "$line"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort)
	want=$( (($#)) && printf '%s\n' "$@" | sort)
	[[ ${#COMPREPLY[@]} -eq 0 ]] && got=
	if [[ $got == "$want" ]]; then
		pass=$((pass + 1))
	else
		failed=$((failed + 1))
		printf 'FAIL: %q\n  want: %s\n  got:  %s\n' "$line" "${want//$'\n'/ | }" "${got//$'\n'/ | }"
	fi
}

# expect_has LINE CANDIDATE: among others
expect_has()
{
	local c
	complete_line "$1"
	for c in "${COMPREPLY[@]}"; do
		[[ $c == "$2" ]] && { pass=$((pass + 1)); return; }
	done
	failed=$((failed + 1))
	printf 'FAIL: %q\n  want %s among: %s\n' "$1" "$2" "${COMPREPLY[*]}"
}

R="dmabufctl --cgroup-root $root"

# commands, exact words; global options and their values
expect "dmabufctl " show pool pins top watch set enable run export cgroup help
expect "dmabufctl s" show set
expect "dmabufctl e" enable export
expect "dmabufctl -b p" pool pins
expect "dmabufctl --" --bytes --json --pretty --cgroup-root --debugfs-root --systemd --help --version
expect "dmabufctl --systemd " auto yes stock no
expect "dmabufctl --systemd=y" yes
expect "dmabufctl --systemd n" no
expect "dmabufctl --cgroup-root $tmp/fi" "$tmp/files"
expect "dmabufctl nosuchcommand "

# cgroups: relative, hierarchy-absolute, file-system-absolute; the root from
# --cgroup-root (both forms) or $DMABUFCTL_CGROUP_ROOT
expect "$R show " job/ other/ "with space/"
expect "$R show j" job/
expect "$R show job/" job/a/ job/b/
expect "$R show /j" /job/
expect "$R show /job/" /job/a/ /job/b/
expect "$R show $root/o" "$root/other/"
expect "$R show w" "with space/"
expect "$R show job/a/"
expect "dmabufctl --cgroup-root=$root enable o" other/
expect "$R enable job --s" --subtree
DMABUFCTL_CGROUP_ROOT=$root expect "dmabufctl watch j" job/
DMABUFCTL_CGROUP_ROOT=$root expect "dmabufctl --cgroup-root $tmp/files watch " dir/
expect "$R show job "
expect "$R show -n j" job/
expect "$R show -d "
expect "$R show --pid 1 -a j" job/

# show's options; -o columns
expect "$R show --p" --pid --pretty
expect "$R show --a" --all
expect "$R show -o CGROUP,P" CGROUP,PEAK CGROUP,PINS CGROUP,POOL
expect "$R show --output=C" CGROUP CURRENT

# set CGROUP POOL=SIZE...: pools from dmabuf.capacity, then max
expect "$R set " job/ other/ "with space/"
expect "$R set job " udmabuf= dma_heap/system= drm/0000:03:00.0/vram0=
expect "$R set job d" dma_heap/system= drm/0000:03:00.0/vram0=
expect "$R set job drm/0000:0" 03:00.0/vram0=
expect "$R set job udmabuf=" max
expect "$R set job udmabuf=m" max
expect "$R set job udmabuf=1G"
expect "$R set job udmabuf=1G dma" dma_heap/system=
expect "$R cgroup " show set enable
expect "$R cgroup set job u" udmabuf=
expect "$R cgroup show j" job/

# pins, pool, top, watch, export
expect "$R pins --" --cgroup --pool --pid --debugfs --bytes --json --pretty --help
expect "$R pins --pool u" udmabuf
expect "$R pins --pool=dm" dma_heap/system
expect "$R pins --cgroup j" job/
expect "$R pins --cgroup=/o" /other/
expect "$R pool "
expect "$R pool --" --bytes --json --pretty --help
expect "$R top -" -d --delay -n --iterations --batch -b --bytes -j --json -p --pretty -h --help
expect "$R top -n "
expect "$R watch -n 5 o" other/
expect "$R export --" --textfile --bytes --json --pretty --help
expect "$R export --textfile $tmp/files/" "$tmp/files/a.prom" "$tmp/files/dir"

# run: limits, the parent, then a command line of its own
expect "$R run --" --limit --parent --systemd --bytes --json --pretty --help --
expect "$R run -l u" udmabuf=
expect "$R run --limit=dma_heap/system=" max
expect "$R run --parent job/" job/a/ job/b/
expect "$R run --systemd " auto yes stock no
expect_has "$R run -l udmabuf=1G -- ech" echo
expect_has "$R run -l udmabuf=1G ech" echo
expect_has "$R run --parent job ech" echo
expect_has "$R run -l drm/0000:03:00.0/vram0=1G ech" echo
expect "$R run -l drm/0000:03:00.0/vram0=1G -- dmabufctl --cgroup-root=$root show /job/" /job/a/ /job/b/
expect "$R run -- echo --pa"
expect "$R run -- dmabufctl --cgroup-root $root show j" job/

# options that want no space after them
expect "$R set job u" udmabuf=
[[ $compopts == *nospace* ]] || { echo "FAIL: set job u: no nospace"; failed=$((failed + 1)); }
expect "$R show j" job/
[[ $compopts == *filenames*nospace* ]] || { echo "FAIL: show j: not filenames, nospace"; failed=$((failed + 1)); }

# Every option that the built binary's --help lists ($DMABUFCTL, as make
# test runs it) is completed: the lists above do not drift from the code.
if [[ ${DMABUFCTL-} ]]; then
	for cmd in "" show pool pins top watch set enable run export; do
		# shellcheck disable=SC2086
		help=$("$DMABUFCTL" $cmd --help 2>&1) || {
			echo "FAIL: dmabufctl $cmd --help: $help"
			failed=$((failed + 1))
			continue
		}
		for o in $(grep -oE '^\s+(-[a-zA-Z], )?--[a-z][a-z-]*' <<<"$help" | tr -d ,); do
			expect_has "dmabufctl ${cmd:+$cmd }$o" "$o"
		done
	done
fi

echo "test_completion: $pass passed, $failed failed"
((failed == 0))
