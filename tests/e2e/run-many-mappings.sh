#!/bin/bash
# A process with 140,000 mappings: past about 65,000 the kernel writes no
# NT_FILE note (its size would pass core_file_note_size_limit) and counts
# the program headers with PN_XNUM (e_phnum 0xffff, the count in section
# 0's sh_info).  The program (progs/nofilemaps.c, linked with libcrash)
# makes them and crashes in libcrash.  corepack must find the executable
# from AT_EXECFN and its program headers, the libraries from link_map and
# their dumped ELF headers, say once what was missing, and gdb on the
# unpacked bundle, originals hidden, must show the frames gdb shows on the
# origin.
#
# The kernel allows vm.max_map_count mappings (65,530 by default): as root
# the test raises it for the crash (and sets core_file_note_size_limit to
# its default if someone raised that), under a lock shared by concurrent
# runs, and restores both on any exit; as another user it skips unless the
# limits already allow it.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init
cp_need eu-readelf:elfutils flock:util-linux

N=140000
MAPS=/proc/sys/vm/max_map_count
NOTE_LIMIT=/proc/sys/kernel/core_file_note_size_limit
need_maps=$((N + 1000))
old_maps=$(cat "$MAPS")
old_note=
[[ -r $NOTE_LIMIT ]] && old_note=$(cat "$NOTE_LIMIT")
# NT_FILE takes 64 bytes per mapping at most before the names; it is
# dropped when that passes the note size limit (fs/coredump.c).
note_ok() { [[ -z $old_note ]] || ((old_note <= N * 64)); }
if [[ $(id -u) != 0 ]] && { ((old_maps < need_maps)) || ! note_ok; }; then
	cp_skip "needs root: vm.max_map_count is $old_maps (needs $need_maps) or kernel.core_file_note_size_limit ${old_note:-?} lets NT_FILE through"
fi

restore_limits() {
	if [[ $(id -u) == 0 ]]; then
		[[ $(cat "$MAPS") == "$old_maps" ]] || echo "$old_maps" >"$MAPS" || true
		[[ -z $old_note || $(cat "$NOTE_LIMIT") == "$old_note" ]] || echo "$old_note" >"$NOTE_LIMIT" || true
	fi
}
trap 'restore_limits; cp_cleanup' EXIT

mkdir -p "$CP_WORK/b/lib"
cp_build_lib "$CP_WORK/b/lib/libcrash.so.1.0.0"
ln -s libcrash.so.1.0.0 "$CP_WORK/b/lib/libcrash.so.1"
ln -s libcrash.so.1 "$CP_WORK/b/lib/libcrash.so"
gcc "${CP_CFLAGS[@]}" -I"$CP_PROGS" -o "$CP_WORK/b/nofilemaps" "$CP_PROGS/nofilemaps.c" \
	-L"$CP_WORK/b/lib" -lcrash -Wl,-rpath,"$CP_WORK/b/lib"
CP_SELF_EXE=$CP_WORK/b/nofilemaps

# The raised limit is needed only while the program runs; concurrent runs
# of this test (two builds) take turns, so none restores a limit another
# still needs.
exec {lock}>"${TMPDIR:-/tmp}/corepack-e2e-max-map-count.lock"
flock "$lock"
if [[ $(id -u) == 0 ]]; then
	((old_maps >= need_maps)) || echo "$need_maps" >"$MAPS"
	note_ok || echo 4194304 >"$NOTE_LIMIT"
fi
cp_crash "$CP_WORK/crash" "$CP_WORK/b/nofilemaps" "$N"
restore_limits
flock -u "$lock"

cp_check "the core has more than $N program headers (PN_XNUM) and no NT_FILE"
phnum=$(readelf -hW "$CP_CORE" | sed -n 's/^ *Number of program headers: *//p')
[[ $phnum =~ ^65535\ \(([0-9]+)\)$ ]] && ((BASH_REMATCH[1] > N)) ||
	cp_fail "program headers: '$phnum', expected 65535 (more than $N)"
cp_log "program headers: $phnum; core $(stat -c %s "$CP_CORE") bytes"
cp_has_nt_file "$CP_CORE" && cp_fail "the core has an NT_FILE note"

cp_origin_gdb "$CP_WORK/logs/origin.out" -ex "file $CP_WORK/b/nofilemaps" -ex "core-file $CP_CORE" -ex bt
start=$(date +%s%N)
cp_pack "$CP_CORE" "$CP_WORK/many.tar.zst"
cp_log "RESULT corepack on $N mappings: $((($(date +%s%N) - start) / 1000000)) ms"
cp_check "one warning: no NT_FILE, what was used instead"
n=$(grep -c 'NT_FILE' "$CP_PACK_ERR" || true)
[[ $n == 1 ]] || cp_fail "$n warnings mention NT_FILE, expected 1" "$CP_PACK_ERR"
grep -q "no NT_FILE note.*libraries were taken from the loader's link_map.*the executable from AT_EXECFN" \
	"$CP_PACK_ERR" || cp_fail "the warning does not say what was used instead" "$CP_PACK_ERR"
cp_extract "$CP_BUNDLE_FILE"
cp_check_layout "$CP_CORE"
cp_manifest_object /nofilemaps
[[ $(cp_manifest ".objects[$CP_OBJ].role") == executable && $(cp_manifest ".objects[$CP_OBJ].status") == ok ]] ||
	cp_fail "nofilemaps is not the executable, ok" "$CP_BUNDLE_DIR/manifest.json"
cp_check_object /libcrash.so.1 "$CP_WORK/b/lib/libcrash.so.1.0.0"
for name in /libc.so.6 /ld-linux-x86-64.so.2; do
	cp_manifest_object "$name"
	[[ $(cp_manifest ".objects[$CP_OBJ].status") == ok ]] || cp_fail "$name is not ok" "$CP_BUNDLE_DIR/manifest.json"
done

cp_hide_originals "$CP_WORK"
frames=(
	"crash_store libcrash.c:$(cp_line "$CP_PROGS/libcrash.c" crash_store)"
	"crash_deep libcrash.c:$(cp_line "$CP_PROGS/libcrash.c" crash_deep)"
	"main nofilemaps.c:$(cp_line "$CP_PROGS/nofilemaps.c" main)"
)
start=$(date +%s%N)
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt -ex 'info sharedlibrary'
cp_log "gdb on the bundle: $((($(date +%s%N) - start) / 1000000)) ms"
cp_check "bt on the bundle: ${frames[*]}, as on the origin"
cp_assert_frames "$CP_WORK/logs/gdb.out" "${frames[@]}"
cp_assert_same_frames "$CP_WORK/logs/origin.out" 3 "$CP_WORK/logs/gdb.out" 1
cp_assert_sharedlibs "$CP_WORK/logs/gdb.out" libcrash.so.1:debug "$(cp_want_libc)" ld-linux-x86-64.so.2
cp_report
