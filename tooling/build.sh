#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Configure and build the tip kernel of the work tree in $BUILD (O=), with
# ccache, then build and install the rdma kselftests into
# $BUILD/kselftest_install.
#   build.sh [--config-only] [--bench] [TREE]
# --bench: the benchmark kernel, in $BENCH_BUILD: the same configuration
# with the debug facilities off (config/bench.config), booted by
# `BUILD=$BENCH_BUILD vm.sh bench MODE`.
. "$(dirname "$0")/common.sh"

config_only=0 bench=0
[ "${1:-}" = --config-only ] && { config_only=1; shift; }
[ "${1:-}" = --bench ] && { bench=1; BUILD=$BENCH_BUILD; shift; }
dir=${1:-$TREE}
cd "$dir"
mkdir -p "$BUILD"

frags=("$TOOLS/config/vm.config" tools/testing/selftests/rdma/config "$TOOLS/config/vm-late.config")
[ $bench = 0 ] || frags+=("$TOOLS/config/bench.config")
stamp=$(cat "${frags[@]}" | sha1sum | cut -d' ' -f1)
if [ ! -f "$BUILD/.config" ] || [ "$(cat "$BUILD/.demo-config" 2>/dev/null)" != "$stamp" ]; then
	log "configuring (vng --kconfig + ${frags[*]})"
	args=()
	for f in "${frags[@]}"; do args+=(--config "$f"); done
	# vng appends its own required options after the fragments; debug info
	# only slows the build down, so switch it off last.
	vng --kconfig "${args[@]}" O="$BUILD" >"$BUILD/kconfig.log" 2>&1 ||
		{ cat "$BUILD/kconfig.log" >&2; die "vng --kconfig failed"; }
	scripts/config --file "$BUILD/.config" -d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT \
		-e DEBUG_INFO_NONE
	mk "$dir" olddefconfig >>"$BUILD/kconfig.log" 2>&1
	# Fragments are only requests: show what Kconfig refused.
	# (An option vm-late.config sets overrides the earlier fragments'.)
	for f in "${frags[@]}"; do
		{ grep -E '^CONFIG_[A-Za-z0-9_]+=[ym]' "$f" || true; } | while IFS='=' read -r k v; do
			[ "$f" = "$TOOLS/config/vm-late.config" ] ||
				! grep -q "^$k=" "$TOOLS/config/vm-late.config" || continue
			[ $bench = 0 ] || [ "$f" = "$TOOLS/config/bench.config" ] ||
				! grep -q "^$k=" "$TOOLS/config/bench.config" || continue
			grep -qx "$k=$v" "$BUILD/.config" || log "warning: $f: $k=$v not set"
		done
		grep -q 'unexpected data' "$BUILD/kconfig.log" &&
			grep 'unexpected data' "$BUILD/kconfig.log" >&2
	done
	echo "$stamp" >"$BUILD/.demo-config"
	cp "$BUILD/.config" "$BUILD/.demo-full-config"
fi
[ $config_only = 1 ] && exit 0

log "building the kernel in $BUILD"
t0=$(date +%s)
# check-series.sh's record of the tree last fully built here is no longer true
rm -f "$BUILD/.demo-built-tree"
mk "$dir"
log "kernel built in $(( $(date +%s) - t0 )) s"
mk "$dir" headers >/dev/null
make -s -C "$dir" O="$BUILD" TARGETS=rdma KSFT_INSTALL_PATH="$BUILD/kselftest_install" \
	kselftest-install >/dev/null
log "kselftests installed in $BUILD/kselftest_install"
