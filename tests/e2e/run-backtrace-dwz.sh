#!/bin/bash
# Debug files compressed with dwz into a shared alt file laid out as Debian
# does: .gnu_debugaltlink names /usr/lib/debug/.dwz/x86_64-linux-gnu/dz.debug
# (absent here) and the alt file lies at DEBUGDIR/.dwz/x86_64-linux-gnu/,
# which libdw 0.188 does not find by itself.  The crash is in a static
# inline function whose abstract DIE dwz moved into the alt file, so its
# frame exists only when the unwinder is given the alt file the scan found.
# The report's frames are gdb's (which finds the alt under
# debug-file-directory).  With the alt file gone, the frame of the inline
# function is missing, nothing crashes, and the unwinder looks for the alt
# file nowhere (libdw 0.188 would search this machine's /usr/lib/debug).
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
. "$CP_E2E_DIR/bt-lib.sh"
cp_init
cp_need dwz:dwz
[[ $CP_SELFCHECK != 1 ]] || cp_skip "nothing to check against gdb in SELFCHECK mode"

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

CP_DEBUGROOT=$CP_WORK/dbg
alt=$CP_DEBUGROOT/.dwz/x86_64-linux-gnu/dz.debug
mkdir -p "${alt%/*}"
debugs=()
for f in "$b/dzapp" "$b/libdz.so"; do
	id=$(cp_build_id "$f")
	mkdir -p "$CP_DEBUGROOT/.build-id/${id:0:2}"
	objcopy --only-keep-debug "$f" "$CP_DEBUGROOT/.build-id/${id:0:2}/${id:2}.debug"
	strip --strip-debug "$f"
	debugs+=("$CP_DEBUGROOT/.build-id/${id:0:2}/${id:2}.debug")
done
dwz -q -m "$alt" -M /usr/lib/debug/.dwz/x86_64-linux-gnu/dz.debug "${debugs[@]}" \
	2>"$CP_WORK/logs/dwz.err" || cp_fail "dwz failed" "$CP_WORK/logs/dwz.err"
[[ -f $alt ]] || cp_skip "dwz made no alt file from these objects"
for f in "${debugs[@]}"; do
	readelf --string-dump=.gnu_debugaltlink "$f" 2>/dev/null | grep -q /usr/lib/debug/.dwz/ ||
		cp_fail "$f has no .gnu_debugaltlink to /usr/lib/debug/.dwz/"
done

cp_crash "$CP_WORK/crash" "$b/dzapp"
report=$CP_WORK/logs/report.txt
bt_gdb "$CP_WORK/logs/gdb.out" "$b/dzapp" "$CP_CORE" -ex bt
bt_report "$report" "$CP_CORE" --debug-dir "$CP_DEBUGROOT"
cp_log "report from $BT_FROM:"
sed 's/^/  /' "$report"

cp_check "the inlined poke frame (its DIE is in the alt file), then lib_crash and main"
bt_frames "$report" >"$CP_WORK/logs/ours"
want=$(printf '%s\n' "poke	common.h:$(cp_line "$b/common.h" poke)" \
	"lib_crash	lib.c:$(cp_line "$b/lib.c" lib_crash)" \
	"main	main.c:$(cp_line "$b/main.c" main)")
[[ $(cat "$CP_WORK/logs/ours") == "$want" ]] ||
	cp_fail_later "frames are not poke, lib_crash, main with their lines"
grep -q '^#0  0x[0-9a-f]* poke (libdz.so) .*common.h:[0-9]* \[inlined\]$' "$report" ||
	cp_fail_later "frame #0 is not poke, inlined, in libdz.so"

cp_check "the frames are gdb's"
bt_gdb_frames "$CP_WORK/logs/gdb.out" >"$CP_WORK/logs/gdb-frames"
bt_compare "$CP_WORK/logs/ours" "$CP_WORK/logs/gdb-frames" "crashing thread"
cp_check "without the alt file: lib_crash and main, and no search for the alt file"
mv "$alt" "$alt.away"
bt_driver_init
out=$CP_WORK/logs/report-no-alt
st=0
if command -v strace >/dev/null; then
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -qq -e trace=open,openat -o "$CP_WORK/logs/strace" \
		"$BT_DRIVER" --debug-dir "$CP_DEBUGROOT" "$CP_CORE" >"$out" 2>&1 || st=$?
else
	"$BT_DRIVER" --debug-dir "$CP_DEBUGROOT" "$CP_CORE" >"$out" 2>&1 || st=$?
fi
((st == 0)) || cp_fail "bt-driver exited $st without the alt file" "$out"
sed 's/^/  /' "$out"
[[ $(bt_frames "$out" | cut -f1 | tr '\n' ' ') == "lib_crash main " ]] ||
	cp_fail_later "without the alt file the frames are not lib_crash, main"
if [[ -f $CP_WORK/logs/strace ]]; then
	main=$(head -n1 "$CP_WORK/logs/strace" | cut -d' ' -f1)
	grep -v "^$main " "$CP_WORK/logs/strace" |
		sed -n 's/.*open[at]*([^"]*"\([^"]*\)".*/\1/p' | sort -u >"$CP_WORK/logs/child-opens"
	sed 's/^/  opened: /' "$CP_WORK/logs/child-opens"
	if grep -v -e "^$CP_DEBUGROOT/" -e "^$b/" "$CP_WORK/logs/child-opens" >"$CP_WORK/logs/outside"; then
		cp_fail_later "the unwinder opened $(tr '\n' ' ' <"$CP_WORK/logs/outside")"
	fi
fi
cp_finish
