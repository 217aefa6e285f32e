#!/bin/bash
# Thin bundles: a real debuginfod on 127.0.0.1 serves the trio's programs,
# libc and the loader, and every debug file of them.  corepack --thin asks
# it for each object and debug file by build-id and leaves out those it
# sends back identical: the bundle is much smaller, its manifest (version
# 4; thin bundles came with version 3) lists each left out with build-id,
# kind, size and sha256.  coreunpack without DEBUGINFOD_URLS stops before
# writing anything, listing what it needs; --list shows what is remote;
# with the server it fetches and checks them, and gdb, the originals and
# the server gone, shows the same frames as on the full bundle.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-debuginfod.sh"
cp_init
cu_need_unpack

cp_build_trio
cp_trio_frames
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"

# The full bundle first (no server yet): its manifest names every object
# and debug file packed, with the file read on this machine.
dl_fresh_cache full
cp_pack "$CP_CORE" "$CP_WORK/full.tar.zst" --debug-dir "$CP_DEBUGROOT"
full_size=$CP_BUNDLE_SIZE
cp_extract "$CP_BUNDLE_FILE"
full_dir=$CP_BUNDLE_DIR

cp_check "--thin without DEBUGINFOD_URLS fails before any work; with --no-debuginfod or --list it is a usage error"
st=0
"$COREPACK" --thin -o "$CP_WORK/none.tar.zst" "$CP_CORE" >"$CP_WORK/logs/none.out" 2>"$CP_WORK/logs/none.err" || st=$?
((st == 1)) || cp_fail "corepack --thin exited $st, expected 1" "$CP_WORK/logs/none.err"
grep -qx "corepack: --thin: DEBUGINFOD_URLS names no debuginfod server; no bundle written" "$CP_WORK/logs/none.err" ||
	cp_fail "not the expected message" "$CP_WORK/logs/none.err"
[[ ! -e $CP_WORK/none.tar.zst ]] || cp_fail "a bundle was written"
for args in "--thin --no-debuginfod -o $CP_WORK/u.tar.zst" "--thin --list"; do
	st=0
	# shellcheck disable=SC2086 # the options are words
	DEBUGINFOD_URLS=http://127.0.0.1:1 "$COREPACK" $args "$CP_CORE" >/dev/null 2>"$CP_WORK/logs/usage.err" || st=$?
	((st == 2)) || cp_fail "corepack $args exited $st, expected 2" "$CP_WORK/logs/usage.err"
done

# The server's tree: copies of every one of them (debuginfod -F indexes ELF
# files by build-id; copies are byte for byte the same).
srv=$CP_WORK/srv
mkdir -p "$srv"
probes=()
while IFS=$'\t' read -r file id dbg; do
	cp "$file" "$srv/$(basename "$file").$id"
	probes+=("/buildid/$id/executable")
	if [[ -n $dbg ]]; then
		cp "$dbg" "$srv/$(basename "$file").$id.debug"
		probes+=("/buildid/$id/debuginfo")
	fi
done < <(jq -r '.objects[] | select(.bundle_path != null and .build_id_file != null)
	| [.file, .build_id_file, (.debug[0].origin // "")] | @tsv' "$full_dir/manifest.json")
((${#probes[@]} >= 9)) || cp_fail "only ${#probes[@]} objects and debug files to serve" "$full_dir/manifest.json"
dl_start_server "$srv" "${probes[@]}"
export DEBUGINFOD_URLS=$DL_URL

dl_fresh_cache thin
cp_pack "$CP_CORE" "$CP_WORK/thin.tar.zst" --debug-dir "$CP_DEBUGROOT" --thin
thin_size=$CP_BUNDLE_SIZE
thin=$CP_BUNDLE_FILE

cp_check "the thin bundle is much smaller ($thin_size bytes, full $full_size)"
((thin_size * 3 < full_size)) || cp_fail "thin $thin_size bytes is not under a third of full $full_size"
grep -q -E '^thin: [0-9]+ files \([0-9.]+ [KMG]?i?B\) left out, served by the debuginfod servers' "$CP_PACK_OUT" ||
	cp_fail "corepack does not say how much was left out" "$CP_PACK_OUT"

cp_check "the manifest is of version 4 and lists every left-out file, none of them in the tar"
cp_extract "$thin"
[[ $(cp_manifest .manifest_version) == 4 ]] || cp_fail "manifest_version is not 4"
n_remote=$(cp_manifest '.remote | length')
((n_remote == ${#probes[@]})) ||
	cp_fail "$n_remote files left out, expected ${#probes[@]} (every object and debug file the server has)" "$CP_BUNDLE_DIR/manifest.json"
while IFS=$'\t' read -r path kind id size sha; do
	[[ ! -e $CP_BUNDLE_DIR/$path ]] || cp_fail "'$path' is remote and in the tar"
	want=$srv/$(ls "$srv" | grep -F ".$id" | grep -v -E '\.debug$' | head -n1)
	[[ $kind == debuginfo ]] && want=$srv/$(ls "$srv" | grep -F ".$id.debug" | head -n1)
	[[ $(sha256sum <"$want" | cut -d' ' -f1) == "$sha" ]] || cp_fail "'$path': sha256 is not the server's $want"
	[[ $(stat -c %s "$want") == "$size" ]] || cp_fail "'$path': size is not the server's"
done < <(cp_manifest '.remote[] | [.path, .kind, .build_id, .size, .sha256] | @tsv')
cp_manifest '.objects[] | select(.remote == true) | .path' | grep -q -F "$CP_APP" ||
	cp_fail "the app is not marked remote in objects[]"

cp_check "coreunpack without DEBUGINFOD_URLS refuses, lists what it needs, writes nothing"
mkdir -p "$CP_UNPACK/none"
st=0
env -u DEBUGINFOD_URLS "$COREUNPACK" -C "$CP_UNPACK/none" "$thin" >"$CP_WORK/logs/none.out" 2>"$CP_WORK/logs/none.err" || st=$?
((st == 1)) || cp_fail "coreunpack exited $st, expected 1" "$CP_WORK/logs/none.err"
grep -q "a thin bundle: $n_remote files" "$CP_WORK/logs/none.err" || cp_fail "no thin-bundle error" "$CP_WORK/logs/none.err"
app_id=$(cp_build_id "$CP_APP")
grep -q "needs the executable of build-id $app_id" "$CP_WORK/logs/none.err" ||
	cp_fail "the app's build-id is not listed as needed" "$CP_WORK/logs/none.err"
[[ -z $(ls -A "$CP_UNPACK/none") ]] || cp_fail "coreunpack left $(ls -A "$CP_UNPACK/none")"

cp_check "coreunpack --list shows what is remote"
env -u DEBUGINFOD_URLS "$COREUNPACK" --list "$thin" >"$CP_WORK/logs/list.out" 2>&1 || cp_fail "--list failed" "$CP_WORK/logs/list.out"
grep -q "^remote: *$n_remote files" "$CP_WORK/logs/list.out" || cp_fail "--list has no remote line" "$CP_WORK/logs/list.out"
grep -q -F "$CP_APP (remote)" "$CP_WORK/logs/list.out" || cp_fail "--list does not mark the app remote" "$CP_WORK/logs/list.out"
grep -q -E "debug/.build-id/${app_id:0:2}/${app_id:2}.debug \(.*, remote\)" "$CP_WORK/logs/list.out" ||
	cp_fail "--list does not mark the app's debug file remote" "$CP_WORK/logs/list.out"

cp_check "coreunpack with the server fetches and checks them"
dl_fresh_cache unpack
cu_unpack "$CP_UNPACK/thin" "$thin"
cu_check_unpacked "$CP_UNPACK/thin"
grep -q "^fetched $n_remote files" "$CU_OUT" || cp_fail "no 'fetched' line" "$CU_OUT"
cmp -s "$CP_UNPACK/thin/sysroot$CP_APP" "$CP_APP" || cp_fail "the fetched app differs from the original"
dl_fresh_cache unpack-full
cu_unpack "$CP_UNPACK/full" "$CP_WORK/full.tar.zst"

dl_stop_servers
unset DEBUGINFOD_URLS
cp_hide_originals "$CP_WORK"
cp_check "abroad, gdb on the thin bundle shows ${CP_FRAMES[*]}, as on the full one"
CP_BUNDLE_DIR=$CP_UNPACK/full
cp_gdb "$CP_WORK/logs/gdb-full.out" -batch -ex bt
CP_BUNDLE_DIR=$CP_UNPACK/thin
cp_gdb "$CP_WORK/logs/gdb-thin.out" -batch -ex bt
cp_assert_frames "$CP_WORK/logs/gdb-thin.out" "${CP_FRAMES[@]}"
cp_assert_same_frames "$CP_WORK/logs/gdb-full.out" 1 "$CP_WORK/logs/gdb-thin.out" 1
cp_log "RESULT sizes: full $full_size bytes, thin $thin_size bytes ($n_remote files left out)"
cp_finish
