#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The README's test command: set up, rebuild the work tree from patches/,
# prove patches/ and the view agree with it, check every patch, build the
# tip, run the kselftests in every VM mode, build rdma-core with the demo
# provider and run its tools, perftest and pyverbs suite in a VM (mode
# rdma-core), and print the totals.
. "$(dirname "$0")/common.sh"

t0=$(date +%s)
# Wall time per stage, printed at the end: stage NAME starts NAME and ends
# the stage before it.
names=() times=() t_stage=$t0 cur=
stage() {
	local n
	n=$(date +%s)
	if [ -n "$cur" ]; then names+=("$cur"); times+=($((n - t_stage))); fi
	cur=$1 t_stage=$n
	log "[$((n - t0))s] $1"
}
mkdir -p "$RESULTS"
rm -f "$RESULTS"/*.tap "$RESULTS"/*.bench "$RESULTS"/*.time
rm -rf "$RESULTS/bench-kernel"
rc=0

stage "setup"
"$TOOLS/setup.sh"
stage "tree"
"$TOOLS/tree.sh"
stage "patches/, series.txt and view check"
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
sed -n '/^per-patch checks:/,$p' "$RESULTS/series.tap" | sed 's/^/  /' >&2
stage "documentation build"
"$TOOLS/check-docs.sh" >"$RESULTS/docs.tap" 2>&1 || rc=1
sed 's/^/  /' "$RESULTS/docs.tap" >&2
stage "kselftest runner configuration"
"$TOOLS/check-fragment.sh" >"$RESULTS/fragment.tap" 2>&1 || rc=1
sed 's/^/  /' "$RESULTS/fragment.tap" >&2
stage "coccinelle fixtures"
RULES='dma_*' "$TOOLS/cocci-test.sh" "$TREE/scripts/coccinelle" "$TOOLS/cocci/fixtures" \
	>"$RESULTS/cocci.tap" 2>&1 || rc=1
{ grep -c '^ok' "$RESULTS/cocci.tap" || true; } | sed 's/^/  fixtures ok: /' >&2
stage "posting: takeover and one series per target tree"
# A human's takeover with an awkward name, in a tree and an outgoing
# directory of its own (not $DEMO_CACHE/takeover and outgoing, which may
# hold a real one): every topic must split out, b4 am of each series.mbox
# must give the topic back, and git send-email must accept every mail.
post=$RESULTS/posting
rm -rf "$post"
if TAKEOVER_TREE=$DEMO_CACHE/takeover-test OUTGOING=$post/outgoing "$TOOLS/take-over.sh" \
	"Siobhán O'Brien-\"Ní\" Dhúill <siobhan.o'brien@example.org>" >"$RESULTS/posting.log" 2>&1; then
	{
		echo "ok 1 - takeover by Siobhán O'Brien-\"Ní\" Dhúill and the split into topics"
		grep '^ok b4 am' "$RESULTS/posting.log" | sed 's/^ok /ok 1 - /'
	} >"$RESULTS/posting.tap"
	if TAKEOVER_TREE=$DEMO_CACHE/takeover-test OUTGOING=$post/outgoing \
		"$TOOLS/send-dry-run.sh" >"$post/send-dry-run.log" 2>&1; then
		echo "ok 1 - git send-email --dry-run of $(grep -c '^Subject' "$post/send-dry-run.log") mails" >>"$RESULTS/posting.tap"
	else
		echo "not ok 1 - git send-email --dry-run" >>"$RESULTS/posting.tap"
		rc=1
	fi
else
	{ echo "not ok 1 - takeover and the split into topics"; tail -n 20 "$RESULTS/posting.log" | sed 's/^/# /'; } >"$RESULTS/posting.tap"
	rc=1
fi
sed 's/^/  /' "$RESULTS/posting.tap" | head -n 3 >&2
stage "tip build"
"$TOOLS/build.sh" || die "tip build failed"
stage "VM runs"
"$TOOLS/vm.sh" "$@" || rc=1
# The benchmarks again, on a kernel without lockdep, kmemleak or DMA-API
# debug (config/bench.config): the figures the README and the issues quote.
# Its results go to $RESULTS/bench-kernel/ (MODE.rctable, MODE.bench).
# BENCH_KERNEL=0 leaves the stage out.
if [ "${BENCH_KERNEL:-1}" != 0 ]; then
	stage "benchmark kernel build"
	if "$TOOLS/build.sh" --bench; then
		stage "benchmark kernel VM runs"
		BUILD=$BENCH_BUILD RESULTS=$RESULTS/bench-kernel "$TOOLS/vm.sh" bench \
			${BENCH_MODES:-iommu-strict no-iommu} || rc=1
		for f in "$RESULTS"/bench-kernel/*.vm.tap; do
			[ -f "$f" ] && sed -i 's/^\(\(not \)*ok [0-9]* vm: \)/\1bench kernel: /' "$f"
		done
	else
		echo "not ok 1 - benchmark kernel builds" >"$RESULTS/bench-kernel.tap"
		rc=1
	fi
fi
stage "done"

taps=("$RESULTS/series.tap" "$RESULTS/docs.tap" "$RESULTS/fragment.tap" "$RESULTS/cocci.tap"
	"$RESULTS/posting.tap")
[ -f "$RESULTS/rdma-core-build.tap" ] && taps+=("$RESULTS/rdma-core-build.tap")
[ -f "$RESULTS/bench-kernel.tap" ] && taps+=("$RESULTS/bench-kernel.tap")
for f in "$RESULTS"/bench-kernel/*.vm.tap; do
	[ -f "$f" ] && taps+=("$f")
done
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
# Where the time went: each stage, then inside "VM runs" (modes run side by
# side, VM_JOBS at a time) the rdma-core build and each mode's own time.
{
	echo "time per stage:"
	for k in "${!names[@]}"; do printf '  %-40s %6ss\n' "${names[$k]}" "${times[$k]}"; done
	[ -f "$RESULTS/rdma-core-build.time" ] &&
		printf '    %-38s %6ss\n' "rdma-core build" "$(cat "$RESULTS/rdma-core-build.time")"
	for f in "$RESULTS"/*.time; do
		[ -f "$f" ] || continue
		m=${f##*/}; m=${m%.time}
		[ "$m" = iommu-strict ] && [ ! -f "$RESULTS/rdma-core.time" ] &&
			[ -f "$RESULTS/rdma-core.vm.tap" ] && m="iommu-strict + rdma-core"
		[ "$m" = rdma-core-build ] || printf '    %-38s %6ss\n' "VM mode $m" "$(cat "$f")"
	done
	printf '  %-40s %6ss\n' total "$(( $(date +%s) - t0 ))"
}
echo "wall time $(( $(date +%s) - t0 ))s; ${totals#*failed, } (skips are not counted below)"
grep -h -E '^(# | *)?not ok' "${taps[@]}" | sed 's/^/FAILED: /' || true
echo "${totals%, *}"
[ $rc = 0 ] && [[ $totals == *" 0 failed"* ]]
