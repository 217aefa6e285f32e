#!/bin/bash
# Issue 19, kind 12: a crafted core whose PT_LOAD p_filesz is huge
# (0xc000000000000000: more than any file holds) gave a negative
# missing_bytes in the manifest, and coreunpack refused corepack's own
# bundle.  Every size and offset read from a core is unsigned and checked;
# a number the manifest reader would refuse is never written.  The core
# still packs, says it is truncated, and the bundle unpacks.  The same for
# a pid past 2^31 (NT_PRPSINFO's pr_pid is unsigned in the file).  A core
# past the 1 TiB coreunpack takes is refused before any work.
source "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init
cp_need python3:python3

cp_build_trio
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
craft=$CP_E2E_DIR/corecraft.py

check() {
	local name=$1 core=$2 bundle=$CP_WORK/$1.tar.zst dir=$CP_UNPACK/$1 st=0
	shift 2
	cp_check "$name: corepack packs it, coreunpack accepts the bundle"
	cp_pack "$core" "$bundle" --no-backtrace
	mkdir -p "$dir"
	"$COREUNPACK" -q -C "$dir" "$bundle" >"$CP_WORK/logs/$name.unpack" 2>&1 || st=$?
	((st == 0)) || cp_fail "$name: coreunpack refused corepack's bundle (exit $st)" "$CP_WORK/logs/$name.unpack"
	CP_BUNDLE_DIR=$dir
}

python3 "$craft" "$CP_CORE" "$CP_WORK/huge-core" --huge-load
readelf -lW "$CP_WORK/huge-core" >"$CP_WORK/logs/phdrs"
grep -q ' 0xc000000000000000 ' "$CP_WORK/logs/phdrs" ||
	cp_fail "the crafted core has no huge segment" "$CP_WORK/logs/phdrs"
check huge "$CP_WORK/huge-core"
grep -q "core is truncated" "$CP_PACK_ERR" || cp_fail "no truncation warning" "$CP_PACK_ERR"
missing=$(cp_manifest '.core.missing_bytes | tostring')
truncated=$(cp_manifest '.core.truncated')
cp_log "manifest: truncated $truncated, missing_bytes $missing"
[[ $truncated == true && $missing =~ ^[0-9]+$ ]] || cp_fail "manifest core.truncated=$truncated missing_bytes=$missing"
# jq holds numbers as doubles: compare as text, against 2^63 - 1
python3 -c 'import json, sys; m = json.load(open(sys.argv[1]))["core"]["missing_bytes"]; sys.exit(0 if 0 < m <= 2**63 - 1 else 1)' \
	"$CP_BUNDLE_DIR/manifest.json" || cp_fail "missing_bytes $missing is not a size"
cmp -s "$CP_BUNDLE_DIR/core" "$CP_WORK/huge-core" || cp_fail "the unpacked core is not the crafted one"

python3 "$craft" "$CP_CORE" "$CP_WORK/pid-core" --pid 0xfffffffe
check pid "$CP_WORK/pid-core"
[[ $(cp_manifest '.core.pid') == null ]] || cp_fail "a pid past 2^31 was written: $(cp_manifest '.core.pid')"
cp_check "a core past the bundle's 1 TiB (a hole at its end): refused before any work, as coreunpack would refuse the bundle"
cp --sparse=always "$CP_CORE" "$CP_WORK/big-core"
if truncate -s 1100G "$CP_WORK/big-core" 2>/dev/null; then
	mkdir -p "$CP_WORK/big"
	cp_expect_fail 1 "more than a bundle holds" "$COREPACK" --no-backtrace -q -o "$CP_WORK/big/b.tar.zst" "$CP_WORK/big-core"
else
	cp_log "this filesystem cannot hold a 1100 GiB sparse file: that case is not run"
fi
rm -f "$CP_WORK/big-core"
cp_log "RESULT both crafted cores packed, both bundles unpacked"
cp_finish
