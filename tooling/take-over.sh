#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# For the human who submits the series: make it theirs.  Rebuilds the
# series in $DEMO_CACHE/takeover and rewrites every commit there:
#  - the caller's identity as author and committer, and their
#    Signed-off-by: as the last trailer, after Assisted-by:;
#  - the project's placeholder identity, wherever the content carries it
#    (the MAINTAINERS entry's M: line, the Coccinelle rules' copyright
#    lines), replaced by theirs in the commit that adds it;
# then writes one postable series per target tree to $DEMO_CACHE/outgoing/
# <topic>/ (outgoing.sh, topics in config/topics.ini).  patches/ is
# not touched: the committed series never carries a sign-off.  Any name
# works (quotes, apostrophes, UTF-8), and a second run starts again from
# patches/.
#   take-over.sh ["Name <email>"]
. "$(dirname "$0")/common.sh"

ident=${1:-"$(git config user.name) <$(git config user.email)>"}
[[ $ident =~ ^([^<>]+[^<>[:space:]])\ +\<([^<>[:space:]]+@[^<>[:space:]]+)\>$ ]] ||
	die "need an identity: take-over.sh \"Name <email>\""
name=${BASH_REMATCH[1]} email=${BASH_REMATCH[2]}
base=$(base_commit)
tree=${TAKEOVER_TREE:-$DEMO_CACHE/takeover}

# The project's identity, as the exported patches carry it.
proj_name=$(sed -n 's/^From: \(.*\) <.*>$/\1/p' "$TOP/patches/0000-cover-letter.patch" | head -n1)
proj_email=$(sed -n 's/^From: .* <\(.*\)>$/\1/p' "$TOP/patches/0000-cover-letter.patch" | head -n1)
[ -n "$proj_name" ] && [ -n "$proj_email" ] || die "no project identity in patches/0000-cover-letter.patch"
[ "$name <$email>" != "$proj_name <$proj_email>" ] || die "that is the project's identity, not a submitter's"

# The takeover tree is derived from patches/ alone: rebuild it every time.
FORCE=1 "$TOOLS/tree.sh" "$tree"
cd "$tree"
# filter-branch's filters run through eval: everything the submitter
# typed stays in the environment and is expanded once, never parsed.
export TO_NAME="$name" TO_EMAIL="$email" TO_IDENT="$name <$email>"
export FROM_NAME="$proj_name" FROM_IDENT="$proj_name <$proj_email>"
export GIT_AUTHOR_NAME="$name" GIT_AUTHOR_EMAIL="$email"
export GIT_COMMITTER_NAME="$name" GIT_COMMITTER_EMAIL="$email"
# the files the series adds or changes: only those can carry the identity
git diff --name-only -z "$base" HEAD >"$tree/.git/takeover-files"
export TAKEOVER_FILES="$tree/.git/takeover-files"
# filter-branch runs its filters with sh: the index filter is bash
export TAKEOVER_INDEX="$tree/.git/takeover-index.sh"
cat >"$TAKEOVER_INDEX" <<'FILTER'
# Each file of the commit that carries the project's name gets the
# submitter's instead, in the commit's index.
xargs -0 -r git grep -l -z -F -e "$FROM_NAME" "$GIT_COMMIT" -- <"$TAKEOVER_FILES" |
while IFS= read -r -d "" hit; do
	path=${hit#"$GIT_COMMIT":}
	mode=$(git ls-files -s -- "$path" | cut -d" " -f1)
	blob=$(git cat-file blob "$hit" |
		perl -pe 's/\Q$ENV{FROM_IDENT}\E/$ENV{TO_IDENT}/g; s/\Q$ENV{FROM_NAME}\E/$ENV{TO_NAME}/g' |
		git hash-object -w --stdin)
	git update-index --cacheinfo "$mode,$blob,$path"
done
FILTER
FILTER_BRANCH_SQUELCH_WARNING=1 git filter-branch -f \
	--env-filter '
		export GIT_AUTHOR_NAME="$TO_NAME" GIT_AUTHOR_EMAIL="$TO_EMAIL"
		export GIT_COMMITTER_NAME="$TO_NAME" GIT_COMMITTER_EMAIL="$TO_EMAIL"' \
	--index-filter 'bash "$TAKEOVER_INDEX"' \
	--msg-filter 'git interpret-trailers --if-exists addIfDifferent --trailer "Signed-off-by: $TO_IDENT"' \
	-- "$base..$BRANCH" >/dev/null
left=$(git grep -l -F -e "$proj_name" -e "$proj_email" HEAD -- $(git diff --name-only "$base" HEAD) || true)
[ -z "$left" ] || die "the project identity is still in: $left"

log "the series in $tree is authored and signed off by $name <$email>"
TAKEOVER_TREE=$tree "$TOOLS/outgoing.sh"
