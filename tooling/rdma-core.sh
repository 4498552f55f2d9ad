#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rdma-core v65.0 with the demo provider series (rdma-core/patches):
#   - fetch the orig tarball of Debian's rdma-core source package from sid,
#     from the mirror the system's apt already uses (private apt state);
#   - import it into git as one commit with a fixed author and date (tag
#     rdma-core-base), and apply the series with git am (branch "demo");
#   - build it in place (cmake -DIN_PLACE=1, ninja) in $RC_TREE/build, so
#     the guest runs ibv_devinfo, the providers and pyverbs from there.
# Idempotent: a second run only rebuilds what changed. Prints the build dir.
. "$(dirname "$0")/common.sh"

RC_VERSION=65.0
RC_DL=$DEMO_CACHE/rdma-core-src
RC_TREE=${RC_TREE:-$DEMO_CACHE/rdma-core}
RC_BUILD=$RC_TREE/build
RC_PATCHES=$TOP/rdma-core/patches

# perftest is Debian's; the guest runs it on this build's libibverbs
RC_DEPS="cmake ninja-build pkg-config libnl-3-dev libnl-route-3-dev libudev-dev
	 python3-dev cython3 libsystemd-dev perftest"

# The orig tarball only: sid's .dsc may be newer than the cached index.
# Checked against the SHA256 of the suite's Sources index.
fetch() {
	local tarball=$RC_DL/rdma-core_$RC_VERSION.orig.tar.gz line uri sum
	[ -s "$tarball" ] && { echo "$tarball"; return 0; }
	[ -s "$APT/sources.list" ] || "$TOOLS/setup.sh" >/dev/null
	mkdir -p "$RC_DL"
	uris() {
		(cd "$RC_DL" && apt_private source -q --print-uris "rdma-core/sid" 2>/dev/null) |
			grep "rdma-core_$RC_VERSION.orig.tar.gz" || true
	}
	line=$(uris)
	if [ -z "$line" ]; then
		apt_private update -q >/dev/null
		line=$(uris)
		[ -n "$line" ] || die "sid has no rdma-core $RC_VERSION orig tarball"
	fi
	uri=$(echo "$line" | awk '{ gsub("\x27", "", $1); print $1 }')
	sum=$(echo "$line" | grep -o 'SHA256:[0-9a-f]*' | cut -d: -f2)
	log "downloading rdma-core $RC_VERSION ($(basename "$uri"))"
	/usr/lib/apt/apt-helper download-file "$uri" "$tarball.part" >/dev/null
	[ -z "$sum" ] || echo "$sum  $tarball.part" | sha256sum -c --quiet ||
		die "rdma-core tarball: SHA256 mismatch"
	mv "$tarball.part" "$tarball"
	echo "$tarball"
}

import() {
	local tarball=$1
	git -C "$RC_TREE" rev-parse -q --verify rdma-core-base >/dev/null 2>&1 &&
		return 0
	log "importing rdma-core $RC_VERSION into $RC_TREE"
	rm -rf "$RC_TREE"
	mkdir -p "$RC_TREE"
	# one top-level directory (linux-rdma-rdma-core-<commit>)
	tar xzf "$tarball" -C "$RC_TREE" --strip-components=1
	git -C "$RC_TREE" init -q -b base
	git -C "$RC_TREE" add -A -f
	GIT_AUTHOR_NAME="$PROJECT_NAME" GIT_AUTHOR_EMAIL="$PROJECT_EMAIL" \
	GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z' \
		git -C "$RC_TREE" commit -q -m "rdma-core v$RC_VERSION (Debian orig tarball)"
	git -C "$RC_TREE" tag rdma-core-base
}

# Apply the series unless the branch already holds exactly these patches.
apply() {
	local stamp=$RC_TREE/.git/demo-series.sha want
	want=$(cat "$RC_PATCHES"/*.patch | sha256sum | cut -d' ' -f1)
	[ -s "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
		git -C "$RC_TREE" rev-parse -q --verify demo >/dev/null && return 0
	log "applying $(ls "$RC_PATCHES"/*.patch | wc -l) rdma-core patches"
	git -C "$RC_TREE" checkout -q -f -B demo rdma-core-base
	git -C "$RC_TREE" am -q --keep-cr "$RC_PATCHES"/*.patch
	echo "$want" >"$stamp"
}

build() {
	if [ ! -f "$RC_BUILD/build.ninja" ]; then
		mkdir -p "$RC_BUILD"
		# Debian's python3 and cython3 (pyverbs), not a python3 that
		# happens to be first in PATH
		(cd "$RC_BUILD" && PATH=/usr/bin:$PATH cmake -GNinja -DIN_PLACE=1 \
			-DNO_MAN_PAGES=1 -DENABLE_STATIC=0 \
			-DPYTHON_EXECUTABLE=/usr/bin/python3 \
			-DCYTHON_EXECUTABLE=/usr/bin/cython3 \
			-DCMAKE_BUILD_TYPE=RelWithDebInfo \
			-DCMAKE_C_COMPILER_LAUNCHER=ccache .. >"$RC_BUILD/cmake.log" 2>&1) ||
			{ tail -20 "$RC_BUILD/cmake.log"; die "rdma-core: cmake failed"; }
	fi
	local t0=$SECONDS
	PATH=/usr/bin:$PATH ninja -C "$RC_BUILD" -j"$JOBS" >"$RC_BUILD/ninja.log" 2>&1 ||
		{ tail -30 "$RC_BUILD/ninja.log"; die "rdma-core: build failed"; }
	log "rdma-core built in $((SECONDS - t0)) s"
	[ -e "$RC_BUILD/bin/run_tests.py" ] ||
		die "rdma-core: pyverbs was not built (see $RC_BUILD/cmake.log)"
	# the provider must build without a warning
	if grep -n 'providers/demo/.*warning:' "$RC_BUILD/ninja.log"; then
		die "rdma-core: warnings in providers/demo"
	fi
}

apt_install_missing $RC_DEPS
tarball=$(fetch)
import "$tarball"
apply
build
echo "$RC_BUILD"
