#!/bin/bash
# Compressed cores and standard input, as systemd-coredump keeps them
# (core.*.zst; older systems .lz4 or .xz) and as `coredumpctl dump` or a
# core_pattern pipe hands them over.  The trio's core is compressed with the
# zstd, lz4, xz and gzip tools; each is packed by name and the bundle's core
# must be the original byte for byte, and no less sparse.  A zstd stream on
# a pipe (`-`) is packed, unpacked by coreunpack elsewhere with the
# originals hidden, and gdb must show the frames gdb shows on the origin.
# Also: the compression is told by content (a .zst that is xz), a plain
# core on a pipe and as a redirected file, --list on a pipe, the default
# bundle name, and failures that leave nothing behind: corrupt and cut
# data, data that is no core, Ctrl-C while reading, and (as root, in a
# small tmpfs) a full disk, said up front and when it happens.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cp_init
cu_need_unpack
cp_need zstd:zstd lz4:lz4 xz:xz-utils gzip:gzip

cp_build_trio
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
core=$CP_CORE
blocks=$(stat -c %b "$core")
cp_log "the core: $(stat -c %s "$core") bytes, $blocks blocks allocated"

c=$CP_WORK/c
mkdir -p "$c"
zstd -q -c "$core" >"$c/core.zst"
lz4 -q -c "$core" >"$c/core.lz4"
xz -q -c "$core" >"$c/core.xz"
gzip -q -c "$core" >"$c/core.gz"
cp "$c/core.xz" "$c/misnamed.zst"

# same_core BUNDLE WHAT: the bundle's core is the original, holes kept.
same_core() {
	cp_extract "$1"
	cmp -s "$core" "$CP_BUNDLE_DIR/core" || cp_fail "$2: the bundle's core differs from the original"
	local b
	b=$(stat -c %b "$CP_BUNDLE_DIR/core")
	((b <= blocks)) || cp_fail "$2: the bundle's core takes $b blocks, the original $blocks"
	[[ $(cp_manifest '.files[] | select(.path == "core") | .digest') == sparse_xxh3_128 ]] ||
		cp_fail "$2: the bundle's core is not stored sparse" "$CP_BUNDLE_DIR/manifest.json"
	cp_log "$2: the bundle's core is the original, $b blocks"
}

for z in zst lz4 xz gz; do
	cp_check "core.$z: packed by name"
	cp_pack "$c/core.$z" "$CP_WORK/$z.tar.zst" --debug-dir "$CP_DEBUGROOT"
	same_core "$CP_BUNDLE_FILE" "core.$z"
	want=$(case $z in zst) echo zstd ;; gz) echo gzip ;; *) echo "$z" ;; esac)
	[[ $(cp_manifest '.core.compression') == "$want" && $(cp_manifest '.core.original_name') == "core.$z" ]] ||
		cp_fail "core.$z: manifest core.compression/original_name" "$CP_BUNDLE_DIR/manifest.json"
done

cp_check "told by content: misnamed.zst holds xz"
cp_pack "$c/misnamed.zst" "$CP_WORK/misnamed.tar.zst"
same_core "$CP_BUNDLE_FILE" misnamed.zst
[[ $(cp_manifest '.core.compression') == xz ]] || cp_fail "misnamed.zst: not read as xz" "$CP_BUNDLE_DIR/manifest.json"

cp_check "the default bundle name drops the compression suffix"
mkdir -p "$CP_WORK/default"
cp "$c/core.zst" "$CP_WORK/default/core.app.1000.42.zst"
(cd "$CP_WORK/default" && "$COREPACK" -q --no-backtrace core.app.1000.42.zst) ||
	cp_fail "corepack core.app.1000.42.zst failed"
[[ -f $CP_WORK/default/core.app.1000.42.tar.zst ]] ||
	cp_fail "no core.app.1000.42.tar.zst: $(ls "$CP_WORK/default")"

cp_check "a plain core on a pipe, and as standard input redirected from the file"
cat "$core" | "$COREPACK" -q --no-backtrace -o "$CP_WORK/plain-pipe.tar.zst" - ||
	cp_fail "corepack - on a pipe of a plain core failed"
same_core "$CP_WORK/plain-pipe.tar.zst" "plain core on a pipe"
[[ $(cp_manifest '.core.compression') == null ]] || cp_fail "a plain core has a compression" "$CP_BUNDLE_DIR/manifest.json"
"$COREPACK" -q --no-backtrace -o "$CP_WORK/plain-redirect.tar.zst" - <"$core" ||
	cp_fail "corepack - <core failed"
same_core "$CP_WORK/plain-redirect.tar.zst" "plain core as standard input"

cp_check "--list on an xz pipe"
xz -dc "$c/core.xz" | xz -c | "$COREPACK" --list --format json - >"$CP_WORK/logs/list.json" \
	2>"$CP_WORK/logs/list.err" || cp_fail "corepack --list - failed" "$CP_WORK/logs/list.err"
[[ $(jq '[.objects[] | select(.status == "ok")] | length' "$CP_WORK/logs/list.json") -ge 5 ]] ||
	cp_fail "--list on a pipe: fewer than 5 objects ok" "$CP_WORK/logs/list.json"

cp_check "failures leave nothing behind"
mkdir -p "$CP_WORK/out"
cp_expect_fail 2 'standard input needs -o' "$COREPACK" -
# Cut at half its size: a core may compress to less than any fixed cut.
head -c $(($(stat -c %s "$c/core.zst") / 2)) "$c/core.zst" >"$c/cut.zst"
cp_expect_fail 1 "cannot decompress 'standard input' \(zstd\)" sh -c \
	'exec "$0" -o "$1" - <"$2"' "$COREPACK" "$CP_WORK/out/cut.tar.zst" "$c/cut.zst"
cp_expect_fail 1 "cannot decompress '.*cut\.zst' \(zstd\)" "$COREPACK" -o "$CP_WORK/out/cut.tar.zst" "$c/cut.zst"
printf 'not a core at all\n' | gzip -c >"$c/text.gz"
cp_expect_fail 1 "'.*text\.gz': not an ELF file" "$COREPACK" -o "$CP_WORK/out/text.tar.zst" "$c/text.gz"
: >"$c/empty"
cp_expect_fail 1 "'standard input': empty" sh -c 'exec "$0" -o "$1" - <"$2"' "$COREPACK" \
	"$CP_WORK/out/empty.tar.zst" "$c/empty"
[[ -z $(ls -A "$CP_WORK/out") ]] || cp_fail "files left in $CP_WORK/out: $(ls -A "$CP_WORK/out")"

cp_check "Ctrl-C while reading a pipe: exit 1, nothing written"
# The test keeps the pipe open for writing (a read-write open does not
# wait), so corepack, having read the data, waits for more.
mkfifo "$CP_WORK/fifo"
exec {writer}<>"$CP_WORK/fifo"
cat "$c/core.zst" >&"$writer"
"$COREPACK" -o "$CP_WORK/out/int.tar.zst" - <"$CP_WORK/fifo" >"$CP_WORK/logs/int.out" 2>"$CP_WORK/logs/int.err" &
packer=$!
sleep 1
kill -INT "$packer"
st=0
wait "$packer" || st=$?
exec {writer}>&-
[[ $st == 1 ]] || cp_fail "interrupted corepack exited $st, expected 1" "$CP_WORK/logs/int.err"
grep -q 'interrupted; no bundle written' "$CP_WORK/logs/int.err" || cp_fail "no 'interrupted' message" "$CP_WORK/logs/int.err"
[[ -z $(ls -A "$CP_WORK/out") ]] || cp_fail "files left in $CP_WORK/out after Ctrl-C: $(ls -A "$CP_WORK/out")"

if [[ $CP_HIDE_NS == 1 ]]; then
	cp_check "a full disk: said up front, then 'no space left' naming the directory, nothing left"
	mkdir -p "$CP_WORK/small"
	st=0
	unshare -m -- sh -c 'mount -t tmpfs -o size=64k cp-small "$1" && exec "$2" -o "$1/out.tar.zst" - <"$3"' \
		sh "$CP_WORK/small" "$COREPACK" "$c/core.zst" >"$CP_WORK/logs/full.out" 2>"$CP_WORK/logs/full.err" || st=$?
	[[ $st == 1 ]] || cp_fail "corepack on a full disk exited $st, expected 1" "$CP_WORK/logs/full.err"
	grep -q "warning: 'standard input': the core is .* decompressed and '$CP_WORK/small' has .* free" \
		"$CP_WORK/logs/full.err" || cp_fail "no warning up front" "$CP_WORK/logs/full.err"
	grep -q "^corepack: no space left in '$CP_WORK/small' for the core from 'standard input'" \
		"$CP_WORK/logs/full.err" || cp_fail "no 'no space left' naming the directory" "$CP_WORK/logs/full.err"
	[[ $(grep -c '' "$CP_WORK/logs/full.err") == 2 ]] || cp_fail "more than the two lines expected" "$CP_WORK/logs/full.err"
else
	cp_log "not root: the full-disk case (a tmpfs in a mount namespace) is not run"
fi

cp_check "a zstd stream on standard input, end to end"
cp_origin_gdb "$CP_WORK/logs/origin.out" -ex "file $CP_APP" -ex "core-file $core" -ex bt
CP_PACK_OUT=$CP_WORK/logs/pack.out
CP_PACK_ERR=$CP_WORK/logs/pack.err
CP_BUNDLE_FILE=$CP_WORK/stdin.tar.zst
zstd -q -c <"$core" | "$COREPACK" --debug-dir "$CP_DEBUGROOT" -o "$CP_BUNDLE_FILE" - \
	>"$CP_PACK_OUT" 2>"$CP_PACK_ERR" || cp_fail "zstd -c | corepack - failed" "$CP_PACK_OUT" "$CP_PACK_ERR"
CP_BUNDLE_SIZE=$(stat -c %s "$CP_BUNDLE_FILE")
[[ ! -s $CP_PACK_ERR ]] || cp_fail "corepack warned" "$CP_PACK_ERR"
same_core "$CP_BUNDLE_FILE" "zstd on standard input"
cp_check_layout "$core"
for f in "$CP_APP" "$CP_LIB" "$CP_PLUGIN"; do
	cp_check_object "/$(basename "$f")" "$f"
done
[[ $(cp_manifest '.core.original_name') == "standard input" ]] ||
	cp_fail "core.original_name is not 'standard input'" "$CP_BUNDLE_DIR/manifest.json"
cu_unpack "$CP_UNPACK/new" "$CP_BUNDLE_FILE"
cu_check_unpacked "$CP_UNPACK/new"
cmp -s "$core" "$CP_UNPACK/new/core" || cp_fail "the unpacked core differs from the original"
CP_BUNDLE_DIR=$CP_UNPACK/new
cp_hide_originals "$CP_WORK"
cp_trio_frames
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt -ex 'info sharedlibrary'
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"
cp_assert_same_frames "$CP_WORK/logs/origin.out" 3 "$CP_WORK/logs/gdb.out" 1
cp_assert_sharedlibs "$CP_WORK/logs/gdb.out" libcrash.so.1:debug plugin.so:debug "$(cp_want_libc)"
cp_report
