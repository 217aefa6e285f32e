#!/bin/bash
# Crafted thin bundles (manifest version 3) against a server that answers
# every build-id with the same file, /bin/true: a remote file whose digest
# and size the manifest gives right but whose ELF build-id is not the one
# it is listed (and asked) by; a remote file whose name the bundle took
# with a symlink; one below a symlinked directory.  Each is refused,
# naming it, and nothing is written anywhere, through a symlink least of
# all.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-debuginfod.sh"
cu_init
cp_need readelf:binutils sha256sum:coreutils

true_id=$(cp_build_id /bin/true)
[[ -n $true_id ]] || cp_skip "/bin/true has no build-id"
true_size=$(stat -c %s /bin/true)
true_sha=$(sha256sum /bin/true | cut -d' ' -f1)
dl_start_liar /bin/true
export DEBUGINFOD_URLS=$DL_LIAR_URL
# the client's cache outside CP_WORK, which must not change (cleaned up as
# CP_UNPACK is)
CP_UNPACK=$(mktemp -d "${TMPDIR:-/tmp}/cp-e2e-$CP_TEST-cache.XXXXXX")
export DEBUGINFOD_CACHE_PATH=$CP_UNPACK
export TRUE_ID=$true_id TRUE_SIZE=$true_size TRUE_SHA=$true_sha

b=$CP_WORK/bundles
thin_py='
import os
def thin(b, build_id):
    """The executable left out: listed in remote, not in the tar."""
    b.members = [m for m in b.members if m[0].name != b.full("sysroot/usr/bin/app")]
    b.manifest["manifest_version"] = 3
    b.manifest["objects"][0]["build_id_core"] = build_id
    b.manifest["remote"] = [{"path": "sysroot/usr/bin/app", "kind": "executable",
                             "build_id": build_id, "size": int(os.environ["TRUE_SIZE"]),
                             "sha256": os.environ["TRUE_SHA"]}]
'

cu_craft "$b/build-id.tar.zst" <<PY
$thin_py
b = Bundle.synthetic()
thin(b, 'ab' * 20)
b.write(out)
PY
cu_expect_refused "$b/build-id.tar.zst" \
	"debuginfod: the executable sent for build-id (ab){20} has another build-id: refused"
cp_check "the refused file is not left in the client's cache"
[[ ! -e $CP_UNPACK/$(printf 'ab%.0s' {1..20})/executable ]] || cp_fail "the lie stays in the cache"

cu_craft "$b/name-taken.tar.zst" <<PY
$thin_py
b = Bundle.synthetic()
thin(b, os.environ['TRUE_ID'])
b.file('sysroot/usr/bin/app2', b'the bundle\'s own file\n')
b.symlink('sysroot/usr/bin/app', 'app2')
b.write(out)
PY
cu_expect_refused "$b/name-taken.tar.zst" \
	"cannot place 'sysroot/usr/bin/app' \(build-id $true_id\): the bundle has that name already$"

cu_craft "$b/below-link.tar.zst" <<PY
$thin_py
b = Bundle.synthetic()
thin(b, os.environ['TRUE_ID'])
b.file('debug/x/bin/keep', b'kept\n')
b.symlink('sysroot/usr', '../debug/x')
b.write(out)
PY
cu_expect_refused "$b/below-link.tar.zst" \
	"cannot place 'sysroot/usr/bin/app' \(build-id $true_id\): (Too many levels of symbolic links|Not a directory)"

cp_check "the same bundle, its build-id right, unpacks"
cu_craft "$b/good.tar.zst" <<PY
$thin_py
b = Bundle.synthetic()
thin(b, os.environ['TRUE_ID'])
b.write(out)
PY
CU_ST=0
"$COREUNPACK" -C "$CP_WORK/good" "$b/good.tar.zst" >"$CP_WORK/logs/good.out" 2>"$CP_WORK/logs/good.err" || CU_ST=$?
((CU_ST == 0)) || cp_fail "coreunpack exited $CU_ST" "$CP_WORK/logs/good.out" "$CP_WORK/logs/good.err"
cmp -s "$CP_WORK/good/sysroot/usr/bin/app" /bin/true || cp_fail "the fetched file is not the server's"
cp_finish
