/*
 * corepack: the command-line front end.  Parses options (corepack_args.c),
 * runs the packer, and is the only place (with coreunpack.c) that prints
 * or exits.
 * Results go to stdout, diagnostics to stderr as "corepack: ...".
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "corepack/core_input.h"
#include "corepack/escape.h"
#include "corepack/listing.h"
#include "corepack/live.h"
#include "corepack/manifest.h"
#include "corepack/pack.h"
#include "corepack/remote.h"
#include "corepack/report.h"
#include "cli_util.h"
#include "handler.h"
#include "corepack_private.h"

/* A library error, escaped (escape.h): its message may quote names from
 * the core.  SUFFIX (may be "") is corepack's own text. */
static void fail_err(const struct cp_error *err, const char *suffix)
{
	char shown[4 * sizeof(err->msg) + 8];
	cli_fail("%s%s", cp_escape(err->msg, shown, sizeof(shown)), suffix);
}

/* The bundle can be written (not there yet, or -f; its directory exists
 * and takes files), then the inputs other than the core exist: exit 1,
 * before the core is opened. */
static int check_files(struct cli *c)
{
	struct cp_error err = {0};
	struct stat st;
	int r;
	if (!c->list &&
	    (r = cp_bundle_output_check(c->pack.output, c->pack.bundle.force, NULL, &err)) < 0) {
		fail_err(&err, r == -EEXIST ? "; use -f to overwrite" : "");
		return EXIT_FAIL;
	}
	if (c->pack.executable && stat(c->pack.executable, &st) < 0)
		return cli_fail("cannot open '%s': %s", c->pack.executable, strerror(errno)),
		       EXIT_FAIL;
	if (c->pack.executable && !S_ISREG(st.st_mode))
		return cli_fail("cannot use '%s' as the executable: not a regular file",
		                c->pack.executable),
		       EXIT_FAIL;
	if (c->pack.sysroot && !cli_is_dir(c->pack.sysroot))
		return cli_fail("cannot use sysroot '%s': not a directory", c->pack.sysroot),
		       EXIT_FAIL;
	for (size_t i = 0; i < c->n_debug_dirs; i++)
		if (!cli_is_dir(c->debug_dirs[i]))
			return cli_fail("cannot use debug directory '%s': not a directory",
			                c->debug_dirs[i]),
			       EXIT_FAIL;
	c->pack.debug_roots = c->debug_dirs;
	c->pack.n_debug_roots = c->n_debug_dirs;
	return EXIT_OK;
}

/* Lowest CPU priority and the idle I/O class for this thread; threads
 * created later (the zstd workers, the readers and the hasher of the read
 * pipe) inherit both. */
static void be_nice(void)
{
	errno = 0;
	if (setpriority(PRIO_PROCESS, 0, 19) < 0)
		cli_warn("--nice: cannot lower the CPU priority: %s", strerror(errno));
	const int ioprio_class_idle = 3, ioprio_class_shift = 13, ioprio_who_process = 1;
	if (syscall(SYS_ioprio_set, ioprio_who_process, 0,
	            ioprio_class_idle << ioprio_class_shift) < 0)
		cli_warn("--nice: cannot lower the I/O priority: %s", strerror(errno));
}

/* Text from the core, escaped for the terminal (escape.h): a name can be
 * CP_PATH_MAX bytes, four times that escaped; longer text is cut. */
#define SHOWN_MAX (4 * CP_PATH_MAX + 8)

static void print_object(const struct cp_module *m, int verbose)
{
	char id[2 * CP_BUILD_ID_MAX + 1] = "-", a[SHOWN_MAX], b2[SHOWN_MAX];
	const uint8_t *b = m->core_build_id_len ? m->core_build_id : m->file_build_id;
	size_t len = m->core_build_id_len ? m->core_build_id_len : m->file_build_id_len;
	if (len)
		cp_hex(b, len, id);
	const char *debug = "-";
	if (m->debug && m->debug->file)
		debug = cp_debug_how_name(m->debug->file->how);
	else if (m->debug && m->debug->has_own_debug_info)
		debug = cp_debug_status_name(CP_DEBUG_STATUS_IN_OBJECT);
	printf("%-40s %-11s %-16s %s\n", id, cp_status_name(m->status), debug,
	       cp_escape(m->origin_path, a, sizeof(a)));
	if (!verbose)
		return;
	for (size_t i = 0; i < m->n_names; i++)
		printf("    name %s (%s)\n", cp_escape(m->names[i].path, a, sizeof(a)),
		       cp_name_source_name(m->names[i].source));
	for (size_t i = 0; i < m->n_links; i++)
		printf("    link %s -> %s\n", cp_escape(m->links[i].path, a, sizeof(a)),
		       cp_escape(m->links[i].target, b2, sizeof(b2)));
	if (m->debug && m->debug->file)
		printf("    debug %s\n", cp_escape(m->debug->file->host_path, a, sizeof(a)));
	if (m->debug && m->debug->alt)
		printf("    dwz %s\n", cp_escape(m->debug->alt->host_path, a, sizeof(a)));
	const struct cp_split_result *sp = m->split;
	if (sp && sp->dwp)
		printf("    dwp %s\n", cp_escape(sp->dwp->host_path, a, sizeof(a)));
	for (size_t i = 0; sp && !sp->dwp && i < sp->n_units; i++)
		if (sp->units[i].file)
			printf("    dwo %s\n",
			       cp_escape(sp->units[i].file->host_path, a, sizeof(a)));
	if (sp)
		printf("    split DWARF: %zu units, %zu not found\n", sp->n_units + sp->n_skipped,
		       sp->n_missing + sp->n_skipped);
	if (m->status_detail)
		printf("    %s\n", cp_escape(m->status_detail, a, sizeof(a)));
}

static void print_warnings(const struct cp_packer *p)
{
	const struct cp_core *core = cp_packer_core(p);
	const struct cp_scan *s = cp_packer_scan(p);
	char a[SHOWN_MAX];
	if (core->missing_bytes)
		cli_warn("'%s': core is truncated: %llu of %llu bytes missing (%.1f%%); the "
		         "memory that is missing will read as unavailable in gdb",
		         cp_escape(core->path, a, sizeof(a)),
		         (unsigned long long)core->missing_bytes,
		         (unsigned long long)core->expected_size,
		         100.0 * (double)core->missing_bytes / (double)core->expected_size);
	for (size_t i = 0; i < s->n_warnings; i++)
		cli_warn("%s", cp_escape(s->warnings[i], a, sizeof(a)));
}

/* lldb 14 reads no DWARF that refers to a dwz alt file: say which objects
 * run-lldb.sh will show without source lines. */
static void warn_dwz(const struct cp_packer *p)
{
	const struct cp_scan *s = cp_packer_scan(p);
	char a[SHOWN_MAX];
	for (size_t i = 0; i < s->n_modules; i++) {
		const struct cp_module *m = &s->modules[i];
		if (cp_module_packable(m) && m->debug && m->debug->file && m->debug->alt)
			cli_warn("'%s': its debug file is dwz-compressed, which lldb 14 cannot "
			         "read: run-lldb.sh shows its frames without source lines "
			         "(run-gdb.sh reads it)",
			         cp_escape(m->real_path, a, sizeof(a)));
	}
}

static int count_bad(const struct cp_scan *s)
{
	int bad = 0;
	for (size_t i = 0; i < s->n_modules; i++)
		bad += s->modules[i].status == CP_STATUS_MISMATCH ||
		       s->modules[i].status == CP_STATUS_MISSING;
	return bad;
}

static void print_total(const struct cp_packer *p, const struct cp_pack_stats *st,
                        const char *output)
{
	const struct cp_scan *s = cp_packer_scan(p);
	size_t by_status[CP_STATUS_COUNT] = {0};
	for (size_t i = 0; i < s->n_modules; i++)
		by_status[s->modules[i].status]++;
	char in[32], out[32];
	cli_human_size(st->input_bytes, in, sizeof(in));
	cli_human_size(st->bundle_size, out, sizeof(out));
	printf("%zu objects packed (%zu ok, %zu unverified, %zu no-build-id; %zu mismatch, "
	       "%zu missing not packed), %zu debug files, %zu symlinks; %s -> %s '%s'\n",
	       st->n_objects, by_status[CP_STATUS_OK], by_status[CP_STATUS_UNVERIFIED],
	       by_status[CP_STATUS_NO_BUILD_ID], by_status[CP_STATUS_MISMATCH],
	       by_status[CP_STATUS_MISSING], st->n_debug_files, st->n_links, in, out, output);
	if (st->n_remote) {
		cli_human_size(st->remote_bytes, in, sizeof(in));
		printf(
		    "thin: %zu file%s (%s) left out, served by the debuginfod servers; coreunpack "
		    "fetches them\n",
		    st->n_remote, st->n_remote == 1 ? "" : "s", in);
	}
}

/* The table (listing.h) and a closing line with the totals. */
static int list_table(const struct cp_packer *p, struct cp_error *err)
{
	const struct cp_scan *s = cp_packer_scan(p);
	size_t by_status[CP_STATUS_COUNT] = {0}, debug = 0;
	char *text = NULL;
	int r = cp_listing_table(s, &text, err);
	if (r < 0)
		return r;
	cli_puts_stdout(text);
	free(text);
	for (size_t i = 0; i < s->n_modules; i++) {
		by_status[s->modules[i].status]++;
		debug += s->modules[i].debug && s->modules[i].debug->file;
	}
	char est[32];
	cli_human_size(cp_packer_estimate_bytes(p), est, sizeof(est));
	printf("%zu objects: %zu ok, %zu mismatch, %zu missing, %zu no-build-id, %zu unverified; "
	       "%zu debug files; a bundle would hold %s before compression\n",
	       s->n_modules, by_status[CP_STATUS_OK], by_status[CP_STATUS_MISMATCH],
	       by_status[CP_STATUS_MISSING], by_status[CP_STATUS_NO_BUILD_ID],
	       by_status[CP_STATUS_UNVERIFIED], debug, est);
	return 0;
}

/* Where a decompressed core or one from standard input is written: beside
 * the bundle (a bundle written to a device or a pipe, and --list, have no
 * such place: $TMPDIR or /var/tmp, not a /tmp that may be memory). */
static char *temp_dir(const struct cli *c)
{
	struct stat st;
	const char *out = c->list ? NULL : c->pack.output;
	if (out && !(stat(out, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)))) {
		const char *slash = strrchr(out, '/');
		return slash ? strndup(out, slash == out ? 1 : (size_t)(slash - out)) : strdup(".");
	}
	const char *t = getenv("TMPDIR");
	return strdup(t && *t ? t : "/var/tmp");
}

static void decompress_progress(void *ctx, uint64_t done, uint64_t total)
{
	if (total)
		cli_progress_update(ctx, done, total);
}

/* A compressed core, or one on standard input: into a temporary file, and
 * the packer reads that.  Returns an exit status. */
static int take_core(struct cli *c, struct cli_progress *prog, struct cp_core_input **inp,
                     const char *tmpdir)
{
	struct cp_error err = {0};
	struct cp_core_input *in = NULL;
	char a[SHOWN_MAX], b[SHOWN_MAX], sz[32], fr[32];
	if (cp_core_input_open(c->pack.core_path, tmpdir, &in, &err) < 0) {
		cli_fail("%s", err.msg);
		return EXIT_FAIL;
	}
	*inp = in;
	const char *how = cp_core_compression_name(in->compression);
	if (in->needs_copy && !c->quiet && in->expected_size > in->free_bytes) {
		cli_human_size(in->expected_size, sz, sizeof(sz));
		cli_human_size(in->free_bytes, fr, sizeof(fr));
		cli_warn("'%s': the core is %s decompressed and '%s' has %s free: it fits only if "
		         "enough of it is holes",
		         cp_escape(in->name, a, sizeof(a)), sz, cp_escape(tmpdir, b, sizeof(b)),
		         fr);
	}
	struct cp_core_input_opts o = {
	    .cancel = cli_cancelled(), .max_size = c->max_core, .max_data = c->max_data};
	if (prog) {
		o.progress = decompress_progress;
		o.progress_ctx = prog;
	}
	int r = cp_core_input_load(in, &o, &err);
	cli_progress_done(prog);
	if (prog)
		cli_progress_init(prog); /* the packing's own rate and time */
	if (r < 0) {
		cli_fail("%s%s", err.msg, r == -EINTR ? "; no bundle written" : "");
		return EXIT_FAIL;
	}
	struct stat st;
	if (c->max_core && !in->needs_copy && in->fd >= 0 && fstat(in->fd, &st) == 0 &&
	    (uint64_t)st.st_size > c->max_core) {
		cli_fail("'%s': the core is more than %llu bytes (the limit, --max-core)",
		         cp_escape(in->name, a, sizeof(a)), (unsigned long long)c->max_core);
		return EXIT_FAIL;
	}
	if (in->fd >= 0) {
		c->pack.use_core_fd = 1;
		c->pack.core_fd = in->fd;
		c->pack.core_path = in->name;
		c->pack.core_compression = how;
	}
	if (in->needs_copy && c->verbose) {
		cli_human_size(in->size, sz, sizeof(sz));
		cli_human_size(in->data_bytes, fr, sizeof(fr));
		fprintf(
		    stderr,
		    "%s: '%s': %s%s core of %s (%s of data) written to a temporary file in '%s'\n",
		    cli_progname(), cp_escape(in->name, a, sizeof(a)), how ? how : "plain",
		    how ? "-compressed" : "", sz, fr, cp_escape(tmpdir, b, sizeof(b)));
	}
	return EXIT_OK;
}

/* The debuginfod client when DEBUGINFOD_URLS names servers (else none). */
static int start_remote(const struct cli *c, struct cp_remote **out)
{
	struct cp_error err = {0};
	if (cp_remote_new(out, &err) < 0) {
		fail_err(&err, "");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* A file arriving from a debuginfod server, on the progress line. */
static int remote_progress(void *ctx, const char *hex, uint64_t done, uint64_t total)
{
	if (total)
		cli_progress_update(ctx, done, total);
	return *cli_cancelled() != 0;
}

/* A live process: gdb's gcore writes its core into a temporary file
 * beside the bundle, and every file is read through its /proc entries. */
static int take_live_core(struct cli *c, const char *tmpdir)
{
	struct cp_error err = {0};
	char a[SHOWN_MAX];
	if (cp_live_open((pid_t)c->pid, &c->live, &err) < 0) {
		fail_err(&err, "");
		return EXIT_FAIL;
	}
	struct cp_live_gcore_opts o = {.cancel = cli_cancelled()};
	double secs = 0;
	int fd = cp_live_gcore(&c->live, tmpdir, &o, &secs, &err);
	if (fd < 0) {
		fail_err(&err, "");
		return EXIT_FAIL;
	}
	c->pack.use_core_fd = 1;
	c->pack.core_fd = fd;
	if (!c->quiet)
		fprintf(
		    stderr,
		    "%s: process %ld ('%s'): core written by gdb's gcore in %.2f s (the process "
		    "was stopped at most that long and keeps running)\n",
		    cli_progname(), c->pid, cp_escape(c->live.comm, a, sizeof(a)), secs);
	return EXIT_OK;
}

/* The process's files: its root, its map_files, its owner (the kernel's). */
static void live_pack_opts(struct cli *c)
{
	c->pack.sysroot = c->live.root;
	c->pack.map_files = c->live.map_files;
	c->pack.have_owner = 1;
	c->pack.owner_uid = c->live.uid;
	c->pack.owner_gid = c->live.gid;
}

/* Say how a live process's objects were read: through map_files (the
 * files mapped), or, where that was refused (not root), by path. */
static void say_live_route(const struct cli *c, const struct cp_packer *p)
{
	const struct cp_scan *s = cp_packer_scan(p);
	size_t via = 0, by_path = 0;
	for (size_t i = 0; i < s->n_modules; i++) {
		if (s->modules[i].via_map_files)
			via++;
		else if (s->modules[i].host_path && !s->modules[i].given &&
		         s->modules[i].role != CP_ROLE_THREAD_DB)
			by_path++;
	}
	if (by_path == 0)
		fprintf(stderr, "%s: %zu objects read through '%s' (the very files mapped)\n",
		        cli_progname(), via, c->live.map_files);
	else
		fprintf(
		    stderr,
		    "%s: %zu objects read through '%s', %zu by their paths under '%s' (%s): a "
		    "file replaced on disk since it was mapped is then a mismatch\n",
		    cli_progname(), via, c->live.map_files, by_path, c->live.root,
		    via ? "their map_files entries are gone"
		        : "map_files needs CAP_SYS_ADMIN: run as root to read the mapped files");
}

/* Unwind the threads (in a child process: see backtrace.h) and print the
 * summary.  Only cancellation and lack of memory are errors. */
static int unwind(struct cp_packer *p, int quiet, struct cp_error *err)
{
	struct cp_backtrace_opts o = {.cancel = cli_cancelled()};
	int r = cp_packer_unwind(p, &o, err);
	if (r == -EINTR)
		return cp_error_reset(err, EINTR, "interrupted; no bundle written");
	if (r < 0)
		return r;
	char *text = NULL;
	if (!quiet && cp_report_render(cp_packer_core(p), cp_packer_scan(p), cp_packer_backtrace(p),
	                               0, &text, err) == 0) {
		cli_puts_stdout(text);
		cli_puts_stdout("\n");
		cli_flush_stdout();
	}
	free(text);
	return 0;
}

static int list_core(const struct cp_packer *p, enum list_format format)
{
	struct cp_error err = {0};
	char *text = NULL;
	int r;
	switch (format) {
	case LIST_TABLE:
		r = list_table(p, &err);
		break;
	case LIST_UNSTRIP:
		r = cp_listing_unstrip(cp_packer_core(p), cp_packer_scan(p), &text, &err);
		break;
	case LIST_JSON:
	default:
		r = cp_listing_json(cp_packer_core(p), cp_packer_scan(p),
		                    cp_packer_estimate_bytes(p), &text, &err);
		break;
	}
	if (r < 0) {
		fail_err(&err, "");
		return EXIT_FAIL;
	}
	if (text)
		cli_puts_stdout(text);
	free(text);
	return EXIT_OK;
}

/* The handler: who crashed (the kernel's %P), the spool and its limits,
 * the bundle's name; the log line's context.  Returns an exit status. */
static int handler_start(struct cli *c)
{
	struct cp_error err = {0};
	char ctx[256], a[SHOWN_MAX];
	handler_begin();
	snprintf(ctx, sizeof(ctx), "process %ld", c->handler_pid);
	handler_set_context(ctx);
	if (cp_live_open((pid_t)c->handler_pid, &c->live, &err) < 0) {
		fail_err(&err, "; no bundle written");
		return EXIT_FAIL;
	}
	snprintf(ctx, sizeof(ctx), "process %ld ('%s', uid %u)", c->handler_pid,
	         cp_escape(c->live.comm, a, sizeof(a)), (unsigned)c->live.uid);
	handler_set_context(ctx);
	int rc =
	    handler_prepare(&c->handler, &c->live, &c->default_output, &c->max_core, &c->max_data);
	if (rc != EXIT_OK)
		return rc;
	c->pack.output = c->default_output;
	c->pack.core_path = "-";
	/* The core exists nowhere else once the kernel has handed it over. */
	c->pack.bundle.sync = 1;
	c->quiet = 1;
	return EXIT_OK;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The handler's one line for a crash packed; then the process is let go
 * (standard input closed: the kernel waits for that) and the spool kept
 * within its limits. */
static void handler_finish(struct cli *c, const struct cp_packer *p, const struct cp_pack_stats *st,
                           double t0)
{
	const struct cp_scan *s = cp_packer_scan(p);
	const struct cp_notes *n = &cp_packer_core(p)->notes;
	size_t by_status[CP_STATUS_COUNT] = {0}, via = 0;
	for (size_t i = 0; i < s->n_modules; i++) {
		by_status[s->modules[i].status]++;
		via += s->modules[i].via_map_files;
	}
	close(0);
	double waited = now_s() - t0;
	int removed = handler_vacuum(&c->handler, c->pack.output);
	char size[32], a[SHOWN_MAX];
	cli_human_size(st->bundle_size, size, sizeof(size));
	int sig = n->have_siginfo ? n->sig_signo : n->n_threads ? n->threads[0].cursig : 0;
	handler_log(LOG_INFO,
	            "signal %d (%s): '%s' written (%s): %zu objects packed (%zu through map_files; "
	            "%zu ok, %zu mismatch, %zu missing); the process waited %.2f s%s",
	            sig, cp_signal_name(sig) ? cp_signal_name(sig) : "unknown",
	            cp_escape(c->pack.output, a, sizeof(a)), size, st->n_objects, via,
	            by_status[CP_STATUS_OK], by_status[CP_STATUS_MISMATCH],
	            by_status[CP_STATUS_MISSING], waited,
	            removed ? "; older bundles removed from the spool" : "");
}

int main(int argc, char **argv)
{
	struct cli c;
	memset(&c, 0, sizeof(c));
	double t0 = now_s();
	cli_init("corepack");
	cli_check_stdout_at_exit();
	int rc = corepack_parse_args(argc, argv, &c);
	if (rc == EXIT_OK)
		rc = corepack_check_usage(&c);
	if (rc == EXIT_OK && (c.install || c.uninstall)) {
		rc = c.install ? handler_install(&c.handler, c.pack.bundle.force, c.quiet)
		               : handler_uninstall(c.quiet);
		free(c.debug_dirs);
		return rc;
	}
	if (rc == EXIT_OK && c.handler_pid)
		rc = handler_start(&c);
	if (rc == EXIT_OK)
		rc = check_files(&c);
	if (rc != EXIT_OK) {
		free(c.debug_dirs);
		free(c.default_output);
		free(c.live_core_name);
		return rc;
	}

	if (c.nice)
		be_nice();
	const volatile sig_atomic_t *cancelled = cli_catch_signals();
	c.pack.bundle.cancel = cancelled;
	struct cli_progress prog;
	if (!c.quiet && cli_progress_init(&prog)) {
		c.pack.bundle.progress = cli_progress_update;
		c.pack.bundle.progress_ctx = &prog;
	}

	struct cp_error err = {0};
	struct cp_packer *p = NULL;
	struct cp_core_input *in = NULL;
	struct cp_remote *remote = NULL;
	char *tmpdir = temp_dir(&c);
	if (!tmpdir) {
		cli_fail("out of memory");
		rc = EXIT_FAIL;
		goto out;
	}
	/* the servers before the core: --thin without them fails at once */
	if ((c.pack.thin || (!c.no_debuginfod && !c.pack.no_debug)) &&
	    (rc = start_remote(&c, &remote)) != EXIT_OK)
		goto out;
	if (c.pack.thin && !remote) {
		cli_fail(
		    cp_remote_supported()
		        ? "--thin: DEBUGINFOD_URLS names no debuginfod server; no bundle written"
		        : "--thin: this corepack is a static build, without the debuginfod "
		          "client; no bundle written");
		rc = EXIT_FAIL;
		goto out;
	}
	if (!remote && !c.quiet && !c.no_debuginfod && !c.pack.no_debug && cp_remote_configured() &&
	    !cp_remote_supported())
		cli_warn("DEBUGINFOD_URLS is set, but this corepack is a static build, without the "
		         "debuginfod client: no debug file is asked for");
	c.pack.remote = remote;
	if (remote && c.pack.bundle.progress)
		cp_remote_set_progress(remote, remote_progress, &prog);
	if (c.pid)
		rc = take_live_core(&c, tmpdir);
	else
		rc = take_core(&c, c.pack.bundle.progress ? &prog : NULL, &in, tmpdir);
	if (rc != EXIT_OK)
		goto out;
	if (c.pid || c.handler_pid)
		live_pack_opts(&c);
	if (cp_packer_open(&c.pack, &p, &err) < 0) {
		fail_err(&err, "");
		rc = EXIT_FAIL;
		goto out;
	}
	if (remote && c.pack.bundle.progress) {
		cli_progress_done(&prog);
		cli_progress_init(&prog); /* the packing's own rate and time */
	}
	if (!c.quiet)
		print_warnings(p);
	if (!c.quiet && c.pid)
		say_live_route(&c, p);
	if (c.list) {
		rc = list_core(p, c.format);
		goto out;
	}
	const struct cp_scan *s = cp_packer_scan(p);
	int bad = count_bad(s);
	if (c.strict && bad) {
		if (c.quiet && !c.handler_pid)
			print_warnings(p);
		cli_fail("--strict: %d object%s missing or mismatched; no bundle written", bad,
		         bad == 1 ? "" : "s");
		rc = EXIT_FAIL;
		goto out;
	}
	if (!c.no_backtrace && unwind(p, c.quiet, &err) < 0) {
		fail_err(&err, "");
		rc = EXIT_FAIL;
		goto out;
	}
	struct cp_pack_stats st;
	int r = cp_packer_write(p, &st, &err);
	cli_progress_done(c.pack.bundle.progress ? &prog : NULL);
	if (r < 0) {
		if (r == -EINTR)
			cli_fail("interrupted; no bundle written");
		else
			fail_err(&err, r == -EEXIST ? "; use -f to overwrite" : "");
		rc = EXIT_FAIL;
		goto out;
	}
	if (c.handler_pid)
		handler_finish(&c, p, &st, t0);
	if (!c.quiet) {
		for (size_t i = 0; i < s->n_modules; i++)
			print_object(&s->modules[i], c.verbose);
		print_total(p, &st, c.pack.output);
		if (st.n_dwz_objects)
			warn_dwz(p);
	}
out:
	cp_packer_free(p);
	cp_remote_free(remote);
	cp_core_input_free(in);
	if (c.pid && c.pack.use_core_fd)
		close(c.pack.core_fd);
	free(tmpdir);
	free(c.debug_dirs);
	free(c.default_output);
	free(c.live_core_name);
	return rc;
}
