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
#   - the rdma kselftests build after it, when it touches them
# Any new warning fails the run and names the patch.  The missing
# Signed-off-by: is the only checkpatch complaint allowed (see README).
# A touched C file that the build did not compile, or a Coccinelle run that
# exits non-zero or parses a touched file worse than before, fails too.
#
# Results are cached per patch in $DEMO_CACHE/check-cache, keyed by what
# decides them (see check_key below and the README); FRESH=1 ignores the
# cache.  A cached failure is replayed as a failure.
. "$(dirname "$0")/common.sh"

[ -f "$BUILD/.demo-full-config" ] || "$TOOLS/build.sh" --config-only
cd "$TREE" || exit 1
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

# --- per-patch result cache
# The key of patch N: this script and common.sh, the tools' versions, the
# kernel configuration the checks build, whether the base has history
# (checkpatch's commit-id lookups), the git trees before and after the
# patch (so the sources, the in-tree checkers and the Coccinelle rules) and
# the patch file itself (its message is what checkpatch reads).
CACHE=$DEMO_CACHE/check-cache
mkdir -p "$CACHE"
tool_versions() {
	gcc -dumpfullversion
	"$(sparse_cmd)" --version 2>&1
	spatch --version 2>&1 | head -n 1
	perl -e 'print "$^V\n"'
	PATH=/usr/bin:$PATH python3 --version 2>&1
	make --version | head -n 1
}
inputs=$({ sha1sum "$TOOLS/check-series.sh" "$TOOLS/common.sh" | cut -d' ' -f1
	   tool_versions
	   sha1sum <"$BUILD/.demo-full-config" | cut -d' ' -f1; } | sha1sum | cut -d' ' -f1)
check_key() { # commit patch-file
	{ echo "$inputs $unknown_ids"
	  git rev-parse "$1^{tree}" "$1~^{tree}"
	  sha1sum <"$2" | cut -d' ' -f1; } | sha1sum | cut -d' ' -f1
}
hits=0

# Seconds per step, summed over the patches (printed at the end).
declare -A secs=()
t_step=$(date +%s)
step() { local n; n=$(date +%s); secs[$1]=$(( ${secs[$1]:-0} + n - t_step )); t_step=$n; }

# The build directory remembers which tree it was last fully built at: a
# patch that changes only the demo driver's C sources then rebuilds just
# that module (its symbols checked by modpost against that vmlinux).
built_at() { cat "$BUILD/.demo-built-tree" 2>/dev/null || true; }
demo_module=$(grep -q '^CONFIG_INFINIBAND_DEMO=m' "$BUILD/.demo-full-config" && echo 1 || true)

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
	if [ "$(git -C "$qdir" rev-parse "HEAD^{tree}")" = "$(git rev-parse "$BRANCH^{tree}")" ]; then
		echo "ok 0 - quilt push -a gives the tip tree"
	else
		failed 0 "quilt push -a gives a tree different from git am"
	fi
else
	failed 0 "quilt push -a"; tail -n 20 "$LOGS/quilt.log"
fi
rm -rf "$qdir"
step quilt

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

# All checks of one patch; prints its TAP line(s) and what failed.
check_patch() {
	local c=$1 i=$2 p=$3 name=$4 pfail=0 kfiles objs f o d r w kd
	local -a cfiles csrc kw pat
	bad() { echo "not ok $i - $p: $1"; pfail=1; }
	git -c advice.detachedHead=false checkout -q "$c"
	step checkout
	mapfile -t cfiles < <(git diff --name-only --diff-filter=AM "$c~" "$c" -- '*.c' '*.h' |
		grep -v '^tools/' || true)
	mapfile -t csrc < <(printf '%s\n' "${cfiles[@]}" | grep '\.c$' || true)

	# A patch that changes nothing the kernel build reads (Coccinelle
	# rules, documentation, selftests) leaves the kernel it builds as the
	# previous patch left it: that build stands for it.
	kfiles=$(git diff --name-only "$c~" "$c" |
		grep -v -E '^(scripts/coccinelle/|Documentation/|tools/|MAINTAINERS$)' || true)
	if [ -z "$kfiles" ]; then
		echo "kernel sources unchanged by this patch; build not repeated" >"$LOGS/$name.build"
		[ "$(built_at)" != "$(git rev-parse "$c~^{tree}")" ] ||
			git rev-parse "$c^{tree}" >"$BUILD/.demo-built-tree"
	elif [ -n "$demo_module" ] && [ "$(built_at)" = "$(git rev-parse "$c~^{tree}")" ] &&
	     ! grep -q -v -E '^drivers/infiniband/hw/demo/[^/]+\.[ch]$' <<<"$kfiles"; then
		# Only the demo module's C sources changed since the last full
		# build: build and link that module alone (modpost included).
		echo "demo module only: make drivers/infiniband/hw/demo/demo_rdma.ko" >"$LOGS/$name.build"
		if ! mk "$TREE" drivers/infiniband/hw/demo/demo_rdma.ko >>"$LOGS/$name.build" 2>&1; then
			bad "build"; tail -n 20 "$LOGS/$name.build"; rm -f "$BUILD/.demo-built-tree"
			step build
			return
		fi
		git rev-parse "$c^{tree}" >"$BUILD/.demo-built-tree"
	else
		# The tip's configuration, minus what this commit does not know yet.
		# Every patch compiles and links (vmlinux, modules); the bootable
		# image is made once, at the tip.
		cp "$BUILD/.demo-full-config" "$BUILD/.config"
		rm -f "$BUILD/.demo-built-tree"
		if ! mk "$TREE" olddefconfig >"$LOGS/$name.build" 2>&1 ||
		   ! mk "$TREE" vmlinux modules >>"$LOGS/$name.build" 2>&1; then
			bad "build"; tail -n 20 "$LOGS/$name.build"
			step build
			return
		fi
		git rev-parse "$c^{tree}" >"$BUILD/.demo-built-tree"
	fi
	step build
	# warnings from the normal build in files this patch touches
	for f in "${cfiles[@]}"; do
		grep -E "^(\.\./)*(.*/)?$f:[0-9]+:[0-9]+: warning" "$LOGS/$name.build" || true
	done >"$LOGS/$name.warn"
	# Every C file the patch touches must have been compiled: a file the
	# configuration does not build is a check that did not run.  (The
	# checkout gave the file a new mtime; its object must be newer.)
	for f in "${csrc[@]}"; do
		[ "$BUILD/${f%.c}.o" -nt "$f" ] ||
			echo "$f: not compiled by this configuration (no ${f%.c}.o built)"
	done >>"$LOGS/$name.warn"

	# W=1 and sparse on the objects of the C files the patch touches
	# (C=2 checks them even when they are up to date).
	objs=$(printf '%s\n' "${csrc[@]}" | sed -n 's/\.c$/.o/p' |
		while read -r o; do [ ! "$BUILD/$o" -nt "${o%.o}.c" ] || echo "$o"; done)
	if [ -n "$objs" ]; then
		# shellcheck disable=SC2086
		mk "$TREE" W=1 C=2 $objs >>"$LOGS/$name.w1" 2>&1 || echo "W=1 build failed" >>"$LOGS/$name.warn"
	fi
	for f in "${cfiles[@]}"; do
		grep -E "(^|/)$f:[0-9]+(:[0-9]+)?: (warning|error)" "$LOGS/$name.w1" 2>/dev/null || true
	done >>"$LOGS/$name.warn"
	# the kernel silently drops C= when the checker cannot parse it
	grep -h "not available or not up to date" "$LOGS/$name.w1" >>"$LOGS/$name.warn" 2>/dev/null || true
	step w1-sparse

	# The rdma kselftests, when the patch touches them: they build against
	# this patch's uapi headers, and warn about nothing in its files.
	mapfile -t tfiles < <(git diff --name-only --diff-filter=AM "$c~" "$c" -- tools/testing/selftests/rdma/ |
		grep -E '\.[ch]$|/Makefile$' || true)
	if [ ${#tfiles[@]} -gt 0 ]; then
		# (a clean build: the programs' make rules do not know their headers)
		rm -rf "$BUILD/kselftest-check" "$BUILD/kselftest/rdma"
		if ! mk "$TREE" headers >"$LOGS/$name.ksft" 2>&1 ||
		   ! make -s -C "$TREE" O="$BUILD" TARGETS=rdma \
			KSFT_INSTALL_PATH="$BUILD/kselftest-check" kselftest-install >>"$LOGS/$name.ksft" 2>&1; then
			echo "rdma kselftests: build failed" >>"$LOGS/$name.warn"
			tail -n 20 "$LOGS/$name.ksft" >>"$LOGS/$name.warn"
		fi
		for f in "${tfiles[@]}"; do
			grep -E "(^|/)${f##*/}:[0-9]+(:[0-9]+)?: (warning|error)" "$LOGS/$name.ksft" || true
		done >>"$LOGS/$name.warn"
		rm -rf "$BUILD/kselftest-check"
		step kselftests
	fi
	if [ -s "$LOGS/$name.warn" ]; then
		bad "build, W=1 or sparse warnings"; cat "$LOGS/$name.warn"
	fi

	# checkpatch's helpers (spdxcheck.py) need Debian's python3 and ply.
	PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict --terse --no-summary \
		--show-types "$TOP/patches/$p" >"$LOGS/$name.checkpatch" 2>&1 || true
	grep -v -E "MISSING_SIGN_OFF|^\$$unknown_ids" "$LOGS/$name.checkpatch" |
		{ if maint_covers "$c"; then grep -v FILE_PATH_CHANGES; else cat; fi; } |
		grep -v 'NOTE: ' >"$LOGS/$name.checkpatch.bad" || true
	if [ -s "$LOGS/$name.checkpatch.bad" ]; then
		bad "checkpatch"; cat "$LOGS/$name.checkpatch.bad"
	fi
	step checkpatch

	if [ ${#cfiles[@]} -gt 0 ]; then
		# Only what the patch adds counts: a warning the file already
		# gave before it (upstream's) is not the patch's.
		kd=$(mktemp -d)
		for f in "${cfiles[@]}"; do
			PATH=/usr/bin:$PATH perl scripts/kernel-doc -Wall -none "$f" 2>&1 |
				sed -E 's/:[0-9]+ / /' >"$kd/new" || true
			if git cat-file -e "$c~:$f" 2>/dev/null; then
				mkdir -p "$kd/old/$(dirname "$f")"
				git show "$c~:$f" >"$kd/old/$f"
				(cd "$kd/old" && PATH=/usr/bin:$PATH perl "$TREE/scripts/kernel-doc" -Wall -none "$f" 2>&1 |
					sed -E 's/:[0-9]+ / /') >"$kd/old.out" || true
			else
				: >"$kd/old.out"
			fi
			sort -u "$kd/new" | comm -23 - <(sort -u "$kd/old.out")
		done >"$LOGS/$name.kdoc"
		rm -rf "$kd"
		if [ -s "$LOGS/$name.kdoc" ]; then
			bad "kernel-doc"; cat "$LOGS/$name.kdoc"
		fi
	fi
	step kernel-doc

	# the series' own rules, as a reviewer runs them: make coccicheck
	rules=$(git ls-files 'scripts/coccinelle/*demo*.cocci' 'scripts/coccinelle/**/dma_*.cocci' 2>/dev/null || true)
	cdirs=$(printf '%s\n' "${csrc[@]}" | xargs -r -n1 dirname | sort -u)
	: >"$LOGS/$name.cocci"
	if [ -n "$rules" ] && [ -n "$cdirs" ]; then
		# A file spatch cannot parse is a file no rule checks: a patch
		# must not make a touched file parse worse than before it.
		kd=$(mktemp -d)
		for f in "${csrc[@]}"; do
			w=$({ spatch --parse-c "$f" 2>&1 || true; } |
				sed -n 's/.*nb bad = \([0-9]*\).*/\1/p' | tail -n 1)
			o=0
			if git cat-file -e "$c~:$f" 2>/dev/null; then
				mkdir -p "$kd/$(dirname "$f")"
				git show "$c~:$f" >"$kd/$f"
				o=$(cd "$kd" && { spatch --parse-c "$f" 2>&1 || true; } |
					sed -n 's/.*nb bad = \([0-9]*\).*/\1/p' | tail -n 1)
			fi
			[ -n "$w" ] || { echo "$f: spatch --parse-c gave no result"; continue; }
			[ "$w" -le "${o:-0}" ] ||
				echo "$f: spatch cannot parse $w lines (before this patch: ${o:-0})"
		done >>"$LOGS/$name.cocci"
		rm -rf "$kd"
		for r in $rules; do
			# A rule only matches files that name one of its Keywords
			# (spatch's own prefilter); the patch can only change what
			# it reports in the files it touches.
			read -ra kw <<<"$(sed -n 's|^// Keywords:||p' "$r" | head -n 1 | tr ',' ' ')"
			pat=()
			for w in "${kw[@]}"; do pat+=(-e "$w"); done
			if [ ${#pat[@]} -gt 0 ] && ! printf '%s\n' "${csrc[@]}" |
				xargs -r grep -q -w -F "${pat[@]}" 2>/dev/null; then
				continue
			fi
			for d in $cdirs; do
				if ! make -s coccicheck MODE=report COCCI="$PWD/$r" M="$d" J="$JOBS" \
					>"$LOGS/$name.cocci.out" 2>&1; then
					echo "$r on $d: make coccicheck exited non-zero"
					sed 's/^/  /' "$LOGS/$name.cocci.out" | tail -n 10
				fi
				{ grep -E '^[^ ]+\.[ch]:[0-9]+' "$LOGS/$name.cocci.out" || true; } | sed "s|^\./|$d/|"
			done
		done >>"$LOGS/$name.cocci"
		rm -f "$LOGS/$name.cocci.out"
		if [ -s "$LOGS/$name.cocci" ]; then
			bad "coccinelle"; cat "$LOGS/$name.cocci"
		fi
	fi
	step coccinelle
	[ $pfail = 1 ] || echo "ok $i - $p"
}

i=0
for c in "${commits[@]}"; do
	i=$((i + 1))
	p=${series[$((i - 1))]}
	name=${p%.patch}
	key=$(check_key "$c" "$TOP/patches/$p")
	if [ "${FRESH:-0}" != 1 ] && [ -f "$CACHE/$key" ]; then
		sed "s/@N@/$i/" "$CACHE/$key" | tee "$LOGS/$name.result"
		grep -q '^not ok' "$CACHE/$key" && fail=1
		hits=$((hits + 1))
		step cached
		continue
	fi
	check_patch "$c" "$i" "$p" "$name" >"$LOGS/$name.result"
	cat "$LOGS/$name.result"
	grep -q '^not ok' "$LOGS/$name.result" && fail=1
	sed -E "s/^(not ok|ok) $i /\1 @N@ /" "$LOGS/$name.result" >"$CACHE/$key.tmp" &&
		mv "$CACHE/$key.tmp" "$CACHE/$key"
done
{
	echo "per-patch checks: ${#commits[@]} patches, $hits from the cache (FRESH=1 ignores it)"
	for k in "${!secs[@]}"; do echo "  ${secs[$k]}s $k"; done | sort -k2
} >&2
exit $fail
