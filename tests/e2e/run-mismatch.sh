#!/bin/bash
# libcrash is replaced on disk (a rebuild with different code, renamed over
# the old file as a package upgrade does) after the app loaded it and
# before it crashed.  corepack must notice from the build-id in the core:
# exit 0 with a warning naming the library on stderr, manifest status
# "mismatch", a "mismatch" line on stdout; with --strict exit 1, one error
# line, and no bundle.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init

cp_build_trio
old_id=$(cp_build_id "$CP_LIB")
cp_start_waiting "$CP_WORK/run" "$CP_APP" "$CP_PLUGIN_LINK" wait

# Rebuild libcrash with different code and rename it over the loaded one.
mkdir -p "$CP_WORK/rebuild"
cp_build_lib "$CP_WORK/rebuild/libcrash.so.1.0.0" -DLIBCRASH_VARIANT=2
mv -f "$CP_WORK/rebuild/.debug/libcrash.so.1.0.0.debug" "$CP_WORK/b/lib/.debug/libcrash.so.1.0.0.debug"
mv -f "$CP_WORK/rebuild/libcrash.so.1.0.0" "$CP_LIB"
new_id=$(cp_build_id "$CP_LIB")
[[ $old_id != "$new_id" ]] || cp_fail "the rebuilt libcrash has the same build-id $old_id"
cp_log "replaced $CP_LIB: build-id $old_id -> $new_id"

cp_release_crash
CP_SELF_EXE=$CP_APP

if [[ $CP_SELFCHECK == 1 ]]; then
	# The oracle: the core carries the old build-id, the disk the new one.
	eu-unstrip -n --core="$CP_CORE" >"$CP_WORK/logs/unstrip" 2>&1 || true
	grep -q "$old_id" "$CP_WORK/logs/unstrip" ||
		cp_fail "the core does not carry libcrash's old build-id $old_id" "$CP_WORK/logs/unstrip"
	cp_log "PASS (selfcheck)"
	exit 0
fi

cp_pack "$CP_CORE" "$CP_WORK/mismatch.tar.zst" --debug-dir "$CP_DEBUGROOT"
cp_check "stderr warns of a mismatch naming libcrash"
grep -i 'mismatch' "$CP_PACK_ERR" | grep -q 'libcrash\.so' ||
	cp_fail "no warning line on stderr with 'mismatch' and 'libcrash.so'" "$CP_PACK_ERR"
cp_check "stdout has a 'mismatch' line"
grep -q -E '(^|[[:space:]])mismatch([[:space:]]|$)' "$CP_PACK_OUT" ||
	cp_fail "no object line with status 'mismatch' on stdout" "$CP_PACK_OUT"
cp_extract "$CP_BUNDLE_FILE"
cp_check_layout "$CP_CORE"
cp_check "manifest status of libcrash is 'mismatch'"
cp_manifest_object /libcrash.so.1.0.0
st=$(cp_manifest ".objects[$CP_OBJ].status // empty")
[[ $st == mismatch ]] || cp_fail "manifest status of libcrash is '$st', expected 'mismatch'" "$CP_BUNDLE_DIR/manifest.json"
cp_check "manifest: app and plugin still ok"
for name in /bin/app /crashplugin-1.0.so; do
	cp_manifest_object "$name"
	st=$(cp_manifest ".objects[$CP_OBJ].status // empty")
	[[ $st == ok ]] || cp_fail "manifest status of $name is '$st', expected ok" "$CP_BUNDLE_DIR/manifest.json"
done

mkdir -p "$CP_WORK/strict"
CP_EXPECT_WARNINGS=1 cp_expect_fail 1 'libcrash\.so' "$COREPACK" --strict --debug-dir "$CP_DEBUGROOT" \
	-o "$CP_WORK/strict/strict.tar.zst" "$CP_CORE"
cp_report
