#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Create the kernel work tree: the base commit plus `git am` of patches/ in
# series.txt order, on branch "demo".  Refuses to overwrite a tree holding
# commits or changes that patches/ does not have, unless FORCE=1.
. "$(dirname "$0")/common.sh"

dir=${1:-$TREE}
base=$(base_commit)

if [ -d "$dir/.git" ] || [ -f "$dir/.git" ]; then
	if [ "${FORCE:-0}" != 1 ]; then
		dirty=$(git -C "$dir" status --porcelain --untracked-files=no | head -n1)
		[ -z "$dirty" ] || die "$dir has uncommitted changes (FORCE=1 to discard)"
		if git -C "$dir" rev-parse -q --verify "$BRANCH" >/dev/null; then
			"$TOOLS/export.sh" --check "$dir" >/dev/null 2>&1 ||
				die "$dir has commits not exported to patches/ (run make export, or FORCE=1)"
		fi
	fi
	git -C "$dir" am --abort >/dev/null 2>&1 || true
else
	log "cloning the base into $dir"
	rm -rf "$dir"
	git clone -q --shared --no-checkout "$BASE_REPO" "$dir"
fi
git -C "$dir" fetch -q "$BASE_REPO" "refs/tags/$BASE_TAG:refs/tags/$BASE_TAG" 2>/dev/null ||
	git -C "$dir" fetch -q -f "$BASE_REPO" "+refs/tags/$BASE_TAG:refs/tags/$BASE_TAG"
git -C "$dir" -c advice.detachedHead=false checkout -q -f -B "$BRANCH" "$base"
git -C "$dir" clean -q -fdx >/dev/null 2>&1 || true

mapfile -t series < <(grep -v '^[[:space:]]*\(#\|$\)' "$TOP/series.txt" 2>/dev/null || true)
if [ ${#series[@]} -gt 0 ]; then
	(cd "$TOP/patches" && git -C "$dir" am -q --committer-date-is-author-date \
		--whitespace=error-all "${series[@]/#/$TOP/patches/}") ||
		die "git am failed in $dir"
fi
# The cover letter's subject and blurb travel as the branch description, so
# export.sh can regenerate it with --cover-from-description.
if [ -f "$TOP/patches/0000-cover-letter.patch" ]; then
	git -C "$dir" config "branch.$BRANCH.description" \
		"$("$TOOLS/cover.sh" read "$TOP/patches/0000-cover-letter.patch")"
fi
log "$dir: $(git -C "$dir" rev-list --count "$base..$BRANCH") patches on $base"
