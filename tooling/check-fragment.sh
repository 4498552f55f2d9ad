#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Configure the tip of the work tree as an outside kselftest runner does
# (make x86_64_defconfig, then tools/testing/selftests/rdma/config merged
# with the tree's scripts/kconfig/merge_config.sh, then olddefconfig) and
# check that every option the fragment asks for came out as asked: an
# option whose dependencies the fragment does not bring along is dropped
# silently there, and tests fail or skip on such a kernel that pass in the
# project's VM, whose virtme-ng base configuration happens to have them.
. "$(dirname "$0")/common.sh"

frag=tools/testing/selftests/rdma/config
out=$DEMO_CACHE/runner-config
title="a kernel configured as a kselftest runner does has every option of $frag"
cd "$TREE"
[ -f "$frag" ] || { echo "not ok 1 - $title # no $frag"; exit 1; }
rm -rf "$out"
mkdir -p "$out"
if ! { make -s O="$out" x86_64_defconfig &&
       scripts/kconfig/merge_config.sh -m -O "$out" \
		"$out/.config" "$frag" &&
       make -s O="$out" olddefconfig; } >"$out/log" 2>&1; then
	echo "not ok 1 - $title"
	tail -n 20 "$out/log" | sed 's/^/# /'
	exit 1
fi
bad=
while IFS= read -r l; do
	case $l in
	CONFIG_*=*)
		opt=${l%%=*} val=${l#*=}
		got=$(grep -E "^$opt=" "$out/.config" | cut -d= -f2- || true)
		if [ "$val" = n ]; then
			[ -z "$got" ] || bad+="$opt: asked n, got $got"$'\n'
		elif [ "$got" != "$val" ]; then
			bad+="$opt: asked $val, got ${got:-not set}"$'\n'
		fi ;;
	esac
done <"$frag"
if [ -n "$bad" ]; then
	echo "not ok 1 - $title"
	printf '%s' "$bad" | sed 's/^/# /'
	exit 1
fi
echo "ok 1 - $title ($(grep -c '^CONFIG_' "$frag") options)"
