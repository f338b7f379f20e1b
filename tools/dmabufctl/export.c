// SPDX-License-Identifier: GPL-2.0
/*
 * dmabufctl export [--textfile FILE]: the controller's files as Prometheus
 * metrics, in the text exposition format that node_exporter's textfile
 * collector reads.
 *
 * Every cgroup of the tree where the controller is enabled (where its
 * dmabuf.pinned.* files are) has its series, zeros included, so that a
 * series does not come and go with the pins (rate() and absent() see it
 * throughout). A cgroup without the files is left out: its pins are charged
 * to its nearest ancestor that has them, and counted there. The root cgroup
 * has dmabuf_pinned_bytes only (it has no other file).
 *
 * Label values are escaped as the format asks (\\, \", \n); a byte that is
 * not part of valid UTF-8, and any other control byte, is written as the
 * four characters \xNN (so "\\xNN" in the file), as names are bytes and a
 * label value must be UTF-8.
 *
 * The samples of a metric come together after its # HELP and # TYPE (the
 * format asks that), so the walk writes each metric into its own buffer and
 * they are printed one after the other at the end. --textfile FILE writes
 * FILE.tmp.PID, fsync()s it and renames it over FILE: the collector never
 * reads half a file, and reads only *.prom files, so never the temporary.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dmabufctl.h"

static const char usage[] = "dmabufctl export [--textfile FILE]";

static const char help[] =
"usage: dmabufctl export [--textfile FILE]\n"
"\n"
"The dmabuf files of every cgroup where the controller is enabled, and the\n"
"pools' capacities, as Prometheus metrics (the text exposition format of\n"
"node_exporter's textfile collector), labelled cgroup and pool:\n"
"  dmabuf_pinned_bytes                 gauge    dmabuf.pinned.current\n"
"  dmabuf_pinned_peak_bytes            gauge    dmabuf.pinned.peak\n"
"  dmabuf_pinned_max_bytes             gauge    dmabuf.pinned.max (max: +Inf)\n"
"  dmabuf_pinned_refusals_total        counter  dmabuf.pinned.events\n"
"  dmabuf_pinned_refusals_local_total  counter  dmabuf.pinned.events.local\n"
"  dmabuf_pins                         gauge    dmabuf.pinned.stat pins=\n"
"  dmabuf_pins_refused_total           counter  dmabuf.pinned.stat refused=\n"
"  dmabuf_pool_capacity_bytes          gauge    dmabuf.capacity (pool only)\n"
"\n"
"  --textfile FILE   write FILE, atomically (FILE.tmp.PID, fsync, rename),\n"
"                    not stdout; the collector reads *.prom files of its\n"
"                    directory (Debian: /var/lib/prometheus/node-exporter)\n";

enum {
	M_CURRENT, M_PEAK, M_MAX, M_EVENTS, M_EVENTS_LOCAL, M_PINS, M_REFUSED,
	M_CAPACITY, M_COUNT
};

static const struct metric {
	const char *name, *type, *help;
	unsigned have;		/* the pool_stat field it comes from */
} metrics[M_COUNT] = {
	[M_CURRENT] = { "dmabuf_pinned_bytes", "gauge",
		"Pinned dma-buf memory of the cgroup and its descendants (dmabuf.pinned.current).",
		HAVE_CURRENT },
	[M_PEAK] = { "dmabuf_pinned_peak_bytes", "gauge",
		"High-water mark of dmabuf_pinned_bytes (dmabuf.pinned.peak).",
		HAVE_PEAK },
	[M_MAX] = { "dmabuf_pinned_max_bytes", "gauge",
		"Limit of the pinned memory, +Inf for none (dmabuf.pinned.max).",
		HAVE_MAX },
	[M_EVENTS] = { "dmabuf_pinned_refusals_total", "counter",
		"Pins refused by the limit of the cgroup or a descendant (dmabuf.pinned.events).",
		HAVE_EVENTS },
	[M_EVENTS_LOCAL] = { "dmabuf_pinned_refusals_local_total", "counter",
		"Pins refused by the cgroup's own limit (dmabuf.pinned.events.local).",
		HAVE_EVENTS_LOCAL },
	[M_PINS] = { "dmabuf_pins", "gauge",
		"Live pins of the cgroup and its descendants (dmabuf.pinned.stat pins).",
		HAVE_STAT },
	[M_REFUSED] = { "dmabuf_pins_refused_total", "counter",
		"Pins of the tasks of the subtree refused by any limit (dmabuf.pinned.stat refused).",
		HAVE_STAT },
	[M_CAPACITY] = { "dmabuf_pool_capacity_bytes", "gauge",
		"Capacity of the pool, +Inf for unbounded (dmabuf.capacity).",
		HAVE_CAPACITY },
};

/* One buffer per metric: its samples, in the order of the walk. */
static struct {
	FILE *f;
	char *buf;
	size_t len;
} m[M_COUNT];

static bool too_deep;

/* The length of the valid UTF-8 sequence at @s, 0 if there is none. */
static int utf8_len(const unsigned char *s)
{
	int n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (n == 4 && s[0] == 0xf0 && s[1] < 0x90) || (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0;	/* overlong, surrogate, above U+10FFFF */
	return n;
}

/* A label value between its quotes. */
static void label_value(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	while (*p) {
		if (*p == '\\' || *p == '"') {
			fprintf(f, "\\%c", *p++);
		} else if (*p == '\n') {
			fputs("\\n", f);
			p++;
		} else if (*p < 0x20 || *p == 0x7f || !(n = utf8_len(p))) {
			fprintf(f, "\\\\x%02x", *p++);
		} else {
			fwrite(p, 1, n, f);
			p += n;
		}
	}
}

static void sample(int i, const char *cg, const char *pool, uint64_t v)
{
	FILE *f = m[i].f;

	fprintf(f, "%s{", metrics[i].name);
	if (cg) {
		fputs("cgroup=\"", f);
		label_value(f, cg);
		fputs("\",", f);
	}
	fputs("pool=\"", f);
	label_value(f, pool);
	if (v == UNLIMITED && (i == M_MAX || i == M_CAPACITY))
		fputs("\"} +Inf\n", f);
	else
		fprintf(f, "\"} %llu\n", (unsigned long long)v);
}

static void samples(const char *cg, const struct cg_stats *st)
{
	static const int per_cgroup[] = {
		M_CURRENT, M_PEAK, M_MAX, M_EVENTS, M_EVENTS_LOCAL, M_PINS, M_REFUSED,
	};
	const char *name = cg_show(cg);
	size_t k;
	int i;

	for (i = 0; i < st->n; i++) {
		const struct pool_stat *p = &st->p[i];

		for (k = 0; k < sizeof(per_cgroup) / sizeof(per_cgroup[0]); k++) {
			int j = per_cgroup[k];
			uint64_t v;

			if (!(p->have & metrics[j].have))
				continue;
			switch (j) {
			case M_CURRENT: v = p->current; break;
			case M_PEAK: v = p->peak; break;
			case M_MAX: v = p->max; break;
			case M_EVENTS: v = p->events; break;
			case M_EVENTS_LOCAL: v = p->events_local; break;
			case M_PINS: v = p->pins; break;
			default: v = p->refused; break;
			}
			sample(j, name, p->name, v);
		}
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * CG and its subtree, depth first, children in name order: 0, or the
 * error. A cgroup without the dmabuf files, or gone by the time it is read,
 * is left out (its subtree is still walked).
 */
static int walk(char *cg, size_t len)
{
	char path[4096], **names = NULL;
	struct cg_stats st;
	struct dirent *d;
	size_t n = 0, cap = 0, i;
	int r;
	DIR *dir;

	r = cgfs_stats_walk(cg, &st, true);
	if (!r)
		samples(cg, &st);
	else if (r != -ENOENT && r != -ENODEV)
		return fail(EXIT_SYS, NULL, "cannot read the dmabuf files of %s/%s: %s",
			    cgfs_root(), cg, strerror(-r));
	cgfs_path(cg, NULL, path, sizeof(path));
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT || !*cg ? 0 :
			fail(EXIT_SYS, NULL, "cannot read the directory %s: %s", path, strerror(errno));
	while ((d = readdir(dir))) {
		struct stat sb;

		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if (d->d_type == DT_UNKNOWN ? fstatat(dirfd(dir), d->d_name, &sb, AT_SYMLINK_NOFOLLOW) ||
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
	for (i = 0, r = 0; i < n; i++) {
		size_t l = len + (len ? 1 : 0) + strlen(names[i]);

		if (l >= CG_MAX) {
			too_deep = true;
		} else if (!r) {
			snprintf(cg + len, CG_MAX - len, "%s%s", len ? "/" : "", names[i]);
			r = walk(cg, l);
			cg[len] = '\0';
		}
		free(names[i]);
	}
	free(names);
	return r;
}

/* The metrics, each with its HELP and TYPE, into a buffer: 0 or -errno. */
static int collect(char **doc, size_t *len)
{
	char cg[CG_MAX] = "";
	struct cg_stats pools;
	FILE *f;
	int i, r;

	for (i = 0; i < M_COUNT; i++) {
		m[i].f = open_memstream(&m[i].buf, &m[i].len);
		if (!m[i].f)
			return fail(EXIT_SYS, NULL, "out of memory");
	}
	r = cgfs_pools(&pools);
	for (i = 0; !r && i < pools.n; i++)
		if (pools.p[i].have & HAVE_CAPACITY)
			sample(M_CAPACITY, NULL, pools.p[i].name, pools.p[i].capacity);
	if (!r)
		r = walk(cg, 0);
	if (too_deep)
		note("cgroups deeper than %d bytes of path were left out", CG_MAX - 1);
	f = r ? NULL : open_memstream(doc, len);
	if (!r && !f)
		r = fail(EXIT_SYS, NULL, "out of memory");
	for (i = 0; i < M_COUNT; i++) {
		fclose(m[i].f);
		if (f && m[i].len)
			fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s", metrics[i].name, metrics[i].help,
				metrics[i].name, metrics[i].type, m[i].buf);
		free(m[i].buf);
	}
	if (f && fclose(f))
		r = fail(EXIT_SYS, NULL, "out of memory");
	return r;
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len) {
		w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		len -= w;
	}
	return 0;
}

/* FILE.tmp.PID, fsync, rename over FILE, fsync of the directory. */
static int write_textfile(const char *file, const char *doc, size_t len)
{
	const char *fix = NULL;
	char *tmp, *copy;
	int fd, dfd, e;

	if (asprintf(&tmp, "%s.tmp.%d", file, (int)getpid()) < 0)
		return fail(EXIT_SYS, NULL, "out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT)
			fix = "create the directory first (Debian's prometheus-node-exporter reads /var/lib/prometheus/node-exporter)";
		else if (e == EACCES || e == EPERM)
			fix = "run as root, or as a user who may write that directory";
		fail(EXIT_SYS, fix, "cannot create %s: %s", tmp, strerror(e));
		free(tmp);
		return EXIT_SYS;
	}
	if (write_all(fd, doc, len) || fsync(fd)) {
		e = errno;
		close(fd);
		unlink(tmp);
		fail(EXIT_SYS, NULL, "cannot write %s: %s", tmp, strerror(e));
		free(tmp);
		return EXIT_SYS;
	}
	if (close(fd) || rename(tmp, file)) {
		e = errno;
		unlink(tmp);
		fail(EXIT_SYS, NULL, "cannot rename %s to %s: %s", tmp, file, strerror(e));
		free(tmp);
		return EXIT_SYS;
	}
	free(tmp);
	/* the rename itself is durable once the directory is synced */
	copy = strdup(file);
	if (copy) {
		dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		free(copy);
	}
	return 0;
}

int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "textfile", required_argument, NULL, 't' },
		{}
	};
	const char *textfile = NULL, *base;
	char *doc = NULL;
	size_t len = 0;
	int c, r;

	while ((c = cmd_getopt(argc, argv, "", longopts, usage)) != -1) {
		switch (c) {
		case 't':
			textfile = optarg;
			break;
		case 'h':
			fputs(help, stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (opt.json)
		return usage_error(usage, "export writes the Prometheus text format, not JSON: drop -j/-p");
	if (textfile && !*textfile)
		return usage_error(usage, "--textfile needs a file name");
	r = cgfs_init(cgroup_root_opt);
	if (r)
		return r;
	r = collect(&doc, &len);
	if (!r && textfile) {
		base = strrchr(textfile, '/');
		base = base ? base + 1 : textfile;
		if (strlen(base) < 6 || strcmp(base + strlen(base) - 5, ".prom"))
			note("%s: node_exporter's textfile collector reads only files named *.prom", textfile);
		r = write_textfile(textfile, doc, len);
	} else if (!r) {
		if (fwrite(doc, 1, len, out) != len || fflush(out))
			r = fail(EXIT_SYS, NULL, "cannot write the metrics: %s", strerror(errno));
	}
	free(doc);
	return r;
}
