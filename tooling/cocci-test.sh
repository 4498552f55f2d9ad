#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Run the Coccinelle rules against their fixtures and print TAP.
#
# usage: cocci-test.sh RULES_DIR FIXTURES_DIR
#
# For every RULES_DIR/**/NAME.cocci that has a FIXTURES_DIR/NAME/ directory:
#   NAME bad      -D report on bad.c, normalised, must equal bad.expected
#   NAME good     -D report on good.c must print nothing
#   NAME context  -D context must mark lines in bad.c and none in good.c
#   NAME org      -D org must print TODO items for bad.c and none for good.c
# and, for rules that declare "virtual patch":
#   NAME patch bad   -D patch on bad.c must print a diff
#   NAME patch good  -D patch on good.c must print nothing
#
# Report lines are normalised to "FILE:LINE: MESSAGE": the directory part of
# the file name and the column range are removed and the lines are sorted by
# line number.  A rule without a fixture directory is reported as "not ok".
#
# Environment: SPATCH (default: spatch), SPATCH_FLAGS (extra flags),
# RULES (a glob of rule names, default: all).
# The exit status is 0 only if every test passed.

set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 RULES_DIR FIXTURES_DIR" >&2
	exit 2
fi

rules_dir=$1
fix_dir=$2
spatch=${SPATCH:-spatch}
spatch_flags=${SPATCH_FLAGS:-}

if [ ! -d "$rules_dir" ] || [ ! -d "$fix_dir" ]; then
	echo "$0: $rules_dir or $fix_dir is not a directory" >&2
	exit 2
fi

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM

find "$rules_dir" -name "${RULES:-*}.cocci" | sort > "$tmp/rules"
if [ ! -s "$tmp/rules" ]; then
	echo "$0: no .cocci files under $rules_dir" >&2
	exit 2
fi

# Plan: 4 tests per rule, 2 more per rule with "virtual patch".
n=0
while IFS= read -r rule; do
	n=$((n + 4))
	if grep -q '^virtual[[:space:]]\{1,\}patch' "$rule"; then
		n=$((n + 2))
	fi
done < "$tmp/rules"

echo "TAP version 13"
echo "1..$n"

t=0
failed=0

ok() {
	t=$((t + 1))
	echo "ok $t - $1"
}

not_ok() {
	t=$((t + 1))
	failed=$((failed + 1))
	echo "not ok $t - $1"
	if [ -s "$tmp/diag" ]; then
		sed 's/^/# /' "$tmp/diag"
	fi
}

# run_spatch MODE RULE FILE OPTIONS -> stdout in $tmp/out, stderr in $tmp/err
run_spatch() {
	# $4 holds the rule's own Options: line and is split on purpose.
	# shellcheck disable=SC2086
	(cd "$(dirname "$3")" &&
	 "$spatch" -D "$1" --very-quiet --no-includes --include-headers \
		$4 $spatch_flags --cocci-file "$2" "$(basename "$3")") \
		> "$tmp/out" 2> "$tmp/err"
}

# Report lines look like "dir/bad.c:12:3-15: MESSAGE".
normalize() {
	sed -n 's|^\(.*/\)\{0,1\}\([^/:]*\.[ch]\):\([0-9][0-9]*\):[0-9][0-9]*-[0-9][0-9]*: |\2:\3: |p' "$1" |
		sort -t: -k2,2n -k3
}

while IFS= read -r rule; do
	name=$(basename "$rule" .cocci)
	case $rule in
	/*) abs_rule=$rule ;;
	*) abs_rule=$(pwd)/$rule ;;
	esac
	dir=$fix_dir/$name
	opts=$(sed -n 's|^// Options:||p' "$rule" | head -n 1)
	has_patch=no
	if grep -q '^virtual[[:space:]]\{1,\}patch' "$rule"; then
		has_patch=yes
	fi

	if [ ! -f "$dir/bad.c" ] || [ ! -f "$dir/good.c" ] ||
	   [ ! -f "$dir/bad.expected" ]; then
		echo "missing $dir/bad.c, good.c or bad.expected" > "$tmp/diag"
		not_ok "$name bad"
		not_ok "$name good"
		not_ok "$name context"
		not_ok "$name org"
		if [ "$has_patch" = yes ]; then
			not_ok "$name patch bad"
			not_ok "$name patch good"
		fi
		continue
	fi

	# report, bad.c
	if run_spatch report "$abs_rule" "$dir/bad.c" "$opts"; then
		normalize "$tmp/out" > "$tmp/got"
		if diff -u "$dir/bad.expected" "$tmp/got" > "$tmp/diag"; then
			ok "$name bad"
		else
			not_ok "$name bad"
		fi
	else
		cp "$tmp/err" "$tmp/diag"
		not_ok "$name bad"
	fi

	# report, good.c
	if run_spatch report "$abs_rule" "$dir/good.c" "$opts"; then
		if [ -s "$tmp/out" ]; then
			cp "$tmp/out" "$tmp/diag"
			not_ok "$name good"
		else
			ok "$name good"
		fi
	else
		cp "$tmp/err" "$tmp/diag"
		not_ok "$name good"
	fi

	# context and org: output on bad.c, none on good.c
	for mode in context org; do
		: > "$tmp/diag"
		res=ok
		if run_spatch "$mode" "$abs_rule" "$dir/bad.c" "$opts"; then
			if [ ! -s "$tmp/out" ]; then
				echo "no $mode output for bad.c" > "$tmp/diag"
				res=fail
			fi
		else
			cp "$tmp/err" "$tmp/diag"
			res=fail
		fi
		if [ $res = ok ]; then
			if run_spatch "$mode" "$abs_rule" "$dir/good.c" "$opts"; then
				if [ -s "$tmp/out" ]; then
					cp "$tmp/out" "$tmp/diag"
					res=fail
				fi
			else
				cp "$tmp/err" "$tmp/diag"
				res=fail
			fi
		fi
		if [ $res = ok ]; then
			ok "$name $mode"
		else
			not_ok "$name $mode"
		fi
	done

	[ "$has_patch" = yes ] || continue

	: > "$tmp/diag"
	if run_spatch patch "$abs_rule" "$dir/bad.c" "$opts" &&
	   grep -q '^+++ ' "$tmp/out"; then
		ok "$name patch bad"
	else
		cp "$tmp/err" "$tmp/diag"
		not_ok "$name patch bad"
	fi

	: > "$tmp/diag"
	if run_spatch patch "$abs_rule" "$dir/good.c" "$opts"; then
		if [ -s "$tmp/out" ]; then
			cp "$tmp/out" "$tmp/diag"
			not_ok "$name patch good"
		else
			ok "$name patch good"
		fi
	else
		cp "$tmp/err" "$tmp/diag"
		not_ok "$name patch good"
	fi
done < "$tmp/rules"

if [ "$failed" -ne 0 ]; then
	echo "# $failed of $t tests failed"
	exit 1
fi
echo "# all $t tests passed"
exit 0
