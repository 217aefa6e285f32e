#!/bin/bash
# Rust-mangled and C++-mangled symbol names, made without rustc: C
# functions given such names with asm labels (a Rust v0 name
# _RNvCs1234_5crate5crash, a legacy Rust name _ZN...17h<16 hex>E, a C++
# name).  With DWARF (a C unit) gdb shows the linkage names as they are;
# from the symbol table alone it demangles them, in full: the v0 crate's
# disambiguator ("crate[3c1c0]::crash"), the legacy hash
# ("::h0123456789abcdef"), the C++ parameters.  The crash summary, report.txt
# and manifest.json show what gdb shows in both builds; the manifest keeps
# the mangled names of the demangled ones.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
. "$CP_E2E_DIR/bt-lib.sh"
cp_init
[[ $CP_SELFCHECK != 1 ]] || cp_skip "nothing to check against gdb in SELFCHECK mode"

b=$CP_WORK/b
mkdir -p "$b"
cat >"$b/names.c" <<'PROG'
void v0_crash(volatile int *p) __asm__("_RNvCs1234_5crate5crash");
void legacy_mid(volatile int *p) __asm__("_ZN5crate6module3mid17h0123456789abcdefE");
void cpp_outer(volatile int *p) __asm__("_ZN4acme5outerEPVi");

__attribute__((noinline)) void v0_crash(volatile int *p)
{
	*p = 1; /* LINE:v0 */
}

__attribute__((noinline)) void legacy_mid(volatile int *p)
{
	v0_crash(p); /* LINE:legacy */
	__asm__ volatile("");
}

__attribute__((noinline)) void cpp_outer(volatile int *p)
{
	legacy_mid(p); /* LINE:cpp */
	__asm__ volatile("");
}

void lib_entry(void)
{
	cpp_outer((volatile int *)0); /* LINE:entry */
	__asm__ volatile("");
}
PROG
cat >"$b/main.c" <<'PROG'
void lib_entry(void);

int main(void)
{
	lib_entry(); /* LINE:main */
	return 0;
}
PROG

# build VARIANT [FLAGS...]: $b/VARIANT/{libnames.so,app}, crashed.
build() {
	local d=$b/$1
	shift
	mkdir -p "$d"
	gcc "${CP_CFLAGS[@]}" "$@" -fPIC -shared -o "$d/libnames.so" "$b/names.c"
	gcc "${CP_CFLAGS[@]}" -o "$d/app" "$b/main.c" -L"$d" -lnames -Wl,-rpath,"$d"
}

for v in dwarf stripped; do
	if [[ $v == dwarf ]]; then
		build dwarf
	else
		build stripped -Wl,--build-id=0xfedcba9876543210fedcba9876543210fedcba98
		strip "$b/stripped/libnames.so"
	fi
	cp_crash "$CP_WORK/crash-$v" "$b/$v/app"
	cp_check "$v: the frames are gdb's"
	bt_gdb "$CP_WORK/logs/gdb-$v" "$b/$v/app" "$CP_CORE" -ex bt
	[[ $v == stripped ]] && export BT_NOTES_OK=1
	bt_bundle "$CP_WORK/out-$v" "$CP_CORE"
	sed -n '/^thread/,$p' "$CP_WORK/out-$v/report.txt" | sed 's/^/  /'
	bt_same_as_gdb "$CP_WORK/out-$v" "$CP_WORK/logs/gdb-$v" "$v"
done

cp_check "dwarf: the linkage names as they are, with their lines"
want=$(printf '%s\n' "_RNvCs1234_5crate5crash	names.c:$(cp_line "$b/names.c" v0)" \
	"_ZN5crate6module3mid17h0123456789abcdefE	names.c:$(cp_line "$b/names.c" legacy)" \
	"_ZN4acme5outerEPVi	names.c:$(cp_line "$b/names.c" cpp)" \
	"lib_entry	names.c:$(cp_line "$b/names.c" entry)" \
	"main	main.c:$(cp_line "$b/main.c" main)")
[[ $(cat "$CP_WORK/out-dwarf/ours") == "$want" ]] ||
	cp_fail_later "dwarf: the frames are not the five linkage names with their lines"

cp_check "stripped: the names demangled in full, the mangled ones kept in manifest.json"
want=$(printf '%s\n' "crate[3c1c0]::crash	" "crate::module::mid::h0123456789abcdef	" \
	"acme::outer(int volatile*)	" "lib_entry	" "main	main.c:$(cp_line "$b/main.c" main)")
[[ $(cat "$CP_WORK/out-stripped/ours") == "$want" ]] ||
	cp_fail_later "stripped: the frames are not the demangled names"
m=$CP_WORK/out-stripped/manifest.json
[[ $(jq -r '[.crash.frames[0:3][] | .mangled] | join(" ")' "$m") == \
	"_RNvCs1234_5crate5crash _ZN5crate6module3mid17h0123456789abcdefE _ZN4acme5outerEPVi" ]] ||
	cp_fail_later "stripped: manifest.json's frames do not keep the mangled names"
[[ $(jq -r '.crash.frames[3].mangled' "$m") == null ]] ||
	cp_fail_later "stripped: lib_entry has a mangled name in manifest.json"
grep -qx 'libnames.so: no line information: no debug information (no separate debug file)' \
	"$CP_WORK/out-stripped/summary.txt" ||
	cp_fail_later "stripped: the summary does not say why libnames.so has no lines"
cp_finish
