#!/bin/bash
# Issue 19, kind 9: symlink swaps.  The crashing user controls the paths
# the core names; root's corepack packed whatever they led to.  A core
# crafted as an unprivileged user's (NT_PRPSINFO uid and gid 65534) names:
#   - a root-only copy of libcrash (mode 0600 in a 0700 directory): packed
#     today (same build-id, status ok);
#   - a symlink owned by that user, to the plugin: followed today;
#   - another process's core (world-readable), under libcrash's later
#     mappings (so no build-id in memory to compare): packed today as an
#     object, with that process's memory;
#   - libcrash's separate debug file, found by .gnu_debuglink in a
#     directory made root-only: packed today.
# corepack run as root must leave each out with a warning naming it, pack
# the rest, and give a bundle coreunpack accepts.  A core file is never an
# object, whoever owns the core.
source "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init
cp_need python3:python3
[[ $(id -u) == 0 ]] || cp_skip "needs root: the attack is root's corepack reading root-only files and symlinks owned by another uid"
umask 022

cp_build_trio
# The user 65534 must reach the test's files, as a real user reaches theirs.
chmod 755 "$CP_WORK"
d=$CP_WORK
while [[ $d != / ]]; do
	[[ $(($(stat -c '0%a' "$d") & 1)) == 1 ]] ||
		cp_skip "'$d' is not searchable by other users: an unprivileged owner could not have run the test program"
	d=$(dirname "$d")
done
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"

secret=$CP_WORK/secret
mkdir -m 700 "$secret"
cp "$CP_LIB" "$secret/libcrash.so.1.0.0"
chmod 600 "$secret/libcrash.so.1.0.0"
mkdir -m 755 "$CP_WORK/user"
ln -s "$CP_PLUGIN" "$CP_WORK/user/plugin.so"
chown -h 65534:65534 "$CP_WORK/user/plugin.so"
mkdir -m 755 "$CP_WORK/other"
cp "$CP_CORE" "$CP_WORK/other/core.4242"
chmod 644 "$CP_WORK/other/core.4242"

craft=$CP_E2E_DIR/corecraft.py
python3 "$craft" "$CP_CORE" "$CP_WORK/crafted" --owner 65534:65534 \
	--rename "$CP_LIB=$secret/libcrash.so.1.0.0" --rename "$CP_PLUGIN=$CP_WORK/user/plugin.so"
python3 "$craft" "$CP_CORE" "$CP_WORK/crafted-core" --owner 65534:65534 \
	--rename-tail "$CP_LIB=$CP_WORK/other/core.4242"
# Unprivileged owner or not: a core is never an object.
python3 "$craft" "$CP_CORE" "$CP_WORK/root-core" --rename-tail "$CP_LIB=$CP_WORK/other/core.4242"

unpacks() {
	local dir=$CP_UNPACK/$1
	mkdir -p "$dir"
	"$COREUNPACK" -q -C "$dir" "$2" >"$CP_WORK/logs/$1.unpack" 2>&1 ||
		cp_fail "coreunpack refused corepack's bundle $2" "$CP_WORK/logs/$1.unpack"
	CP_BUNDLE_DIR=$dir
}

cp_check "a root-only file and a symlink the user owns: left out, each named in a warning"
cp_pack "$CP_WORK/crafted" "$CP_WORK/a.tar.zst" --no-backtrace
grep -qF "corepack: warning: '$secret/libcrash.so.1.0.0': refused, not packed: cannot resolve '$secret/libcrash.so.1.0.0': the crashed process (uid 65534, gid 65534) may not search '$secret'" "$CP_PACK_ERR" ||
	cp_fail "no warning refusing the root-only file" "$CP_PACK_ERR"
grep -qF "corepack: warning: '$CP_WORK/user/plugin.so': refused, not packed: cannot resolve '$CP_WORK/user/plugin.so': '$CP_WORK/user/plugin.so' is a symlink owned by the crashed process (uid 65534): not followed" "$CP_PACK_ERR" ||
	cp_fail "no warning refusing the user's symlink" "$CP_PACK_ERR"
if tar -tf "$CP_WORK/a.tar.zst" | grep -E "secret/|user/plugin|plugins/crashplugin" >"$CP_WORK/logs/leak"; then
	cp_fail "the bundle holds what the user may not read or a symlink's target" "$CP_WORK/logs/leak"
fi
unpacks a "$CP_WORK/a.tar.zst"
[[ $(cp_manifest ".objects[] | select(.path == \"$CP_APP\") | .status") == ok ]] ||
	cp_fail "the executable, which the user may read, is not packed" "$CP_BUNDLE_DIR/manifest.json"
for p in "$secret/libcrash.so.1.0.0" "$CP_WORK/user/plugin.so"; do
	[[ $(cp_manifest ".objects[] | select(.path == \"$p\") | .bundle_path") == null ]] ||
		cp_fail "'$p' has a bundle path" "$CP_BUNDLE_DIR/manifest.json"
done

cp_check "another process's core named as an object: refused; a debug file the user may not read: not used"
# libcrash's debug file, found by its .gnu_debuglink in lib/.debug/, made
# root-only: the user's core gets none, root's does.
chmod 700 "$(dirname "$CP_LIB")/.debug"
for c in crafted-core root-core; do
	cp_pack "$CP_WORK/$c" "$CP_WORK/$c.tar.zst" --no-backtrace
	grep -qF "corepack: warning: '$CP_WORK/other/core.4242': refused, not packed: a core file (ELF type ET_CORE), never packed as an object" "$CP_PACK_ERR" ||
		cp_fail "$c: no warning refusing the other core" "$CP_PACK_ERR"
	if tar -tf "$CP_WORK/$c.tar.zst" | grep -F "other/core.4242"; then
		cp_fail "$c: the other process's core is in the bundle"
	fi
	unpacks "$c" "$CP_WORK/$c.tar.zst"
	want=found
	[[ $c == crafted-core ]] && want=none
	got=$(cp_manifest ".objects[] | select(.path == \"$CP_LIB\") | .debug_status")
	[[ $got == "$want" ]] || cp_fail "$c: libcrash's debug status is '$got', expected '$want'" "$CP_BUNDLE_DIR/manifest.json"
done
cp_log "RESULT a root-only file, a user's symlink and another core left out, each with a warning"
cp_finish
