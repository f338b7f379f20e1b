// SPDX-License-Identifier: GPL-2.0
/*
 * dmabufctl: cgroupfs access. Every path and file of the cgroup v2 tree goes
 * through here.
 *
 * One read path, direct IO (open/openat, read, write, mkdir, rmdir), the
 * same for the system's cgroup2 mount and for a tree given with
 * --cgroup-root (the host tests' fake tree): the root is found in
 * /proc/self/mountinfo and accepted when its cgroup.controllers lists
 * dmabuf, not by its file system's magic, so that a fake tree runs this
 * same code. libcgroup (2.0.2 in Debian 12) is not used: on cgroup v2 it
 * cannot parse /proc/PID/cgroup ("0::/path"), reports a refused write
 * (EACCES) as ECGROUPVALUENOTEXIST without the errno, and its
 * cgroup_create_cgroup() enables controllers in every ancestor on its own,
 * so that `enable` and `run` could not say which step failed and why; the
 * walk of `show -r` must openat(2) each cgroup's files from its directory to
 * be fast on 10,000 cgroups anyway.
 *
 * A value that does not fit is an error, never dropped: a file longer than
 * the buffer is -EFBIG, more pools than MAX_POOLS is said on stderr.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dmabufctl.h"

static char root[1024];

const char *cgfs_root(void)
{
	return root;
}

/* The cgroup as people know it: "/" for the root, "/a/b" below. */
const char *cg_show(const char *cg)
{
	static char bufs[4][CG_MAX + 2];
	static int i;
	char *b = bufs[i++ & 3];

	snprintf(b, sizeof(bufs[0]), "/%s", cg);
	return b;
}

void cgfs_path(const char *cg, const char *file, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s%s%s", root, *cg ? "/" : "", cg,
		 file ? "/" : "", file ? file : "");
}

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = list; (p = strstr(p, word)); p += n)
		if ((p == list || isspace((unsigned char)p[-1])) &&
		    (!p[n] || isspace((unsigned char)p[n])))
			return true;
	return false;
}

/* A file of the cgroup open as dfd: direct, the walk's fast path. */
static int read_at(int dfd, const char *file, char *buf, size_t n)
{
	ssize_t got = 0, len = 0;
	int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)got < n - 1 && (len = read(fd, buf + got, n - 1 - got)) > 0)
		got += len;
	if (len < 0 && !got)
		got = -errno;
	else if (len > 0 && (size_t)got == n - 1 && read(fd, &(char){ 0 }, 1) > 0)
		got = -EFBIG;	/* not cut short: a value lost is a wrong answer */
	close(fd);
	buf[got > 0 ? got : 0] = '\0';
	return got;
}

static int read_direct(const char *path, char *buf, size_t n)
{
	return read_at(AT_FDCWD, path, buf, n);
}

/* A whole file of a cgroup: its length, or -errno. */
int cgfs_read(const char *cg, const char *file, char *buf, size_t n)
{
	char path[4096];

	cgfs_path(cg, file, path, sizeof(path));
	return read_direct(path, buf, n);
}

/* A write of the whole string at once: 0, or -errno. */
int cgfs_write(const char *cg, const char *file, const char *s)
{
	char path[4096];
	size_t n = strlen(s);
	ssize_t w;
	int fd;

	cgfs_path(cg, file, path, sizeof(path));
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	w = write(fd, s, n);
	if (w < 0)
		w = -errno;
	close(fd);
	return w < 0 ? (int)w : (size_t)w == n ? 0 : -EIO;
}

static int no_controller(void)
{
	return fail(EXIT_SYS, "boot a kernel built with CONFIG_CGROUP_DMABUF=y, without cgroup_disable=dmabuf",
		    "this kernel has no dmabuf cgroup controller (not in %s/cgroup.controllers)", root);
}

/* A mount point of /proc/self/mountinfo, its octal escapes (\040) undone. */
static void unescape_octal(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/*
 * The cgroup2 mount with the dmabuf controller, else the first cgroup2
 * mount (for the error to name it): -1 if there is none. mountinfo, not
 * /proc/self/mounts: its " - " separator makes the type unambiguous.
 */
static int find_cgroup2_mount(void)
{
	char *line = NULL, *sep, mp[1024], buf[1024];
	size_t cap = 0;
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	root[0] = '\0';
	if (!f)
		return -1;
	while (!found && getline(&line, &cap, f) > 0) {
		sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) ||
		    sscanf(line, "%*s %*s %*s %*s %1023s", mp) != 1)
			continue;
		unescape_octal(mp);
		found = read_direct(fixf("%s/cgroup.controllers", mp), buf, sizeof(buf)) >= 0 &&
			has_word(buf, "dmabuf");
		if (found || !root[0])
			snprintf(root, sizeof(root), "%s", mp);
	}
	free(line);
	fclose(f);
	return root[0] ? 0 : -1;
}

/*
 * Where the tree is: the override, else the cgroup2 mount with dmabuf. Both
 * are accepted by the same test: a cgroup.controllers listing dmabuf.
 */
int cgfs_init(const char *override)
{
	char buf[1024];
	struct stat st;

	if (!override)
		override = getenv("DMABUFCTL_CGROUP_ROOT");
	if (override && *override) {
		snprintf(root, sizeof(root), "%s", override);
		if (stat(root, &st) || !S_ISDIR(st.st_mode))
			return fail(EXIT_USAGE, "give the directory of a cgroup2 tree",
				    "cgroup root %s: %s", root, strerror(errno ? errno : ENOTDIR));
	} else if (find_cgroup2_mount()) {
		return fail(EXIT_SYS, "mount it: mount -t cgroup2 none /sys/fs/cgroup",
			    "no cgroup2 file system mounted");
	}
	if (read_direct(fixf("%s/cgroup.controllers", root), buf, sizeof(buf)) < 0)
		return fail(EXIT_SYS, "dmabufctl needs the cgroup v2 hierarchy",
			    "%s is not a cgroup v2 tree (no cgroup.controllers)", root);
	if (!has_word(buf, "dmabuf"))
		return no_controller();
	return 0;
}

/* "a//b/" is "a/b"; ".." is refused. */
static int normalize(const char *in, char *cg, size_t n)
{
	size_t len = 0;
	const char *p = in, *e;

	cg[0] = '\0';
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchrnul(p, '/');
		if ((e - p == 2 && !strncmp(p, "..", 2)))
			return -1;
		if (!(e - p == 1 && *p == '.')) {
			if (len + (e - p) + 2 > n)
				return -1;
			if (len)
				cg[len++] = '/';
			memcpy(cg + len, p, e - p);
			len += e - p;
			cg[len] = '\0';
		}
		p = e;
	}
	return 0;
}

/*
 * The path below the root of a cgroup given as cgfs_resolve() takes it,
 * normalised ("a/b", "" for the root), whether or not it exists (still).
 */
int cgfs_relative(const char *arg, char *cg, size_t n)
{
	size_t rl = strlen(root);

	if (!strncmp(arg, root, rl) && (arg[rl] == '/' || !arg[rl]))
		arg += rl;
	if (normalize(arg, cg, n))
		return fail(EXIT_USAGE, "give a path below the cgroup2 mount, without ..",
			    "bad cgroup path '%s'", arg);
	return 0;
}

/*
 * CGROUP as given: relative to the mount ("a/b"), absolute in the file
 * system ("/sys/fs/cgroup/a/b"), or absolute in the hierarchy ("/a/b", as in
 * /proc/PID/cgroup). NULL is the caller's own cgroup.
 */
int cgfs_resolve(const char *arg, char *cg, size_t n)
{
	char path[4096];
	struct stat st;
	int r;

	if (!arg)
		return cgfs_pid_cgroup(getpid(), cg, n);
	r = cgfs_relative(arg, cg, n);
	if (r)
		return r;
	cgfs_path(cg, NULL, path, sizeof(path));
	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return fail(EXIT_USAGE, fixf("see the tree: dmabufctl show -a"),
			    "no such cgroup %s", path);
	return 0;
}

/* The "0::/path" line of cgroup v2 in /proc/PID/cgroup. */
int cgfs_pid_cgroup(pid_t pid, char *cg, size_t n)
{
	char path[64], line[4096];
	FILE *f;
	int r = -1;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return fail(EXIT_USAGE, NULL, "no such process %d", (int)pid);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			r = normalize(line + 3, cg, n);
			break;
		}
	}
	fclose(f);
	if (r)
		return fail(EXIT_SYS, "dmabufctl needs the cgroup v2 hierarchy",
			    "no cgroup v2 entry in %s", path);
	return 0;
}

struct pool_stat *stats_pool(struct cg_stats *st, const char *name)
{
	struct pool_stat *p;
	int i;

	for (i = 0; i < st->n; i++)
		if (!strcmp(st->p[i].name, name))
			return &st->p[i];
	if (st->n == MAX_POOLS)
		return NULL;
	p = &st->p[st->n++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

static uint64_t value(const char *s)
{
	return !strncmp(s, "max", 3) && !isalnum((unsigned char)s[3]) ?
		UNLIMITED : strtoull(s, NULL, 10);
}


/*
 * A nested-keyed file: "POOL VALUE" or "POOL key=N key=N" lines. From the
 * cgroup's directory fd if there is one, else through cgfs_read().
 */
static int parse_file(int dfd, const char *cg, const char *file, struct cg_stats *st, unsigned have)
{
	char buf[8192], *line, *next, *sp, *v;
	struct pool_stat *p;
	int r = dfd >= 0 ? read_at(dfd, file, buf, sizeof(buf)) : cgfs_read(cg, file, buf, sizeof(buf));

	if (r < 0)
		return r;
	r = 0;
	for (line = buf; *line; line = next) {
		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		p = stats_pool(st, line);
		if (!p) {
			static bool said;

			if (!said)
				note("more than %d pools: pool %s and later ones are not shown", MAX_POOLS, line);
			said = true;
			continue;
		}
		p->have |= have;
		v = sp + 1;
		switch (have) {
		case HAVE_CAPACITY: p->capacity = value(v); break;
		case HAVE_CURRENT: p->current = value(v); break;
		case HAVE_PEAK: p->peak = value(v); break;
		case HAVE_MAX: p->max = value(v); break;
		case HAVE_EVENTS: p->events = value(v + (strncmp(v, "max=", 4) ? 0 : 4)); break;
		case HAVE_EVENTS_LOCAL: p->events_local = value(v + (strncmp(v, "max=", 4) ? 0 : 4)); break;
		case HAVE_STAT:
			if ((v = strstr(sp + 1, "pins=")))
				p->pins = value(v + 5);
			if ((v = strstr(sp + 1, "refused=")))
				p->refused = value(v + 8);
			break;
		}
	}
	return 0;
}

/*
 * The dmabuf files of a cgroup (the root has only dmabuf.pinned.current),
 * with dmabuf.pinned.events.local if `local`: 0, or -ENOENT when the
 * controller is not enabled there. The walk of `show -r` reads 50,000 files
 * on a big host: it opens each cgroup's directory once and reads its files
 * with openat(2) (cgfs_stats_walk).
 */
static int stats(int dfd, const char *cg, struct cg_stats *st, bool local)
{
	static const struct { const char *file; unsigned have; } files[] = {
		{ "dmabuf.pinned.peak", HAVE_PEAK },
		{ "dmabuf.pinned.max", HAVE_MAX },
		{ "dmabuf.pinned.events", HAVE_EVENTS },
		{ "dmabuf.pinned.stat", HAVE_STAT },
		{ "dmabuf.pinned.events.local", HAVE_EVENTS_LOCAL },
	};
	int i, r;

	st->n = 0;
	r = parse_file(dfd, cg, "dmabuf.pinned.current", st, HAVE_CURRENT);
	if (r < 0 || !*cg)
		return r < 0 ? r : 0;
	for (i = 0; i < 4 + local; i++) {
		r = parse_file(dfd, cg, files[i].file, st, files[i].have);
		if (r < 0)
			return r;
	}
	return 0;
}

int cgfs_stats(const char *cg, struct cg_stats *st, bool local)
{
	return stats(-1, cg, st, local);
}

int cgfs_stats_walk(const char *cg, struct cg_stats *st, bool local)
{
	char path[4096];
	int dfd, r;

	cgfs_path(cg, NULL, path, sizeof(path));
	dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	r = stats(dfd, cg, st, local);
	close(dfd);
	return r;
}

/* The registered pools: capacity and total pinned, from the root. */
int cgfs_pools(struct cg_stats *st)
{
	int r;

	st->n = 0;
	r = parse_file(-1, "", "dmabuf.capacity", st, HAVE_CAPACITY);
	if (r >= 0)
		r = parse_file(-1, "", "dmabuf.pinned.current", st, HAVE_CURRENT);
	if (r > 0)
		r = 0;
	if (r)
		return fail(EXIT_SYS, NULL, "cannot read %s/dmabuf.capacity: %s", root, strerror(-r));
	return 0;
}

int cgfs_check_pool(const char *pool)
{
	char list[2048] = "";
	struct cg_stats st;
	size_t len = 0;
	int i, r = cgfs_pools(&st);

	if (r)
		return r;
	for (i = 0; i < st.n; i++) {
		if (!strcmp(st.p[i].name, pool))
			return 0;
		len += snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", st.p[i].name);
		if (len >= sizeof(list))
			len = sizeof(list) - 1;
	}
	return fail(EXIT_USAGE, st.n ? fixf("pools: %s", list) : "no pool is registered: load an exporter (udmabuf, dma-heaps)",
		    "no such pool '%s'", pool);
}

/* The controller's files are in CG: 0, else the error saying why not. */
int cgfs_check_dmabuf(const char *cg)
{
	char path[4096];

	if (!*cg)
		return 0;
	cgfs_path(cg, "dmabuf.pinned.max", path, sizeof(path));
	if (!access(path, F_OK))
		return 0;
	cgfs_path(cg, NULL, path, sizeof(path));
	return fail(EXIT_SYS, fixf("run `dmabufctl enable %s`", cg),
		    "controller dmabuf not enabled in %s", path);
}

/* Moves every process of CG into CG/leaf, so that CG may have controllers. */
/*
 * run in its own cgroup CG: cgroup v2 gives controllers only to cgroups
 * without processes, so dmabufctl moves itself into CG/leaf. Only itself:
 * other processes of CG (a shell, a daemon, another session) are not its
 * to move, so then it refuses and lists them.
 */
static int make_leaf(const char *cg)
{
	char leaf[CG_MAX], procs[4096], self[16], others[256] = "", *p, *e;
	int r, n = 0;
	size_t used = 0;

	snprintf(self, sizeof(self), "%d", (int)getpid());
	r = cgfs_read(cg, "cgroup.procs", procs, sizeof(procs));
	if (r < 0 && r != -EFBIG)
		return fail(EXIT_SYS, NULL, "cannot read %s/%s/cgroup.procs: %s", root, cg, strerror(-r));
	for (p = procs; r >= 0 && *p; p = e) {
		e = strchrnul(p, '\n');
		if (*e)
			*e++ = '\0';
		if (*p && strcmp(p, self) && ++n <= 8)
			used += snprintf(others + used, sizeof(others) - used, "%s%s", used ? ", " : "", p);
	}
	if (r == -EFBIG || n)
		return fail(EXIT_SYS, fixf("move them into a child cgroup first, or give --parent a cgroup of its own for the command (cgroup v2 gives controllers only to cgroups without processes)"),
			    "cannot enable dmabuf in %s: it has processes other than dmabufctl (%s%s)",
			    cg_show(cg), r == -EFBIG ? "many" : others, n > 8 ? ", ..." : "");
	snprintf(leaf, sizeof(leaf), "%.*s%sleaf", CG_MAX - 8, cg, *cg ? "/" : "");
	if (mkdir(fixf("%s/%s", root, leaf), 0755) && errno != EEXIST)
		return fail(EXIT_SYS, NULL, "cannot create %s/%s: %s", root, leaf, strerror(errno));
	r = cgfs_write(leaf, "cgroup.procs", self);
	if (r)
		return fail(EXIT_SYS, NULL, "cannot move dmabufctl into %s/%s: %s", root, leaf, strerror(-r));
	note("moved 1 process of %s into %s, so that %s can have the dmabuf controller",
	     cg_show(cg), cg_show(leaf), cg_show(cg));
	return 0;
}

int cgfs_enable(const char *cg, bool self, bool leaf, void (*done)(const char *cg))
{
	char a[CG_MAX], buf[1024];
	size_t len = 0, n = strlen(cg);
	int r;

	for (;;) {
		snprintf(a, sizeof(a), "%.*s", (int)len, cg);
		if (len == n && !self)
			break;
		r = cgfs_read(a, "cgroup.subtree_control", buf, sizeof(buf));
		if (r < 0)
			return fail(EXIT_SYS, NULL, "cannot read %s/%s/cgroup.subtree_control: %s",
				    root, a, strerror(-r));
		if (!has_word(buf, "dmabuf")) {
			r = cgfs_write(a, "cgroup.subtree_control", "+dmabuf");
			if (r == -EBUSY && leaf && len == n) {
				r = make_leaf(a);
				if (r)
					return r;
				r = cgfs_write(a, "cgroup.subtree_control", "+dmabuf");
			}
			if (r == -EACCES || r == -EPERM)
				return fail(EXIT_SYS, fixf("as root: dmabufctl enable %s", *cg ? cg : "/"),
					    "permission denied enabling dmabuf in %s", cg_show(a));
			if (r == -EBUSY)
				return fail(EXIT_SYS, "move its processes into a child cgroup first (cgroup v2 allows controllers only in cgroups without processes)",
					    "cannot enable dmabuf in %s: it has processes of its own", cg_show(a));
			if (r)
				return fail(EXIT_SYS, NULL, "cannot enable dmabuf in %s/%s/cgroup.subtree_control: %s",
					    root, a, strerror(-r));
			if (done)
				done(a);
		}
		if (len == n)
			break;
		len = strchrnul(cg + len + 1, '/') - cg;	/* one level down */
	}
	return 0;
}

int cgfs_mkdir(const char *cg)
{
	char path[4096];

	cgfs_path(cg, NULL, path, sizeof(path));
	if (!mkdir(path, 0755))
		return 0;
	if (errno == EACCES || errno == EPERM)
		return fail(EXIT_SYS, "run as root, or in a cgroup delegated to you (give another one with --parent)",
			    "permission denied creating cgroup %s", path);
	return fail(EXIT_SYS, NULL, "cannot create cgroup %s: %s", path, strerror(errno));
}

/* rmdir, waiting a little for exited processes to leave the cgroup. */
int cgfs_rmdir(const char *cg)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char path[4096];
	int i;

	cgfs_path(cg, NULL, path, sizeof(path));
	for (i = 0; i < 200; i++) {
		if (!rmdir(path) || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		nanosleep(&ts, NULL);
	}
	return fail(EXIT_SYS, errno == EBUSY ? "some processes it started still run: rmdir it when they are done" : NULL,
		    "cannot remove cgroup %s: %s", path, strerror(errno));
}
