#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Turn the RC benchmark output of one VM run (results/<mode>.rcbench) into
# a table: the same kernel-verbs code over demo and over rxe, demo from
# userspace, and one CPU's memcpy, with the ratios. Demo's figures are the
# model's cut-through data path; "s&f" columns, when the run has them, are
# the same benchmark with every packet through the packet buffer
# (store-forward, the data path before cut-through). Memcpy is the best
# figure of every kernel-verbs run in the file (15 runs each): right after
# boot a guest CPU under TCG was seen copying at a quarter of its later
# speed for a whole run (1.4 against 5.8 GB/s), which would double the
# ratios. The "paired" columns do not depend on that figure: each run of
# 64 KiB and more is followed by the kernel's memcpy() of as many bytes in
# the benchmark's thread (kernel verbs: between its own buffers;
# userspace: through demo_rdma/bench "memcpy <bytes>"), and the benchmark
# prints the median of the runs' ratios (write_ratio, per mille). A value
# above 1 means the copies alone were slowed. "user pages" pairs the
# userspace runs with the kernel copying the bytes the WRITE moved, from
# the same scattered pages of the process (write_ratio_pages): a CPU
# copies those more slowly than two contiguous kernel buffers.
#   rc-bench-table.sh FILE
awk '
/^devices/ {
	blk = ($0 ~ / userspace/) ? "user" : ($2 ~ /^demo/ ? "demo" : "rxe")
	if ($0 ~ / store-forward$/) blk = blk "-sf"
	next
}
/^write_bw/ { bw[blk, $2] = $3; if (!($2 in seen)) { seen[$2] = 1; sizes[++n] = $2 } }
/^write_ratio / { pr[blk, $2] = $3 / 1000 }
/^write_ratio_pages / { pp[blk, $2] = $3 / 1000 }
/^send_lat/ { lat[blk] = $3 }
/^memcpy_bw/ { nmc += 15; if ($3 + 0 > mc + 0) mc = $3 }
function r(a, b) { return (a != "" && b != "" && b > 0) ? sprintf("%.2f", a / b) : "-" }
function p(x) { return x == "" ? "-" : sprintf("%.2f", x) }
function v(x) { return x == "" ? "-" : x }
function m(x) { return x == "" ? "-" : sprintf("%.2f", x / 1000) }
END {
	if (!n) { print "no RC benchmark figures"; exit 0 }
	print "RDMA WRITE bandwidth, MB/s (16 in flight; TCG guest, 2 vCPUs)"
	printf "| %-7s | %11s | %10s | %10s | %8s | %9s | %9s | %9s | %11s | %11s | %11s | %11s | %10s |\n", \
		"size", "demo kernel", "kernel s&f", "rxe kernel", "demo/rxe", \
		"demo user", "user s&f", "user/kern", "kern/memcpy", "user/memcpy", \
		"kern paired", "user paired", "user pages"
	for (i = 1; i <= n; i++) {
		s = sizes[i]
		printf "| %-7s | %11s | %10s | %10s | %8s | %9s | %9s | %9s | %11s | %11s | %11s | %11s | %10s |\n", s, \
			m(bw["demo", s]), m(bw["demo-sf", s]), m(bw["rxe", s]), \
			r(bw["demo", s], bw["rxe", s]), m(bw["user", s]), \
			m(bw["user-sf", s]), r(bw["user", s], bw["demo", s]), \
			r(bw["demo", s], mc), r(bw["user", s], mc), \
			p(pr["demo", s]), p(pr["user", s]), p(pp["user", s])
	}
	print "paired: RDMA WRITE / kernel memcpy() of as many bytes right after it, median of 15 runs (above 1: the copies alone were slowed)"
	print "user pages: userspace RDMA WRITE / the kernel copying the same bytes from the same pages right after it, median of 15 runs"
	printf "memcpy, one CPU, 64 KiB pieces of 4 MiB, best of the boot'"'"'s %d runs: %s MB/s\n", nmc, m(mc)
	print "64-byte SEND latency, ns (half a ping-pong round trip)"
	printf "| demo kernel %s | rxe kernel %s | demo/rxe %s | demo user %s |\n", \
		v(lat["demo"]), v(lat["rxe"]), r(lat["demo"], lat["rxe"]), v(lat["user"])
}' "$1"
