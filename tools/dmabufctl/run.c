// SPDX-License-Identifier: GPL-2.0
/*
 * dmabufctl run: a command in a child cgroup with dmabuf limits, removed
 * when the command is done.
 *
 * Exit status as env(1), timeout(1), chroot(1) have it: 125 for dmabufctl's
 * own failures (usage, a refused parent, a cgroup that cannot be made),
 * 126 COMMAND found but not executable, 127 not found, else COMMAND's
 * status, 128+N if it was killed by signal N.
 *
 * Under systemd (without --parent), the caller's cgroup is a unit's, which
 * systemd owns: nothing of the caller moves. A child goes through
 * systemd-run --scope -p Delegate=yes, which puts it into a new transient
 * scope delegated to it and execs `dmabufctl run --parent-is-self=FD`
 * there: that one makes the limited cgroup inside the scope and runs
 * COMMAND. Through FD it tells the first that it started, so that a
 * failure of systemd-run itself is told from COMMAND's status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dmabufctl.h"

static const char usage[] = "dmabufctl run [-l POOL=SIZE]... [--parent CGROUP] [--] COMMAND [ARGS]";

static const char help[] =
"usage: dmabufctl run [-l POOL=SIZE]... [--parent CGROUP] [--] COMMAND [ARGS]\n"
"\n"
"Runs COMMAND in a new child cgroup (dmabufctl-run.PID) with limits, and\n"
"removes the cgroup when COMMAND is done.\n"
"\n"
"  -l, --limit POOL=SIZE  a limit (SIZE: 512M, 1.5G, max; POOL: a name or a\n"
"                         /dev path); repeatable\n"
"      --parent CGROUP    the parent of the new cgroup\n"
"      --systemd auto|yes|stock|no   whether systemd manages the host\n"
"                         (default: auto; see dmabufctl --help)\n"
"\n"
"Under systemd without --parent, COMMAND runs in a new transient scope\n"
"(systemd-run --scope -p Delegate=yes, with --user if not root), the cgroup\n"
"inside it; the caller's own processes are not moved. --parent must be a\n"
"cgroup systemd does not manage, or one delegated to the caller. Without\n"
"systemd, the parent is the caller's own cgroup by default; it gets dmabuf\n"
"in its cgroup.subtree_control, its own processes moved into PARENT/leaf\n"
"first (cgroup v2 allows controllers only in cgroups without processes).\n"
"Refused pins are reported on stderr (in JSON with -j, after COMMAND's\n"
"output).\n"
"\n"
"Exit status: 125 dmabufctl failed, 126 COMMAND is not executable, 127 not\n"
"found, else COMMAND's status, 128+N if it was killed by signal N.\n";

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

/* What went wrong in a child before COMMAND ran, sent through a pipe. */
enum { MSG_STARTED, MSG_JOIN, MSG_EXEC };

static void send_msg(int fd, int what, int err)
{
	int m[2] = { what, err };

	if (write(fd, m, sizeof(m)) < 0)
		return;
}

static ssize_t recv_msg(int fd, int m[2])
{
	ssize_t got;

	do
		got = read(fd, m, 2 * sizeof(int));
	while (got < 0 && errno == EINTR);
	return got;
}

static int wait_child(void)
{
	int status = 0, r;

	while ((r = waitpid(child, &status, 0)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return fail(EXIT_RUN, NULL, "waiting for the command: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void signals(void)
{
	signal(SIGINT, SIG_IGN);	/* the terminal's go to the command */
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTERM, forward);
	signal(SIGHUP, forward);
	fflush(NULL);
}

/* In the child: join CG, exec. A failure goes to the parent through `fd`. */
static void __attribute__((noreturn)) start(const char *cg, char **argv, int fd)
{
	char pid[32];
	int r;

	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	r = cgfs_write(cg, "cgroup.procs", pid);
	if (r) {
		send_msg(fd, MSG_JOIN, -r);
		_exit(EXIT_RUN);
	}
	execvp(argv[0], argv);
	r = errno;
	send_msg(fd, MSG_EXEC, r);
	_exit(r == ENOENT ? 127 : 126);
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

/*
 * Under systemd: `systemd-run --scope ... -- dmabufctl run --parent-is-self=FD
 * [options] -- COMMAND` in a child; the caller stays where it is.
 */
static int via_scope(char **argv, int argc, const struct limit *lim, int nlim)
{
	char exe[PATH_MAX], fdopt[64], mode_opt[32], *desc = NULL, *limits[MAX_POOLS];
	char **av;
	int i, n = 0, m[2], pfd[2], status;
	ssize_t len, got;

	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len < 0)
		return fail(EXIT_RUN, NULL, "cannot find my own binary (/proc/self/exe): %s", strerror(errno));
	exe[len] = '\0';
	av = calloc(argc + 2 * nlim + 32, sizeof(*av));
	if (!av || asprintf(&desc, "dmabufctl run %s", argv[0]) < 0 || pipe2(pfd, O_CLOEXEC))
		return fail(EXIT_RUN, NULL, "%s", strerror(errno));
	av[n++] = "systemd-run";
	av[n++] = "--scope";
	av[n++] = "--quiet";
	av[n++] = "--collect";
	if (geteuid())
		av[n++] = "--user";
	av[n++] = "-p";
	av[n++] = "Delegate=yes";
	av[n++] = "--description";
	av[n++] = desc;
	av[n++] = "--";
	av[n++] = exe;
	if (cgroup_root_opt) {
		av[n++] = "--cgroup-root";
		av[n++] = (char *)cgroup_root_opt;
	}
	av[n++] = "run";
	snprintf(mode_opt, sizeof(mode_opt), "--systemd=%s", systemd_mode());
	av[n++] = mode_opt;	/* as found out here: yes or stock */
	if (opt.pretty)
		av[n++] = "-p";
	else if (opt.json)
		av[n++] = "-j";
	if (opt.bytes)
		av[n++] = "-b";
	snprintf(fdopt, sizeof(fdopt), "--parent-is-self=%d", pfd[1]);
	av[n++] = fdopt;
	for (i = 0; i < nlim; i++) {
		if (lim[i].max == UNLIMITED ? asprintf(&limits[i], "--limit=%s=max", lim[i].pool) < 0 :
		    asprintf(&limits[i], "--limit=%s=%llu", lim[i].pool, (unsigned long long)lim[i].max) < 0)
			return fail(EXIT_RUN, NULL, "%s", strerror(errno));
		av[n++] = limits[i];
	}
	av[n++] = "--";
	for (i = 0; i < argc; i++)
		av[n++] = argv[i];
	av[n] = NULL;

	signals();
	child = fork();
	if (child < 0)
		return fail(EXIT_RUN, NULL, "fork: %s", strerror(errno));
	if (!child) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		fcntl(pfd[1], F_SETFD, 0);	/* through systemd-run to the scope */
		execvp(av[0], av);
		send_msg(pfd[1], MSG_EXEC, errno);
		_exit(EXIT_RUN);
	}
	close(pfd[1]);
	got = recv_msg(pfd[0], m);
	close(pfd[0]);
	status = wait_child();
	free(av);
	free(desc);
	for (i = 0; i < nlim; i++)
		free(limits[i]);
	if (got == (ssize_t)sizeof(m) && m[0] == MSG_STARTED)
		return status;	/* the inner run's, COMMAND's */
	if (got == (ssize_t)sizeof(m))
		return fail(EXIT_RUN, m[1] == ENOENT ?
			    "install systemd-run (package systemd), or give --parent a cgroup delegated to you" : NULL,
			    "cannot run systemd-run: %s", strerror(m[1]));
	return fail(EXIT_RUN, geteuid() ? "is there a user manager (systemctl --user status) and its bus ($XDG_RUNTIME_DIR/bus)? Or give --parent a cgroup delegated to you" :
		    "see systemd-run's error above; or give --parent a cgroup systemd does not manage",
		    "systemd-run could not start a transient scope (it exited with %d)", status);
}

/* The limits as one write: "POOL BYTES\n" lines. */
static int parse_limit(const char *l, struct limit *lim, char *lines, size_t size, size_t *len)
{
	char pool[POOL_NAME_MAX];
	const char *eq = strrchr(l, '=');

	if (!eq || eq == l)
		return fail(EXIT_RUN, fixf("usage: %s", usage), "a limit is POOL=SIZE, not '%s'", l);
	snprintf(pool, sizeof(pool), "%.*s", (int)(eq - l), l);
	if (pool_from_arg(pool, lim->pool, sizeof(lim->pool)))
		return fail(EXIT_RUN, "give a pool name (see `dmabufctl pool`), /dev/udmabuf or /dev/dma_heap/NAME",
			    "bad pool '%s'", pool);
	if (size_parse(eq + 1, &lim->max))
		return fail(EXIT_RUN, "give bytes, or a size like 512M, 4G, 1.5G (K, M, G, T: powers of 1024), or max",
			    "bad size '%s'", eq + 1);
	*len += snprintf(lines + *len, size - *len, lim->max == UNLIMITED ? "%s max\n" : "%s %llu\n",
			 lim->pool, (unsigned long long)lim->max);
	if (*len >= size)
		return fail(EXIT_RUN, fixf("usage: %s", usage), "too many limits");
	return 0;
}

/* --parent-is-self: into PARENT/leaf first, so that PARENT may have controllers. */
static int leave_parent(const char *parent)
{
	char leaf[CG_MAX], pid[32];
	int r;

	snprintf(leaf, sizeof(leaf), "%.*s%sleaf", CG_MAX - 8, parent, *parent ? "/" : "");
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (mkdir(fixf("%s/%s", cgfs_root(), leaf), 0755) && errno != EEXIST)
		return fail(EXIT_RUN, NULL, "cannot create %s/%s: %s", cgfs_root(), leaf, strerror(errno));
	r = cgfs_write(leaf, "cgroup.procs", pid);
	if (r)
		return fail(EXIT_RUN, NULL, "cannot move into %s/%s: %s", cgfs_root(), leaf, strerror(-r));
	return 0;
}

enum { OPT_PARENT = 0x200, OPT_SELF, OPT_SYSTEMD };

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "limit", required_argument, NULL, 'l' },
		{ "parent", required_argument, NULL, OPT_PARENT },
		{ "parent-is-self", optional_argument, NULL, OPT_SELF },
		{ "systemd", required_argument, NULL, OPT_SYSTEMD },
		{ "bytes", no_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char parent[CG_MAX], cg[CG_MAX], lines[4096];
	const char *parent_arg = NULL;
	struct limit lim[MAX_POOLS];
	int i, c, r, nlim = 0, status, pfd[2], m[2], self_fd = -1, first, idx = -1;
	bool self = false;
	size_t len = 0;
	ssize_t got;
	char *end;

	/* Ignored SIGCHLD is inherited across exec: waitpid() would fail. */
	signal(SIGCHLD, SIG_DFL);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:l:bjph", longopts, &idx)) != -1) {
		if (c != '?' && c != ':' && idx >= 0 && abbreviated(long_opt_arg(argv), longopts[idx].name))
			return fail(EXIT_RUN, fixf("usage: %s", usage),
				    "unknown option '%s' (options are not abbreviated: --%s)",
				    long_opt_arg(argv), longopts[idx].name);
		idx = -1;
		switch (c) {
		case 'l':
			if (nlim == MAX_POOLS)
				return fail(EXIT_RUN, fixf("usage: %s", usage), "too many limits");
			if (parse_limit(optarg, &lim[nlim], lines, sizeof(lines), &len))
				return EXIT_RUN;
			nlim++;
			break;
		case OPT_PARENT:
			parent_arg = optarg;
			break;
		case OPT_SELF:
			self = true;
			if (optarg) {
				self_fd = strtol(optarg, &end, 10);
				if (*end || self_fd < 0)
					return fail(EXIT_RUN, fixf("usage: %s", usage),
						    "bad --parent-is-self '%s'", optarg);
			}
			break;
		case OPT_SYSTEMD:
			if (systemd_opt(optarg))
				return EXIT_RUN;
			break;
		case 'b':
			global_opt("-b");
			break;
		case 'j':
			global_opt("-j");
			break;
		case 'p':
			global_opt("-p");
			break;
		case 'h':
			fputs(help, stdout);
			return 0;
		case ':':
			return fail(EXIT_RUN, fixf("usage: %s", usage), "%s needs a value", argv[optind - 1]);
		default:
			if (optopt && optopt < 0x100)
				return fail(EXIT_RUN, fixf("usage: %s", usage), "unknown option '-%c'", optopt);
			return fail(EXIT_RUN, fixf("usage: %s", usage), "unknown option '%s'", argv[optind - 1]);
		}
	}
	first = optind;
	if (self_fd >= 0) {	/* the scope is there: the caller waits for COMMAND's status */
		send_msg(self_fd, MSG_STARTED, 0);
		close(self_fd);
	}
	if (first >= argc)
		return fail(EXIT_RUN, fixf("usage: %s", usage), "no COMMAND given");
	if (self && parent_arg)
		return fail(EXIT_RUN, fixf("usage: %s", usage), "--parent or --parent-is-self, not both");
	argv += first;
	argc -= first;
	r = cgfs_init(cgroup_root_opt);
	if (!r)
		r = cgfs_resolve(parent_arg, parent, sizeof(parent));
	/*
	 * Under systemd, the caller's own cgroup is the parent only if it is
	 * delegated (a Delegate=yes service) or no unit's: a session scope is
	 * systemd's, and its processes stay where they are.
	 */
	if (!r && !parent_arg && !self && systemd_active() && !systemd_writable(parent))
		return via_scope(argv, argc, lim, nlim);
	for (i = 0; !r && i < nlim; i++)
		r = cgfs_check_pool(lim[i].pool);
	if (!r && (parent_arg || self || systemd_active()))
		r = systemd_check_parent(parent, EXIT_RUN, self ?
					 "systemd-run's scope must be delegated with dmabuf (Delegate=yes): that needs the patched systemd of Documentation/systemd.md; or give --parent a cgroup delegated to you" :
					 NULL);
	if (!r && self && systemd_active())
		r = leave_parent(parent);
	if (!r)
		r = cgfs_enable(parent, true, true, NULL);
	if (r)
		return EXIT_RUN;
	snprintf(cg, sizeof(cg), "%.*s%sdmabufctl-run.%d", CG_MAX - 32, parent, *parent ? "/" : "", (int)getpid());
	if (cgfs_mkdir(cg))
		return EXIT_RUN;
	if (nlim && (r = cgfs_write(cg, "dmabuf.pinned.max", lines))) {
		fail(EXIT_RUN, NULL, "cannot set the limits in %s/%s/dmabuf.pinned.max: %s",
		     cgfs_root(), cg, strerror(-r));
		cgfs_rmdir(cg);
		return EXIT_RUN;
	}
	if (pipe2(pfd, O_CLOEXEC)) {
		cgfs_rmdir(cg);
		return fail(EXIT_RUN, NULL, "pipe: %s", strerror(errno));
	}
	signals();
	child = fork();
	if (child < 0) {
		cgfs_rmdir(cg);
		return fail(EXIT_RUN, NULL, "fork: %s", strerror(errno));
	}
	if (!child)
		start(cg, argv, pfd[1]);
	close(pfd[1]);
	got = recv_msg(pfd[0], m);
	close(pfd[0]);
	status = wait_child();
	if (got == (ssize_t)sizeof(m)) {
		cgfs_rmdir(cg);
		if (m[0] == MSG_JOIN)
			return fail(EXIT_RUN, m[1] == EACCES || m[1] == EPERM ?
				    "run it inside a cgroup delegated to you, or give one with --parent" : NULL,
				    "cannot move into %s/%s: %s", cgfs_root(), cg, strerror(m[1]));
		return fail(m[1] == ENOENT ? 127 : 126, NULL, "cannot run %s: %s", argv[0], strerror(m[1]));
	}
	report(cg, status, argv, lim, nlim);
	if (cgfs_rmdir(cg)) {
		out_end(EXIT_SYS);	/* said, but the command's status wins */
		exit(status);
	}
	return status;
}
