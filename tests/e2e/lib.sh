# Shared helpers for the end-to-end tests (tests/e2e/run-*.sh).
#
# A test sources this file, calls cp_init, builds its programs from progs/
# in its private work directory, crashes them, packs the core with $COREPACK,
# extracts the bundle into a second private directory, hides the originals
# and checks what gdb on the bundle shows.  Exit 0 pass, 1 fail, 77 skip.
#
# Environment (set by tests/e2e/CMakeLists.txt): COREPACK, COREUNPACK,
# CP_E2E_DIR, CP_SRC_DIR.  CP_E2E_SELFCHECK=1 runs gdb directly on the
# original files instead of packing, to validate the programs and the
# assertions without corepack.  CP_E2E_KEEP=1 keeps the temporary
# directories.  CP_E2E_NO_NS=1 uses no mount namespace (to test the
# fallback that deletes the originals).
#
# Helpers put their results in CP_* variables (bash functions cannot
# return strings without a subshell, and subshells lose variables).

set -Eeuo pipefail
# A command that fails outside a check still says where, not just exit 1.
trap 'printf "%s: FAIL: unexpected exit status %s at %s line %s: %s\n" "${CP_TEST:-e2e}" "$?" \
	"$(basename "${BASH_SOURCE[0]}")" "$LINENO" "$BASH_COMMAND"' ERR

export LC_ALL=C
unset DEBUGINFOD_URLS GDBHISTFILE || true

CP_E2E_DIR=${CP_E2E_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
CP_PROGS=$CP_E2E_DIR/progs
CP_TEST=$(basename "${0%.sh}")
CP_SELFCHECK=${CP_E2E_SELFCHECK:-0}
# Flags every test program is built with.
# shellcheck disable=SC2054 # -Wl,--build-id is one word
CP_CFLAGS=(-g -O0 -fno-omit-frame-pointer -Wl,--build-id -Wall)

cp_log() { printf '%s: %s\n' "$CP_TEST" "$*"; }

cp_check() { printf '%s: checking %s\n' "$CP_TEST" "$*"; }

# cp_fail MESSAGE [FILE...]: print a FAIL line and the files, then exit 1.
cp_fail() {
	local msg=$1 f
	shift
	printf '%s: FAIL: %s\n' "$CP_TEST" "$msg"
	for f in "$@"; do
		[[ -e $f ]] || continue
		printf -- '----- %s -----\n' "$f"
		cat -- "$f"
		printf -- '----- end of %s -----\n' "$f"
	done
	exit 1
}

# cp_fail_later MESSAGE: a failure that does not stop the test: the other
# checks still run, cp_report fails the test at the end.
CP_LATER=()
cp_fail_later() {
	printf '%s: FAIL (reported at the end): %s\n' "$CP_TEST" "$1"
	CP_LATER+=("$1")
}

# cp_skip REASON: skip (exit 77).  Under CI=true (.ci/run) a skip is a
# failure unless the test is listed in CP_ALLOWED_SKIPS (tests/CMakeLists.txt),
# which gives it CP_SKIP_ALLOWED (the listed reason).
cp_skip() {
	if [[ ${CI:-} == true && -z ${CP_SKIP_ALLOWED:-} ]]; then
		printf '%s: FAIL: skipped under CI=true but not listed in CP_ALLOWED_SKIPS (tests/CMakeLists.txt): %s\n' \
			"$CP_TEST" "$*"
		exit 1
	fi
	printf '%s: SKIP: %s\n' "$CP_TEST" "$*"
	exit 77
}

# Other directories a test made, removed with CP_WORK (cp_cleanup).
CP_EXTRA_DIRS=()

cp_cleanup() {
	local d
	if [[ ${CP_E2E_KEEP:-0} == 1 ]]; then
		cp_log "kept $CP_WORK $CP_UNPACK"
		return
	fi
	for d in "${CP_WORK:-}" "${CP_UNPACK:-}" "${CP_EXTRA_DIRS[@]}"; do
		[[ -n $d && -d $d ]] && rm -rf -- "$d"
	done
	return 0
}

# cp_need TOOL:PACKAGE...: skip when a tool the test needs is missing.
cp_need() {
	local spec
	for spec in "$@"; do
		command -v "${spec%%:*}" >/dev/null 2>&1 ||
			cp_skip "'${spec%%:*}' not found (apt-get install ${spec#*:})"
	done
}

# cp_init: private directories, core limits, core_pattern, tools.
#   CP_WORK    the origin side: programs, debug files, cores (hidden later)
#   CP_UNPACK  the debugging side: bundles are extracted here
cp_init() {
	cp_need gcc:gcc gdb:gdb tar:tar zstd:zstd jq:jq readelf:binutils \
		objcopy:binutils strip:binutils
	CP_WORK=$(mktemp -d "${TMPDIR:-/tmp}/cp-e2e-$CP_TEST-work.XXXXXX")
	CP_UNPACK=$(mktemp -d "${TMPDIR:-/tmp}/cp-e2e-$CP_TEST-unpack.XXXXXX")
	trap cp_cleanup EXIT
	mkdir -p "$CP_WORK/logs"

	ulimit -c unlimited 2>/dev/null ||
		cp_skip "cannot raise the core size limit (ulimit -c unlimited: hard limit $(ulimit -H -c))"
	# run-handler-kernel sets kernel.core_pattern for the whole machine: it
	# holds this lock exclusively while it does (cp_lock_core_pattern), and
	# every test holds it shared from here to its end, so that a suite
	# running beside another (another checkout, another user) never sees
	# the other's pattern.  Without flock(1), or the lock file, no lock.
	local lock=/tmp/corepack-e2e-core-pattern.lock
	if command -v flock >/dev/null && { [[ -f $lock && ! -L $lock ]] || (umask 022 && : >>"$lock") 2>/dev/null; }; then
		exec {CP_PATTERN_LOCK_FD}<"$lock"
		flock -s -w 900 "$CP_PATTERN_LOCK_FD" ||
			cp_fail "another test held $lock (kernel.core_pattern) for 15 minutes"
	fi
	CP_CORE_PATTERN=$(cat /proc/sys/kernel/core_pattern)
	case $CP_CORE_PATTERN in
	'|'*) cp_skip "core_pattern pipes cores to a helper ('$CP_CORE_PATTERN'), no core file to pack" ;;
	'') cp_skip "core_pattern is empty: the kernel writes no core files" ;;
	esac
	if [[ $CP_CORE_PATTERN == */* && ${CP_CORE_PATTERN%/*} == *%* ]]; then
		cp_skip "core_pattern '$CP_CORE_PATTERN' has a %-specifier in its directory"
	fi

	if [[ $CP_SELFCHECK == 1 ]]; then
		cp_log "SELFCHECK mode: gdb runs on the original files, corepack is not run"
	else
		[[ -n ${COREPACK:-} ]] || cp_fail "COREPACK is not set (run through ctest, or export COREPACK=path/to/corepack)"
		[[ -x $COREPACK ]] || cp_fail "COREPACK='$COREPACK' is not an executable file"
	fi

	# Can the originals be hidden under a private mount namespace?
	CP_HIDE_NS=0
	if [[ ${CP_E2E_NO_NS:-0} != 1 && $(id -u) == 0 ]] && command -v unshare >/dev/null &&
		unshare -m -- mount -t tmpfs cp-probe "$CP_WORK/logs" 2>/dev/null; then
		CP_HIDE_NS=1
	fi
	CP_HIDE=()
}

# cp_line FILE TAG: the line of FILE marked with "LINE:TAG".
cp_line() {
	local n
	n=$(grep -n -E "LINE:$2( |\$)" "$1" | cut -d: -f1)
	[[ $n =~ ^[0-9]+$ ]] || cp_fail "no single 'LINE:$2' marker in $1"
	printf '%s\n' "$n"
}

# cp_build_id FILE: the GNU build-id of an ELF file, hex.
cp_build_id() {
	readelf -nW "$1" | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p' | head -n1
}

# cp_split_debug FILE DEBUGFILE: move FILE's debug info to DEBUGFILE and
# link it with .gnu_debuglink (the debug file must stay at that name).
cp_split_debug() {
	objcopy --only-keep-debug "$1" "$2"
	strip --strip-debug --strip-unneeded "$1"
	objcopy --add-gnu-debuglink="$2" "$1"
}

# cp_build_lib OUTFILE [CFLAGS...]: build libcrash (SONAME libcrash.so.1)
# stripped, with its debug file in .debug/ beside it.
cp_build_lib() {
	local out=$1 dir
	shift
	dir=$(dirname "$out")
	mkdir -p "$dir/.debug"
	gcc "${CP_CFLAGS[@]}" "$@" -fPIC -shared -Wl,-soname,libcrash.so.1 \
		-o "$out" "$CP_PROGS/libcrash.c"
	cp_split_debug "$out" "$dir/.debug/$(basename "$out").debug"
}

# cp_build_trio [CFLAGS...]: app + libcrash + plugin, all stripped, their
# debug info placed three ways.  Sets:
#   CP_APP            $CP_WORK/b/bin/app (debug: build-id tree in CP_DEBUGROOT)
#   CP_DEBUGROOT      $CP_WORK/dbg, to pass with --debug-dir
#   CP_LIB            $CP_WORK/b/lib/libcrash.so.1.0.0 (debug: lib/.debug/)
#   CP_LIB_SONAME     $CP_WORK/b/lib/libcrash.so.1 -> libcrash.so.1.0.0
#   CP_PLUGIN         $CP_WORK/b/plugins/crashplugin-1.0.so (debug: beside it)
#   CP_PLUGIN_LINK    $CP_WORK/b/plugin.so -> plugins/crashplugin-1.0.so,
#                     the name the app dlopens
cp_build_trio() {
	local b=$CP_WORK/b id
	mkdir -p "$b/bin" "$b/lib" "$b/plugins" "$CP_WORK/dbg"
	CP_DEBUGROOT=$CP_WORK/dbg
	CP_LIB=$b/lib/libcrash.so.1.0.0
	CP_LIB_SONAME=$b/lib/libcrash.so.1
	CP_PLUGIN=$b/plugins/crashplugin-1.0.so
	CP_PLUGIN_LINK=$b/plugin.so
	CP_APP=$b/bin/app

	cp_build_lib "$CP_LIB" "$@"
	ln -s libcrash.so.1.0.0 "$CP_LIB_SONAME"
	ln -s libcrash.so.1 "$b/lib/libcrash.so"

	gcc "${CP_CFLAGS[@]}" "$@" -fPIC -shared -I"$CP_PROGS" -o "$CP_PLUGIN" \
		"$CP_PROGS/plugin.c" -L"$b/lib" -lcrash -Wl,-rpath,"$b/lib"
	cp_split_debug "$CP_PLUGIN" "$CP_PLUGIN.debug"
	ln -s plugins/crashplugin-1.0.so "$CP_PLUGIN_LINK"

	gcc "${CP_CFLAGS[@]}" "$@" -I"$CP_PROGS" -o "$CP_APP" "$CP_PROGS/app.c" \
		-L"$b/lib" -lcrash -Wl,-rpath,"$b/lib" -ldl
	cp_split_debug "$CP_APP" "$b/bin/app.debug"
	id=$(cp_build_id "$CP_APP")
	[[ -n $id ]] || cp_fail "$CP_APP has no build-id"
	mkdir -p "$CP_DEBUGROOT/.build-id/${id:0:2}"
	mv "$b/bin/app.debug" "$CP_DEBUGROOT/.build-id/${id:0:2}/${id:2}.debug"
}

# The frames gdb must show for the app's crash, innermost first.
cp_trio_frames() {
	CP_FRAMES=(
		"crash_store libcrash.c:$(cp_line "$CP_PROGS/libcrash.c" crash_store)"
		"crash_deep libcrash.c:$(cp_line "$CP_PROGS/libcrash.c" crash_deep)"
		"plugin_entry plugin.c:$(cp_line "$CP_PROGS/plugin.c" plugin_entry)"
		"app_run app.c:$(cp_line "$CP_PROGS/app.c" app_run)"
		"main app.c:$(cp_line "$CP_PROGS/app.c" main)"
	)
}

# --- crashing -----------------------------------------------------------

# Where the kernel writes cores for a process whose cwd is $1, and the
# prefix of their names.
cp_core_location() {
	local pat=$CP_CORE_PATTERN
	if [[ $pat == /* ]]; then
		CP_CORE_DIR=${pat%/*}
	elif [[ $pat == */* ]]; then
		CP_CORE_DIR=$1/${pat%/*}
	else
		CP_CORE_DIR=$1
	fi
	CP_CORE_DIR=${CP_CORE_DIR:-/}
	pat=${pat##*/}
	CP_CORE_PREFIX=${pat%%%*}
}

# cp_find_core DIR PID STAMP: set CP_CORE to the core written after STAMP
# by process PID that ran in DIR.
cp_find_core() {
	local dir=$1 pid=$2 stamp=$3 f cands=()
	cp_core_location "$dir"
	while IFS= read -r -d '' f; do
		cands+=("$f")
	done < <(find "$CP_CORE_DIR" -maxdepth 1 -type f -name "$CP_CORE_PREFIX*" \
		! -name '.*' -newer "$stamp" -print0 2>/dev/null)
	if ((${#cands[@]} > 1)); then
		# Several tests may share an absolute core directory: keep ours.
		local mine=()
		for f in "${cands[@]}"; do
			[[ ${f##*/} == *"$pid"* ]] && mine+=("$f")
		done
		cands=("${mine[@]}")
	fi
	((${#cands[@]} == 1)) ||
		cp_skip "the crash of pid $pid left ${#cands[@]} core files in $CP_CORE_DIR (core_pattern '$CP_CORE_PATTERN'): cannot produce cores here"
	CP_CORE=${cands[0]}
}

# cp_lock_core_pattern: hold the core_pattern lock (cp_init) alone, for a
# test that changes kernel.core_pattern: waits until every other test that
# took it shared has finished.
cp_lock_core_pattern() {
	[[ -n ${CP_PATTERN_LOCK_FD:-} ]] || return 0
	flock -x -w 900 "$CP_PATTERN_LOCK_FD" ||
		cp_fail "other tests held the core_pattern lock for 15 minutes"
}

# cp_crash DIR CMD...: run CMD in DIR (created), expect it to die of a
# signal, set CP_CORE to the core it wrote.
cp_crash() {
	local dir=$1 pid st=0
	shift
	mkdir -p "$dir"
	touch "$dir/.stamp"
	(cd "$dir" && exec "$@") </dev/null >"$dir/.out" 2>"$dir/.err" &
	pid=$!
	wait "$pid" 2>/dev/null || st=$?
	((st > 128)) || cp_fail "'$*' was expected to crash, exit status $st" "$dir/.out" "$dir/.err"
	cp_find_core "$dir" "$pid" "$dir/.stamp"
	cp_log "crashed '$(basename "$1")' (signal $((st - 128))), core $CP_CORE"
}

# cp_start_waiting DIR CMD...: start CMD in DIR in the background with its
# stdin and stdout on fifos (CMD prints "ready" and blocks reading stdin),
# and wait until it says "ready".  Sets CP_WAIT_PID.
cp_start_waiting() {
	local dir=$1 line=
	shift
	mkdir -p "$dir"
	mkfifo "$dir/.go" "$dir/.ready"
	# Read-write opens never block, so neither side can deadlock on open.
	exec {CP_GO_FD}<>"$dir/.go" {CP_READY_FD}<>"$dir/.ready"
	touch "$dir/.stamp"
	(cd "$dir" && exec "$@") <"$dir/.go" >"$dir/.ready" 2>"$dir/.err" &
	CP_WAIT_PID=$!
	CP_WAIT_DIR=$dir
	# The timeout only turns a hang into a failure; it is not synchronisation.
	read -r -t 30 -u "$CP_READY_FD" line || true
	[[ $line == ready ]] || cp_fail "'$*' did not become ready (got '$line')" "$dir/.err"
}

# cp_release_crash: let the waiting program continue to its crash; set CP_CORE.
cp_release_crash() {
	local st=0
	printf 'go\n' >&"$CP_GO_FD"
	wait "$CP_WAIT_PID" 2>/dev/null || st=$?
	exec {CP_GO_FD}>&- {CP_READY_FD}>&-
	((st > 128)) || cp_fail "the released program was expected to crash, exit status $st" "$CP_WAIT_DIR/.err"
	cp_find_core "$CP_WAIT_DIR" "$CP_WAIT_PID" "$CP_WAIT_DIR/.stamp"
	cp_log "released pid $CP_WAIT_PID: signal $((st - 128)), core $CP_CORE"
}

# cp_kill_waiting: end the waiting program without a core.
cp_kill_waiting() {
	kill -KILL "$CP_WAIT_PID" 2>/dev/null || true
	wait "$CP_WAIT_PID" 2>/dev/null || true
	exec {CP_GO_FD}>&- {CP_READY_FD}>&-
}

# cp_wait_writing PID DIR: wait (at most 10 s) until process PID has a file
# of DIR open for writing with data in it: corepack's temporary bundle,
# unnamed (O_TMPFILE: "DIR/#INODE (deleted)") or hidden (".NAME.XXXXXX").
# Fails (status 1) when it does not, or when PID ends first.
cp_wait_writing() {
	local pid=$1 dir fd t i
	dir=$(cd "$2" && pwd -P)
	for ((i = 0; i < 200; i++)); do
		[[ -d /proc/$pid/fd ]] || return 1
		for fd in /proc/"$pid"/fd/*; do
			t=$(readlink "$fd" 2>/dev/null) || continue
			[[ $t == "$dir"/* && $(stat -L -c %s "$fd" 2>/dev/null || echo 0) -gt 0 ]] && return 0
		done
		sleep 0.05
	done
	return 1
}

# cp_drop_nt_file CORE OUT: OUT is CORE (a 64-bit little-endian kernel
# core) with its NT_FILE note's type changed to one nobody knows, as in a
# core from an old kernel or a dumper that writes none; holes are kept.
cp_drop_nt_file() {
	cp --sparse=always -- "$1" "$2"
	python3 - "$2" >"$CP_WORK/logs/drop-nt-file.out" 2>&1 <<'PY' ||
import struct, sys
NT_FILE, UNKNOWN, PT_NOTE, PN_XNUM = 0x46494C45, 0x46494C58, 4, 0xFFFF
with open(sys.argv[1], 'r+b') as f:
    eh = f.read(64)
    if eh[:4] != b'\x7fELF' or eh[4] != 2 or eh[5] != 1:
        sys.exit('not a 64-bit little-endian ELF file')
    phoff, shoff = struct.unpack_from('<QQ', eh, 32)
    phentsize, phnum = struct.unpack_from('<HH', eh, 54)
    if phnum == PN_XNUM:  # the count is section 0's sh_info
        f.seek(shoff)
        phnum = struct.unpack_from('<I', f.read(64), 44)[0]
    changed = 0
    for i in range(phnum):
        f.seek(phoff + i * phentsize)
        ph = f.read(56)
        if struct.unpack_from('<I', ph, 0)[0] != PT_NOTE:
            continue
        off, size = struct.unpack_from('<Q', ph, 8)[0], struct.unpack_from('<Q', ph, 32)[0]
        f.seek(off)
        notes = f.read(size)
        pos = 0
        while pos + 12 <= len(notes):
            namesz, descsz, ntype = struct.unpack_from('<III', notes, pos)
            if ntype == NT_FILE and notes[pos + 12:pos + 12 + namesz].rstrip(b'\0') == b'CORE':
                f.seek(off + pos + 8)
                f.write(struct.pack('<I', UNKNOWN))
                changed += 1
            pos += 12 + (namesz + 3 & ~3) + (descsz + 3 & ~3)
    if changed != 1:
        sys.exit('%d NT_FILE notes found, expected 1' % changed)
PY
		cp_fail "cannot drop the NT_FILE note of $1" "$CP_WORK/logs/drop-nt-file.out"
}

# cp_has_nt_file CORE: the core has an NT_FILE note (eu-readelf -n).
cp_has_nt_file() {
	local notes
	notes=$(eu-readelf -n "$1" 2>/dev/null) || true
	grep -q -E '^ +CORE +[0-9]+ +FILE$' <<<"$notes"
}

# --- packing and extracting ---------------------------------------------

# cp_pack CORE BUNDLE [OPTION...]: run corepack, require exit 0.  Its stdout
# and stderr are in CP_PACK_OUT and CP_PACK_ERR.
cp_pack() {
	local core=$1 out=$2 st=0
	shift 2
	CP_PACK_OUT=$CP_WORK/logs/pack.out
	CP_PACK_ERR=$CP_WORK/logs/pack.err
	CP_BUNDLE_FILE=$out
	cp_log "running: corepack $* -o $out $core"
	"$COREPACK" "$@" -o "$out" "$core" >"$CP_PACK_OUT" 2>"$CP_PACK_ERR" || st=$?
	((st == 0)) || cp_fail "corepack exited $st, expected 0: corepack $* -o $out $core" \
		"$CP_PACK_OUT" "$CP_PACK_ERR"
	[[ -f $out ]] || cp_fail "corepack exited 0 but wrote no $out" "$CP_PACK_OUT" "$CP_PACK_ERR"
	CP_BUNDLE_SIZE=$(stat -c %s "$out")
	sed "s/^/  corepack stdout: /" "$CP_PACK_OUT"
	sed "s/^/  corepack stderr: /" "$CP_PACK_ERR"
}

# The top directory of a bundle named FILE: its name less .tar.*.
cp_bundle_top() {
	local n=${1##*/}
	n=${n%.tar.zst}
	n=${n%.tar.xz}
	n=${n%.tar.gz}
	n=${n%.tgz}
	n=${n%.tar}
	printf '%s\n' "$n"
}

# cp_extract BUNDLE: extract with plain tar into a fresh directory of
# CP_UNPACK; sets CP_BUNDLE_DIR to the bundle's top directory.
cp_extract() {
	local bundle=$1 dest top
	dest=$(mktemp -d "$CP_UNPACK/x.XXXXXX")
	top=$(cp_bundle_top "$bundle")
	cp_check "tar -xf $(basename "$bundle") extracts everything under '$top/'"
	tar -tf "$bundle" >"$CP_WORK/logs/tar-list" 2>"$CP_WORK/logs/tar-list-err" ||
		cp_fail "tar -tf cannot list $bundle" "$CP_WORK/logs/tar-list-err"
	if grep -v -E "^$top(/|\$)" "$CP_WORK/logs/tar-list" >"$CP_WORK/logs/tar-outside"; then
		cp_fail "bundle entries outside '$top/'" "$CP_WORK/logs/tar-outside"
	fi
	if grep -E '(^|/)\.\.(/|$)' "$CP_WORK/logs/tar-list" >"$CP_WORK/logs/tar-dotdot"; then
		cp_fail "bundle entries with '..'" "$CP_WORK/logs/tar-dotdot"
	fi
	tar -xf "$bundle" -C "$dest" 2>"$CP_WORK/logs/tar-err" ||
		cp_fail "tar -xf failed on $bundle" "$CP_WORK/logs/tar-err"
	# Warnings do not stop the other checks, but fail the test at the end.
	if [[ -s $CP_WORK/logs/tar-err ]]; then
		cp_fail_later "tar -xf $(basename "$bundle") printed $(grep -c '' "$CP_WORK/logs/tar-err") lines on stderr, first: $(head -n1 "$CP_WORK/logs/tar-err")"
	fi
	[[ -d $dest/$top ]] || cp_fail "no top directory '$top' after extracting $bundle" "$CP_WORK/logs/tar-list"
	CP_BUNDLE_DIR=$dest/$top
}

# cp_manifest JQ-FILTER [jq options...]: query the extracted manifest.
cp_manifest() {
	jq -r "$@" "$CP_BUNDLE_DIR/manifest.json"
}

# cp_check_symlinks DIR: every symlink below DIR is relative and resolves to
# an existing file inside DIR.
cp_check_symlinks() {
	local root=$1 real l t r bad=$CP_WORK/logs/bad-symlinks
	real=$(readlink -f "$root")
	: >"$bad"
	while IFS= read -r -d '' l; do
		t=$(readlink "$l")
		if [[ $t == /* ]]; then
			echo "absolute: ${l#"$root"/} -> $t" >>"$bad"
			continue
		fi
		r=$(readlink -f "$l" || true)
		if [[ -z $r || $r != "$real"/* ]]; then
			echo "escapes the bundle: ${l#"$root"/} -> $t (resolves to $r)" >>"$bad"
		elif [[ ! -e $r ]]; then
			echo "dangling: ${l#"$root"/} -> $t" >>"$bad"
		fi
	done < <(find "$root" -type l -print0)
	[[ ! -s $bad ]] || cp_fail "bad symlinks in the extracted bundle" "$bad"
}

# cp_check_layout ORIGINAL-CORE: the extracted bundle has the documented
# files, the core is the original byte for byte, the manifest is JSON whose
# objects exist in the bundle with the sha256 digests.json records, and
# every symlink stays inside.
cp_check_layout() {
	local core=$1 x=$CP_BUNDLE_DIR f n i bp sum want
	cp_check "bundle layout (core, sysroot/, manifest.json, corepack.gdb, run-gdb.sh)"
	for f in core manifest.json digests.json corepack.gdb; do
		[[ -f $x/$f && ! -L $x/$f ]] || cp_fail "bundle has no regular file '$f'" "$CP_WORK/logs/tar-list"
	done
	[[ $(head -n1 "$CP_WORK/logs/tar-list") == */manifest.json ]] ||
		cp_fail "manifest.json is not the bundle's first entry" "$CP_WORK/logs/tar-list"
	[[ -d $x/sysroot ]] || cp_fail "bundle has no sysroot/" "$CP_WORK/logs/tar-list"
	[[ -f $x/run-gdb.sh && -x $x/run-gdb.sh ]] ||
		cp_fail "bundle has no executable run-gdb.sh" "$CP_WORK/logs/tar-list"
	cmp -s "$core" "$x/core" || cp_fail "the bundle's core differs from the original $core"
	jq -e '.objects | length > 0' "$x/manifest.json" >/dev/null ||
		cp_fail "manifest.json is not JSON with a non-empty objects[]" "$x/manifest.json"

	cp_check "every manifest object with a bundle_path is in the bundle with its sha256"
	n=$(cp_manifest '.objects | length')
	for ((i = 0; i < n; i++)); do
		bp=$(cp_manifest ".objects[$i].bundle_path // empty")
		[[ -n $bp ]] || continue
		f=$x/${bp#/}
		[[ -e $f ]] || f=$(dirname "$x")/${bp#/}
		[[ -f $f ]] || cp_fail "manifest object $i: bundle_path '$bp' is not a file in the bundle" "$x/manifest.json"
		# The digest: digests.json's (manifest version 2), else the
		# object's own (version 1); a file with holes has none to compare.
		if [[ -f $x/digests.json ]]; then
			want=$(jq -r --arg p "$bp" '.files[] | select(.path == $p) | .sha256 // empty' "$x/digests.json")
		else
			want=$(cp_manifest ".objects[$i].sha256 // empty")
		fi
		if [[ -n $want ]]; then
			sum=$(sha256sum <"$f" | cut -d' ' -f1)
			[[ $sum == "$want" ]] ||
				cp_fail "manifest object $i ($bp): sha256 $want, file has $sum"
		fi
	done
	cp_check "every symlink in the bundle is relative and resolves inside it"
	cp_check_symlinks "$x"
}

# cp_manifest_object NAME-SUFFIX: set CP_OBJ to the index of the manifest
# object one of whose names ends in NAME-SUFFIX (e.g. "/libcrash.so.1").
# A name may be a string or an object with a "path".
cp_manifest_object() {
	CP_OBJ=$(cp_manifest --arg s "$1" '[.objects | to_entries[] |
		select(any(.value.names[]?; (if type == "object" then .path // .name // "" else . end)
			| tostring | sub(" \\(deleted\\)$"; "") | endswith($s)))
		| .key] | first // empty')
	[[ -n $CP_OBJ ]] || cp_fail "manifest has no object named '*$1'" "$CP_BUNDLE_DIR/manifest.json"
}

# cp_check_object NAME-SUFFIX ORIGINAL-FILE: the manifest object for the
# file is "ok", has the file's build-id and a debug file, and stdout has a
# line for it.
cp_check_object() {
	local name=$1 orig=$2 id got st dbg
	id=$(cp_build_id "$orig")
	cp_check "manifest and stdout: '$name' ok, build-id $id, with a debug file"
	cp_manifest_object "$name"
	got=$(cp_manifest ".objects[$CP_OBJ] | .build_id // .build_id_core // .build_id_file // empty")
	st=$(cp_manifest ".objects[$CP_OBJ].status // empty")
	dbg=$(cp_manifest ".objects[$CP_OBJ].debug | if type == \"array\" then length else (if . then 1 else 0 end) end")
	[[ $got == "$id" ]] || cp_fail "manifest build_id of '$name' is '$got', expected $id" "$CP_BUNDLE_DIR/manifest.json"
	[[ $st == ok ]] || cp_fail "manifest status of '$name' is '$st', expected ok" "$CP_BUNDLE_DIR/manifest.json"
	((dbg > 0)) || cp_fail "manifest lists no debug file for '$name'" "$CP_BUNDLE_DIR/manifest.json"
	[[ -f $CP_BUNDLE_DIR/debug/.build-id/${id:0:2}/${id:2}.debug ]] ||
		cp_fail "bundle has no debug/.build-id/${id:0:2}/${id:2}.debug for '$name'" "$CP_WORK/logs/tar-list"
	grep -E "$id.*[[:space:]]ok([[:space:]]|\$)" "$CP_PACK_OUT" >/dev/null ||
		cp_fail "corepack's stdout has no 'ok' line with build-id $id ($name)" "$CP_PACK_OUT"
	if grep -E "$id.*[[:space:]]ok[[:space:]]+-[[:space:]]*\$" "$CP_PACK_OUT" >/dev/null; then
		cp_fail "corepack's stdout shows no debug file ('-') for $name" "$CP_PACK_OUT"
	fi
}

# --- hiding the originals and running gdb --------------------------------

# cp_hide_originals DIR...: make the origin files unreachable for gdb.  As
# root with a working unshare, cp_hidden later runs gdb in a private mount
# namespace with an empty tmpfs over each DIR and over /usr/lib/debug;
# otherwise the directories are deleted (the test built them itself).
cp_hide_originals() {
	local d
	[[ $CP_SELFCHECK == 1 ]] && return 0
	CP_HIDE=("$@")
	if [[ $CP_HIDE_NS == 1 ]]; then
		[[ -d /usr/lib/debug ]] && CP_HIDE+=(/usr/lib/debug)
		cp_log "hiding ${CP_HIDE[*]} (tmpfs in a private mount namespace)"
		cp_hidden sh -c 'for d; do [ -z "$(ls -A "$d")" ] || exit 1; done' sh "${CP_HIDE[@]}" ||
			cp_fail "the originals are still visible under the mount namespace"
	else
		cp_log "cannot use a mount namespace: deleting $* (/usr/lib/debug stays visible)"
		for d in "$@"; do
			# Keep the logs: they are opened already, and FAIL prints them.
			find "$d" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
		done
	fi
}

# cp_hidden CMD...: run CMD with the originals hidden.
cp_hidden() {
	if [[ $CP_HIDE_NS == 1 && ${#CP_HIDE[@]} -gt 0 ]]; then
		unshare -m -- sh -c 'n=$1; shift
			while [ "$n" -gt 0 ]; do
				mount -t tmpfs -o size=1m,mode=755 cp-hidden "$1" || exit 125
				shift; n=$((n - 1))
			done
			exec "$@"' sh "${#CP_HIDE[@]}" "${CP_HIDE[@]}" "$@"
	else
		"$@"
	fi
}

# cp_gdb OUTFILE GDB-ARGS...: run the bundle's run-gdb.sh (originals
# hidden) with GDB-ARGS (each -ex marked: cp_gdb_mark), output in OUTFILE.  In SELFCHECK mode run gdb on
# the original executable and core instead (CP_SELF_EXE, CP_CORE).
cp_gdb() {
	local out=$1 st=0
	shift
	cp_gdb_mark "$@"
	if [[ $CP_SELFCHECK == 1 ]]; then
		gdb -nx -batch -iex 'set debuginfod enabled off' \
			-iex "set debug-file-directory ${CP_DEBUGROOT:+$CP_DEBUGROOT:}/usr/lib/debug" \
			-ex "file $CP_SELF_EXE" -ex "core-file $CP_CORE" "${CP_GDB_ARGS[@]}" \
			</dev/null >"$out" 2>&1 || st=$?
	else
		cp_log "running: run-gdb.sh $*"
		cp_hidden "$CP_BUNDLE_DIR/run-gdb.sh" "${CP_GDB_ARGS[@]}" </dev/null >"$out" 2>&1 || st=$?
	fi
	((st == 0)) || cp_fail "gdb exited $st" "$out"
}

# cp_origin_gdb OUTFILE GDB-ARGS...: gdb on the origin's own files (run
# before cp_hide_originals), as a user there would run it: -nx, debuginfod
# off, CP_DEBUGROOT and /usr/lib/debug as debug-file-directory, then
# GDB-ARGS (each -ex marked: cp_gdb_mark).  The reference for the frames
# gdb shows on the bundle.
cp_origin_gdb() {
	local out=$1 st=0
	shift
	cp_gdb_mark "$@"
	gdb -nx -batch -iex 'set debuginfod enabled off' \
		-iex "set debug-file-directory ${CP_DEBUGROOT:+$CP_DEBUGROOT:}/usr/lib/debug" \
		"${CP_GDB_ARGS[@]}" </dev/null >"$out" 2>&1 || st=$?
	((st == 0)) || cp_fail "gdb on the origin exited $st" "$out"
}

# cp_assert_same_frames ORIGIN-OUTPUT N BUNDLE-OUTPUT M: the backtrace
# printed by the N-th marked command of ORIGIN-OUTPUT and the one of the
# M-th of BUNDLE-OUTPUT (cp_gdb_section) have the same frames, function
# and file:line, innermost first, and none of the origin's is '??'.
cp_assert_same_frames() {
	local a b
	cp_gdb_section "$1" "$2" >"$1.bt"
	cp_gdb_section "$3" "$4" >"$3.bt"
	a=$(cp_frames "$1.bt")
	b=$(cp_frames "$3.bt")
	[[ -n $a ]] || cp_fail "no backtrace in gdb's output on the origin" "$1"
	if grep -q $'^??\t' <<<"$a"; then
		cp_fail "gdb on the origin shows a '??' frame: not a reference" "$1"
	fi
	[[ $a == "$b" ]] ||
		cp_fail "gdb's frames on the bundle differ from gdb's on the origin:
origin:
$a
bundle:
$b" "$1" "$3"
	cp_log "frames (origin = bundle): $(tr '\t\n' ' ;' <<<"$a")"
}

# --- reading gdb's output -----------------------------------------------
#
# gdb prints more than the commands' output: "[New LWP ...]", the frame
# where the program stopped while it loads a core, and warnings that depend
# on the machine ("Section `.reg-xstate/PID' in core file too small" on
# CPUs whose XSAVE area gdb 13 does not know).  So every "-ex CMD" a test
# gives gdb is bracketed by markers (cp_gdb_mark) and a command's output is
# read between them (cp_gdb_section); warnings are dropped wherever they are.

# cp_gdb_mark ARG...: CP_GDB_ARGS = ARGs with every "-ex CMD" turned into
# "-ex 'echo @@cp-ex N@@' -ex CMD -ex 'echo @@cp-end@@'" (N counts from 1).
cp_gdb_mark() {
	local n=0
	CP_GDB_ARGS=()
	while (($# > 0)); do
		if [[ $1 == -ex && $# -ge 2 ]]; then
			n=$((n + 1))
			CP_GDB_ARGS+=(-ex "echo \\n@@cp-ex $n@@\\n" -ex "$2" -ex 'echo @@cp-end@@\n')
			shift 2
		else
			CP_GDB_ARGS+=("$1")
			shift
		fi
	done
}

# cp_gdb_section FILE N: the output of the N-th marked -ex command in FILE,
# without gdb's warning lines.  Fails when FILE has no such section.
cp_gdb_section() {
	grep -q -x -F "@@cp-ex $2@@" "$1" || cp_fail "gdb's output has no output of command $2" "$1"
	awk -v n="$2" '
		$0 == "@@cp-ex " n "@@" { on = 1; next }
		on && $0 == "@@cp-end@@" { exit }
		on && !/^warning: / { print }' "$1"
}

# cp_fn_family NAME: NAME less the suffix of an ifunc variant glibc picks by
# CPU ("__strlen_avx2", "__strlen_evex", "__memmove_avx_unaligned_erms" ->
# "__strlen", "__memmove"): tests compare families, not variants.
cp_fn_family() {
	sed -E 's/_(sse2|sse4_1|sse4_2|ssse3|avx|avx2|avx512f|avx512bw|avx512vl|evex|evex512|erms|rtm|unaligned|aligned|generic|ifunc|vzeroupper|nocache|fsrm)(_[a-z0-9]+)*$//' <<<"$1"
}

# Frame lines of the first backtrace in FILE: "func<TAB>file:line" or
# "func<TAB>" when gdb shows no source position.  In output with markers
# (cp_gdb_mark), only the commands' output counts: the first section with
# frames.  In unmarked output (gdb run by hand), a "#0" line followed by a
# source line ("45<TAB>...") or right after "Program terminated with
# signal" (warnings aside) is gdb announcing where the program stopped
# (after core-file, thread N), not a backtrace.
cp_frames() {
	local lines=() i j line fn at seen=0 marked=0 on=1 prev
	mapfile -t lines <"$1"
	if grep -q -E '^@@cp-ex [0-9]+@@$' "$1"; then
		marked=1
		on=0
	fi
	for ((i = 0; i < ${#lines[@]}; i++)); do
		line=${lines[i]}
		if ((marked)); then
			if [[ $line =~ ^@@cp-ex\ [0-9]+@@$ ]]; then
				on=1
				continue
			elif [[ $line == '@@cp-end@@' ]]; then
				((seen)) && break
				on=0
				continue
			fi
		fi
		((on)) || continue
		[[ $line =~ ^#([0-9]+)[[:space:]] ]] || continue
		if [[ ${BASH_REMATCH[1]} == 0 ]]; then
			if ((!marked)); then
				[[ ${lines[i + 1]:-} =~ ^[0-9]+$'\t' ]] && continue
				prev=
				for ((j = i - 1; j >= 0; j--)); do
					[[ ${lines[j]} == 'warning: '* || -z ${lines[j]} ]] && continue
					prev=${lines[j]}
					break
				done
				[[ $prev == 'Program terminated with signal'* ||
					$prev == '[Switching to thread'* ]] && continue
			fi
			((seen)) && break
		fi
		seen=1
		fn='??'
		if [[ $line =~ ^#[0-9]+[[:space:]]+(0x[0-9a-f]+[[:space:]]+in[[:space:]]+)?([^[:space:]]+)[[:space:]]\( ]]; then
			fn=${BASH_REMATCH[2]}
		fi
		at=
		if [[ $line =~ [[:space:]]at[[:space:]]+([^[:space:]]+):([0-9]+)$ ]]; then
			at=${BASH_REMATCH[1]##*/}:${BASH_REMATCH[2]}
		fi
		printf '%s\t%s\n' "$fn" "$at"
	done
}

# cp_assert_frames FILE [WHOLE-OUTPUT] SPEC...: the first backtrace in FILE
# has, consecutively, frames "FUNC FILE:LINE" (LINE may be "*"); frames
# before them may be anything but "??" (libc's read, futex waits...).
cp_assert_frames() {
	local file=$1 whole=$1 frames=() i k start=-1 fn at want_fn want_at
	shift
	if [[ $# -gt 0 && -f $1 ]]; then
		whole=$1
		shift
	fi
	mapfile -t frames < <(cp_frames "$file")
	((${#frames[@]} > 0)) || cp_fail "no backtrace in gdb's output" "$whole"
	for ((i = 0; i < ${#frames[@]}; i++)); do
		[[ $(cp_fn_family "${frames[i]%%$'\t'*}") == "$(cp_fn_family "${1%% *}")" ]] &&
			{ start=$i; break; }
	done
	((start >= 0)) || cp_fail "no frame '${1%% *}' in the backtrace (expected: $*)" "$whole"
	for ((i = 0; i < start; i++)); do
		[[ ${frames[i]%%$'\t'*} != '??' ]] ||
			cp_fail "frame #$i is '??' (expected: $*)" "$whole"
	done
	k=$start
	for spec in "$@"; do
		want_fn=${spec%% *}
		want_at=${spec#* }
		((k < ${#frames[@]})) || cp_fail "backtrace ends before '$spec' (expected: $*)" "$whole"
		fn=${frames[k]%%$'\t'*}
		at=${frames[k]#*$'\t'}
		if [[ $(cp_fn_family "$fn") != "$(cp_fn_family "$want_fn")" ]]; then
			cp_fail "frame #$k is '$fn', expected '$want_fn' (expected: $*)" "$whole"
		fi
		if [[ -z $at ]]; then
			cp_fail "frame #$k ($fn) has no file:line, expected $want_at" "$whole"
		fi
		if [[ $want_at == *:'*' ]]; then
			[[ ${at%:*} == "${want_at%:*}" ]] ||
				cp_fail "frame #$k ($fn) is at $at, expected ${want_at%:*}:N" "$whole"
		elif [[ $at != "$want_at" ]]; then
			cp_fail "frame #$k ($fn) is at $at, expected $want_at" "$whole"
		fi
		k=$((k + 1))
	done
}

# cp_assert_sharedlibs FILE [NAME[:debug]...]: gdb's "info sharedlibrary"
# in FILE read every library ("No" nowhere), from under the bundle
# directory (not in SELFCHECK mode); each NAME (a file name such as
# libcrash.so.1) is listed, and those marked :debug without "(*)".
cp_assert_sharedlibs() {
	local file=$1 line in=0 rows=() syms path want name need_debug found d1 d2 exe
	shift
	while IFS= read -r line; do
		if [[ $line =~ ^From[[:space:]]+To[[:space:]]+Syms[[:space:]]Read ]]; then
			in=1
			rows=()
			continue
		fi
		((in)) || continue
		if [[ $line =~ ^(0x[0-9a-f]+[[:space:]]+0x[0-9a-f]+)?[[:space:]]*(Yes[[:space:]]\(\*\)|Yes|No)[[:space:]]+(.+)$ ]]; then
			rows+=("${BASH_REMATCH[2]}"$'\t'"${BASH_REMATCH[3]}")
		else
			in=0
		fi
	done <"$file"
	((${#rows[@]} > 0)) || cp_fail "no 'info sharedlibrary' table in gdb's output" "$file"
	d1=${CP_BUNDLE_DIR:-/}
	d2=$(readlink -f "$d1")
	for line in "${rows[@]}"; do
		syms=${line%%$'\t'*}
		path=${line#*$'\t'}
		[[ $syms != No ]] || cp_fail "gdb did not read '$path' (Syms Read: No)" "$file"
		# A name the loader had relative ("../lib/libx.so") gdb opened from
		# its working directory: the executable's below sysroot/.
		if [[ $CP_SELFCHECK != 1 && $path != /* ]]; then
			exe=$(jq -r '.gdb.executable // ""' "$d1/manifest.json" 2>/dev/null || true)
			path=$(realpath -m -- "$d1/sysroot${exe%/*}/$path")
		fi
		if [[ $CP_SELFCHECK != 1 && $path != "$d1"/* && $path != "$d2"/* ]]; then
			cp_fail "gdb loaded '$path' from outside the bundle ($d1)" "$file"
		fi
	done
	for want in "$@"; do
		name=${want%:debug}
		need_debug=0
		[[ $want == *:debug ]] && need_debug=1
		found=0
		for line in "${rows[@]}"; do
			path=${line#*$'\t'}
			[[ ${path##*/} == "$name" ]] || continue
			found=1
			if ((need_debug)) && [[ ${line%%$'\t'*} != Yes ]]; then
				cp_fail "gdb found no debug info for '$path' ('${line%%$'\t'*}')" "$file"
			fi
		done
		((found)) || cp_fail "'info sharedlibrary' does not list $name" "$file"
	done
}

# cp_host_debug_file LIB: the host's /usr/lib/debug build-id debug file for
# LIB, or nothing.
cp_host_debug_file() {
	local id
	id=$(cp_build_id "$(readlink -f "$1")")
	[[ -n $id ]] || return 0
	local f=/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug
	[[ -f $f ]] && printf '%s\n' "$f"
	return 0
}

# cp_want_libc [LIB]: "libc.so.6:debug" when the host has the debug file
# of LIB (default the 64-bit libc) under /usr/lib/debug, so the bundle must
# carry it too; "libc.so.6" otherwise.
cp_want_libc() {
	local lib=${1:-/lib/x86_64-linux-gnu/libc.so.6}
	if [[ -n $(cp_host_debug_file "$lib") ]]; then
		printf '%s:debug\n' "${lib##*/}"
	else
		printf '%s\n' "${lib##*/}"
	fi
}

# --- bad input -----------------------------------------------------------

# cp_expect_fail CODE PATTERN CMD...: CMD exits with CODE, its stderr
# matches the extended regex PATTERN, and the output named by CMD's "-o"
# is not left behind (or, when it existed, is untouched), nor anything else
# in its directory.  For CODE 1, stderr is exactly one "corepack: " line
# (with CP_EXPECT_WARNINGS=1, warning lines may come before it).
cp_expect_fail() {
	local code=$1 pat=$2 st=0 out='' a odir before after sum0='' sum1=
	shift 2
	local args=("$@")
	for ((a = 0; a < ${#args[@]} - 1; a++)); do
		[[ ${args[a]} == -o ]] && out=${args[a + 1]}
	done
	cp_check "exit $code, stderr /$pat/: ${args[*]}"
	if [[ -n $out ]]; then
		odir=$(dirname "$out")
		before=$(ls -A "$odir" 2>/dev/null || true)
		if [[ -f $out ]]; then
			sum0=$(sha256sum <"$out")$(stat -c '%i %Y' "$out")
		fi
	fi
	"$@" >"$CP_WORK/logs/fail.out" 2>"$CP_WORK/logs/fail.err" || st=$?
	[[ $st == "$code" ]] || cp_fail "exit status $st, expected $code: ${args[*]}" \
		"$CP_WORK/logs/fail.out" "$CP_WORK/logs/fail.err"
	grep -E -- "$pat" "$CP_WORK/logs/fail.err" >/dev/null ||
		cp_fail "stderr does not match /$pat/: ${args[*]}" "$CP_WORK/logs/fail.err"
	if [[ $code == 1 && ${CP_EXPECT_WARNINGS:-0} == 1 ]]; then
		grep -E -- "^corepack: .*($pat)" "$CP_WORK/logs/fail.err" >/dev/null ||
			cp_fail "no 'corepack: ' line matching /$pat/ on stderr: ${args[*]}" "$CP_WORK/logs/fail.err"
	elif [[ $code == 1 ]]; then
		if [[ $(grep -c '' "$CP_WORK/logs/fail.err") != 1 ]] || ! grep -q '^corepack: ' "$CP_WORK/logs/fail.err"; then
			cp_fail "stderr is not one 'corepack: ...' line: ${args[*]}" "$CP_WORK/logs/fail.err"
		fi
	fi
	if [[ -n $out ]]; then
		after=$(ls -A "$odir" 2>/dev/null || true)
		[[ $before == "$after" ]] || cp_fail "files left in $odir: before [$before] after [$after]: ${args[*]}"
		if [[ -n $sum0 ]]; then
			sum1=$(sha256sum <"$out")$(stat -c '%i %Y' "$out")
			[[ $sum0 == "$sum1" ]] || cp_fail "existing output $out was modified: ${args[*]}"
		fi
	fi
	sed 's/^/  stderr: /' "$CP_WORK/logs/fail.err"
}

# --- results -----------------------------------------------------------------

# cp_report: the numbers the lead quotes, on stdout.
cp_report() {
	local objs debugs
	if [[ $CP_SELFCHECK == 1 ]]; then
		cp_log "PASS (selfcheck)"
		return
	fi
	objs=$(cp_manifest '[.objects[] | select(.bundle_path)] | length')
	debugs=0
	if [[ -d $CP_BUNDLE_DIR/debug ]]; then
		debugs=$(find "$CP_BUNDLE_DIR/debug" -type f -name '*.debug' | wc -l)
	fi
	cp_log "RESULT objects packed: $objs, debug files: $debugs, bundle size: $CP_BUNDLE_SIZE bytes ($(basename "$CP_BUNDLE_FILE"))"
	cp_finish
}

# cp_finish: PASS, or FAIL for the failures cp_fail_later recorded.
cp_finish() {
	local m
	if ((${#CP_LATER[@]} > 0)); then
		for m in "${CP_LATER[@]}"; do
			printf '%s: FAIL: %s\n' "$CP_TEST" "$m"
		done
		exit 1
	fi
	cp_log "PASS"
}
