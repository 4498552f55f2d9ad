#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what the series needs on a bare Debian 12 machine and prepare the
# base kernel tree.  Idempotent: a second run only checks.
. "$(dirname "$0")/common.sh"

PKGS="sparse coccinelle b4 qemu-system-x86 busybox-static udev rsync ccache
      flex bison libelf-dev libssl-dev bc quilt xz-utils kmod cpio python3
      pahole git git-email make gcc libc6-dev iproute2 file
      rdmacm-utils ibverbs-providers ibverbs-utils iputils-ping
      python3-ply python3-git libmailtools-perl libauthen-sasl-perl libio-socket-ssl-perl
      python3-sphinx python3-yaml"

# The Debian archive URI the system already uses: the source that serves the
# release's main suite (not -security, not third-party repositories).
debian_mirror() {
	local codename
	codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
	{
		cat /etc/apt/sources.list.d/*.sources 2>/dev/null
		echo
		grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			sed -E 's/\[[^]]*\]//' |
			awk '{ printf "URIs: %s\nSuites: %s\n\n", $2, $3 }'
	} | awk -v c="$codename" '
		/^URIs:/ { uri = $2 }
		/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == c) { print uri; exit } }
		/^$/ { uri = "" }'
}

private_apt_update() {
	local mirror
	[ -s "$APT/sources.list" ] && grep -q '^deb-src' "$APT/sources.list" &&
		ls "$APT"/lists/*Packages* "$APT"/lists/*Sources* >/dev/null 2>&1 && return 0
	mirror=$(debian_mirror || true)
	[ -n "$mirror" ] || die "no Debian mirror found in the system's apt sources"
	mkdir -p "$APT/lists/partial" "$APT/archives/partial"
	local s
	: >"$APT/sources.list"
	for s in trixie-backports trixie sid; do
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $s main" \
			>>"$APT/sources.list"
	done
	# sources of sid, for tools bookworm's versions are too old for (sparse)
	echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main" \
		>>"$APT/sources.list"
	log "private apt state: trixie-backports, trixie, sid from $mirror"
	apt_private update -q >/dev/null
}

install_vng() {
	command -v vng >/dev/null && return 0
	private_apt_update
	mkdir -p "$DEMO_CACHE/dl"
	(cd "$DEMO_CACHE/dl" && apt_private download virtme-ng >/dev/null)
	log "installing virtme-ng"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"$DEMO_CACHE"/dl/virtme-ng_*.deb >/dev/null
}

# Linux 7.3 uses __typeof_unqual__, which bookworm's sparse 0.6.4 cannot
# parse: the kernel then turns C=1 into a no-op with one warning line. Build
# the sparse of Debian sid (0.6.5~rc1, which can) from its source package;
# the build needs only gcc and make and takes seconds.
install_sparse() {
	local probe
	probe=$(mktemp --suffix=.c)
	printf 'static inline int u(const int *q) { __typeof_unqual__(*q) v = *q; return v; }\n' >"$probe"
	sparse_ok() { command -v "$1" >/dev/null && ! "$1" "$probe" 2>&1 | grep -q error; }
	if sparse_ok sparse || sparse_ok "$SPARSE"; then
		rm -f "$probe"
		return 0
	fi
	rm -f "$probe"
	private_apt_update
	log "building sparse from Debian sid's source (bookworm's cannot parse 7.3)"
	rm -rf "$DEMO_CACHE/sparse-src"
	mkdir -p "$DEMO_CACHE/sparse-src"
	(cd "$DEMO_CACHE/sparse-src" && apt_private source -q --download-only sparse/sid >/dev/null)
	tar -xzf "$DEMO_CACHE"/sparse-src/sparse_*.orig.tar.gz -C "$DEMO_CACHE/sparse-src"
	make -s -C "$DEMO_CACHE"/sparse-src/sparse-*/ -j"$JOBS" sparse \
		HAVE_LLVM=no HAVE_GTK=no HAVE_LIBXML=no HAVE_SQLITE=no >/dev/null
	mkdir -p "$(dirname "$SPARSE")"
	install -m 0755 "$DEMO_CACHE"/sparse-src/sparse-*/sparse "$SPARSE"
	rm -rf "$DEMO_CACHE/sparse-src"
}

# One deterministic commit holding the base tree, so --base= names the same
# commit on every machine that imports the same tarball.
import_tree() {
	local src=$1 msg=$2
	rm -rf "$BASE_REPO.tmp"
	git init -q "$BASE_REPO.tmp"
	git -C "$BASE_REPO.tmp" config core.bigFileThreshold 16m
	# The Debian tree's .gitignore ends in "/*": add everything by force.
	GIT_WORK_TREE=$src git -C "$BASE_REPO.tmp" add -f -A .
	GIT_AUTHOR_NAME="$PROJECT_NAME" GIT_AUTHOR_EMAIL="$PROJECT_EMAIL" \
	GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z' \
		git -C "$BASE_REPO.tmp" commit -q -m "$msg"
	git -C "$BASE_REPO.tmp" tag "$BASE_TAG"
	mv "$BASE_REPO.tmp" "$BASE_REPO"
}

prepare_base() {
	if [ -n "$KERNEL_SRC" ]; then
		local want
		[ -f "$KERNEL_SRC/Makefile" ] || die "KERNEL_SRC=$KERNEL_SRC is not a kernel tree"
		if git -C "$KERNEL_SRC" rev-parse --git-dir >/dev/null 2>&1; then
			want=$(git -C "$KERNEL_SRC" rev-parse "$BASE_REF^{commit}")
			if [ -d "$BASE_REPO" ] && [ "$(base_commit 2>/dev/null)" = "$want" ]; then
				return 0
			fi
			log "base: $KERNEL_SRC at $want"
			rm -rf "$BASE_REPO"
			git clone -q --shared --no-checkout "$KERNEL_SRC" "$BASE_REPO"
			git -C "$BASE_REPO" tag -f "$BASE_TAG" "$want" >/dev/null
		else
			[ -d "$BASE_REPO" ] && [ "$(cat "$BASE_REPO/.demo-src" 2>/dev/null)" = "$KERNEL_SRC" ] &&
				return 0
			log "base: importing $KERNEL_SRC"
			rm -rf "$BASE_REPO"
			import_tree "$KERNEL_SRC" "Linux base tree imported from $KERNEL_SRC"
			echo "$KERNEL_SRC" >"$BASE_REPO/.demo-src"
		fi
		return 0
	fi
	[ -d "$BASE_REPO" ] && [ ! -e "$BASE_REPO/.demo-src" ] && return 0
	rm -rf "$BASE_REPO"
	private_apt_update
	mkdir -p "$DEMO_CACHE/dl"
	if ! ls "$DEMO_CACHE"/dl/linux-source-7.3_*.deb >/dev/null 2>&1; then
		log "downloading linux-source-7.3 (trixie-backports)"
		(cd "$DEMO_CACHE/dl" && apt_private download -t trixie-backports linux-source-7.3 >/dev/null)
	fi
	local deb ver
	deb=$(ls "$DEMO_CACHE"/dl/linux-source-7.3_*.deb | tail -n1)
	ver=$(dpkg-deb -f "$deb" Version)
	log "extracting linux-source-7.3 $ver"
	rm -rf "$DEMO_CACHE/src"
	mkdir -p "$DEMO_CACHE/src"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/src/linux-source-7.3.tar.xz |
		tar -xJ -C "$DEMO_CACHE/src"
	log "importing the base tree into git"
	import_tree "$DEMO_CACHE/src/linux-source-7.3" \
		"Linux 7.3 base (Debian linux-source-7.3 $ver)"
	rm -rf "$DEMO_CACHE/src"
}

mkdir -p "$DEMO_CACHE" "$CCACHE_DIR"
[ "$(id -u)" = 0 ] || die "setup needs root (apt-get)"
apt_install_missing $PKGS
install_vng
install_sparse
prepare_base
log "base commit $(base_commit)"
