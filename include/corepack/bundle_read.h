/*
 * Reading a bundle, which is hostile until proven otherwise.  Three layers:
 *
 *  - the entry validator: a pure function over one tar header (name, type,
 *    mode, size, link target) and the state left by the headers before it.
 *    It decides whether the entry may be written, and where (the name less
 *    the bundle's top directory).  No I/O, no libarchive: fuzzable.
 *  - cp_bundle_read(): streams a bundle through the validator, extracting
 *    into an empty staging directory (or, to list it, nowhere), hashing
 *    every file on the way, then checks the tree against the manifest's
 *    "files" list (size and sha256 of each, none missing, none extra).
 *  - cp_unpack(): the whole of coreunpack's job: refuses to replace
 *    anything (unless forced), extracts into a fresh directory beside the
 *    target, writes run-gdb.sh and corepack.gdb from the embedded templates
 *    and the validated manifest, and moves the result into place only when
 *    every check passed.  Any failure or cancellation leaves nothing behind.
 */
#ifndef COREPACK_BUNDLE_READ_H
#define COREPACK_BUNDLE_READ_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "corepack/error.h"
#include "corepack/escape.h"
#include "corepack/layout.h"
#include "corepack/manifest_read.h"

/* report.txt kept for display (bytes). */
#define CP_BUNDLE_MAX_REPORT_SHOWN (1024 * 1024)

/* ---- the entry validator ---------------------------------------------- */

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

/* ---- reading a bundle -------------------------------------------------- */

struct cp_bundle_read_opts {
	/* The directory to extract into: must exist and be empty.  The
	 * process's working directory is changed to it while extracting and
	 * restored.  NULL to read and check without writing (list). */
	const char *staging;
	const volatile sig_atomic_t *cancel; /* when non-NULL and set: -EINTR */
	/* Progress in bytes of the bundle file read; may be NULL. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
	/* Called for each entry written (verbose output); may be NULL. */
	void (*on_entry)(void *ctx, const char *path, enum cp_entry_type type, uint64_t size);
	void *entry_ctx;
};

struct cp_bundle_contents {
	char *top; /* the bundle's top directory */
	struct cp_manifest *manifest;
	char *report;               /* report.txt (NUL-terminated; at most
	                             * CP_BUNDLE_MAX_REPORT_SHOWN bytes), or NULL */
	uint64_t report_size;       /* its full size */
	size_t n_files, n_symlinks; /* regular files and symlinks in the bundle */
	uint64_t file_bytes;        /* logical bytes of every file */
	int verified;               /* sha256 of every file checked (not when listing) */
};

/*
 * Read the bundle at PATH.  Only the tar format and the zstd, xz, gzip and
 * uncompressed forms are accepted.  When extracting, every file's digest is
 * checked against the manifest; when listing, names, types and sizes are.
 * Errors (message starts with "'PATH': "): -ENOENT & co. (cannot open),
 * -EINVAL (not a bundle, a refused entry, a manifest mismatch),
 * -EIO (truncated or corrupt), -E2BIG (a cap), -EINTR (cancelled),
 * -ENOMEM.  On failure the staging directory may hold partial output: the
 * caller removes it.  *OUT is owned by the caller (cp_bundle_contents_free).
 */
int cp_bundle_read(const char *path, const struct cp_bundle_read_opts *opts,
                   struct cp_bundle_contents **out, struct cp_error *err);
void cp_bundle_contents_free(struct cp_bundle_contents *c);

/* ---- unpacking --------------------------------------------------------- */

struct cp_unpack_opts {
	const char *bundle;
	const char *dir; /* target directory; NULL for the working directory */
	int force;       /* replace the names coreunpack creates */
	int trust;       /* run-gdb.sh uses the bundle's libthread_db */
	const volatile sig_atomic_t *cancel;
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
	void (*on_entry)(void *ctx, const char *path, enum cp_entry_type type, uint64_t size);
	void *entry_ctx;
};

/*
 * Unpack: the bundle is opened first (an unreadable or missing bundle, or
 * a directory, fails before DIR is looked at).  DIR is created when
 * missing (not its parents).  Unless FORCE, if any of cp_bundle_names
 * exists in DIR, fails with -EEXIST before writing anything.  core,
 * manifest.json and report.txt are made mode 0600 whatever the umask.  The bundle is extracted into
 * a fresh directory made in DIR
 * (".coreunpack-XXXXXX") and checked (cp_bundle_read()); the bundle's
 * run-gdb.sh and corepack.gdb are replaced by ones rendered here; then
 * every name is moved into DIR (with FORCE, after moving aside every one of
 * cp_bundle_names DIR had, which are then deleted).  On any failure,
 * including -EINTR, the temporary directory is removed, whatever was moved
 * is moved back, and DIR is removed again if this call created it.
 * *OUT (the bundle's contents) is owned by the caller.
 */
int cp_unpack(const struct cp_unpack_opts *opts, struct cp_bundle_contents **out,
              struct cp_error *err);

#endif
