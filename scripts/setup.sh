#!/bin/sh
# Installs what corepack needs to build, test (ctest), run CI (.ci/run: the
# clang sanitizer builds) and fuzz (the README's recipe) on Debian 12, with
# apt, then builds it in ./build.
#   Usage: scripts/setup.sh [BUILD_DIR [CMAKE_ARGS...]]
# Packages missing are installed as root, or with sudo when there is one;
# otherwise it stops, naming them.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
[ $# -gt 0 ] && shift

# build: compilers, cmake, the libraries corepack links (libiberty-dev:
# the demangler of C++ and Rust names in the crash summary, static only)
pkgs="build-essential cmake pkg-config libelf-dev libdw-dev libarchive-dev libjson-c-dev
libzstd-dev nettle-dev libxxhash-dev zlib1g-dev libiberty-dev"
# tests: cmocka; the tools the end-to-end tests run (gdb, eu-readelf and
# eu-unstrip, tar/bsdtar/zstd/xz to read bundles, dwz, strace, unshare,
# python3, jq), groff for the man pages; libc6-dbg for libc's debug files;
# lz4 and gzip to compress cores as systemd-coredump does, patchelf to
# rewrite a binary as users do (run-compressed-core, run-no-build-id)
pkgs="$pkgs libcmocka-dev elfutils libc6-dbg gdb zstd xz-utils tar libarchive-tools binutils groff-base
dwz strace bsdutils util-linux python3 jq lz4 gzip patchelf xxhash python3-xxhash"
# debuginfod: libdebuginfod-dev (both programs link the client), debuginfod
# (the server the run-debuginfod-* tests start on 127.0.0.1)
pkgs="$pkgs libdebuginfod-dev debuginfod"
# the static build (cmake -DCOREPACK_STATIC=ON, tests/e2e/run-static*.sh):
# the static archives libarchive needs that its -dev package does not pull
# in; the static and Debian-package tests: file, debootstrap (older and
# pristine roots), dpkg-dev (cpack's dpkg-shlibdeps); lldb for run-lldb.sh
pkgs="$pkgs libacl1-dev liblz4-dev libbz2-dev file debootstrap dpkg-dev lldb"
# CI and fuzzing: clang and its sanitizer/libFuzzer runtimes (a Recommends
# of clang, which --no-install-recommends would skip)
pkgs="$pkgs clang libclang-rt-14-dev"
# 32-bit cores are tested where multilib exists.
[ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ] && pkgs="$pkgs gcc-multilib"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	sudo=
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null 2>&1; then
			sudo=sudo
		else
			echo "setup: not root and no sudo: as root, run: apt-get install$missing" >&2
			exit 1
		fi
	fi
	echo "setup: installing$missing"
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
cmake --build "$build" -j"$(nproc)"
