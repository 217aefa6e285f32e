#!/bin/bash
# corepack --list --format=unstrip speaks eu-unstrip -n's module format
# (START+SIZE BUILDID[@ADDR] FILE DEBUGFILE NAME) with libdwfl's values, so
# scripts written for `eu-unstrip -n --core` work on it.  On real cores (the
# app/libcrash/plugin trio; a threaded program linked without a build-id; a
# Python interpreter that imported its extension modules; the trio again
# after libcrash was replaced by another build and then after the plugin
# was deleted, so that both are read from the core's memory) every line is
# compared with eu-unstrip -n --core=CORE -e EXE:
#  - the same modules (keyed by START), the same START+SIZE, the same
#    BUILDID@ADDR and the same NAME;
#  - FILE and DEBUGFILE name the same file (compared by realpath), since
#    eu-unstrip prints the name it opened (the link_map name, often a
#    symlink such as /lib/x86_64-linux-gnu/libc.so.6, or -e's argument)
#    where corepack prints the canonical path of the file it packs; "."
#    and "-" must be the same.
# eu-unstrip needs -e: without it, it reads the executable's image from the
# core (FILE ".", SIZE rounded up to a page, NAME the full path).  It gets
# corepack's --debug-dir through --debuginfo-path.  Both differences are in
# the README.
# The table form (--list) is checked on the same cores, plus two whose ELF
# headers were not dumped (coredump_filter without bit 4): six columns per
# object, and the statuses printed are exactly the set the README lists.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init
cp_need eu-unstrip:elfutils realpath:coreutils

cp_build_trio
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
trio_core=$CP_CORE

mkdir -p "$CP_WORK/t"
gcc "${CP_CFLAGS[@]}" -Wl,--build-id=none -pthread -o "$CP_WORK/t/threads" "$CP_PROGS/threads.c"
[[ -z $(cp_build_id "$CP_WORK/t/threads") ]] || cp_fail "threads was linked with a build-id"
cp_crash "$CP_WORK/tcrash" "$CP_WORK/t/threads"
threads_core=$CP_CORE
# Without a build-id, the dumped ELF headers prove the file (ok); with
# none dumped either, nothing does: no-build-id.
cp_crash "$CP_WORK/tucrash" bash -c 'echo 0x23 >/proc/self/coredump_filter && exec "$0" "$@"' \
	"$CP_WORK/t/threads"
threads_unverified_core=$CP_CORE

# No ELF header pages in the core: no build-id to check against.
cp_crash "$CP_WORK/ucrash" bash -c 'echo 0x23 >/proc/self/coredump_filter && exec "$0" "$@"' \
	"$CP_APP" "$CP_PLUGIN_LINK"
unverified_core=$CP_CORE

py_core=
if [[ -x /usr/bin/python3 ]]; then
	cat >"$CP_WORK/imp.py" <<'PY'
import glob, importlib, os, sys
for d in sys.path:
    if d.endswith("lib-dynload"):
        for so in sorted(glob.glob(d + "/*.so")):
            try:
                importlib.import_module(os.path.basename(so).split(".")[0])
            except Exception:
                pass
os.abort()
PY
	cp_crash "$CP_WORK/py" /usr/bin/python3 "$CP_WORK/imp.py"
	py_core=$CP_CORE
else
	cp_log "no /usr/bin/python3: the Python core is left out"
fi

if [[ $CP_SELFCHECK == 1 ]]; then
	cp_log "PASS (selfcheck: nothing to check without corepack)"
	exit 0
fi

# The same file, or the same "." / "-".
same_file() {
	if [[ $1 == . || $1 == - || $2 == . || $2 == - ]]; then
		[[ $1 == "$2" ]]
	else
		[[ $(realpath -e -- "$1" 2>/dev/null) == "$(realpath -e -- "$2" 2>/dev/null)" &&
			-n $(realpath -e -- "$1" 2>/dev/null) ]]
	fi
}

STATUSES=()
# table TAG CORE [corepack options...]: --list's table: six columns on every
# object line; the statuses go to STATUSES.
table() {
	local tag=$1 core=$2 log=$CP_WORK/logs/$1 n=0 line f
	shift 2
	(cd "$CP_WORK" && "$COREPACK" --list "$@" "$core") >"$log.table" 2>"$log.table-err" ||
		cp_fail "$tag: corepack --list failed" "$log.table-err"
	while IFS= read -r line; do
		read -r -a f <<<"$line"
		if [[ $line =~ ^[0-9]+\ objects: ]]; then
			n=$((n + 1))
			continue
		fi
		((${#f[@]} == 6)) || cp_fail "$tag: table line without six columns: '$line'" "$log.table"
		[[ ${f[0]} == - || ${f[0]} =~ ^0x[0-9a-f]+-0x[0-9a-f]+$ ]] ||
			cp_fail "$tag: bad RANGE '${f[0]}'" "$log.table"
		STATUSES+=("${f[3]}")
	done <"$log.table"
	((n == 1)) || cp_fail "$tag: $n totals lines in the table, expected 1" "$log.table"
}

# compare TAG CORE EXE [corepack options...]: --format=unstrip against
# eu-unstrip -n --core=CORE -e EXE, line by line.
compare() {
	local tag=$1 core=$2 exe=$3 log=$CP_WORK/logs/$1 dbg=
	shift 3
	local a
	for a in "$@"; do
		[[ $a == --debug-dir=* ]] && dbg=$dbg:${a#--debug-dir=}
	done
	cp_check "$tag: corepack --list --format=unstrip and eu-unstrip -n --core -e agree"
	(cd "$CP_WORK" && eu-unstrip -n --core="$core" -e "$exe" \
		--debuginfo-path=":.debug:/usr/lib/debug$dbg") >"$log.eu" 2>"$log.eu-err" ||
		cp_fail "$tag: eu-unstrip -n failed" "$log.eu-err"
	(cd "$CP_WORK" && "$COREPACK" --list --format=unstrip "$@" "$core") >"$log.cp" 2>"$log.cp-err" ||
		cp_fail "$tag: corepack --list --format=unstrip failed" "$log.cp-err"
	local -A eu=() cp=()
	local range id file debug name k
	while read -r range id file debug name; do
		[[ -n $range ]] || continue
		eu[${range%%+*}]="$range"$'\t'"$id"$'\t'"$file"$'\t'"$debug"$'\t'"$name"
	done <"$log.eu"
	while read -r range id file debug name; do
		[[ $range =~ ^0x[0-9a-f]+\+0x[0-9a-f]+$ ]] ||
			cp_fail "$tag: corepack line does not start with START+SIZE: '$range $id ...'" "$log.cp"
		[[ -n $name ]] || cp_fail "$tag: corepack line with fewer than five columns" "$log.cp"
		[[ -z ${cp[${range%%+*}]:-} ]] || cp_fail "$tag: two corepack lines at ${range%%+*}" "$log.cp"
		cp[${range%%+*}]="$range"$'\t'"$id"$'\t'"$file"$'\t'"$debug"$'\t'"$name"
	done <"$log.cp"
	((${#eu[@]} > 0)) || cp_fail "$tag: eu-unstrip listed nothing" "$log.eu" "$log.eu-err"
	for k in "${!eu[@]}"; do
		[[ -n ${cp[$k]:-} ]] || cp_fail "$tag: eu-unstrip lists a module at $k, corepack does not" "$log.eu" "$log.cp"
	done
	for k in "${!cp[@]}"; do
		[[ -n ${eu[$k]:-} ]] || cp_fail "$tag: corepack lists a module at $k, eu-unstrip does not" "$log.eu" "$log.cp"
		local e c
		IFS=$'\t' read -r -a e <<<"${eu[$k]}"
		IFS=$'\t' read -r -a c <<<"${cp[$k]}"
		[[ ${c[0]} == "${e[0]}" ]] || cp_fail "$tag: $k: START+SIZE ${c[0]}, eu-unstrip ${e[0]}" "$log.eu" "$log.cp"
		[[ ${c[1]} == "${e[1]}" ]] || cp_fail "$tag: $k: BUILDID ${c[1]}, eu-unstrip ${e[1]}" "$log.eu" "$log.cp"
		same_file "${c[2]}" "${e[2]}" || cp_fail "$tag: $k: FILE '${c[2]}', eu-unstrip '${e[2]}'" "$log.eu" "$log.cp"
		same_file "${c[3]}" "${e[3]}" || cp_fail "$tag: $k: DEBUGFILE '${c[3]}', eu-unstrip '${e[3]}'" "$log.eu" "$log.cp"
		[[ ${c[4]} == "${e[4]}" ]] || cp_fail "$tag: $k: NAME '${c[4]}', eu-unstrip '${e[4]}'" "$log.eu" "$log.cp"
	done
	cp_log "$tag: ${#cp[@]} modules, every line agrees"
	RESULT+=("$tag ${#cp[@]}")
}

RESULT=()
compare trio "$trio_core" "$CP_APP" --debug-dir="$CP_DEBUGROOT"
table trio "$trio_core" --debug-dir="$CP_DEBUGROOT"
cp_check "the trio: libraries, the loader and the vDSO are there, each with a build-id@ADDR"
for n in libcrash.so.1 plugin.so libc.so.6 linux-vdso.so.1 app; do
	grep -q -E "^0x[0-9a-f]+\+0x[0-9a-f]+ [0-9a-f]{40}@0x[0-9a-f]+ .* $n\$" "$CP_WORK/logs/trio.cp" ||
		cp_fail "no line for $n with a build-id@ADDR" "$CP_WORK/logs/trio.cp"
done
grep -q ' \. - linux-vdso.so.1$' "$CP_WORK/logs/trio.cp" || cp_fail "the vDSO's FILE is not '.'" "$CP_WORK/logs/trio.cp"
grep -q 'libthread_db' "$CP_WORK/logs/trio.cp" && cp_fail "libthread_db (not mapped) is listed" "$CP_WORK/logs/trio.cp"

table unverified "$unverified_core" --debug-dir="$CP_DEBUGROOT"
grep -q ' unverified ' "$CP_WORK/logs/unverified.table" ||
	cp_fail "no object 'unverified' in a core without ELF headers" "$CP_WORK/logs/unverified.table"

compare threads "$threads_core" "$CP_WORK/t/threads"
table threads "$threads_core"
grep -q -E ' ok .* '"$CP_WORK/t/threads"'$' "$CP_WORK/logs/threads.table" ||
	cp_fail "threads (no build-id, headers dumped) is not 'ok'" "$CP_WORK/logs/threads.table"
table threads-unverified "$threads_unverified_core"
grep -q -E ' no-build-id .* '"$CP_WORK/t/threads"'$' "$CP_WORK/logs/threads-unverified.table" ||
	cp_fail "threads (no build-id, no headers dumped) is not 'no-build-id'" "$CP_WORK/logs/threads-unverified.table"
grep -q -E '^0x[0-9a-f]+\+0x[0-9a-f]+ - .* \. threads$' "$CP_WORK/logs/threads.cp" ||
	cp_fail "threads (no build-id, own DWARF): not '- FILE . threads'" "$CP_WORK/logs/threads.cp"

if [[ -n $py_core ]]; then
	# eu-unstrip names the executable after -e's argument: give it the
	# file the kernel mapped (python3.11), not the python3 symlink.
	compare python "$py_core" "$(realpath /usr/bin/python3)"
	n=$(grep -c '' "$CP_WORK/logs/python.cp")
	((n >= 20)) || cp_fail "python: only $n modules" "$CP_WORK/logs/python.cp"
fi

# Another build of libcrash over the file the process had loaded (same
# inode: the core's NT_FILE name stays), then the plugin deleted.
cp_build_lib "$CP_WORK/rebuild/libcrash.so.1.0.0" -DLIBCRASH_VARIANT=2
cat "$CP_WORK/rebuild/libcrash.so.1.0.0" >"$CP_LIB"
compare mismatch "$trio_core" "$CP_APP" --debug-dir="$CP_DEBUGROOT"
table mismatch "$trio_core" --debug-dir="$CP_DEBUGROOT"
grep -q -E "^0x[0-9a-f]+\+0x[0-9a-f]+ [0-9a-f]{40}@0x[0-9a-f]+ - - $CP_LIB\$" "$CP_WORK/logs/mismatch.cp" ||
	cp_fail "libcrash (mismatch) is not listed from memory ('- - PATH')" "$CP_WORK/logs/mismatch.cp"
rm -f "$CP_PLUGIN"
compare missing "$trio_core" "$CP_APP" --debug-dir="$CP_DEBUGROOT"
table missing "$trio_core" --debug-dir="$CP_DEBUGROOT"

cp_check "the statuses printed are exactly the README's list"
printed=$(printf '%s\n' "${STATUSES[@]}" | sort -u | tr '\n' ' ')
documented=$(sed -n '/^## corepack$/,/^## coreunpack$/p' "${CP_SRC_DIR:-$CP_E2E_DIR/../..}/README.md" |
	sed -n 's/^- `\([a-z-]*\)`: .*/\1/p' | sort -u | tr '\n' ' ')
[[ -n $documented ]] || cp_fail "no status list ('- \`STATUS\`: ...') in the README's corepack section"
[[ $printed == "$documented" ]] ||
	cp_fail "statuses printed: [$printed]; the README lists: [$documented]"
cp_log "statuses: $printed"
cp_log "RESULT modules compared with eu-unstrip: ${RESULT[*]}"
cp_finish
