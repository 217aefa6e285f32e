#!/bin/bash
# corepack fills in from debuginfod what it cannot find here: the app of the
# trio (stripped) has its build-id debug file only on a real debuginfod
# started on 127.0.0.1 over a directory of the test.  With DEBUGINFOD_URLS
# set, the bundle holds that debug file (found_by "debuginfod", the
# server's URL in the manifest), and gdb on the unpacked bundle, the
# originals and the server gone, shows every frame with its source line.
# --no-debuginfod leaves it out; an object no server has gets one warning.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-debuginfod.sh"
cp_init
cu_need_unpack

cp_build_trio
cp_trio_frames
app_id=$(cp_build_id "$CP_APP")
mkdir -p "$CP_WORK/srv"
mv "$CP_DEBUGROOT/.build-id/${app_id:0:2}/${app_id:2}.debug" "$CP_WORK/srv/app.debug"
dl_start_server "$CP_WORK/srv" "/buildid/$app_id/debuginfo"
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"

cp_check "without DEBUGINFOD_URLS, the app has no debug file"
dl_fresh_cache none
cp_pack "$CP_CORE" "$CP_WORK/none.tar.zst"
cp_extract "$CP_BUNDLE_FILE"
st=$(cp_manifest --arg p "$CP_APP" '.objects[] | select(.path == $p) | .debug_status')
[[ $st == none ]] || cp_fail "app's debug_status is '$st' without a server, expected none"

cp_check "--no-debuginfod does not ask the server"
export DEBUGINFOD_URLS=$DL_URL
dl_fresh_cache off
cp_pack "$CP_CORE" "$CP_WORK/off.tar.zst" --no-debuginfod
cp_extract "$CP_BUNDLE_FILE"
st=$(cp_manifest --arg p "$CP_APP" '.objects[] | select(.path == $p) | .debug_status')
[[ $st == none ]] || cp_fail "app's debug_status is '$st' with --no-debuginfod, expected none"
[[ -z $(ls -A "$DEBUGINFOD_CACHE_PATH") ]] ||
	cp_fail "--no-debuginfod: the client cache was written: $(ls -A "$DEBUGINFOD_CACHE_PATH")"

cp_check "with DEBUGINFOD_URLS, the app's debug file comes from the server"
dl_fresh_cache fill
cp_pack "$CP_CORE" "$CP_WORK/fill.tar.zst"
cp_extract "$CP_BUNDLE_FILE"
dbg=$(cp_manifest --arg p "$CP_APP" '.objects[] | select(.path == $p) | .debug[0] | "\(.found_by) \(.url) \(.build_id) \(.bundle_path)"')
[[ $dbg == "debuginfod $DL_URL/buildid/$app_id/debuginfo $app_id debug/.build-id/${app_id:0:2}/${app_id:2}.debug" ]] ||
	cp_fail "app's debug entry is '$dbg'" "$CP_BUNDLE_DIR/manifest.json"
cmp -s "$CP_BUNDLE_DIR/debug/.build-id/${app_id:0:2}/${app_id:2}.debug" "$CP_WORK/srv/app.debug" ||
	cp_fail "the packed debug file is not the server's"
if grep -q 'debuginfod' "$CP_PACK_ERR"; then
	cp_fail "warnings about debuginfod though the server had everything" "$CP_PACK_ERR"
fi
fill_bundle=$CP_BUNDLE_FILE

cp_check "an object no server has: one warning naming it"
mv "$CP_WORK/b/lib/.debug" "$CP_WORK/b/lib/.debug-gone"
dl_fresh_cache miss
cp_pack "$CP_CORE" "$CP_WORK/miss.tar.zst"
n=$(grep -c "libcrash.so.1.0.0': no debug file here, and no debuginfod server has one" "$CP_PACK_ERR" || true)
((n == 1)) || cp_fail "$n warnings for libcrash, expected 1" "$CP_PACK_ERR"
mv "$CP_WORK/b/lib/.debug-gone" "$CP_WORK/b/lib/.debug"

cu_unpack "$CP_UNPACK/fill" "$fill_bundle"
CP_BUNDLE_DIR=$CP_UNPACK/fill
dl_stop_servers
unset DEBUGINFOD_URLS
cp_hide_originals "$CP_WORK"
cp_check "abroad, bt shows ${CP_FRAMES[*]}"
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"
cp_report
