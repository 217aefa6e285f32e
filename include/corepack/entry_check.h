/*
 * The entry validator: a pure function over one tar header (name, type,
 * mode, size, link target) and the state left by the headers before it.
 * It decides whether the entry of a bundle may be written, and where (the
 * name less the bundle's top directory).  No I/O, no libarchive: fuzzable
 * (tests/fuzz/fuzz_entries.c).  The names and caps it enforces are
 * layout.h's.
 */
#ifndef COREPACK_ENTRY_CHECK_H
#define COREPACK_ENTRY_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/error.h"
#include "corepack/layout.h"

enum cp_entry_type {
	CP_ENTRY_FILE,
	CP_ENTRY_DIR,
	CP_ENTRY_SYMLINK,
	CP_ENTRY_HARDLINK,
	CP_ENTRY_CHARDEV,
	CP_ENTRY_BLOCKDEV,
	CP_ENTRY_FIFO,
	CP_ENTRY_SOCKET,
	CP_ENTRY_UNKNOWN,
};

/* One tar header, as the archive states it. */
struct cp_entry {
	const char *name; /* with the top directory: "crash/sysroot/usr/lib/libc.so.6" */
	enum cp_entry_type type;
	unsigned mode;    /* permission bits as stored (07777 mask) */
	int64_t size;     /* logical size (a sparse file's holes included) */
	const char *link; /* target of a symlink or hard link, else NULL */
};

/* What may be written for an accepted entry. */
struct cp_entry_checked {
	const char *path;        /* relative to the top directory, no trailing '/';
	                          * "" for the top directory itself.  Valid until the
	                          * next cp_entry_check() on the same validator. */
	enum cp_entry_type type; /* FILE, DIR or SYMLINK */
	unsigned mode;           /* files: 0600 for core, manifest.json and report.txt
	                          * (layout.h), else 0755 when any x bit is set,
	                          * else 0644; directories 0755 */
	size_t node;             /* the name's id in the validator (cp_entry_lookup) */
};

struct cp_entry_validator;

/* Errors: -ENOMEM.  Free with cp_entry_validator_free() (NULL accepted). */
int cp_entry_validator_new(struct cp_entry_validator **out);
void cp_entry_validator_free(struct cp_entry_validator *v);

/*
 * Accept or refuse the next entry of the archive.  Refused, with -EINVAL
 * (-E2BIG for a cap) and a message "refused entry 'NAME': REASON":
 *  - a name that is empty, absolute, has a "." or ".." or empty component
 *    or a control character, or is past the length caps;
 *  - a name outside the top directory set by the first entry, or whose
 *    first component below it is not a bundle name (layout.h), or of the
 *    wrong type for that name (core must be a file, sysroot a directory);
 *  - hard links, devices, FIFOs, sockets; setuid, setgid and sticky bits;
 *  - a symlink whose target is empty, absolute, has ".." after another
 *    component, or does not resolve lexically, from the symlink's own
 *    directory, to a path below one of the bundle names;
 *  - a name used before (a directory may be repeated), or below a name
 *    that is a symlink or a file;
 *  - more than CP_BUNDLE_MAX_NAMES names, or files totalling more than
 *    CP_BUNDLE_MAX_TOTAL bytes.
 * State changes even when an entry is refused; callers stop at the first
 * refusal (a fuzzer may go on: the state stays consistent).
 */
int cp_entry_check(struct cp_entry_validator *v, const struct cp_entry *e,
                   struct cp_entry_checked *out, struct cp_error *err);

/* The top directory (set by the first entry accepted), or NULL. */
const char *cp_entry_validator_top(const struct cp_entry_validator *v);

/* The id of the accepted name PATH (relative to the top, as in
 * cp_entry_checked.path), or -1 when no entry or implied directory has it.
 * *TYPE receives its type (a directory implied by other names is DIR). */
long cp_entry_lookup(const struct cp_entry_validator *v, const char *path,
                     enum cp_entry_type *type);

/* The path of node ID (cp_entry_checked.node, cp_entry_lookup()) relative
 * to the top into BUF (SIZE bytes); -ENAMETOOLONG when it does not fit. */
int cp_entry_path(const struct cp_entry_validator *v, uint32_t id, char *buf, size_t size);

#endif
