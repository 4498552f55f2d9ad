#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Export the work tree's commits (base..demo) to patches/, series.txt, the
# view of created files and MAINTAINERS-snippet.
#   export.sh [TREE]          write them into the repository
#   export.sh --check [TREE]  only compare; exit 1 and show what differs
. "$(dirname "$0")/common.sh"

check=0
[ "${1:-}" = --check ] && { check=1; shift; }
dir=${1:-$TREE}
base=$(base_commit)
[ -n "$(git -C "$dir" rev-list "$base..$BRANCH" 2>/dev/null | head -n1)" ] ||
	die "$dir: no commits on $BRANCH above the base"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# --- patches and series.txt
git -C "$dir" format-patch -q --abbrev=12 --cover-letter --cover-from-description=subject \
	--base="$base" --no-signature -o "$out/patches" "$base..$BRANCH"
(cd "$out/patches" && ls [0-9]*.patch | grep -v '^0000-cover-letter.patch$') >"$out/series.txt"

# --- view: every file the series creates, as at the tip
git -C "$dir" diff --name-only --diff-filter=A "$base" "$BRANCH" >"$out/created"
while read -r f; do
	mkdir -p "$out/view/$(dirname "$f")"
	git -C "$dir" show "$BRANCH:$f" >"$out/view/$f"
	[ "$(git -C "$dir" ls-tree "$BRANCH" -- "$f" | cut -c1-6)" = 100755 ] &&
		chmod +x "$out/view/$f"
done <"$out/created"

# --- MAINTAINERS-snippet: the lines the series adds to MAINTAINERS
git -C "$dir" diff -U0 "$base" "$BRANCH" -- MAINTAINERS |
	sed -n 's/^+\([^+]\|$\)/\1/p' >"$out/MAINTAINERS-snippet"

VIEW_DIRS="drivers tools Documentation scripts include"
norm() { grep -v -E '^(From [0-9a-f]{40} |Date: |base-commit: |index [0-9a-f]+\.\.)' "$@" || true; }

if [ $check = 1 ]; then
	rc=0
	diff -u "$TOP/series.txt" "$out/series.txt" || rc=1
	for p in "$out"/patches/*.patch "$TOP"/patches/*.patch; do
		b=$(basename "$p")
		[ -f "$TOP/patches/$b" ] && [ -f "$out/patches/$b" ] ||
			{ echo "patches/$b: only in one of repository and tree"; rc=1; continue; }
		cmp -s <(norm "$TOP/patches/$b") <(norm "$out/patches/$b") ||
			{ echo "patches/$b differs from the tree"; rc=1; }
	done
	diff -u "$TOP/MAINTAINERS-snippet" "$out/MAINTAINERS-snippet" || rc=1
	for d in $VIEW_DIRS; do
		[ -d "$TOP/$d" ] || [ -d "$out/view/$d" ] || continue
		diff -r -q "$TOP/$d" "$out/view/$d" 2>&1 || rc=1
	done
	[ $rc = 0 ] && log "patches/, series.txt and the view match $dir"
	exit $rc
fi

rm -f "$TOP"/patches/*.patch
mkdir -p "$TOP/patches"
cp "$out"/patches/*.patch "$TOP/patches/"
cp "$out/series.txt" "$TOP/series.txt"
cp "$out/MAINTAINERS-snippet" "$TOP/MAINTAINERS-snippet"
for d in $VIEW_DIRS; do
	rm -rf "${TOP:?}/$d"
	[ -d "$out/view/$d" ] && cp -a "$out/view/$d" "$TOP/$d"
done
log "exported $(wc -l <"$out/series.txt") patches and $(wc -l <"$out/created") created files"
