#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Count results in kselftest runner output.  The subtests a harness program
# nests under itself ("# ok N fixture.variant.test", printed before the
# program's own "ok N selftests: rdma: prog" line) count one by one; a
# program without subtests counts as one result; a program that failed
# while all its subtests passed (crash, timeout) counts one failure more.
# KTAP files (*.ktap, KUnit results) nest by indentation: only leaves
# count, i.e. result lines not deeper-indented than their predecessor.
#   tap-count.sh FILE...   prints "P passed, F failed, S skipped"
set -euo pipefail
flat() {
	local f
	for f in "$@"; do
		case $f in
		*.ktap)
			awk '/^ *(ok|not ok) [0-9]+/ {
				match($0, /^ */); ind = RLENGTH
				if (ind >= last) { l = $0; sub(/^ */, "", l); print l }
				last = ind
			}' "$f" ;;
		*) cat "$f" ;;
		esac
	done
}
flat "$@" | awk '
/^# +(ok|not ok) [0-9]+ / {
	l = $0; sub(/^# +/, "", l)
	if (l ~ /^not ok/) sfail++
	else if (l ~ /# *SKIP/) sskip++
	else spass++
	nsub++; next
}
/^(ok|not ok) [0-9]+/ {
	if (nsub) {
		pass += spass; fail += sfail; skip += sskip
		if ($0 ~ /^not ok/ && !sfail) fail++
	} else if ($0 ~ /^not ok/) fail++
	else if ($0 ~ /# *SKIP/) skip++
	else pass++
	nsub = spass = sfail = sskip = 0
	next
}
END {
	if (nsub) { pass += spass; fail += sfail + 1; skip += sskip }
	printf "%d passed, %d failed, %d skipped\n", pass, fail, skip
}'
