# Helpers for the coreunpack end-to-end tests (tests/e2e/run-unpack-*.sh),
# on top of lib.sh (sourced here).  Two kinds of test use them:
#  - on real crashes (cp_init from lib.sh): pack with $COREPACK, unpack
#    with $COREUNPACK, run gdb on the unpacked tree with the originals
#    hidden;
#  - on crafted bundles (cu_init: no core needed): cu_craft writes a bundle
#    with python3's tarfile, which can write any entry an attacker can, and
#    cu_expect_refused checks that coreunpack refuses it and that nothing
#    changed anywhere in the test's directory.
#
# Results go to CU_* variables, as lib.sh's helpers use CP_*.

# shellcheck source=tests/e2e/lib.sh
. "${CP_E2E_DIR:-$(dirname "${BASH_SOURCE[0]}")}/lib.sh"

# cu_need_unpack: COREUNPACK is set and runs.
cu_need_unpack() {
	[[ -n ${COREUNPACK:-} ]] || cp_fail "COREUNPACK is not set (run through ctest, or export COREUNPACK=path/to/coreunpack)"
	[[ -x $COREUNPACK ]] || cp_fail "COREUNPACK='$COREUNPACK' is not an executable file"
}

# cu_init: private directories for a test on crafted bundles.
#   CP_WORK/bundles  the crafted bundles
#   CU_BOX           where coreunpack runs; every change in CP_WORK is checked
cu_init() {
	cp_need python3:python3 zstd:zstd
	cu_need_unpack
	CP_WORK=$(mktemp -d "${TMPDIR:-/tmp}/cp-e2e-$CP_TEST-work.XXXXXX")
	CP_UNPACK=
	trap cp_cleanup EXIT
	mkdir -p "$CP_WORK/logs" "$CP_WORK/bundles"
	cu_box
}

# cu_box: the directories cu_expect_refused runs coreunpack in (CU_BOX);
# called by cu_init, and after cp_init by tests on real crashes.
cu_box() {
	CU_BOX=$CP_WORK/box
	CU_MARKER=$CU_BOX/PWNED
	mkdir -p "$CU_BOX/a/b/here"
}

# The Python side: a Bundle holds tar members (any type, any name) and a
# manifest; write() lists every regular file it was told to list, with its
# size and sha256, and compresses by the suffix.  As corepack does, a
# manifest of version 2 (the default) goes first, with each file's digest
# kind, and the digests last in digests.json; a manifest of version 1 goes
# last, with the digests in it (manifest_first overrides where it goes).
CU_PY_LIB=$(
	cat <<'EOF'
import hashlib, io, json, os, subprocess, sys, tarfile

def sha(data):
    return hashlib.sha256(data).hexdigest()

NAMES = ('core', 'sysroot', 'debug', 'manifest.json', 'digests.json', 'run-gdb.sh',
         'run-lldb.sh', 'corepack.gdb', 'report.txt')

def listable(rel):
    """A path a well-formed manifest can list: an attacker's manifest is
    valid, only the entries are not."""
    parts = rel.split('/')
    return (parts[0] in NAMES and all(p not in ('', '.', '..') for p in parts)
            and not any(ord(c) < 0x20 or c == '\x7f' for c in rel))

def read_compressed(path):
    raw = open(path, 'rb').read()
    if path.endswith('.zst'):
        raw = subprocess.run(['zstd', '-dcq'], input=raw, stdout=subprocess.PIPE, check=True).stdout
    return raw

class Bundle:
    def __init__(self, top='crash'):
        self.top = top
        self.members = []      # [TarInfo, bytes or None, listed]
        self.manifest = {
            'manifest_version': 2, 'corepack_version': '0.1.0', 'created': 'now',
            'host': {'nodename': 'origin', 'machine': 'x86_64'},
            'core': {'path': 'core', 'machine': 'x86_64', 'executable': '/usr/bin/app',
                     'pid': 4242, 'signal': 11, 'signal_name': 'SIGSEGV', 'threads': 1,
                     'args': '/usr/bin/app --crash'},
            'gdb': {'sysroot': 'sysroot', 'debug_file_directory': 'debug',
                    'executable': '/usr/bin/app', 'core': 'core', 'thread_db_dir': None},
            'objects': [{'path': '/usr/bin/app', 'role': 'executable', 'status': 'ok',
                         'real_path': '/usr/bin/app', 'bundle_path': 'sysroot/usr/bin/app',
                         'build_id_core': 'ab' * 20, 'debug_status': 'none', 'debug': []}],
            'warnings': [],
        }
        self.extra_files = []  # manifest "files" entries added as they are
        self.with_manifest = True
        self.manifest_first = None  # None: as the version says
        self.digests = {}  # path -> sha256 of the last write()
        self.json_indent = 2  # None: the manifest's JSON on one line

    @classmethod
    def synthetic(cls, top='crash', core=b'not really a core\n'):
        b = cls(top)
        b.file('core', core)
        b.file('sysroot/usr/bin/app', b'\x7fELF not really an executable\n', mode=0o755)
        b.file('run-gdb.sh', b'#!/bin/sh\necho the bundle\'s own script\n', mode=0o755)
        b.file('corepack.gdb', b'echo the bundle\'s own gdb script\\n\n')
        return b

    @classmethod
    def load(cls, path):
        tar = tarfile.open(fileobj=io.BytesIO(read_compressed(path)))
        members = tar.getmembers()
        b = cls(members[0].name.split('/')[0])
        for m in members:
            data = tar.extractfile(m).read() if m.isreg() else None
            if m.name == b.top + '/manifest.json':
                b.manifest = json.loads(data)
                continue
            if m.name == b.top + '/digests.json':
                continue
            # A fresh header: the old one may carry pax sparse keywords
            # that no longer describe the (now dense) data.
            ti = tarfile.TarInfo(m.name)
            ti.type, ti.mode, ti.linkname, ti.mtime = m.type, m.mode, m.linkname, m.mtime
            b.add(ti, data)
        return b

    def full(self, name):
        return self.top + '/' + name if name else self.top

    def add(self, ti, data=None, listed=True):
        if data is not None:
            ti.size = len(data)
        self.members.append([ti, data, listed])
        return ti

    def info(self, name, type, mode, raw=False):
        ti = tarfile.TarInfo(name if raw else self.full(name))
        ti.type = type
        ti.mode = mode
        ti.mtime = 1700000000
        return ti

    def file(self, name, data, mode=0o644, listed=True, raw=False):
        return self.add(self.info(name, tarfile.REGTYPE, mode, raw), data, listed)

    def dir(self, name, mode=0o755, raw=False):
        return self.add(self.info(name, tarfile.DIRTYPE, mode, raw))

    def symlink(self, name, target, raw=False):
        ti = self.info(name, tarfile.SYMTYPE, 0o777, raw)
        ti.linkname = target
        return self.add(ti)

    def hardlink(self, name, target, raw=False):
        ti = self.info(name, tarfile.LNKTYPE, 0o644, raw)
        ti.linkname = target
        return self.add(ti)

    def device(self, name, type=tarfile.CHRTYPE, major=1, minor=3, raw=False):
        ti = self.info(name, type, 0o666, raw)
        ti.devmajor, ti.devminor = major, minor
        return self.add(ti)

    def find(self, name):
        for m in self.members:
            if m[0].name == self.full(name):
                return m
        raise KeyError(name)

    def replace(self, name, data):
        m = self.find(name)
        m[1] = data
        m[0].size = len(data)

    def write(self, path):
        v2 = self.manifest.get('manifest_version', 2) >= 2
        first = v2 if self.manifest_first is None else self.manifest_first
        files = []
        for ti, data, listed in self.members:
            if ti.isreg() and listed and data is not None and ti.name.startswith(self.top + '/'):
                rel = ti.name[len(self.top) + 1:]
                if not listable(rel):
                    continue
                self.digests[rel] = sha(data)
                files.append({'path': rel, 'size': len(data), 'sha256': sha(data)})
        files += [dict(f) for f in self.extra_files]
        digests = []
        if v2:
            for f in files:
                d = f.pop('sha256', None) or self.digests.get(f['path'], '0' * 64)
                f.setdefault('digest', 'sha256')
                digests.append({'path': f['path'], f['digest']: d})
        self.manifest['files'] = files
        text = json.dumps(self.manifest, indent=self.json_indent,
                          separators=(',', ':') if self.json_indent is None else None).encode()
        mi = self.info('manifest.json', tarfile.REGTYPE, 0o644)
        mi.size = len(text)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as tar:
            if self.with_manifest and first:
                tar.addfile(mi, io.BytesIO(text))
            for ti, data, listed in self.members:
                tar.addfile(ti, io.BytesIO(data) if data is not None else None)
            if self.with_manifest and not first:
                tar.addfile(mi, io.BytesIO(text))
            if v2:
                dtext = json.dumps({'files': digests}, indent=2).encode()
                di = self.info('digests.json', tarfile.REGTYPE, 0o644)
                di.size = len(dtext)
                tar.addfile(di, io.BytesIO(dtext))
        raw = buf.getvalue()
        if path.endswith('.zst'):
            raw = subprocess.run(['zstd', '-q', '-c'], input=raw, stdout=subprocess.PIPE,
                                 check=True).stdout
        elif path.endswith('.gz'):
            import gzip
            raw = gzip.compress(raw)
        elif path.endswith('.xz'):
            import lzma
            raw = lzma.compress(raw)
        open(path, 'wb').write(raw)
EOF
)

# cu_craft OUT: run the Python read from stdin with the Bundle class defined
# and OUT (the bundle to write) in the variable `out`.
cu_craft() {
	local out=$1
	{
		printf '%s\n' "$CU_PY_LIB"
		printf 'out = %s\n' "$(python3 -c 'import sys; print(repr(sys.argv[1]))' "$out")"
		cat
	} >"$CP_WORK/logs/craft.py"
	python3 "$CP_WORK/logs/craft.py" >"$CP_WORK/logs/craft.out" 2>&1 ||
		cp_fail "crafting $out failed" "$CP_WORK/logs/craft.out"
	[[ -f $out ]] || cp_fail "crafting wrote no $out" "$CP_WORK/logs/craft.out"
}

# cu_snapshot FILE: every name under CP_WORK (but logs) with type, size,
# mode and link target.
cu_snapshot() {
	find "$CP_WORK" -path "$CP_WORK/logs" -prune -o -printf '%P %y %s %m %l\n' | LC_ALL=C sort >"$1"
}

# cu_run LOG-PREFIX DIR ARGS...: run coreunpack in DIR; status in CU_ST,
# output in LOG-PREFIX.out/.err.
cu_run() {
	local log=$1 dir=$2
	shift 2
	CU_ST=0
	(cd "$dir" && exec "$COREUNPACK" "$@") </dev/null >"$log.out" 2>"$log.err" || CU_ST=$?
}

# cu_expect_refused BUNDLE PATTERN: coreunpack refuses BUNDLE three ways
# (into a new directory with -C, into an existing empty one, into the
# working directory): exit 1, stderr one "coreunpack: 'BUNDLE': ..." line
# matching the extended regex PATTERN, nothing on stdout, and nothing
# anywhere in CP_WORK created, changed or removed.
cu_expect_refused() {
	local bundle=$1 pat=$2 log=$CP_WORK/logs/refused how
	cu_snapshot "$CP_WORK/logs/before"
	for how in new existing cwd; do
		cp_check "refused ($how): $(basename "$bundle"): /$pat/"
		case $how in
		new) cu_run "$log" "$CU_BOX/a/b" -C out "$bundle" ;;
		existing) cu_run "$log" "$CU_BOX/a/b" -C here "$bundle" ;;
		cwd) cu_run "$log" "$CU_BOX/a/b/here" "$bundle" ;;
		esac
		[[ $CU_ST == 1 ]] || cp_fail "exit status $CU_ST, expected 1 ($how)" "$log.out" "$log.err"
		[[ $(grep -c '' "$log.err") == 1 ]] ||
			cp_fail "stderr is not one line ($how)" "$log.err"
		grep -q -F "coreunpack: '$bundle': " "$log.err" ||
			cp_fail "stderr does not start with \"coreunpack: '$bundle': \" ($how)" "$log.err"
		grep -q -E -- "$pat" "$log.err" || cp_fail "stderr does not match /$pat/ ($how)" "$log.err"
		[[ ! -s $log.out ]] || cp_fail "coreunpack printed on stdout ($how)" "$log.out"
		cu_snapshot "$CP_WORK/logs/after"
		diff "$CP_WORK/logs/before" "$CP_WORK/logs/after" >"$CP_WORK/logs/changes" ||
			cp_fail "coreunpack changed files ($how; < before, > after)" "$CP_WORK/logs/changes"
		[[ ! -e $CU_MARKER ]] || cp_fail "the payload ran: $CU_MARKER exists"
	done
	sed 's/^/  stderr: /' "$log.err"
}

# cu_expect_no_marker WHAT: no payload marker anywhere in CP_WORK (or
# CP_UNPACK) and none in the working directory.
cu_expect_no_marker() {
	local found
	found=$(find "$CP_WORK" ${CP_UNPACK:+"$CP_UNPACK"} -name 'PWNED*' 2>/dev/null | head -n 5)
	[[ -z $found ]] || cp_fail "$1: the payload ran: $found"
	[[ ! -e PWNED ]] || cp_fail "$1: the payload ran: $PWD/PWNED"
}

# cu_unpack DIR BUNDLE [OPTION...]: coreunpack -C DIR must succeed; stdout
# and stderr in CU_OUT and CU_ERR.
cu_unpack() {
	local dir=$1 bundle=$2
	shift 2
	CU_OUT=$CP_WORK/logs/unpack.out
	CU_ERR=$CP_WORK/logs/unpack.err
	cp_log "running: coreunpack $* -C $dir $bundle"
	CU_ST=0
	"$COREUNPACK" "$@" -C "$dir" "$bundle" </dev/null >"$CU_OUT" 2>"$CU_ERR" || CU_ST=$?
	((CU_ST == 0)) || cp_fail "coreunpack exited $CU_ST, expected 0" "$CU_OUT" "$CU_ERR"
	sed 's/^/  coreunpack stdout: /' "$CU_OUT"
	sed 's/^/  coreunpack stderr: /' "$CU_ERR"
}

# cu_check_unpacked DIR: DIR holds the documented names and nothing else
# (no temporary directory left), run-gdb.sh and run-lldb.sh are ours.
cu_check_unpacked() {
	local dir=$1 n
	cp_check "'$dir' holds the bundle's names only, and coreunpack's own run-gdb.sh and run-lldb.sh"
	for n in core manifest.json run-gdb.sh run-lldb.sh corepack.gdb; do
		[[ -f $dir/$n && ! -L $dir/$n ]] || cp_fail "no regular file '$n' in $dir"
	done
	[[ -x $dir/run-gdb.sh ]] || cp_fail "$dir/run-gdb.sh is not executable"
	[[ -x $dir/run-lldb.sh ]] || cp_fail "$dir/run-lldb.sh is not executable"
	grep -q '^exec "\$lldb" --no-lldbinit' "$dir/run-lldb.sh" ||
		cp_fail "$dir/run-lldb.sh is not coreunpack's (no 'exec \"\$lldb\" --no-lldbinit')" "$dir/run-lldb.sh"
	[[ -d $dir/sysroot ]] || cp_fail "no sysroot/ in $dir"
	if ls -A "$dir" | grep -v -x -E 'core|sysroot|debug|manifest.json|digests.json|run-gdb.sh|run-lldb.sh|corepack.gdb|report.txt' \
		>"$CP_WORK/logs/extra-names"; then
		cp_fail "unexpected names in $dir" "$CP_WORK/logs/extra-names"
	fi
	grep -q '^exec "\$gdb" -nx' "$dir/run-gdb.sh" ||
		cp_fail "$dir/run-gdb.sh is not coreunpack's (no 'exec \"\$gdb\" -nx')" "$dir/run-gdb.sh"
}

# cu_threads_bundle: build progs/threads.c, crash it, pack it (lib.sh's
# cp_init first).  Sets CP_BUNDLE_FILE, CU_SRC.
cu_threads_bundle() {
	CU_SRC=$CP_PROGS/threads.c
	mkdir -p "$CP_WORK/b"
	gcc "${CP_CFLAGS[@]}" -pthread -o "$CP_WORK/b/threads" "$CU_SRC"
	cp_crash "$CP_WORK/crash" "$CP_WORK/b/threads"
	cp_pack "$CP_CORE" "$CP_WORK/threads.tar.zst"
}

# cu_run_gdb OUT DIR [GDB-ARGS...]: DIR/run-gdb.sh -batch -ex bt ARGS from
# a scratch working directory, which must show the crashing thread's frames.
cu_run_gdb() {
	local out=$1 dir=$2 st=0
	shift 2
	mkdir -p "$CP_WORK/scratch"
	cp_gdb_mark -batch -ex bt "$@"
	(cd "$CP_WORK/scratch" && exec "$dir/run-gdb.sh" "${CP_GDB_ARGS[@]}") </dev/null >"$out" 2>&1 || st=$?
	((st == 0)) || cp_fail "run-gdb.sh exited $st" "$out"
	cp_assert_frames "$out" "crash_gamma threads.c:$(cp_line "$CU_SRC" crash_gamma)" \
		"work_gamma threads.c:$(cp_line "$CU_SRC" work_gamma)"
}
