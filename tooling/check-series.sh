#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Per-patch checks of the series in the work tree, in order:
#   - the patch applies with quilt too (whole series, on a copy of the base)
#   - the kernel builds after it (incremental O= build, ccache; not repeated
#     for a patch that changes nothing the kernel build reads)
#   - W=1 and sparse (C=2) on the C files it touches
#   - checkpatch.pl --strict on the patch file
#   - scripts/kernel-doc -Wall -none on the C files it touches
#   - the series' own Coccinelle rules over the files it touches
# Any new warning fails the run and names the patch.  The missing
# Signed-off-by: is the only checkpatch complaint allowed (see README).
. "$(dirname "$0")/common.sh"

[ -f "$BUILD/.demo-full-config" ] || "$TOOLS/build.sh" --config-only
cd "$TREE"
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
	die "$TREE has uncommitted changes"
base=$(base_commit)
mapfile -t commits < <(git rev-list --reverse "$base..$BRANCH")
mapfile -t series < <(grep -v '^[[:space:]]*\(#\|$\)' "$TOP/series.txt")
[ ${#commits[@]} = ${#series[@]} ] ||
	die "series.txt lists ${#series[@]} patches, the tree has ${#commits[@]}"
LOGS=$RESULTS/check
rm -rf "$LOGS"
mkdir -p "$LOGS"
fail=0
failed() { echo "not ok $1 - $2"; fail=1; }

# --- quilt: the same series applies with `quilt push -a`
qdir=$(mktemp -d)
# Whatever happens, leave the tree at the tip and the tip's configuration.
restore() {
	rm -rf "$qdir"
	git -C "$TREE" checkout -q "$BRANCH"
	cp "$BUILD/.demo-full-config" "$BUILD/.config"
}
trap restore EXIT
git archive "$base" | tar -x -C "$qdir"
if (cd "$qdir" && QUILT_PATCHES="$TOP/patches" QUILT_SERIES="$TOP/series.txt" \
	quilt push -a -q >"$LOGS/quilt.log" 2>&1); then
	(cd "$qdir" && rm -rf .pc && git init -q && git add -f -A . &&
		git -c user.name=x -c user.email=x commit -q -m x) >/dev/null
	if [ "$(git -C "$qdir" rev-parse HEAD^{tree})" = "$(git rev-parse "$BRANCH^{tree}")" ]; then
		echo "ok 0 - quilt push -a gives the tip tree"
	else
		failed 0 "quilt push -a gives a tree different from git am"
	fi
else
	failed 0 "quilt push -a"; tail -n 20 "$LOGS/quilt.log"
fi
rm -rf "$qdir"

# checkpatch must say nothing but the missing sign-off.  An added file
# warning is fine when a MAINTAINERS section with its own list covers the
# file (get_maintainer.pl prints "list:SECTION"; THE REST has none).
maint_covers() {
	local f
	for f in $(git diff --name-only --diff-filter=A "$1~" "$1"); do
		perl "$TREE/scripts/get_maintainer.pl" --no-git --no-git-fallback \
			--no-email --subsystem --no-remove-duplicates -f "$f" \
			2>/dev/null | grep -q 'list:' || return 1
	done
}

# A base imported from a tarball has no upstream history, so checkpatch
# cannot look up the commits that Fixes: tags name; with a git base
# (KERNEL_SRC=) it can, and does.
unknown_ids=
[ "$(git rev-list --count "$base")" = 1 ] && unknown_ids='|UNKNOWN_COMMIT_ID'

i=0
for c in "${commits[@]}"; do
	i=$((i + 1))
	p=${series[$((i - 1))]}
	name=${p%.patch}
	git -c advice.detachedHead=false checkout -q "$c"
	mapfile -t cfiles < <(git diff --name-only --diff-filter=AM "$c~" "$c" -- '*.c' '*.h' |
		grep -v '^tools/' || true)

	# A patch that changes nothing the kernel build reads (Coccinelle
	# rules, documentation, selftests) leaves the kernel it builds as the
	# previous patch left it: that build stands for it.
	kfiles=$(git diff --name-only "$c~" "$c" |
		grep -v -E '^(scripts/coccinelle/|Documentation/|tools/|MAINTAINERS$)' || true)
	if [ -z "$kfiles" ]; then
		echo "kernel sources unchanged by this patch; build not repeated" >"$LOGS/$name.build"
	else
		# The tip's configuration, minus what this commit does not know yet.
		# Every patch compiles and links (vmlinux, modules); the bootable
		# image is made once, at the tip.
		cp "$BUILD/.demo-full-config" "$BUILD/.config"
		if ! mk "$TREE" olddefconfig >"$LOGS/$name.build" 2>&1 ||
		   ! mk "$TREE" vmlinux modules >>"$LOGS/$name.build" 2>&1; then
			failed "$i" "$p: build"; tail -n 20 "$LOGS/$name.build"; continue
		fi
	fi
	# warnings from the normal build in files this patch touches
	for f in "${cfiles[@]}"; do
		grep -E "^(\.\./)*(.*/)?$f:[0-9]+:[0-9]+: warning" "$LOGS/$name.build" || true
	done >"$LOGS/$name.warn"

	# W=1 and sparse on the objects of the C files the patch touches
	# (C=2 checks them even when they are up to date).
	# Files the configuration does not build (no object) are skipped.
	objs=$(printf '%s\n' "${cfiles[@]}" | { grep '\.c$' || true; } | sed 's/\.c$/.o/' |
		while read -r o; do [ ! -f "$BUILD/$o" ] || echo "$o"; done)
	if [ -n "$objs" ]; then
		# shellcheck disable=SC2086
		mk "$TREE" W=1 C=2 $objs >>"$LOGS/$name.w1" 2>&1 || echo "W=1 build failed" >>"$LOGS/$name.warn"
	fi
	for f in "${cfiles[@]}"; do
		grep -E "(^|/)$f:[0-9]+(:[0-9]+)?: (warning|error)" "$LOGS/$name.w1" 2>/dev/null || true
	done >>"$LOGS/$name.warn"
	# the kernel silently drops C= when the checker cannot parse it
	grep -h "not available or not up to date" "$LOGS/$name.w1" >>"$LOGS/$name.warn" 2>/dev/null || true
	if [ -s "$LOGS/$name.warn" ]; then
		failed "$i" "$p: W=1/sparse warnings"; cat "$LOGS/$name.warn"
	fi

	# checkpatch's helpers (spdxcheck.py) need Debian's python3 and ply.
	PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict --terse --no-summary \
		--show-types "$TOP/patches/$p" >"$LOGS/$name.checkpatch" 2>&1 || true
	grep -v -E "MISSING_SIGN_OFF|^\$$unknown_ids" "$LOGS/$name.checkpatch" |
		{ if maint_covers "$c"; then grep -v FILE_PATH_CHANGES; else cat; fi; } |
		grep -v 'NOTE: ' >"$LOGS/$name.checkpatch.bad" || true
	if [ -s "$LOGS/$name.checkpatch.bad" ]; then
		failed "$i" "$p: checkpatch"; cat "$LOGS/$name.checkpatch.bad"
	fi

	if [ ${#cfiles[@]} -gt 0 ]; then
		# Only what the patch adds counts: a warning the file already
		# gave before it (upstream's) is not the patch's.
		kd=$(mktemp -d)
		for f in "${cfiles[@]}"; do
			perl scripts/kernel-doc -Wall -none "$f" 2>&1 |
				sed -E 's/:[0-9]+ / /' >"$kd/new" || true
			if git cat-file -e "$c~:$f" 2>/dev/null; then
				mkdir -p "$kd/old/$(dirname "$f")"
				git show "$c~:$f" >"$kd/old/$f"
				(cd "$kd/old" && perl "$TREE/scripts/kernel-doc" -Wall -none "$f" 2>&1 |
					sed -E 's/:[0-9]+ / /') >"$kd/old.out" || true
			else
				: >"$kd/old.out"
			fi
			sort -u "$kd/new" | comm -23 - <(sort -u "$kd/old.out")
		done >"$LOGS/$name.kdoc"
		rm -rf "$kd"
		if [ -s "$LOGS/$name.kdoc" ]; then
			failed "$i" "$p: kernel-doc"; cat "$LOGS/$name.kdoc"
		fi
	fi

	# the series' own rules, as a reviewer runs them: make coccicheck
	rules=$(git ls-files 'scripts/coccinelle/*demo*.cocci' 'scripts/coccinelle/**/dma_*.cocci' 2>/dev/null || true)
	cdirs=$(printf '%s\n' "${cfiles[@]}" | { grep '\.c$' || true; } | xargs -r -n1 dirname | sort -u)
	if [ -n "$rules" ] && [ -n "$cdirs" ]; then
		for r in $rules; do
			# A rule only matches files that name one of its Keywords
			# (spatch's own prefilter); the patch can only change what
			# it reports in the files it touches.
			read -ra kw <<<"$(sed -n 's|^// Keywords:||p' "$r" | head -n 1 | tr ',' ' ')"
			pat=()
			for w in "${kw[@]}"; do pat+=(-e "$w"); done
			if [ ${#pat[@]} -gt 0 ] && ! printf '%s\n' "${cfiles[@]}" | grep '\.c$' |
				xargs -r grep -q -w -F "${pat[@]}" 2>/dev/null; then
				continue
			fi
			for d in $cdirs; do
				make -s coccicheck MODE=report COCCI="$PWD/$r" M="$d" J="$JOBS" 2>&1 |
					{ grep -E '^[^ ]+\.[ch]:[0-9]+' || true; } | sed "s|^\./|$d/|"
			done
		done >"$LOGS/$name.cocci"
		if [ -s "$LOGS/$name.cocci" ]; then
			failed "$i" "$p: coccinelle"; cat "$LOGS/$name.cocci"
		fi
	fi
	[ -s "$LOGS/$name.warn" ] || [ -s "$LOGS/$name.checkpatch.bad" ] || [ -s "$LOGS/$name.kdoc" ] ||
		[ -s "$LOGS/$name.cocci" ] || echo "ok $i - $p"
done
exit $fail
