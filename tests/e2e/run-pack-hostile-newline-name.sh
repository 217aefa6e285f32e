#!/bin/bash
# Issue 19, kind 11: names corepack keeps but coreunpack refuses.  A real
# program dlopens a plugin whose directory and file names hold a newline
# and an escape sequence (ESC [31m): today corepack packs it, calls the
# bundle good, and coreunpack refuses the whole bundle ("control character
# in the name").  An object whose name coreunpack would refuse is reported
# (escaped) and left out, never packed; every name from the core reaches
# the terminal escaped, fatal errors included; the bundle unpacks and gdb
# abroad still shows the frames of the objects that were packed.
source "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init

cp_build_trio
bad_dir=$CP_WORK/bad$'\n'dir$'\e[31m'
bad=$bad_dir/plugin$'\n'$'\e[0m'.so
mkdir -p "$bad_dir"
cp "$CP_PLUGIN" "$bad"
shown_dir=$CP_WORK/bad\\x0adir\\x1b[31m
shown=$shown_dir/plugin\\x0a\\x1b[0m.so
cp_crash "$CP_WORK/crash" "$CP_APP" "$bad"
cp_pack "$CP_CORE" "$CP_WORK/nl.tar.zst"

cp_check "no raw control character on corepack's stdout or stderr"
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$CP_PACK_OUT" "$CP_PACK_ERR"; then
	cp_fail "a control character reached the terminal" "$CP_PACK_OUT" "$CP_PACK_ERR"
fi
cp_check "the plugin is reported by its escaped name and left out"
grep -qF "corepack: warning: '$shown': mapped file name has a control character: not packed" "$CP_PACK_ERR" ||
	cp_fail "no warning naming '$shown'" "$CP_PACK_ERR"
if tar -tf "$CP_WORK/nl.tar.zst" | LC_ALL=C grep $'[\x01-\x1f\x7f]' >/dev/null; then
	cp_fail "the bundle has a name with a control character"
fi

cp_check "coreunpack accepts corepack's bundle"
mkdir -p "$CP_UNPACK/u"
"$COREUNPACK" -C "$CP_UNPACK/u" "$CP_WORK/nl.tar.zst" >"$CP_WORK/logs/unpack.out" 2>"$CP_WORK/logs/unpack.err" ||
	cp_fail "coreunpack refused corepack's bundle" "$CP_WORK/logs/unpack.err"
CP_BUNDLE_DIR=$CP_UNPACK/u
[[ $(cp_manifest '[.objects[] | select(.path | explode | any(. < 32 or . == 127))] | length') == 0 ]] ||
	cp_fail "an object with a control character in its name is in the manifest"

cp_check "a fatal error naming such a file is escaped, on one line"
printf 'not a core\n' >"$bad_dir/core"
cp_expect_fail 1 "^corepack: '$(printf '%s' "$shown_dir" | sed 's/[][\\.*^$]/\\&/g')/core': not an ELF file" \
	"$COREPACK" -o "$CP_WORK/x.tar.zst" "$bad_dir/core"

cp_check "gdb abroad shows the frames of the objects packed"
cp_hide_originals "$CP_WORK"
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt
cp_assert_frames "$CP_WORK/logs/gdb.out" \
	"crash_store libcrash.c:$(cp_line "$CP_PROGS/libcrash.c" crash_store)" \
	"crash_deep libcrash.c:$(cp_line "$CP_PROGS/libcrash.c" crash_deep)"

cp_finish
