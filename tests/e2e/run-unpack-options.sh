#!/bin/bash
# Every option and exit status of coreunpack on crafted bundles (no core
# needed): usage errors, --help and --version, --list (prints the crash,
# every object with its build-id, status and debug file, the warnings and
# report.txt, and writes nothing), unpacking into the working directory,
# never overwriting without -f, -f replacing every name, masked modes,
# -q and -v, the warnings printed after unpacking, and SIGTERM in the
# middle of an unpack leaving nothing behind.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
log=$CP_WORK/logs/run

cp_check "usage errors exit 2 with one message and the --help hint"
for args in "" "a.tar.zst b.tar.zst" "--no-such-option x" "-C" "-C '' x" "--list -C d x" "--list -f x" "--list --trust x"; do
	eval "cu_run \"\$log\" \"\$CU_BOX\" $args"
	[[ $CU_ST == 2 ]] || cp_fail "coreunpack $args: exit $CU_ST, expected 2" "$log.err"
	grep -q "^Try 'coreunpack --help' for more information.$" "$log.err" ||
		cp_fail "coreunpack $args: no --help hint" "$log.err"
done
cu_run "$log" "$CU_BOX" --help
[[ $CU_ST == 0 ]] && grep -q '^Usage: coreunpack \[OPTION\]... BUNDLE$' "$log.out" ||
	cp_fail "--help" "$log.out"
for w in --directory --force --list --trust --quiet --verbose --version "200000 names" "4096-byte" "255-byte" "1 TiB" "16 MiB" "8192 objects"; do
	grep -q -F -- "$w" "$log.out" || cp_fail "--help does not mention '$w'" "$log.out"
done
cu_run "$log" "$CU_BOX" -V
# (coreunpack does not link elfutils: it has no version of it to print)
[[ $CU_ST == 0 ]] && grep -q '^coreunpack [0-9]' "$log.out" && grep -q libarchive "$log.out" &&
	! grep -q elfutils "$log.out" || cp_fail "-V" "$log.out"

# A bundle with something to say: warnings, a mismatched object, one
# without a debug file, one with, a report.
cu_craft "$b/rich.tar.zst" <<'PY'
b = Bundle.synthetic()
b.file('sysroot/usr/lib/libok.so.1', b'ok library\n', mode=0o600)
b.file('debug/.build-id/cd/' + 'ef' * 19 + '.debug', b'debug info\n', mode=0o777)
b.dir('sysroot/usr/share', mode=0o700)
b.symlink('sysroot/lib', 'usr/lib')
b.file('report.txt', b'backtrace at packing time:\n#0 crash () at app.c:3\n\x1b[31mred\x1b[0m\n')
b.manifest['warnings'] = ["'/usr/lib/libgone.so': replaced after the crash"]
b.manifest['objects'] += [
    {'path': '/usr/lib/libok.so.1', 'role': 'library', 'status': 'ok',
     'real_path': '/usr/lib/libok.so.1', 'bundle_path': 'sysroot/usr/lib/libok.so.1',
     'build_id_core': 'cd' + 'ef' * 19, 'debug_status': 'found',
     'debug': [{'kind': 'debug', 'found_by': 'build-id',
                'bundle_path': 'debug/.build-id/cd/' + 'ef' * 19 + '.debug'}]},
    {'path': '/usr/lib/libgone.so', 'role': 'library', 'status': 'mismatch',
     'detail': 'the file has another build-id', 'real_path': '/usr/lib/libgone.so',
     'bundle_path': None, 'debug': []},
]
b.write(out)
PY

cp_check "--list prints the crash, the objects, the warnings and the report, and writes nothing"
cu_snapshot "$CP_WORK/logs/before"
cu_run "$log" "$CU_BOX" -l "$b/rich.tar.zst"
[[ $CU_ST == 0 ]] || cp_fail "--list: exit $CU_ST" "$log.err"
[[ ! -s $log.err ]] || cp_fail "--list wrote to stderr" "$log.err"
for re in "^host: +origin" "^executable: +/usr/bin/app$" "^command: +/usr/bin/app --crash$" \
	"^signal: +11 \(SIGSEGV\)" "^objects: +3$" \
	"^(abab){10} +ok +[0-9.]+ B /usr/bin/app$" \
	"^cd(ef){19} +ok +[0-9.]+ B /usr/lib/libok.so.1$" \
	"^    debug debug/.build-id/cd/(ef){19}.debug \([0-9.]+ B, found by build-id\)$" \
	"^- +mismatch +- /usr/lib/libgone.so$" \
	"^warnings:$" "^  '/usr/lib/libgone.so': replaced after the crash$" \
	"^  '/usr/lib/libgone.so': mismatch \(the file has another build-id\); not in the bundle$" \
	"^  '/usr/bin/app': no debug file in the bundle" \
	"^report.txt:$" "^#0 crash \(\) at app.c:3$" '^\\x1b\[31mred\\x1b\[0m$'; do
	grep -q -E -- "$re" "$log.out" || cp_fail "--list output has no line /$re/" "$log.out"
done
cu_snapshot "$CP_WORK/logs/after"
diff "$CP_WORK/logs/before" "$CP_WORK/logs/after" >/dev/null || cp_fail "--list wrote files"

cp_check "unpacking into the working directory; modes masked; warnings on stderr; the next command"
cu_run "$log" "$CU_BOX/a/b/here" "$b/rich.tar.zst"
[[ $CU_ST == 0 ]] || cp_fail "exit $CU_ST" "$log.out" "$log.err"
h=$CU_BOX/a/b/here
cu_check_unpacked "$h"
[[ $(stat -c %a "$h/sysroot/usr/lib/libok.so.1") == 644 ]] || cp_fail "a 0600 file is not 0644"
[[ $(stat -c %a "$h/debug/.build-id/cd/$(printf 'ef%.0s' {1..19}).debug") == 755 ]] || cp_fail "a 0777 file is not 0755"
[[ $(stat -c %a "$h/sysroot/usr/share") == 755 ]] || cp_fail "a 0700 directory is not 0755"
[[ $(readlink "$h/sysroot/lib") == usr/lib ]] || cp_fail "the symlink sysroot/lib is not there"
[[ $(tail -n1 "$log.out") == "next: ./run-gdb.sh" ]] || cp_fail "next command is not ./run-gdb.sh" "$log.out"
grep -q "^coreunpack: warning: '/usr/lib/libgone.so': replaced after the crash$" "$log.err" &&
	grep -q "^coreunpack: warning: '/usr/lib/libgone.so': mismatch (the file has another build-id); not in the bundle$" "$log.err" &&
	grep -q "^coreunpack: warning: '/usr/bin/app': no debug file in the bundle" "$log.err" ||
	cp_fail "warnings missing from stderr" "$log.err"
grep -q 'libok.so.1' "$log.err" && cp_fail "a warning about libok.so.1, which is fine" "$log.err"

cp_check "never overwrite: any existing name stops it before it writes anything"
cu_snapshot "$CP_WORK/logs/before"
cu_run "$log" "$CU_BOX/a/b/here" "$b/rich.tar.zst"
[[ $CU_ST == 1 ]] || cp_fail "second unpack: exit $CU_ST, expected 1" "$log.err"
grep -q -x "coreunpack: './core' already exists; not overwriting it (-f replaces it)" "$log.err" ||
	cp_fail "wrong message for an existing name" "$log.err"
rm -rf "${h:?}"/*
echo mine >"$h/report.txt"
cu_snapshot "$CP_WORK/logs/before"
cu_run "$log" "$CU_BOX/a/b" -C here "$b/rich.tar.zst"
[[ $CU_ST == 1 ]] && grep -q -x "coreunpack: 'here/report.txt' already exists; not overwriting it (-f replaces it)" "$log.err" ||
	cp_fail "an existing report.txt is not protected" "$log.err"
cu_snapshot "$CP_WORK/logs/after"
diff "$CP_WORK/logs/before" "$CP_WORK/logs/after" >"$CP_WORK/logs/changes" || cp_fail "refused, yet files changed" "$CP_WORK/logs/changes"

cp_check "-f replaces, and removes a stale name the new bundle lacks; -q prints nothing"
cu_run "$log" "$CU_BOX/a/b" -f -C here "$b/rich.tar.zst"
[[ $CU_ST == 0 ]] || cp_fail "-f: exit $CU_ST" "$log.err"
grep -q 'backtrace at packing time' "$h/report.txt" || cp_fail "-f did not replace report.txt"
cu_craft "$b/plain.tar.zst" <<'PY'
b = Bundle.synthetic()
b.manifest['objects'][0]['debug_status'] = 'in-object'
b.write(out)
PY
cu_run "$log" "$CU_BOX/a/b" -q -f -C here "$b/plain.tar.zst"
[[ $CU_ST == 0 ]] || cp_fail "-q -f: exit $CU_ST" "$log.err"
[[ ! -s $log.out && ! -s $log.err ]] || cp_fail "-q printed something" "$log.out" "$log.err"
[[ ! -e $h/report.txt && ! -e $h/debug ]] || cp_fail "-f left the old bundle's report.txt or debug/"
cu_check_unpacked "$h"

cp_check "-v lists every file; --trust without a libthread_db warns"
cu_run "$log" "$CU_BOX/a/b" -v --trust -C verbose "$b/plain.tar.zst"
[[ $CU_ST == 0 ]] || cp_fail "-v: exit $CU_ST" "$log.err"
grep -q '^  sysroot/usr/bin/app (' "$log.out" && grep -q '^  core (' "$log.out" ||
	cp_fail "-v does not list the files" "$log.out"
grep -q "^coreunpack: warning: --trust: the bundle has no libthread_db" "$log.err" ||
	cp_fail "--trust without libthread_db: no warning" "$log.err"
[[ $(tail -n1 "$log.out") == "next: verbose/run-gdb.sh" ]] || cp_fail "next command" "$log.out"
rm -rf "$CU_BOX/a/b/verbose"

cp_check "SIGTERM while unpacking: exit 1, nothing left"
cu_craft "$b/big.tar" <<'PY'
import random
random.seed(5)
b = Bundle.synthetic(core=bytes(random.getrandbits(8) for _ in range(4 << 20)))
b.write(out)
PY
mkfifo "$CP_WORK/logs/fifo"
# Half the bundle, then the writer holds the pipe open.
(head -c $((2 << 20)) "$b/big.tar"; exec sleep 60) >"$CP_WORK/logs/fifo" &
writer=$!
"$COREUNPACK" -C "$CU_BOX/a/b/sig" "$CP_WORK/logs/fifo" >"$log.out" 2>"$log.err" &
pid=$!
for _ in $(seq 100); do
	compgen -G "$CU_BOX/a/b/sig/.coreunpack-*" >/dev/null && break
	sleep 0.1
done
compgen -G "$CU_BOX/a/b/sig/.coreunpack-*" >/dev/null || cp_fail "coreunpack made no temporary directory"
sleep 0.3
kill -TERM "$pid"
st=0
wait "$pid" || st=$?
kill "$writer" 2>/dev/null || true
wait "$writer" 2>/dev/null || true
[[ $st == 1 ]] || cp_fail "after SIGTERM: exit $st, expected 1" "$log.err"
grep -q -x "coreunpack: '$CP_WORK/logs/fifo': interrupted; nothing was unpacked" "$log.err" ||
	cp_fail "after SIGTERM: wrong message" "$log.err"
[[ ! -e $CU_BOX/a/b/sig ]] || cp_fail "after SIGTERM: $CU_BOX/a/b/sig is left: $(ls -A "$CU_BOX/a/b/sig")"
cp_finish
