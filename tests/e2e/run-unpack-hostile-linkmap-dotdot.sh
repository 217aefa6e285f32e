#!/bin/bash
# Names in the core's memory that lead gdb out of the bundle (issue 19,
# kind 7).  gdb reads the shared objects' names from the loader's link_map
# in the core and opens each at the sysroot plus the name (a relative one
# from its working directory): "/../../tmp/fifo" left the sysroot, gdb
# opened host files, and a FIFO there hung it beyond SIGTERM.  coreunpack
# now resolves every name gdb will read (link_map, and the executable's
# PT_INTERP) in the unpacked tree before it writes run-gdb.sh.
#  1. A real program whose library is found through $ORIGIN/../lib
#     ("/.../bin/../lib/libfoo.so", inside): unpacked, and gdb shows its
#     frames (under a timeout).
#  2. A real crash of a program that dlopened a plugin; its core's l_name
#     is rewritten to "/.." x 40 + a FIFO (control: gdb on the plain tar
#     extraction hangs on it, killed after 15 s), to a relative name with
#     ".." that climbs out of the bundle from gdb's working directory (the
#     executable's directory below sysroot/), and to a plain relative name:
#     the first two are refused naming the name, the last unpacks and gdb
#     finishes.
#  3. A real program built with the dynamic linker named
#     "/../../../../../../lib64/ld-linux-x86-64.so.2": refused (gdb would
#     open the host's loader).
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cp_init
cu_need_unpack
cu_box

src=$CP_WORK/src
mkdir -p "$src" "$CP_WORK/trap" "$CP_WORK/scratch"
mkfifo "$CP_WORK/trap/fifo"

# timed_gdb OUT DIR: DIR/run-gdb.sh -batch -ex bt from the scratch
# directory, killed after 60 s; its status in GDB_ST.
timed_gdb() {
	GDB_ST=0
	(cd "$CP_WORK/scratch" && exec timeout -s KILL 60 "$2/run-gdb.sh" -batch -ex bt) \
		</dev/null >"$1" 2>&1 || GDB_ST=$?
	((GDB_ST != 137)) || cp_fail "gdb hung (killed after 60 s)" "$1"
}

cp_check "a library found through \$ORIGIN/../lib (a name with '..' inside the bundle) is fine"
mkdir -p "$CP_WORK/o/bin" "$CP_WORK/o/lib"
printf 'int foo(int *p)\n{\n\treturn *p; /* LINE:foo */\n}\n' >"$src/foo.c"
printf 'int foo(int *p);\nint main(void)\n{\n\treturn foo(0);\n}\n' >"$src/main.c"
gcc "${CP_CFLAGS[@]}" -shared -fPIC -o "$CP_WORK/o/lib/libfoo.so" "$src/foo.c"
gcc "${CP_CFLAGS[@]}" -o "$CP_WORK/o/bin/app" "$src/main.c" -L"$CP_WORK/o/lib" -lfoo \
	-Wl,-rpath,'$ORIGIN/../lib'
cp_crash "$CP_WORK/crash1" "$CP_WORK/o/bin/app"
cp_pack "$CP_CORE" "$CP_WORK/origin.tar.zst"
cu_unpack "$CP_UNPACK/origin" "$CP_BUNDLE_FILE"
timed_gdb "$CP_WORK/logs/gdb-origin.out" "$CP_UNPACK/origin"
cp_assert_frames "$CP_WORK/logs/gdb-origin.out" "foo foo.c:$(cp_line "$src/foo.c" foo)"

cp_check "link_map names rewritten in a real core"
long=$CP_WORK/b/$(printf 'p%.0s' {1..200})
mkdir -p "$long"
printf 'int plug(int x)\n{\n\treturn x + 1;\n}\n' >"$src/plug.c"
cat >"$src/app.c" <<'EOF'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv)
{
	void *h = dlopen(argv[1], RTLD_NOW);
	if (!h)
		return 1;
	int (*f)(int) = (int (*)(int))dlsym(h, "plug");
	volatile int *p = 0;
	*p = f(1);
	return 0;
}
EOF
gcc "${CP_CFLAGS[@]}" -shared -fPIC -o "$long/libplug.so" "$src/plug.c"
gcc "${CP_CFLAGS[@]}" -o "$CP_WORK/b/app" "$src/app.c" -ldl
cp_crash "$CP_WORK/crash2" "$CP_WORK/b/app" "$long/libplug.so"
cp_pack "$CP_CORE" "$CP_WORK/plug.tar.zst"

export BUNDLE=$CP_BUNDLE_FILE OLD=$long/libplug.so
# rewrite OUT NEW: the bundle with every copy of the plugin's name in the
# core's memory replaced by NEW (NUL-padded to the same length).
rewrite() {
	NEW=$2 cu_craft "$1" <<'PY'
b = Bundle.load(os.environ['BUNDLE'])
old, new = os.environ['OLD'].encode() + b'\0', os.environ['NEW'].encode()
assert len(new) < len(old), (len(new), len(old))
core = b.find('core')[1]
n = core.count(old)
assert n > 0, 'the name is not in the core'
b.replace('core', core.replace(old, new + b'\0' * (len(old) - len(new))))
b.write(out)
PY
}

escape=$(printf '/..%.0s' {1..40})$CP_WORK/trap/fifo
rewrite "$CP_WORK/escape.tar.zst" "$escape"
cp_check "control: gdb on the plain extraction of that bundle hangs on the FIFO"
mkdir -p "$CP_WORK/raw"
tar -C "$CP_WORK/raw" -xf "$CP_WORK/escape.tar.zst"
st=0
(cd "$CP_WORK"/raw/* && exec timeout -s KILL 15 gdb -nx -batch -x corepack.gdb -ex bt) \
	</dev/null >"$CP_WORK/logs/control.out" 2>&1 || st=$?
[[ $st == 137 ]] || cp_fail "control: gdb did not hang on the FIFO (exit $st)" "$CP_WORK/logs/control.out"

cp_check "coreunpack refuses it, naming the name"
cu_expect_refused "$CP_WORK/escape.tar.zst" \
	"link_map name \(in the core's memory\) '(/\.\.)+/.*/trap/fifo' leads out of the bundle: gdb would open 'sysroot(/\.\.)+/"

rewrite "$CP_WORK/relative-up.tar.zst" "../../../../../../../..$CP_WORK/trap/fifo"
cu_expect_refused "$CP_WORK/relative-up.tar.zst" \
	"link_map name \(in the core's memory\) '(\.\./)+.*/trap/fifo' leads out of the bundle: gdb would open it from 'sysroot/.*/'"

cp_check "a plain relative name: unpacked; gdb finishes"
rewrite "$CP_WORK/relative.tar.zst" "libplug-relative.so"
cu_unpack "$CP_UNPACK/relative" "$CP_WORK/relative.tar.zst"
timed_gdb "$CP_WORK/logs/gdb-relative.out" "$CP_UNPACK/relative"

cp_check "an executable whose PT_INTERP climbs out of the sysroot is refused"
interp=/../../../../../../lib64/ld-linux-x86-64.so.2
if [[ -e /lib64/ld-linux-x86-64.so.2 && $(uname -m) == x86_64 ]]; then
	gcc "${CP_CFLAGS[@]}" -o "$CP_WORK/b/app-interp" "$src/app.c" -ldl -Wl,--dynamic-linker=$interp
	cp_crash "$CP_WORK/crash3" "$CP_WORK/b/app-interp" "$long/libplug.so"
	cp_pack "$CP_CORE" "$CP_WORK/interp.tar.zst"
	cu_expect_refused "$CP_WORK/interp.tar.zst" \
		"(the executable's PT_INTERP|link_map name \(in the core's memory\)) '$interp' leads out of the bundle"
else
	cp_log "no /lib64/ld-linux-x86-64.so.2 on x86_64 here: the PT_INTERP case is not run"
fi
cp_finish
