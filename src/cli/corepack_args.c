/*
 * corepack's command line: the usage text (--help), the options parsed
 * into struct cli (getopt_long), and the checks of what they ask for
 * (options that contradict each other, the bundle's format from its name,
 * the compression level) that end in exit 2 before anything is opened.
 * Front-end code: it prints usage messages.
 */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_util.h"
#include "corepack/core_input.h"
#include "corepack/pack.h"
#include "corepack_private.h"
#include "handler.h"

const char corepack_usage_text[] =
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
    "      --sync             wait until the bundle is on stable storage (fsync of\n"
    "                         the bundle and its directory; --handler always does)\n"
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

int corepack_parse_args(int argc, char **argv, struct cli *c)
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
		OPT_SYNC,
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
	    {"sync", no_argument, NULL, OPT_SYNC},
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
			/* The range depends on the format: see corepack_check_usage(). */
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
		case OPT_SYNC:
			c->pack.bundle.sync = 1;
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
			cli_puts_stdout(corepack_usage_text);
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
int corepack_check_usage(struct cli *c)
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
