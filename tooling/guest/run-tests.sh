#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the test VM (virtme-ng, root).  Brings up demo HCAs, runs the
# rdma kselftests, tears the HCAs down and records what the kernel said.
# In mode rdma-core the tests are rdma-core's (guest/rdma-core-tests.sh).
# With test+rdma-core, rdma-core's suite runs after the kselftests in the
# same boot (vm.sh does that for iommu-strict, whose kernel command line and
# devices the rdma-core mode shares) and writes OUTDIR/rdma-core.*.
#   run-tests.sh MODE OUTDIR KSFT_DIR [show|test|test+rdma-core|only=PROG,...] [RDMA_CORE_BUILD]
set -u
mode=$1 out=$2 ksft=$3 what=${4:-test} rcb=${5:-}
with_rc=
[ "$what" = test+rdma-core ] && { what=test with_rc=1; }
mkdir -p "$out"
exec 2>&1

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
dbg=/sys/kernel/debug

note() { echo "# [$mode] $*"; }
stamp() { note "t=$(cut -d" " -f1 /proc/uptime)s $*"; }

# The kselftest runner appends test output to /dev/stdout; make sure that is
# this process's stdout and not the console.
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr

# kmemleak: forget what boot left behind, report only what we leak.
[ -w $dbg/kmemleak ] && echo clear >$dbg/kmemleak
# Objects younger than 5 s are not reported: wait, then scan twice.
kmemleak_scan() {
	sleep 6
	echo scan >$dbg/kmemleak
	echo scan >$dbg/kmemleak
}
dma_err0=$(cat $dbg/dma-api/error_count 2>/dev/null || echo 0)
# Leaks whose allocation trace goes through RDMA, DMA or demo code, or
# that our test programs allocated (a task_struct whose reference an RDMA
# object kept), fail the run. Others are recorded.
kmemleak_report() {
	awk -v other="$out/$mode.kmemleak-other" '
		/^unreferenced object/ { flush(); rec = $0 "\n"; bt = 0; frames = ""; comm = ""; next }
		/^  comm "/ { comm = $2 }
		/backtrace/ { bt = 1 }
		{ rec = rec $0 "\n"; if (bt) frames = frames $0 }
		function flush() {
			if (rec == "") return
			if (frames ~ /(ib_|rdma|uverbs|umem|demo|dmod_|dma_|iommu|dma_buf)/ ||
			    comm ~ /^"demo_/)
				printf "%s", rec
			else
				printf "%s", rec >> other
			rec = ""
		}
		END { flush() }' $dbg/kmemleak
}
# DMA-API debug: no new error, and no demo mapping left. Its dump is read
# only while dma-debug is on: once off, its entries may be stale.
dma_check() {
	local dma_err
	dma_err=$(cat $dbg/dma-api/error_count 2>/dev/null || echo 0)
	[ "$dma_err" = "$dma_err0" ] || echo "DMA-API: error_count $dma_err0 -> $dma_err"
	[ "$(cat $dbg/dma-api/disabled 2>/dev/null)" = Y ] && return
	grep demo_rdma $dbg/dma-api/dump 2>/dev/null | sed 's/^/DMA-API: leaked mapping: /'
}

# --- bring up: the driver (a module in the test VM: tooling/config/vm-late.config)
# and every QEMU edu function (1234:11e8). The kselftests make their own
# platform HCAs (the driver's new_device) and are given the PCI ones in
# DEMO_PCI_DEV, as any runner would give them; the benchmarks and
# rdma-core's tests get platform HCA demo_rdma.0 from plat_up.
: >"$out/$mode.setup-errors"
if [ ! -d /sys/module/demo_rdma ] && ! modprobe demo_rdma; then
	echo "modprobe demo_rdma failed" >>"$out/$mode.setup-errors"
fi
pci_devs=()
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x11e8 ] || continue
	echo demo_rdma >"$d/driver_override"
	echo "${d##*/}" >/sys/bus/pci/drivers_probe
	pci_devs+=("${d##*/}")
done
pdrv=/sys/bus/platform/drivers/demo_rdma
plat_up() { echo 0 >$pdrv/new_device || note "new_device failed"; }
plat_down() { echo 0 >$pdrv/del_device || note "del_device failed"; }
export DEMO_PCI_DEV DEMO_P2P_DEV
DEMO_PCI_DEV=$(IFS=,; echo "${pci_devs[*]}")
# the ivshmem-plain function (1af4:1110) demo_dmabuf_p2p exports
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1af4:0x1110 ] || continue
	DEMO_P2P_DEV=${d##*/}
	break
done
# Every mode has an edu function: the tests of the PCI HCA (the IOVA path
# behind an IOMMU) must not turn into skips because it did not bind.
[ ${#pci_devs[@]} -gt 0 ] || echo "no edu PCI function in the guest" >>"$out/$mode.setup-errors"
for b in "${pci_devs[@]}"; do
	drv=$(readlink "/sys/bus/pci/devices/$b/driver" 2>/dev/null)
	[ "${drv##*/}" = demo_rdma ] ||
		echo "PCI function $b did not bind to demo_rdma (driver: ${drv##*/})" >>"$out/$mode.setup-errors"
done
if [ -d /sys/kernel/iommu_groups ]; then
	for b in "${pci_devs[@]}"; do
		g=$(readlink "/sys/bus/pci/devices/$b/iommu_group" 2>/dev/null)
		note "$b iommu_group=${g##*/}"
	done
fi
rdma dev show | sed 's/^/# /'

# RC bandwidth and latency: the same kernel-verbs code over the two demo
# HCAs and over rxe on a veth pair, then demo from userspace. Demo runs
# twice on each side: packets cut-through (the model's default), then
# each through the packet buffer (the test port's store_forward), whose
# "devices" line says "store-forward". rxe runs 3 rounds of the sizes from
# 64 KiB on instead of demo's 15: at 2-40 MB/s a round takes 3-45 s, and
# its figures only give the scale.
store_forward() {
	local f
	for f in $dbg/demo_model/*/store_forward; do
		[ -e "$f" ] && echo "$1" >"$f"
	done
}
# rc_bench [warmup]: with warmup, one kernel-verbs run over demo first,
# its figures not reported.
rc_bench() {
	plat_up
	local d=($(ls /sys/class/infiniband | grep '^demo' | head -n 2))
	[ ${#d[@]} = 2 ] && [ -e $dbg/demo_rdma/bench ] || { plat_down; return 0; }
	[ "${1:-}" != warmup ] || echo "${d[0]} ${d[1]}" >$dbg/demo_rdma/bench
	echo "${d[0]} ${d[1]}" >$dbg/demo_rdma/bench && cat $dbg/demo_rdma/bench
	store_forward Y
	echo "${d[0]} ${d[1]}" >$dbg/demo_rdma/bench &&
		sed '1s/$/ store-forward/' $dbg/demo_rdma/bench
	store_forward N
	ip link add rbv0 type veth peer name rbv1 &&
	ip link set rbv0 up && ip link set rbv1 up &&
	rdma link add rbrxe0 type rxe netdev rbv0 &&
	rdma link add rbrxe1 type rxe netdev rbv1 &&
	sleep 2 &&
	echo "rbrxe0 rbrxe1 3" >$dbg/demo_rdma/bench && cat $dbg/demo_rdma/bench
	rdma link delete rbrxe0 2>/dev/null
	rdma link delete rbrxe1 2>/dev/null
	ip link delete rbv0 2>/dev/null
	"$ksft/rdma/demo_rc_bench"
	store_forward Y
	"$ksft/rdma/demo_rc_bench" | sed '1s/$/ store-forward/'
	store_forward N
	plat_down
}

stamp "HCAs up"
# KUnit suites of the driver, run now that the HCAs exist (kunit.autorun=0),
# and the core's ib_umem block helpers
for k in $dbg/kunit/demo_rdma* $dbg/kunit/ib_umem_dma_blocks; do
	[ -e "$k/run" ] && [ "$mode" != rdma-core ] || continue
	echo 1 >"$k/run"
	cat "$k/results" >>"$out/$mode.ktap"
done

if [ "$what" = show ]; then
	plat_up
	rdma link show | sed 's/^/# /'
	rdma res show | sed 's/^/# /'
	"$ksft/rdma/demo_pd" -v pci -v platform 2>&1 | tail -n 3
	# a user MR on each HCA, read and written by the device, and what
	# the device holds for it: one range behind the IOMMU, pages without
	"$ksft/rdma/demo_mr" -r demo_mr.pci.one_page -r demo_mr.platform.one_page \
		-r demo_mr.pci.huge_pages_64m -r demo_mr.platform.huge_pages_64m 2>&1 |
		grep -E '^(ok|not ok|# (PASSED|FAILED|Totals))'
	# userspace RC traffic between the two HCAs: rings and doorbells in
	# the process, bytes checked, object counts back to where they were
	"$ksft/rdma/demo_rc" -r demo_rc.pci_to_platform.send_recv \
		-r demo_rc.pci_to_platform.rdma_write \
		-r demo_rc.pci_to_platform.rdma_read \
		-r demo_rc.platform_to_pci.rdma_write_with_imm 2>&1 |
		grep -E '^(ok|not ok|# (PASSED|FAILED|Totals))'
	rc_bench >"$out/$mode.rcbench" 2>&1
	# what applications see: rdma-core's demo provider and perftest
	[ -z "$rcb" ] || "$(dirname "$0")/rdma-core-tests.sh" "$rcb" "$out" "$mode" show
elif [ "$mode" = rdma-core ]; then
	plat_up
	"$(dirname "$0")/rdma-core-tests.sh" "$rcb" "$out" "$mode" >"$out/$mode.tap"
	stamp "rdma-core tests done"
elif [ "$what" = bench ]; then
	# The benchmarks alone (vm.sh bench MODE; make test's benchmark
	# kernel). Right after boot the first kernel-verbs run was seen at a
	# third of the speed of every run after it, memcpy included: one
	# run, not reported, warms the guest up first.
	rc_bench warmup >"$out/$mode.rcbench" 2>&1
	for b in pci platform; do
		"$ksft/rdma/demo_mr_bench" $b
	done >"$out/$mode.bench" 2>&1
else
	stamp "KUnit done"
	# The RC benchmark first, while 4 MiB of contiguous memory is easy
	# to find (the kselftests pin and release gigabytes).
	if [ "$what" = test ] && [ "$mode" = iommu-strict ]; then
		rc_bench >"$out/$mode.rcbench" 2>&1
		stamp "RC benchmark done"
	fi
	# A program that stops making progress for 5 minutes may be blocked
	# in the kernel, where neither the harness's nor the runner's
	# timeout (900 s) can end it: dump the blocked tasks (SysRq w) and
	# keep the kernel log, so that a hang leaves evidence, not only a
	# VM timeout.
	ksft_watchdog() {
		local last=-1 size idle=0
		while sleep 30; do
			size=$(stat -c %s "$out/$mode.tap" 2>/dev/null || echo 0)
			if [ "$size" != "$last" ]; then
				last=$size idle=0
				continue
			fi
			idle=$((idle + 30))
			[ $idle -eq 300 ] || continue
			echo w >/proc/sysrq-trigger
			dmesg >"$out/$mode.hang-dmesg"
		done
	}
	ksft_watchdog &
	watchdog=$!
	# The runner appends the tests' own output to /dev/stdout: a pipe.
	if [ "${what#only=}" != "$what" ]; then
		targs=()
		only=${what#only=}
		for t in ${only//,/ }; do targs+=(-t "rdma:$t"); done
		(cd "$ksft" && ./run_kselftest.sh -o 900 "${targs[@]}") 2>&1 |
			cat >"$out/$mode.tap"
	else
		# Upstream's rxe_* scripts test rxe, whose DMA is virtual
		# (ib_virt_dma): the DMA mode changes nothing for them, so they
		# run in one mode, no-iommu, and every demo program in all.
		# rxe_netns_names.sh polls with hundreds of `ip netns exec
		# rdma` runs and needs more than the 300 s of settings under
		# TCG on these machines: the runner gives every program 900 s.
		# demo_fail_nth runs last, after the DMA-API checks (see the
		# tear down).
		targs=()
		while read -r t; do
			[ "$mode" = no-iommu ] || [ "${t#rdma:rxe_}" = "$t" ] || continue
			[ "$t" = rdma:demo_fail_nth ] && continue
			targs+=(-t "$t")
		done < <(cd "$ksft" && ./run_kselftest.sh -l | grep '^rdma:')
		(cd "$ksft" && ./run_kselftest.sh -o 900 "${targs[@]}") 2>&1 | cat >"$out/$mode.tap"
	fi
	kill "$watchdog" 2>/dev/null
	sed -n '/^# Totals/p' "$out/$mode.tap"
	stamp "kselftests done"
	# Every program removes the HCAs it made, and leaves the PCI ones
	# bound as it found them.
	left=$(ls /sys/bus/platform/devices/ | grep '^demo_rdma\.' | tr '\n' ' ')
	[ -z "$left" ] ||
		echo "the kselftests left platform HCAs behind: $left" >>"$out/$mode.setup-errors"
	for b in "${pci_devs[@]}"; do
		d=$(readlink "/sys/bus/pci/devices/$b/driver" 2>/dev/null)
		[ "${d##*/}" = demo_rdma ] ||
			echo "after the kselftests $b is bound to '${d##*/}', not demo_rdma" >>"$out/$mode.setup-errors"
	done
	if [ -n "$with_rc" ]; then
		plat_up
		"$(dirname "$0")/rdma-core-tests.sh" "$rcb" "$out" rdma-core >"$out/rdma-core.tap"
		stamp "rdma-core tests done"
	fi
	# Benchmarks print figures; they pass or fail nothing. One mode has
	# both kinds of HCA: behind the IOMMU (pci) and without (platform).
	if [ "$what" = test ] && [ "$mode" = iommu-strict ] &&
	   [ -x "$ksft/rdma/demo_mr_bench" ]; then
		for b in pci platform; do
			"$ksft/rdma/demo_mr_bench" $b
		done >"$out/$mode.bench" 2>&1
	fi
fi

stamp "benchmarks done"
# --- tear down: exercises the removal paths while DMA-API debug watches
for id in $(ls /sys/bus/platform/devices/ | sed -n 's/^demo_rdma\.//p'); do
	echo "$id" >$pdrv/del_device
done
for b in "${pci_devs[@]}"; do
	echo "$b" >/sys/bus/pci/drivers/demo_rdma/unbind
done
[ -z "$(ls /sys/class/infiniband 2>/dev/null | grep '^demo')" ] ||
	note "demo devices still registered after teardown"

{
	if [ -w $dbg/kmemleak ]; then
		kmemleak_scan
		kmemleak_report
	fi
	dma_check
	# demo_fail_nth fails allocations one by one, which may make
	# dma-debug run out of memory and turn itself off for the rest of
	# the boot: it runs after the checks above, on HCAs brought back up,
	# and its own DMA-API check counts only while dma-debug is still on.
	if [ "$what" = test ] && [ -x "$ksft/rdma/demo_fail_nth" ]; then
		for b in "${pci_devs[@]}"; do
			echo "$b" >/sys/bus/pci/drivers_probe
		done
		(cd "$ksft" && ./run_kselftest.sh -o 900 -t rdma:demo_fail_nth) 2>&1 |
			cat >>"$out/$mode.tap"
		stamp "demo_fail_nth done" >&2
		left=$(ls /sys/bus/platform/devices/ | grep '^demo_rdma\.' | tr '\n' ' ')
		[ -z "$left" ] || echo "demo_fail_nth left platform HCAs behind: $left"
		for b in "${pci_devs[@]}"; do
			echo "$b" >/sys/bus/pci/drivers/demo_rdma/unbind
		done
		if [ "$(cat $dbg/dma-api/disabled 2>/dev/null)" = Y ]; then
			note "dma-debug turned itself off during demo_fail_nth" >&2
		else
			dma_check
		fi
		[ -w $dbg/kmemleak ] && kmemleak_scan && kmemleak_report
	fi

	# Unload the module, then fail on anything kmemleak finds after it:
	# once the module is gone its frames print as bare addresses, so any
	# new unreferenced object counts.
	[ -w $dbg/kmemleak ] && echo clear >$dbg/kmemleak
	if modprobe -r demo_rdma; then
		if [ -w $dbg/kmemleak ]; then
			kmemleak_scan
			sed 's/^/after module unload: /' $dbg/kmemleak
		fi
	else
		echo "modprobe -r demo_rdma failed" >>"$out/$mode.setup-errors"
	fi
} >"$out/$mode.leaks"
stamp "leak scan done"
dmesg >"$out/$mode.dmesg"
echo done >"$out/$mode.done"
