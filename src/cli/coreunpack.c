/*
 * coreunpack: the command-line front end of the unpacker.  Parses options,
 * runs cp_unpack() or, for --list, cp_bundle_read() without extracting,
 * and is the only place (with corepack.c) that prints or exits.  Results
 * go to stdout, diagnostics to stderr as "coreunpack: ...".  Everything
 * shown from the manifest came from a stranger: it is escaped first.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/bundle_read.h"
#include "corepack/escape.h"
#include "corepack/unpack.h"
#include "corepack/layout.h"
#include "corepack/remote.h"
#include "corepack/template.h"
#include "cli_util.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "Usage: coreunpack [OPTION]... BUNDLE\n"
    "Unpack a bundle made by corepack into the current directory (without the\n"
    "bundle's top directory), check every file against its manifest, and write\n"
    "run-gdb.sh, which starts gdb on the core with the crashed machine's files\n"
    "(run-lldb.sh does the same for lldb):\n"
    "  coreunpack crash.tar.zst && ./run-gdb.sh\n"
    "\n"
    "  -C, --directory DIR  unpack into DIR (created if missing)\n"
    "  -f, --force          replace core, sysroot/, debug/, manifest.json,\n"
    "                       digests.json, run-gdb.sh, run-lldb.sh, corepack.gdb\n"
    "                       and report.txt if they exist\n"
    "  -l, --list           show the crash and the objects in the bundle without\n"
    "                       unpacking (names, types and sizes are checked; file\n"
    "                       contents only when unpacking)\n"
    "      --trust          let gdb run code from the bundle: its libthread_db\n"
    "                       (for thread debugging) and the gdb scripts packed\n"
    "                       with its objects (libstdc++'s pretty printers); by\n"
    "                       default gdb uses this machine's\n"
    "  -q, --quiet          print errors only\n"
    "  -v, --verbose        also print every file unpacked\n"
    "  -h, --help           show this help and exit\n"
    "  -V, --version        show versions and exit\n"
    "\n"
    "Bundles are untrusted.  Only regular files, directories and relative\n"
    "symlinks that stay inside the bundle are accepted, below the names above;\n"
    "anything else (absolute names, '..', hard links, devices, setuid bits,\n"
    "a name used twice, a file not matching the manifest, a name in the core\n"
    "that would lead gdb out of the bundle) refuses the whole bundle and leaves\n"
    "nothing behind.  Entries are held to the manifest, which comes first, as\n"
    "they arrive, and the disk they need is checked first.  The bundle's own\n"
    "run-gdb.sh, run-lldb.sh and corepack.gdb are replaced by ones written here;\n"
    "gdb runs with auto-loading off, lldb without .lldbinit files or scripts.\n"
    "A target directory every user may write to and not sticky is refused.\n"
    "\n"
    "A thin bundle (corepack --thin) leaves out files that debuginfod servers\n"
    "serve by build-id: with DEBUGINFOD_URLS set they are fetched, each checked\n"
    "against the manifest's size, sha256 and build-id (a server is as untrusted\n"
    "as a bundle); without it nothing is unpacked and what is needed is listed.\n"
    "\n"
    "Limits: 200000 names (entries and the directories they imply), 4096-byte\n"
    "paths and symlink targets, 255-byte name components, 1 TiB of files (holes\n"
    "included) and no more than the disk has free, a 16 MiB manifest (its JSON\n"
    "tree at most 128 MiB) with at most 8192 objects, sparse maps of 1048576\n"
    "regions; a bundle whose manifest is not first expands at most 256 times.\n"
    "\n"
    "Exit status: 0 unpacked (warnings allowed), 1 failure (also when standard\n"
    "output cannot be written), 2 usage.\n";

struct cli {
	const char *bundle;
	const char *dir; /* -C, or NULL */
	int force, list, trust, quiet, verbose;
};

static int parse_args(int argc, char **argv, struct cli *c)
{
	enum { OPT_TRUST = 256 };
	static const struct option longopts[] = {
	    {"directory", required_argument, NULL, 'C'},
	    {"force", no_argument, NULL, 'f'},
	    {"list", no_argument, NULL, 'l'},
	    {"trust", no_argument, NULL, OPT_TRUST},
	    {"quiet", no_argument, NULL, 'q'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "C:flqvhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'C':
			if (!*optarg)
				return cli_usage("empty directory name for -C");
			c->dir = optarg;
			break;
		case 'f':
			c->force = 1;
			break;
		case 'l':
			c->list = 1;
			break;
		case OPT_TRUST:
			c->trust = 1;
			break;
		case 'q':
			c->quiet = 1;
			c->verbose = 0;
			break;
		case 'v':
			c->verbose = 1;
			c->quiet = 0;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(EXIT_OK);
		case 'V':
			cli_print_version(NULL);
			exit(EXIT_OK);
		default:
			return cli_usage(NULL);
		}
	}
	if (optind >= argc)
		return cli_usage("no bundle given");
	if (argc - optind > 1)
		return cli_usage("more than one bundle given ('%s')", argv[optind + 1]);
	c->bundle = argv[optind];
	if (c->list && (c->dir || c->force || c->trust))
		return cli_usage("--list extracts nothing: -C, -f and --trust do not apply");
	return EXIT_OK;
}

/* ---- printing what came from the bundle ------------------------------- */

/* S (LEN bytes, NUL-free) made safe for a terminal, line breaks and tabs
 * kept, on stdout. */
static void put_safe(const char *s, size_t len)
{
	char *tmp = malloc(len + 1), *buf = malloc(4 * len + 8);
	if (tmp && buf) {
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		for (char *p = tmp; p;) {
			size_t n = strcspn(p, "\t\n");
			char sep = p[n];
			p[n] = '\0';
			cli_puts_stdout(cp_escape(p, buf, 4 * len + 8));
			if (sep)
				putchar(sep);
			p = sep ? p + n + 1 : NULL;
		}
	}
	free(tmp);
	free(buf);
}

static const char *safe(const char *s, char *buf, size_t size)
{
	return s ? cp_escape(s, buf, size) : "-";
}

static const char *object_build_id(const struct cp_manifest_object *o)
{
	return o->build_id_core ? o->build_id_core : o->build_id_file ? o->build_id_file : "-";
}

static uint64_t file_size(const struct cp_manifest *m, const char *path)
{
	const struct cp_manifest_file *f = path ? cp_manifest_find_file(m, path) : NULL;
	const struct cp_manifest_remote *rf = path && !f ? cp_manifest_find_remote(m, path) : NULL;
	return f ? f->size : rf ? rf->size : 0;
}

/* Whether PATH is one of the files a thin bundle left out. */
static int is_remote(const struct cp_manifest *m, const char *path)
{
	return path && cp_manifest_find_remote(m, path) != NULL;
}

/* .dwo files named per object in the listings. */
#define DWO_SHOWN 4

/* One line per object: build-id, status, size in the bundle, origin path;
 * then its debug files. */
static void print_objects(const struct cp_manifest *m)
{
	char a[1200], b[1200], size[32];
	for (size_t i = 0; i < m->n_objects; i++) {
		const struct cp_manifest_object *o = &m->objects[i];
		if (o->bundle_path)
			cli_human_size(o->size ? o->size : file_size(m, o->bundle_path), size,
			               sizeof(size));
		else
			strcpy(size, "-");
		printf("%-40s %-11s %9s %s%s\n", object_build_id(o), cp_status_name(o->status),
		       size, safe(o->path, a, sizeof(a)),
		       is_remote(m, o->bundle_path) ? " (remote)" : "");
		size_t n_dwo = 0;
		uint64_t dwo_bytes = 0;
		for (size_t k = 0; k < o->n_debug; k++) {
			const struct cp_manifest_debug *d = &o->debug[k];
			uint64_t bytes = d->size ? d->size : file_size(m, d->bundle_path);
			/* An object of many compilation units has as many .dwo
			 * files: the first few are named, the rest counted. */
			if (d->kind == CP_DEBUG_KIND_DWO && n_dwo++ >= DWO_SHOWN) {
				dwo_bytes += bytes;
				continue;
			}
			cli_human_size(bytes, size, sizeof(size));
			printf("    %-5s %s (%s, found by %s%s)\n",
			       d->kind == CP_DEBUG_KIND_UNKNOWN ? "debug"
			                                        : cp_debug_kind_name(d->kind),
			       safe(d->bundle_path, a, sizeof(a)), size,
			       safe(d->found_by, b, sizeof(b)),
			       is_remote(m, d->bundle_path) ? ", remote" : "");
		}
		if (n_dwo > DWO_SHOWN) {
			cli_human_size(dwo_bytes, size, sizeof(size));
			printf("    dwo   %zu more split DWARF files (%s)\n", n_dwo - DWO_SHOWN,
			       size);
		}
		if (!o->n_debug && o->debug_status == CP_DEBUG_STATUS_IN_OBJECT)
			printf("    debug in the object itself\n");
	}
}

/* What corepack recorded that the user should know; through EMIT (a
 * warning line on stderr, or a line of the listing). */
static void each_warning(const struct cp_manifest *m, void (*emit)(const char *line))
{
	char line[2048], a[1200], b[700];
	if (m->truncated) {
		snprintf(line, sizeof(line),
		         "the core is truncated: %llu bytes missing; gdb shows that memory as "
		         "unavailable",
		         (unsigned long long)m->missing_bytes);
		emit(line);
	}
	for (size_t i = 0; i < m->n_warnings; i++) {
		char *w = cp_escape_dup(m->warnings[i]);
		if (!w)
			continue;
		snprintf(line, sizeof(line), "%s", w);
		free(w);
		emit(line);
	}
	for (size_t i = 0; i < m->n_objects; i++) {
		const struct cp_manifest_object *o = &m->objects[i];
		safe(o->path, a, sizeof(a));
		if (o->status != CP_STATUS_OK) {
			snprintf(line, sizeof(line), "'%s': %s%s%s%s", a, cp_status_name(o->status),
			         o->detail ? " (" : "",
			         o->detail ? safe(o->detail, b, sizeof(b)) : "",
			         o->detail ? ")" : "");
			if (!o->bundle_path)
				strncat(line, "; not in the bundle",
				        sizeof(line) - strlen(line) - 1);
			emit(line);
		}
		if (o->bundle_path && !o->n_debug && o->debug_status != CP_DEBUG_STATUS_IN_OBJECT) {
			snprintf(line, sizeof(line),
			         "'%s': no debug file in the bundle: no source lines or local "
			         "variables in its frames",
			         a);
			emit(line);
		}
	}
}

/* lldb 14 reads no DWARF that refers to a dwz alt file: say which objects
 * run-lldb.sh will show without source lines. */
static void warn_dwz(const struct cp_manifest *m)
{
	char a[1200];
	for (size_t i = 0; i < m->n_objects; i++)
		if (cp_manifest_object_uses_dwz(&m->objects[i]))
			cli_warn("'%s': its debug file is dwz-compressed, which lldb 14 cannot "
			         "read: run-lldb.sh shows its frames without source lines "
			         "(run-gdb.sh reads it)",
			         safe(m->objects[i].real_path ? m->objects[i].real_path
			                                      : m->objects[i].path,
			              a, sizeof(a)));
}

static void warn_line(const char *line)
{
	cli_warn("%s", line);
}

static size_t n_list_warnings;
static void list_line(const char *line)
{
	if (n_list_warnings++ == 0)
		printf("warnings:\n");
	printf("  %s\n", line);
}

static void print_list(const struct cli *c, const struct cp_bundle_contents *bc)
{
	const struct cp_manifest *m = bc->manifest;
	char a[1200], b[1200], t[1200], v[300], size[32];
	/* Every field from the manifest goes through safe(), tokens too:
	 * "created" is free text, and reached the terminal raw once. */
	printf("bundle:      %s (top directory '%s/', made by corepack %s on %s)\n",
	       safe(c->bundle, a, sizeof(a)), safe(bc->top, b, sizeof(b)),
	       m->corepack_version ? safe(m->corepack_version, v, sizeof(v)) : "?",
	       m->created ? safe(m->created, t, sizeof(t)) : "?");
	printf("host:        %s", safe(m->host_nodename, a, sizeof(a)));
	if (m->host_os)
		printf(" (%s)", safe(m->host_os, a, sizeof(a)));
	if (m->host_release)
		printf(", Linux %s", safe(m->host_release, a, sizeof(a)));
	if (m->host_machine)
		printf(", %s", safe(m->host_machine, a, sizeof(a)));
	printf("\nexecutable:  %s\n",
	       safe(m->core_executable ? m->core_executable : m->gdb_executable, a, sizeof(a)));
	printf("command:     %s\n", safe(m->args ? m->args : m->command, a, sizeof(a)));
	printf("process:     pid %ld, %ld thread%s\n", m->pid, m->threads,
	       m->threads == 1 ? "" : "s");
	printf("signal:      %ld (%s)", m->signal, safe(m->signal_name, a, sizeof(a)));
	if (m->fault_address)
		printf(", fault address %s", safe(m->fault_address, a, sizeof(a)));
	cli_human_size(file_size(m, CP_BUNDLE_CORE), size, sizeof(size));
	printf("\ncore:        %s, %s%s%s%s\n", size, safe(m->core_machine, a, sizeof(a)),
	       m->core_class ? " " : "", m->core_class ? safe(m->core_class, b, sizeof(b)) : "",
	       m->truncated ? ", truncated" : "");
	printf("libthread_db: %s\n",
	       m->thread_db_dir ? safe(m->thread_db_dir, a, sizeof(a)) : "none in the bundle");
	printf("objects:     %zu\n", m->n_objects);
	if (m->n_remote) {
		cli_human_size(m->remote_bytes, size, sizeof(size));
		printf("remote:      %zu files (%s) left out, to be fetched from debuginfod "
		       "servers by build-id\n",
		       m->n_remote, size);
	}
	print_objects(m);
	each_warning(m, list_line);
	if (bc->report) {
		printf("report.txt:\n");
		put_safe(bc->report, strlen(bc->report));
		if (bc->report_size > strlen(bc->report))
			printf("\n[report.txt continues: %llu bytes in all]\n",
			       (unsigned long long)bc->report_size);
		else if (bc->report[0] && bc->report[strlen(bc->report) - 1] != '\n')
			putchar('\n');
	}
}

/* The command that starts gdb: "./run-gdb.sh", "DIR/run-gdb.sh". */
static void print_next(const char *dir)
{
	char *path = NULL;
	if (!dir || strcmp(dir, ".") == 0) {
		printf("next: ./%s\n", CP_BUNDLE_RUN_GDB);
		return;
	}
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (asprintf(&path, "%.*s/%s", n == 1 && dir[0] == '/' ? 0 : (int)n, dir,
	             CP_BUNDLE_RUN_GDB) < 0)
		return;
	/* Quote it only when the shell would need it. */
	int plain = strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                         "0123456789_./+-,:@%") == strlen(path);
	char *q = plain ? NULL : cp_quote_sh(path);
	char buf[4 * 4096 + 8];
	printf("next: %s\n", cp_escape(q ? q : path, buf, sizeof(buf)));
	free(q);
	free(path);
}

static void print_summary(const struct cli *c, const struct cp_bundle_contents *bc)
{
	const struct cp_manifest *m = bc->manifest;
	size_t n_packed = 0, n_ok = 0, n_debug = 0;
	uint64_t obj_bytes = 0, debug_bytes = 0;
	char a[1200], b[1200], s1[32], s2[32], s3[32], s4[32];
	for (size_t i = 0; i < m->n_objects; i++) {
		const struct cp_manifest_object *o = &m->objects[i];
		if (o->bundle_path) {
			n_packed++;
			n_ok += o->status == CP_STATUS_OK;
			obj_bytes += file_size(m, o->bundle_path);
		}
	}
	for (size_t i = 0; i < m->n_files + m->n_remote; i++) {
		const char *path =
		    i < m->n_files ? m->files[i].path : m->remote[i - m->n_files].path;
		if (strncmp(path, CP_BUNDLE_DEBUG "/", strlen(CP_BUNDLE_DEBUG) + 1) == 0) {
			n_debug++;
			debug_bytes += file_size(m, path);
		}
	}
	char exe[1200];
	printf("unpacked '%s' into '%s': %s of pid %ld (%s) on %s\n", safe(c->bundle, a, sizeof(a)),
	       c->dir ? safe(c->dir, b, sizeof(b)) : ".", safe(m->signal_name, s1, sizeof(s1)),
	       m->pid, safe(m->core_executable ? m->core_executable : m->command, exe, sizeof(exe)),
	       safe(m->host_nodename, s3, sizeof(s3)));
	print_objects(m);
	cli_human_size(file_size(m, CP_BUNDLE_CORE), s1, sizeof(s1));
	cli_human_size(obj_bytes, s2, sizeof(s2));
	cli_human_size(debug_bytes, s3, sizeof(s3));
	cli_human_size(bc->file_bytes, s4, sizeof(s4));
	printf("core %s; %zu objects (%zu ok) %s; %zu debug files %s; %zu symlinks; %zu files, "
	       "%s, every one checked against the manifest\n",
	       s1, n_packed, n_ok, s2, n_debug, s3, bc->n_symlinks, bc->n_files, s4);
	if (m->n_remote) {
		cli_human_size(m->remote_bytes, s1, sizeof(s1));
		printf("fetched %zu files (%s) from the debuginfod servers, every one checked "
		       "against the manifest's size, sha256 and build-id\n",
		       m->n_remote, s1);
	}
	if (c->trust)
		printf("trusted: gdb will load the bundle's libthread_db%s\n",
		       bc->manifest->bundle_scripts ? " and its objects' gdb scripts" : "");
}

/* A thin bundle and no server: what it needs, after the error line. */
static void print_needed(const struct cp_manifest *m)
{
	char a[1200], size[32];
	for (size_t i = 0; i < m->n_remote; i++) {
		const struct cp_manifest_remote *f = &m->remote[i];
		cli_human_size(f->size, size, sizeof(size));
		fprintf(stderr, "%s:   needs the %s of build-id %s (%s, %s)\n", cli_progname(),
		        cp_remote_kind_name(f->kind), f->build_id, safe(f->path, a, sizeof(a)),
		        size);
	}
	if (cp_remote_supported())
		fprintf(stderr, "%s: set DEBUGINFOD_URLS to servers that have them\n",
		        cli_progname());
	else
		fprintf(stderr,
		        "%s: this coreunpack is a static build, without the debuginfod client: "
		        "use one that is not\n",
		        cli_progname());
}

/* A file arriving from a debuginfod server, on the progress line. */
static int remote_progress(void *ctx, const char *hex, uint64_t done, uint64_t total)
{
	(void)hex;
	if (total)
		cli_progress_update(ctx, done, total);
	return *cli_cancelled() != 0;
}

static void print_entry(void *ctx, const char *path, enum cp_entry_type type, uint64_t size)
{
	char buf[4 * 4096 + 8], s[32];
	(void)ctx;
	if (type == CP_ENTRY_FILE) {
		cli_human_size(size, s, sizeof(s));
		printf("  %s (%s)\n", cp_escape(path, buf, sizeof(buf)), s);
	} else {
		printf("  %s%s\n", cp_escape(path, buf, sizeof(buf)),
		       type == CP_ENTRY_DIR ? "/" : " (symlink)");
	}
}

int main(int argc, char **argv)
{
	struct cli c;
	memset(&c, 0, sizeof(c));
	cli_init("coreunpack");
	cli_check_stdout_at_exit();
	int rc = parse_args(argc, argv, &c);
	if (rc != EXIT_OK)
		return rc;

	const volatile sig_atomic_t *cancelled = cli_catch_signals();

	struct cli_progress prog;
	int show_progress = !c.quiet && !c.verbose && cli_progress_init(&prog);
	struct cp_error err = {0};
	struct cp_bundle_contents *bc = NULL;
	struct cp_remote *remote = NULL;
	int r;
	if (c.list) {
		struct cp_bundle_read_opts ro = {
		    .cancel = cancelled,
		    .progress = show_progress ? cli_progress_update : NULL,
		    .progress_ctx = &prog,
		};
		r = cp_bundle_read(c.bundle, &ro, &bc, &err);
	} else {
		if ((r = cp_remote_new(&remote, &err)) < 0) {
			cli_fail("%s", err.msg);
			return EXIT_FAIL;
		}
		if (remote && show_progress)
			cp_remote_set_progress(remote, remote_progress, &prog);
		struct cp_unpack_opts uo = {
		    .bundle = c.bundle,
		    .dir = c.dir,
		    .force = c.force,
		    .trust = c.trust,
		    .cancel = cancelled,
		    .progress = show_progress ? cli_progress_update : NULL,
		    .progress_ctx = &prog,
		    .on_entry = c.verbose ? print_entry : NULL,
		    .remote = remote,
		};
		r = cp_unpack(&uo, &bc, &err);
	}
	cli_progress_done(show_progress ? &prog : NULL);
	if (r < 0) {
		char shown[600];
		if (r == -EINTR)
			cli_fail("'%s': interrupted; nothing was unpacked",
			         cp_escape(c.bundle, shown, sizeof(shown)));
		else if (r == -EEXIST)
			cli_fail("%s (-f replaces it)", err.msg);
		else
			cli_fail("%s", err.msg);
		if (r == -EREMOTE && bc)
			print_needed(bc->manifest);
		cp_bundle_contents_free(bc);
		cp_remote_free(remote);
		return EXIT_FAIL;
	}
	cp_remote_free(remote);

	if (c.list) {
		print_list(&c, bc);
	} else if (!c.quiet) {
		print_summary(&c, bc);
		each_warning(bc->manifest, warn_line);
		for (size_t i = 0; i < bc->n_gdb_warnings; i++)
			cli_warn("%s", bc->gdb_warnings[i]);
		warn_dwz(bc->manifest);
		if (c.trust && !bc->manifest->thread_db_dir)
			cli_warn(
			    "--trust: the bundle has no libthread_db; gdb will use the host's");
		cli_flush_stdout();
		print_next(c.dir);
	}
	cp_bundle_contents_free(bc);
	return EXIT_OK; /* and standard output checked at exit */
}
