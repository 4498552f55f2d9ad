# SPDX-License-Identifier: GPL-2.0
# Shared settings for the demo RDMA series tooling.  Sourced, not run.
#
# Everything heavy lives outside the repository, in $DEMO_CACHE:
#   apt/        private apt state used to fetch from suites the system does not list
#   dl/         downloaded .debs and the extracted linux-source tarball
#   base/       git repository holding the base tree as one commit (tag demo-base)
#   tree/       the kernel work tree: base + git am of patches/ (branch "demo")
#   check/      scratch worktree used by the per-patch checks
#   build/      O= build directory of the tip kernel; ccache/ the compiler cache
#   results/    VM logs and TAP of the last test run

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=$TOP/tooling
DEMO_CACHE=${DEMO_CACHE:-/var/cache/demo-rdma}
BASE_REPO=$DEMO_CACHE/base
TREE=${TREE:-$DEMO_CACHE/tree}
CHECK_TREE=$DEMO_CACHE/check
BUILD=${BUILD:-$DEMO_CACHE/build}
# the benchmark kernel: no lockdep, kmemleak or DMA-API debug (build.sh --bench)
BENCH_BUILD=$DEMO_CACHE/bench-build
RESULTS=${RESULTS:-$DEMO_CACHE/results}
export CCACHE_DIR=${CCACHE_DIR:-$DEMO_CACHE/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
# ccache keys on file content; make it ignore the __DATE__/__TIME__ noise.
export CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
export KBUILD_BUILD_TIMESTAMP='2026-01-01'
export KBUILD_BUILD_USER=demo KBUILD_BUILD_HOST=demo
JOBS=${JOBS:-$(nproc)}

# The identity the committed series carries (README "Authorship").  No
# Signed-off-by: is ever added by the tooling; take-over.sh adds the human's.
PROJECT_NAME='RDMA demo project'
PROJECT_EMAIL='rdma-demo@example.invalid'
export GIT_COMMITTER_NAME="$PROJECT_NAME" GIT_COMMITTER_EMAIL="$PROJECT_EMAIL"

BASE_TAG=demo-base
BRANCH=demo

# KERNEL_SRC: a mainline tree at v7.3 (git or plain).  Unset: Debian's
# linux-source-7.3 from trixie-backports.
KERNEL_SRC=${KERNEL_SRC:-}
BASE_REF=${BASE_REF:-HEAD}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# sparse that can parse 7.3; setup.sh builds it when the system's cannot
SPARSE=${SPARSE:-$DEMO_CACHE/sparse/bin/sparse}
sparse_cmd() { if [ -x "$SPARSE" ]; then echo "$SPARSE"; else echo sparse; fi; }
mk() { make -s -C "$1" O="$BUILD" CC="ccache gcc" HOSTCC="ccache gcc" CHECK="$(sparse_cmd)" -j"$JOBS" "${@:2}"; }

# apt with a private state under $DEMO_CACHE/apt (setup.sh writes its
# sources.list: suites the system does not list); the system's stays as is.
APT=$DEMO_CACHE/apt
apt_private() {
	apt-get -o Dir::State="$APT" -o Dir::State::status=/var/lib/dpkg/status \
		-o Dir::Etc::sourcelist="$APT/sources.list" \
		-o Dir::Etc::sourceparts=/nonexistent -o Dir::Cache="$APT" \
		-o APT::Sandbox::User=root "$@"
}

# Install those of the given Debian packages that are missing.
apt_install_missing() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "apt-get install ${missing[*]}"
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}" >/dev/null
}

base_commit() { git -C "$BASE_REPO" rev-parse "$BASE_TAG^{commit}"; }
