#!/bin/bash
# Output formats and options: .tar.zst, .tar.xz, .tar.gz and .tar each get
# the compression their name asks for and a top directory named after the
# bundle file; --level 1 is accepted by the compressed ones (.tar takes no
# level: run-cli-checks.sh); --no-debug leaves debug/ without debug
# files while the objects are still packed; -q prints nothing on stdout.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init
cp_need xz:xz-utils gzip:gzip

cp_build_trio
cp_trio_frames
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
if [[ $CP_SELFCHECK == 1 ]]; then
	cp_log "PASS (selfcheck: nothing to check without corepack)"
	exit 0
fi

# magic FILE: the compression a file's first bytes show.
magic() {
	local m
	m=$(head -c 6 "$1" | od -An -tx1 | tr -d ' \n')
	case $m in
	28b52ffd*) echo zstd ;;
	fd377a585a00) echo xz ;;
	1f8b*) echo gzip ;;
	*) [[ $(head -c 262 "$1" | tail -c 5) == ustar ]] && echo tar || echo "unknown($m)" ;;
	esac
}

for fmt in zst:zstd xz:xz gz:gzip plain:tar; do
	ext=tar.${fmt%%:*}
	[[ ${fmt%%:*} == plain ]] && ext=tar
	level=(--level 1)
	[[ $ext == tar ]] && level=()
	cp_pack "$CP_CORE" "$CP_WORK/fmt-${fmt%%:*}.$ext" "${level[@]}" --debug-dir "$CP_DEBUGROOT"
	cp_check "fmt-${fmt%%:*}.$ext is ${fmt#*:}"
	got=$(magic "$CP_BUNDLE_FILE")
	[[ $got == "${fmt#*:}" ]] || cp_fail "$CP_BUNDLE_FILE is $got, expected ${fmt#*:}"
	cp_extract "$CP_BUNDLE_FILE"
	cp_check_layout "$CP_CORE"
done

cp_check "-q: nothing on stdout"
q=$CP_WORK/quiet.tar.zst
"$COREPACK" -q --debug-dir "$CP_DEBUGROOT" -o "$q" "$CP_CORE" >"$CP_WORK/logs/q.out" 2>"$CP_WORK/logs/q.err" ||
	cp_fail "corepack -q failed" "$CP_WORK/logs/q.err"
[[ ! -s $CP_WORK/logs/q.out ]] || cp_fail "corepack -q printed on stdout" "$CP_WORK/logs/q.out"
[[ -f $q ]] || cp_fail "corepack -q wrote no bundle"

cp_check "-f replaces an existing bundle"
cp_pack "$CP_CORE" "$q" -f --debug-dir "$CP_DEBUGROOT"

cp_pack "$CP_CORE" "$CP_WORK/nodebug.tar.zst" --no-debug --debug-dir "$CP_DEBUGROOT"
cp_extract "$CP_BUNDLE_FILE"
cp_check_layout "$CP_CORE"
cp_check "--no-debug: no debug files in the bundle, the objects still packed"
found=$(find "$CP_BUNDLE_DIR" -name '*.debug' | head -n 3)
[[ -z $found ]] || cp_fail "--no-debug bundle has debug files: $found"
cp_manifest_object /libcrash.so.1.0.0
bp=$(cp_manifest ".objects[$CP_OBJ].bundle_path // empty")
[[ -n $bp ]] || cp_fail "--no-debug bundle did not pack libcrash" "$CP_BUNDLE_DIR/manifest.json"
cp_report
