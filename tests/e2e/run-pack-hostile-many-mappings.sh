#!/bin/bash
# Issue 19, kind 13: packing time grew with the square of the mapped objects
# (8,000 mappings took 50 s; 65,530 would take about 50 minutes): the packer
# compared every object with every one packed before (stat() each time),
# and placed link_map names, warnings and manifest links by walking lists.
# A real process with as many mappings as the kernel allows (65,530 by
# default), 8,000 of them of ELF files (250 files, each under 32 hard
# linked names, every other mapping executable: as many objects as a
# manifest holds, 8,192, allows), the rest anonymous: the pack must take
# seconds (asserted: under 20 s; the old code took about 50 s), store each
# file once (the other names of an inode as symlinks to it), and give a
# bundle coreunpack accepts.
source "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init
cp_need python3:python3

max=$(cat /proc/sys/vm/max_map_count)
((max >= 65530)) || cp_skip "vm.max_map_count is $max here, below the default 65530 this test needs"

gcc "${CP_CFLAGS[@]}" -o "$CP_WORK/manymaps" "$CP_PROGS/manymaps.c"
printf 'int f(void) { return 1; }\n' >"$CP_WORK/tiny.c"
gcc -shared -fPIC -Wl,--build-id -o "$CP_WORK/tiny.so" "$CP_WORK/tiny.c"
files=8000
mkdir "$CP_WORK/m"
python3 - "$CP_WORK/m" "$CP_WORK/tiny.so" <<'PY'
import os, shutil, sys
d, src = sys.argv[1], sys.argv[2]
for c in range(250):
    first = os.path.join(d, str(c * 32))
    shutil.copyfile(src, first)
    for k in range(1, 32):
        os.link(first, os.path.join(d, str(c * 32 + k)))
PY

cp_crash "$CP_WORK/run" "$CP_WORK/manymaps" 65530 "$CP_WORK/m" "$files"
made=$(sed -n 's/^\([0-9]*\) mappings$/\1/p' "$CP_WORK/run/.out")
phnum=$(readelf -hW "$CP_CORE" | sed -n 's/.*Number of program headers: *\([0-9]*\).*/\1/p')
cp_log "the process made $made mappings; the core has $phnum program headers"
((made >= 65000)) || cp_fail "only $made mappings made (vm.max_map_count $max)" "$CP_WORK/run/.out"
readelf -nW "$CP_CORE" >"$CP_WORK/logs/notes" 2>&1 || true
grep -q NT_FILE "$CP_WORK/logs/notes" || cp_fail "the core has no NT_FILE note: nothing to test" "$CP_WORK/logs/notes"

if [[ $CP_SELFCHECK == 1 ]]; then
	cp_log "PASS (selfcheck)"
	exit 0
fi

# The bound: 20 s, three times that for a sanitizer build (ASan and UBSan
# slow corepack about twofold; the machine may be busy).
bound=20
if nm "$COREPACK" 2>/dev/null | grep ' __asan_init$' >/dev/null; then
	bound=60
fi
cp_check "packing $made mappings ($files of files) takes seconds (bound: $bound s)"
start=$EPOCHREALTIME
"$COREPACK" --level 1 -o "$CP_WORK/mm.tar.zst" "$CP_CORE" >"$CP_WORK/logs/pack.out" 2>"$CP_WORK/logs/pack.err" ||
	cp_fail "corepack failed" "$CP_WORK/logs/pack.err"
secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
cp_log "RESULT packed $made mappings ($files names of 250 ELF files) in $secs s"
tail -n 1 "$CP_WORK/logs/pack.out"
awk -v s="$secs" -v b="$bound" 'BEGIN { exit !(s < b) }' ||
	cp_fail "packing took $secs s (the bound is $bound s; the code before issue 19 took about 50 minutes)"

cp_check "every name packed; each inode stored once, its other names as symlinks"
grep -qE "^$((files + 4)) objects packed \(" "$CP_WORK/logs/pack.out" ||
	cp_fail "not $((files + 4)) objects packed (the $files names, the program, the loader, libc, libthread_db): $(tail -n 1 "$CP_WORK/logs/pack.out")"
tar -tvf "$CP_WORK/mm.tar.zst" >"$CP_WORK/logs/list"
regular=$(grep -c "^-.* mm/sysroot$CP_WORK/m/" "$CP_WORK/logs/list" || true)
links=$(grep -c "^l.* mm/sysroot$CP_WORK/m/" "$CP_WORK/logs/list" || true)
((regular == 250 && links == files - 250)) ||
	cp_fail "$regular regular files and $links symlinks for the $files names (expected 250 and $((files - 250)))"

cp_check "coreunpack accepts the bundle"
"$COREUNPACK" --list "$CP_WORK/mm.tar.zst" >"$CP_WORK/logs/ulist" 2>"$CP_WORK/logs/ulist.err" ||
	cp_fail "coreunpack --list refused corepack's bundle" "$CP_WORK/logs/ulist.err"
cp_finish
