#!/bin/bash
# Fill under the access rules: root's corepack packs a core crafted as an
# unprivileged user's (NT_PRPSINFO uid and gid 65534).  The app's debug
# file is only on a real debuginfod (127.0.0.1), and root's client cache is
# root-only (0700): the file fetched is corepack's own, not one of the
# core's machine, so it is packed although the core's owner could not read
# it there.  libcrash's debug file, on this machine only, in a directory
# made root-only, stays out (the rules hold: the user's core gets none),
# and no server has it: one warning names it.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-debuginfod.sh"
cp_init
cu_need_unpack
cp_need python3:python3
[[ $(id -u) == 0 ]] || cp_skip "needs root: root's corepack packing a core of another uid"
umask 022

cp_build_trio
chmod 755 "$CP_WORK"
d=$CP_WORK
while [[ $d != / ]]; do
	[[ $(($(stat -c '0%a' "$d") & 1)) == 1 ]] ||
		cp_skip "'$d' is not searchable by other users: an unprivileged owner could not have run the test program"
	d=$(dirname "$d")
done
app_id=$(cp_build_id "$CP_APP")
mkdir -p "$CP_WORK/srv"
mv "$CP_DEBUGROOT/.build-id/${app_id:0:2}/${app_id:2}.debug" "$CP_WORK/srv/app.debug"
dl_start_server "$CP_WORK/srv" "/buildid/$app_id/debuginfo"
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
python3 "$CP_E2E_DIR/corecraft.py" "$CP_CORE" "$CP_WORK/crafted" --owner 65534:65534
chmod 700 "$(dirname "$CP_LIB")/.debug"

export DEBUGINFOD_URLS=$DL_URL
export DEBUGINFOD_CACHE_PATH=$CP_WORK/rootcache
mkdir -m 700 "$DEBUGINFOD_CACHE_PATH"
cp_pack "$CP_WORK/crafted" "$CP_WORK/owner.tar.zst" --no-backtrace
cp_extract "$CP_BUNDLE_FILE"

cp_check "the app's debug file, fetched into root's root-only cache, is packed"
dbg=$(cp_manifest --arg p "$CP_APP" '.objects[] | select(.path == $p) | .debug[0] | "\(.found_by) \(.bundle_path)"')
[[ $dbg == "debuginfod debug/.build-id/${app_id:0:2}/${app_id:2}.debug" ]] ||
	cp_fail "app's debug entry is '$dbg'" "$CP_BUNDLE_DIR/manifest.json"
cmp -s "$CP_BUNDLE_DIR/debug/.build-id/${app_id:0:2}/${app_id:2}.debug" "$CP_WORK/srv/app.debug" ||
	cp_fail "the packed debug file is not the server's"

cp_check "libcrash's root-only local debug file stays out; one warning says no server has one"
st=$(cp_manifest --arg p "$CP_LIB" '.objects[] | select(.path == $p) | .debug_status')
[[ $st == none ]] || cp_fail "libcrash's debug_status is '$st', expected none" "$CP_BUNDLE_DIR/manifest.json"
n=$(grep -c "libcrash.so.1.0.0': no debug file here, and no debuginfod server has one" "$CP_PACK_ERR" || true)
((n == 1)) || cp_fail "$n warnings for libcrash, expected 1" "$CP_PACK_ERR"

mkdir -p "$CP_UNPACK/owner"
"$COREUNPACK" -q -C "$CP_UNPACK/owner" "$CP_BUNDLE_FILE" >"$CP_WORK/logs/unpack" 2>&1 ||
	cp_fail "coreunpack refused corepack's bundle" "$CP_WORK/logs/unpack"
cp_finish
