#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The rdma kselftests as an outside runner (KernelCI, LKFT, 0-day) runs
# them, with no project script in the guest:
#  - the kernel is configured the way virtme-ng configures one for a
#    runner: `vng --kconfig` (defconfig plus what virtme-ng needs to boot)
#    with tools/testing/selftests/rdma/config merged in; no debug options
#    of the project's VM, demo_rdma built as the fragment says;
#  - the guest is a plain `vng --run` of that kernel, root, no PCI device
#    added and no DEMO_* variable set, and runs exactly
#      make -C tools/testing/selftests TARGETS=rdma run_tests
#    in the tree (O= the runner's build directory).
# Every demo test that needs no PCI address must run and pass; the ones
# that need one skip with that reason. The TAP goes to
# $RESULTS/outside-runner.tap, counts and skip reasons to stderr.
#   outside-runner.sh [--build-only|--run-only]
# RXE=0 leaves out the rxe_* scripts (TEST_PROGS=): they test rxe, not demo,
# and rxe_netns_names.sh needs more than its 300 s under TCG.
. "$(dirname "$0")/common.sh"

out=$DEMO_CACHE/runner-build
cd "$TREE" || exit 1
mkdir -p "$out" "$RESULTS"
if [ "${1:-}" != --run-only ]; then
	t0=$(date +%s)
	vng --kconfig --config tools/testing/selftests/rdma/config O="$out" \
		>"$out/kconfig.log" 2>&1 || die "vng --kconfig failed"
	make -s O="$out" -j"$(nproc)" CC="ccache gcc" >"$out/build.log" 2>&1 ||
		{ tail -n 30 "$out/build.log" >&2; die "runner kernel build failed"; }
	make -s O="$out" headers >>"$out/build.log" 2>&1 || die "make headers failed"
	make -s -C tools/testing/selftests TARGETS=rdma O="$out" \
		>>"$out/build.log" 2>&1 || die "selftests build failed"
	log "runner kernel and rdma selftests built in $(( $(date +%s) - t0 )) s"
	grep -E '^CONFIG_INFINIBAND_DEMO' "$out/.config" >&2
fi
[ "${1:-}" = --build-only ] && exit 0

extra=()
[ "${RXE:-1}" = 0 ] && extra=(TEST_PROGS=)
t0=$(date +%s)
timeout --foreground -k 10 3600 \
	vng --run "$out" --disable-kvm --memory 3G --cpus 2 --user root \
	--rodir "$TREE" --rwdir "$out" --rwdir "$RESULTS" --cwd "$TREE" \
	--exec "make -C tools/testing/selftests TARGETS=rdma O=$out ${extra[*]} run_tests" \
	2>&1 | cat >"$RESULTS/outside-runner.console"
log "outside-runner VM: $(( $(date +%s) - t0 )) s"
# The runner appends each program's output to /dev/stdout, which in a
# virtme-ng guest is the console: the TAP is taken from there. (Through a
# pipe: QEMU reopens our stdout by path, and a regular file reopened so
# has an offset of its own, so the two writers overwrote each other.)
grep -E '^(# )*(ok|not ok) [0-9]+ |^# selftests: ' \
	"$RESULTS/outside-runner.console" >"$RESULTS/outside-runner.tap"
"$TOOLS/tap-count.sh" "$RESULTS/outside-runner.tap" >&2
grep -E '^(ok|not ok) [0-9]+ selftests: ' "$RESULTS/outside-runner.tap" >&2
sed -n 's/^# ok [0-9]* .*# SKIP /skip: /p' "$RESULTS/outside-runner.tap" |
	sort | uniq -c | sort -rn >&2
