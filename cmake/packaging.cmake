# The Debian package: `cpack -G DEB` in a build tree makes
# corepack_VERSION_ARCH.deb from what `cmake --install` installs (the two
# binaries in /usr/bin, the man pages, the format reference, and
# /usr/share/doc/corepack/copyright).  Its Depends line comes from
# dpkg-shlibdeps (dpkg-dev) on the binaries as built: the shared libraries'
# packages with the versions their symbols need, so it differs between a
# normal build and a COREPACK_STATIC one (libc6 only, or nothing).
# tests/e2e/run-deb.sh builds it and installs it with apt on a pristine
# Debian 12.
install(FILES ${CMAKE_SOURCE_DIR}/packaging/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_PACKAGE_NAME corepack)
set(CPACK_PACKAGE_VENDOR "the corepack authors")
set(CPACK_PACKAGE_CONTACT "corepack developers <dev@corepack.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "pack a core dump with every file gdb needs to debug it on another machine")
set(CPACK_PACKAGE_DESCRIPTION
    "corepack reads a Linux core dump and packs it, with the executable, every
shared library (dlopened ones and the dynamic loader included), their separate
debug files and libthread_db, into one .tar.zst bundle with run-gdb.sh and
run-lldb.sh.  coreunpack checks and unpacks such a bundle on another machine.")
set(CPACK_GENERATOR DEB)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# gdb is what run-gdb.sh starts; lldb and gdb-multiarch (cores of other
# architectures) are the alternatives.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "gdb")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "lldb, gdb-multiarch")
include(CPack)
