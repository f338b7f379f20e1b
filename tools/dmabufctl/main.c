// SPDX-License-Identifier: GPL-2.0
/*
 * dmabufctl: the admin tool of the dmabuf cgroup controller.
 *
 *   dmabufctl [OPTIONS] [COMMAND [ARGS]]
 *
 * Commands are exact words (no abbreviations: a prefix that means one
 * command today would mean another once a command is added); `show`, the
 * whole tree, is the default. Options are parsed with getopt_long, global
 * ones (-b, -j, -p) accepted before the command or among its own options.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dmabufctl.h"

#define VERSION "2.0"

const char *cgroup_root_opt;
const char *debugfs_root_opt;

static const char usage_text[] =
"usage: dmabufctl [OPTIONS] [COMMAND [ARGS]]\n"
"\n"
"commands:\n"
"  show [CGROUP | --pid PID] [-a] [-d N]   the cgroup tree (default: all of it):\n"
"                                          per pool current, peak, max, events\n"
"  pool                                    pools: capacity, pinned, live pins\n"
"  pins [--cgroup CG] [--pool P] [--pid PID]   who holds what: each pin held\n"
"  top [-d SECONDS] [-n N]                 cgroups by pinned bytes, refreshed\n"
"  watch [CGROUP | /] [-n N]               refusals as they happen\n"
"  set CGROUP POOL SIZE|max [POOL SIZE]... set limits (dmabuf.pinned.max)\n"
"  enable CGROUP [--subtree]               enable dmabuf on every ancestor\n"
"  run [-l POOL=SIZE]... [--parent CGROUP] -- COMMAND [ARGS]\n"
"                                          run COMMAND in a limited cgroup\n"
"  export [--textfile FILE]                metrics for Prometheus\n"
"  cgroup show|set|enable ...              the same as show, set, enable\n"
"\n"
"options:\n"
"  -b, --bytes             sizes in bytes (default: IEC units, 8MiB)\n"
"  -j, --json              JSON output (errors too)\n"
"  -p, --pretty            pretty JSON (implies -j)\n"
"      --cgroup-root DIR   the cgroup2 tree (default: the mount of dmabuf;\n"
"                          also $DMABUFCTL_CGROUP_ROOT)\n"
"      --debugfs-root DIR  where debugfs is mounted (default\n"
"                          /sys/kernel/debug; also $DMABUFCTL_DEBUGFS)\n"
"      --systemd auto|yes|stock|no\n"
"                          whether systemd manages the cgroups (default: auto,\n"
"                          /run/systemd/system; also $DMABUFCTL_SYSTEMD); stock:\n"
"                          one that does not know dmabuf (auto asks systemctl)\n"
"  -h, --help              this text; `dmabufctl COMMAND --help` for more\n"
"  -V, --version\n"
"\n"
"CGROUP: relative to the cgroup2 mount (a/b), absolute (/sys/fs/cgroup/a/b\n"
"or /a/b). POOL: a pool name or its device (/dev/udmabuf,\n"
"/dev/dma_heap/system). SIZE: bytes or 512M, 1.5G, 4GiB, max.\n"
"Exit status: 0 ok, 1 usage error, 2 the system refused, 3 systemd owns the\n"
"cgroup; run: 125 its own failure, else see `dmabufctl run --help`.\n";

/* Global options after the command: getopt_long values above any char. */
enum { OPT_CGROUP_ROOT = 0x100, OPT_DEBUGFS_ROOT, OPT_SYSTEMD };

static const struct option global_long[] = {
	{ "bytes", no_argument, NULL, 'b' },
	{ "json", no_argument, NULL, 'j' },
	{ "pretty", no_argument, NULL, 'p' },
	{ "help", no_argument, NULL, 'h' },
};

#define N_GLOBAL	(sizeof(global_long) / sizeof(global_long[0]))

/* -b, -j, -p: before the command, or anywhere among a command's options. */
static void set_global(int c)
{
	bool json = opt.json;

	if (c == 'b')
		opt.bytes = true;
	else if (c == 'j')
		opt.json = true;
	else if (c == 'p')
		opt.json = opt.pretty = true;
	if (opt.json && !json && out)
		out_begin();	/* buffer the document from now on */
}

/*
 * getopt_long() takes any unambiguous prefix of a long option: as with
 * commands, a prefix that is fine today is ambiguous once an option is
 * added, so only whole names are taken. The option getopt_long() just
 * returned, as written: "--name", "--name=VALUE", or "--name" before its
 * VALUE in the next element.
 */
const char *long_opt_arg(char **argv)
{
	return optarg && optarg == argv[optind - 1] ? argv[optind - 2] : argv[optind - 1];
}

bool abbreviated(const char *arg, const char *name)
{
	size_t n;

	if (strncmp(arg, "--", 2))
		return false;	/* the short form */
	arg += 2;
	n = strcspn(arg, "=");
	return n != strlen(name) || strncmp(arg, name, n);
}

/* Older string-based parsers (run.c): 1 if @a was -b, -j or -p. */
int global_opt(const char *a)
{
	if (!strcmp(a, "-b") || !strcmp(a, "--bytes"))
		set_global('b');
	else if (!strcmp(a, "-j") || !strcmp(a, "--json"))
		set_global('j');
	else if (!strcmp(a, "-p") || !strcmp(a, "--pretty"))
		set_global('p');
	else
		return 0;
	return 1;
}

bool help_opt(const char *a)
{
	return !strcmp(a, "-h") || !strcmp(a, "--help");
}

int cmd_getopt(int argc, char **argv, const char *shortopts,
	       const struct option *longopts, const char *usage)
{
	static struct option all[64];
	static char optstring[128];
	static const struct option *merged_for;
	size_t n = 0, i;
	int c;

	if (merged_for != longopts || !optind) {
		/*
		 * ":": report missing values. Options may follow the arguments,
		 * unless shortopts starts with "+" (run: COMMAND's own options).
		 */
		if (*shortopts == '+')
			snprintf(optstring, sizeof(optstring), "+:%sbjph", shortopts + 1);
		else
			snprintf(optstring, sizeof(optstring), ":%sbjph", shortopts);
		for (; longopts && longopts[n].name && n < 64 - N_GLOBAL - 1; n++)
			all[n] = longopts[n];
		for (i = 0; i < N_GLOBAL; i++)
			all[n++] = global_long[i];
		memset(&all[n], 0, sizeof(all[n]));
		merged_for = longopts;
	}
	opterr = 0;
	for (;;) {
		int idx = -1;

		c = getopt_long(argc, argv, optstring, all, &idx);
		if (c != '?' && c != ':' && idx >= 0 && abbreviated(long_opt_arg(argv), all[idx].name)) {
			usage_error(usage, "unknown option '%s' (options are not abbreviated: --%s)",
				    long_opt_arg(argv), all[idx].name);
			return '?';
		}
		if (c == 'b' || c == 'j' || c == 'p') {
			set_global(c);
			continue;
		}
		if (c == '?') {
			if (optopt && optopt < 0x100)
				usage_error(usage, "unknown option '-%c'", optopt);
			else
				usage_error(usage, "unknown option '%s'", argv[optind - 1]);
			return '?';
		}
		if (c == ':') {
			usage_error(usage, "%s needs a value", argv[optind - 1]);
			return '?';
		}
		return c;
	}
}

/* A process id, as options take it: digits only, above 0. */
int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	if (*end || v <= 0 || v > 0x7fffffff)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

int usage_error(const char *usage, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(EXIT_USAGE, fixf("usage: %s", usage), "%s", msg);
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs(usage_text, stdout);
	return 0;
}

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "show", cmd_show },
	{ "pool", cmd_pool },
	{ "pins", cmd_pins },
	{ "top", cmd_top },
	{ "watch", cmd_watch },
	{ "set", cmd_set },
	{ "enable", cmd_enable },
	{ "run", cmd_run },
	{ "export", cmd_export },
	{ "cgroup", cmd_cgroup },
	{ "help", cmd_help },
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bytes", no_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT },
		{ "debugfs-root", required_argument, NULL, OPT_DEBUGFS_ROOT },
		{ "systemd", required_argument, NULL, OPT_SYSTEMD },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	const char *usage = "dmabufctl [OPTIONS] [COMMAND [ARGS]]";
	int c, idx = -1;
	size_t i;

	setlocale(LC_ALL, "");	/* libsmartcols: tree lines in UTF-8 when the locale is */
	out_begin();
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:bjphV", longopts, &idx)) != -1) {
		if (c != '?' && c != ':' && idx >= 0 && abbreviated(long_opt_arg(argv), longopts[idx].name))
			return out_end(usage_error(usage, "unknown option '%s' (options are not abbreviated: --%s)",
						   long_opt_arg(argv), longopts[idx].name));
		idx = -1;
		switch (c) {
		case 'b': case 'j': case 'p':
			set_global(c);
			break;
		case OPT_CGROUP_ROOT:
			cgroup_root_opt = optarg;
			break;
		case OPT_DEBUGFS_ROOT:
			debugfs_root_opt = optarg;
			break;
		case OPT_SYSTEMD:
			if (systemd_opt(optarg))
				return out_end(EXIT_USAGE);
			break;
		case 'h':
			return cmd_help(0, NULL);
		case 'V':
			printf("dmabufctl %s\n", VERSION);
			return 0;
		case ':':
			return out_end(usage_error(usage, "%s needs a value", argv[optind - 1]));
		default:
			if (optopt && optopt < 0x100)
				return out_end(usage_error(usage, "unknown option '-%c'", optopt));
			return out_end(usage_error(usage, "unknown option '%s'", argv[optind - 1]));
		}
	}
	argc -= optind;
	argv += optind;
	/* Each command parses its own options from optind 1: argv[0] is its name. */
	optind = 0;
	if (!argc) {
		static char *show_argv[] = { "show", NULL };

		return out_end(cmd_show(1, show_argv));
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[0], commands[i].name))
			return out_end(commands[i].fn(argc, argv));
	return out_end(fail(EXIT_USAGE,
			    "commands: show, pool, pins, top, watch, set, enable, run, export; see `dmabufctl --help`",
			    "unknown command '%s'", argv[0]));
}
