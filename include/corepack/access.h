/*
 * Whose rights corepack uses to read the files a core names.  corepack
 * often runs as root on a core from any user, and the core names the files
 * (NT_FILE, the link_map names in its memory): read with root's rights,
 * a crafted core would have root's corepack pack a root-only file, or
 * probe root-only directories and record what it found.  So when the
 * core's owner is not the user running corepack, every file opened or
 * looked up on the core's behalf must be one its owner could have read,
 * judged as the kernel would for that owner (resolve.c walks each path
 * with this, one component at a time, on descriptors):
 *
 *  - the owners: the crashed process's real uid and gid (NT_PRPSINFO's
 *    pr_uid and pr_gid, which gdb's gcore writes too) and the core
 *    file's owner and group (a core that user wrote can say anything);
 *    an owner that is root or the user running corepack adds nothing;
 *  - a directory is entered only if every owner may search it (x), a
 *    file is opened only if every owner may read it (r), by the mode bits:
 *    the owner class when the uid matches, else the group class when the
 *    gid matches, else the other class.  Supplementary groups are not in
 *    a core, so a file readable only through one is refused (corepack run
 *    as the core's owner packs it).  POSIX ACLs are not read: the mode's
 *    group class is then the ACL's mask, so a named entry granting more is
 *    not seen (refused), and one denying what the other class grants is
 *    not seen either;
 *  - a symlink is followed only if root owns it or the owner of the
 *    directory holding it does (the kernel's protected_symlinks rule, for
 *    every directory), and never one an owner (not root) owns;
 *  - the sysroot's own directory ("/" without one) is where the process
 *    lived and is not judged; the debug directories given on the command
 *    line (trusted) are read with corepack's own rights;
 *  - a live process's /proc/PID/map_files/START-END (the kernel's link to
 *    the very file mapped there, even deleted or replaced since: it needs
 *    CAP_SYS_ADMIN) is opened through that link, which the process cannot
 *    redirect, and the file it leads to is then judged like any other: a
 *    regular file every owner may read by its mode bits.
 */
#ifndef COREPACK_ACCESS_H
#define COREPACK_ACCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "corepack/error.h"
#include "corepack/notes.h"

#define CP_ACCESS_MAX_OWNERS 2

struct cp_owner {
	uint32_t uid, gid;
	const char *what; /* "the crashed process", "the core file's owner" (static) */
};

struct cp_access {
	const char *sysroot; /* NULL, "" or "/" for none; not owned */
	/* Directories read with our own rights (--debug-dir); not owned. */
	const char *const *trusted;
	size_t n_trusted;
	/* Whose rights to judge with; none: ours (the kernel's checks only). */
	struct cp_owner owners[CP_ACCESS_MAX_OWNERS];
	size_t n_owners;
	/* A live process's "/proc/PID/map_files" (no trailing slash), or
	 * NULL; not owned.  A host path that is an entry of it is opened as
	 * said above. */
	const char *map_files;
};

/* What a file was when it was checked: reopened later, it must be the same
 * file (dev, ino), not one swapped in since. */
struct cp_file_id {
	uint64_t dev, ino;
	uint64_t size; /* st_size when checked */
	uint32_t mode; /* st_mode when checked */
	int known;     /* 0: nothing recorded; any file is accepted */
};

/*
 * Set *A for a core: NOTES' NT_PRPSINFO owner (when notes->have_owner) and
 * the core file's owner (CORE_ST), each left out when it is root or EUID.
 * SYSROOT and TRUSTED are kept as pointers.
 */
void cp_access_for_core(struct cp_access *a, const char *sysroot, const struct cp_notes *notes,
                        const struct stat *core_st, uid_t euid);

/* Replace the owners with the one whose identity the kernel gave (a live
 * process's real uid and gid from /proc/PID/status, or a core_pattern
 * handler's): left out when root or EUID, as above. */
void cp_access_set_owner(struct cp_access *a, uint32_t uid, uint32_t gid, uid_t euid);

/* Nonzero when files are judged with the owners' rights. */
int cp_access_restricted(const struct cp_access *a);

/* The first owner that may not do MASK (4 read, 1 search) to a file of
 * ST's owner, group and mode; NULL when every owner may (and always when
 * A is NULL or not restricted). */
const struct cp_owner *cp_access_denied(const struct cp_access *a, const struct stat *st,
                                        unsigned mask);

/* Why the symlink LINK in directory DIR is not to be followed, into WHY
 * (SIZE bytes), or NULL when it may be. */
const char *cp_access_link_refused(const struct cp_access *a, const struct stat *link,
                                   const struct stat *dir, char *why, size_t size);

/* The file identity of ST. */
void cp_file_id_set(struct cp_file_id *id, const struct stat *st);

/*
 * Open the regular file HOST_PATH (a path on this machine) for reading on
 * behalf of the core: with A restricted, and HOST_PATH below the sysroot
 * (or anywhere without one) and not below a trusted directory, it is
 * walked from the sysroot under A's rules (resolve.c) and opened only if
 * its owners may read it; otherwise it is opened as cp_open_regular()
 * does.  A file that is not regular is refused (-EINVAL), never waited
 * on.  With ID known, the file opened must be that one (-ESTALE: replaced
 * since it was checked).  *ST (may be NULL) receives its fstat().
 * Returns the descriptor or -errno, the message naming HOST_PATH (-EACCES
 * and -EPERM say which owner or which symlink).
 */
int cp_access_open(const struct cp_access *a, const char *host_path, const struct cp_file_id *id,
                   struct stat *st, struct cp_error *err);

/* Whether S's first bytes say it is an ELF file of type ET_CORE (a core,
 * never packed as an object).  FD is read at offset 0. */
int cp_fd_is_core(int fd);

#endif
