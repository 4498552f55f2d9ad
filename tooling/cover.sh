#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# cover.sh read FILE: print a format-patch cover letter's subject (without the
# [PATCH 0/N] prefix), a blank line and its blurb: the form
# `git format-patch --cover-from-description=subject` turns back into a letter.
set -euo pipefail
[ "${1:-}" = read ] || { echo "usage: $0 read COVER" >&2; exit 2; }
awk '
	hdr && /^Subject:/ { subj = $0; sub(/^Subject: *(\[[^]]*\] *)?/, "", subj); insubj = 1; next }
	hdr && insubj && /^[ \t]/ { line = $0; sub(/^[ \t]+/, " ", line); subj = subj line; next }
	hdr && /^$/ { hdr = 0; print subj; print ""; next }
	hdr { insubj = 0; next }
	/^[^ ].* \([0-9]+\):$/ { exit }
	{ body[++n] = $0 }
	END { while (n > 0 && body[n] == "") n--; for (i = 1; i <= n; i++) print body[i] }
	BEGIN { hdr = 1 }
' "$2"
