#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM: the demo HCAs seen through rdma-core's demo provider
# (built in place by tooling/rdma-core.sh): ibv_devices, ibv_devinfo, and
# ibv_rc_pingpong between the two HCAs at several sizes, with polling and
# with a completion channel. Prints TAP.
#   rdma-core-try.sh RDMA_CORE_BUILD_DIR
set -u
rc=$1
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x11e8 ] || continue
	echo demo_rdma >"$d/driver_override"
	echo "${d##*/}" >/sys/bus/pci/drivers_probe
done
echo 1 >/sys/kernel/debug/demo_rdma/new_device
ip link set lo up
export LD_LIBRARY_PATH=$rc/lib
mapfile -t devs < <(rdma dev | awk '{ sub(":", "", $2); print $2 }')
n=0 fail=0
tap() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; fail=$((fail + 1)); fi; }

"$rc/bin/ibv_devices"
listed=$("$rc/bin/ibv_devices" | grep -c demo)
tap $([ "$listed" = "${#devs[@]}" ] && echo 0 || echo 1) "ibv_devices lists ${#devs[@]} demo HCAs"
"$rc/bin/ibv_devinfo" -d "${devs[0]}" | sed 's/^/# /'
"$rc/bin/ibv_devinfo" -d "${devs[0]}" | grep -q PORT_ACTIVE
tap $? "ibv_devinfo: ${devs[0]} port active"

pingpong() {
	local args=("$@") s c
	timeout 60 "$rc/bin/ibv_rc_pingpong" -d "${devs[0]}" -i 1 "${args[@]}" \
		>/tmp/pp-server.log 2>&1 &
	sleep 2
	timeout 60 "$rc/bin/ibv_rc_pingpong" -d "${devs[1]}" -i 1 "${args[@]}" \
		localhost 2>&1 | sed 's/^/# /'
	c=${PIPESTATUS[0]}
	wait $!; s=$?
	sed 's/^/# server: /' /tmp/pp-server.log
	tap $((s || c)) "ibv_rc_pingpong ${args[*]} ${devs[1]} -> ${devs[0]}"
}
[ ${#devs[@]} -ge 2 ] || { echo "Bail out! fewer than two demo HCAs"; exit 1; }
for size in 1 4096 65536; do
	pingpong -s $size -n 100
done
pingpong -e -s 4096 -n 50
echo "# $n tests, $fail failed"
