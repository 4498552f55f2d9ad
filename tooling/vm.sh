#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the built kernel under virtme-ng (TCG unless KVM proves to work) in
# one or more DMA modes and run the rdma kselftests in each.
#   vm.sh [show|bench] [MODE...]   modes: iommu-strict iommu-lazy no-iommu swiotlb
#                            rdma-core
# Mode rdma-core boots as iommu-strict and runs rdma-core's tools, perftest
# and pyverbs suite (guest/rdma-core-tests.sh) on the demo provider, built
# by rdma-core.sh; asked for with iommu-strict, it runs in that boot
# (RC_IN_STRICT=0: a boot of its own).  `show` runs rdma-core's
# ibv_devinfo and perftest too.
# Results (TAP, dmesg, leak reports) go to $RESULTS.  A mode fails if any
# test fails or the kernel reported an oops, WARN, BUG, lockdep splat,
# kmemleak leak or DMA-API debug error, even with every test passing.
. "$(dirname "$0")/common.sh"

what=test
[ "${1:-}" = show ] && { what=show; shift; }
# bench: the benchmarks alone, no test (development)
[ "${1:-}" = bench ] && { what=bench; shift; }
# KSFT_ONLY=prog[,prog...]: run only those kselftest programs (development)
[ -n "${KSFT_ONLY:-}" ] && [ "$what" = test ] && what="only=$KSFT_ONLY"

modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(iommu-strict iommu-lazy no-iommu swiotlb rdma-core)
VM_JOBS=${VM_JOBS:-1}
# a mode that shares the two cores with another takes longer, and
# iommu-strict also runs rdma-core's suite (see run_mode)
VM_TIMEOUT=${VM_TIMEOUT:-$((2400 * VM_JOBS))}
# the QEMU that tooling/qemu-status.sh runs for vng
QEMU_REAL=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 not found"
# End mode $1's QEMU, the child of qemu-status.sh: timeout --foreground and
# an interrupt signal vng alone, and QEMU's command line has the guest
# command only in base64, so pkill -f never matched it.
end_qemu() {
	[ -s "$RESULTS/$1.qemu-status.pid" ] || return 0
	pkill -P "$(cat "$RESULTS/$1.qemu-status.pid")" 2>/dev/null || true
}

# Devices of every mode: the edu function a demo HCA binds to, and an
# ivshmem-plain function whose memory BAR vfio-pci exports as a dma-buf.
# The CPU model is a Zen one: Linux allows peer-to-peer DMA through the
# host bridge only on those (or on listed host bridges, which QEMU's are
# not).
PEERS="-cpu EPYC -device edu -object memory-backend-ram,id=ivmem,size=1M -device ivshmem-plain,memdev=ivmem"

mode_args() {
	case $1 in
	iommu-strict|rdma-core)	echo "intel_iommu=on iommu.strict=1|-device intel-iommu,caching-mode=on $PEERS" ;;
	iommu-lazy)	echo "intel_iommu=on iommu.strict=0|-device intel-iommu,caching-mode=on $PEERS" ;;
	no-iommu)	echo "intel_iommu=off|$PEERS" ;;
	swiotlb)	echo "intel_iommu=off swiotlb=force|$PEERS" ;;
	*) die "unknown mode $1" ;;
	esac
}

# KVM is only used when a guest really boots with it (here it hangs).
kvm_args=(--disable-kvm)
if [ -n "${DEMO_TRY_KVM:-}" ] && [ -w /dev/kvm ] &&
   timeout 60 vng --run "$BUILD" --memory 512M -- true >/dev/null 2>&1; then
	kvm_args=()
fi

BAD='Oops|enqueued on deprecated workqueue|BUG:|WARNING:|cut here|possible (circular|recursive) locking|inconsistent lock state|suspicious RCU usage|INFO: task .* blocked|general protection fault|UBSAN:|KASAN:|unreferenced object|Kernel panic'

mkdir -p "$RESULTS"
rc=0
# rdma-core with the demo provider, when a mode runs it
rc_build= rc_args=()
if [ "$what" = show ] || [[ " ${modes[*]} " == *" rdma-core "* ]]; then
	rm -f "$RESULTS/rdma-core-build".*
	t0=$(date +%s)
	if rc_build=$("$TOOLS/rdma-core.sh" 2>"$RESULTS/rdma-core-build.log"); then
		echo "ok 1 rdma-core: v65.0 with the demo provider builds, no warning in providers/demo" \
			>"$RESULTS/rdma-core-build.tap"
		rc_args=(--rodir "$(dirname "$rc_build")")
	else
		{ echo "not ok 1 rdma-core: v65.0 with the demo provider builds"
		  tail -n 30 "$RESULTS/rdma-core-build.log" | sed 's/^/# /'; } >"$RESULTS/rdma-core-build.tap"
		rc=1 rc_build=
	fi
	echo $(( $(date +%s) - t0 )) >"$RESULTS/rdma-core-build.time"
	cat "$RESULTS/rdma-core-build.tap" >&2
fi
# Counts, tables and figures of one mode's results, to stderr.
report_mode() {
	local m=$1
	cat "$RESULTS/$m.vm.tap" >&2
	[ "$what" != show ] && [ "$what" != bench ] && "$TOOLS/tap-count.sh" "$RESULTS/$m".*tap |
		sed "s/^/$m: /" >&2
	[ -s "$RESULTS/$m.bench" ] && sed "s/^/$m: /" "$RESULTS/$m.bench" >&2
	[ -s "$RESULTS/$m.pyverbs" ] && sed "s/^/$m: /" "$RESULTS/$m.pyverbs" >&2
	if [ -s "$RESULTS/$m.perftest" ]; then
		"$TOOLS/perftest-table.sh" "$RESULTS/$m.perftest" >"$RESULTS/$m.pttable" || true
		sed "s/^/$m: /" "$RESULTS/$m.pttable" >&2
	fi
	if [ -s "$RESULTS/$m.rcbench" ]; then
		"$TOOLS/rc-bench-table.sh" "$RESULTS/$m.rcbench" >"$RESULTS/$m.rctable" || true
		sed "s/^/$m: /" "$RESULTS/$m.rctable" >&2
	fi
	return 0
}

# One boot: run, judge.  Writes $RESULTS/MODE.* and its report to stderr;
# returns non-zero when the mode failed.  Mode iommu-strict also runs the
# rdma-core suite when rdma-core is asked for too (same kernel command
# line, same devices: one boot instead of two); its results are then
# $RESULTS/rdma-core.*, judged as their own mode.
run_mode() {
	local m=$1 append qemu t0 t vrc splat rc=0 guest_what=$what also=
	IFS='|' read -r append qemu <<<"$(mode_args "$m")"
	rm -f "$RESULTS/$m".* "$RESULTS/$m"-try*.console
	if [ "$m" = rdma-core ] && [ -z "$rc_build" ]; then
		echo "not ok 1 vm: $m: not run, rdma-core did not build" >"$RESULTS/$m.vm.tap"
		return 1
	fi
	if [ "$m" = iommu-strict ] && [ -n "$rc_in_strict" ]; then
		guest_what=test+rdma-core also=rdma-core
		rm -f "$RESULTS/rdma-core".*
	fi
	log "VM $m: $append${also:+ (and $also)}"
	# vng sends the kernel's serial console to /dev/null unless it is
	# --verbose: with it, and loglevel=4 after vng's own, errors, an
	# oops and a panic reach $m.console (before 2026-12-03 nothing did,
	# so the boots that died showed no reason). no_timer_check: under
	# TCG the IO-APIC timer check failed in about one boot in 20 and,
	# with interrupt remapping on, panicked ("timer doesn't work through
	# Interrupt-remapped IO-APIC", from setup_IO_APIC(); read off the
	# CPU's stack over QMP); KVM guests skip that check the same way.
	# The console is a pipe: QEMU opens the guest script's ports by
	# /proc/self/fd/1 and /proc/self/fd/2, which on a file is a new open
	# at offset 0 with O_TRUNC, so into a file the ports and the kernel's
	# serial console wrote over each other (seen 2026-12-04: the kernel's
	# last lines were gone).
	# A boot that dies within 30 s, before the guest script has written
	# a line, is tried again, up to three times; each retry and the
	# kernel lines of the boot that died (from its oops, if it printed
	# one) are written into the mode's TAP. Those deaths are QEMU's:
	# first the IO-APIC timer check (now skipped, above), then, caught
	# once the console was a pipe (2026-12-04, 2 of 12 no-iommu boots),
	# an int3 oops in sched_clock_cpu() about 4 s in: the other vCPU met
	# a breakpoint of the boot's jump-label patching after the patching
	# had put the final bytes back (the Code: line shows them). QEMU 7.2's
	# multi-threaded TCG had races between translated code and another
	# vCPU writing it before 8.1; the patching is the same on KVM and
	# hardware, and no module of ours is loaded yet.
	# A run whose QEMU died of a signal of its own (SIGSEGV, SIGBUS,
	# SIGABRT, SIGILL, SIGFPE; qemu-status.sh records it) runs again,
	# whole, once: that is the emulator failing, not the guest. Seen once,
	# 2026-12-04, in mode no-iommu: QEMU 7.2 (Debian 12) took SIGSEGV in
	# memory_region_dispatch_write() with no memory region (the host
	# kernel's log), while a guest program wrote an ivshmem BAR through
	# vfio-pci; the guest printed nothing. A guest panic, oops or hang
	# later in a run ends otherwise (QEMU exits 0, or the timeout ends
	# it) and is never retried.
	local try=0 early=0 crashed=0 retried= r cfd cpid qst crash crash0
	hostlog() { dmesg 2>/dev/null | grep -E 'qemu-system[^ ]*: (segfault|trap)' || true; }
	while :; do
		try=$((try + 1))
		t0=$(date +%s)
		crash0=$(hostlog | wc -l)
		vrc=0
		rm -f "$RESULTS/$m.qemu-status" "$RESULTS/$m.qemu-status.pid"
		exec {cfd}> >(exec cat >"$RESULTS/$m.console")
		cpid=$!
		QEMU_REAL=$QEMU_REAL QEMU_STATUS="$RESULTS/$m.qemu-status" \
		timeout --foreground -k 10 "$VM_TIMEOUT" \
			vng --verbose --run "$BUILD" "${kvm_args[@]}" --memory 3G --cpus 2 \
			--qemu "$TOOLS/qemu-status.sh" \
			--rwdir "$RESULTS" --rodir "$BUILD" "${rc_args[@]}" --cwd "$TOOLS" \
			--append "$append" --append "panic_on_warn=0 kmemleak=on kunit.autorun=0 loglevel=4 no_timer_check" \
			--exec "$TOOLS/guest/run-tests.sh $m $RESULTS $BUILD/kselftest_install $guest_what $rc_build" \
			--qemu-opts="$qemu" >&$cfd 2>&1 || vrc=$?
		exec {cfd}>&-
		end_qemu "$m"
		# the console's reader ends when the last writer has gone; a
		# helper vng left behind must not hold this run for ever
		for _ in $(seq 60); do kill -0 "$cpid" 2>/dev/null || break; sleep 1; done
		kill "$cpid" 2>/dev/null || true
		wait "$cpid" 2>/dev/null || true
		t=$(( $(date +%s) - t0 ))
		qst=$(tail -n 1 "$RESULTS/$m.qemu-status" 2>/dev/null || true)
		if [ $early -lt 3 ] && [ $vrc != 0 ] && [ $t -lt 30 ] && [ ! -f "$RESULTS/$m.done" ] &&
		   ! grep -q "^# \[$m\]" "$RESULTS/$m.console"; then
			early=$((early + 1))
			r="# boot $try retried: vng rc=$vrc after ${t}s, before the guest script started; its kernel lines:"
		elif [ $crashed = 0 ] && [ ! -f "$RESULTS/$m.done" ] &&
		     [[ " 132 134 135 136 139 " == *" $qst "* ]]; then
			crashed=1
			r="# boot $try: mode retried: QEMU died of signal $((qst - 128)) after ${t}s (vng rc=$vrc); the emulator failed, not the guest"
			r+=$'\n'"# its last test line: $(grep -E '^# (# +RUN|ok |not ok )' "$RESULTS/$m.tap" 2>/dev/null | tail -n 1 || true)"
			crash=$(hostlog | tail -n +$((crash0 + 1)) | tail -n 1)
			r+=$'\n'"# the host kernel's log: ${crash:-(nothing new, or not readable)}"
			r+=$'\n'"# the guest kernel's last console lines:"
		else
			break
		fi
		# the kernel's last lines, from its first oops line if it
		# printed one (up to 40 lines); the whole console stays in
		# $m-tryN.console. (Under set -e and pipefail, a grep that finds
		# nothing, or a TAP not written yet, must not end run_mode.)
		r+=$'\n'$(grep '^\[ *[0-9.]*\]' "$RESULTS/$m.console" |
			awk '{ a[n++] = $0 }
			     !o && /BUG:|Oops|general protection|RIP:|Kernel panic/ { o = n }
			     END { s = o ? o - 1 : n - 3; e = o ? s + 40 : n; if (s < 0) s = 0
			           for (i = s; i < e && i < n; i++) print a[i] }' | sed 's/^/#   /' || true)
		log "VM $m: $r"
		retried+=${retried:+$'\n'}$r
		mv "$RESULTS/$m.console" "$RESULTS/$m-try$try.console"
		rm -f "$RESULTS/$m".*
		[ -z "$also" ] || rm -f "$RESULTS/$also".*
		sleep 5
	done
	if [ "$what" = show ]; then
		cat "$RESULTS/$m.console"
	fi
	{
		if [ ! -f "$RESULTS/$m.done" ]; then
			echo "not ok 1 vm: $m: guest run completed # vng rc=$vrc, QEMU ended with ${qst:-?}, after ${t}s"
			tail -n 30 "$RESULTS/$m.console" | sed 's/^/# /'
		else
			echo "ok 1 vm: $m: guest run completed in ${t}s${also:+ (with $also)}"
		fi
		[ -z "$retried" ] || echo "$retried"
		# the guest's watchdog: a program made no progress for 5 minutes
		if [ -s "$RESULTS/$m.hang-dmesg" ]; then
			echo "# a kselftest made no progress for 5 minutes; blocked tasks (SysRq w):"
			grep -A 25 -E 'task:.* state:D|show_state|Show Blocked' "$RESULTS/$m.hang-dmesg" |
				head -n 80 | sed 's/^/# /'
		fi
		splat=$(grep -E "$BAD" "$RESULTS/$m.dmesg" 2>/dev/null | head -n 20 || true)
		if [ -n "$splat" ] || [ -s "$RESULTS/$m.leaks" ]; then
			echo "not ok 2 vm: $m: kernel log clean"
			{ echo "$splat"; head -n 40 "$RESULTS/$m.leaks"; } | sed 's/^/# /'
		else
			echo "ok 2 vm: $m: kernel log clean"
		fi
		# the module loads, and unloads once its HCAs are gone
		if [ ! -f "$RESULTS/$m.done" ]; then
			: # the guest did not get that far: line 1 failed already
		elif [ -s "$RESULTS/$m.setup-errors" ]; then
			echo "not ok 3 vm: $m: demo_rdma module load, PCI HCAs bound, unload"
			sed 's/^/# /' "$RESULTS/$m.setup-errors"
		else
			echo "ok 3 vm: $m: demo_rdma module load, PCI HCAs bound, unload"
		fi
	} >"$RESULTS/$m.vm.tap"
	echo "$t" >"$RESULTS/$m.time"
	if [ -n "$also" ]; then
		# the boot's verdict (log, leaks, module) is the iommu-strict
		# mode's; the rdma-core mode must have run to its end
		if [ -s "$RESULTS/$also.tap" ] && grep -q 'rdma-core tests done' "$RESULTS/$m.console"; then
			echo "ok 1 vm: $also: ran in the $m boot" >"$RESULTS/$also.vm.tap"
		else
			echo "not ok 1 vm: $also: ran in the $m boot" >"$RESULTS/$also.vm.tap"
		fi
		grep -q -E '^(# )?not ok' "$RESULTS/$also.tap" "$RESULTS/$also.vm.tap" 2>/dev/null && rc=1
	fi
	# Every case against the mode's expectation (tooling/expect/MODE.txt):
	# a pass that became a skip, a skip with a new reason, a missing
	# program, KUnit case or rdma-core test fails the mode.
	# EXPECT_WRITE=1 rewrites the expectations from this run instead.
	if [ "$what" = test ]; then
		for e in "$m" $also; do
			if [ "${EXPECT_WRITE:-0}" = 1 ]; then
				python3 "$TOOLS/expect.py" write "$e" "$RESULTS" "$TOOLS/expect" >&2
			else
				python3 "$TOOLS/expect.py" check "$e" "$RESULTS" "$TOOLS/expect" \
					"$([ "$e" = "$m" ] && echo 4 || echo 2)" >>"$RESULTS/$e.vm.tap" || rc=1
			fi
		done
	fi
	grep -q '^not ok' "$RESULTS/$m.vm.tap" && rc=1
	[ "$what" != show ] && [ "$what" != bench ] && grep -q -E '^(# )?not ok' "$RESULTS/$m.tap" 2>/dev/null && rc=1
	grep -q -E '^ *not ok' "$RESULTS/$m.ktap" 2>/dev/null && rc=1
	report_mode "$m"
	[ -z "$also" ] || report_mode "$also"
	return $rc
}

# rdma-core's suite rides in the iommu-strict boot when both are asked for:
# same kernel, command line and devices, one boot fewer (about 5 min here;
# see the README). RC_IN_STRICT=0 boots them apart.
rc_in_strict=
if [ "${RC_IN_STRICT:-1}" != 0 ] && [ "$what" = test ] && [[ " ${modes[*]} " == *" iommu-strict "* ]] &&
   [[ " ${modes[*]} " == *" rdma-core "* ]] && [ -n "$rc_build" ]; then
	rc_in_strict=1
	mapfile -t modes < <(printf '%s\n' "${modes[@]}" | grep -v -x rdma-core)
fi

# VM_JOBS modes run side by side (default 1: see the README's time table);
# each mode's report is printed whole, in the order the modes were given.
# virtme's module directory, made once here: two guests starting at once
# would otherwise both remake it.
if [ -f "$BUILD/modules.order" ]; then
	(cd "$BUILD" && virtme-prep-kdir-mods >/dev/null)
fi
[ "$VM_JOBS" -ge 1 ] || die "VM_JOBS must be 1 or more"
mapfile -t modes < <(printf '%s\n' "${modes[@]}" | awk '!seen[$0]++')
for m in "${modes[@]}"; do mode_args "$m" >/dev/null; done
trap 'for m in "${modes[@]}"; do pkill -f "guest/run-tests.sh $m " 2>/dev/null; end_qemu "$m"; done; exit 130' INT TERM
pids=()
for m in "${modes[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$VM_JOBS" ]; do wait -n || true; done
	log "VM $m: started"
	run_mode "$m" </dev/null >"$RESULTS/report.$m" 2>&1 &
	pids+=($!)
	# stagger the boots: two guests booting at once only slow each other
	if [ "$VM_JOBS" -gt 1 ]; then sleep "${VM_STAGGER:-20}"; fi
done
for k in "${!pids[@]}"; do
	wait "${pids[$k]}" || rc=1
	cat "$RESULTS/report.${modes[$k]}" >&2
done
exit $rc
