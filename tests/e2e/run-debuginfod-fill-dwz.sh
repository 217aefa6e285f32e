#!/bin/bash
# Fill, with dwz: the debug files of an app and its library, compressed by
# dwz into a shared alt file, are only on a real debuginfod (127.0.0.1).
# corepack fetches each debug file by its object's build-id, then the alt
# file by the build-id its .gnu_debugaltlink names, and packs all three.
# The crash is in a static inline function whose abstract DIE dwz moved
# into the alt file: abroad, the originals and the server gone, gdb shows
# the inlined frame with its line, as gdb on the origin does.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-debuginfod.sh"
cp_init
cu_need_unpack
cp_need dwz:dwz

b=$CP_WORK/b
mkdir -p "$b"
cat >"$b/common.h" <<'PROG'
struct shared {
	int a;
	long b;
	const char *c;
};

static inline __attribute__((always_inline)) void poke(volatile int *p, int v)
{
	*p = v; /* LINE:poke */
}
void lib_crash(struct shared *s);
PROG
cat >"$b/lib.c" <<'PROG'
#include "common.h"

void lib_crash(struct shared *s)
{
	poke((volatile int *)0, s->a); /* LINE:lib_crash */
}
PROG
cat >"$b/main.c" <<'PROG'
#include "common.h"

int main(void)
{
	static int scratch;
	struct shared s = {1, 2, "x"};
	poke(&scratch, 3); /* the same inline in both objects: dwz shares it */
	lib_crash(&s); /* LINE:main */
	return 0;
}
PROG
gcc "${CP_CFLAGS[@]}" -fPIC -shared -o "$b/libdz.so" "$b/lib.c"
gcc "${CP_CFLAGS[@]}" -o "$b/dzapp" "$b/main.c" -L"$b" -ldz -Wl,-rpath,"$b"

# The origin's debug directory (for gdb on the origin, the reference) is
# also the server's tree; corepack is not told of it.
CP_DEBUGROOT=$CP_WORK/dbg
alt=$CP_DEBUGROOT/.dwz/x86_64-linux-gnu/dz.debug
mkdir -p "${alt%/*}"
debugs=()
probes=()
for f in "$b/dzapp" "$b/libdz.so"; do
	id=$(cp_build_id "$f")
	mkdir -p "$CP_DEBUGROOT/.build-id/${id:0:2}"
	objcopy --only-keep-debug "$f" "$CP_DEBUGROOT/.build-id/${id:0:2}/${id:2}.debug"
	strip --strip-debug "$f"
	debugs+=("$CP_DEBUGROOT/.build-id/${id:0:2}/${id:2}.debug")
	probes+=("/buildid/$id/debuginfo")
done
dwz -q -m "$alt" -M /usr/lib/debug/.dwz/x86_64-linux-gnu/dz.debug "${debugs[@]}" \
	2>"$CP_WORK/logs/dwz.err" || cp_fail "dwz failed" "$CP_WORK/logs/dwz.err"
[[ -f $alt ]] || cp_skip "dwz made no alt file from these objects"
alt_id=$(cp_build_id "$alt")
[[ -n $alt_id ]] || cp_fail "the alt file has no build-id"
probes+=("/buildid/$alt_id/debuginfo")
dl_start_server "$CP_DEBUGROOT" "${probes[@]}"

cp_crash "$CP_WORK/crash" "$b/dzapp"
CP_FRAMES=(
	"poke common.h:$(cp_line "$b/common.h" poke)"
	"lib_crash lib.c:$(cp_line "$b/lib.c" lib_crash)"
	"main main.c:$(cp_line "$b/main.c" main)"
)
cp_origin_gdb "$CP_WORK/logs/origin.out" -ex "file $b/dzapp" -ex "core-file $CP_CORE" -ex bt

export DEBUGINFOD_URLS=$DL_URL
dl_fresh_cache fill
cp_pack "$CP_CORE" "$CP_WORK/dz.tar.zst"
cp_extract "$CP_BUNDLE_FILE"
cp_check "libdz.so's debug file and the alt file came from the server"
got=$(cp_manifest --arg p "$b/libdz.so" '.objects[] | select(.path == $p) | .debug | map("\(.kind) \(.found_by) \(.build_id)") | join(", ")')
[[ $got == "debug debuginfod $(cp_build_id "$b/libdz.so"), dwz debuginfod $alt_id" ]] ||
	cp_fail "libdz.so's debug entries: '$got'" "$CP_BUNDLE_DIR/manifest.json"
st=$(cp_manifest --arg p "$b/libdz.so" '.objects[] | select(.path == $p) | .debug_status')
[[ $st == found ]] || cp_fail "libdz.so's debug_status is '$st', expected found"

cu_unpack "$CP_UNPACK/dz" "$CP_BUNDLE_FILE"
CP_BUNDLE_DIR=$CP_UNPACK/dz
dl_stop_servers
unset DEBUGINFOD_URLS
cp_hide_originals "$CP_WORK"
cp_check "abroad, bt shows ${CP_FRAMES[*]}, as gdb on the origin"
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"
cp_assert_same_frames "$CP_WORK/logs/origin.out" 3 "$CP_WORK/logs/gdb.out" 1
cp_finish
