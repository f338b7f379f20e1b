// SPDX-License-Identifier: GPL-2.0
/*
 * dmabufctl pool: the registered pools, from the root cgroup.
 *
 * capacity: dmabuf.capacity; pinned: the root's dmabuf.pinned.current (all
 * pins in the system). The root has no dmabuf.pinned.stat, so live pins and
 * refusals are the sums of the top-level cgroups' dmabuf.pinned.stat: pins
 * of tasks in the root cgroup itself (and of top-level cgroups where dmabuf
 * is not enabled) are in `pinned` but not in `pins`.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <getopt.h>
#include <string.h>

#include "dmabufctl.h"

static const char usage[] = "dmabufctl pool";

static const char help[] =
"usage: dmabufctl pool\n"
"\n"
"Every registered pool: its capacity, the memory pinned in it (the root\n"
"cgroup's dmabuf.pinned.current), the live pins and the refused pins (the\n"
"sums over the top-level cgroups' dmabuf.pinned.stat; the root cgroup has no\n"
"stat file, so pins of tasks in the root cgroup itself count in PINNED only).\n";

static void add_children(struct cg_stats *pools)
{
	struct cg_stats st;
	struct pool_stat *p;
	struct dirent *d;
	DIR *dir = opendir(cgfs_root());
	int i;

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.' || (d->d_type != DT_DIR && d->d_type != DT_UNKNOWN))
			continue;
		if (cgfs_stats_walk(d->d_name, &st, false))
			continue;
		for (i = 0; i < st.n; i++) {
			p = stats_pool(pools, st.p[i].name);
			if (p && (p->have & HAVE_CAPACITY) && (st.p[i].have & HAVE_STAT)) {
				p->pins += st.p[i].pins;
				p->refused += st.p[i].refused;
			}
		}
	}
	closedir(dir);
}

int cmd_pool(int argc, char **argv)
{
	struct cg_stats pools;
	char b1[32], b2[32];
	int i, r, w = 4;

	while ((i = cmd_getopt(argc, argv, "", NULL, usage)) != -1) {
		if (i == 'h') {
			fputs(help, stdout);
			return 0;
		}
		return EXIT_USAGE;
	}
	if (optind < argc)
		return usage_error(usage, "unknown argument '%s'", argv[optind]);
	r = cgfs_init(cgroup_root_opt);
	if (!r)
		r = cgfs_pools(&pools);
	if (r)
		return r;
	add_children(&pools);

	if (opt.json) {
		j_obj(NULL);
		j_arr("pools");
		for (i = 0; i < pools.n; i++) {
			struct pool_stat *p = &pools.p[i];

			if (!(p->have & HAVE_CAPACITY))
				continue;
			j_obj(NULL);
			j_str("pool", p->name);
			j_limit("capacity", p->capacity);
			j_u64("current", p->current);
			j_u64("pins", p->pins);
			j_u64("refused", p->refused);
			j_end();
		}
		j_end();
		j_end();
		return 0;
	}
	for (i = 0; i < pools.n; i++)
		if ((int)strlen(pools.p[i].name) > w)
			w = strlen(pools.p[i].name);
	fprintf(out, "%-*s %10s %10s %8s %8s\n", w, "POOL", "CAPACITY", "PINNED", "PINS", "REFUSED");
	for (i = 0; i < pools.n; i++) {
		struct pool_stat *p = &pools.p[i];

		if (!(p->have & HAVE_CAPACITY))
			continue;
		fprintf(out, "%-*s %10s %10s %8llu %8llu\n", w, p->name,
			size_str(p->capacity, opt.bytes, b1, sizeof(b1)),
			size_str(p->current, opt.bytes, b2, sizeof(b2)),
			(unsigned long long)p->pins, (unsigned long long)p->refused);
	}
	return 0;
}
