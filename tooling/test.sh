#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The README's test command: set up, rebuild the work tree from patches/,
# prove patches/ and the view agree with it, check every patch, build the
# tip, run the kselftests in every VM mode, build rdma-core with the demo
# provider and run its tools, perftest and pyverbs suite in a VM (mode
# rdma-core), and print the totals.
. "$(dirname "$0")/common.sh"

t0=$(date +%s)
stage() { log "[$(( $(date +%s) - t0 ))s] $*"; }
mkdir -p "$RESULTS"
rm -f "$RESULTS"/*.tap "$RESULTS"/*.bench
rc=0

stage "setup"
"$TOOLS/setup.sh"
stage "work tree from patches/"
"$TOOLS/tree.sh"
stage "patches/, series.txt and view against the tree"
if "$TOOLS/export.sh" --check >"$RESULTS/export-check.log" 2>&1; then
	echo "ok 1 - patches/, series.txt and the view match the series" >"$RESULTS/series.tap"
else
	echo "not ok 1 - patches/, series.txt and the view match the series" >"$RESULTS/series.tap"
	sed 's/^/# /' "$RESULTS/export-check.log" >>"$RESULTS/series.tap"
	rc=1
fi
stage "kernel configuration"
"$TOOLS/build.sh" --config-only
stage "per-patch checks"
"$TOOLS/check-series.sh" >>"$RESULTS/series.tap" 2>&1 || rc=1
grep -E '^(not ok|ok)' "$RESULTS/series.tap" | sed 's/^/  /' >&2
stage "documentation build"
"$TOOLS/check-docs.sh" >"$RESULTS/docs.tap" 2>&1 || rc=1
sed 's/^/  /' "$RESULTS/docs.tap" >&2
stage "coccinelle rules against their fixtures"
RULES='dma_*' "$TOOLS/cocci-test.sh" "$TREE/scripts/coccinelle" "$TOOLS/cocci/fixtures" \
	>"$RESULTS/cocci.tap" 2>&1 || rc=1
{ grep -c '^ok' "$RESULTS/cocci.tap" || true; } | sed 's/^/  fixtures ok: /' >&2
stage "tip build and kselftests"
"$TOOLS/build.sh" || die "tip build failed"
stage "VM runs"
"$TOOLS/vm.sh" "$@" || rc=1
stage "done"

taps=("$RESULTS/series.tap" "$RESULTS/docs.tap" "$RESULTS/cocci.tap")
[ -f "$RESULTS/rdma-core-build.tap" ] && taps+=("$RESULTS/rdma-core-build.tap")
for f in "$RESULTS"/*.vm.tap; do
	m=${f%.vm.tap}
	taps+=("$f")
	[ -f "$m.tap" ] && taps+=("$m.tap")
	[ -f "$m.ktap" ] && taps+=("$m.ktap")
done
# A stage that failed without writing a failing TAP result still fails
# the count, so the last line never says "0 failed" for a failed run.
if [ $rc != 0 ] && ! grep -q -h -E '^(# | *)?not ok' "${taps[@]}"; then
	echo "not ok 1 - every stage completed (one failed without a TAP result; see above)" \
		>"$RESULTS/stages.tap"
	taps+=("$RESULTS/stages.tap")
fi
totals=$("$TOOLS/tap-count.sh" "${taps[@]}")
echo "wall time $(( $(date +%s) - t0 ))s; ${totals#*failed, } (skips are not counted below)"
grep -h -E '^(# | *)?not ok' "${taps[@]}" | sed 's/^/FAILED: /' || true
echo "${totals%, *}"
[ $rc = 0 ] && [[ $totals == *" 0 failed"* ]]
