#!/bin/bash
# Bundles of zeros that expand without bound (issue 19, kind 2).  A 68 KB
# bundle of zeros expanded to 2 GiB and was written in full before
# manifest.json, its last entry, was read.  Now:
#  1. a bundle whose manifest comes last (version 1, the attack as it was)
#     may expand at most 256 times its size plus 64 MiB: refused there;
#  2. a bundle whose manifest comes first is held to it: an entry larger
#     than the manifest says is refused at its header, before any data;
#  3. and the disk the manifest's files need is checked against the file
#     system before anything is written.
# coreunpack runs under `ulimit -f` (256 MiB): writing the bomb out
# (what older coreunpacks did) kills it with SIGXFSZ instead of filling the
# disk, which fails the test.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
# bomb OUT VERSION LISTED_SIZE DATA_SIZE: a bundle whose core is DATA_SIZE
# zero bytes (stored without holes, streamed into zstd), listed in the
# manifest with LISTED_SIZE.  Version 1: the manifest last, 2: first.
bomb() {
	python3 - "$@" <<'PY'
import hashlib, io, json, subprocess, sys, tarfile
out, version, listed, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
zero = bytes(1 << 20)
h = hashlib.sha256()
left = size
while left:
    n = min(left, len(zero)); h.update(zero[:n]); left -= n
files = [{'path': 'core', 'size': listed}]
if version == 1:
    files[0]['sha256'] = h.hexdigest()
else:
    files[0]['digest'] = 'sha256'
manifest = json.dumps({
    'manifest_version': version, 'core': {'path': 'core', 'machine': 'x86_64'},
    'gdb': {'sysroot': 'sysroot', 'debug_file_directory': 'debug', 'core': 'core'},
    'objects': [], 'files': files}).encode()

class Zeros(io.RawIOBase):
    def __init__(self, n): self.left = n
    def readable(self): return True
    def readinto(self, b):
        n = min(len(b), self.left); b[:n] = bytes(n); self.left -= n; return n

def info(name, n):
    ti = tarfile.TarInfo('crash/' + name); ti.size = n; ti.mode = 0o600; ti.mtime = 1700000000
    return ti

with open(out, 'wb') as f:
    z = subprocess.Popen(['zstd', '-q', '-c'], stdin=subprocess.PIPE, stdout=f)
    with tarfile.open(fileobj=z.stdin, mode='w|', format=tarfile.PAX_FORMAT) as tar:
        if version >= 2:
            tar.addfile(info('manifest.json', len(manifest)), io.BytesIO(manifest))
        tar.addfile(info('core', size), io.BufferedReader(Zeros(size), 1 << 20))
        if version == 1:
            tar.addfile(info('manifest.json', len(manifest)), io.BytesIO(manifest))
        else:
            d = json.dumps({'files': [{'path': 'core', 'sha256': h.hexdigest()}]}).encode()
            tar.addfile(info('digests.json', len(d)), io.BytesIO(d))
    z.stdin.close()
    if z.wait():
        sys.exit('zstd failed')
PY
	cp_log "$(basename "$1"): $(stat -c %s "$1") bytes"
}

two_gib=$((2 << 30))
bomb "$b/v1-bomb.tar.zst" 1 "$two_gib" "$two_gib"
bomb "$b/v2-lie.tar.zst" 2 18 "$two_gib"

# From here on nothing may write more than 256 MiB to one file.
ulimit -f $((256 << 10))

cp_check "a version 1 bundle of 2 GiB of zeros is refused past its expansion cap"
size=$(stat -c %s "$b/v1-bomb.tar.zst")
cap=$(((64 << 20) + 256 * size))
cu_expect_refused "$b/v1-bomb.tar.zst" \
	"refused \(in entry 'crash/core'\): more than $cap bytes of tar before a manifest|core' needs $two_gib bytes of disk"

cp_check "a version 2 bundle whose core is larger than its manifest says is refused at the core's header"
cu_expect_refused "$b/v2-lie.tar.zst" "'core' is $two_gib bytes, the manifest says 18"

cp_check "a version 2 bundle whose files need more disk than there is is refused before any is written"
avail=$(df --output=avail -B1 "$CU_BOX" | tail -n1)
huge=$((1 << 40))
if ((avail < huge)); then
	# Only the manifest and the core's header are needed: the refusal
	# comes first.
	bomb "$b/v2-huge.tar.zst" 2 "$huge" 0
	python3 - "$b/v2-huge.tar.zst" "$huge" <<'PY'
import io, json, subprocess, sys, tarfile
path, huge = sys.argv[1], int(sys.argv[2])
raw = subprocess.run(['zstd', '-dcq', path], stdout=subprocess.PIPE, check=True).stdout
t = tarfile.open(fileobj=io.BytesIO(raw))
m = t.getmember('crash/manifest.json')
text = t.extractfile(m).read()
# The core's header says HUGE too; its data never comes.
ti = tarfile.TarInfo('crash/core'); ti.size = huge; ti.mode = 0o600
hdr = ti.tobuf(tarfile.PAX_FORMAT)
out = raw[:m.offset_data + ((len(text) + 511) // 512) * 512] + hdr
open(path, 'wb').write(subprocess.run(['zstd', '-q', '-c'], input=out, stdout=subprocess.PIPE,
                                       check=True).stdout)
PY
	cu_expect_refused "$b/v2-huge.tar.zst" "its files need $huge bytes of disk; the file system has [0-9]+ free"
else
	cp_log "the file system has $avail bytes free, more than the $huge a manifest may list: not tested"
fi
cp_finish
