#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# git send-email --dry-run of every outgoing series: each mail with its
# To and Cc as the files carry them (get_maintainer.pl and the topics'
# additions). Cc: trailers in bodies (stable@) stay trailers: stable takes
# fixes from mainline, not from the lists.
. "$(dirname "$0")/common.sh"

out=${OUTGOING:-$DEMO_CACHE/outgoing}
tree=${TAKEOVER_TREE:-$DEMO_CACHE/takeover}
# the sender: the submitter, whom take-over.sh made the series' author
from=$(git -C "$tree" log -1 --format='%an <%ae>')
ls -d "$out"/*/ >/dev/null 2>&1 || die "no outgoing series in $out (make takeover)"
for d in "$out"/*/; do
	echo "### $(basename "$d")"
	git send-email --dry-run --confirm=never --suppress-cc=bodycc --suppress-cc=author \
		--suppress-cc=self --no-validate --from="$from" "$d"/*.patch 2>&1 |
		grep -E $'^(Subject|To|Cc|\t)' || die "git send-email failed on $d"
done
