// SPDX-License-Identifier: GPL-2.0
/*
 * dmabufctl watch: a line per refusal, naming the cgroup whose limit
 * refused. The kernel notifies inotify (and poll) watchers of a cgroup's
 * dmabuf.pinned.events.local when a pin is refused by that cgroup's own
 * limit (cgroup_file_notify()); watching that file in every cgroup of the
 * subtree, and each directory for new cgroups, finds the refusing cgroup
 * without walking the tree at each refusal.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dmabufctl.h"

static const char usage[] = "dmabufctl watch [CGROUP | /] [-n N]";

static const char help[] =
"usage: dmabufctl watch [CGROUP | /] [-n N]\n"
"\n"
"Waits for pins refused by a limit in CGROUP's subtree (default: /, the whole\n"
"host) and prints a line per refusal: the time (UTC), the cgroup whose\n"
"dmabuf.pinned.max refused, the pool, how many refusals are new, that\n"
"cgroup's count of refusals by its own limit (dmabuf.pinned.events.local)\n"
"and the limit. Cgroups made while it runs are watched too. With -j, a JSON\n"
"object per refusal, each on a line of its own.\n"
"\n"
"  -n, --count N   exit after N refusals\n"
"\n"
"Exits 0 on SIGINT or SIGTERM, and when CGROUP is removed.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* A watched cgroup: its directory's and its events.local file's watches. */
struct watched {
	char *cg;
	int wd_dir, wd_file;
	struct cg_stats last;	/* events.local and max, as last read */
};

static struct watched *w;
static size_t nw, capw;
static int ifd;
static long seen, count = -1;

static struct watched *by_wd(int wd)
{
	size_t i;

	if (wd < 0)
		return NULL;	/* IN_Q_OVERFLOW; and -1 marks a file not watched */
	for (i = 0; i < nw; i++)
		if (w[i].cg && (w[i].wd_dir == wd || w[i].wd_file == wd))
			return &w[i];
	return NULL;
}

static struct watched *by_cg(const char *cg)
{
	size_t i;

	for (i = 0; i < nw; i++)
		if (w[i].cg && !strcmp(w[i].cg, cg))
			return &w[i];
	return NULL;
}

/* events.local and max of CG into @st: 0 or -errno. */
static int read_local(const char *cg, struct cg_stats *st)
{
	return cgfs_stats(cg, st, true);
}

static int watch_errno(const char *path, int e)
{
	return fail(EXIT_SYS, e == ENOSPC ? "raise fs.inotify.max_user_watches (sysctl)" : NULL,
		    "cannot watch %s: %s", path, strerror(e));
}

/* Start watching CG (its directory; its events.local if it has one). */
static int add(const char *cg)
{
	char path[4096];
	struct watched *x = by_cg(cg);

	if (!x) {
		if (nw == capw) {
			struct watched *more = realloc(w, (capw = capw ? 2 * capw : 64) * sizeof(*w));

			if (!more)
				return fail(EXIT_SYS, NULL, "out of memory");
			w = more;
		}
		x = &w[nw++];
		memset(x, 0, sizeof(*x));
		x->wd_dir = x->wd_file = -1;
		x->cg = strdup(cg);
		if (!x->cg)
			return fail(EXIT_SYS, NULL, "out of memory");
		cgfs_path(cg, NULL, path, sizeof(path));
		x->wd_dir = inotify_add_watch(ifd, path, IN_CREATE | IN_DELETE_SELF | IN_ONLYDIR);
		if (x->wd_dir < 0) {
			if (errno == ENOENT)
				return 0;	/* gone already */
			return watch_errno(path, errno);
		}
	}
	if (x->wd_file < 0 && *cg) {
		cgfs_path(cg, "dmabuf.pinned.events.local", path, sizeof(path));
		x->wd_file = inotify_add_watch(ifd, path, IN_MODIFY);
		if (x->wd_file < 0 && errno != ENOENT)
			return watch_errno(path, errno);
		if (x->wd_file >= 0 && read_local(cg, &x->last))
			x->last.n = 0;
	}
	return 0;
}

/* CG and its subtree. */
static int add_tree(char *cg, size_t len)
{
	char path[4096];
	struct dirent *d;
	int r = add(cg);
	DIR *dir;

	if (r)
		return r;
	cgfs_path(cg, NULL, path, sizeof(path));
	dir = opendir(path);
	if (!dir)
		return 0;
	while (!r && (d = readdir(dir))) {
		struct stat sb;
		size_t l = len + (len ? 1 : 0) + strlen(d->d_name);

		if (d->d_name[0] == '.')
			continue;
		if (d->d_type == DT_UNKNOWN ? fstatat(dirfd(dir), d->d_name, &sb, 0) ||
		    !S_ISDIR(sb.st_mode) : d->d_type != DT_DIR)
			continue;
		if (l >= CG_MAX)
			continue;
		snprintf(cg + len, CG_MAX - len, "%s%s", len ? "/" : "", d->d_name);
		r = add_tree(cg, l);
		cg[len] = '\0';
	}
	closedir(dir);
	return r;
}

static void drop(struct watched *x)
{
	if (x->wd_file >= 0)
		inotify_rm_watch(ifd, x->wd_file);
	free(x->cg);
	x->cg = NULL;
}

static void refused(const char *cg, const struct pool_stat *p, uint64_t n)
{
	char ts[40], b[32];

	utc_now(ts, sizeof(ts));
	if (opt.json) {
		j_obj(NULL);
		j_str("time", ts);
		j_str("cgroup", cg_show(cg));
		j_str("pool", p->name);
		j_u64("events_local_delta", n);
		j_u64("events_local", p->events_local);
		j_limit("max", p->max);
		j_end();
		j_flush();
	} else {
		fprintf(out, "%s %s %s refused +%llu events.local max=%llu limit %s\n", ts, cg_show(cg),
			p->name, (unsigned long long)n, (unsigned long long)p->events_local,
			size_str(p->max, opt.bytes, b, sizeof(b)));
		fflush(out);
	}
}

/* events.local of X changed: a line per pool whose count rose. */
static void changed(struct watched *x)
{
	struct cg_stats now;
	int i;

	if (read_local(x->cg, &now))
		return;
	for (i = 0; i < now.n; i++) {
		struct pool_stat *p = &now.p[i], *o = stats_pool(&x->last, p->name);
		uint64_t before = o && (o->have & HAVE_EVENTS_LOCAL) ? o->events_local : 0;

		if ((p->have & HAVE_EVENTS_LOCAL) && p->events_local > before) {
			refused(x->cg, p, p->events_local - before);
			seen += p->events_local - before;
		}
	}
	x->last = now;
}

int cmd_watch(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{}
	};
	struct sigaction sa = { .sa_handler = on_signal };
	char cg[CG_MAX], ev[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	const char *arg = "/";
	char *end, *top;
	int c, r;
	size_t i;

	while ((c = cmd_getopt(argc, argv, "n:", longopts, usage)) != -1) {
		switch (c) {
		case 'n':
			count = strtol(optarg, &end, 10);
			if (*end || !*optarg || count <= 0)
				return usage_error(usage, "bad count '%s'", optarg);
			break;
		case 'h': fputs(help, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		arg = argv[optind++];
	if (optind < argc)
		return usage_error(usage, "one CGROUP only, not '%s' too", argv[optind]);
	r = cgfs_init(cgroup_root_opt);
	if (!r)
		r = cgfs_resolve(arg, cg, sizeof(cg));
	if (r)
		return r;
	if (*cg) {
		r = cgfs_check_dmabuf(cg);
		if (r)
			return r;
	}
	ifd = inotify_init1(IN_CLOEXEC);
	if (ifd < 0)
		return fail(EXIT_SYS, NULL, "inotify: %s", strerror(errno));
	top = strdup(cg);
	if (!top)
		return fail(EXIT_SYS, NULL, "out of memory");
	r = add_tree(cg, strlen(cg));	/* w[0] is CGROUP */
	if (r) {
		free(top);
		return r;
	}
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: read() returns */
	sigaction(SIGTERM, &sa, NULL);
	if (opt.json)
		out_stream();
	while (!stop && (count < 0 || seen < count)) {
		ssize_t n = read(ifd, ev, sizeof(ev));
		const struct inotify_event *e;
		bool gone = false;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (e = (void *)ev; (char *)e < ev + n; e = (void *)((char *)e + sizeof(*e) + e->len)) {
			struct watched *x = by_wd(e->wd);

			if (e->mask & IN_Q_OVERFLOW) {
				/*
				 * Events were lost: cgroups made meanwhile are not
				 * watched yet, refusals not seen. Walk again, and
				 * compare every counter with its last value.
				 */
				note("inotify's queue overflowed: rescanning %s", cg_show(top));
				snprintf(cg, sizeof(cg), "%s", top);
				r = add_tree(cg, strlen(cg));
				for (i = 0; !r && i < nw; i++)
					if (w[i].cg && w[i].wd_file >= 0)
						changed(&w[i]);
				if (r)
					break;
				continue;
			}
			if (!x)
				continue;
			if (e->mask & (IN_DELETE_SELF | IN_IGNORED)) {
				if (e->wd == x->wd_file) {
					x->wd_file = -1;	/* the controller was disabled */
					continue;
				}
				gone |= x == &w[0];
				drop(x);
				continue;
			}
			if (e->wd == x->wd_file && (e->mask & IN_MODIFY)) {
				changed(x);
			} else if (e->wd == x->wd_dir && (e->mask & IN_CREATE) && e->len) {
				size_t len = strlen(x->cg);

				if (!strcmp(e->name, "dmabuf.pinned.events.local")) {
					r = add(x->cg);	/* dmabuf enabled in its parent */
				} else if (e->mask & IN_ISDIR) {
					snprintf(cg, sizeof(cg), "%s%s%s", x->cg, len ? "/" : "", e->name);
					r = add_tree(cg, strlen(cg));
				}
				if (r)
					break;
			}
		}
		if (r || gone)
			break;
	}
	if (!r && !opt.json && !stop && (count < 0 || seen < count))
		note("cgroup %s removed", cg_show(top));
	free(top);
	for (i = 0; i < nw; i++)
		free(w[i].cg);
	free(w);
	close(ifd);
	return r;
}
