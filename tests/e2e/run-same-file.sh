#!/bin/bash
# One file reached under two names (hard links both mapped): both names are
# objects of the manifest, the file is stored once, the other name is a
# symlink to it inside the bundle, and both resolve to identical bytes.
source "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init

w=$CP_WORK
mkdir -p "$w/lib"
gcc "${CP_CFLAGS[@]}" -shared -fPIC -o "$w/lib/one.so" "$CP_PROGS/libcrash.c"
ln "$w/lib/one.so" "$w/lib/two.so"
gcc "${CP_CFLAGS[@]}" -o "$w/maptwice" "$CP_PROGS/maptwice.c"
cp_crash "$w/run" "$w/maptwice" "$w/lib/one.so" "$w/lib/two.so"
cp_pack "$CP_CORE" "$CP_UNPACK/same.tar.zst"
cp_extract "$CP_UNPACK/same.tar.zst"

cp_check "both names are objects with status ok"
for n in one two; do
	st=$(cp_manifest ".objects[] | select(.path == \"$w/lib/$n.so\") | .status")
	[[ $st == ok ]] || cp_fail "$n.so: status '$st', expected ok" "$CP_BUNDLE_DIR/manifest.json"
done
cp_check "the file is stored once and the other name is a symlink to it"
a=$CP_BUNDLE_DIR/sysroot$w/lib/one.so b=$CP_BUNDLE_DIR/sysroot$w/lib/two.so
files=0 links=0
for f in "$a" "$b"; do
	if [[ -L $f ]]; then
		links=$((links + 1))
		[[ $(readlink "$f") != /* ]] || cp_fail "absolute symlink $f -> $(readlink "$f")"
	elif [[ -f $f ]]; then
		files=$((files + 1))
	fi
done
((files == 1 && links == 1)) || cp_fail "expected one file and one symlink, got $files files, $links symlinks"
cmp -s "$a" "$w/lib/one.so" && cmp -s "$b" "$w/lib/one.so" ||
	cp_fail "the two names do not both resolve to the original bytes"
[[ $(cp_manifest '[.files[].path | select(endswith("one.so") or endswith("two.so"))] | length') == 1 ]] ||
	cp_fail "the manifest lists the file's bytes twice"
cp_report
