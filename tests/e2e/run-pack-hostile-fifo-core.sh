#!/bin/bash
# Issue 19, kind 14: a FIFO given as the core blocked corepack forever in
# open().  Every file corepack opens on a core's behalf is opened so that a
# FIFO cannot block it (O_NONBLOCK, or O_PATH and a check on the descriptor)
# and is refused as not a regular file: the core itself, a symlink to a
# FIFO, --list, a FIFO named by the core as a mapped object, a FIFO where a
# debug file is looked for.  Each case must end at once (a 20 s timeout
# turns a hang into a failure), with one error naming the file, or a
# warning for an object.
#
# The fix itself came with io.c (cp_open_regular, commit 8b7e7d2 of the
# structure work): corepack built from 8b7e7d2^ hangs on the first case.
source "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init
cp_need python3:python3 timeout:coreutils

cp_build_trio
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
w=$CP_WORK/in
mkdir -p "$w"
mkfifo "$w/fifo"
ln -s fifo "$w/link-to-fifo"
out=$CP_WORK/out
mkdir -p "$out"

# The timeout wraps corepack: a hang exits 124, not the 1 expected.
cp_expect_fail 1 "'$w/fifo': not a regular file" timeout 20 "$COREPACK" -o "$out/a.tar.zst" "$w/fifo"
cp_expect_fail 1 "'$w/link-to-fifo': not a regular file" timeout 20 "$COREPACK" -o "$out/b.tar.zst" "$w/link-to-fifo"
cp_expect_fail 1 "'$w/fifo': not a regular file" timeout 20 "$COREPACK" --list "$w/fifo"

cp_check "a FIFO named by the core as a mapped object: a warning, the pack goes on"
python3 "$CP_E2E_DIR/corecraft.py" "$CP_CORE" "$w/core" --rename "$CP_LIB=$w/fifo"
st=0
timeout 20 "$COREPACK" --no-backtrace -o "$out/c.tar.zst" "$w/core" >"$CP_WORK/logs/c.out" 2>"$CP_WORK/logs/c.err" || st=$?
((st == 0)) || cp_fail "corepack exited $st" "$CP_WORK/logs/c.err"
grep -q "^corepack: warning: '$w/fifo': missing: .*not a regular file" "$CP_WORK/logs/c.err" ||
	cp_fail "no warning naming the FIFO" "$CP_WORK/logs/c.err"

cp_check "FIFOs where debug files are looked for (build-id tree, debuglink): not waited on"
id=$(cp_build_id "$CP_APP")
mkdir -p "$w/dbg/.build-id/${id:0:2}"
mkfifo "$w/dbg/.build-id/${id:0:2}/${id:2}.debug"
mv "$CP_PLUGIN.debug" "$CP_WORK/plugin.debug.saved"
mkfifo "$CP_PLUGIN.debug"
st=0
timeout 20 "$COREPACK" --no-backtrace --debug-dir "$w/dbg" -o "$out/d.tar.zst" "$CP_CORE" >"$CP_WORK/logs/d.out" 2>"$CP_WORK/logs/d.err" || st=$?
((st == 0)) || cp_fail "corepack exited $st" "$CP_WORK/logs/d.err"
cp_log "RESULT every FIFO refused at once"
cp_finish
