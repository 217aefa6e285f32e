#!/bin/bash
# Documentation and behaviour kept together:
#  - every option `corepack --help` / `coreunpack --help` lists is accepted by
#    the program, and appears (with the same short option) in the OPTIONS of
#    man/corepack.1 / man/coreunpack.1; every option the man page documents
#    is in --help;
#  - the man pages have the sections they promise, name the version the
#    binaries print, and render with groff without a warning;
#  - the caps in the headers (notes.h, core.h, linkmap.h, resolve.h,
#    debuginfo.h, backtrace.h, bundle_read.h, manifest_read.h) appear, with
#    their values, in the pages' LIMITS;
#  - the status, role and debug tokens the code uses are documented, and
#    what the SECURITY sections say run-gdb.sh gives gdb is in its template,
#    and what coreunpack.1 says run-lldb.sh gives lldb in its;
#  - every key of a real manifest.json, made by packing a real core, is
#    named in doc/bundle-format.md, and every top-level key of
#    `corepack --list --json` in corepack.1;
#  - `cmake --install` puts the binaries, the man pages and the format
#    reference where man and users look for them.
# Needs groff (Debian package groff-base) and cmake.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"

SRC=${CP_SRC_DIR:-$(cd "$CP_E2E_DIR/../.." && pwd)}
[[ -n ${COREPACK:-} && -x $COREPACK ]] || cp_fail "COREPACK is not set to an executable (run through ctest)"
[[ -n ${COREUNPACK:-} && -x $COREUNPACK ]] || cp_fail "COREUNPACK is not set to an executable (run through ctest)"
cp_need groff:groff-base cmake:cmake

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cp-e2e-docs.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT

# render PAGE: the page as plain ASCII text, every paragraph on one line
# (no line breaks, so no hyphenation either).
render() {
	groff -man -rLL=5000n -Tascii -P-cbou "$1" 2>/dev/null
}

# optname SHORT LONG: "-o, --output", or "--sysroot" when SHORT is "-".
optname() {
	if [[ $1 == - ]]; then echo "--$2"; else echo "-$1, --$2"; fi
}

# section TEXT NAME: the body of section NAME of rendered TEXT, on one line.
section() {
	awk -v want="$2" '
		/^[A-Z][A-Z ]*[A-Z]$/ { on = ($0 == want); next }
		on { printf "%s ", $0 }' <<<"$1" | tr -s ' '
}

# help_options PROG: "SHORT LONG ARG" per option line of PROG --help (SHORT
# is "-" without one, ARG 1 when the option takes a value).
help_options() {
	local line re='^[[:space:]]+(-([[:alnum:]]),[[:space:]]+)?--([a-z][a-z0-9-]*)(=|[[:space:]][A-Z])?'
	while IFS= read -r line; do
		[[ $line =~ $re ]] || continue
		printf '%s %s %s\n' "${BASH_REMATCH[2]:--}" "${BASH_REMATCH[3]}" \
			"$([[ -n ${BASH_REMATCH[4]} ]] && echo 1 || echo 0)"
	done
}

# man_options PAGE: "SHORT LONG" per tagged paragraph of the page's OPTIONS
# (the line after each .TP), from the roff source.
man_options() {
	local tag re='^(-([[:alnum:]])[[:space:]]*,[[:space:]]*)?--([a-z][a-z0-9-]*)'
	awk '/^\.SH /{ on = ($0 ~ /^\.SH "?OPTIONS"?$/); next }
		on && prev == ".TP" { print }
		{ prev = $0 }' "$1" |
		while IFS= read -r tag; do
			tag=${tag#.* } # the macro (.B, .BR, .BI)
			tag=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/"//g' <<<"$tag")
			[[ $tag =~ $re ]] || {
				echo "UNPARSED $tag"
				continue
			}
			printf '%s %s\n' "${BASH_REMATCH[2]:--}" "${BASH_REMATCH[3]}"
		done
}

version=$("$COREPACK" --version | awk 'NR == 1 {print $2}')
[[ -n $version ]] || cp_fail "corepack --version printed no version"

for prog in corepack coreunpack; do
	bin=$COREPACK
	[[ $prog == coreunpack ]] && bin=$COREUNPACK
	page=$SRC/man/$prog.1
	[[ -f $page ]] || cp_fail "no man page $page"

	cp_check "$prog --help against the OPTIONS of $prog.1"
	"$bin" --help >"$TMP/$prog.help"
	help_options <"$TMP/$prog.help" >"$TMP/$prog.hopts"
	[[ -s $TMP/$prog.hopts ]] || cp_fail "found no options in $prog --help" "$TMP/$prog.help"
	man_options "$page" >"$TMP/$prog.mopts"
	if grep -q '^UNPARSED' "$TMP/$prog.mopts"; then
		cp_fail_later "$prog.1: OPTIONS tags not understood: $(grep '^UNPARSED' "$TMP/$prog.mopts" | tr '\n' ' ')"
	fi
	cut -d' ' -f1,2 "$TMP/$prog.hopts" | sort -u >"$TMP/$prog.h"
	grep -v '^UNPARSED' "$TMP/$prog.mopts" | sort -u >"$TMP/$prog.m" || true
	while read -r s l; do
		cp_fail_later "$prog --help has $(optname "$s" "$l"); $prog.1 OPTIONS does not (or not with that short option)"
	done < <(comm -23 "$TMP/$prog.h" "$TMP/$prog.m")
	while read -r s l; do
		cp_fail_later "$prog.1 OPTIONS documents $(optname "$s" "$l"); $prog --help does not (or not with that short option)"
	done < <(comm -13 "$TMP/$prog.h" "$TMP/$prog.m")
	cp_log "$prog: --help has $(wc -l <"$TMP/$prog.h") options, $prog.1 documents $(wc -l <"$TMP/$prog.m")"

	cp_check "every option in $prog --help is accepted by $prog"
	while read -r s l arg; do
		opt=--$l
		[[ $arg == 1 ]] && opt=--$l=1
		# Without an operand every option but --help and --version ends
		# in the usage error for the missing operand, not in getopt's.
		st=0
		# These act on the machine (gdb attached to a process, the kernel's
		# core_pattern): an operand makes them a usage error, after getopt.
		extra=()
		[[ $l == pid || $l == handler || $l == *install-handler ]] && extra=(x)
		"$bin" "$opt" "${extra[@]}" </dev/null >"$TMP/out" 2>"$TMP/err" || st=$?
		if grep -Eiq "unrecognized option|unrecognised option|doesn't allow an argument|requires an argument" "$TMP/err" ||
			[[ $st != 0 && $st != 2 ]]; then
			cp_fail_later "$prog $opt (no operand): exit $st: $(head -n 1 "$TMP/err")"
		fi
	done <"$TMP/$prog.hopts"

	cp_check "$prog.1 has its sections and names version $version"
	for sec in NAME SYNOPSIS DESCRIPTION OPTIONS OUTPUT 'EXIT STATUS' LIMITS FILES SECURITY EXAMPLES 'SEE ALSO'; do
		grep -qxE "\.SH \"?$sec\"?" "$page" || cp_fail_later "$prog.1 has no section $sec"
	done
	th=$(grep -m1 '^\.TH ' "$page")
	[[ $th == *"\"corepack $version\""* ]] ||
		cp_fail_later "$prog.1: '$th' does not name corepack $version (what $prog --version prints)"

	cp_check "$prog.1 renders without warnings"
	st=0
	groff -man -ww -z "$page" >"$TMP/groff.out" 2>&1 || st=$?
	[[ $st == 0 && ! -s $TMP/groff.out ]] ||
		cp_fail_later "groff -man -ww -z $prog.1: exit $st: $(head -n 3 "$TMP/groff.out" | tr '\n' ' ')"
	render "$page" >"$TMP/$prog.txt"
done

# define_value HEADER NAME: the value of NAME's #define in HEADER, evaluated.
define_value() {
	local expr
	expr=$(sed -n -E "s@^#define $2[[:space:]]+([^/]*).*@\1@p" "$SRC/include/corepack/$1")
	expr=$(sed -E 's/([0-9]+)(ULL|ull|UL|ul|LL|ll|U|u|L|l)\b/\1/g' <<<"$expr")
	[[ -n $expr ]] || cp_fail "no #define $2 in include/corepack/$1"
	echo $((expr))
}

# forms VALUE NAME: the ways a page may write VALUE, one a line.
forms() {
	local v=$1 k=0 units=(B KiB MiB GiB TiB)
	echo "$v"
	((v >= 10000)) && sed -E ':a; s/([0-9])([0-9]{3})($|,)/\1,\2\3/; ta' <<<"$v"
	while ((v >= 1024 && v % 1024 == 0 && k < 4)); do
		v=$((v / 1024))
		k=$((k + 1))
		echo "$v ${units[k]}"
	done
	[[ $2 == *_MS ]] && (($1 % 1000 == 0)) && echo "$(($1 / 1000)) s"
	return 0
}

# check_limits PAGE HEADER:NAME...: each value in PAGE's LIMITS.
check_limits() {
	local prog=$1 spec v f found limits
	shift
	limits=$(section "$(cat "$TMP/$prog.txt")" LIMITS)
	[[ -n $limits ]] || cp_fail_later "$prog.1 has an empty LIMITS section"
	for spec in "$@"; do
		v=$(define_value "${spec%%:*}" "${spec#*:}")
		found=
		while IFS= read -r f; do
			[[ -z $f ]] && continue
			# not part of a longer number ("200" in "200,000" or "1200")
			grep -Eq "(^|[^0-9,.]|[^0-9],)${f}([^0-9,]|,[^0-9]|,?\$)" <<<"$limits" && found=$f && break
		done < <(forms "$v" "${spec#*:}")
		[[ -n $found ]] ||
			cp_fail_later "$prog.1 LIMITS does not give ${spec#*:} = $v (include/corepack/${spec%%:*})"
	done
}

cp_check "the caps of the headers are in the LIMITS sections"
check_limits corepack notes.h:CP_MAX_MAPPINGS notes.h:CP_MAX_NOTES_SIZE notes.h:CP_MAX_THREADS \
	core.h:CP_MAX_PHNUM linkmap.h:CP_LINKMAP_MAX_ENTRIES linkmap.h:CP_LINKMAP_MAX_NAMESPACES \
	linkmap.h:CP_LINKMAP_MAX_NAME resolve.h:CP_RESOLVE_MAX_LINKS resolve.h:CP_PATH_MAX \
	debuginfo.h:CP_BUILD_ID_MAX backtrace.h:CP_BACKTRACE_DEFAULT_THREADS \
	backtrace.h:CP_BACKTRACE_DEFAULT_FRAMES backtrace.h:CP_BACKTRACE_DEFAULT_TIMEOUT_MS \
	image.h:CP_IMAGE_MAX_PHNUM image.h:CP_IMAGE_MAX_COMPARE core_input.h:CP_CORE_INPUT_MAX_SIZE
check_limits coreunpack layout.h:CP_BUNDLE_MAX_NAMES layout.h:CP_BUNDLE_MAX_PATH \
	layout.h:CP_BUNDLE_MAX_COMPONENT layout.h:CP_BUNDLE_MAX_TOTAL \
	tar_read.h:CP_TAR_MAX_PAX tar_read.h:CP_TAR_MAX_LONGNAME tar_read.h:CP_TAR_MAX_REGIONS \
	tar_read.h:CP_TAR_REGION_BYTES bundle_read.h:CP_BUNDLE_EXPANSION_RATIO \
	bundle_read.h:CP_BUNDLE_EXPANSION_BASE manifest_read.h:CP_MANIFEST_MAX_TREE \
	manifest_read.h:CP_MANIFEST_MAX_SIZE manifest_read.h:CP_MANIFEST_MAX_DEPTH \
	manifest_read.h:CP_MANIFEST_MAX_OBJECTS manifest_read.h:CP_MANIFEST_MAX_FILES \
	manifest_read.h:CP_MANIFEST_MAX_DEBUG manifest_read.h:CP_MANIFEST_MAX_WARNINGS \
	manifest_read.h:CP_MANIFEST_MAX_TEXT

FORMAT=$SRC/doc/bundle-format.md
[[ -f $FORMAT ]] || cp_fail "no $FORMAT"
grep -q 'doc/bundle-format\.md' "$SRC/README.md" || cp_fail_later "README.md does not link doc/bundle-format.md"

# c_strings FILE FUNCTION-OR-ARRAY: the string literals of one function
# body or array initialiser in FILE (a file name, anywhere below src/).
c_strings() {
	local f
	f=$(find "$SRC/src" -name "$1" | head -n1)
	[[ -n $f ]] || cp_fail "no $1 below $SRC/src"
	awk -v name="$2" '
		index($0, name) && /[({=]/ { on = 1 }
		on { print }
		on && /^}|};/ { exit }' "$f" | grep -oE '"[a-z][a-z0-9_.-]*"' | tr -d '"' | sort -u
}

cp_check "the status, role and debug tokens of the code are documented"
# One table each in src/common/schema.c, shared by writer and reader.
statuses=$(c_strings schema.c 'module_statuses[]')
roles=$(c_strings schema.c 'roles[]')
hows=$(c_strings schema.c 'debug_hows[]' | grep -vxE 'none|unknown')
dstatus=$(c_strings schema.c 'debug_statuses[]')
verifs=$(c_strings schema.c 'verifications[]')
[[ $(wc -w <<<"$statuses") -ge 5 && $(wc -w <<<"$roles") -ge 4 && $(wc -w <<<"$hows") -ge 4 &&
	$(wc -w <<<"$dstatus") -ge 4 ]] ||
	cp_fail "could not read the tokens from the sources: statuses '$statuses' roles '$roles' how '$hows' debug_status '$dstatus'"
corepack_status=$(section "$(cat "$TMP/corepack.txt")" OUTPUT)
for t in $statuses; do
	grep -q "\`\"$t\"\`" "$FORMAT" || cp_fail_later "bundle-format.md does not list status \"$t\""
	grep -Eq "(^| )$t( |$)" <<<"$corepack_status" || cp_fail_later "corepack.1 OUTPUT does not explain status $t"
done
for t in $roles $hows $dstatus $verifs; do
	grep -q "\`\"$t\"\`" "$FORMAT" || cp_fail_later "bundle-format.md does not list \"$t\""
done

cp_check "what the man pages say run-gdb.sh gives gdb is in its template"
for s in "-nx" "set auto-load off" "set debuginfod enabled off" "-iex" "set sysroot" \
	"set debug-file-directory" "gdb-multiarch"; do
	grep -qF -- "$s" "$SRC/templates/run-gdb.sh.in" ||
		cp_fail_later "templates/run-gdb.sh.in has no '$s', which coreunpack.1 promises"
	grep -qF -- "$s" "$TMP/coreunpack.txt" || cp_fail_later "coreunpack.1 does not mention '$s'"
done
cp_check "what coreunpack.1 says run-lldb.sh gives lldb is in its template"
for s in "--no-lldbinit" "settings set target.load-script-from-symbol-file false" \
	"settings set symbols.enable-external-lookup false" "remote-linux" "LLDB"; do
	grep -qF -- "$s" "$SRC/templates/run-lldb.sh.in" ||
		cp_fail_later "templates/run-lldb.sh.in has no '$s', which coreunpack.1 promises"
	grep -qF -- "$s" "$TMP/coreunpack.txt" || cp_fail_later "coreunpack.1 does not mention '$s'"
done

# ---- a real manifest: every key is documented --------------------------
cp_check "every key of a real manifest.json is named in bundle-format.md"
manifest_checked=
if command -v gcc >/dev/null && command -v jq >/dev/null && command -v gdb >/dev/null; then
	mkdir -p "$TMP/crash"
	printf '%s\n' 'int main(void) { volatile int *p = 0; *p = 1; return 0; }' >"$TMP/crash/crash.c"
	gcc -g -O0 -Wl,--build-id -o "$TMP/crash/crash" "$TMP/crash/crash.c"
	# gdb's gcore writes the core whatever core_pattern and ulimit -c say.
	(cd "$TMP/crash" && gdb -nx -batch -ex run -ex 'gcore core' ./crash) \
		</dev/null >"$TMP/gdb.log" 2>&1 || true
	if [[ -s $TMP/crash/core ]]; then
		(cd "$TMP/crash" && "$COREPACK" -q core -o "$TMP/crash.tar.zst") ||
			cp_fail "corepack failed on a gcore core"
		top=$(tar -tf "$TMP/crash.tar.zst" | awk -F/ 'NR == 1 {print $1}')
		tar -xOf "$TMP/crash.tar.zst" "$top/manifest.json" >"$TMP/manifest.json"
		jq -r '[paths | map(select(type == "string")) | last | select(. != null)] | unique | .[]' \
			"$TMP/manifest.json" >"$TMP/keys"
		[[ $(wc -l <"$TMP/keys") -gt 40 ]] || cp_fail "too few keys in the manifest" "$TMP/manifest.json"
		while read -r k; do
			grep -qF "\`$k\`" "$FORMAT" || cp_fail_later "manifest.json key '$k' is not in bundle-format.md"
		done <"$TMP/keys"
		tar -xOf "$TMP/crash.tar.zst" "$top/digests.json" >"$TMP/digests.json"
		jq -r '[paths | map(select(type == "string")) | last | select(. != null)] | unique | .[]' \
			"$TMP/digests.json" >"$TMP/dkeys"
		[[ $(wc -l <"$TMP/dkeys") -ge 3 ]] || cp_fail "too few keys in digests.json" "$TMP/digests.json"
		while read -r k; do
			grep -qF "\`$k\`" "$FORMAT" || cp_fail_later "digests.json key '$k' is not in bundle-format.md"
		done <"$TMP/dkeys"
		# a full bundle is of CP_MANIFEST_VERSION_FULL; the reference
		# describes the newest, CP_MANIFEST_VERSION (thin bundles)
		version_doc=$(define_value layout.h CP_MANIFEST_VERSION)
		[[ $(jq .manifest_version "$TMP/manifest.json") == "$(define_value layout.h CP_MANIFEST_VERSION_FULL)" ]] ||
			cp_fail_later "manifest_version is not CP_MANIFEST_VERSION_FULL"
		grep -q "manifest version $version_doc" "$FORMAT" ||
			cp_fail_later "bundle-format.md does not say it describes manifest version $version_doc"

		cp_check "every top-level key of corepack --list --json is named in corepack.1"
		(cd "$TMP/crash" && "$COREPACK" --list --json core) >"$TMP/list.json" ||
			cp_fail "corepack --list --json failed"
		while read -r k; do
			grep -qF "($k)" "$TMP/corepack.txt" ||
				cp_fail_later "corepack --list --json key '$k' is not in corepack.1"
		done < <(jq -r 'keys[]' "$TMP/list.json")
		manifest_checked=1
	else
		cp_log "no core from gdb's gcore (ptrace not allowed?):"
		tail -n 5 "$TMP/gdb.log"
	fi
fi

# ---- cmake --install ---------------------------------------------------
build=$(dirname "$COREPACK")
[[ -f $build/cmake_install.cmake ]] || cp_fail "no cmake_install.cmake beside $COREPACK: cannot test cmake --install"
cp_check "cmake --install puts bin/, share/man/man1/*.1 and share/doc/corepack/bundle-format.md under the prefix"
prefix=$TMP/prefix
cmake --install "$build" --prefix "$prefix" >"$TMP/install.log" 2>&1 ||
	cp_fail "cmake --install $build --prefix $prefix failed" "$TMP/install.log"
for f in bin/corepack bin/coreunpack; do
	[[ -x $prefix/$f ]] || cp_fail_later "cmake --install did not install $f"
done
for p in corepack coreunpack; do
	cmp -s "$SRC/man/$p.1" "$prefix/share/man/man1/$p.1" ||
		cp_fail_later "cmake --install did not install share/man/man1/$p.1 (as man/$p.1)"
done
cmp -s "$FORMAT" "$prefix/share/doc/corepack/bundle-format.md" ||
	cp_fail_later "cmake --install did not install share/doc/corepack/bundle-format.md"
"$prefix/bin/corepack" --version >/dev/null || cp_fail_later "the installed corepack does not run"
if command -v man >/dev/null; then
	for p in corepack coreunpack; do
		[[ $(man -M "$prefix/share/man" -w "$p" 2>/dev/null) == "$prefix/share/man/man1/$p.1"* ]] ||
			cp_fail_later "man -M PREFIX/share/man does not find $p(1)"
	done
fi

if [[ -z $manifest_checked ]] && ((${#CP_LATER[@]} == 0)); then
	cp_skip "everything else passed, but no core could be made to check manifest.json's keys (gcc, jq, gdb and ptrace needed)"
fi
cp_finish
