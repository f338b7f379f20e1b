// SPDX-License-Identifier: GPL-2.0
/*
 * dmabufctl watch: a line per refusal. The kernel notifies inotify (and
 * poll) watchers of dmabuf.pinned.events and dmabuf.pinned.events.local when
 * they change (cgroup_file_notify()); each change is compared with the last
 * values read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "dmabufctl.h"

static const char usage[] = "dmabufctl watch [CGROUP] [-n N]";

static const char help[] =
"usage: dmabufctl watch [CGROUP] [-n N]\n"
"\n"
"Waits for refusals charged to CGROUP (default: the caller's own cgroup):\n"
"pins refused by its limit or a descendant's (dmabuf.pinned.events, which\n"
"the kernel notifies through inotify). Prints a line per change: the time,\n"
"the cgroup, the pool, how many refusals are new, the events count, and the\n"
"events.local count (refusals by CGROUP's own limit). With -j, one JSON\n"
"array, closed on SIGINT or SIGTERM. -n, --count N: exit after N refusals.\n"
"Exits 0 when CGROUP is removed.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void print_change(const char *cg, struct pool_stat *p, uint64_t new)
{
	char ts[64];
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03ldZ", now.tv_nsec / 1000000);
	if (opt.json) {
		j_obj(NULL);
		j_str("time", ts);
		j_str("cgroup", cg_show(cg));
		j_str("pool", p->name);
		j_u64("refused", new);
		j_u64("events", p->events);
		j_u64("events_local", p->events_local);
		j_end();
	} else {
		fprintf(out, "%s %s %s refused +%llu events max=%llu local max=%llu\n", ts, cg_show(cg),
			p->name, (unsigned long long)new, (unsigned long long)p->events,
			(unsigned long long)p->events_local);
	}
	fflush(out);
}

int cmd_watch(int argc, char **argv)
{
	const char *arg = NULL;
	struct cg_stats last, now;
	char cg[CG_MAX], path[4096], ev[4096];
	long count = -1, seen = 0;
	struct sigaction sa = { .sa_handler = on_signal };
	int i, r, fd;

	for (i = 0; i < argc; i++) {
		if (help_opt(argv[i])) {
			fputs(help, stdout);
			return 0;
		}
		if (global_opt(argv[i]))
			continue;
		if ((!strcmp(argv[i], "-n") || !strcmp(argv[i], "--count")) && i + 1 < argc) {
			char *end;

			count = strtol(argv[++i], &end, 10);
			if (*end || count <= 0)
				return usage_error(usage, "bad count '%s'", argv[i]);
		} else if (argv[i][0] == '-' && argv[i][1])
			return usage_error(usage, "unknown option '%s'", argv[i]);
		else if (arg)
			return usage_error(usage, "one CGROUP only, not '%s' too", argv[i]);
		else
			arg = argv[i];
	}
	r = cgfs_init(cgroup_root_opt);
	if (!r)
		r = cgfs_resolve(arg, cg, sizeof(cg));
	if (r)
		return r;
	if (!*cg)
		return fail(EXIT_USAGE, "watch a child cgroup", "the root cgroup has no events files");
	r = cgfs_check_dmabuf(cg);
	if (r)
		return r;

	fd = inotify_init1(IN_CLOEXEC);
	if (fd < 0)
		return fail(EXIT_SYS, NULL, "inotify: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		cgfs_path(cg, i ? "dmabuf.pinned.events.local" : "dmabuf.pinned.events", path, sizeof(path));
		if (inotify_add_watch(fd, path, IN_MODIFY) < 0)
			return fail(EXIT_SYS, errno == ENOSPC ? "raise fs.inotify.max_user_watches" : NULL,
				    "cannot watch %s: %s", path, strerror(errno));
	}
	if (cgfs_stats(cg, &last, true))
		return fail(EXIT_SYS, NULL, "cannot read the dmabuf files of %s", cg_show(cg));
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: read() returns */
	sigaction(SIGTERM, &sa, NULL);
	if (opt.json) {
		out_stream();
		j_arr(NULL);
		j_flush();
	}
	while (!stop && (count < 0 || seen < count)) {
		ssize_t n = read(fd, ev, sizeof(ev));
		const struct inotify_event *e;
		bool gone = false;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (e = (void *)ev; (char *)e < ev + n; e = (void *)((char *)e + sizeof(*e) + e->len))
			gone |= (e->mask & IN_IGNORED) != 0;
		if (!cgfs_stats(cg, &now, true)) {
			/* per pool, against its last value (a pool may come and go) */
			for (i = 0; i < now.n; i++) {
				struct pool_stat *p = &now.p[i], *o = stats_pool(&last, p->name);

				if (!o || !(p->have & HAVE_EVENTS))
					continue;
				if (p->events > o->events) {
					print_change(cg, p, p->events - o->events);
					seen += p->events - o->events;
				}
				*o = *p;
			}
		}
		if (gone) {
			if (!opt.json)
				note("cgroup %s removed", cg_show(cg));
			break;
		}
	}
	close(fd);
	if (opt.json) {
		j_end();
		fflush(stdout);
	}
	return 0;
}
