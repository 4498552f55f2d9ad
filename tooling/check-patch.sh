#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The checks of one patch, sourced by check-series.sh (which sets TREE,
# BUILD, LOGS, TOP, JOBS, unknown_ids, demo_module, step() and built_at()).
# Each patch's result is cached under a key that includes this file's
# contents: change a check here and every patch is checked again.

# shellcheck disable=SC2154 # unknown_ids: set by check-series.sh

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

# The coverage build's configuration, made again when the tip's or the
# fragment changes (Kconfig takes the last of two assignments).
COV_BUILD=$DEMO_CACHE/cov-build
cov_config() {
	local stamp
	stamp=$(cat "$BUILD/.demo-full-config" "$TOOLS/config/coverage.config" | sha1sum | cut -d' ' -f1)
	[ "$(cat "$COV_BUILD/.demo-cov-config" 2>/dev/null)" != "$stamp" ] || return 0
	mkdir -p "$COV_BUILD"
	cat "$BUILD/.demo-full-config" "$TOOLS/config/coverage.config" >"$COV_BUILD/.config"
	BUILD=$COV_BUILD mk "$TREE" olddefconfig >/dev/null 2>&1
	echo "$stamp" >"$COV_BUILD/.demo-cov-config"
}
cov_warnings() {
	{ grep -E ':[0-9]+:[0-9]+: (warning|error):' "$1" || true; } |
		sed -E 's/:[0-9]+:[0-9]+: /: /' | sort
}

# All checks of one patch; prints its TAP line(s) and what failed.
check_patch() {
	local c=$1 i=$2 p=$3 name=$4 pfail=0 kfiles objs f o d r w kd
	local -a cfiles csrc kw pat cov old
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
	# A C file the test kernel's configuration does not build (another
	# vendor's driver the series changes) is compiled in the coverage
	# build: that configuration plus config/coverage.config, the touched
	# objects only, never linked, with W=1 and sparse.
	# Vendor code has warnings of its own: only those the patch adds
	# count (compared without line numbers with the files before it).
	mapfile -t cov < <(for f in "${csrc[@]}"; do [ "$BUILD/${f%.c}.o" -nt "$f" ] || echo "$f"; done)
	if [ ${#cov[@]} -gt 0 ]; then
		cov_config
		mapfile -t old < <(git diff --name-only --diff-filter=M "$c~" "$c" -- "${cov[@]}")
		: >"$LOGS/$name.cov-before"
		if [ ${#old[@]} -gt 0 ]; then
			git checkout -q "$c~" -- "${old[@]}"
			# shellcheck disable=SC2046
			BUILD=$COV_BUILD mk "$TREE" W=1 C=2 $(printf '%s\n' "${old[@]}" | sed 's/\.c$/.o/') \
				>"$LOGS/$name.cov-before" 2>&1 || true
			git checkout -q "$c" -- "${old[@]}"
		fi
		# shellcheck disable=SC2046
		BUILD=$COV_BUILD mk "$TREE" W=1 C=2 $(printf '%s\n' "${cov[@]}" | sed 's/\.c$/.o/') \
			>"$LOGS/$name.cov" 2>&1 || echo "coverage build failed" >>"$LOGS/$name.warn"
		comm -13 <(cov_warnings "$LOGS/$name.cov-before") <(cov_warnings "$LOGS/$name.cov") \
			>>"$LOGS/$name.warn"
		grep -h "not available or not up to date" "$LOGS/$name.cov" >>"$LOGS/$name.warn" || true
	fi
	# Every C file the patch touches must have been compiled: a file no
	# configuration builds is a check that did not run.  (The checkout
	# gave the file a new mtime; its object must be newer.)
	for f in "${csrc[@]}"; do
		[ "$BUILD/${f%.c}.o" -nt "$f" ] || [ "$COV_BUILD/${f%.c}.o" -nt "$f" ] ||
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
	# this patch's uapi headers, and warn about nothing at all.
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
		# Every warning counts, wherever gcc places it: one in a
		# program's code inlined into the harness's macros is reported
		# at kselftest_harness.h (the rdma programs are all ours).
		grep -E ": (warning|error):" "$LOGS/$name.ksft" >>"$LOGS/$name.warn" || true
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
			read -ra kw <<<"$(sed -n 's|^// Keywords:||p' "$r" | tr ',\n' '  ')"
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

	# Assisted-by: names the analysis tools that ran on this patch here:
	# sparse exactly when it checked kernel C files of the patch;
	# Coccinelle whenever the series' rules ran on them or the patch adds
	# rules (cocci-test.sh runs those on their fixtures), and otherwise
	# only on a fix (Fixes:) of a bug a rule found. Tools that found what
	# a patch fixes in the test VM (kmemleak, DMA-API debug, perf) may
	# follow.
	local ran=() said msg
	msg=$(git log -1 --format=%B "$c")
	said=$(sed -n 's/^Assisted-by: LLM\( \|$\)//p' <<<"$msg")
	[ ${#csrc[@]} -eq 0 ] || ran+=(sparse)
	if { [ -n "$rules" ] && [ ${#csrc[@]} -gt 0 ]; } ||
	   git diff --name-only "$c~" "$c" | grep -q '\.cocci$'; then
		ran+=(coccinelle)
	fi
	[[ " ${ran[*]} " == *" sparse "* ]] || [[ " $said " != *" sparse "* ]] ||
		bad "Assisted-by: names sparse, which did not run on this patch"
	[[ " ${ran[*]} " != *" sparse "* ]] || [[ " $said " == *" sparse "* ]] ||
		bad "Assisted-by: does not name sparse, which ran on this patch"
	[[ " ${ran[*]} " != *" coccinelle "* ]] || [[ " $said " == *" coccinelle "* ]] ||
		bad "Assisted-by: does not name coccinelle, which ran on this patch"
	[[ " ${ran[*]} " == *" coccinelle "* ]] || [[ " $said " != *" coccinelle "* ]] ||
		grep -q '^Fixes: ' <<<"$msg" ||
		bad "Assisted-by: names coccinelle, which did not run on this patch"
	[ "$(grep -c '^Assisted-by: LLM' <<<"$msg")" = 1 ] ||
		bad "not one Assisted-by: LLM trailer"
	step assisted-by
	[ $pfail = 1 ] || echo "ok $i - $p"
}
