// SPDX-License-Identifier: GPL-2.0
/*
 * dmabufctl top: the cgroups that pin the most, refreshed. Each round walks
 * the tree (as show does), and orders cgroup and pool pairs by pinned
 * bytes; refusals per second are the growth of dmabuf.pinned.stat's
 * refused= (the pins of the cgroup's tasks that a limit refused) since the
 * last round, over the time between the rounds.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libsmartcols.h>

#include "dmabufctl.h"

static const char usage[] = "dmabufctl top [-d SECONDS] [-n N] [--batch]";

static const char help[] =
"usage: dmabufctl top [-d SECONDS] [-n N] [--batch]\n"
"\n"
"The cgroups and pools with memory pinned or pins refused, the most pinned\n"
"first, refreshed every -d SECONDS (default 2, fractions allowed): CGROUP,\n"
"POOL, CURRENT, PEAK, MAX, PINS and REFUSED/s (pins refused per second since\n"
"the last refresh; '-' in the first round). As in systemd-cgtop, a cgroup's\n"
"values cover its subtree, so the pins of a job also count in its\n"
"ancestors' rows; on equal values the deepest cgroup comes first. The first\n"
"line: the time, the memory pinned in all, and the refusals per second in\n"
"all.\n"
"\n"
"  -d, --delay SECONDS  between refreshes\n"
"  -n, --iterations N   stop after N rounds (default: until SIGINT)\n"
"      --batch          one table after another, no screen control (the\n"
"                       default when stdout is no terminal; with -j, a JSON\n"
"                       object per round, each on a line of its own)\n";

struct row {
	char *cg;
	struct pool_stat p;
	double rate;		/* refusals per second; < 0: not known yet */
};

struct round {
	struct row *v;
	size_t n, cap;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int add_rows(struct round *rd, const char *cg)
{
	static struct cg_stats st;
	int i;

	if (cgfs_stats_walk(cg, &st, false))
		return 0;	/* dmabuf not enabled there, or removed */
	for (i = 0; i < st.n; i++) {
		if (rd->n == rd->cap) {
			struct row *more = realloc(rd->v, (rd->cap = rd->cap ? 2 * rd->cap : 256) *
						   sizeof(*more));

			if (!more)
				return -ENOMEM;
			rd->v = more;
		}
		rd->v[rd->n].cg = strdup(cg);
		if (!rd->v[rd->n].cg)
			return -ENOMEM;
		rd->v[rd->n].p = st.p[i];
		rd->v[rd->n].rate = -1;
		rd->n++;
	}
	return 0;
}

/* Every cgroup below CG (which holds LEN bytes of a CG_MAX buffer). */
static int walk(struct round *rd, char *cg, size_t len)
{
	char path[4096];
	struct dirent *d;
	int r = 0;
	DIR *dir;

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
		if (l >= CG_MAX) {
			r = -ENAMETOOLONG;
			break;
		}
		snprintf(cg + len, CG_MAX - len, "%s%s", len ? "/" : "", d->d_name);
		r = add_rows(rd, cg);
		if (!r)
			r = walk(rd, cg, l);
		cg[len] = '\0';
	}
	closedir(dir);
	return r;
}

static int by_key(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(x->cg, y->cg);

	return c ? c : strcmp(x->p.name, y->p.name);
}

static int depth(const char *cg)
{
	int n = 0;

	for (; *cg; cg++)
		n += *cg == '/';
	return n;
}

static int by_current(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->p.current != y->p.current)
		return x->p.current < y->p.current ? 1 : -1;
	if (x->rate != y->rate)
		return x->rate < y->rate ? 1 : -1;
	/* equal: the deeper first, the cgroup that pins before its ancestors */
	if (depth(x->cg) != depth(y->cg))
		return depth(x->cg) < depth(y->cg) ? 1 : -1;
	return by_key(a, b);
}

static void round_free(struct round *rd)
{
	size_t i;

	for (i = 0; i < rd->n; i++)
		free(rd->v[i].cg);
	free(rd->v);
	memset(rd, 0, sizeof(*rd));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void print_json(struct round *rd, uint64_t total, double total_rate)
{
	char ts[40];
	size_t i;

	j_obj(NULL);
	j_str("time", utc_now(ts, sizeof(ts)));
	j_u64("current", total);
	if (total_rate >= 0)
		j_double("refused_per_s", total_rate);
	j_arr("cgroups");
	for (i = 0; i < rd->n; i++) {
		struct row *w = &rd->v[i];

		j_obj(NULL);
		j_str("cgroup", cg_show(w->cg));
		j_str("pool", w->p.name);
		j_u64("current", w->p.current);
		j_u64("peak", w->p.peak);
		j_limit("max", w->p.max);
		j_u64("pins", w->p.pins);
		j_u64("refused", w->p.refused);
		if (w->rate >= 0)
			j_double("refused_per_s", w->rate);
		j_end();
	}
	j_end();
	j_end();
	j_flush();
}

static int print_text(struct round *rd, uint64_t total, double total_rate, bool screen)
{
	static const char *const head[] = {
		"CGROUP", "POOL", "CURRENT", "PEAK", "MAX", "PINS", "REFUSED/s",
	};
	struct libscols_table *tb = scols_new_table();
	char b[32], t[64], *text = NULL;
	struct winsize ws = { 0 };
	time_t now = time(NULL);
	size_t i, max_rows = rd->n;
	int c;

	if (!tb)
		return -ENOMEM;
	if (screen && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row > 3 &&
	    (size_t)ws.ws_row - 3 < max_rows)
		max_rows = ws.ws_row - 3;
	for (c = 0; c < 7; c++)
		if (!scols_table_new_column(tb, head[c], 0, c >= 2 ? SCOLS_FL_RIGHT : 0)) {
			scols_unref_table(tb);
			return -ENOMEM;
		}
	for (i = 0; i < max_rows; i++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		struct row *w = &rd->v[i];

		if (!ln) {
			scols_unref_table(tb);
			return -ENOMEM;
		}
		scols_line_set_data(ln, 0, cg_show(w->cg));
		scols_line_set_data(ln, 1, w->p.name);
		scols_line_set_data(ln, 2, size_str(w->p.current, opt.bytes, b, sizeof(b)));
		scols_line_set_data(ln, 3, size_str(w->p.peak, opt.bytes, b, sizeof(b)));
		scols_line_set_data(ln, 4, size_str(w->p.max, opt.bytes, b, sizeof(b)));
		snprintf(b, sizeof(b), "%llu", (unsigned long long)w->p.pins);
		scols_line_set_data(ln, 5, b);
		if (w->rate < 0)
			snprintf(b, sizeof(b), "-");
		else
			snprintf(b, sizeof(b), "%.1f", w->rate);
		scols_line_set_data(ln, 6, b);
	}
	strftime(t, sizeof(t), "%H:%M:%S", localtime(&now));
	if (screen)
		fputs("\033[H\033[2J", out);
	fprintf(out, "dmabufctl top - %s  pinned %s", t, size_str(total, opt.bytes, b, sizeof(b)));
	if (total_rate >= 0)
		fprintf(out, ", %.1f refused/s", total_rate);
	fprintf(out, "%s\n", max_rows < rd->n ? "  (more below: enlarge the terminal)" : "");
	if (scols_print_table_to_string(tb, &text) == 0 && text) {
		fputs(text, out);
		fputc('\n', out);
		free(text);
	}
	scols_unref_table(tb);
	fflush(out);
	return 0;
}

int cmd_top(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "batch", no_argument, NULL, 'B' },
		{}
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct round last = { 0 }, cur = { 0 };
	double delay = 2, t_last = 0, t_cur;
	long iterations = -1, n;
	bool batch = false, screen;
	char cg[CG_MAX], *end;
	int c, r = 0;
	size_t i;

	while ((c = cmd_getopt(argc, argv, "d:n:", longopts, usage)) != -1) {
		switch (c) {
		case 'd':
			errno = 0;
			delay = strtod(optarg, &end);
			if (errno || *end || !*optarg || !(delay >= 0.1 && delay <= 86400))
				return usage_error(usage, "bad delay '%s' (seconds, 0.1 to 86400)", optarg);
			break;
		case 'n':
			iterations = strtol(optarg, &end, 10);
			if (*end || !*optarg || iterations <= 0)
				return usage_error(usage, "bad count '%s'", optarg);
			break;
		case 'B': batch = true; break;
		case 'h': fputs(help, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error(usage, "unknown argument '%s'", argv[optind]);
	r = cgfs_init(cgroup_root_opt);
	if (r)
		return r;
	screen = !batch && !opt.json && isatty(STDOUT_FILENO);
	if (opt.json)
		out_stream();
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (n = 0; !stop && (iterations < 0 || n < iterations); n++) {
		uint64_t total = 0;
		double total_rate = -1;
		struct cg_stats root;

		if (n) {
			struct timespec ts = { (time_t)delay, (long)((delay - (time_t)delay) * 1e9) };

			while (nanosleep(&ts, &ts) && errno == EINTR && !stop)
				;
			if (stop)
				break;
		}
		cg[0] = '\0';
		t_cur = now_s();
		r = walk(&cur, cg, 0);
		if (r) {
			r = fail(EXIT_SYS, NULL, "cannot walk the cgroup tree: %s", strerror(-r));
			break;
		}
		if (!cgfs_stats("", &root, false))
			for (i = 0; i < (size_t)root.n; i++)
				total += root.p[i].current;
		qsort(cur.v, cur.n, sizeof(*cur.v), by_key);
		if (n) {
			total_rate = 0;
			for (i = 0; i < cur.n; i++) {
				struct row *o = bsearch(&cur.v[i], last.v, last.n, sizeof(*last.v), by_key);

				if (!o || cur.v[i].p.refused < o->p.refused)
					continue;	/* new, or removed and made again */
				cur.v[i].rate = (cur.v[i].p.refused - o->p.refused) / (t_cur - t_last);
				/* refused= counts a subtree: the total from the top level */
				if (!strchr(cur.v[i].cg, '/'))
					total_rate += cur.v[i].rate;
			}
		}
		round_free(&last);
		last = cur;
		memset(&cur, 0, sizeof(cur));
		t_last = t_cur;
		{
			struct round shown = { 0 };	/* borrows last's rows */

			shown.v = malloc((last.n ? last.n : 1) * sizeof(*shown.v));
			if (!shown.v) {
				r = fail(EXIT_SYS, NULL, "out of memory");
				break;
			}
			/* Shown: what pins or was refused. */
			for (i = 0; i < last.n; i++)
				if (last.v[i].p.current || last.v[i].p.pins || last.v[i].rate > 0)
					shown.v[shown.n++] = last.v[i];
			qsort(shown.v, shown.n, sizeof(*shown.v), by_current);
			if (opt.json)
				print_json(&shown, total, total_rate);
			else if (print_text(&shown, total, total_rate, screen))
				r = fail(EXIT_SYS, NULL, "out of memory");
			free(shown.v);
			if (r)
				break;
		}
	}
	round_free(&last);
	round_free(&cur);
	return r;
}
