/*
 * The manifest's enumerations and their tokens, one table each, shared by
 * the writer (manifest.c), the reader (manifest_read.c), the listings and
 * the front ends, and read by tests/e2e/run-docs.sh to check that
 * doc/bundle-format.md documents every token.  What each value means is
 * doc/bundle-format.md's (and modules.h's, debuginfo.h's).
 *
 * Versioning (layout.h, CP_MANIFEST_VERSION): a reader refuses a status or
 * a role it does not know; the other tokens may gain values within a
 * version, so a reader maps an unknown one to the _UNKNOWN value.
 */
#ifndef COREPACK_SCHEMA_H
#define COREPACK_SCHEMA_H

#include <stddef.h>

/* "status" of an object. */
enum cp_module_status {
	CP_STATUS_OK,          /* the file is the one that ran (verified_by says how) */
	CP_STATUS_MISMATCH,    /* the file on disk is not the one that ran */
	CP_STATUS_MISSING,     /* no file on disk (deleted, removed) */
	CP_STATUS_NO_BUILD_ID, /* neither the core nor the file has a build-id */
	CP_STATUS_UNVERIFIED,  /* the file has one, the core's copy was not dumped */
	CP_STATUS_COUNT
};

/* "verified_by": what showed that an object's file is the one that ran. */
enum cp_verify {
	CP_VERIFY_NONE,        /* nothing (status other than ok) */
	CP_VERIFY_BUILD_ID,    /* the build-id in the core equals the file's */
	CP_VERIFY_CONTENT,     /* no build-id: the core's dumped pages equal the file */
	CP_VERIFY_BESIDE_LIBC, /* libthread_db: not mapped, beside the verified libc */
	CP_VERIFY_COUNT
};

/* "role" of an object. */
enum cp_module_role {
	CP_ROLE_LIBRARY,
	CP_ROLE_EXECUTABLE,
	CP_ROLE_INTERPRETER,
	CP_ROLE_THREAD_DB,
	CP_ROLE_COUNT
};

/* "names[].source": where a name of an object came from. */
enum cp_name_source {
	CP_NAME_NT_FILE,   /* the kernel's NT_FILE note */
	CP_NAME_LINK_MAP,  /* the loader's link_map in the core's memory */
	CP_NAME_PT_INTERP, /* the executable's PT_INTERP */
	CP_NAME_EXECFN,    /* AT_EXECFN, the name the process was started by */
	CP_NAME_OPTION,    /* corepack -e */
	CP_NAME_LIBC_DIR,  /* libthread_db beside libc */
	CP_NAME_PRPSINFO,  /* the command line in NT_PRPSINFO (no NT_FILE) */
	CP_NAME_SOURCE_COUNT
};

/* "debug[].found_by": how a debug file was found (gdb's lookup order). */
enum cp_debug_how {
	CP_DEBUG_NONE = 0,
	CP_DEBUG_BUILD_ID,       /* ROOT/.build-id/xx/rest.debug */
	CP_DEBUG_LINK_SAME_DIR,  /* debuglink name in the object's directory */
	CP_DEBUG_LINK_DOT_DEBUG, /* OBJDIR/.debug/NAME */
	CP_DEBUG_LINK_ROOT,      /* ROOT/OBJDIR/NAME */
	CP_DEBUG_ALT_PATH,       /* dwz alt by its written path */
	CP_DEBUG_ALT_BUILD_ID,   /* dwz alt by build-id under a root */
	CP_DEBUG_ALT_DWZ_DIR,    /* dwz alt by ROOT + part after "/.dwz/" */
	CP_DEBUG_DWO_PATH,       /* .dwo at its absolute DW_AT_dwo_name */
	CP_DEBUG_DWO_COMP_DIR,   /* .dwo at DW_AT_comp_dir/DW_AT_dwo_name */
	CP_DEBUG_DWO_OBJECT_DIR, /* .dwo in the directory of the file with the skeleton */
	CP_DEBUG_DWO_ROOT,       /* .dwo at ROOT/DW_AT_dwo_name */
	CP_DEBUG_DWP,            /* <object name>.dwp */
	CP_DEBUG_DWP_ROOT,       /* ROOT/<object's base name>.dwp */
	CP_DEBUG_DEBUGINFOD,     /* from a debuginfod server, by build-id */
	CP_DEBUG_HOW_COUNT
};

/* "debug_status" of an object. */
enum cp_debug_status {
	CP_DEBUG_STATUS_FOUND,             /* a separate debug file (and its dwz alt) */
	CP_DEBUG_STATUS_FOUND_WITHOUT_DWZ, /* the debug file's dwz alt file is missing */
	CP_DEBUG_STATUS_IN_OBJECT,         /* the object carries its own DWARF */
	CP_DEBUG_STATUS_NONE,              /* none found */
	CP_DEBUG_STATUS_NOT_SEARCHED,      /* --no-debug */
	CP_DEBUG_STATUS_NOT_PACKED,        /* the object itself is not packed */
	CP_DEBUG_STATUS_UNKNOWN,           /* reader: absent, or a token it does not know */
};

/* "debug[].kind". */
enum cp_debug_kind {
	CP_DEBUG_KIND_DEBUG,   /* the separate debug file */
	CP_DEBUG_KIND_DWZ,     /* its dwz alt file */
	CP_DEBUG_KIND_DWO,     /* a split DWARF .dwo file */
	CP_DEBUG_KIND_DWP,     /* a split DWARF package, .dwp */
	CP_DEBUG_KIND_UNKNOWN, /* reader: absent, or a token it does not know */
};

/* How a file's contents are digested: "files[].digest" (manifest version
 * 2), and the key its digest is given under (version 1's "files[]",
 * version 2's digests.json).  What each is: digest.h.  Each kind also says
 * how the file is stored in the tar: a sparse digest's file as a sparse
 * entry (with holes), the others without; a reader refuses a file stored
 * the other way.  The XXH3 kinds came with manifest version 4, for the
 * core (doc/bundle-format.md, "Digests"). */
enum cp_digest_kind {
	CP_DIGEST_SHA256,          /* SHA-256 of the contents, holes as zeros */
	CP_DIGEST_SPARSE_SHA256,   /* the sparse digest of digest.h */
	CP_DIGEST_XXH3_128,        /* XXH3-128 of the contents, holes as zeros */
	CP_DIGEST_SPARSE_XXH3_128, /* the sparse digest, hashed with XXH3-128 */
	CP_DIGEST_KIND_COUNT
};

/* The longest digest of any kind, in bytes. */
#define CP_DIGEST_MAX 32

/* Token of a value ("ok", "executable", "link_map", "build-id", "found",
 * "dwz"); "unknown" for a value outside the enumeration (and "none" for
 * CP_DEBUG_NONE). */
const char *cp_status_name(enum cp_module_status s);
const char *cp_verify_name(enum cp_verify v); /* NULL for CP_VERIFY_NONE */
const char *cp_role_name(enum cp_module_role r);
const char *cp_name_source_name(enum cp_name_source s);
const char *cp_debug_how_name(enum cp_debug_how how);
const char *cp_debug_status_name(enum cp_debug_status s);
const char *cp_debug_kind_name(enum cp_debug_kind k);
const char *cp_digest_kind_name(enum cp_digest_kind k);

/* The value of TOKEN into *OUT; -EINVAL when TOKEN is none of them. */
int cp_status_from_name(const char *token, enum cp_module_status *out);
int cp_role_from_name(const char *token, enum cp_module_role *out);
int cp_digest_kind_from_name(const char *token, enum cp_digest_kind *out);
/* Whether a file digested as K is stored with holes (a sparse entry). */
int cp_digest_kind_sparse(enum cp_digest_kind k);
/* KIND hashes with XXH3-128 (else SHA-256). */
int cp_digest_kind_xxh3(enum cp_digest_kind k);
/* The digest's length in bytes: 32 (SHA-256) or 16 (XXH3-128). */
size_t cp_digest_kind_size(enum cp_digest_kind k);
/* The kind for a file with holes or not (SPARSE), hashed with XXH3-128 or
 * SHA-256 (XXH3). */
enum cp_digest_kind cp_digest_kind_for(int sparse, int xxh3);
/* The value of TOKEN, or the _UNKNOWN value (TOKEN may be NULL). */
enum cp_debug_status cp_debug_status_from_name(const char *token);
enum cp_debug_kind cp_debug_kind_from_name(const char *token);

#endif
