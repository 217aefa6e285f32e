/*
 * Fetching a thin bundle's remote files into the staging directory
 * (include/corepack/remote_fetch.h).  The file a server sends lands first
 * in libdebuginfod's cache (the client's own); it is copied from that
 * descriptor into a new file of the stage (O_EXCL, O_NOFOLLOW, below
 * directories opened without following symlinks), digested on the way,
 * and checked against the manifest before anything else reads it: size,
 * SHA-256, then the build-id in its ELF notes (libelf; coreunpack links
 * libelf already for the core, never libdw).  A file refused is removed
 * from the cache as well.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corepack/escape.h"
#include "corepack/hex.h"
#include "corepack/io.h"
#include "corepack/remote_fetch.h"
#include "corepack/sha256.h"

#define NT_GNU_BUILD_ID_TYPE 3

/* The GNU build-id note in DATA (notes of ELF E), or 0. */
static int note_build_id(Elf *e, Elf_Data *data, uint8_t *buf, size_t bufsize, size_t *len)
{
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;
	while (data && off < data->d_size &&
	       (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type != NT_GNU_BUILD_ID_TYPE || nh.n_namesz != 4 ||
		    memcmp((const char *)data->d_buf + name_off, "GNU", 4) != 0)
			continue;
		if (nh.n_descsz > bufsize)
			return -EOVERFLOW;
		memcpy(buf, (const char *)data->d_buf + desc_off, nh.n_descsz);
		*len = nh.n_descsz;
		return 1;
	}
	(void)e;
	return 0;
}

int cp_elf_fd_build_id(int fd, uint8_t *buf, size_t bufsize, size_t *len)
{
	*len = 0;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOEXEC;
	/* ELF_C_READ: a file changed under us gives a read error, not SIGBUS */
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		elf_end(e);
		return -ENOEXEC;
	}
	int r = 0;
	/* Sections first (every debug file has them), then the program
	 * headers' PT_NOTE (an executable stripped of its section headers). */
	Elf_Scn *scn = NULL;
	while (r == 0 && (scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		r = note_build_id(e, elf_getdata(scn, NULL), buf, bufsize, len);
	}
	size_t n_ph = 0;
	if (r == 0 && elf_getphdrnum(e, &n_ph) == 0) {
		for (size_t i = 0; r == 0 && i < n_ph; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_NOTE)
				continue;
			Elf_Data *d =
			    elf_getdata_rawchunk(e, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR);
			r = note_build_id(e, d, buf, bufsize, len);
		}
	}
	elf_end(e);
	return r < 0 ? r : 0;
}

/* Copy FROM (SIZE bytes expected) into TO, digesting; -EBADMSG when it is
 * another size. */
static int copy_digest(int from, int to, uint64_t size, uint8_t sha[32])
{
	enum { BUF = 1 << 16 };
	uint8_t *buf = malloc(BUF);
	if (!buf)
		return -ENOMEM;
	struct cp_sha256 s;
	cp_sha256_init(&s);
	uint64_t off = 0;
	int r = 0;
	for (;;) {
		ssize_t n = pread(from, buf, BUF, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		if ((uint64_t)n > size - off) {
			r = -EBADMSG;
			break;
		}
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(to, buf + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				r = w < 0 ? -errno : -EIO;
				break;
			}
			done += w;
		}
		if (r < 0)
			break;
		cp_sha256_update(&s, buf, (size_t)n);
		off += (uint64_t)n;
	}
	free(buf);
	if (r == 0 && off != size)
		r = -EBADMSG;
	if (r == 0)
		cp_sha256_final(&s, sha);
	return r;
}

/* One remote file F into ST. */
static int fetch_one(struct cp_remote *remote, const struct cp_manifest_remote *f,
                     struct cp_stage *st, struct cp_error *err)
{
	char shown[300];
	uint8_t id[64], got_id[64], sha[32];
	size_t id_len = strlen(f->build_id) / 2, got_len;
	cp_escape(f->path, shown, sizeof(shown));
	if (id_len == 0 || id_len > sizeof(id) || cp_unhex(f->build_id, 2 * id_len, id) < 0)
		return cp_error_set(err, EINVAL, "'%s': build-id %s cannot be asked for", shown,
		                    f->build_id);
	int sfd = -1, dfd, fd = -1, r;
	char *cached = NULL;
	if ((r = cp_remote_fetch(remote, f->kind, id, id_len, f->size, &sfd, &cached, err)) < 0)
		return r;
	struct stat sst;
	if (fstat(sfd, &sst) < 0 || !S_ISREG(sst.st_mode) || (uint64_t)sst.st_size != f->size) {
		r = cp_error_set(err, EBADMSG,
		                 "debuginfod: the %s of build-id %s is %llu bytes, the manifest "
		                 "says %llu: refused",
		                 cp_remote_kind_name(f->kind), f->build_id,
		                 (unsigned long long)sst.st_size, (unsigned long long)f->size);
		goto out;
	}
	const char *slash = strrchr(f->path, '/');
	const char *base = slash + 1; /* bundle paths are below a directory */
	if ((r = cp_stage_dir(st, f->path, (size_t)(slash - f->path), 1, &dfd)) < 0) {
		r = cp_error_set(err, -r, "cannot place '%s' (build-id %s): %s", shown, f->build_id,
		                 strerror(-r));
		goto out;
	}
	fd = openat(dfd, base, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	            f->kind == CP_REMOTE_EXECUTABLE ? 0755 : 0644);
	if (fd < 0) {
		/* EEXIST is the bundle's doing, not the target's (-f) */
		int e = errno;
		r = cp_error_set(err, e == EEXIST ? EINVAL : e,
		                 "cannot place '%s' (build-id %s): %s", shown, f->build_id,
		                 e == EEXIST ? "the bundle has that name already" : strerror(e));
		goto out;
	}
	if ((r = copy_digest(sfd, fd, f->size, sha)) < 0) {
		r = r == -EBADMSG
		        ? cp_error_set(err, EBADMSG,
		                       "debuginfod: the %s of build-id %s changed size while read: "
		                       "refused",
		                       cp_remote_kind_name(f->kind), f->build_id)
		        : cp_error_set(err, -r, "cannot write '%s': %s", shown, strerror(-r));
		goto out;
	}
	if (memcmp(sha, f->sha256, 32) != 0) {
		char hex[65];
		cp_hex(sha, 32, hex);
		r = cp_error_set(err, EBADMSG,
		                 "debuginfod: the %s sent for build-id %s is not the one the "
		                 "manifest names (sha256 %s): refused",
		                 cp_remote_kind_name(f->kind), f->build_id, hex);
		goto out;
	}
	r = cp_elf_fd_build_id(fd, got_id, sizeof(got_id), &got_len);
	if (r < 0 || got_len != id_len || memcmp(got_id, id, id_len) != 0) {
		r = cp_error_set(err, EBADMSG,
		                 "debuginfod: the %s sent for build-id %s %s: refused",
		                 cp_remote_kind_name(f->kind), f->build_id,
		                 r < 0 ? "is not an ELF file" : "has another build-id");
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	close(sfd);
	/* A lie stays out of the client's cache too: the next try asks the
	 * servers again instead of finding it there. */
	if (r == -EBADMSG && cached)
		unlink(cached);
	free(cached);
	return r;
}

int cp_remote_fetch_all(struct cp_remote *remote, const struct cp_manifest *m, struct cp_stage *st,
                        const volatile sig_atomic_t *cancel, struct cp_error *err)
{
	for (size_t i = 0; i < m->n_remote; i++) {
		if (cancel && *cancel)
			return cp_error_set(err, EINTR, "interrupted");
		int r = fetch_one(remote, &m->remote[i], st, err);
		if (r < 0)
			return r;
	}
	return 0;
}
