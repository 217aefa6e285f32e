#!/bin/bash
# A server is as untrusted as a bundle.  A thin bundle made against a real
# debuginfod is unpacked against lying servers (python3's http.server):
# one that answers every build-id with the same wrong file, one that sends
# each right file with one byte changed (same size, same build-id note),
# one that sends 64 MiB for each (cut off as it arrives: a remote file may
# not pass the manifest's size, in the cache either).
# coreunpack refuses each, naming a build-id of the manifest, and leaves
# nothing behind: no file, no staging directory, not the target directory
# it created.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-debuginfod.sh"
cp_init
cu_need_unpack

cp_build_trio
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
srv=$CP_WORK/srv
mkdir -p "$srv"
app_id=$(cp_build_id "$CP_APP")
lib_id=$(cp_build_id "$CP_LIB")
cp "$CP_APP" "$srv/app"
cp "$CP_LIB" "$srv/libcrash.so.1.0.0"
cp "$CP_DEBUGROOT/.build-id/${app_id:0:2}/${app_id:2}.debug" "$srv/app.debug"
dl_start_server "$srv" "/buildid/$app_id/executable" "/buildid/$app_id/debuginfo" "/buildid/$lib_id/executable"
export DEBUGINFOD_URLS=$DL_URL
dl_fresh_cache thin
cp_pack "$CP_CORE" "$CP_WORK/thin.tar.zst" --debug-dir "$CP_DEBUGROOT" --thin
cp_extract "$CP_BUNDLE_FILE"
n=$(cp_manifest '.remote | length')
((n == 3)) || cp_fail "$n files left out, expected 3 (app, its debug file, libcrash)" "$CP_BUNDLE_DIR/manifest.json"
mapfile -t ids < <(cp_manifest '.remote[].build_id' | sort -u)
dl_stop_servers

# The same size and build-id note, one byte changed in the middle.
bad=$CP_WORK/bad
mkdir -p "$bad"
while IFS=$'\t' read -r kind id path; do
	src=$srv/app
	[[ $id == "$lib_id" ]] && src=$srv/libcrash.so.1.0.0
	[[ $kind == debuginfo ]] && src=$srv/app.debug
	python3 - "$src" "$bad/$id.$kind" <<'PY'
import sys
data = bytearray(open(sys.argv[1], 'rb').read())
data[len(data) // 2] ^= 0xff
open(sys.argv[2], 'wb').write(data)
PY
done < <(cp_manifest '.remote[] | [.kind, .build_id, .path] | @tsv')

# expect_refused NAME PATTERN: coreunpack into a new directory fails,
# naming a build-id of the manifest, and leaves nothing.
expect_refused() {
	local name=$1 pattern=$2 out=$CP_WORK/logs/$1.out err=$CP_WORK/logs/$1.err st=0 named=0 id
	cp_check "the $name server: refused, a build-id named, nothing left"
	dl_fresh_cache "$name"
	"$COREUNPACK" -C "$CP_UNPACK/$name" "$CP_BUNDLE_FILE" </dev/null >"$out" 2>"$err" || st=$?
	((st == 1)) || cp_fail "coreunpack exited $st, expected 1" "$out" "$err"
	[[ $(grep -c '' "$err") == 1 ]] || cp_fail "not one line on stderr" "$err"
	grep -q -E "$pattern" "$err" || cp_fail "stderr does not match '$pattern'" "$err"
	for id in "${ids[@]}"; do
		grep -q -F "build-id $id" "$err" && named=1
	done
	((named)) || cp_fail "no build-id of the manifest named" "$err"
	[[ ! -e $CP_UNPACK/$name ]] || cp_fail "left behind: $(find "$CP_UNPACK/$name" | head)"
	cp_log "refused: $(cat "$err")"
}

dl_start_liar /bin/true
export DEBUGINFOD_URLS=$DL_LIAR_URL
expect_refused wrong-file "debuginfod: .* of build-id [0-9a-f]+ (is [0-9]+ bytes, the manifest says|: larger than)"
dl_stop_servers

head -c $((64 << 20)) /dev/zero >"$CP_WORK/huge"
dl_start_liar "$CP_WORK/huge"
export DEBUGINFOD_URLS=$DL_LIAR_URL
expect_refused huge "debuginfod: (executable|debuginfo) of build-id [0-9a-f]+: larger than [0-9]+ bytes"
cp_check "the 64 MiB did not land in the client's cache"
used=$(du -sk "$DEBUGINFOD_CACHE_PATH" | cut -f1)
((used < 1024)) || cp_fail "the client's cache holds ${used} KiB after the huge server"
dl_stop_servers

dl_start_liar "$bad"
export DEBUGINFOD_URLS=$DL_LIAR_URL
expect_refused one-byte "debuginfod: the (executable|debuginfo) sent for build-id [0-9a-f]+ is not the one the manifest names \(sha256 [0-9a-f]{64}\): refused"
dl_stop_servers

cp_check "the same bundle unpacks against the real server"
dl_start_server "$srv" "/buildid/$app_id/executable"
export DEBUGINFOD_URLS=$DL_URL
dl_fresh_cache good
cu_unpack "$CP_UNPACK/good" "$CP_BUNDLE_FILE"
cmp -s "$CP_UNPACK/good/sysroot$CP_APP" "$CP_APP" || cp_fail "the fetched app differs"
cp_finish
