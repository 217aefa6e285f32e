#!/bin/bash
# C++ frames in the crash summary are named as gdb names them, on the
# origin, from the same files: demangled linkage names without their
# parameters (acme::Job::run), an anonymous namespace, a const member, a
# template instance, an inlined function with a frame of its own, a lambda
# called through std::function (g++ gives the lambda's operator() and the
# std::function machinery no linkage name: gdb names them from the DWARF
# scopes, with the parameters where its own parser cannot read the name;
# clang++ gives them linkage names gdb cannot strip), and, without any
# debug information, the symbol table's names demangled in full, with
# their parameters.  Three builds of one library: g++ -O0 with a separate
# debug file, clang++ -gdwarf-5 -O2 (no .debug_aranges, more inlining),
# and g++ stripped.  For each, report.txt, the summary on stdout and
# manifest.json's frames equal gdb's; the manifest keeps the mangled name
# beside the demangled one.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
. "$CP_E2E_DIR/bt-lib.sh"
cp_init
cp_need g++:g++ clang++:clang
[[ $CP_SELFCHECK != 1 ]] || cp_skip "nothing to check against gdb in SELFCHECK mode"

b=$CP_WORK/b
mkdir -p "$b"
cat >"$b/job.cc" <<'PROG'
#include <cstdio>
#include <functional>

namespace acme {
namespace {
struct Poker {
	volatile int *p;
	void poke(int v) const
	{
		*p = v; /* LINE:poke */
	}
};
} // namespace

static inline __attribute__((always_inline)) void store(const Poker &pk, int v)
{
	pk.poke(v + 1); /* LINE:store */
}

template <typename T> __attribute__((noinline)) void apply(const Poker &pk, T v)
{
	store(pk, static_cast<int>(v)); /* LINE:apply */
}

class Job {
public:
	explicit Job(volatile int *p) : pk_{p} {}
	int run(int n);

private:
	Poker pk_;
};

__attribute__((noinline)) int Job::run(int n)
{
	std::function<void(int)> step = [this](int v) {
		apply<long>(pk_, v); /* LINE:lambda */
	};
	step(n); /* LINE:run */
	std::printf("%d\n", n);
	return n;
}
} // namespace acme

extern "C" int lib_entry(volatile int *p)
{
	acme::Job job(p);
	return job.run(3); /* LINE:entry */
}
PROG
cat >"$b/main.c" <<'PROG'
int lib_entry(volatile int *p);

int main(void)
{
	return lib_entry((volatile int *)0); /* LINE:main */
}
PROG

CP_DEBUGROOT=$CP_WORK/dbg
# build VARIANT COMPILER-AND-FLAGS...: $b/VARIANT/{libjob.so,app}, crashed.
build() {
	local v=$1 d=$b/$1 id
	shift
	mkdir -p "$d"
	"$@" -fPIC -shared -o "$d/libjob.so" "$b/job.cc"
	gcc "${CP_CFLAGS[@]}" -o "$d/app" "$b/main.c" -L"$d" -ljob -Wl,-rpath,"$d"
	case $v in
	gcc-split)
		id=$(cp_build_id "$d/libjob.so")
		mkdir -p "$CP_DEBUGROOT/.build-id/${id:0:2}"
		objcopy --only-keep-debug "$d/libjob.so" "$CP_DEBUGROOT/.build-id/${id:0:2}/${id:2}.debug"
		strip --strip-debug "$d/libjob.so"
		;;
	gcc-stripped) strip "$d/libjob.so" ;;
	esac
	cp_crash "$CP_WORK/crash-$v" "$d/app"
}

check() {
	local v=$1 dir=$CP_WORK/out-$1
	cp_check "$v: the frames are gdb's"
	bt_gdb "$CP_WORK/logs/gdb-$v" "$b/$v/app" "$CP_CORE" -ex bt
	bt_bundle "$dir" "$CP_CORE" --debug-dir "$CP_DEBUGROOT"
	sed -n '/^thread/,/^$/p' "$dir/report.txt" | sed 's/^/  /'
	bt_same_as_gdb "$dir" "$CP_WORK/logs/gdb-$v" "$v"
}

build gcc-split g++ "${CP_CFLAGS[@]}"
check gcc-split
d=$CP_WORK/out-gcc-split
cp_check "gcc-split: the frames gdb shows, named as gdb names them"
want=$(printf '%s\n' "acme::(anonymous namespace)::Poker::poke	job.cc:$(cp_line "$b/job.cc" poke)" \
	"acme::store	job.cc:$(cp_line "$b/job.cc" store)" \
	"acme::apply<long>	job.cc:$(cp_line "$b/job.cc" apply)" \
	"operator()	job.cc:$(cp_line "$b/job.cc" lambda)")
[[ $(head -n4 "$d/ours") == "$want" ]] ||
	cp_fail_later "gcc-split: the first frames are not poke, store (inlined), apply<long>, operator()"
grep -q '^#1  0x[0-9a-f]* acme::store (libjob.so) .*job.cc:[0-9]* \[inlined\]$' "$d/report.txt" ||
	cp_fail_later "gcc-split: frame #1 is not acme::store, inlined"
grep -q '^acme::Job::run	job.cc:' "$d/ours" || cp_fail_later "gcc-split: no acme::Job::run frame"
grep -q '^std::_Function_handler<.*>::_M_invoke(const std::_Any_data &, int &&)	' "$d/ours" ||
	cp_fail_later "gcc-split: std::function's _M_invoke is not named with its parameters, as gdb names it"
cp_check "gcc-split: manifest.json keeps the mangled names"
[[ $(jq -r '.crash.frames[] | select(.function == "acme::Job::run") | .mangled' "$d/manifest.json") == _ZN4acme3Job3runEi ]] ||
	cp_fail_later "gcc-split: the manifest's acme::Job::run frame has no mangled _ZN4acme3Job3runEi"
[[ $(jq -r '.crash.frames[0].mangled' "$d/manifest.json") == _ZNK4acme12_GLOBAL__N_15Poker4pokeEi ]] ||
	cp_fail_later "gcc-split: the manifest's frame 0 has no mangled _ZNK4acme12_GLOBAL__N_15Poker4pokeEi"
[[ $(jq -r '[.crash.frames[] | select(.function == "lib_entry" or .function == "main") | .mangled] | unique | .[]' "$d/manifest.json") == null ]] ||
	cp_fail_later "gcc-split: C functions have a mangled name in the manifest"

build clang-dwarf5 clang++ -g -gdwarf-5 -O2 -fno-omit-frame-pointer -Wl,--build-id
readelf -SW "$b/clang-dwarf5/libjob.so" >"$CP_WORK/logs/sections"
grep -q '\.debug_aranges' "$CP_WORK/logs/sections" &&
	cp_fail "clang++ wrote .debug_aranges: this build tests nothing"
check clang-dwarf5
grep -q '^acme::Job::run	job.cc:' "$CP_WORK/out-clang-dwarf5/ours" ||
	cp_fail_later "clang-dwarf5: no acme::Job::run frame with its line"
n=$(grep -c ' \[inlined\]$' "$CP_WORK/out-clang-dwarf5/report.txt" || true)
[[ $n -ge 2 ]] || cp_fail_later "clang-dwarf5: $n inlined frames, fewer than two"

# (another build-id: the debug file above is not its)
build gcc-stripped g++ "${CP_CFLAGS[@]}" -Wl,--build-id=0x0123456789abcdef0123456789abcdef01234567
BT_NOTES_OK=1 check gcc-stripped
d=$CP_WORK/out-gcc-stripped
cp_check "gcc-stripped: symbols demangled with their parameters, as gdb shows them"
grep -q '^acme::Job::run(int)	$' "$d/ours" || cp_fail_later "gcc-stripped: no frame acme::Job::run(int)"
[[ $(jq -r '.crash.frames[] | select(.function == "acme::Job::run(int)") | .mangled' "$d/manifest.json") == _ZN4acme3Job3runEi ]] ||
	cp_fail_later "gcc-stripped: the manifest's acme::Job::run(int) frame has no mangled name"
cp_check "gcc-stripped: the summary says why libjob.so has no lines"
for f in summary.txt report.txt; do
	grep -qx 'libjob.so: no line information: no debug information (no separate debug file)' "$d/$f" ||
		cp_fail_later "gcc-stripped: $f does not say why libjob.so has no lines"
done
[[ $(jq -r '.crash.no_lines[] | select(.module | endswith("/libjob.so")) | .why' "$d/manifest.json") == "no debug information (no separate debug file)" ]] ||
	cp_fail_later "gcc-stripped: manifest.json's crash.no_lines does not say why libjob.so has no lines"
cp_finish
