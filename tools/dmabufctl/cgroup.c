// SPDX-License-Identifier: GPL-2.0
/* dmabufctl show, set, enable (and their old forms, cgroup show|set|enable) */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <strings.h>
#include <sys/stat.h>

#include <libsmartcols.h>

#include "dmabufctl.h"

static const char show_usage[] =
	"dmabufctl [show] [CGROUP | --pid PID] [-a] [-d N] [-o COLUMNS] [--raw] [-n]";
static const char set_usage[] = "dmabufctl set CGROUP POOL=SIZE|max... (or POOL SIZE|max...)";
static const char enable_usage[] = "dmabufctl enable CGROUP [--subtree]";

static const char show_help[] =
"usage: dmabufctl [show] [CGROUP | --pid PID] [-a] [-d N] [-o COLUMNS] [--raw] [-n]\n"
"\n"
"The cgroup tree from CGROUP (default: the root), drawn like systemd-cgls:\n"
"per cgroup and pool, the memory pinned (CURRENT), its high-water mark\n"
"(PEAK), the limit (MAX), the refusals by its or its descendants' limits\n"
"(EVENTS), the live pins and the refused pins (PINS, REFUSED, from\n"
"dmabuf.pinned.stat). The root cgroup has CURRENT only. Cgroups with\n"
"nothing pinned, no limit and no refusal, and nothing of the kind below\n"
"them (at any depth), are left out unless -a; CGROUP itself is always shown.\n"
"\n"
"  --pid PID          from the cgroup of process PID\n"
"  -a, --all          every cgroup, also idle ones and those without dmabuf\n"
"  -d, --depth N      N levels below CGROUP at most (0: CGROUP alone)\n"
"  -o, --output LIST  columns, comma-separated: CGROUP, POOL, CURRENT, PEAK,\n"
"                     MAX, EVENTS, PINS, REFUSED (default: all of them)\n"
"      --raw          a line per cgroup and pool, full paths, no tree, no\n"
"                     alignment (for scripts; see also -j)\n"
"  -n, --noheadings   no header line\n"
"\n"
"`dmabufctl cgroup show [CGROUP] [-r]` is the form of earlier versions: the\n"
"caller's own cgroup by default, and its subtree only with -r.\n";

static const char set_help[] =
"usage: dmabufctl set CGROUP POOL=SIZE|max [POOL=SIZE|max]...\n"
"       dmabufctl set CGROUP POOL SIZE|max [POOL SIZE|max]...\n"
"\n"
"Writes the limits to CGROUP's dmabuf.pinned.max in one write (all or\n"
"nothing). SIZE: bytes, or with K, M, G, T (powers of 1024, fractions\n"
"allowed: 1.5G), or max. POOL: a pool name or its device (/dev/udmabuf,\n"
"/dev/dma_heap/system).\n";

static const char enable_help[] =
"usage: dmabufctl enable CGROUP [--subtree]\n"
"\n"
"Enables dmabuf in cgroup.subtree_control of every ancestor of CGROUP, from\n"
"the root down, so that CGROUP has the dmabuf files; -s, --subtree: in\n"
"CGROUP's own too, for its children.\n";

/* show */

enum { C_CGROUP, C_POOL, C_CURRENT, C_PEAK, C_MAX, C_EVENTS, C_PINS, C_REFUSED, C_N };

static const char *const col_name[C_N] = {
	"CGROUP", "POOL", "CURRENT", "PEAK", "MAX", "EVENTS", "PINS", "REFUSED",
};

/* A cgroup of the walk, in depth-first order. */
struct node {
	char *cg;
	int depth, parent;
	bool enabled, visible;
	int npools;
	struct pool_stat *pools;
};

struct tree {
	struct node *v;
	size_t n, cap;
	int max_depth;		/* -d (shown, not walked); -1: no limit */
};

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool active(const struct node *nd)
{
	int i;

	for (i = 0; i < nd->npools; i++) {
		const struct pool_stat *p = &nd->pools[i];

		if (p->current || p->peak || p->events || p->refused ||
		    ((p->have & HAVE_MAX) && p->max != UNLIMITED))
			return true;
	}
	return false;
}

static int add_node(struct tree *t, const char *cg, int depth, int parent)
{
	static struct cg_stats st;
	struct node *nd;
	int r;

	if (t->n == t->cap) {
		struct node *more = realloc(t->v, (t->cap = t->cap ? 2 * t->cap : 64) * sizeof(*more));

		if (!more)
			return -ENOMEM;
		t->v = more;
	}
	nd = &t->v[t->n];
	memset(nd, 0, sizeof(*nd));
	nd->cg = strdup(cg);
	if (!nd->cg)
		return -ENOMEM;
	t->n++;		/* freed by tree_free() from now on */
	nd->depth = depth;
	nd->parent = parent;
	r = cgfs_stats_walk(cg, &st, opt.json);
	nd->enabled = !r;
	if (r && r != -ENOENT)	/* not "not enabled": say it */
		note("cannot read the dmabuf files of %s: %s", cg_show(cg), strerror(-r));
	if (nd->enabled && st.n) {
		nd->pools = malloc(st.n * sizeof(*nd->pools));
		if (!nd->pools)
			return -ENOMEM;
		memcpy(nd->pools, st.p, st.n * sizeof(*nd->pools));
		nd->npools = st.n;
	}
	return 0;
}

/* CG's subtree below it, depth first, children in name order. */
static int walk(struct tree *t, char *cg, size_t len, int depth, int parent)
{
	char path[4096], **names = NULL;
	struct dirent *d;
	size_t n = 0, cap = 0, i;
	int r = 0;
	DIR *dir;

	cgfs_path(cg, NULL, path, sizeof(path));
	dir = opendir(path);
	if (!dir)
		return 0;	/* removed meanwhile */
	while ((d = readdir(dir))) {
		struct stat sb;

		if (d->d_name[0] == '.')
			continue;
		if (d->d_type == DT_UNKNOWN ? fstatat(dirfd(dir), d->d_name, &sb, 0) ||
		    !S_ISDIR(sb.st_mode) : d->d_type != DT_DIR)
			continue;
		if (n == cap) {
			char **more = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof(*names));

			if (!more) {
				r = -ENOMEM;
				break;
			}
			names = more;
		}
		names[n] = strdup(d->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(dir);
	if (names)
		qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		size_t l = len + (len ? 1 : 0) + strlen(names[i]);

		if (!r && l >= CG_MAX)
			r = -ENAMETOOLONG;
		if (!r) {
			snprintf(cg + len, CG_MAX - len, "%s%s", len ? "/" : "", names[i]);
			r = add_node(t, cg, depth, parent);
			if (!r)
				r = walk(t, cg, l, depth + 1, (int)t->n - 1);
			cg[len] = '\0';
		}
		free(names[i]);
	}
	free(names);
	return r;
}

static void tree_free(struct tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].cg);
		free(t->v[i].pools);
	}
	free(t->v);
}

/* The text of column C for pool P of cgroup CG. */
static const char *cell(int c, const char *cg, const struct pool_stat *p, char *b, size_t n)
{
	if (c == C_POOL)
		return p->name;
	if (c == C_CURRENT)
		return size_str(p->current, opt.bytes, b, n);
	if (!*cg)
		return "-";	/* the root: current only */
	switch (c) {
	case C_PEAK: return size_str(p->peak, opt.bytes, b, n);
	case C_MAX: return size_str(p->max, opt.bytes, b, n);
	case C_EVENTS: snprintf(b, n, "%llu", (unsigned long long)p->events); return b;
	case C_PINS: snprintf(b, n, "%llu", (unsigned long long)p->pins); return b;
	case C_REFUSED: snprintf(b, n, "%llu", (unsigned long long)p->refused); return b;
	}
	return "";
}

static int parse_columns(const char *list, int *cols, int *ncols)
{
	char *copy = strdup(list), *tok, *save = NULL;
	int c;

	if (!copy)
		return -1;
	*ncols = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (c = 0; c < C_N && strcasecmp(tok, col_name[c]); c++)
			;
		if (c == C_N || *ncols == C_N) {
			free(copy);
			return -1;
		}
		cols[(*ncols)++] = c;
	}
	free(copy);
	return *ncols ? 0 : -1;
}

static void show_json(struct tree *t)
{
	size_t i;
	int k;

	j_obj(NULL);
	j_arr("cgroups");
	for (i = 0; i < t->n; i++) {
		struct node *nd = &t->v[i];

		if (!nd->visible)
			continue;
		j_obj(NULL);
		j_str("cgroup", cg_show(nd->cg));
		j_int("depth", nd->depth);
		j_bool("enabled", nd->enabled);
		j_arr("pools");
		for (k = 0; k < nd->npools; k++) {
			struct pool_stat *p = &nd->pools[k];

			j_obj(NULL);
			j_str("pool", p->name);
			j_u64("current", p->current);
			if (*nd->cg) {
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
	}
	j_end();
	j_end();
}

/*
 * The table: with the tree, a line per cgroup whose pools are lines of its
 * cells (libsmartcols wraps a cell at its newlines), the numbers padded to
 * their column's width (a cell aligns only its first line); raw, a line per
 * cgroup and pool.
 */
static int show_table(struct tree *t, const int *cols, int ncols, bool raw, bool noheadings)
{
	struct libscols_line **lines = calloc(t->n, sizeof(*lines));
	struct libscols_table *tb = scols_new_table();
	int width[C_N] = { 0 }, i, k, r = 0;
	char b[32], *text, *buf = NULL;
	size_t j, len, buf_size = 0;

	if (!tb || !lines) {
		free(lines);
		scols_unref_table(tb);
		return fail(EXIT_SYS, NULL, "out of memory");
	}
	scols_table_enable_raw(tb, raw);
	scols_table_enable_noheadings(tb, noheadings);
	for (j = 0; j < t->n; j++)
		for (k = 0; t->v[j].visible && k < t->v[j].npools; k++)
			for (i = C_CURRENT; i < C_N; i++) {
				int w = strlen(cell(i, t->v[j].cg, &t->v[j].pools[k], b, sizeof(b)));

				if (w > width[i])
					width[i] = w;
			}
	for (i = C_CURRENT; i < C_N; i++)
		if (width[i] < (int)strlen(col_name[i]))
			width[i] = strlen(col_name[i]);
	for (i = 0; i < ncols; i++) {
		int c = cols[i], fl = 0;
		struct libscols_column *cl;

		if (c == C_CGROUP && !raw)
			fl = SCOLS_FL_TREE | SCOLS_FL_NOEXTREMES;
		else if (c >= C_CURRENT)
			fl = SCOLS_FL_RIGHT;
		if (c != C_CGROUP && !raw)
			fl |= SCOLS_FL_WRAP;
		cl = scols_table_new_column(tb, col_name[c], 0, fl);
		if (!cl) {
			r = -ENOMEM;
			break;
		}
		if (fl & SCOLS_FL_WRAP) {
			scols_column_set_wrapfunc(cl, scols_wrapnl_chunksize, scols_wrapnl_nextchunk, NULL);
			scols_column_set_safechars(cl, "\n");
		}
	}
	for (j = 0; !r && j < t->n; j++) {
		struct node *nd = &t->v[j];
		struct libscols_line *parent = NULL;
		int rows = raw ? (nd->npools ? nd->npools : 1) : 1;

		if (!nd->visible)
			continue;
		if (!raw && nd->parent >= 0)
			parent = lines[nd->parent];
		for (k = 0; k < rows; k++) {
			struct libscols_line *ln = scols_table_new_line(tb, parent);

			if (!ln) {
				r = -ENOMEM;
				break;
			}
			lines[j] = ln;
			for (i = 0; i < ncols; i++) {
				int c = cols[i], p, first, last;
				size_t used;

				if (c == C_CGROUP) {
					const char *name = strrchr(nd->cg, '/');

					scols_line_set_data(ln, i, raw || nd->parent < 0 ? cg_show(nd->cg) :
							    name ? name + 1 : nd->cg);
					continue;
				}
				if (!nd->enabled) {
					if (c == C_POOL)
						scols_line_set_data(ln, i, "(dmabuf not enabled)");
					continue;
				}
				/*
				 * The pools' values, a line each (raw: pool k's),
				 * built in buf and copied at their size: a big
				 * tree holds 10,000s of these.
				 */
				first = raw ? k : 0;
				last = raw ? k + 1 : nd->npools;
				len = 1 + (size_t)(last - first) * (POOL_NAME_MAX + 34);
				if (len > buf_size) {
					char *more = realloc(buf, len);

					if (!more) {
						r = -ENOMEM;
						break;
					}
					buf = more;
					buf_size = len;
				}
				buf[0] = '\0';
				for (p = first, used = 0; p < last; p++)
					used += snprintf(buf + used, len - used, "%s%*s", p > first ? "\n" : "",
							 raw || c == C_POOL ? 0 : width[c],
							 cell(c, nd->cg, &nd->pools[p], b, sizeof(b)));
				if (scols_line_set_data(ln, i, buf)) {
					r = -ENOMEM;
					break;
				}
			}
		}
	}
	if (!r && scols_print_table_to_string(tb, &text) == 0) {
		fprintf(out, "%s\n", text);
		free(text);
	} else if (!r) {
		r = -ENOMEM;
	}
	scols_unref_table(tb);
	free(lines);
	free(buf);
	return r ? fail(EXIT_SYS, NULL, "cannot draw the table: %s", strerror(-r)) : 0;
}

/*
 * show: legacy is `cgroup show` of earlier versions (the caller's cgroup by
 * default; its subtree only with -r).
 */
static int show(int argc, char **argv, bool legacy)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'P' },
		{ "all", no_argument, NULL, 'a' },
		{ "depth", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "raw", no_argument, NULL, 'R' },
		{ "recursive", no_argument, NULL, 'r' },
		{ "noheadings", no_argument, NULL, 'n' },
		{}
	};
	const char *arg = NULL, *pid_arg = NULL;
	bool all = false, raw = false, noheadings = false, recursive = false;
	int cols[C_N] = { C_CGROUP, C_POOL, C_CURRENT, C_PEAK, C_MAX, C_EVENTS, C_PINS, C_REFUSED };
	int ncols = C_N, c, r;
	struct tree t = { .max_depth = -1 };
	char cg[CG_MAX], *end;
	size_t i;
	pid_t pid;

	while ((c = cmd_getopt(argc, argv, "ad:o:rn", longopts, show_usage)) != -1) {
		switch (c) {
		case 'P': pid_arg = optarg; break;
		case 'a': all = true; break;
		case 'd':
			t.max_depth = strtol(optarg, &end, 10);
			if (*end || !*optarg || t.max_depth < 0)
				return usage_error(show_usage, "bad depth '%s'", optarg);
			break;
		case 'o':
			if (parse_columns(optarg, cols, &ncols))
				return usage_error(show_usage,
						   "bad column list '%s' (columns: CGROUP, POOL, CURRENT, PEAK, MAX, EVENTS, PINS, REFUSED)",
						   optarg);
			break;
		case 'R': raw = true; break;
		case 'r': recursive = true; break;	/* the tree is the default */
		case 'n': noheadings = true; break;
		case 'h': fputs(show_help, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		arg = argv[optind++];
	if (optind < argc)
		return usage_error(show_usage, "one CGROUP only, not '%s' too", argv[optind]);
	if (pid_arg && arg)
		return usage_error(show_usage, "a CGROUP or --pid, not both");
	if (legacy && !recursive)
		t.max_depth = 0;
	r = cgfs_init(cgroup_root_opt);
	if (r)
		return r;
	if (pid_arg) {
		if (parse_pid(pid_arg, &pid))
			return usage_error(show_usage, "bad PID '%s'", pid_arg);
		r = cgfs_pid_cgroup(pid, cg, sizeof(cg));
		if (!r)
			r = cgfs_resolve(cg_show(cg), cg, sizeof(cg));
	} else {
		r = cgfs_resolve(arg ? arg : legacy ? NULL : "/", cg, sizeof(cg));
	}
	if (r)
		return r;
	r = cgfs_check_dmabuf(cg);
	if (r)
		return r;
	r = add_node(&t, cg, 0, -1);
	if (r) {
		tree_free(&t);
		return fail(EXIT_SYS, NULL, "cannot read the dmabuf files of %s/%s: %s",
			    cgfs_root(), cg, strerror(-r));
	}
	if (!t.v[0].enabled) {
		tree_free(&t);
		return fail(EXIT_SYS, NULL, "cannot read the dmabuf files of %s/%s", cgfs_root(), cg);
	}
	r = walk(&t, cg, strlen(cg), 1, 0);
	if (r) {
		tree_free(&t);
		return fail(EXIT_SYS, NULL, "cannot walk the tree below %s: %s", cg_show(cg), strerror(-r));
	}
	/* Visible: the top, with -a all, else the active and their ancestors. */
	for (i = t.n; i-- > 0;) {
		struct node *nd = &t.v[i];

		if (!nd->visible)
			nd->visible = !i || all || (nd->enabled && active(nd));
		if (nd->visible && nd->parent >= 0)
			t.v[nd->parent].visible = true;
	}
	/* -d: what is active deeper still shows in its ancestors above. */
	for (i = 0; t.max_depth >= 0 && i < t.n; i++)
		if (t.v[i].depth > t.max_depth)
			t.v[i].visible = false;
	if (opt.json)
		show_json(&t);
	else
		r = show_table(&t, cols, ncols, raw, noheadings);
	tree_free(&t);
	return r;
}

int cmd_show(int argc, char **argv)
{
	return show(argc, argv, false);
}

/* set */

int cmd_set(int argc, char **argv)
{
	char cg[CG_MAX], lines[4096], pool[POOL_NAME_MAX], parent[CG_MAX], *slash;
	const char *args[1 + 2 * 256];
	size_t len = 0;
	int i, n, r, c;
	uint64_t v;

	/* Options before CGROUP only ("+"): a limit is never taken for one. */
	while ((c = cmd_getopt(argc, argv, "+", NULL, set_usage)) != -1) {
		if (c == 'h') {
			fputs(set_help, stdout);
			return 0;
		}
		return EXIT_USAGE;
	}
	if (optind == argc)
		return usage_error(set_usage, "CGROUP, POOL and SIZE needed");
	/* args: CGROUP, then POOL and SIZE pairs, from "POOL SIZE" or "POOL=SIZE". */
	n = 0;
	args[n++] = argv[optind];
	for (i = optind + 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (n + 2 > (int)(sizeof(args) / sizeof(args[0])))
			return usage_error(set_usage, "too many limits for one write");
		if (eq && (n & 1)) {	/* at a POOL */
			*eq = '\0';
			args[n++] = argv[i];
			args[n++] = eq + 1;
		} else {
			args[n++] = argv[i];
		}
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
			return usage_error(set_usage, "too many limits for one write");
	}
	r = cgfs_init(cgroup_root_opt);
	if (!r)
		r = cgfs_resolve(args[0], cg, sizeof(cg));
	if (r)
		return r;
	if (!*cg)
		return fail(EXIT_USAGE, "set limits on a child cgroup", "the root cgroup has no limits");
	r = systemd_check_limits(cg, lines);	/* a unit's: systemd's */
	if (r)
		return r;
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

int cmd_enable(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "subtree", no_argument, NULL, 's' },
		{}
	};
	const char *arg = NULL;
	bool subtree = false;
	char cg[CG_MAX];
	int r, c;

	while ((c = cmd_getopt(argc, argv, "s", longopts, enable_usage)) != -1) {
		switch (c) {
		case 's': subtree = true; break;
		case 'h': fputs(enable_help, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		arg = argv[optind++];
	if (optind < argc)
		return usage_error(enable_usage, "one CGROUP only, not '%s' too", argv[optind]);
	if (!arg)
		return usage_error(enable_usage, "which CGROUP?");
	r = cgfs_init(cgroup_root_opt);
	if (!r)
		r = cgfs_resolve(arg, cg, sizeof(cg));
	if (!r)
		r = systemd_check_enable(cg, subtree);	/* in cgroups systemd owns */
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

/*
 * The form of earlier versions: cgroup show|list|set|enable, exact words;
 * `cgroup` alone or followed by options or a path shows.
 */
int cmd_cgroup(int argc, char **argv)
{
	if (argc < 2 || argv[1][0] == '-' || strchr(argv[1], '/'))
		return show(argc, argv, true);
	if (!strcmp(argv[1], "show") || !strcmp(argv[1], "list"))
		return show(argc - 1, argv + 1, true);
	if (!strcmp(argv[1], "set"))
		return cmd_set(argc - 1, argv + 1);
	if (!strcmp(argv[1], "enable"))
		return cmd_enable(argc - 1, argv + 1);
	return fail(EXIT_USAGE, fixf("commands: show, set, enable; a cgroup of that name: `dmabufctl show %s`",
				     argv[1]), "unknown command 'cgroup %s'", argv[1]);
}
