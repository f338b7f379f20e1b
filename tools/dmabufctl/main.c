// SPDX-License-Identifier: GPL-2.0
/*
 * dmabufctl: the admin tool of the dmabuf cgroup controller.
 *
 *   dmabufctl [OPTIONS] OBJECT [COMMAND [ARGS]]
 *
 * Shaped like iproute2: objects and commands may be abbreviated to any
 * prefix (the first in the table wins: `c s` is `cgroup show`), and `show`
 * is the default command.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dmabufctl.h"

#define VERSION "1.0"

const char *cgroup_root_opt;

static const char usage_text[] =
"usage: dmabufctl [OPTIONS] OBJECT [COMMAND [ARGS]]\n"
"\n"
"objects and commands (any prefix will do):\n"
"  pool [show]                                 pools: capacity, pinned, live pins\n"
"  pins [--cgroup CG] [--pool POOL] [--pid PID] who holds what: each pin held\n"
"  cgroup show [CGROUP | --pid PID] [-r]       per pool: current, peak, max, events\n"
"  cgroup set CGROUP POOL SIZE|max [POOL SIZE]...   set limits (dmabuf.pinned.max)\n"
"  cgroup enable CGROUP [--subtree]            enable dmabuf on every ancestor\n"
"  watch [CGROUP] [-n N]                       print refusals as they happen\n"
"  run [-l POOL=SIZE]... [--parent CGROUP] -- COMMAND [ARGS]\n"
"                                              run COMMAND in a limited cgroup\n"
"\n"
"options:\n"
"  -b, --bytes             sizes in bytes (default: IEC units, 8MiB)\n"
"  -j, --json              JSON output (errors too)\n"
"  -p, --pretty            pretty JSON (implies -j)\n"
"      --cgroup-root DIR   the cgroup2 tree (default: the mount of dmabuf;\n"
"                          also $DMABUFCTL_CGROUP_ROOT)\n"
"  -h, --help              this text; `dmabufctl OBJECT [COMMAND] --help` for more\n"
"  -V, --version\n"
"\n"
"CGROUP: relative to the cgroup2 mount (a/b), absolute (/sys/fs/cgroup/a/b\n"
"or /a/b); the default is the caller's own cgroup. POOL: a pool name or its\n"
"device (/dev/udmabuf, /dev/dma_heap/system). SIZE: bytes or 512M, 1.5G, 4GiB.\n"
"Exit status: 0 ok, 1 usage error, 2 the system refused; run: the command's.\n";

bool matches(const char *arg, const char *word)
{
	size_t n = strlen(arg);

	return n && n <= strlen(word) && !strncmp(arg, word, n);
}

/* -b, -j, -p: before the object, or anywhere among a command's options. */
int global_opt(const char *a)
{
	bool json = opt.json;

	if (!strcmp(a, "-b") || !strcmp(a, "--bytes"))
		opt.bytes = true;
	else if (!strcmp(a, "-j") || !strcmp(a, "--json"))
		opt.json = true;
	else if (!strcmp(a, "-p") || !strcmp(a, "--pretty"))
		opt.json = opt.pretty = true;
	else
		return 0;
	if (opt.json && !json && out)
		out_begin();	/* buffer the document from now on */
	return 1;
}

bool help_opt(const char *a)
{
	return !strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "help");
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

static const struct object {
	const char *name;
	int (*fn)(int argc, char **argv);
} objects[] = {
	{ "pool", cmd_pool },
	{ "pins", cmd_pins },
	{ "cgroup", cmd_cgroup },
	{ "watch", cmd_watch },
	{ "run", cmd_run },
	{ "help", cmd_help },
};

int main(int argc, char **argv)
{
	const char *usage = "dmabufctl [OPTIONS] OBJECT [COMMAND [ARGS]]";
	size_t i;
	int a = 1;

	for (; a < argc && argv[a][0] == '-' && argv[a][1]; a++) {
		if (global_opt(argv[a]))
			continue;
		if (!strcmp(argv[a], "--cgroup-root") && a + 1 < argc)
			cgroup_root_opt = argv[++a];
		else if (!strncmp(argv[a], "--cgroup-root=", 14))
			cgroup_root_opt = argv[a] + 14;
		else if (help_opt(argv[a]))
			return cmd_help(0, NULL);
		else if (!strcmp(argv[a], "-V") || !strcmp(argv[a], "--version")) {
			printf("dmabufctl %s\n", VERSION);
			return 0;
		} else {
			out_begin();
			return out_end(usage_error(usage, "unknown option '%s'", argv[a]));
		}
	}
	out_begin();
	if (a == argc)
		return out_end(fail(EXIT_USAGE, "see `dmabufctl --help`", "no object given"));
	for (i = 0; i < sizeof(objects) / sizeof(objects[0]); i++)
		if (matches(argv[a], objects[i].name))
			return out_end(objects[i].fn(argc - a - 1, argv + a + 1));
	return out_end(fail(EXIT_USAGE, "objects: pool, pins, cgroup, watch, run; see `dmabufctl --help`",
			    "unknown object '%s'", argv[a]));
}
