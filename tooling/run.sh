#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The README's main command: set up, apply the series to the base, build it,
# boot it with an IOMMU and show two demo HCAs working.
. "$(dirname "$0")/common.sh"

"$TOOLS/setup.sh"
if ! git -C "$TREE" rev-parse -q --verify "$BRANCH" >/dev/null 2>&1; then
	"$TOOLS/tree.sh"
fi
"$TOOLS/build.sh"
"$TOOLS/vm.sh" show iommu-strict
