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
dirs=$(echo "$files" | sed -n 's|^Documentation/\([^/]*\)/.*|\1|p' | sort -u | tr '\n' ' ')
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
echo "ok 1 - htmldocs (${dirs% }) without warnings in the series' files"
