/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmabufctl: the admin tool of the dmabuf cgroup controller (pinned
 * dma-buf memory limits). Shared declarations of its modules:
 *
 *   main.c     options (getopt_long), the command table, dispatch
 *   size.c     sizes (parse "1.5G", print IEC) and pool names (/dev paths)
 *   output.c   JSON (json-c), errors with their cause, fix and status
 *   cgfs.c     everything that touches cgroupfs
 *   systemd.c  cgroups that systemd owns, and whether it knows dmabuf
 *   cgroup.c (show, set, enable), pool.c, pins.c, top.c, watch.c, run.c,
 *   export.c: the commands
 */
#ifndef DMABUFCTL_H
#define DMABUFCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Exit statuses. */
#define EXIT_OK		0
#define EXIT_USAGE	1	/* bad arguments: nothing was asked of the system */
#define EXIT_SYS	2	/* the system refused */
#define EXIT_OWNED	3	/* systemd owns the cgroup (systemd.c) */
#define EXIT_RUN	125	/* run: dmabufctl's own failure (as env(1)) */

#define UNLIMITED	UINT64_MAX	/* "max" */

/* size.c */
int size_parse(const char *s, uint64_t *bytes);	/* 0, or -1 if malformed */
const char *size_str(uint64_t bytes, bool raw, char *buf, size_t n);
int pool_from_arg(const char *arg, char *pool, size_t n);

/* output.c */
struct opts {
	bool bytes;		/* -b: raw byte counts */
	bool json;		/* -j */
	bool pretty;		/* -p: pretty JSON */
};
extern struct opts opt;
extern FILE *out;		/* where a command prints its result */

void out_begin(void);
int out_end(int status);	/* prints the result or the error; the status */
int fail(int status, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *fixf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void j_obj(const char *key);	/* key: NULL inside arrays and at the top */
void j_arr(const char *key);
void j_end(void);
void j_str(const char *key, const char *v);
void j_u64(const char *key, uint64_t v);
void j_int(const char *key, long long v);
void j_double(const char *key, double v);
void j_bool(const char *key, bool v);
void j_limit(const char *key, uint64_t v);	/* UNLIMITED is null */
void j_flush(void);
void out_stream(void);		/* watch, top: stream JSON to stdout */
const char *utc_now(char *buf, size_t n);	/* ISO 8601, UTC, ms */

/* cgfs.c */
#define POOL_NAME_MAX	128
#define CG_MAX		2048	/* a cgroup's path below the root */
#define MAX_POOLS	64

enum {	/* which files gave a value: pool_stat.have */
	HAVE_CURRENT = 1, HAVE_PEAK = 2, HAVE_MAX = 4, HAVE_EVENTS = 8,
	HAVE_EVENTS_LOCAL = 16, HAVE_STAT = 32, HAVE_CAPACITY = 64,
};

struct pool_stat {
	char name[POOL_NAME_MAX];
	unsigned have;
	uint64_t capacity, current, peak, max, events, events_local, pins, refused;
};

struct cg_stats {
	int n;
	struct pool_stat p[MAX_POOLS];
};

int cgfs_init(const char *root_override);
const char *cgfs_root(void);
void cgfs_path(const char *cg, const char *file, char *buf, size_t n);
int cgfs_resolve(const char *arg, char *cg, size_t n);
int cgfs_relative(const char *arg, char *cg, size_t n);	/* as resolve, existing or not */
int cgfs_pid_cgroup(pid_t pid, char *cg, size_t n);
int cgfs_read(const char *cg, const char *file, char *buf, size_t n);
int cgfs_write(const char *cg, const char *file, const char *s);
int cgfs_stats(const char *cg, struct cg_stats *st, bool local);
int cgfs_stats_walk(const char *cg, struct cg_stats *st, bool local);
int cgfs_pools(struct cg_stats *st);
int cgfs_check_pool(const char *pool);
int cgfs_check_dmabuf(const char *cg);
int cgfs_enable(const char *cg, bool self, bool leaf, void (*done)(const char *cg));
int cgfs_mkdir(const char *cg);
int cgfs_rmdir(const char *cg);
struct pool_stat *stats_pool(struct cg_stats *st, const char *name);
const char *cg_show(const char *cg);	/* "/" + cg, for people */

/*
 * systemd.c: cgroups systemd owns. The checks return 0, or fail()'s status
 * (EXIT_OWNED; run: the status given) with the systemctl/systemd-run fix.
 */
#define SD_UNIT_MAX	256
struct sd_owner {
	bool managed;		/* a systemd manager's: the root or a unit's cgroup */
	bool delegated;		/* trusted.delegate / user.delegate "1" */
	bool nested;		/* delegated to a manager (it has an init.scope child) */
	int uid;		/* its manager: -1 the system's, UID a user's, -2 a container's */
	int inner_uid;		/* nested: the same for the manager below it */
	char unit[SD_UNIT_MAX];	/* managed: its unit ("-.slice" for the root) */
	char mgr_unit[SD_UNIT_MAX];	/* uid -2: the container's unit */
	char name[SD_UNIT_MAX];	/* its last path component */
};
int systemd_opt(const char *arg);	/* --systemd auto|yes|stock|no: 0 or EXIT_USAGE */
bool systemd_active(void);		/* /run/systemd/system/ exists, or --systemd */
bool systemd_manages_dmabuf(void);	/* it knows the controller (not a stock one) */
bool systemd_writable(const char *cg);	/* cgroups may be made in cg */
const char *systemd_mode(void);	/* "yes", "stock" or "no", as in effect */
void systemd_owner(const char *cg, size_t len, struct sd_owner *o);	/* of cg's first len bytes */
int systemd_check_limits(const char *cg, const char *lines);	/* set: dmabuf.pinned.max */
int systemd_check_enable(const char *cg, bool subtree);	/* enable */
/* run --parent: mkdir and enable in cg; fix NULL: the systemd-run one */
int systemd_check_parent(const char *cg, int status, const char *fix);

/* commands: argv[0] is the command's name, optind 0 (getopt_long) */
int cmd_show(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_enable(int argc, char **argv);
int cmd_cgroup(int argc, char **argv);
int cmd_pool(int argc, char **argv);
int cmd_pins(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_export(int argc, char **argv);

/*
 * main.c: the commands' option parsing. cmd_getopt() is getopt_long() over
 * a command's own options plus the global -b, -j, -p and -h (handled here
 * but -h, returned as 'h'); an unknown option or a missing value is
 * reported with usage_error() and returned as '?'.
 */
struct option;
int cmd_getopt(int argc, char **argv, const char *shortopts,
	       const struct option *longopts, const char *usage);
extern const char *cgroup_root_opt;	/* --cgroup-root */
extern const char *debugfs_root_opt;	/* --debugfs-root */
int global_opt(const char *arg);	/* 1 if it was -b/-j/-p */
bool help_opt(const char *arg);
int parse_pid(const char *s, pid_t *pid);
/* getopt_long's last long option as written; a prefix of its name? */
const char *long_opt_arg(char **argv);
bool abbreviated(const char *arg, const char *name);	/* 0, or -1 if not a pid */
int usage_error(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
