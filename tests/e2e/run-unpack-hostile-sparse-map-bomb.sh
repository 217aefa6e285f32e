#!/bin/bash
# A GNU sparse map out of all proportion (issue 19, kind 3).  A pax GNU 1.0
# sparse entry carries its map at the start of its data: 25 million
# regions cost libarchive's tar reader 1.15 GB (a node per region, all
# allocated before the entry is returned), from a 10 KB bundle.  The tar
# stream is now framed by coreunpack itself (src/unpack/tar_read.c), which
# counts a map against its caps before storing a region: at most 1048576
# regions, and at most one per 512 bytes of the file.
#  1. 25 million regions in a 1 TiB file (the absolute cap);
#  2. 1000 regions in a 4 KiB file (out of proportion).
# Each refused, naming the count, with a peak RSS under 64 MiB (and, but
# in a sanitizer build, the address space capped at 512 MiB: an older
# coreunpack ran out of memory there).
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
# sparse_bomb OUT REGIONS REALSIZE: a version 1 bundle whose core is a
# sparse entry of REALSIZE bytes whose map lists REGIONS empty regions.
sparse_bomb() {
	python3 - "$@" <<'PY'
import io, json, subprocess, sys, tarfile
out, regions, realsize = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
head = b'%d\n' % regions
body = b'0\n0\n'
stored = len(head) + len(body) * regions
stored += -stored % 512

class Map(io.RawIOBase):
    """The map, made as it is read: REGIONS times "0\\n0\\n", padded."""
    def __init__(self):
        self.pos = 0
        self.chunk = body * 65536
    def readable(self):
        return True
    def readinto(self, b):
        n = min(len(b), stored - self.pos)
        out = bytearray()
        while len(out) < n:
            p = self.pos + len(out)
            if p < len(head):
                out += head[p:]
            elif p < len(head) + len(body) * regions:
                k = (p - len(head)) % len(self.chunk)
                out += self.chunk[k:]
            else:
                out += bytes(stored - p)
        b[:n] = out[:n]
        self.pos += n
        return n

manifest = json.dumps({
    'manifest_version': 1, 'core': {'path': 'core', 'machine': 'x86_64'},
    'gdb': {}, 'objects': [],
    'files': [{'path': 'core', 'size': realsize, 'sparse_sha256': '0' * 64}]}).encode()
with open(out, 'wb') as f:
    z = subprocess.Popen(['zstd', '-q', '-c'], stdin=subprocess.PIPE, stdout=f)
    with tarfile.open(fileobj=z.stdin, mode='w|', format=tarfile.PAX_FORMAT) as tar:
        ti = tarfile.TarInfo('crash/GNUSparseFile.0/core')
        ti.size, ti.mode, ti.mtime = stored, 0o600, 1700000000
        ti.pax_headers = {'GNU.sparse.major': '1', 'GNU.sparse.minor': '0',
                          'GNU.sparse.name': 'crash/core',
                          'GNU.sparse.realsize': str(realsize)}
        tar.addfile(ti, io.BufferedReader(Map(), 1 << 20))
        mi = tarfile.TarInfo('crash/manifest.json')
        mi.size, mi.mode = len(manifest), 0o600
        tar.addfile(mi, io.BytesIO(manifest))
    z.stdin.close()
    if z.wait():
        sys.exit('zstd failed')
PY
	cp_log "$(basename "$1"): $2 regions, $(stat -c %s "$1") bytes"
}

sparse_bomb "$b/map-25m.tar.zst" 25000000 $((1 << 40))
sparse_bomb "$b/map-1000.tar.zst" 1000 4096

asan=0
grep -q -a __asan_init "$COREUNPACK" && asan=1
# run_measured LOG ARGS...: as in run-unpack-hostile-json-bomb.sh.
run_measured() {
	local log=$1 r
	shift
	r=$(python3 - "$asan" "$log" "$COREUNPACK" "$@" <<'PY'
import resource, subprocess, sys
asan, log, args = sys.argv[1] == '1', sys.argv[2], sys.argv[3:]
def limit():
    if not asan:
        resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))
with open(log + '.out', 'w') as o, open(log + '.err', 'w') as e:
    p = subprocess.run(args, preexec_fn=limit, stdout=o, stderr=e, stdin=subprocess.DEVNULL)
print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
)
	CU_ST=${r% *}
	CU_RSS=${r#* }
}

for spec in "25m:25000000:1048576" "1000:1000:10"; do
	IFS=: read -r name n cap <<<"$spec"
	cp_check "a sparse map of $n regions is refused (limit $cap), within 64 MiB"
	for mode in --list -C; do
		args=("$mode")
		[[ $mode == -C ]] && args+=("$CU_BOX/out")
		run_measured "$CP_WORK/logs/bomb" "${args[@]}" "$b/map-$name.tar.zst"
		sed 's/^/  stderr: /' "$CP_WORK/logs/bomb.err"
		cp_log "coreunpack $mode: exit $CU_ST, peak RSS $((CU_RSS >> 10)) MiB"
		[[ $CU_ST == 1 ]] || cp_fail "coreunpack $mode exited $CU_ST, expected 1" "$CP_WORK/logs/bomb.err"
		grep -q -F "sparse map of $n regions, more than the limit of $cap for a file of" \
			"$CP_WORK/logs/bomb.err" || cp_fail "wrong message" "$CP_WORK/logs/bomb.err"
		((CU_RSS < 64 << 10 || asan)) || cp_fail "coreunpack $mode peaked at $((CU_RSS >> 10)) MiB"
		[[ ! -e $CU_BOX/out ]] || cp_fail "out/ was left behind"
	done
done
cp_finish
