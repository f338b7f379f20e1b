// SPDX-License-Identifier: GPL-2.0
/*
 * dmabufctl run: a command in a child cgroup with dmabuf limits, removed
 * when the command is done; dmabufctl exits with the command's status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dmabufctl.h"

static const char usage[] = "dmabufctl run [-l POOL=SIZE]... [--parent CGROUP] -- COMMAND [ARGS]";

static const char help[] =
"usage: dmabufctl run [-l POOL=SIZE]... [--parent CGROUP] -- COMMAND [ARGS]\n"
"\n"
"Creates a child cgroup (dmabufctl-run.PID) of the caller's own cgroup, or of\n"
"--parent CGROUP, sets its limits (-l, --limit POOL=SIZE, SIZE: 512M, 1.5G,\n"
"max; POOL: a name or a /dev path), runs COMMAND in it, removes it when\n"
"COMMAND is done and exits with COMMAND's status (128+N if killed by signal\n"
"N; 127 if it cannot be run). The parent gets dmabuf in its\n"
"cgroup.subtree_control; processes of its own are moved into PARENT/leaf\n"
"first, as cgroup v2 allows controllers only in cgroups without processes.\n"
"So it works as an unprivileged user inside a cgroup delegated to them.\n"
"Refused pins are reported on stderr (in JSON with -j, after COMMAND's output).\n";

struct limit {
	char pool[POOL_NAME_MAX];
	uint64_t max;
};

static pid_t child;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

/* In the child: join CG, exec. A failure goes to the parent through `fd`. */
static void __attribute__((noreturn)) start(const char *cg, char **argv, int fd)
{
	char pid[32];
	int r, e[2];

	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	r = cgfs_write(cg, "cgroup.procs", pid);
	if (r) {
		e[0] = 1;
		e[1] = -r;
	} else {
		execvp(argv[0], argv);
		e[0] = 2;
		e[1] = errno;
	}
	if (write(fd, e, sizeof(e)) < 0)
		_exit(127);
	_exit(e[0] == 2 && e[1] == ENOENT ? 127 : 126);
}

static void report(const char *cg, int status, char **cmd, struct limit *lim, int nlim)
{
	struct cg_stats st;
	char b[2][32];
	int i;

	if (cgfs_stats(cg, &st, false))
		st.n = 0;
	if (opt.json) {
		j_obj(NULL);
		j_obj("run");
		j_str("cgroup", cg_show(cg));
		j_str("command", cmd[0]);
		j_int("status", status);
		j_arr("pools");
	}
	for (i = 0; i < st.n; i++) {
		struct pool_stat *p = &st.p[i];
		bool limited = false;
		int l;

		for (l = 0; l < nlim; l++)
			limited |= !strcmp(lim[l].pool, p->name);
		if (opt.json) {
			j_obj(NULL);
			j_str("pool", p->name);
			j_limit("max", p->max);
			j_u64("peak", p->peak);
			j_u64("events", p->events);
			j_u64("refused", p->refused);
			j_end();
		} else if (p->refused) {
			note("pool %s: %llu pin%s refused (limit %s%s, peak %s)", p->name,
			     (unsigned long long)p->refused, p->refused == 1 ? "" : "s",
			     size_str(p->max, opt.bytes, b[0], 32),
			     limited ? "" : " here, or an ancestor's",
			     size_str(p->peak, opt.bytes, b[1], 32));
		}
	}
	if (opt.json) {
		j_end();
		j_end();
		j_end();
	}
}

int cmd_run(int argc, char **argv)
{
	char parent[CG_MAX], cg[CG_MAX], lines[4096], *eq, pool[POOL_NAME_MAX];
	const char *parent_arg = NULL, *l;
	struct limit lim[MAX_POOLS];
	int i, r, nlim = 0, status, pfd[2], e[2];
	size_t len = 0;
	ssize_t got;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (help_opt(a)) {
			fputs(help, stdout);
			return 0;
		}
		if (global_opt(a))
			continue;
		if ((!strcmp(a, "-l") || !strcmp(a, "--limit")) && i + 1 < argc)
			l = argv[++i];
		else if (!strncmp(a, "--limit=", 8) || (!strncmp(a, "-l", 2) && a[2]))
			l = a + (a[1] == 'l' ? 2 : 8);
		else if (!strcmp(a, "--parent") && i + 1 < argc) {
			parent_arg = argv[++i];
			continue;
		} else if (a[0] == '-')
			return usage_error(usage, "unknown option '%s'", a);
		else
			break;		/* the command */
		if (nlim == MAX_POOLS)
			return usage_error(usage, "too many limits");
		eq = strrchr(l, '=');
		if (!eq || eq == l)
			return usage_error(usage, "a limit is POOL=SIZE, not '%s'", l);
		snprintf(pool, sizeof(pool), "%.*s", (int)(eq - l), l);
		if (pool_from_arg(pool, lim[nlim].pool, sizeof(lim[nlim].pool)))
			return fail(EXIT_USAGE, "give a pool name (see `dmabufctl pool`), /dev/udmabuf or /dev/dma_heap/NAME",
				    "bad pool '%s'", pool);
		if (size_parse(eq + 1, &lim[nlim].max))
			return fail(EXIT_USAGE, "give bytes, or a size like 512M, 4G, 1.5G (K, M, G, T: powers of 1024), or max",
				    "bad size '%s'", eq + 1);
		len += snprintf(lines + len, sizeof(lines) - len, lim[nlim].max == UNLIMITED ? "%s max\n" : "%s %llu\n",
				lim[nlim].pool, (unsigned long long)lim[nlim].max);
		if (len >= sizeof(lines))
			return usage_error(usage, "too many limits");
		nlim++;
	}
	if (i == argc)
		return usage_error(usage, "no COMMAND given");
	argv += i;

	r = cgfs_init(cgroup_root_opt);
	if (!r)
		r = cgfs_resolve(parent_arg, parent, sizeof(parent));
	for (i = 0; !r && i < nlim; i++)
		r = cgfs_check_pool(lim[i].pool);
	if (!r)
		r = cgfs_enable(parent, true, true, NULL);
	if (r)
		return r;
	snprintf(cg, sizeof(cg), "%.*s%sdmabufctl-run.%d", CG_MAX - 32, parent, *parent ? "/" : "", (int)getpid());
	r = cgfs_mkdir(cg);
	if (r)
		return r;
	if (nlim && (r = cgfs_write(cg, "dmabuf.pinned.max", lines))) {
		fail(EXIT_SYS, NULL, "cannot set the limits in %s/%s/dmabuf.pinned.max: %s",
		     cgfs_root(), cg, strerror(-r));
		cgfs_rmdir(cg);
		return EXIT_SYS;
	}
	if (pipe2(pfd, O_CLOEXEC)) {
		cgfs_rmdir(cg);
		return fail(EXIT_SYS, NULL, "pipe: %s", strerror(errno));
	}
	signal(SIGINT, SIG_IGN);	/* the terminal's go to the command */
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTERM, forward);
	signal(SIGHUP, forward);
	fflush(NULL);
	child = fork();
	if (child < 0) {
		cgfs_rmdir(cg);
		return fail(EXIT_SYS, NULL, "fork: %s", strerror(errno));
	}
	if (!child)
		start(cg, argv, pfd[1]);
	close(pfd[1]);
	do
		got = read(pfd[0], e, sizeof(e));
	while (got < 0 && errno == EINTR);
	close(pfd[0]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (got == (ssize_t)sizeof(e)) {
		cgfs_rmdir(cg);
		if (e[0] == 1)
			return fail(EXIT_SYS, e[1] == EACCES || e[1] == EPERM ?
				    "run it inside a cgroup delegated to you, or give one with --parent" : NULL,
				    "cannot move into %s/%s: %s", cgfs_root(), cg, strerror(e[1]));
		return fail(status, NULL, "cannot run %s: %s", argv[0], strerror(e[1]));
	}
	report(cg, status, argv, lim, nlim);
	if (cgfs_rmdir(cg)) {
		out_end(EXIT_SYS);	/* said, but the command's status wins */
		exit(status);
	}
	return status;
}
