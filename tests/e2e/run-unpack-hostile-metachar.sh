#!/bin/bash
# Manifest values with shell and gdb metacharacters.  Decision: a path is
# data, quoted for sh (cp_quote_sh) and gdb (cp_quote_gdb_arg), never
# refused for $ ( ) ` ' " ; | & or spaces.  What no quoting hands to gdb
# intact is refused with a clear message: a control character (the
# manifest check), a '~' after a space in the executable's path (gdb 13
# tilde-expands it, in a `file` command and on its command line alike, and
# would open another file), and with --trust a libthread_db directory with
# ':' (gdb splits its search path there).
#  1. A real program built in a directory named with $(...), backticks,
#     quotes, ';', '|', '&' and spaces crashes; the round trip runs none of
#     it, and gdb loads that executable through ./run-gdb.sh and through
#     `gdb -nx -x corepack.gdb` (its frames show).
#  2. The same in a directory "t ~root": refused, naming the path.
#  3. Crafted manifests: a libthread_db directory with ':' (with --trust),
#     an executable path with a newline: refused.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cp_init
cu_need_unpack

evil="ev il\$(touch PWNED-dollar)\`touch PWNED-backtick\`'q\"d;touch PWNED-semi|x&y"
CU_SRC=$CP_PROGS/threads.c
dir=$CP_WORK/b/$evil
mkdir -p "$dir"
gcc "${CP_CFLAGS[@]}" -pthread -o "$dir/threads" "$CU_SRC"
cp_crash "$CP_WORK/crash" "$dir/threads"
cp_pack "$CP_CORE" "$CP_WORK/evil.tar.zst"
exe=$(tar -xOf "$CP_BUNDLE_FILE" --wildcards '*/manifest.json' 2>/dev/null | jq -r .gdb.executable)
[[ $exe == "$dir/threads" ]] || cp_fail "the manifest's executable is '$exe', expected '$dir/threads'"

mkdir -p "$CP_WORK/scratch"
cu_unpack "$CP_UNPACK/u" "$CP_BUNDLE_FILE"
cu_expect_no_marker "after unpacking"
cu_check_unpacked "$CP_UNPACK/u"
cp_check "run-gdb.sh holds the path as one sh-quoted word"
grep -q -F "exe='$CP_WORK/b/ev il\$(touch PWNED-dollar)\`touch PWNED-backtick\`'\\''q\"d;touch PWNED-semi|x&y/threads'" \
	"$CP_UNPACK/u/run-gdb.sh" || cp_fail "exe= is not the sh-quoted path" "$CP_UNPACK/u/run-gdb.sh"

cp_check "./run-gdb.sh runs nothing from the path and gdb loads that executable"
cu_run_gdb "$CP_WORK/logs/gdb.out" "$CP_UNPACK/u" -ex 'info inferiors'
cu_expect_no_marker "after ./run-gdb.sh"
(cd "$CP_WORK/scratch" && cu_expect_no_marker "after ./run-gdb.sh, in its working directory")
grep -q -F "$CP_UNPACK/u/sysroot$dir/threads" "$CP_WORK/logs/gdb.out" ||
	cp_fail "gdb did not name the executable under sysroot/" "$CP_WORK/logs/gdb.out"
cp_gdb_mark -ex bt
(cd "$CP_UNPACK/u" && gdb -nx -batch -x corepack.gdb "${CP_GDB_ARGS[@]}") </dev/null >"$CP_WORK/logs/gdb-x.out" 2>&1 ||
	cp_fail "gdb -nx -x corepack.gdb failed" "$CP_WORK/logs/gdb-x.out"
cp_assert_frames "$CP_WORK/logs/gdb-x.out" "crash_gamma threads.c:$(cp_line "$CU_SRC" crash_gamma)"
cu_expect_no_marker "after gdb -x corepack.gdb"

# 2. A '~' after a space.
cu_box
tdir="$CP_WORK/t ~root/x"
mkdir -p "$tdir"
gcc "${CP_CFLAGS[@]}" -pthread -o "$tdir/threads" "$CU_SRC"
cp_crash "$CP_WORK/crash2" "$tdir/threads"
cp_pack "$CP_CORE" "$CP_WORK/tilde.tar.zst"
cu_expect_refused "$CP_WORK/tilde.tar.zst" \
	"the executable '$tdir/threads' cannot be handed to gdb: gdb would not open that file \(.*'~' after a space"

# 3. Values no quoting carries.
cu_craft "$CP_WORK/colon.tar.zst" <<'PY'
b = Bundle.synthetic()
b.manifest['gdb']['thread_db_dir'] = '/usr/lib:/tmp'
b.write(out)
PY
cu_expect_refused_trust() {
	local log=$CP_WORK/logs/trust
	cu_run "$log" "$CU_BOX" --trust -C out "$1"
	[[ $CU_ST == 1 ]] || cp_fail "--trust: exit $CU_ST, expected 1" "$log.out" "$log.err"
	grep -q -E "$2" "$log.err" || cp_fail "--trust: stderr does not match /$2/" "$log.err"
	[[ ! -e $CU_BOX/out ]] || cp_fail "--trust: out/ left behind"
}
cu_expect_refused_trust "$CP_WORK/colon.tar.zst" \
	"the libthread_db directory '/usr/lib:/tmp' cannot be handed to gdb: a ':' would split"
# Without --trust the directory is not used, and the bundle is fine.
cu_run "$CP_WORK/logs/colon" "$CU_BOX" -C ok "$CP_WORK/colon.tar.zst"
[[ $CU_ST == 0 ]] || cp_fail "without --trust: exit $CU_ST" "$CP_WORK/logs/colon.err"

cu_craft "$CP_WORK/newline.tar.zst" <<'PY'
b = Bundle.synthetic()
b.manifest['objects'][0]['real_path'] = '/usr/bin/app\n; touch PWNED'
b.write(out)
PY
cu_expect_refused "$CP_WORK/newline.tar.zst" \
	"manifest\.json: objects\[0\]\.real_path: '/usr/bin/app\\\\x0a; touch PWNED' has a control character"
cp_finish
