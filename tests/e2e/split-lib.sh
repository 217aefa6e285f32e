# Helpers for the split DWARF tests (tests/e2e/run-split-dwarf*.sh), on top
# of lib-unpack.sh (sourced here): the packing tests' programs (app, which
# dlopens a plugin, which calls libcrash) built with -gsplit-dwarf the way
# make and cmake build: in a build tree, objects named relative to it, so
# that each skeleton's DW_AT_dwo_name ("obj/app.dwo") is relative to its
# DW_AT_comp_dir, the build tree.  The build tree is hidden with the rest of
# CP_WORK before gdb runs on the bundle.

# shellcheck source=tests/e2e/lib-unpack.sh
. "${CP_E2E_DIR:-$(dirname "${BASH_SOURCE[0]}")}/lib-unpack.sh"
# shellcheck source=tests/e2e/bt-lib.sh
. "$CP_E2E_DIR/bt-lib.sh"

# sd_build [CFLAGS...]: build in SD_BUILD=$CP_WORK/build.  Sets
#   SD_APP     bin/app
#   SD_LIB     lib/libcrash.so.1.0.0 (SONAME libcrash.so.1, a symlink to it)
#   SD_PLUGIN  lib/plugin.so
# and the .dwo files obj/{app,libcrash,plugin}.dwo.
sd_build() {
	SD_BUILD=$CP_WORK/build
	SD_APP=$SD_BUILD/bin/app
	SD_LIB=$SD_BUILD/lib/libcrash.so.1.0.0
	SD_PLUGIN=$SD_BUILD/lib/plugin.so
	mkdir -p "$SD_BUILD/obj" "$SD_BUILD/lib" "$SD_BUILD/bin"
	(
		cd "$SD_BUILD"
		local cc=(gcc "${CP_CFLAGS[@]}" -gsplit-dwarf "$@" -I"$CP_PROGS")
		"${cc[@]}" -fPIC -c "$CP_PROGS/libcrash.c" -o obj/libcrash.o
		"${cc[@]}" -shared -Wl,-soname,libcrash.so.1 -o lib/libcrash.so.1.0.0 obj/libcrash.o
		ln -s libcrash.so.1.0.0 lib/libcrash.so.1
		"${cc[@]}" -fPIC -c "$CP_PROGS/plugin.c" -o obj/plugin.o
		"${cc[@]}" -shared -o lib/plugin.so obj/plugin.o -Llib -l:libcrash.so.1 \
			-Wl,-rpath,"$SD_BUILD/lib"
		"${cc[@]}" -c "$CP_PROGS/app.c" -o obj/app.o
		"${cc[@]}" -o bin/app obj/app.o -Llib -l:libcrash.so.1 -Wl,-rpath,"$SD_BUILD/lib" -ldl
	)
	local f
	for f in app libcrash plugin; do
		[[ -f $SD_BUILD/obj/$f.dwo ]] || cp_fail "gcc -gsplit-dwarf wrote no obj/$f.dwo"
	done
	# The objects hold skeletons only: without the .dwo files no source line.
	if readelf -S "$SD_APP" | grep -q '\.debug_line\.dwo'; then
		cp_fail "bin/app holds split DWARF sections itself"
	fi
}

# sd_dwo_id OBJECT: the DWO id of OBJECT's (first) skeleton unit, 16 hex
# digits: the DWARF 5 unit id, or DWARF 4's DW_AT_GNU_dwo_id.
sd_dwo_id() {
	local id
	id=$(eu-readelf --debug-dump=info "$1" 2>/dev/null | sed -n \
		-e 's/.*Unit type: skeleton.*Unit id: 0x\([0-9a-f]*\).*/\1/p' \
		-e 's/.*GNU_dwo_id *(data8) 0x\([0-9a-f]*\).*/\1/p' | head -n1)
	[[ -n $id ]] || cp_fail "no skeleton unit with a DWO id in $1"
	printf '%016x\n' "$((16#$id))"
}

# sd_origin_gdb OUT: gdb on the original files (the build tree visible), as
# a developer runs it on the crashed machine, with the same commands the
# test runs on the bundle; its frames must be the expected ones.
sd_origin_gdb() {
	bt_gdb "$1" "$SD_APP" "$CP_CORE" -ex bt -ex 'info sharedlibrary'
	cp_assert_frames "$1" "${CP_FRAMES[@]}"
	cp_frames "$1" >"$1.frames"
}

# sd_same_frames ORIGIN-OUT BUNDLE-OUT: every frame of the bundle's
# backtrace (function, file:line) is the origin's.
sd_same_frames() {
	cp_frames "$2" >"$2.frames"
	cp_check "gdb's frames on the bundle are gdb's on the origin ($(wc -l <"$1.frames") frames)"
	diff "$1.frames" "$2.frames" >"$CP_WORK/logs/frames.diff" ||
		cp_fail "frames differ (< origin, > bundle)" "$CP_WORK/logs/frames.diff" "$2"
	sed 's/^/  frame: /' "$2.frames"
}

# sd_check_dwo NAME OBJECT DWO: the manifest object NAME (a path suffix)
# lists DWO as kind "dwo" with OBJECT's DWO id; the bundle holds a copy of
# DWO and a symlink to it at sysroot + OBJECT's directory + obj/NAME.dwo,
# where gdb looks first.
sd_check_dwo() {
	local name=$1 obj=$2 dwo=$3 id bp link
	id=$(sd_dwo_id "$obj")
	cp_check "'$name': the manifest lists $(basename "$dwo") (DWO id $id), the bundle holds it"
	cp_manifest_object "$name"
	bp=$(cp_manifest --arg id "$id" ".objects[$CP_OBJ].debug[] | select(.kind == \"dwo\" and .dwo_id == \$id) | .bundle_path")
	[[ $bp == "debug/.dwo/$id.dwo" ]] ||
		cp_fail "no dwo entry with id $id for '$name' (got '$bp')" "$CP_BUNDLE_DIR/manifest.json"
	cmp -s "$dwo" "$CP_BUNDLE_DIR/$bp" || cp_fail "$bp is not a copy of $dwo"
	link="sysroot$(dirname "$(readlink -f "$obj")")/obj/$(basename "$dwo")"
	cp_manifest --arg id "$id" --arg l "$link" -e \
		".objects[$CP_OBJ].debug[] | select(.dwo_id == \$id) | .links | index([\$l])" >/dev/null ||
		cp_fail "$bp is not linked as $link" "$CP_BUNDLE_DIR/manifest.json"
	sd_check_links "$CP_OBJ" "$bp"
}

# sd_check_links OBJ BUNDLE-PATH: every link the manifest gives object
# OBJ's debug file BUNDLE-PATH is a symlink to it in the bundle.
sd_check_links() {
	local l
	while IFS= read -r l; do
		[[ -L $CP_BUNDLE_DIR/$l && $(readlink -f "$CP_BUNDLE_DIR/$l") == $(readlink -f "$CP_BUNDLE_DIR/$2") ]] ||
			cp_fail "$l is not a symlink to $2 in the bundle"
	done < <(cp_manifest --arg bp "$2" ".objects[$1].debug[] | select(.bundle_path == \$bp) | .links[]")
}
