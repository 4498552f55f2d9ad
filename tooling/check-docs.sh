#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the documentation the series touches (make htmldocs with SPHINXDIRS
# set to its Documentation/ directories) at the tip of the work tree, and
# fail on any Sphinx or kernel-doc warning that names a file the series
# changes. Warnings elsewhere in the tree are upstream's and are ignored.
. "$(dirname "$0")/common.sh"

cd "$TREE"
base=$(base_commit)
files=$(git diff --name-only "$base" "$BRANCH")
# Documentation/ABI has no Sphinx root of its own: its files are checked
# with the tree's ABI parser (what admin-guide's kernel-abi directive runs).
abi=$(echo "$files" | grep '^Documentation/ABI/' || true)
if [ -n "$abi" ]; then
	abi_log=$(tools/docs/get_abi.py -D Documentation/ABI validate 2>&1) ||
		{ echo "not ok 1 - the ABI files parse"; echo "$abi_log" | tail -n 5 | sed 's/^/# /'; exit 1; }
	bad=$(echo "$abi_log" | grep -F -f <(echo "$abi") || true)
	[ -z "$bad" ] || { echo "not ok 1 - ABI files without warnings"; echo "$bad" | sed 's/^/# /'; exit 1; }
fi
dirs=$(echo "$files" | sed -n 's|^Documentation/\([^/]*\)/.*|\1|p' | grep -vx ABI | sort -u | tr '\n' ' ')
[ -n "$dirs" ] || { echo "ok 1 - htmldocs: the series changes no documentation"; exit 0; }
out=$DEMO_CACHE/docs
mkdir -p "$out"
# Sphinx comes from Debian's python3, not from whatever python3 is first in PATH.
if ! PATH=/usr/bin:$PATH make -s O="$out" SPHINXDIRS="$dirs" htmldocs >"$out/htmldocs.log" 2>&1; then
	echo "not ok 1 - htmldocs ($dirs) builds"
	tail -n 20 "$out/htmldocs.log" | sed 's/^/# /'
	exit 1
fi
bad=$(grep -E 'WARNING|ERROR' "$out/htmldocs.log" | grep -F -f <(echo "$files") || true)
if [ -n "$bad" ]; then
	echo "not ok 1 - htmldocs ($dirs) without warnings in the series' files"
	echo "$bad" | sed 's/^/# /'
	exit 1
fi
echo "ok 1 - htmldocs (${dirs% }${abi:+, ABI parsed}) without warnings in the series' files"
