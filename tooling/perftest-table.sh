#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Turn the perftest output of one VM run (results/<mode>.perftest: blocks
# "== KIND TEST ARGS" followed by the client's output) into a table: RDMA
# WRITE and READ bandwidth and SEND latency on demo and on rxe, same
# arguments, same VM run, with the demo/rxe ratios.
#   perftest-table.sh FILE
awk '
/^== / { kind = $2; test = $3; next }
/^ *[0-9]+ +[0-9]+ +[0-9.]+/ {
	s = $1
	if (test ~ /_bw$/) v[kind, test, s] = $4	# BW average[MB/sec]
	else v[kind, test, s] = $5			# t_typical[usec]
	have[s] = 1
}
function f(x) { return x == "" ? "-" : x }
function r(a, b) { return (a != "" && b != "" && b > 0) ? sprintf("%.2f", a / b) : "-" }
END {
	n = split("64 256 1024 4096 16384 65536 262144 1048576 4194304", sz, " ")
	print "perftest, a run per size (client demo1/rxe1 -> server demo0/rxe0; TCG guest, 2 vCPUs)"
	printf "| %-7s | %9s | %9s | %5s | %9s | %9s | %5s | %9s | %9s | %5s |\n", "size", \
		"write dem", "write rxe", "ratio", "read demo", "read rxe", "ratio", \
		"lat demo", "lat rxe", "ratio"
	printf "| %-7s | %9s | %9s | %5s | %9s | %9s | %5s | %9s | %9s | %5s |\n", "bytes", \
		"MB/s", "MB/s", "", "MB/s", "MB/s", "", "us typ", "us typ", ""
	for (i = 1; i <= n; i++) {
		s = sz[i]
		if (!(s in have)) continue
		w1 = v["demo", "ib_write_bw", s]; w2 = v["rxe", "ib_write_bw", s]
		r1 = v["demo", "ib_read_bw", s]; r2 = v["rxe", "ib_read_bw", s]
		l1 = v["demo", "ib_send_lat", s]; l2 = v["rxe", "ib_send_lat", s]
		printf "| %-7s | %9s | %9s | %5s | %9s | %9s | %5s | %9s | %9s | %5s |\n", s, \
			f(w1), f(w2), r(w1, w2), f(r1), f(r2), r(r1, r2), f(l1), f(l2), r(l1, l2)
	}
}' "$1"
