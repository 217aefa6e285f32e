#!/bin/bash
# A library built as clang builds by default, DWARF 5 without
# .debug_aranges, at -O2 with a static inline function inlined into the
# exported function that crashes, and with -ffile-prefix-map: libdw 0.188
# finds no compilation unit for its addresses through aranges, so the
# summary used to show the outer function without a line.  gdb reads the
# units' own ranges and shows the inlined function and its line.  The
# summary, report.txt and manifest.json show what gdb shows, with the DWARF
# in the library and in a separate debug file, and the file names the
# prefix map wrote.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
. "$CP_E2E_DIR/bt-lib.sh"
cp_init
cp_need clang:clang
[[ $CP_SELFCHECK != 1 ]] || cp_skip "nothing to check against gdb in SELFCHECK mode"

b=$CP_WORK/b
mkdir -p "$b"
cat >"$b/lib.c" <<'PROG'
#include <stdio.h>

struct counter {
	volatile int *slot;
	int step;
};

static inline void bump(struct counter *c, int v)
{
	*c->slot = v * c->step; /* LINE:bump */
}

__attribute__((noinline)) int lib_crash(volatile int *p, int v)
{
	struct counter c = {p, v + 1};
	bump(&c, v); /* LINE:lib_crash */
	printf("%d\n", c.step);
	return c.step;
}
PROG
cat >"$b/main.c" <<'PROG'
int lib_crash(volatile int *p, int v);

int main(int argc, char **argv)
{
	(void)argv;
	return lib_crash((volatile int *)0, argc); /* LINE:main */
}
PROG

CP_DEBUGROOT=$CP_WORK/dbg
mkdir -p "$CP_DEBUGROOT"
for v in in-object split; do
	d=$b/$v
	mkdir -p "$d"
	clang -gdwarf-5 -O2 -ffile-prefix-map="$b"=/src -fPIC -shared -Wl,--build-id \
		-o "$d/libc5.so" "$b/lib.c"
	clang -gdwarf-5 -O0 -ffile-prefix-map="$b"=/src -Wl,--build-id -o "$d/app" "$b/main.c" \
		-L"$d" -lc5 -Wl,-rpath,"$d"
	for f in "$d/libc5.so" "$d/app"; do
		readelf -SW "$f" >"$CP_WORK/logs/sections"
		readelf --debug-dump=info "$f" >"$CP_WORK/logs/info" 2>/dev/null
		grep -q '\.debug_aranges' "$CP_WORK/logs/sections" &&
			cp_fail "clang wrote .debug_aranges into $f: this tests nothing"
		grep -q 'Version: *5$' "$CP_WORK/logs/info" || cp_fail "$f has no DWARF 5 unit"
	done
	if [[ $v == split ]]; then
		id=$(cp_build_id "$d/libc5.so")
		mkdir -p "$CP_DEBUGROOT/.build-id/${id:0:2}"
		objcopy --only-keep-debug "$d/libc5.so" "$CP_DEBUGROOT/.build-id/${id:0:2}/${id:2}.debug"
		strip --strip-debug "$d/libc5.so"
	fi
	cp_crash "$CP_WORK/crash-$v" "$d/app"
	cp_check "$v: the inlined bump, lib_crash and main with their lines, as gdb shows them"
	bt_gdb "$CP_WORK/logs/gdb-$v" "$d/app" "$CP_CORE" -ex bt
	bt_bundle "$CP_WORK/out-$v" "$CP_CORE" --debug-dir "$CP_DEBUGROOT"
	r=$CP_WORK/out-$v/report.txt
	sed -n '/^thread/,$p' "$r" | sed 's/^/  /'
	bt_same_as_gdb "$CP_WORK/out-$v" "$CP_WORK/logs/gdb-$v" "$v"
	want=$(printf '%s\n' "bump	lib.c:$(cp_line "$b/lib.c" bump)" \
		"lib_crash	lib.c:$(cp_line "$b/lib.c" lib_crash)" \
		"main	main.c:$(cp_line "$b/main.c" main)")
	[[ $(cat "$CP_WORK/out-$v/ours") == "$want" ]] ||
		cp_fail_later "$v: the frames are not bump (inlined), lib_crash, main with their lines"
	grep -q '^#0  0x[0-9a-f]* bump (libc5.so) /src/lib.c:[0-9]* \[inlined\]$' "$r" ||
		cp_fail_later "$v: frame #0 is not bump, inlined, in /src/lib.c (the prefix map's name)"
	[[ $(jq -r '.crash.frames[0].file' "$CP_WORK/out-$v/manifest.json") == /src/lib.c ]] ||
		cp_fail_later "$v: manifest.json's frame 0 is not in /src/lib.c"
done
cp_finish
