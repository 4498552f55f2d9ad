#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# vm.sh gives vng this as its QEMU (vng --qemu).  It runs QEMU
# ($QEMU_REAL) in the foreground and appends how QEMU ended to
# $QEMU_STATUS: its exit code, or 128+N when signal N ended it.  vng
# returns 255 whenever the guest script's own code is missing, so there a
# guest kernel panic and QEMU itself dying of SIGSEGV look the same; this
# file tells them apart.  $QEMU_STATUS.pid names this process, whose
# child QEMU is, for vm.sh to end after a timeout.  vng also runs its QEMU
# once with --version: that line comes first.
[ -z "${QEMU_STATUS:-}" ] || echo "$$" >"$QEMU_STATUS.pid"
"$QEMU_REAL" "$@"
rc=$?
[ -z "${QEMU_STATUS:-}" ] || echo "$rc" >>"$QEMU_STATUS"
exit "$rc"
