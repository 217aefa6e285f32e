/*
 * Completing a thin bundle: fetching from the debuginfod servers (remote.h)
 * every file its manifest lists as remote, into the staging directory
 * (stage.h) the rest of the bundle was extracted into.  A server is as
 * untrusted as a bundle: each file is bounded to the manifest's size while
 * it arrives, written through the stage's descriptors (a new file, never
 * through a symlink or over a name the bundle made), digested on the way,
 * and kept only if its SHA-256 and its ELF build-id are the manifest's.
 */
#ifndef COREPACK_REMOTE_FETCH_H
#define COREPACK_REMOTE_FETCH_H

#include <signal.h>
#include <stdint.h>

#include "corepack/error.h"
#include "corepack/manifest_read.h"
#include "corepack/remote.h"
#include "corepack/stage.h"

/*
 * Fetch every file of M's "remote" list with REMOTE into ST, each at its
 * bundle path.  CANCEL (may be NULL) stops between files.  Errors, each
 * naming the build-id: -ENOENT (no server has it), -EFBIG (larger than the
 * manifest says), -EBADMSG (not the file the manifest names: another
 * size, digest or build-id), -EEXIST & co. (its name is taken in the
 * bundle's tree, or a symlink lies on its way), -ENOSPC, -EINTR, other
 * -errno from the client.  On failure files already placed stay in ST for
 * the caller to remove with it.
 */
int cp_remote_fetch_all(struct cp_remote *remote, const struct cp_manifest *m, struct cp_stage *st,
                        const volatile sig_atomic_t *cancel, struct cp_error *err);

/* The ELF build-id of the open file FD into BUF (BUFSIZE bytes), *LEN 0
 * when it has none; libelf, with every note length checked.  Errors:
 * -ENOEXEC (not ELF), -EOVERFLOW (a longer build-id). */
int cp_elf_fd_build_id(int fd, uint8_t *buf, size_t bufsize, size_t *len);

#endif
