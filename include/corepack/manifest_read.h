/*
 * Reading manifest.json back (the unpacker's side of manifest.h), from an
 * untrusted bundle.  Every field used is checked: its JSON type, paths
 * absolute (origin paths) or relative below a bundle name (bundle paths),
 * normalised and free of control characters, lengths and counts capped,
 * enumerations (status, role) known and mapped to schema.h's values,
 * digests well-formed, and sizes
 * consistent (an object or debug file whose bundle path is in "files" or
 * "remote" has the size listed there).  A thin bundle (version 3) lists
 * in "remote" what it left out: each a bundle path of its kind's tree,
 * listed once and not in "files", with a build-id, size and sha256.  Fields not used are ignored.
 */
#ifndef COREPACK_MANIFEST_READ_H
#define COREPACK_MANIFEST_READ_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/error.h"
#include "corepack/schema.h"

/* A real manifest takes about 2 KiB per object and json-c about 7 times
 * its text to hold it; the caps follow from 8192 objects.  A hostile one
 * is held to the same memory: json-c's tree is estimated before it is
 * built (800 bytes per JSON object, 160 per array, 112 per other value or
 * key, plus the text) and must stay within CP_MANIFEST_MAX_TREE: 16 MiB of
 * "{}" would otherwise need 4.2 GB. */
#define CP_MANIFEST_MAX_SIZE (16 * 1024 * 1024)  /* bytes of JSON */
#define CP_MANIFEST_MAX_TREE (128 * 1024 * 1024) /* estimated bytes of json-c's tree */
#define CP_MANIFEST_MAX_DEPTH 16                 /* JSON nesting */
#define CP_MANIFEST_MAX_OBJECTS 8192
#define CP_MANIFEST_MAX_FILES 200000       /* = CP_BUNDLE_MAX_NAMES */
#define CP_MANIFEST_MAX_DEBUG 65536        /* debug files per object (split DWARF: one per unit) */
#define CP_MANIFEST_MAX_DEBUG_TOTAL 200000 /* debug files of all objects */
#define CP_MANIFEST_MAX_SEARCH_DIRS 4096   /* gdb.solib_search_path entries */
#define CP_MANIFEST_MAX_SCRIPTS 4096       /* gdb_scripts entries */
#define CP_MANIFEST_MAX_WARNINGS 10000
#define CP_MANIFEST_MAX_TEXT 16384  /* bytes in a free-text string */
#define CP_MANIFEST_MAX_SIGNAL 1024 /* core.signal */

/* Strings are NUL-terminated, free of NUL bytes, NULL when absent or null.
 * Free-text fields (marked "text") may hold control characters: escape
 * them before printing. */
struct cp_manifest_debug {
	enum cp_debug_kind kind; /* CP_DEBUG_KIND_UNKNOWN when absent or not known */
	char *found_by;          /* "build-id", "debuglink", ... (token, shown only:
	                          * it may gain values, schema.h) */
	char *origin;            /* where it was found on the origin (text) */
	char *build_id;          /* lowercase hex */
	char *bundle_path;       /* "debug/..." (required) */
	uint64_t size;
};

struct cp_manifest_object {
	char *path;                        /* origin path (required, absolute) */
	enum cp_module_role role;          /* required; an unknown role is refused */
	enum cp_module_status status;      /* required; an unknown status is refused */
	char *detail;                      /* why the status (text) */
	char *real_path;                   /* canonical origin path (absolute) */
	char *bundle_path;                 /* "sysroot" + real_path when packed */
	char *build_id_core;               /* hex */
	char *build_id_file;               /* hex */
	enum cp_debug_status debug_status; /* CP_DEBUG_STATUS_UNKNOWN when absent
	                                    * or not known */
	uint64_t size;                     /* of the packed file; 0 when not packed */
	struct cp_manifest_debug *debug;
	size_t n_debug;
};

struct cp_manifest_file {
	char *path; /* relative to the top directory */
	uint64_t size;
	enum cp_digest_kind kind; /* how it is digested, and so stored (schema.h) */
	int sparse;               /* cp_digest_kind_sparse(kind): stored with holes */
	int have_digest;          /* DIGEST is set: always in version 1, from
	                           * digests.json (cp_manifest_take_digests) since 2 */
	union {
		uint8_t digest[CP_DIGEST_MAX]; /* of KIND: cp_digest_kind_size() bytes */
		uint8_t sha256[32];            /* the same, for the SHA-256 kinds */
	};
};

/* A file a thin bundle (version 3) leaves out, to be fetched from the
 * debuginfod servers by build-id ("remote"). */
struct cp_manifest_remote {
	char *path;     /* bundle path: below sysroot/ (executable) or debug/ (debuginfo) */
	int kind;       /* enum cp_remote_kind (remote.h) */
	char *build_id; /* lowercase hex */
	uint64_t size;  /* 1 byte to 1 TiB */
	uint8_t sha256[32];
};

struct cp_manifest {
	int version;
	char *corepack_version; /* token */
	char *created;          /* text */
	/* The packing host. */
	char *host_nodename, *host_release, *host_machine, *host_os; /* text */
	/* The crash. */
	char *core_original_name;           /* text */
	char *core_machine;                 /* token; "unknown" when absent */
	char *core_class;                   /* token */
	char *core_executable;              /* text (as recorded by the core) */
	char *command, *args;               /* text */
	char *signal_name;                  /* token */
	long pid, signal, si_code, threads; /* -1 when absent */
	char *fault_address;                /* token */
	int truncated;
	uint64_t core_size, missing_bytes;
	/* gdb's view. */
	char *gdb_executable; /* origin path of the executable, absolute */
	char *thread_db_dir;  /* origin directory of libthread_db, absolute */
	/* "program_offset": the process was started as `ld.so PROGRAM`, whose
	 * load bias this is (gdb loads the interpreter, then the executable's
	 * symbols there). */
	int have_program_offset;
	uint64_t program_offset;
	/* gdb.solib_search_path: origin directories, absolute, each fit for a
	 * gdb search path (cp_scripts_search_dir_problem()). */
	char **solib_dirs;
	size_t n_solib_dirs;
	/* gdb_scripts: the bundle holds an OBJECT-gdb.py (kind "auto-load")
	 * below sysroot/, loaded only with --trust. */
	int bundle_scripts;
	struct cp_manifest_object *objects;
	size_t n_objects;
	char **warnings; /* text */
	size_t n_warnings;
	struct cp_manifest_file *files; /* in the manifest's order */
	size_t n_files;
	size_t *files_sorted; /* indexes into files, by path */
	/* Version 3: the files left out (none of them in FILES). */
	struct cp_manifest_remote *remote;
	size_t n_remote;
	uint64_t remote_bytes; /* their sizes, added */
};

/*
 * Parse and check LEN bytes of JSON at BUF (at most CP_MANIFEST_MAX_SIZE;
 * BUF need not be NUL-terminated), a manifest of version
 * CP_MANIFEST_VERSION_MIN to CP_MANIFEST_VERSION.  Errors: -EINVAL with a
 * message starting "manifest.json: " that names the field
 * ("objects[3].path: not an absolute path"), -E2BIG for a cap (the tree
 * budget included), -ENOMEM.  *OUT owned by the caller (cp_manifest_free(),
 * NULL accepted).
 */
int cp_manifest_parse(const char *buf, size_t len, struct cp_manifest **out, struct cp_error *err);
void cp_manifest_free(struct cp_manifest *m);

/* The most bytes digests.json may have for M's files: what corepack
 * writes for them, with room for any JSON spacing of the same values. */
size_t cp_manifest_digests_cap(const struct cp_manifest *m);

/*
 * Read digests.json (LEN bytes at BUF; version 2): {"files": [{"path":
 * P, KIND: HEX}, ...]} with M's files in M's order, each under the key of
 * its digest kind, into M's files (have_digest set).  Errors: -EINVAL
 * ("digests.json: files[2]: path 'x', the manifest says 'y'"), -E2BIG
 * (past cp_manifest_digests_cap() or the tree budget), -ENOMEM.
 */
int cp_manifest_take_digests(struct cp_manifest *m, const char *buf, size_t len,
                             struct cp_error *err);

/* The remote[] entry for PATH, or NULL. */
const struct cp_manifest_remote *cp_manifest_find_remote(const struct cp_manifest *m,
                                                         const char *path);

/* The files[] entry for PATH, or NULL. */
const struct cp_manifest_file *cp_manifest_find_file(const struct cp_manifest *m, const char *path);

/* The executable object that was packed, or NULL. */
const struct cp_manifest_object *cp_manifest_executable(const struct cp_manifest *m);
/* With "program_offset", the packed interpreter (the dynamic loader gdb
 * loads as its executable), or NULL. */
const struct cp_manifest_object *cp_manifest_loader(const struct cp_manifest *m);

/* Whether O was packed with a dwz alt file for its debug file (a debug[]
 * entry of kind "dwz"): DWARF that lldb 14 cannot read. */
int cp_manifest_object_uses_dwz(const struct cp_manifest_object *o);
/* How many objects of M cp_manifest_object_uses_dwz(). */
size_t cp_manifest_dwz_objects(const struct cp_manifest *m);

#endif
