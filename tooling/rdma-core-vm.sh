#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build rdma-core with the demo provider (tooling/rdma-core.sh) and try it
# in one VM mode (default iommu-strict): ibv_devices, ibv_devinfo and
# ibv_rc_pingpong between the two demo HCAs. Development aid: not part of
# `make test` yet.
. "$(dirname "$0")/common.sh"
rc_build=$("$TOOLS/rdma-core.sh")
[ -e "$BUILD/arch/x86/boot/bzImage" ] || "$TOOLS/build.sh"
mkdir -p "$RESULTS"
log "VM iommu-strict: rdma-core's demo provider"
timeout --foreground -k 10 600 \
	vng --run "$BUILD" --disable-kvm --memory 3G --cpus 2 \
	--rwdir "$RESULTS" --rodir "$BUILD" --rodir "$(dirname "$rc_build")" \
	--cwd "$TOOLS" --append "intel_iommu=on iommu.strict=1 kunit.autorun=0" \
	--exec "$TOOLS/guest/rdma-core-try.sh $rc_build" \
	--qemu-opts="-device intel-iommu,caching-mode=on -cpu EPYC -device edu" \
	>"$RESULTS/rdma-core.console" 2>&1
grep -E '^(ok|not ok|#|Bail)' "$RESULTS/rdma-core.console"
! grep -q '^not ok\|^Bail' "$RESULTS/rdma-core.console"
