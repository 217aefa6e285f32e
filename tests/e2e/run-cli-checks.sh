#!/bin/bash
# The command line is checked before any work, and output that cannot be
# written is an error:
#  - corepack: usage errors first (exit 2: an output name without a
#    supported suffix, a --level its compression cannot take, --format
#    without --list), then the output (exit 1: an existing bundle, the
#    message naming -f; a missing output directory, named), then the core:
#    shown with a core that does not exist (the earlier error wins) and,
#    with strace, by the core never being opened;
#  - --help, the README and the behaviour state the same level ranges: the
#    ranges are read from --help and the README, both ends of each are
#    packed, one past each end is a usage error;
#  - a failed write to standard output (>/dev/full) is exit 1 with one
#    "PROG: write error on standard output: ..." line: corepack --list in
#    each format, corepack --help, a pack (whose bundle is still written,
#    whole), coreunpack --list and an unpack; with -q nothing is written
#    and all is well;
#  - coreunpack opens the bundle before it looks at the target: a missing
#    bundle or a directory is reported as such even where a core exists;
#    -C under a missing parent fails naming it and creates nothing.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init
cp_need strace:strace
[[ -n ${COREUNPACK:-} && -x $COREUNPACK ]] || cp_fail "COREUNPACK is not set to an executable"

cp_build_trio
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
core=$CP_CORE
if [[ $CP_SELFCHECK == 1 ]]; then
	cp_log "PASS (selfcheck: nothing to check without corepack)"
	exit 0
fi
nocore=$CP_WORK/no-such-core

n=0
outdir() {
	n=$((n + 1))
	O=$CP_WORK/out$n
	mkdir -p "$O"
}

# --- usage errors come first -------------------------------------------------

outdir
cp_expect_fail 2 "'$O/b\.zip': unknown bundle format; the name must end in \.tar\.zst, \.tar\.xz, \.tar\.gz, \.tgz or \.tar" \
	"$COREPACK" -o "$O/b.zip" "$nocore"
outdir
cp_expect_fail 2 "unknown bundle format" "$COREPACK" -o "$O/b.tar.bz2" "$nocore"
outdir
printf 'x' >"$O/exists.zip"
cp_expect_fail 2 "unknown bundle format" "$COREPACK" -o "$O/exists.zip" "$nocore"
outdir
cp_expect_fail 2 "'$O/b\.tar' is not compressed: --level does not apply" \
	"$COREPACK" --level 1 -o "$O/b.tar" "$nocore"
outdir
cp_expect_fail 2 "invalid compression level 'fast'" "$COREPACK" --level fast -o "$O/b.tar.zst" "$nocore"
outdir
cp_expect_fail 2 "^corepack: --format goes with --list$" "$COREPACK" --format unstrip "$nocore"
outdir
cp_expect_fail 2 "^corepack: --json goes with --list$" "$COREPACK" --json "$nocore"
outdir
cp_expect_fail 2 "invalid --format 'xml' \(table, unstrip or json\)" "$COREPACK" --list --format xml "$nocore"
outdir
cp_expect_fail 2 "--level makes no sense" "$COREPACK" --list --level 3 "$nocore"

# --- then the output ------------------------------------------------------------

outdir
printf 'precious\n' >"$O/b.tar.zst"
cp_expect_fail 1 "^corepack: '$O/b\.tar\.zst' already exists; use -f to overwrite$" \
	"$COREPACK" -o "$O/b.tar.zst" "$nocore"
[[ $(cat "$O/b.tar.zst") == precious ]] || cp_fail "an existing bundle was touched"
outdir
ln -s nowhere "$O/dangling.tar.zst"
cp_expect_fail 1 "'$O/dangling\.tar\.zst' already exists; use -f" "$COREPACK" -o "$O/dangling.tar.zst" "$nocore"
outdir
cp_expect_fail 1 "^corepack: cannot write '$O/nodir/b\.tar\.zst': directory '$O/nodir': No such file or directory$" \
	"$COREPACK" -o "$O/nodir/b.tar.zst" "$nocore"
[[ ! -e $O/nodir ]] || cp_fail "corepack created the missing directory"
outdir
cp_check "the default output (CORE's name + .tar.zst here) exists: refused before the core is opened"
printf 'precious\n' >"$O/no-such-core.tar.zst"
st=0
(cd "$O" && "$COREPACK" "$nocore") >"$CP_WORK/logs/def.out" 2>"$CP_WORK/logs/def.err" || st=$?
[[ $st == 1 ]] && grep -q -x "corepack: 'no-such-core.tar.zst' already exists; use -f to overwrite" "$CP_WORK/logs/def.err" ||
	cp_fail "default output: exit $st" "$CP_WORK/logs/def.err"

if [[ $(id -u) != 0 ]]; then
	outdir
	chmod 555 "$O"
	cp_expect_fail 1 "cannot write '$O/b\.tar\.zst': directory '$O': Permission denied" \
		"$COREPACK" -o "$O/b.tar.zst" "$nocore"
	chmod 755 "$O"
fi

# --- and only then the core ---------------------------------------------------

outdir
cp_expect_fail 1 "cannot open '$nocore'" "$COREPACK" --level 9 -o "$O/b.tgz" "$nocore"

cp_check "with an existing bundle the core is never opened (strace)"
outdir
printf 'precious\n' >"$O/b.tar.zst"
st=0
# (LeakSanitizer cannot run under ptrace: with abort_on_error it would abort)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	strace -f -e trace=open,openat -o "$CP_WORK/logs/strace" "$COREPACK" -o "$O/b.tar.zst" "$core" \
	>/dev/null 2>"$CP_WORK/logs/strace.err" || st=$?
[[ $st == 1 ]] || cp_fail "exit $st under strace, expected 1" "$CP_WORK/logs/strace.err"
grep -q -F "\"$core\"" "$CP_WORK/logs/strace" && cp_fail "corepack opened the core before refusing the output" "$CP_WORK/logs/strace"
grep -q -F "\"$CP_WORK/crash\"" "$CP_WORK/logs/strace" && cp_fail "corepack looked into the core's directory" "$CP_WORK/logs/strace"

# --- level ranges: --help, README, behaviour ------------------------------------

cp_check "--help and the README state the same level ranges, and corepack takes exactly them"
"$COREPACK" --help >"$CP_WORK/logs/help"
ranges() { grep -o -E '(zstd|xz|gzip) [0-9]+-[0-9]+' | sort -u | tr '\n' ' '; }
help_ranges=$(ranges <"$CP_WORK/logs/help")
readme_ranges=$(grep -E '^\| `--level N`' "${CP_SRC_DIR:-$CP_E2E_DIR/../..}/README.md" | ranges)
[[ $help_ranges == "gzip 1-9 xz 0-9 zstd 1-19 " ]] || cp_fail "--help states the ranges as [$help_ranges]" "$CP_WORK/logs/help"
[[ $readme_ranges == "$help_ranges" ]] || cp_fail "README [$readme_ranges], --help [$help_ranges]"
grep -q -F '.tar takes none' "$CP_WORK/logs/help" || cp_fail "--help does not say .tar takes no level" "$CP_WORK/logs/help"
mapfile -t R < <(grep -o -E '(zstd|xz|gzip) [0-9]+-[0-9]+' "$CP_WORK/logs/help" | sort -u)
for r in "${R[@]}"; do
	fmt=${r% *} lo=${r#* } hi=${r#*-} lo=${lo%-*}
	case $fmt in zstd) ext=tar.zst ;; xz) ext=tar.xz ;; gzip) ext=tar.gz ;; esac
	for bad in $((lo - 1)) $((hi + 1)); do
		outdir
		cp_expect_fail 2 "invalid compression level $bad for $fmt \($lo-$hi\)" \
			"$COREPACK" --level "$bad" -o "$O/b.$ext" "$core"
	done
	for good in "$lo" "$hi"; do
		outdir
		"$COREPACK" -q --no-backtrace --no-debug --level "$good" -o "$O/b.$ext" "$core" \
			>"$CP_WORK/logs/lvl.out" 2>"$CP_WORK/logs/lvl.err" ||
			cp_fail "--level $good for $fmt failed" "$CP_WORK/logs/lvl.err"
		tar -tf "$O/b.$ext" >/dev/null 2>&1 || cp_fail "--level $good: $O/b.$ext is not a readable tar"
	done
	cp_log "$fmt: levels $lo and $hi packed, $((lo - 1)) and $((hi + 1)) refused"
done

# --- standard output that cannot be written ---------------------------------

# full_stdout PROG CMD...: CMD >/dev/full exits 1 with exactly one line,
# "PROG: write error on standard output: No space left on device".
full_stdout() {
	local prog=$1 st=0
	shift
	cp_check "$prog >/dev/full: $*"
	"$@" >/dev/full 2>"$CP_WORK/logs/full.err" || st=$?
	[[ $st == 1 ]] || cp_fail "exit $st, expected 1: $*" "$CP_WORK/logs/full.err"
	[[ $(cat "$CP_WORK/logs/full.err") == "$prog: write error on standard output: No space left on device" ]] ||
		cp_fail "stderr is not the one write-error line: $*" "$CP_WORK/logs/full.err"
}
if [[ -c /dev/full ]]; then
	for f in table unstrip json; do
		full_stdout corepack "$COREPACK" --list --format="$f" --debug-dir "$CP_DEBUGROOT" "$core"
	done
	full_stdout corepack "$COREPACK" --help
	outdir
	full_stdout corepack "$COREPACK" --debug-dir "$CP_DEBUGROOT" -o "$O/b.tar.zst" "$core"
	tar -tf "$O/b.tar.zst" >"$CP_WORK/logs/full.list" 2>&1 || cp_fail "the bundle written with stdout full is not readable"
	grep -q '/manifest.json$' "$CP_WORK/logs/full.list" || cp_fail "the bundle written with stdout full is not whole" "$CP_WORK/logs/full.list"
	bundle=$O/b.tar.zst
	outdir
	st=0
	"$COREPACK" -q --debug-dir "$CP_DEBUGROOT" -o "$O/q.tar.zst" "$core" >/dev/full 2>"$CP_WORK/logs/q.err" || st=$?
	[[ $st == 0 && ! -s $CP_WORK/logs/q.err ]] || cp_fail "-q with stdout on /dev/full: exit $st" "$CP_WORK/logs/q.err"

	full_stdout coreunpack "$COREUNPACK" --list "$bundle"
	full_stdout coreunpack "$COREUNPACK" --help
	outdir
	full_stdout coreunpack "$COREUNPACK" -C "$O/u" "$bundle"
	[[ -f $O/u/core && -x $O/u/run-gdb.sh ]] || cp_fail "the unpack done with stdout full is not there"
	outdir
	st=0
	"$COREUNPACK" -q -C "$O/u" "$bundle" >/dev/full 2>"$CP_WORK/logs/q.err" || st=$?
	[[ $st == 0 && ! -s $CP_WORK/logs/q.err ]] || cp_fail "coreunpack -q with stdout on /dev/full: exit $st" "$CP_WORK/logs/q.err"
else
	cp_log "SKIPPED CASES: no /dev/full character device"
	outdir
	cp_pack "$core" "$O/b.tar.zst" --debug-dir "$CP_DEBUGROOT"
	bundle=$O/b.tar.zst
fi

# --- coreunpack opens the bundle first ---------------------------------------

# unpack_fails DIR PATTERN ARGS...: coreunpack in DIR exits 1 with one
# "coreunpack: " line matching PATTERN; nothing in DIR changes.
unpack_fails() {
	local dir=$1 pat=$2 st=0 before
	shift 2
	cp_check "coreunpack $* (in $(basename "$dir")): /$pat/"
	before=$(ls -lA "$dir")
	(cd "$dir" && exec "$COREUNPACK" "$@") </dev/null >"$CP_WORK/logs/u.out" 2>"$CP_WORK/logs/u.err" || st=$?
	[[ $st == 1 ]] || cp_fail "exit $st, expected 1" "$CP_WORK/logs/u.out" "$CP_WORK/logs/u.err"
	[[ $(grep -c '' "$CP_WORK/logs/u.err") == 1 ]] && grep -q -E -- "^coreunpack: $pat\$" "$CP_WORK/logs/u.err" ||
		cp_fail "stderr is not one line /^coreunpack: $pat\$/" "$CP_WORK/logs/u.err"
	[[ $(ls -lA "$dir") == "$before" ]] || cp_fail "coreunpack changed $dir"
}
outdir
printf 'an old core\n' >"$O/core"
unpack_fails "$O" "cannot open 'nosuchfile\.tar\.zst': No such file or directory" nosuchfile.tar.zst
unpack_fails "$O" "cannot open 'nosuchfile\.tar\.zst': No such file or directory" -C . nosuchfile.tar.zst
mkdir "$O/adir"
unpack_fails "$O" "'adir': not a bundle: is a directory" adir
unpack_fails "$O" "cannot open 'nosuchfile\.tar\.zst': No such file or directory" --list nosuchfile.tar.zst
unpack_fails "$O" "'\./core' already exists; not overwriting it \(-f replaces it\)" "$bundle"
unpack_fails "$O" "cannot create directory 'nope/sub': No such file or directory" -C nope/sub "$bundle"
[[ ! -e $O/nope ]] || cp_fail "coreunpack created nope/"
unpack_fails "$O" "cannot open directory 'core': Not a directory" -C core "$bundle"
cp_finish
