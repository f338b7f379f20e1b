/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmabufctl: the admin tool of the dmabuf cgroup controller (pinned
 * dma-buf memory limits). Shared declarations of its modules:
 *
 *   main.c     options, the object and command tables, dispatch
 *   size.c     sizes (parse "1.5G", print IEC) and pool names (/dev paths)
 *   output.c   text/JSON output, errors with their cause, fix and status
 *   cgfs.c     everything that touches cgroupfs (libcgroup or direct IO)
 *   pool.c, pins.c, cgroup.c, run.c, watch.c: the commands
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
void j_bool(const char *key, bool v);
void j_limit(const char *key, uint64_t v);	/* UNLIMITED is null */
void j_flush(void);
void out_stream(void);		/* watch: stream JSON to stdout */

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

/* commands */
int cmd_pool(int argc, char **argv);
int cmd_pins(int argc, char **argv);
int cmd_cgroup(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_watch(int argc, char **argv);

/* main.c: shared option handling of the commands */
int global_opt(const char *arg);	/* 1 if it was -j/-p/-b */
extern const char *cgroup_root_opt;	/* main.c: --cgroup-root */
bool help_opt(const char *arg);
int usage_error(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool matches(const char *arg, const char *word);

#endif
