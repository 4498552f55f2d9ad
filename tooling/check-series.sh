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

. "$TOOLS/check-patch.sh"

# --- per-patch result cache
# The key of patch N: the checks (check-patch.sh) and common.sh, the tools' versions, the
# kernel configuration the checks build, whether the base has history
# (checkpatch's commit-id lookups), the git trees before and after the
# patch (so the sources, the in-tree checkers and the Coccinelle rules) and
# the patch file itself (its message is what checkpatch reads), without
# its "From <commit id>" line and its [PATCH n/m] numbering, which no
# check reads: a patch added at the end re-checks only itself.
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
inputs=$({ sha1sum "$TOOLS/check-patch.sh" "$TOOLS/common.sh" "$TOOLS/config/coverage.config" | cut -d' ' -f1
	   tool_versions
	   sha1sum <"$BUILD/.demo-full-config" | cut -d' ' -f1; } | sha1sum | cut -d' ' -f1)
check_key() { # commit patch-file
	{ echo "$inputs $unknown_ids"
	  git rev-parse "$1^{tree}" "$1~^{tree}"
	  sed -e '1s/^From [0-9a-f]* /From /' \
	      -e 's/^Subject: \[PATCH [0-9]*\/[0-9]*\]/Subject: [PATCH]/' "$2" |
		sha1sum | cut -d' ' -f1; } | sha1sum | cut -d' ' -f1
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
# shellcheck disable=SC2034 # used by check-patch.sh
demo_module=$(grep -q '^CONFIG_INFINIBAND_DEMO=m' "$BUILD/.demo-full-config" && echo 1 || true)

# --- quilt: the same series applies with `quilt push -a` (cached: the
# result depends on the base, the patch files in series order, quilt's
# version and the tree git am made)
qdir=$(mktemp -d)
# Whatever happens, leave the tree at the tip and the tip's configuration.
restore() {
	rm -rf "$qdir"
	git -C "$TREE" checkout -q "$BRANCH"
	cp "$BUILD/.demo-full-config" "$BUILD/.config"
}
trap restore EXIT
qkey=$({ echo "quilt $base"; quilt --version; git rev-parse "$BRANCH^{tree}"
	 echo "quilt check 2"
	 for p in "${series[@]}"; do sha1sum <"$TOOLS/../patches/$p"; done; } | sha1sum | cut -d' ' -f1)
if [ "${FRESH:-0}" != 1 ] && [ -f "$CACHE/quilt-$qkey" ]; then
	cat "$CACHE/quilt-$qkey"
	grep -q '^not ok' "$CACHE/quilt-$qkey" && fail=1
else
	{
		git archive "$base" | tar -x -C "$qdir"
		if (cd "$qdir" && QUILT_PATCHES="$TOP/patches" QUILT_SERIES="$TOP/series.txt" \
			quilt push -a -q >"$LOGS/quilt.log" 2>&1); then
			# only the tree id is wanted: no commit, no automatic gc
			(cd "$qdir" && rm -rf .pc && git init -q && git -c gc.auto=0 add -f -A . &&
				git write-tree >.tree-id) >/dev/null
			if [ "$(cat "$qdir/.tree-id")" = "$(git rev-parse "$BRANCH^{tree}")" ]; then
				echo "ok 0 - quilt push -a gives the tip tree"
			else
				echo "not ok 0 - quilt push -a gives a tree different from git am"
			fi
		else
			echo "not ok 0 - quilt push -a"; tail -n 20 "$LOGS/quilt.log"
		fi
	} >"$LOGS/quilt.result"
	cat "$LOGS/quilt.result"
	grep -q '^not ok' "$LOGS/quilt.result" && fail=1
	cp "$LOGS/quilt.result" "$CACHE/quilt-$qkey"
fi
rm -rf "$qdir"
step quilt

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
