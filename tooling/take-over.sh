#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# For the human who submits the series: make it theirs.  Rewrites every
# commit of the work tree with the caller's git identity as author and adds
# their Signed-off-by: (after the Assisted-by: tag, as
# Documentation/process/coding-assistants.rst asks), then writes the
# outgoing patches to $DEMO_CACHE/outgoing.  patches/ is not touched: the
# committed series never carries a sign-off.
#   take-over.sh ["Name <email>"]
. "$(dirname "$0")/common.sh"

ident=${1:-"$(git config user.name) <$(git config user.email)>"}
[[ $ident =~ ^(.+)\ \<(.+@.+)\>$ ]] || die "need an identity: take-over.sh \"Name <email>\""
name=${BASH_REMATCH[1]} email=${BASH_REMATCH[2]}
base=$(base_commit)
out=$DEMO_CACHE/outgoing

"$TOOLS/tree.sh" "$DEMO_CACHE/takeover"
cd "$DEMO_CACHE/takeover"
export GIT_COMMITTER_NAME="$name" GIT_COMMITTER_EMAIL="$email"
git -c user.name="$name" -c user.email="$email" rebase -q "$base" \
	--exec "git -c user.name='$name' -c user.email='$email' commit -q --amend --no-edit --reset-author --signoff"
rm -rf "$out"
git format-patch -q --cover-letter --cover-from-description=subject \
	--base="$base" -o "$out" "$base..HEAD"
log "$(ls "$out" | wc -l) files in $out, authored and signed off by $name <$email>"
log "dry run: git send-email --dry-run --to=linux-rdma@vger.kernel.org $out/*.patch"
