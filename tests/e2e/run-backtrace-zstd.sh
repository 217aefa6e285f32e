#!/bin/bash
# Debug sections compressed with zstd (SHF_COMPRESSED, ELFCOMPRESS_ZSTD),
# which libelf 0.188 cannot decompress and gdb 13 reads: a separate debug
# file compressed with `objcopy --compress-debug-sections=zstd`, a library
# linked with `ld --compress-debug-sections=zstd`, and dwz output (debug
# files and their alt file) compressed afterwards.  The summary, report.txt
# and manifest.json show gdb's frames with their lines.  Where a section
# cannot be read, the summary says why for that module: zstd data that is
# not a zstd frame (gdb shows the functions without lines, as the summary
# does), an unknown compression type (gdb loses the whole stack here), a
# size past corepack's cap.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
. "$CP_E2E_DIR/bt-lib.sh"
cp_init
cp_need python3:python3 dwz:dwz
[[ $CP_SELFCHECK != 1 ]] || cp_skip "nothing to check against gdb in SELFCHECK mode"

b=$CP_WORK/b
mkdir -p "$b"
# Enough DWARF that every debug section is worth compressing: objcopy and
# ld leave a section alone when compressing it would not make it smaller.
python3 - "$b" <<'PY'
import sys
b = sys.argv[1]
with open(b + "/common.h", "w") as h:
    for i in range(40):
        h.write("struct shared_%d { int a%d; long b%d; const char *c%d; double d%d; };\n" % ((i,) * 5))
    h.write("struct all {\n" + "".join("\tstruct shared_%d s%d;\n" % (i, i) for i in range(40)) + "};\n")
    h.write("static inline __attribute__((always_inline)) void poke(volatile int *p, int v)\n"
            "{\n\t*p = v; /* LINE:poke */\n}\n")
    h.write("int lib_crash(struct all *a, int v);\n")
with open(b + "/lib.c", "w") as c:
    c.write('#include "common.h"\n\n')
    for i in range(40):
        c.write("__attribute__((noinline)) int fill_%d(struct all *a, int x)\n{\n"
                "\ta->s%d.a%d = x + %d;\n\treturn a->s%d.a%d * 2;\n}\n\n" % (i, i, i, i, i, i))
    c.write("int lib_crash(struct all *a, int v)\n{\n"
            "\tint r = fill_39(a, v);\n"
            "\tpoke((volatile int *)0, r); /* LINE:lib_crash */\n\treturn r;\n}\n")
with open(b + "/main.c", "w") as c:
    c.write('#include "common.h"\n\nint main(void)\n{\n\tstatic struct all a;\n'
            "\tpoke(&a.s0.a0, 1);\n\treturn lib_crash(&a, 3); /* LINE:main */\n}\n")
PY
cat >"$b/elfedit.py" <<'PY'
# elfedit.py FILE SECTION WHAT: break the compressed SECTION of a 64-bit
# little-endian ELF FILE: WHAT is "type" (ch_type 3, a method no one
# knows), "frame" (zeros over the zstd frame's magic) or "size" (ch_size
# 1 TiB).
import struct, sys
path, want, what = sys.argv[1:4]
d = bytearray(open(path, "rb").read())
assert d[:4] == b"\x7fELF" and d[4] == 2 and d[5] == 1
shoff, = struct.unpack_from("<Q", d, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3a)
sh = lambda i: struct.unpack_from("<IIQQQQ", d, shoff + i * shentsize)
strtab = sh(shstrndx)[4]
for i in range(shnum):
    name, _, flags, _, off, _ = sh(i)
    if d[strtab + name:d.index(b"\0", strtab + name)].decode() != want:
        continue
    if not flags & 0x800:
        sys.exit(want + " is not compressed")
    if what == "type":
        struct.pack_into("<I", d, off, 3)
    elif what == "frame":
        d[off + 24:off + 28] = bytes(4)
    else:
        struct.pack_into("<Q", d, off + 8, 1 << 40)
    open(path, "wb").write(d)
    sys.exit(0)
sys.exit("no section " + want)
PY

# need_zstd FILE SECTION...: each SECTION of FILE is zstd-compressed.
need_zstd() {
	local f=$1 s
	shift
	readelf -tW "$f" >"$CP_WORK/logs/sections"
	for s in "$@"; do
		awk -v s="$s" '$0 ~ "\\] " s "$" { on = 1; next } on && /^ *\[ *[0-9]+\] / { exit 1 }
			on && /^ *ZSTD,/ { found = 1; exit } END { exit !found }' "$CP_WORK/logs/sections" ||
			cp_fail "$s of $f is not compressed with zstd (binutils without zstd?)"
	done
}

CP_DEBUGROOT=$CP_WORK/dbg
mkdir -p "$CP_DEBUGROOT"
# build VARIANT [LDFLAGS...]: $b/VARIANT/{liblz.so,app}.
build() {
	local d=$b/$1
	shift
	mkdir -p "$d"
	gcc "${CP_CFLAGS[@]}" "$@" -fPIC -shared -o "$d/liblz.so" "$b/lib.c"
	gcc "${CP_CFLAGS[@]}" -o "$d/app" "$b/main.c" -L"$d" -llz -Wl,-rpath,"$d"
}

# split_debug FILE: FILE's DWARF to CP_DEBUGROOT's build-id tree; prints
# the debug file's name.
split_debug() {
	local id
	id=$(cp_build_id "$1")
	mkdir -p "$CP_DEBUGROOT/.build-id/${id:0:2}"
	objcopy --only-keep-debug "$1" "$CP_DEBUGROOT/.build-id/${id:0:2}/${id:2}.debug"
	strip --strip-debug "$1"
	printf '%s\n' "$CP_DEBUGROOT/.build-id/${id:0:2}/${id:2}.debug"
}

frames_want() {
	printf '%s\n' "poke	common.h:$(cp_line "$b/common.h" poke)" \
		"lib_crash	lib.c:$(cp_line "$b/lib.c" lib_crash)" \
		"main	main.c:$(cp_line "$b/main.c" main)"
}

# run VARIANT: crash it, pack it, compare with gdb.
run() {
	local v=$1
	cp_crash "$CP_WORK/crash-$v" "$b/$v/app"
	cp_check "$v: the frames are gdb's, with their lines"
	bt_gdb "$CP_WORK/logs/gdb-$v" "$b/$v/app" "$CP_CORE" -ex bt
	bt_bundle "$CP_WORK/out-$v" "$CP_CORE" --debug-dir "$CP_DEBUGROOT"
	sed -n '/^thread/,$p' "$CP_WORK/out-$v/report.txt" | sed 's/^/  /'
	bt_same_as_gdb "$CP_WORK/out-$v" "$CP_WORK/logs/gdb-$v" "$v"
	[[ $(cat "$CP_WORK/out-$v/ours") == "$(frames_want)" ]] ||
		cp_fail_later "$v: the frames are not poke (inlined), lib_crash, main with their lines"
}

# 1. a separate debug file compressed by objcopy
build split -Wl,--build-id=0x5b11700000000000000000000000000000000001
dbg=$(split_debug "$b/split/liblz.so")
objcopy --compress-debug-sections=zstd "$dbg"
need_zstd "$dbg" .debug_info .debug_abbrev .debug_line .debug_str
run split

# 2. the library's own DWARF, compressed by ld
build in-object -Wl,--compress-debug-sections=zstd \
	-Wl,--build-id=0x5b11700000000000000000000000000000000002
need_zstd "$b/in-object/liblz.so" .debug_info .debug_abbrev .debug_line .debug_str
run in-object

# 3. dwz: two debug files share an alt file, all compressed afterwards
build dwz -Wl,--build-id=0x5b11700000000000000000000000000000000003
alt=$CP_DEBUGROOT/.dwz/x86_64-linux-gnu/lz.debug
mkdir -p "${alt%/*}"
debugs=("$(split_debug "$b/dwz/liblz.so")" "$(split_debug "$b/dwz/app")")
dwz -q -m "$alt" -M /usr/lib/debug/.dwz/x86_64-linux-gnu/lz.debug "${debugs[@]}" \
	2>"$CP_WORK/logs/dwz.err" || cp_fail "dwz failed" "$CP_WORK/logs/dwz.err"
[[ -f $alt ]] || cp_fail "dwz made no alt file"
for f in "${debugs[@]}" "$alt"; do
	objcopy --compress-debug-sections=zstd "$f"
done
need_zstd "$alt" .debug_info .debug_str
need_zstd "${debugs[0]}" .debug_info
run dwz

# 4. sections that cannot be read: the summary says why
# (the in-object build again, broken in place after the crash: its
# loaded segments, and so the core and the build-id, do not change)
cp "$b/in-object/liblz.so" "$CP_WORK/liblz.so.good"
# broken VARIANT WHAT SECTION WHY FUNCTIONS: break SECTION (elfedit.py
# WHAT); the summary says WHY and shows FUNCTIONS, liblz.so's without lines.
broken() {
	local v=$1 what=$2 section=$3 why=$4 fns=$5 d=$b/in-object
	cp "$CP_WORK/liblz.so.good" "$d/liblz.so"
	python3 "$b/elfedit.py" "$d/liblz.so" "$section" "$what"
	cp_check "$v: the summary says why liblz.so has no lines"
	bt_gdb "$CP_WORK/logs/gdb-$v" "$d/app" "$CP_WORK/crash-in-object/core" -ex bt
	BT_NOTES_OK=1 bt_bundle "$CP_WORK/out-$v" "$CP_WORK/crash-in-object/core" \
		--debug-dir "$CP_DEBUGROOT"
	sed -n '/^thread/,$p' "$CP_WORK/out-$v/report.txt" | sed 's/^/  /'
	for f in summary.txt report.txt; do
		grep -qxF "liblz.so: no line information: $why" "$CP_WORK/out-$v/$f" ||
			cp_fail_later "$v: $f does not say 'liblz.so: no line information: $why'"
	done
	[[ $(jq -r '.crash.no_lines[] | select(.module | endswith("/liblz.so")) | .why' \
		"$CP_WORK/out-$v/manifest.json") == "$why" ]] ||
		cp_fail_later "$v: manifest.json's crash.no_lines does not say why"
	bt_frames "$CP_WORK/out-$v/report.txt" >"$CP_WORK/out-$v/ours"
	[[ $(cut -f1 "$CP_WORK/out-$v/ours" | tr '\n' ' ') == "$fns " ]] ||
		cp_fail_later "$v: the frames are not $fns"
	grep -q -E '^(poke|lib_crash)	.' "$CP_WORK/out-$v/ours" &&
		cp_fail_later "$v: a frame in liblz.so has a line"
	return 0
}
# with the rest of the DWARF unreadable, gdb shows what the summary shows
broken frame-corrupt frame .debug_info \
	"debug section .debug_info cannot be decompressed: zstd: Unknown frame descriptor" \
	"lib_crash main"
BT_NOTES_OK=1 bt_same_as_gdb "$CP_WORK/out-frame-corrupt" "$CP_WORK/logs/gdb-frame-corrupt" \
	frame-corrupt
# gdb 13 loses the stack here ("?? ()" frames): nothing to compare; the
# functions, inlined one included, are still in .debug_info
broken unknown-type type .debug_line \
	"debug section .debug_line is compressed with an unsupported method (ELF compression type 3)" \
	"poke lib_crash main"
# (the limit: 64 times the file's size, at most 4 GiB)
limit=$(($(stat -c %s "$CP_WORK/liblz.so.good") * 64))
broken too-large size .debug_info \
	"debug section .debug_info is too large to decompress (1099511627776 bytes; the limit for this file is $limit)" \
	"lib_crash main"
sed 's/^/  gdb: /' "$CP_WORK/logs/gdb-unknown-type" | grep '^  gdb: #' || true
cp_finish
