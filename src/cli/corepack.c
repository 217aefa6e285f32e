/*
 * corepack: the command-line front end.  Parses options, runs the packer,
 * and is the only place (with coreunpack.c) that prints or exits.
 * Results go to stdout, diagnostics to stderr as "corepack: ...".
 */
#include <archive.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <getopt.h>
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

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "Usage: corepack [OPTION]... CORE [-o BUNDLE]\n"
    "  or:  corepack [OPTION]... --pid PID [-o BUNDLE]\n"
    "  or:  corepack --handler PID --spool DIR [LIMIT]...  (as kernel.core_pattern)\n"
    "  or:  corepack --install-handler [--spool DIR] [-f]\n"
    "  or:  corepack --uninstall-handler\n"
    "Pack a core dump with every file gdb needs to debug it on another machine:\n"
    "the executable, every shared library (dlopened ones and the dynamic loader\n"
    "included), their separate debug files, libthread_db, a manifest and\n"
    "scripts that start gdb or lldb on it (run-gdb.sh, run-lldb.sh).\n"
    "\n"
    "CORE may be compressed with zstd, lz4, xz or gzip (systemd-coredump's\n"
    "core.*.zst), told by its content, and may be - for standard input (a pipe\n"
    "from coredumpctl dump or a core_pattern handler; -o is then required).\n"
    "Such a core is first written, holes kept, into an unnamed temporary file\n"
    "in the bundle's directory ($TMPDIR or /var/tmp with --list).\n"
    "\n"
    "A live process (--pid) and a crash handed over by the kernel (--handler)\n"
    "are packed while the process exists: every object is read through\n"
    "/proc/PID/map_files (the very file mapped, even if replaced on disk since;\n"
    "root only, else by its path under /proc/PID/root, checked by build-id),\n"
    "every path under the process's own root /proc/PID/root (a container's).\n"
    "\n"
    "      --pid PID          pack a live process, which keeps running: gdb's gcore\n"
    "                         writes its core (default bundle: core.PID.tar.zst)\n"
    "      --handler PID      be the kernel's core_pattern pipe handler\n"
    "                         (|corepack --handler %P --spool DIR): read the core\n"
    "                         of process PID from standard input, write\n"
    "                         DIR/EXE-PID-TIME.tar.zst (mode 0600), log to syslog\n"
    "      --spool DIR        the handler's directory (made 0700 if missing; must\n"
    "                         be ours and writable by no one else); with\n"
    "                         --install-handler, default /var/lib/corepack/spool\n"
    "      --max-core SIZE    handler: refuse a core larger than SIZE (default 32G)\n"
    "      --keep-free SIZE   handler: keep SIZE free on the spool's filesystem\n"
    "                         (default 15% of it, at most 4G)\n"
    "      --max-bundles N    handler: keep the newest N bundles (default 32)\n"
    "      --install-handler  set kernel.core_pattern to the handler and\n"
    "                         kernel.core_pipe_limit to 16, now and at boot\n"
    "                         (/etc/sysctl.d/50-corepack.conf); the values before\n"
    "                         are saved; another pipe handler (systemd-coredump,\n"
    "                         apport) is replaced only with -f\n"
    "      --uninstall-handler  restore the saved values, remove the sysctl.d file\n"
    "\n"
    "  -o, --output FILE      the bundle (default: CORE's name, less a .zst,\n"
    "                         .lz4, .xz or .gz suffix, + .tar.zst here);\n"
    "                         .tar.zst, .tar.xz, .tar.gz (.tgz) or .tar\n"
    "  -e, --executable FILE  the executable, when the core's record is wrong\n"
    "      --sysroot DIR      resolve the core's paths under DIR (a container's\n"
    "                         root, a mounted image of the crashed machine)\n"
    "      --debug-dir DIR    also look for debug files under DIR (repeatable);\n"
    "                         SYSROOT/usr/lib/debug is always searched\n"
    "      --no-debug         leave separate debug files out\n"
    "      --no-debuginfod    do not ask the debuginfod servers of DEBUGINFOD_URLS\n"
    "                         for the debug files not found here\n"
    "      --thin             leave out every object and debug file the servers of\n"
    "                         DEBUGINFOD_URLS send back identical by build-id\n"
    "                         (coreunpack fetches them); needs DEBUGINFOD_URLS\n"
    "      --no-backtrace     do not unwind the threads (no summary, no report.txt)\n"
    "      --strict           fail if any object is missing or mismatched\n"
    "      --list             write nothing; print one line per mapped object\n"
    "      --format FORMAT    with --list: table (the default: address range,\n"
    "                         build-id, file found, status, debug file found,\n"
    "                         name; and the totals), unstrip (eu-unstrip -n's\n"
    "                         START+SIZE BUILDID FILE DEBUGFILE NAME) or json\n"
    "      --json             with --list: the same as --format json\n"
    "      --level N          compression level: zstd 1-19 (default 3), xz 0-9\n"
    "                         and gzip 1-9 (default 6); .tar takes none\n"
    "  -j, --threads N        compression threads (default: online CPUs)\n"
    "      --nice             lowest CPU and idle I/O priority, for packing on a\n"
    "                         busy production machine\n"
    "  -f, --force            overwrite an existing bundle\n"
    "  -q, --quiet            print errors only\n"
    "  -v, --verbose          also print every name and symlink of each object\n"
    "  -h, --help             show this help and exit\n"
    "  -V, --version          show versions and exit\n"
    "\n"
    "The command line is checked before any work: a bundle name without a known\n"
    "suffix or a level its compression cannot take is a usage error; an existing\n"
    "bundle (without -f) or a missing output directory fails at once.\n"
    "\n"
    "Output: a crash summary (signal, fault address, the crashing thread's\n"
    "backtrace, unwound here with the files being packed); one line per\n"
    "object (build-id, status, debug file, path); a total.  Status is ok\n"
    "(the build-id matches; without one, the object's pages in the core match\n"
    "the file), mismatch (the file on this machine is not the one that ran:\n"
    "not packed), missing, no-build-id or unverified (the core holds no\n"
    "build-id and no page of the object: packed unchecked); --list also shows\n"
    "the vDSO as in-core.  Warnings go to stderr.\n"
    "\n"
    "Limits on what a core may ask: "
    "1048576 mappings, 256 MiB of notes,\n"
    "4096-byte paths, 65536 link_map entries, 40 symlinks per path.\n"
    "\n"
    "Exit status: 0 bundle written (warnings allowed), 1 failure (also when\n"
    "standard output cannot be written; a bundle written stays), 2 usage.\n";

enum list_format { LIST_TABLE, LIST_UNSTRIP, LIST_JSON };

struct cli {
	struct cp_pack_opts pack;
	const char **debug_dirs;
	size_t n_debug_dirs;
	char *default_output;
	const char *format_opt; /* "--json" or "--format" when given */
	enum list_format format;
	int quiet, verbose, strict, list, nice, no_backtrace, no_debuginfod;
	/* --pid, --handler (0 when not given) and the handler's settings */
	long pid, handler_pid;
	struct handler_opts handler;
	int install, uninstall;
	struct cp_live_proc live;
	/* caps on a core read from standard input (the handler's) */
	uint64_t max_core, max_data;
	char *live_core_name;
};

static int parse_args(int argc, char **argv, struct cli *c)
{
	enum {
		OPT_SYSROOT = 256,
		OPT_DEBUG_DIR,
		OPT_NO_DEBUG,
		OPT_STRICT,
		OPT_LEVEL,
		OPT_LIST,
		OPT_FORMAT,
		OPT_JSON,
		OPT_NICE,
		OPT_NO_BACKTRACE,
		OPT_NO_DEBUGINFOD,
		OPT_THIN,
		OPT_PID,
		OPT_HANDLER,
		OPT_SPOOL,
		OPT_MAX_CORE,
		OPT_KEEP_FREE,
		OPT_MAX_BUNDLES,
		OPT_INSTALL,
		OPT_UNINSTALL,
	};
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"executable", required_argument, NULL, 'e'},
	    {"sysroot", required_argument, NULL, OPT_SYSROOT},
	    {"debug-dir", required_argument, NULL, OPT_DEBUG_DIR},
	    {"no-debug", no_argument, NULL, OPT_NO_DEBUG},
	    {"no-debuginfod", no_argument, NULL, OPT_NO_DEBUGINFOD},
	    {"thin", no_argument, NULL, OPT_THIN},
	    {"strict", no_argument, NULL, OPT_STRICT},
	    {"list", no_argument, NULL, OPT_LIST},
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"nice", no_argument, NULL, OPT_NICE},
	    {"no-backtrace", no_argument, NULL, OPT_NO_BACKTRACE},
	    {"pid", required_argument, NULL, OPT_PID},
	    {"handler", required_argument, NULL, OPT_HANDLER},
	    {"spool", required_argument, NULL, OPT_SPOOL},
	    {"max-core", required_argument, NULL, OPT_MAX_CORE},
	    {"keep-free", required_argument, NULL, OPT_KEEP_FREE},
	    {"max-bundles", required_argument, NULL, OPT_MAX_BUNDLES},
	    {"install-handler", no_argument, NULL, OPT_INSTALL},
	    {"uninstall-handler", no_argument, NULL, OPT_UNINSTALL},
	    {"level", required_argument, NULL, OPT_LEVEL},
	    {"threads", required_argument, NULL, 'j'},
	    {"force", no_argument, NULL, 'f'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	long n;
	while ((opt = getopt_long(argc, argv, "o:e:j:fqvhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			c->pack.output = optarg;
			break;
		case 'e':
			c->pack.executable = optarg;
			break;
		case OPT_SYSROOT:
			c->pack.sysroot = optarg;
			break;
		case OPT_DEBUG_DIR: {
			const char **d = realloc(c->debug_dirs, (c->n_debug_dirs + 1) * sizeof(*d));
			if (!d)
				return cli_fail("out of memory"), EXIT_FAIL;
			c->debug_dirs = d;
			d[c->n_debug_dirs++] = optarg;
			break;
		}
		case OPT_NO_DEBUG:
			c->pack.no_debug = 1;
			break;
		case OPT_NO_DEBUGINFOD:
			c->no_debuginfod = 1;
			break;
		case OPT_THIN:
			c->pack.thin = 1;
			break;
		case OPT_STRICT:
			c->strict = 1;
			break;
		case OPT_LIST:
			c->list = 1;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "table") == 0)
				c->format = LIST_TABLE;
			else if (strcmp(optarg, "unstrip") == 0)
				c->format = LIST_UNSTRIP;
			else if (strcmp(optarg, "json") == 0)
				c->format = LIST_JSON;
			else
				return cli_usage("invalid --format '%s' (table, unstrip or json)",
				                 optarg);
			c->format_opt = "--format";
			break;
		case OPT_JSON:
			c->format = LIST_JSON;
			c->format_opt = "--json";
			break;
		case OPT_NICE:
			c->nice = 1;
			break;
		case OPT_NO_BACKTRACE:
			c->no_backtrace = 1;
			break;
		case OPT_PID:
		case OPT_HANDLER:
			/* the kernel's PID_MAX_LIMIT */
			if (cli_parse_long(optarg, 1, 4194304, &n) < 0)
				return cli_usage("invalid process id '%s'", optarg);
			*(opt == OPT_PID ? &c->pid : &c->handler_pid) = n;
			break;
		case OPT_SPOOL:
			c->handler.spool = optarg;
			break;
		case OPT_MAX_CORE:
		case OPT_KEEP_FREE:
			if (handler_parse_size(optarg, opt == OPT_MAX_CORE
			                                   ? &c->handler.max_core
			                                   : &c->handler.keep_free) < 0)
				return cli_usage("invalid size '%s' (a number of bytes, or with K, "
				                 "M, G or T)",
				                 optarg);
			*(opt == OPT_MAX_CORE ? &c->handler.max_core_set
			                      : &c->handler.keep_free_set) = 1;
			break;
		case OPT_MAX_BUNDLES:
			if (cli_parse_long(optarg, 1, 100000, &n) < 0)
				return cli_usage("invalid bundle count '%s' (1-100000)", optarg);
			c->handler.max_bundles = n;
			break;
		case OPT_INSTALL:
			c->install = 1;
			break;
		case OPT_UNINSTALL:
			c->uninstall = 1;
			break;
		case OPT_LEVEL:
			/* The range depends on the format: see check_usage(). */
			if (cli_parse_long(optarg, -1000, 1000, &n) < 0)
				return cli_usage("invalid compression level '%s'", optarg);
			c->pack.bundle.level = (int)n;
			c->pack.bundle.level_set = 1;
			break;
		case 'j':
			if (cli_parse_long(optarg, 1, 256, &n) < 0)
				return cli_usage("invalid thread count '%s' (1-256)", optarg);
			c->pack.bundle.threads = (int)n;
			break;
		case 'f':
			c->pack.bundle.force = 1;
			break;
		case 'q':
			c->quiet = 1;
			break;
		case 'v':
			c->verbose = 1;
			break;
		case 'h':
			/* longer than stdout's buffer: a failed write must keep
			 * its reason for the message at exit */
			cli_puts_stdout(usage_text);
			exit(EXIT_OK);
		case 'V':
			cli_print_version(NULL);
			printf("elfutils %s\n", dwfl_version(NULL));
			exit(EXIT_OK);
		default:
			return cli_usage(NULL);
		}
	}
	int modes = (c->pid > 0) + (c->handler_pid > 0) + c->install + c->uninstall;
	if (modes > 1)
		return cli_usage("--pid, --handler, --install-handler and --uninstall-handler "
		                 "go alone");
	if (modes) {
		if (optind < argc)
			return cli_usage("'%s': no core file goes with %s", argv[optind],
			                 c->pid           ? "--pid"
			                 : c->handler_pid ? "--handler"
			                 : c->install     ? "--install-handler"
			                                  : "--uninstall-handler");
		return EXIT_OK;
	}
	if (optind >= argc)
		return cli_usage("no core file given");
	if (argc - optind > 1)
		return cli_usage("more than one core file given ('%s')", argv[optind + 1]);
	c->pack.core_path = argv[optind];
	return EXIT_OK;
}

/* The bundle's format from its name; a device or FIFO given with -f
 * (/dev/stdout on a pipe) takes zstd, as the writer does. */
static int output_format(const char *output, enum cp_compression *comp)
{
	struct stat st;
	if (cp_compression_from_name(output, comp) == 0)
		return 0;
	if (stat(output, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		*comp = CP_COMPRESS_ZSTD;
		return 0;
	}
	return cli_usage("'%s': unknown bundle format; the name must end in .tar.zst, .tar.xz, "
	                 ".tar.gz, .tgz or .tar",
	                 output);
}

/* Options that contradict each other, a bundle name without a format, a
 * level its compression cannot take: exit 2, before anything is opened. */
static int check_usage(struct cli *c)
{
	int handler = c->handler_pid || c->install || c->uninstall;
	if (c->handler.spool && !c->handler_pid && !c->install)
		return cli_usage("--spool goes with --handler or --install-handler");
	if ((c->handler.max_core_set || c->handler.keep_free_set || c->handler.max_bundles) &&
	    !c->handler_pid)
		return cli_usage("--max-core, --keep-free and --max-bundles go with --handler");
	if (c->handler_pid && !c->handler.spool)
		return cli_usage("--handler needs --spool DIR");
	if (c->uninstall && c->pack.bundle.force)
		return cli_usage("--uninstall-handler takes no -f");
	if (handler && (c->pack.output || c->list || c->pack.sysroot || c->pack.executable))
		return cli_usage("the handler options take no -o, --list, --sysroot or -e");
	if (c->install || c->uninstall)
		return EXIT_OK;
	if ((c->pid || c->handler_pid) && c->pack.sysroot)
		return cli_usage("%s reads the process's own root: --sysroot makes no sense",
		                 c->pid ? "--pid" : "--handler");
	if (c->handler_pid)
		return EXIT_OK; /* the bundle's name is made when the core comes */
	if (c->pid && !c->pack.output && !c->list) {
		if (asprintf(&c->default_output, "core.%ld.tar.zst", c->pid) < 0) {
			c->default_output = NULL;
			return cli_fail("out of memory"), EXIT_FAIL;
		}
		c->pack.output = c->default_output;
	}
	if (c->pid && asprintf(&c->live_core_name, "core.%ld", c->pid) < 0) {
		c->live_core_name = NULL;
		return cli_fail("out of memory"), EXIT_FAIL;
	}
	if (c->pid)
		c->pack.core_path = c->live_core_name;
	if (c->format_opt && !c->list)
		return cli_usage("%s goes with --list", c->format_opt);
	if (c->list && c->pack.output)
		return cli_usage("--list writes nothing; -o makes no sense with it");
	if (c->list && c->pack.bundle.level_set)
		return cli_usage("--list writes nothing; --level makes no sense with it");
	if (c->pack.thin && c->list)
		return cli_usage("--list writes nothing; --thin makes no sense with it");
	if (c->pack.thin && c->no_debuginfod)
		return cli_usage("--thin asks the debuginfod servers; --no-debuginfod forbids it");
	if (c->list)
		return EXIT_OK;
	if (!c->pack.output && strcmp(c->pack.core_path, "-") == 0)
		return cli_usage("a core from standard input needs -o BUNDLE");
	if (!c->pack.output) {
		const char *base = strrchr(c->pack.core_path, '/');
		base = base ? base + 1 : c->pack.core_path;
		/* systemd-coredump's core.app.1000.ID.PID.TIME.zst -> core.app....tar.zst */
		static const char *const suffixes[] = {".zst", ".lz4", ".xz", ".gz"};
		size_t len = strlen(base);
		for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
			size_t k = strlen(suffixes[i]);
			if (len > k && strcmp(base + len - k, suffixes[i]) == 0) {
				len -= k;
				break;
			}
		}
		if (!*base || asprintf(&c->default_output, "%.*s.tar.zst", (int)len, base) < 0) {
			c->default_output = NULL;
			return cli_usage("cannot name a bundle after '%s'; use -o",
			                 c->pack.core_path);
		}
		c->pack.output = c->default_output;
	}
	enum cp_compression comp;
	int min, max;
	if (output_format(c->pack.output, &comp) != 0)
		return EXIT_USAGE;
	if (!c->pack.bundle.level_set)
		return EXIT_OK;
	if (cp_compression_levels(comp, &min, &max) < 0)
		return cli_usage("'%s' is not compressed: --level does not apply", c->pack.output);
	if (c->pack.bundle.level < min || c->pack.bundle.level > max)
		return cli_usage("invalid compression level %d for %s (%d-%d)",
		                 c->pack.bundle.level, cp_compression_name(comp), min, max);
	return EXIT_OK;
}

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
	int rc = parse_args(argc, argv, &c);
	if (rc == EXIT_OK)
		rc = check_usage(&c);
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
