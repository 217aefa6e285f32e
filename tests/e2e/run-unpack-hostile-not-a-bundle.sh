#!/bin/bash
# Things that are not bundles: text, an ELF file, an empty file, a
# directory, a tar of something else, a format or compression a bundle
# never uses (only tar with zstd, xz, gzip or nothing is read at all).
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
printf 'hello\n%.0s' {1..2000} >"$b/text.tar.zst"
cu_expect_refused "$b/text.tar.zst" "not a bundle: "
cp /bin/true "$b/elf.tar"
cu_expect_refused "$b/elf.tar" "not a bundle: "
: >"$b/empty.tar.zst"
cu_expect_refused "$b/empty.tar.zst" "not a bundle: "
mkdir "$b/dir.tar.zst"
cu_expect_refused "$b/dir.tar.zst" "not a bundle: is a directory"

mkdir -p "$CP_WORK/logs/src/etc"
echo hi >"$CP_WORK/logs/src/etc/motd"
tar -C "$CP_WORK/logs/src" -cf "$b/other.tar" etc
cu_expect_refused "$b/other.tar" "refused entry 'etc/motd': 'motd' is not a bundle name"

# A good bundle, recompressed with bzip2 or stored as a zip: not read.
cu_craft "$b/good.tar" <<'PY'
b = Bundle.synthetic()
b.write(out)
PY
python3 - "$b/good.tar" <<'PY'
import bz2, sys, tarfile, zipfile
src = sys.argv[1]
open(src + '.bz2', 'wb').write(bz2.compress(open(src, 'rb').read()))
with tarfile.open(src) as t, zipfile.ZipFile(src[:-4] + '.zip', 'w') as z:
    for m in t.getmembers():
        if m.isreg():
            z.writestr(m.name, t.extractfile(m).read())
PY
cu_expect_refused "$b/good.tar.bz2" "not a bundle: "
cu_expect_refused "$b/good.zip" "not a bundle: "
coreunpack_ok=$b/good.tar
cu_run "$CP_WORK/logs/good" "$CU_BOX/a/b" -C good "$coreunpack_ok"
[[ $CU_ST == 0 ]] || cp_fail "the same bundle as a plain tar was refused" "$CP_WORK/logs/good.err"
rm -rf "$CU_BOX/a/b/good"

# The nonexistent: the message names it.
cu_run "$CP_WORK/logs/none" "$CU_BOX/a/b" -C out "$b/nothing.tar.zst"
[[ $CU_ST == 1 ]] || cp_fail "exit $CU_ST for a missing bundle"
grep -q -x "coreunpack: cannot open '$b/nothing.tar.zst': No such file or directory" "$CP_WORK/logs/none.err" ||
	cp_fail "wrong message for a missing bundle" "$CP_WORK/logs/none.err"
[[ ! -e $CU_BOX/a/b/out ]] || cp_fail "out/ was left behind for a missing bundle"
cp_finish
