// SPDX-License-Identifier: GPL-2.0
/* dmabufctl cgroup show|set|enable */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dmabufctl.h"

static const char show_usage[] = "dmabufctl cgroup show [CGROUP | --pid PID] [-r]";
static const char set_usage[] = "dmabufctl cgroup set CGROUP POOL SIZE|max [POOL SIZE|max]...";
static const char enable_usage[] = "dmabufctl cgroup enable CGROUP [--subtree]";

static const char help[] =
"usage: dmabufctl cgroup show [CGROUP | --pid PID] [-r]\n"
"       dmabufctl cgroup set CGROUP POOL SIZE|max [POOL SIZE|max]...\n"
"       dmabufctl cgroup enable CGROUP [--subtree]\n"
"\n"
"show: per pool, the cgroup's current and peak pinned memory, its limit\n"
"  (max), the refusals by its or its descendants' limits (events, and\n"
"  events.local in JSON), live pins and refused pins (stat). The root cgroup\n"
"  has current only. -r, --recursive: the whole subtree, as a tree.\n"
"  --pid PID: the cgroup of a process. Default: the caller's own cgroup.\n"
"set: writes the limits in one write (all or nothing). SIZE: bytes, or with\n"
"  K, M, G, T (powers of 1024, fractions allowed: 1.5G), or max. POOL: a\n"
"  pool name or its device (/dev/udmabuf, /dev/dma_heap/system).\n"
"enable: enables dmabuf in cgroup.subtree_control of every ancestor of\n"
"  CGROUP, from the root down, so that CGROUP has the dmabuf files;\n"
"  --subtree: in CGROUP's own too, for its children.\n";

/* show */

static void show_one(const char *cg, int depth, struct cg_stats *st, bool enabled)
{
	char b[4][32];
	int i;

	if (opt.json) {
		j_obj(NULL);
		j_str("cgroup", cg_show(cg));
		j_int("depth", depth);
		j_bool("enabled", enabled);
		j_arr("pools");
		for (i = 0; enabled && i < st->n; i++) {
			struct pool_stat *p = &st->p[i];

			j_obj(NULL);
			j_str("pool", p->name);
			j_u64("current", p->current);
			if (*cg) {
				j_u64("peak", p->peak);
				j_limit("max", p->max);
				j_u64("events", p->events);
				j_u64("events_local", p->events_local);
				j_u64("pins", p->pins);
				j_u64("refused", p->refused);
			}
			j_end();
		}
		j_end();
		j_end();
		return;
	}
	fprintf(out, "%*s%s%s\n", 2 * depth, "", cg_show(cg), enabled ? "" : "  (dmabuf not enabled)");
	for (i = 0; enabled && i < st->n; i++) {
		struct pool_stat *p = &st->p[i];
		int w = 24 - 2 * depth;

		if (!*cg) {
			fprintf(out, "%*s%-*s %9s %9s %9s %7s %6s %7s\n", 2 * depth + 2, "", w, p->name,
				size_str(p->current, opt.bytes, b[0], 32), "-", "-", "-", "-", "-");
			continue;
		}
		fprintf(out, "%*s%-*s %9s %9s %9s %7llu %6llu %7llu\n", 2 * depth + 2, "", w, p->name,
			size_str(p->current, opt.bytes, b[0], 32),
			size_str(p->peak, opt.bytes, b[1], 32),
			size_str(p->max, opt.bytes, b[2], 32),
			(unsigned long long)p->events, (unsigned long long)p->pins,
			(unsigned long long)p->refused);
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The subtree below CG, depth first, children in name order. */
static void show_tree(char *cg, size_t len, int depth)
{
	char path[4096], **names = NULL;
	struct cg_stats st;
	struct dirent *d;
	size_t n = 0, cap = 0, i;
	DIR *dir;

	cgfs_path(cg, NULL, path, sizeof(path));
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		struct stat sb;

		if (d->d_name[0] == '.')
			continue;
		if (d->d_type == DT_UNKNOWN ? fstatat(dirfd(dir), d->d_name, &sb, 0) ||
		    !S_ISDIR(sb.st_mode) : d->d_type != DT_DIR)
			continue;
		if (n == cap) {
			char **more = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof(*names));

			if (!more)
				break;
			names = more;
		}
		if ((names[n] = strdup(d->d_name)))
			n++;
	}
	closedir(dir);
	if (names)
		qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		size_t l = len + (len ? 1 : 0) + strlen(names[i]);

		if (l < CG_MAX) {
			snprintf(cg + len, CG_MAX - len, "%s%s", len ? "/" : "", names[i]);
			show_one(cg, depth, &st, !cgfs_stats_walk(cg, &st, opt.json));
			show_tree(cg, l, depth + 1);
			cg[len] = '\0';
		}
		free(names[i]);
	}
	free(names);
}

static int show(int argc, char **argv)
{
	const char *arg = NULL, *pid = NULL;
	bool recursive = false;
	char cg[CG_MAX];
	struct cg_stats st;
	int i, r;

	for (i = 0; i < argc; i++) {
		if (global_opt(argv[i]))
			continue;
		if (!strcmp(argv[i], "-r") || !strcmp(argv[i], "--recursive"))
			recursive = true;
		else if (!strcmp(argv[i], "--pid") && i + 1 < argc)
			pid = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error(show_usage, "unknown option '%s'", argv[i]);
		else if (arg)
			return usage_error(show_usage, "one CGROUP only, not '%s' too", argv[i]);
		else
			arg = argv[i];
	}
	if (pid && arg)
		return usage_error(show_usage, "a CGROUP or --pid, not both");
	r = cgfs_init(cgroup_root_opt);
	if (r)
		return r;
	if (pid) {
		char *end;
		long v = strtol(pid, &end, 10);

		if (*end || v <= 0)
			return usage_error(show_usage, "bad PID '%s'", pid);
		r = cgfs_pid_cgroup((pid_t)v, cg, sizeof(cg));
		if (!r)
			r = cgfs_resolve(cg_show(cg), cg, sizeof(cg));
	} else {
		r = cgfs_resolve(arg, cg, sizeof(cg));
	}
	if (r)
		return r;
	r = cgfs_check_dmabuf(cg);
	if (r)
		return r;
	r = cgfs_stats(cg, &st, true);
	if (r)
		return fail(EXIT_SYS, NULL, "cannot read the dmabuf files of %s/%s: %s",
			    cgfs_root(), cg, strerror(-r));
	if (opt.json) {
		j_obj(NULL);
		j_arr("cgroups");
	} else {
		fprintf(out, "%-26s %9s %9s %9s %7s %6s %7s\n", "CGROUP / POOL", "CURRENT", "PEAK", "MAX",
			"EVENTS", "PINS", "REFUSED");
	}
	show_one(cg, 0, &st, true);
	if (recursive)
		show_tree(cg, strlen(cg), 1);
	if (opt.json) {
		j_end();
		j_end();
	}
	return 0;
}

/* set */

static int set(int argc, char **argv)
{
	char cg[CG_MAX], lines[4096], pool[POOL_NAME_MAX], parent[CG_MAX], *slash;
	const char *args[2 * MAX_POOLS];
	size_t len = 0;
	int i, n = 0, r;
	uint64_t v;

	for (i = 0; i < argc; i++) {
		if (global_opt(argv[i]))
			continue;
		if (argv[i][0] == '-' && argv[i][1] && strcmp(argv[i], "-"))
			return usage_error(set_usage, "unknown option '%s'", argv[i]);
		if (n == 2 * MAX_POOLS)
			return usage_error(set_usage, "too many arguments");
		args[n++] = argv[i];
	}
	if (n < 3 || !(n & 1))
		return usage_error(set_usage, n < 3 ? "CGROUP, POOL and SIZE needed" :
				   "a POOL without a SIZE");
	for (i = 1; i < n; i += 2) {
		if (pool_from_arg(args[i], pool, sizeof(pool)))
			return fail(EXIT_USAGE, "give a pool name (see `dmabufctl pool`), /dev/udmabuf or /dev/dma_heap/NAME",
				    "bad pool '%s'", args[i]);
		if (size_parse(args[i + 1], &v))
			return fail(EXIT_USAGE, "give bytes, or a size like 512M, 4G, 1.5G (K, M, G, T: powers of 1024), or max",
				    "bad size '%s'", args[i + 1]);
		len += snprintf(lines + len, sizeof(lines) - len, v == UNLIMITED ? "%s max\n" : "%s %llu\n",
				pool, (unsigned long long)v);
		if (len >= sizeof(lines))
			return usage_error(set_usage, "too many arguments");
	}
	r = cgfs_init(cgroup_root_opt);
	if (!r)
		r = cgfs_resolve(args[0], cg, sizeof(cg));
	if (r)
		return r;
	if (!*cg)
		return fail(EXIT_USAGE, "set limits on a child cgroup", "the root cgroup has no limits");
	for (i = 1; i < n; i += 2) {
		pool_from_arg(args[i], pool, sizeof(pool));
		r = cgfs_check_pool(pool);
		if (r)
			return r;
	}
	r = cgfs_check_dmabuf(cg);
	if (r)
		return r;
	r = cgfs_write(cg, "dmabuf.pinned.max", lines);
	snprintf(parent, sizeof(parent), "%s", cg);
	slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	else
		parent[0] = '\0';
	switch (-r) {
	case 0:
		break;
	case EACCES: case EPERM:
		return fail(EXIT_SYS, fixf("limits of a cgroup are set from its parent: run as the owner of %s/%s, or as root",
					   cgfs_root(), parent),
			    "permission denied writing %s/%s/dmabuf.pinned.max", cgfs_root(), cg);
	case ENODEV:
		return fail(EXIT_SYS, "see `dmabufctl pool` for the pools there are",
			    "no such pool (the kernel refused the write with ENODEV); nothing was changed");
	case EINVAL:
		return fail(EXIT_SYS, NULL, "the kernel refused '%.*s' (EINVAL); nothing was changed",
			    (int)strcspn(lines, "\n"), lines);
	default:
		return fail(EXIT_SYS, NULL, "cannot write %s/%s/dmabuf.pinned.max: %s",
			    cgfs_root(), cg, strerror(-r));
	}
	if (opt.json) {
		struct cg_stats st;

		if (cgfs_stats(cg, &st, false))
			st.n = 0;
		j_obj(NULL);
		j_str("cgroup", cg_show(cg));
		j_arr("pools");
		for (i = 0; i < st.n; i++) {
			if (!(st.p[i].have & HAVE_MAX))
				continue;
			j_obj(NULL);
			j_str("pool", st.p[i].name);
			j_limit("max", st.p[i].max);
			j_end();
		}
		j_end();
		j_end();
	}
	return 0;
}

/* enable */

static void enabled_in(const char *cg)
{
	char path[4096];

	cgfs_path(cg, "cgroup.subtree_control", path, sizeof(path));
	if (opt.json)
		j_str(NULL, cg_show(cg));
	else
		fprintf(out, "enabled dmabuf in %s\n", path);
}

static int enable(int argc, char **argv)
{
	const char *arg = NULL;
	bool subtree = false;
	char cg[CG_MAX];
	int i, r;

	for (i = 0; i < argc; i++) {
		if (global_opt(argv[i]))
			continue;
		if (!strcmp(argv[i], "-s") || !strcmp(argv[i], "--subtree"))
			subtree = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error(enable_usage, "unknown option '%s'", argv[i]);
		else if (arg)
			return usage_error(enable_usage, "one CGROUP only, not '%s' too", argv[i]);
		else
			arg = argv[i];
	}
	if (!arg)
		return usage_error(enable_usage, "which CGROUP?");
	r = cgfs_init(cgroup_root_opt);
	if (!r)
		r = cgfs_resolve(arg, cg, sizeof(cg));
	if (r)
		return r;
	if (opt.json) {
		j_obj(NULL);
		j_str("cgroup", cg_show(cg));
		j_arr("enabled_in");
	}
	r = cgfs_enable(cg, subtree, false, enabled_in);
	if (opt.json) {
		j_end();
		j_end();
	}
	return r;
}

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "show", show },
	{ "list", show },
	{ "set", set },
	{ "enable", enable },
};

int cmd_cgroup(int argc, char **argv)
{
	size_t i;
	int a;

	for (a = 0; a < argc; a++)
		if (help_opt(argv[a])) {
			fputs(help, stdout);
			return 0;
		}
	for (a = 0; a < argc && global_opt(argv[a]); a++)
		;
	if (a == argc || argv[a][0] == '-')
		return show(argc - a, argv + a);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (matches(argv[a], commands[i].name))
			return commands[i].fn(argc - a - 1, argv + a + 1);
	if (strchr(argv[a], '/'))	/* a path: show it */
		return show(argc - a, argv + a);
	return fail(EXIT_USAGE, fixf("commands: show, set, enable; a cgroup of that name: `dmabufctl cgroup show %s`",
				     argv[a]), "unknown command 'cgroup %s'", argv[a]);
}
