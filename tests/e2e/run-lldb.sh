#!/bin/bash
# lldb on a bundle, abroad.  The app crashes in its shared library called
# from a plugin it dlopened, all three stripped with their debug info placed
# three ways (lib.sh's trio).  Pack, unpack with coreunpack into a new
# directory whose name lldb's command parser would trip on (a space, '"',
# '`', '\'), hide the originals and /usr/lib/debug, and run the unpacked
# ./run-lldb.sh in batch mode: every frame has its function and file:line,
# and every module lldb loaded is the bundle's (no library of this machine).
# The bundle's own run-lldb.sh is checked too (it is what a tool that does
# not use coreunpack runs).
#
# Then a bundle whose debug files are dwz-compressed (dwz -m, Debian's
# layout): corepack, coreunpack and run-lldb.sh each say that lldb 14
# cannot read them, naming the objects; the trio's bundle says nothing of
# the kind.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cp_init
cu_need_unpack
cp_need lldb:lldb
[[ $CP_SELFCHECK != 1 ]] || cp_skip "run-lldb.sh is corepack's: nothing to check in SELFCHECK mode"

# lldb_frames FILE: the frames of the first "bt" in FILE (lldb's output
# with its command echo), as "func<TAB>file:line" ("func<TAB>" without a
# source position).  lldb prints a frame as
#   "  * frame #0: 0x00007f... libcrash.so.1`crash_store(where=0x0) at libcrash.c:45:9"
# with arguments that may hold anything (strings, "main=(app`main at
# app.c:33:1)"): the function is what follows the first '`' up to '(',
# ' + ' or ' at ', and the position the last " at FILE:LINE[:COL]" ending
# the line.  Lines before "(lldb) bt" and after the next "(lldb) " are not
# the backtrace; Python tracebacks from Debian's lldb 14 (its missing
# lldb.embedded_interpreter) are not frames.
lldb_frames() {
	awk '
		/^\(lldb\) bt$/ { on = 1; next }
		on && /^\(lldb\) / { exit }
		on && /^[ *]*frame #[0-9]+: / { print }' "$1" |
		while IFS= read -r line; do
			fn='??'
			at=
			if [[ $line =~ frame\ \#[0-9]+:\ 0x[0-9a-f]+\ [^\`]*\`([^\(\ ]+) ]]; then
				fn=${BASH_REMATCH[1]}
			fi
			if [[ $line =~ \ at\ ([^[:space:]:]+):([0-9]+)(:[0-9]+)?$ ]]; then
				at=${BASH_REMATCH[1]##*/}:${BASH_REMATCH[2]}
			fi
			printf '%s\t%s\n' "$fn" "$at"
		done
}

# lldb_assert_frames FILE SPEC...: the backtrace in FILE starts with the
# frames "FUNC FILE:LINE", in order.
lldb_assert_frames() {
	local file=$1 frames=() k=0 spec fn at
	shift
	mapfile -t frames < <(lldb_frames "$file")
	((${#frames[@]} > 0)) || cp_fail "no backtrace in lldb's output" "$file"
	for spec in "$@"; do
		((k < ${#frames[@]})) || cp_fail "the backtrace ends before '$spec' (expected: $*)" "$file"
		fn=${frames[k]%%$'\t'*}
		at=${frames[k]#*$'\t'}
		[[ $fn == "${spec%% *}" && $at == "${spec#* }" ]] ||
			cp_fail "frame #$k is '$fn' at '$at', expected '$spec' (expected: $*)" "$file"
		k=$((k + 1))
	done
}

# lldb_assert_modules FILE DIR: lldb's "image list -f" in FILE lists modules,
# every one from under DIR but for the vDSO, which lldb reads from the core.
lldb_assert_modules() {
	local file=$1 dir=$2 path n=0
	while IFS= read -r path; do
		n=$((n + 1))
		case $path in
		"$dir"/*) ;;
		'[vdso]' | linux-vdso.so.1) ;;
		*) cp_fail "lldb loaded '$path' from outside the bundle ($dir)" "$file" ;;
		esac
	done < <(awk '
		/^\(lldb\) image list -f$/ { on = 1; next }
		on && /^\(lldb\) / { exit }
		on && /^\[ *[0-9]+\] / { sub(/^\[ *[0-9]+\] /, ""); sub(/ *\(0x[0-9a-f]+\) *$/, ""); sub(/ +$/, ""); print }' "$file")
	((n >= 5)) || cp_fail "lldb's image list has $n modules, expected the app, libcrash, the plugin, libc and the loader" "$file"
}

# lldb_run DIR OUT: DIR/run-lldb.sh in batch mode, originals hidden.
lldb_run() {
	local st=0
	cp_log "running: $1/run-lldb.sh --batch -o bt -o 'image list -f'"
	cp_hidden "$1/run-lldb.sh" --batch -o bt -o 'image list -f' </dev/null >"$2" 2>&1 || st=$?
	((st == 0)) || cp_fail "run-lldb.sh exited $st" "$2"
}

cp_build_trio
cp_trio_frames
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
cp_pack "$CP_CORE" "$CP_WORK/trio.tar.zst" --debug-dir "$CP_DEBUGROOT"
if grep -q 'lldb' "$CP_PACK_ERR"; then
	cp_fail "corepack speaks of lldb for a bundle without dwz files" "$CP_PACK_ERR"
fi

weird=$CP_UNPACK/'un packed "q" `x` \b'
cu_unpack "$weird" "$CP_BUNDLE_FILE"
cu_check_unpacked "$weird"
if grep -q 'lldb' "$CU_ERR"; then
	cp_fail "coreunpack speaks of lldb for a bundle without dwz files" "$CU_ERR"
fi
cp_extract "$CP_BUNDLE_FILE"
[[ -x $CP_BUNDLE_DIR/run-lldb.sh ]] || cp_fail "the bundle has no executable run-lldb.sh"
cp_hide_originals "$CP_WORK"

cp_check "coreunpack's run-lldb.sh: bt shows ${CP_FRAMES[*]}, every module from the bundle"
lldb_run "$weird" "$CP_WORK/logs/lldb.out"
lldb_assert_frames "$CP_WORK/logs/lldb.out" "${CP_FRAMES[@]}"
lldb_assert_modules "$CP_WORK/logs/lldb.out" "$weird"
if grep -q 'dwz' "$CP_WORK/logs/lldb.out"; then
	cp_fail "run-lldb.sh warns of dwz for a bundle without dwz files" "$CP_WORK/logs/lldb.out"
fi

cp_check "the bundle's own run-lldb.sh (extracted with tar) shows the same"
lldb_run "$CP_BUNDLE_DIR" "$CP_WORK/logs/lldb-tar.out"
lldb_assert_frames "$CP_WORK/logs/lldb-tar.out" "${CP_FRAMES[@]}"
lldb_assert_modules "$CP_WORK/logs/lldb-tar.out" "$(readlink -f "$CP_BUNDLE_DIR")"

cp_check "run-lldb.sh reads no .lldbinit: neither the user's nor the working directory's"
mkdir -p "$CP_UNPACK/home"
printf 'script print("PWNED-home")\nsettings set prompt PWNED-home\n' >"$CP_UNPACK/home/.lldbinit"
printf 'settings set prompt PWNED-cwd\n' >"$CP_UNPACK/home/.lldbinit-lldb"
(cd "$CP_UNPACK/home" && HOME=$CP_UNPACK/home cp_hidden "$weird/run-lldb.sh" --batch -o 'settings show prompt') \
	</dev/null >"$CP_WORK/logs/lldb-init.out" 2>&1 || cp_fail "run-lldb.sh failed" "$CP_WORK/logs/lldb-init.out"
if grep -q PWNED "$CP_WORK/logs/lldb-init.out"; then
	cp_fail "run-lldb.sh let lldb read a .lldbinit" "$CP_WORK/logs/lldb-init.out"
fi
grep -q '^prompt (string) = "(lldb) "' "$CP_WORK/logs/lldb-init.out" ||
	cp_fail "no 'settings show prompt' output" "$CP_WORK/logs/lldb-init.out"

# --- dwz ---------------------------------------------------------------------
cp_need dwz:dwz
b=$CP_WORK/dz
mkdir -p "$b"
cat >"$b/common.h" <<'PROG'
struct shared {
	int a;
	long b;
	const char *c;
};

static inline __attribute__((always_inline)) void poke(volatile int *p, int v)
{
	*p = v;
}
void lib_crash(struct shared *s);
PROG
cat >"$b/lib.c" <<'PROG'
#include "common.h"

void lib_crash(struct shared *s)
{
	poke((volatile int *)0, s->a);
}
PROG
cat >"$b/main.c" <<'PROG'
#include "common.h"

int main(void)
{
	static int scratch;
	struct shared s = {1, 2, "x"};
	poke(&scratch, 3);
	lib_crash(&s);
	return 0;
}
PROG
gcc "${CP_CFLAGS[@]}" -fPIC -shared -o "$b/libdz.so" "$b/lib.c"
gcc "${CP_CFLAGS[@]}" -o "$b/dzapp" "$b/main.c" -L"$b" -ldz -Wl,-rpath,"$b"
dbg=$CP_WORK/dzdbg
alt=$dbg/.dwz/x86_64-linux-gnu/dz.debug
mkdir -p "${alt%/*}"
debugs=()
for f in "$b/dzapp" "$b/libdz.so"; do
	id=$(cp_build_id "$f")
	mkdir -p "$dbg/.build-id/${id:0:2}"
	objcopy --only-keep-debug "$f" "$dbg/.build-id/${id:0:2}/${id:2}.debug"
	strip --strip-debug "$f"
	debugs+=("$dbg/.build-id/${id:0:2}/${id:2}.debug")
done
dwz -q -m "$alt" -M /usr/lib/debug/.dwz/x86_64-linux-gnu/dz.debug "${debugs[@]}" \
	2>"$CP_WORK/logs/dwz.err" || cp_fail "dwz failed" "$CP_WORK/logs/dwz.err"
[[ -f $alt ]] || cp_fail "dwz made no alt file from these objects"
cp_crash "$CP_WORK/dzcrash" "$b/dzapp"
cp_pack "$CP_CORE" "$CP_WORK/dz.tar.zst" --debug-dir "$dbg"

cp_check "corepack, coreunpack and run-lldb.sh say lldb 14 cannot read the dwz files, naming dzapp and libdz.so"
for f in dzapp libdz.so; do
	grep -q "^corepack: warning: '$b/$f': its debug file is dwz-compressed, which lldb 14 cannot read" "$CP_PACK_ERR" ||
		cp_fail "corepack does not warn that lldb cannot read $f's dwz debug file" "$CP_PACK_ERR"
done
cu_unpack "$CP_UNPACK/dz" "$CP_BUNDLE_FILE"
for f in dzapp libdz.so; do
	grep -q "^coreunpack: warning: '$b/$f': its debug file is dwz-compressed, which lldb 14 cannot read" "$CU_ERR" ||
		cp_fail "coreunpack does not warn that lldb cannot read $f's dwz debug file" "$CU_ERR"
done
"$CP_UNPACK/dz/run-lldb.sh" --batch -o bt </dev/null >"$CP_WORK/logs/lldb-dz.out" 2>&1 ||
	cp_fail "run-lldb.sh failed on the dwz bundle" "$CP_WORK/logs/lldb-dz.out"
grep -q '^run-lldb.sh: warning: the debug files of 2 object(s) in this bundle are dwz-compressed, which lldb 14 cannot read' \
	"$CP_WORK/logs/lldb-dz.out" ||
	cp_fail "run-lldb.sh does not warn of the 2 objects with dwz debug files" "$CP_WORK/logs/lldb-dz.out"
cp_log "lldb on the dwz bundle:"
lldb_frames "$CP_WORK/logs/lldb-dz.out" | sed 's/^/  /'
if [[ $(lldb --version 2>/dev/null) == 'lldb version 14.'* ]]; then
	cp_check "the warning is true of lldb 14: lib_crash, whose DWARF is dwz's, has no source line"
	lldb_frames "$CP_WORK/logs/lldb-dz.out" >"$CP_WORK/logs/lldb-dz.frames"
	grep -q -x $'lib_crash\t' "$CP_WORK/logs/lldb-dz.frames" ||
		cp_fail "lldb 14 shows lib_crash with a source line: the dwz warning is stale" "$CP_WORK/logs/lldb-dz.out"
fi
cp_report
