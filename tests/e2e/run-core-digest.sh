#!/bin/bash
# The core's digest (manifest version 4, doc/bundle-format.md "Digests"):
# corepack records the trio's core, which has holes, as sparse_xxh3_128 and
# every other file as sha256.  Each value must be what an independent
# implementation computes: Python's xxhash module over the format
# reference's construction for the core, sha256sum for the others; the same
# core without holes is recorded as xxh3_128, what xxh128sum prints.
# coreunpack must refuse the bundle repacked (GNU tar, same order) with one
# byte of the core's data changed, naming the digest, and must unpack the
# same repack unchanged; and the bundle rewritten as an older corepack wrote
# it (version 3, the core as sparse_sha256) must still unpack, its core
# equal to the original.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cp_init
cu_need_unpack
cp_need xxh128sum:xxhash tar:tar zstd:zstd
# Debian's python3-xxhash is for /usr/bin/python3 (another python3 may
# come first in PATH).
py=/usr/bin/python3
"$py" -c 'import xxhash' 2>/dev/null || cp_skip "no Python xxhash module for $py (apt-get install python3-xxhash)"

cp_build_trio
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
core=$CP_CORE
b=$CP_WORK/b
mkdir -p "$b"

# sparse_xxh3 FILE / sparse_sha256 FILE: the format reference's definitions.
sparse_digest() {
	"$py" - "$1" "$2" <<'PY'
import hashlib, sys, xxhash
h = xxhash.xxh3_128() if sys.argv[1] == 'xxh3' else hashlib.sha256()
with open(sys.argv[2], 'rb') as f:
    for i, chunk in enumerate(iter(lambda: f.read(65536), b'')):
        if chunk.count(0) != len(chunk):
            h.update(i.to_bytes(8, 'little') + chunk)
print(h.hexdigest())
PY
}

# repack DIR OUT: DIR's bundle tree (the top directory 'b') into OUT with
# GNU tar, pax with 1.0 sparse maps, in the original bundle's order.
repack() {
	tar -C "$1" --format=pax --sparse --sparse-version=1.0 --no-recursion \
		-T "$CP_WORK/order" -cf - 2>"$CP_WORK/logs/repack.err" | zstd -q >"$2" ||
		cp_fail "repacking $2 failed" "$CP_WORK/logs/repack.err"
}

cp_pack "$core" "$b/b.tar.zst" -q
tar -tf "$b/b.tar.zst" >"$CP_WORK/order"
cp_extract "$b/b.tar.zst"
x=$CP_BUNDLE_DIR

cp_check "manifest version 4, the core digested as sparse_xxh3_128, every other file as sha256"
[[ $(cp_manifest .manifest_version) == 4 ]] || cp_fail "manifest_version is not 4" "$x/manifest.json"
[[ $(cp_manifest '.files[] | select(.path == "core") | .digest') == sparse_xxh3_128 ]] ||
	cp_fail "the core's digest kind is not sparse_xxh3_128" "$x/manifest.json"
others=$(cp_manifest '[.files[] | select(.path != "core") | .digest] | unique | join(",")')
[[ $others == sha256 ]] || cp_fail "the other files' digest kinds are '$others', not sha256" "$x/manifest.json"

cp_check "the core's sparse_xxh3_128 is Python xxhash's over the reference's construction"
want=$(sparse_digest xxh3 "$core")
got=$(jq -r '.files[] | select(.path == "core") | .sparse_xxh3_128' "$x/digests.json")
[[ $got =~ ^[0-9a-f]{32}$ && $got == "$want" ]] ||
	cp_fail "digests.json says '$got' for the core, Python's xxhash '$want'" "$x/digests.json"
cp_log "core: sparse_xxh3_128 $got"

cp_check "every other file's sha256 is sha256sum's"
n=0
while IFS=$'\t' read -r path sum; do
	[[ $(sha256sum <"$x/$path" | cut -d' ' -f1) == "$sum" ]] ||
		cp_fail "'$path': sha256 in digests.json is not sha256sum's" "$x/digests.json"
	n=$((n + 1))
done < <(jq -r '.files[] | select(.path != "core") | [.path, .sha256] | @tsv' "$x/digests.json")
((n > 5)) || cp_fail "only $n files besides the core" "$x/digests.json"

cp_check "a core without holes is recorded as xxh3_128, what xxh128sum prints"
cp --sparse=never "$core" "$CP_WORK/dense-core"
cp_pack "$CP_WORK/dense-core" "$b/dense.tar.zst" -q
cp_extract "$b/dense.tar.zst"
[[ $(cp_manifest '.files[] | select(.path == "core") | .digest') == xxh3_128 ]] ||
	cp_fail "the dense core's digest kind is not xxh3_128" "$CP_BUNDLE_DIR/manifest.json"
got=$(jq -r '.files[] | select(.path == "core") | .xxh3_128' "$CP_BUNDLE_DIR/digests.json")
want=$(xxh128sum "$CP_WORK/dense-core" | cut -d' ' -f1)
[[ $got == "$want" ]] || cp_fail "digests.json says '$got' for the dense core, xxh128sum '$want'"
cu_unpack "$CP_WORK/u-dense" "$b/dense.tar.zst" -q
cmp -s "$core" "$CP_WORK/u-dense/core" || cp_fail "the dense bundle's unpacked core differs from the original"

cp_check "the bundle repacked unchanged with GNU tar unpacks"
mkdir -p "$CP_WORK/r"
tar -xf "$b/b.tar.zst" -C "$CP_WORK/r"
repack "$CP_WORK/r" "$b/same.tar.zst"
cu_unpack "$CP_WORK/u-same" "$b/same.tar.zst" -q
cmp -s "$core" "$CP_WORK/u-same/core" || cp_fail "the repacked bundle's core differs from the original"

cu_box
cp_check "one byte of the core's data changed: refused, naming sparse_xxh3_128"
"$py" - "$CP_WORK/r/b/core" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
off = os.lseek(fd, 0, os.SEEK_DATA) + 100
b = os.pread(fd, 1, off)
os.pwrite(fd, bytes([b[0] ^ 1]), off)
PY
repack "$CP_WORK/r" "$b/flipped.tar.zst"
cu_expect_refused "$b/flipped.tar.zst" \
	"'core' does not match the manifest: sparse_xxh3_128 [0-9a-f]{32}, expected [0-9a-f]{32}"

cp_check "the bundle as version 3 wrote it (the core as sparse_sha256) unpacks"
rm -rf "$CP_WORK/r" && mkdir -p "$CP_WORK/r"
tar -xf "$b/b.tar.zst" -C "$CP_WORK/r"
sha=$(sparse_digest sha256 "$core")
"$py" - "$CP_WORK/r/b" "$sha" <<'PY'
import json, sys
top, sha = sys.argv[1], sys.argv[2]
m = json.load(open(top + '/manifest.json'))
m['manifest_version'] = 3
for f in m['files']:
    if f['path'] == 'core':
        f['digest'] = 'sparse_sha256'
json.dump(m, open(top + '/manifest.json', 'w'), indent=1)
d = json.load(open(top + '/digests.json'))
for f in d['files']:
    if f['path'] == 'core':
        del f['sparse_xxh3_128']
        f['sparse_sha256'] = sha
json.dump(d, open(top + '/digests.json', 'w'), indent=1)
PY
repack "$CP_WORK/r" "$b/v3.tar.zst"
cu_unpack "$CP_WORK/u-v3" "$b/v3.tar.zst" -q
cmp -s "$core" "$CP_WORK/u-v3/core" || cp_fail "the version 3 bundle's unpacked core differs from the original"
cp_finish
