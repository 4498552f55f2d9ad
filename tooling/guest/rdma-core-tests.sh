#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM, after run-tests.sh brought up the demo HCAs: the HCAs
# seen through rdma-core's demo provider (built in place by
# tooling/rdma-core.sh, run from there with LD_LIBRARY_PATH) and Debian's
# perftest. Prints TAP on stdout:
#   - ibv_devices lists every demo HCA; ibv_devinfo shows each port active;
#   - ibv_rc_pingpong between the two HCAs at several sizes, polling and
#     with a completion channel (-e);
#   - perftest ib_write_bw, ib_read_bw and ib_send_lat between the two demo
#     HCAs, then between two rxe devices on a veth pair with rdma-core's rxe
#     provider from the same build (figures to OUT/MODE.perftest);
#   - rdma-core's pyverbs suite on demo0 (guest/pyverbs-tap.py), a line per
#     test, skips checked against rdma-core/pyverbs-skips.txt.
#   rdma-core-tests.sh RDMA_CORE_BUILD OUT MODE [show]
set -u
rc=$1 out=$2 mode=$3 what=${4:-test}
top=$(cd "$(dirname "$0")/../.." && pwd)
export LD_LIBRARY_PATH=$rc/lib
ip link set lo up
devs=()
for d in /sys/class/infiniband/demo*; do [ -e "$d" ] && devs+=("${d##*/}"); done
n=0
# prefix P [FILE]: every line with P before it, a last unterminated line too
prefix() { awk -v p="$1" '{ print p $0 }' "${2:--}"; }
tap() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n rdma-core: $2"; else echo "not ok $n rdma-core: $2"; fi
}

# server on $1, client on $2 over localhost; both must exit 0
pair() {
	local sdev=$1 cdev=$2 log=$3 s c
	shift 3
	timeout 120 "$@" -d "$sdev" >"$log.server" 2>&1 &
	# the server listens on its TCP port before the client connects
	for _ in $(seq 50); do
		ss -ltn 2>/dev/null | grep -q -E ':(18515|18516) ' && break
		sleep 0.2
	done
	timeout 120 "$@" -d "$cdev" localhost >"$log.client" 2>&1
	c=$?
	wait $!
	s=$?
	return $((s || c))
}

if [ ${#devs[@]} -lt 2 ]; then
	tap 1 "two demo HCAs to run between (found ${#devs[@]})"
	exit 1
fi

if [ "$what" = show ]; then
	"$rc/bin/ibv_devinfo" -d "${devs[0]}"
	echo "perftest: ib_write_bw -s 65536 -n 200, ${devs[1]} -> ${devs[0]}"
	pair "${devs[0]}" "${devs[1]}" /tmp/wbw ib_write_bw -s 65536 -n 200 -F
	grep -v -E '^ *(GID|local|remote) ' /tmp/wbw.client
	exit 0
fi

"$rc/bin/ibv_devices" >/tmp/devices 2>&1
prefix '# ' /tmp/devices
listed=$(grep -c ' demo' /tmp/devices)
tap "$([ "$listed" = "${#devs[@]}" ] && echo 0 || echo 1)" \
	"ibv_devices lists the ${#devs[@]} demo HCAs ($listed)"
for d in "${devs[@]}"; do
	"$rc/bin/ibv_devinfo" -d "$d" >/tmp/devinfo 2>&1
	prefix '# ' /tmp/devinfo
	grep -q 'state:.*PORT_ACTIVE' /tmp/devinfo && grep -q 'transport:.*InfiniBand' /tmp/devinfo
	tap $? "ibv_devinfo: $d port active"
done

for args in "-s 1 -n 100" "-s 4096 -n 100" "-s 65536 -n 100" "-s 1048576 -n 20" \
	    "-e -s 4096 -n 50"; do
	# shellcheck disable=SC2086
	pair "${devs[0]}" "${devs[1]}" /tmp/pp "$rc/bin/ibv_rc_pingpong" -i 1 $args
	r=$?
	prefix '# ' /tmp/pp.client
	[ $r = 0 ] || prefix '# server: ' /tmp/pp.server
	tap $r "ibv_rc_pingpong $args ${devs[1]} -> ${devs[0]}"
done

# perftest, the same runs on both kinds of device: a connection per size,
# iterations scaled so that rxe (a few MB/s under TCG) takes seconds. A run
# passes when both sides exit 0 (every completion successful) and the
# client printed its figures.
PERFTEST_RUNS=(
	"ib_write_bw 64 1000" "ib_write_bw 4096 500" "ib_write_bw 65536 100" "ib_write_bw 1048576 10"
	"ib_read_bw 64 1000" "ib_read_bw 4096 500" "ib_read_bw 65536 100" "ib_read_bw 1048576 10"
	"ib_send_lat 64 200" "ib_send_lat 4096 100" "ib_send_lat 65536 20"
)
perftest() {
	local kind=$1 sdev=$2 cdev=$3 run t size iters r
	for run in "${PERFTEST_RUNS[@]}"; do
		read -r t size iters <<<"$run"
		pair "$sdev" "$cdev" "/tmp/$t" "$t" -s "$size" -n "$iters" -F
		r=$?
		{ echo "== $kind $t -s $size -n $iters"; awk 1 "/tmp/$t.client"; } >>"$out/$mode.perftest"
		[ $r = 0 ] && ! grep -q -E '^ *[0-9]+ +[0-9]+ ' "/tmp/$t.client" && r=1
		[ $r = 0 ] || { prefix '# client: ' "/tmp/$t.client"; prefix '# server: ' "/tmp/$t.server"; }
		tap $r "perftest $t -s $size -n $iters: $kind ($cdev -> $sdev)"
	done
}
: >"$out/$mode.perftest"
perftest demo "${devs[0]}" "${devs[1]}"

ip link add rtv0 type veth peer name rtv1
ip link set rtv0 up && ip link set rtv1 up
rdma link add rxe0 type rxe netdev rtv0 && rdma link add rxe1 type rxe netdev rtv1
sleep 2
"$rc/bin/ibv_devinfo" -d rxe0 | grep -E 'state|transport|link_layer' | prefix '# '
perftest rxe rxe0 rxe1
rdma link delete rxe0
rdma link delete rxe1
ip link delete rtv0

# pyverbs
python3 "$top/tooling/guest/pyverbs-tap.py" "$(dirname "$rc")" "$rc" \
	"$top/rdma-core/pyverbs-skips.txt" $((n + 1)) --dev "${devs[0]}" \
	2>"$out/$mode.pyverbs"
cat "$out/$mode.pyverbs" >&2
