#!/bin/bash
# Bad input and bad output: each case must fail with the documented exit
# status (1 failure, 2 usage), one "corepack: ..." line on stderr naming
# the file, and no output file left behind (an existing one untouched).
# A core cut short after its notes must still pack, with a warning that
# says "truncated".
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init

cp_build_trio
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
core=$CP_CORE
w=$CP_WORK/in
mkdir -p "$w"

# An empty output directory per case: cp_expect_fail checks nothing is left.
n=0
outdir() {
	n=$((n + 1))
	O=$CP_WORK/out$n
	mkdir -p "$O"
}

# Where the notes and the PT_LOAD data lie in the core (readelf -lW).
note_off=0 note_size=0 load_start=0 load_end=0
while read -r type off _ _ filesz _; do
	case $type in
	NOTE) ((note_size == 0)) && note_off=$((off)) note_size=$((filesz)) ;;
	LOAD)
		((filesz > 0)) || continue
		((load_start == 0)) && load_start=$((off))
		((off + filesz > load_end)) && load_end=$((off + filesz))
		;;
	esac
done < <(readelf -lW "$core" | grep -E '^ +(NOTE|LOAD) ')
((note_size > 0 && load_end > load_start && load_start >= note_off + note_size)) ||
	cp_fail "cannot find PT_NOTE/PT_LOAD in the core (note $note_off+$note_size, load $load_start-$load_end)"
data_cut=$(((load_start + load_end) / 2))

cp --sparse=always "$core" "$w/core-notes-cut"
truncate -s $((note_off + note_size / 2)) "$w/core-notes-cut"
cp --sparse=always "$core" "$w/core-data-cut"
truncate -s "$data_cut" "$w/core-data-cut"
: >"$w/empty-core"
printf 'this is not a core file\n' >"$w/text-core"
mkdir "$w/dir-core"

if [[ $CP_SELFCHECK == 1 ]]; then
	cp_log "core: PT_NOTE at $note_off+$note_size, PT_LOAD data $load_start-$load_end, cut at $data_cut"
	eu-unstrip -n --core="$w/core-data-cut" >"$CP_WORK/logs/unstrip" 2>&1 ||
		cp_fail "eu-unstrip cannot read the core cut after its notes" "$CP_WORK/logs/unstrip"
	cp_log "PASS (selfcheck)"
	exit 0
fi

outdir
cp_expect_fail 1 "no-such-core" "$COREPACK" -o "$O/out.tar.zst" "$w/no-such-core"
outdir
cp_expect_fail 1 "dir-core" "$COREPACK" -o "$O/out.tar.zst" "$w/dir-core"
outdir
cp_expect_fail 1 "empty-core" "$COREPACK" -o "$O/out.tar.zst" "$w/empty-core"
outdir
cp_expect_fail 1 "text-core" "$COREPACK" -o "$O/out.tar.zst" "$w/text-core"
outdir
cp_expect_fail 1 "/bin/true" "$COREPACK" -o "$O/out.tar.zst" /bin/true
outdir
cp_expect_fail 1 "core-notes-cut" "$COREPACK" -o "$O/out.tar.zst" "$w/core-notes-cut"
outdir
cp_expect_fail 1 "no-such-exe" "$COREPACK" -e "$w/no-such-exe" -o "$O/out.tar.zst" "$core"
outdir
cp_expect_fail 1 "dir-core.*not a regular file" "$COREPACK" -e "$w/dir-core" -o "$O/out.tar.zst" "$core"
outdir
cp_expect_fail 2 "--json goes with --list" "$COREPACK" --json "$core"

outdir
cp_expect_fail 2 "no-such-option" "$COREPACK" --no-such-option -o "$O/out.tar.zst" "$core"
outdir
cp_expect_fail 2 "." "$COREPACK" -o "$O/out.tar.zst"
outdir
cp_expect_fail 2 "level|notanumber" "$COREPACK" --level notanumber -o "$O/out.tar.zst" "$core"

outdir
cp_expect_fail 1 "no-such-dir" "$COREPACK" -o "$O/no-such-dir/out.tar.zst" "$core"
[[ ! -e $O/no-such-dir ]] || cp_fail "corepack created the missing output directory $O/no-such-dir"

outdir
printf 'precious\n' >"$O/exists.tar.zst"
cp_expect_fail 1 "exists\.tar\.zst" "$COREPACK" -o "$O/exists.tar.zst" "$core"
[[ $(cat "$O/exists.tar.zst") == precious ]] || cp_fail "existing output was overwritten without -f"

# -o /dev/full -f: the write fails; /dev/full must stay a device.  As root
# this runs with /dev a private tmpfs (a corepack that renamed a temporary
# file over /dev/full would otherwise replace the host's device node).
fake_dev() {
	unshare -m -- bash -c '
		mount -t tmpfs -o mode=755 cp-dev /dev || exit 125
		mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 &&
			mknod -m 666 /dev/full c 1 7 && mknod -m 666 /dev/random c 1 8 &&
			mknod -m 666 /dev/urandom c 1 9 || exit 125
		ln -s /proc/self/fd /dev/fd
		ln -s fd/0 /dev/stdin; ln -s fd/1 /dev/stdout; ln -s fd/2 /dev/stderr
		before=$(ls -A /dev)
		st=0
		"$@" || st=$?
		[ -c /dev/full ] || { echo "TEST: /dev/full is no longer a character device" >&2; exit 99; }
		[ "$(ls -A /dev)" = "$before" ] || { echo "TEST: files left in /dev: $(ls -A /dev)" >&2; exit 99; }
		exit $st' bash "$@"
}
if [[ $(id -u) != 0 ]]; then
	cp_expect_fail 1 "/dev/full" "$COREPACK" -o /dev/full -f "$core"
elif [[ $CP_HIDE_NS == 1 ]] && fake_dev true 2>/dev/null; then
	cp_expect_fail 1 "/dev/full" fake_dev "$COREPACK" -o /dev/full -f "$core"
else
	cp_log "SKIPPED CASE: -o /dev/full -f (root without a mount namespace: would risk the host's /dev/full)"
fi

# A filesystem that fills up mid-write: exit 1, the partial file removed.
if [[ $CP_HIDE_NS == 1 ]]; then
	outdir
	small_fs() {
		unshare -m -- sh -c 'mount -t tmpfs -o size=16k cp-small "$1" || exit 125
			shift; st=0; "$@" || st=$?
			left=$(ls -A "$0")
			[ -z "$left" ] || { echo "TEST: files left on the full filesystem: $left" >&2; exit 99; }
			exit $st' "$O" "$O" "$@"
	}
	cp_expect_fail 1 "out\.tar\.zst|$O" small_fs "$COREPACK" -o "$O/out.tar.zst" "$core"
fi

# Cut short after the notes: the libraries are still worth packing.
cp_pack "$w/core-data-cut" "$CP_WORK/truncated.tar.zst"
cp_check "a warning on stderr says 'truncated' and names the core"
grep -i 'truncated' "$CP_PACK_ERR" | grep -q 'core-data-cut' ||
	cp_fail "no stderr line mentions 'truncated' and core-data-cut" "$CP_PACK_ERR"
cp_extract "$CP_BUNDLE_FILE"
cp_check_layout "$w/core-data-cut"
cp_report
