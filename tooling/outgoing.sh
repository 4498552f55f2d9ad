#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One postable series per target tree (tooling/outgoing.py, topics in
# config/topics.ini), from the takeover tree, into $DEMO_CACHE/outgoing/
# <topic>/, each checked by a b4 am round trip. take-over.sh runs it; run
# it again after editing the topics.
#   outgoing.sh          (TAKEOVER_TREE, OUTGOING override the two paths)
. "$(dirname "$0")/common.sh"

tree=${TAKEOVER_TREE:-$DEMO_CACHE/takeover}
out=${OUTGOING:-$DEMO_CACHE/outgoing}
[ -d "$tree/.git" ] || die "no takeover tree in $tree (make takeover first)"
python3 "$TOOLS/outgoing.py" --verify --base "$(base_commit)" --tree "$tree" --out "$out"
log "$(ls -d "$out"/*/ | wc -l) series in $out; recipients: $out/SUMMARY; make send-dry-run"
