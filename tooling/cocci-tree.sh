#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Run each Coccinelle rule over a kernel tree, on the files that mention one
# of the rule's key identifiers, and print per-rule hit counts and times.
#
# usage: cocci-tree.sh LINUX_TREE RULES_DIR [OUT_DIR]
#
# The key identifiers are the words of the rule's "// Keywords:" lines; every
# rule lists there the API names at least one of which a matching file must
# contain, so the grep is a superset of what the rule can match.  spatch is
# then run in report mode, one file at a time (--file-groups, --jobs 1),
# with the rule's own "// Options:" line, the same way scripts/coccicheck
# runs it.  Raw reports go to OUT_DIR/<rule>.txt (default: ./cocci-tree-out).
#
# Environment: SPATCH (default: spatch), SPATCH_FLAGS (extra flags),
# NICE (default: "nice -n 19").

set -u

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: $0 LINUX_TREE RULES_DIR [OUT_DIR]" >&2
	exit 2
fi

tree=$1
rules_dir=$2
out_dir=${3:-cocci-tree-out}
spatch=${SPATCH:-spatch}
spatch_flags=${SPATCH_FLAGS:-}
nice_cmd=${NICE-nice -n 19}

if [ ! -f "$tree/Makefile" ] || [ ! -d "$tree/scripts/coccinelle" ]; then
	echo "$0: $tree does not look like a kernel tree" >&2
	exit 2
fi
mkdir -p "$out_dir" || exit 2
out_dir=$(cd "$out_dir" && pwd)
rules_dir=$(cd "$rules_dir" && pwd)
tree=$(cd "$tree" && pwd)

now() {
	date +%s.%N
}

elapsed() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'
}

status=0
total_start=$(now)
printf '%-34s %6s %6s %8s\n' "rule" "files" "hits" "time(s)"

for rule in $(find "$rules_dir" -name "${RULES:-*}.cocci" | sort); do
	name=$(basename "$rule" .cocci)
	opts=$(sed -n 's|^// Options:||p' "$rule" | head -n 1)
	words=$(sed -n 's|^// Keywords:||p' "$rule" |
		tr ',' ' ' | tr -s ' ' '\n' | grep -E '^[A-Za-z_][A-Za-z0-9_]*$' |
		paste -sd '|' -)
	if [ -z "$words" ]; then
		echo "$0: $name has no usable Keywords: line" >&2
		status=1
		continue
	fi

	start=$(now)
	# Blank-line separated groups, one file per group.
	(cd "$tree" &&
	 grep -rlwE --include='*.c' --include='*.h' "$words" . | sort) |
		sed 's|^\./||' > "$out_dir/$name.files"
	nfiles=$(wc -l < "$out_dir/$name.files")
	sed "s|^|$tree/|; s/\$/\\n/" "$out_dir/$name.files" > "$out_dir/$name.groups"

	if [ "$nfiles" -gt 0 ]; then
		# $nice_cmd and $opts are word lists on purpose.
		# shellcheck disable=SC2086
		# Run outside the tree so that its .cocciconfig (--use-gitgrep,
		# which needs a git checkout) is not read; the files are already
		# selected.  The timeout is the one .cocciconfig sets.
		if ! (cd "$out_dir" &&
		      $nice_cmd "$spatch" -D report --no-show-diff --very-quiet \
			--cocci-file "$rule" $opts --timeout 200 --jobs 1 \
			$spatch_flags --file-groups "$out_dir/$name.groups") \
			> "$out_dir/$name.raw" 2> "$out_dir/$name.err"; then
			echo "$0: spatch failed for $name, see $out_dir/$name.err" >&2
			status=1
		fi
		sed "s|^$tree/||" "$out_dir/$name.raw" > "$out_dir/$name.txt"
		rm -f "$out_dir/$name.raw"
	else
		: > "$out_dir/$name.txt"
		: > "$out_dir/$name.err"
	fi
	end=$(now)

	hits=$(grep -c '^[^ ]*:[0-9][0-9]*:[0-9][0-9]*-[0-9][0-9]*: ' "$out_dir/$name.txt")
	printf '%-34s %6d %6d %8s\n' "$name" "$nfiles" "$hits" "$(elapsed "$start" "$end")"
	rm -f "$out_dir/$name.groups"
done

total_end=$(now)
printf '%-34s %6s %6s %8s\n' "total" "" "" "$(elapsed "$total_start" "$total_end")"
echo "reports: $out_dir/<rule>.txt"
exit $status
