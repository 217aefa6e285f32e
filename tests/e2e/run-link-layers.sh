#!/bin/bash
# The layering holds in the binaries: coreunpack does not link libdw (it
# has no use for it; libelf it links for cp_core, which reads the names gdb
# will open from a bundle's core) and holds no code of the packer's
# (src/pack/, library cp_pack); the packer's and the unpacker's libraries
# are separate archives, so a call across them fails to link.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_need nm:binutils ldd:libc-bin
build=$(dirname "$COREPACK")

cp_check "coreunpack does not link libdw"
ldd "$COREUNPACK" >"${TMPDIR:-/tmp}/cp-ldd.$$" 2>&1 || true
if grep -E 'libdw\.so' "${TMPDIR:-/tmp}/cp-ldd.$$"; then
	rm -f "${TMPDIR:-/tmp}/cp-ldd.$$"
	cp_fail "coreunpack links libdw"
fi
rm -f "${TMPDIR:-/tmp}/cp-ldd.$$"

cp_check "coreunpack holds none of cp_pack's functions"
[[ -f $build/libcp_pack.a ]] || cp_fail "no $build/libcp_pack.a"
mapfile -t pack_syms < <(nm --defined-only -g "$build/libcp_pack.a" 2>/dev/null | awk 'NF == 3 && $2 == "T" { print $3 }' | sort -u)
((${#pack_syms[@]} > 20)) || cp_fail "libcp_pack.a defines only ${#pack_syms[@]} functions"
mapfile -t unpack_syms < <(nm --defined-only "$COREUNPACK" | awk 'NF == 3 && ($2 == "T" || $2 == "t") { print $3 }' | sort -u)
both=$(comm -12 <(printf '%s\n' "${pack_syms[@]}") <(printf '%s\n' "${unpack_syms[@]}"))
[[ -z $both ]] || cp_fail "coreunpack holds packer functions: $(tr '\n' ' ' <<<"$both")"
cp_log "cp_pack defines ${#pack_syms[@]} functions; coreunpack has none of them"
cp_finish
