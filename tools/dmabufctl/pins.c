// SPDX-License-Identifier: GPL-2.0
/*
 * dmabufctl pins: who holds what. Each pin charged and held, from the
 * kernel's list in debugfs (dma_buf/pins, one "key=value ..." line per pin,
 * values with spaces, tabs, newlines and backslashes escaped as octal).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmabufctl.h"

static const char usage[] =
	"dmabufctl pins [--cgroup CGROUP] [--pool POOL] [--pid PID] [--debugfs DIR]";

static const char help[] =
"usage: dmabufctl pins [--cgroup CGROUP] [--pool POOL] [--pid PID] [--debugfs DIR]\n"
"\n"
"Every pin charged to the dmabuf controller and still held: the task that\n"
"pinned (as it was then; it may have exited since), the cgroup charged, the\n"
"pool, the size, how long ago, the importer's device and the buffer's\n"
"exporter. Read from dma_buf/pins in debugfs, which only root can read.\n"
"\n"
"  --cgroup CGROUP   pins charged to CGROUP or below it (also removed ones)\n"
"  --pool POOL       pins of POOL (a name or /dev/udmabuf, /dev/dma_heap/NAME)\n"
"  --pid PID         pins made by process PID\n"
"  --debugfs DIR     where debugfs is mounted (default /sys/kernel/debug;\n"
"                    also $DMABUFCTL_DEBUGFS)\n";

/* The fields of a line, as the kernel wrote them (escaped). */
struct pin {
	char pid[16], comm[80], cgroup[4096 * 4], cgroup_id[24], pool[POOL_NAME_MAX];
	char bytes[24], age_ms[24], importer[128], exporter[512], inode[24];
};

/*
 * Undo the kernel's octal escapes of @v (comm, cgroup, exporter) into @dst:
 * -1 for a NUL, which no name can hold.
 */
static int unescape(const char *v, char *dst, size_t n)
{
	size_t k = 0;

	while (*v) {
		char c = *v++;

		if (c == '\\' && v[0] >= '0' && v[0] <= '3' && v[1] >= '0' && v[1] <= '7' &&
		    v[2] >= '0' && v[2] <= '7') {
			c = (char)((v[0] - '0') << 6 | (v[1] - '0') << 3 | (v[2] - '0'));
			v += 3;
			if (!c)
				return -1;
		}
		if (k + 1 < n)
			dst[k++] = c;
	}
	dst[k] = '\0';
	return 0;
}

/*
 * For a terminal: the kernel's escaped form (spaces, tabs, newlines and
 * backslashes already octal), other control bytes octal too, so that no
 * name can draw rows or send escape sequences.
 */
static const char *safe(const char *v, char *dst, size_t n)
{
	size_t k = 0;

	for (; *v && k + 5 < n; v++) {
		unsigned char c = *v;

		if (c < 0x20 || c == 0x7f)
			k += snprintf(dst + k, n - k, "\\%03o", c);
		else
			dst[k++] = c;
	}
	dst[k] = '\0';
	return dst;
}

/* One line of the list; -1 if it is not one (a newer kernel's, say). */
static int parse(const char *line, struct pin *p)
{
	static const struct { const char *key; size_t off, n; } keys[] = {
#define K(f) { #f, offsetof(struct pin, f), sizeof(((struct pin *)0)->f) }
		K(pid), K(comm), K(cgroup), K(cgroup_id), K(pool), K(bytes),
		K(age_ms), K(importer), K(exporter), K(inode),
#undef K
	};
	const size_t nkeys = sizeof(keys) / sizeof(keys[0]);
	unsigned int seen = 0;
	size_t i, l;

	memset(p, 0, sizeof(*p));
	while (*line && *line != '\n') {
		const char *end = line + strcspn(line, " \n");
		const char *eq = memchr(line, '=', end - line);

		for (i = 0; eq && i < nkeys; i++)
			if (strlen(keys[i].key) == (size_t)(eq - line) &&
			    !strncmp(line, keys[i].key, eq - line))
				break;
		/* Words and keys this version does not know are skipped. */
		if (eq && i < nkeys) {
			l = end - eq - 1;
			if (l >= keys[i].n)
				return -1;	/* longer than any the kernel writes */
			memcpy((char *)p + keys[i].off, eq + 1, l);
			seen |= 1u << i;
		}
		line = end;
		while (*line == ' ')
			line++;
	}
	return seen == (1u << nkeys) - 1 ? 0 : -1;
}

/* 3.2s, 4m05s, 2h03m, 5d04h */
static const char *age_str(unsigned long long ms, char *buf, size_t n)
{
	unsigned long long s = ms / 1000;

	if (s < 60)
		snprintf(buf, n, "%llu.%llus", s, ms % 1000 / 100);
	else if (s < 3600)
		snprintf(buf, n, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, n, "%lluh%02llum", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, n, "%llud%02lluh", s / 86400, s % 86400 / 3600);
	return buf;
}

static bool in_subtree(const char *path, const char *cg)
{
	size_t l = strlen(cg);

	while (*path == '/')
		path++;
	return !l || (!strncmp(path, cg, l) && (!path[l] || path[l] == '/'));
}

/* --NAME=VALUE or --NAME VALUE; "" with *missing set when there is none. */
int cmd_pins(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "pool", required_argument, NULL, 'P' },
		{ "pid", required_argument, NULL, 0x100 },
		{ "debugfs", required_argument, NULL, 'D' },
		{}
	};
	const char *cg_arg = NULL, *pool_arg = NULL, *pid_arg = NULL;
	const char *dbg = getenv("DMABUFCTL_DEBUGFS");
	char cg[CG_MAX] = "", pool[POOL_NAME_MAX] = "", path[4096], b1[32], b2[32];
	char comm[80], cgroup[4096 * 4], exporter[512], s1[320], s2[CG_MAX * 4], s3[2048];
	char *line = NULL, *end;
	size_t cap = 0, bad = 0, good = 0;
	bool pool_seen = false;
	long pid = 0;
	struct pin p;
	FILE *f;
	int r, c;

	if (debugfs_root_opt)
		dbg = debugfs_root_opt;
	while ((c = cmd_getopt(argc, argv, "", longopts, usage)) != -1) {
		switch (c) {
		case 'c': cg_arg = optarg; break;
		case 'P': pool_arg = optarg; break;
		case 0x100: pid_arg = optarg; break;
		case 'D': dbg = optarg; break;
		case 'h': fputs(help, stdout); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error(usage, "unknown argument '%s'", argv[optind]);
	if (pid_arg && ((pid = strtol(pid_arg, &end, 10)) <= 0 || *end || !isdigit(*pid_arg)))
		return usage_error(usage, "--pid takes a process id, not '%s'", pid_arg);
	if (pool_arg && pool_from_arg(pool_arg, pool, sizeof(pool)))
		return usage_error(usage, "bad pool '%s'", pool_arg);
	if (cg_arg) {
		r = cgfs_init(cgroup_root_opt);
		if (r)
			return r;
		if (!*cg_arg)
			return usage_error(usage, "--cgroup needs a value");
		/* Pins outlive their cgroup: a removed one is a fine filter. */
		r = cgfs_relative(cg_arg, cg, sizeof(cg));
		if (r)
			return r;
	}
	if (!dbg || !*dbg)
		dbg = "/sys/kernel/debug";

	snprintf(path, sizeof(path), "%s/dma_buf/pins", dbg);
	f = fopen(path, "re");
	if (!f) {
		if (errno == EACCES || errno == EPERM)
			return fail(EXIT_SYS, "run it as root", "cannot read %s: %s", path,
				    strerror(errno));
		if (errno == ENOENT && access(fixf("%s/dma_buf", dbg), F_OK))
			return fail(EXIT_SYS, "mount debugfs: mount -t debugfs none /sys/kernel/debug",
				    "no dma_buf directory in debugfs (%s)", path);
		if (errno == ENOENT)
			return fail(EXIT_SYS, "a kernel with the dmabuf controller's list of pins is needed",
				    "this kernel does not list pins (%s)", path);
		return fail(EXIT_SYS, NULL, "cannot read %s: %s", path, strerror(errno));
	}

	if (opt.json) {
		j_obj(NULL);
		j_arr("pins");
	} else {
		fprintf(out, "%7s %-15s %-24s %-16s %9s %8s %-14s %s\n", "PID", "COMM", "CGROUP",
			"POOL", "SIZE", "AGE", "IMPORTER", "EXPORTER");
	}
	while (getline(&line, &cap, f) > 0) {
		if (line[0] == '\n')
			continue;
		if (parse(line, &p) || unescape(p.comm, comm, sizeof(comm)) ||
		    unescape(p.cgroup, cgroup, sizeof(cgroup)) ||
		    unescape(p.exporter, exporter, sizeof(exporter))) {
			bad++;
			continue;
		}
		good++;
		if (*pool && !strcmp(p.pool, pool))
			pool_seen = true;
		if ((pid_arg && strtol(p.pid, NULL, 10) != pid) || (*pool && strcmp(p.pool, pool)) ||
		    (cg_arg && !in_subtree(cgroup, cg)))
			continue;
		if (opt.json) {
			j_obj(NULL);
			j_int("pid", strtoll(p.pid, NULL, 10));
			j_str("comm", comm);
			j_str("cgroup", cgroup);
			j_u64("cgroup_id", strtoull(p.cgroup_id, NULL, 10));
			j_str("pool", p.pool);
			j_u64("bytes", strtoull(p.bytes, NULL, 10));
			j_u64("age_ms", strtoull(p.age_ms, NULL, 10));
			j_str("importer", p.importer);
			j_str("exporter", exporter);
			j_u64("inode", strtoull(p.inode, NULL, 10));
			j_end();
		} else {
			fprintf(out, "%7s %-15s %-24s %-16s %9s %8s %-14s %s\n", p.pid,
				safe(p.comm, s1, sizeof(s1)), safe(p.cgroup, s2, sizeof(s2)), p.pool,
				size_str(strtoull(p.bytes, NULL, 10), opt.bytes, b1, sizeof(b1)),
				age_str(strtoull(p.age_ms, NULL, 10), b2, sizeof(b2)),
				p.importer, safe(p.exporter, s3, sizeof(s3)));
		}
	}
	free(line);
	r = ferror(f);
	fclose(f);
	if (r)
		return fail(EXIT_SYS, NULL, "cannot read %s", path);
	if (bad && !good)
		return fail(EXIT_SYS, "a newer dmabufctl may know this kernel's format",
			    "%zu line(s) of %s and none understood", bad, path);
	if (*pool && !pool_seen) {
		/* Nothing of that pool held: does it exist at all (a typo)? */
		r = cgfs_init(cgroup_root_opt);
		if (!r)
			r = cgfs_check_pool(pool);
		if (r)
			return r;
	}
	if (opt.json) {
		j_end();
		j_end();
	}
	if (bad)
		note("%zu line(s) of %s not understood: a newer kernel's format?", bad, path);
	return 0;
}
