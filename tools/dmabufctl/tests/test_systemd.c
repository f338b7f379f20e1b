// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of dmabufctl under systemd (cmocka): the built binary
 * ($DMABUFCTL) with --systemd yes on a fake cgroupfs tree shaped like
 * systemd's, delegation marked with the xattrs systemd sets
 * (trusted.delegate, user.delegate: root on ext4/tmpfs can set both):
 *
 *   system.slice/x.service            a service, not delegated
 *   system.slice/x.service/sub        made there by someone (not systemd's)
 *   system.slice/d.service/sub        a delegated service (trusted.delegate)
 *   system.slice/_cpu.odd.service     cg_escape()d: the unit cpu.odd.service
 *   system.slice/nodm.service         in a slice without dmabuf enabled
 *   user.slice/user-1000.slice/user@1000.service   delegated (user.delegate),
 *       init.scope, app.slice/app-x.scope, app.slice/deleg.scope/work
 *       (the user manager's units; deleg.scope delegated again)
 *   machine.slice/machine-c1.scope    a container: delegated, init.scope,
 *       system.slice/y.service inside
 *   job, job/a                        not systemd's
 *
 * (mkdir and rmdir made cgroup-like by fakecgfs.so, $FAKECGFS, preloaded)
 * and `run`'s exit statuses: 125 its own failures, 126, 127, COMMAND's,
 * 128+N; the transient scope through a systemd-run stand-in on $PATH.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

static const char *ctl;		/* the binary */
static const char *fakecgfs;	/* LD_PRELOAD: the kernel's side of mkdir/rmdir */
static char root[256];		/* the fake tree */
static char bin[300];		/* the systemd-run stand-ins */

static struct result {
	int status;
	char out[65536], err[8192];
} r;

static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
	static char bufs[4][4096];
	static int i;
	char *b = bufs[i++ & 3];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof(bufs[0]), f, ap);
	va_end(ap);
	return b;
}

static void put(const char *rel, const char *form, ...)
{
	char path[2048];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	*strrchr(path, '/') = '\0';
	assert_int_equal(system(fmt("mkdir -p '%s'", path)), 0);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	va_start(ap, form);
	vfprintf(f, form, ap);
	va_end(ap);
	fclose(f);
}

static char *get(const char *rel)
{
	static char buf[4096];
	char path[2048];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* A cgroup with the dmabuf files ("" the root), dmabuf in subtree_control if `sub`. */
static void mkcg(const char *cg, bool sub)
{
	const char *sep = *cg ? "/" : "";

	put(fmt("%s%scgroup.controllers", cg, sep), "cpu memory dmabuf\n");
	put(fmt("%s%scgroup.subtree_control", cg, sep), "%s", sub ? "memory dmabuf\n" : "memory\n");
	put(fmt("%s%scgroup.procs", cg, sep), "%s", "");
	put(fmt("%s%sdmabuf.pinned.current", cg, sep), "udmabuf 0\ndma_heap/system 0\n");
	if (!*cg) {
		put("dmabuf.capacity", "udmabuf max\ndma_heap/system 1073741824\n");
		return;
	}
	put(fmt("%s/dmabuf.pinned.peak", cg), "udmabuf 0\ndma_heap/system 0\n");
	put(fmt("%s/dmabuf.pinned.max", cg), "udmabuf max\ndma_heap/system max\n");
	put(fmt("%s/dmabuf.pinned.events", cg), "udmabuf max=0\ndma_heap/system max=0\n");
	put(fmt("%s/dmabuf.pinned.events.local", cg), "udmabuf max=0\ndma_heap/system max=0\n");
	put(fmt("%s/dmabuf.pinned.stat", cg), "udmabuf pins=0 refused=0\ndma_heap/system pins=0 refused=0\n");
}

static void delegate(const char *cg, const char *xattr)
{
	if (setxattr(fmt("%s/%s", root, cg), xattr, "1", 1, 0))
		fail_msg("setxattr %s on %s: %s", xattr, cg, strerror(errno));
}

static int setup(void **state)
{
	static const char *const tree[] = {
		"system.slice", "system.slice/x.service", "system.slice/x.service/sub",
		"system.slice/d.service", "system.slice/d.service/sub", "system.slice/_cpu.odd.service",
		"user.slice", "user.slice/user-1000.slice", "user.slice/user-1000.slice/user@1000.service",
		"user.slice/user-1000.slice/user@1000.service/init.scope",
		"user.slice/user-1000.slice/user@1000.service/app.slice",
		"user.slice/user-1000.slice/user@1000.service/app.slice/app-x.scope",
		"user.slice/user-1000.slice/user@1000.service/app.slice/deleg.scope",
		"user.slice/user-1000.slice/user@1000.service/app.slice/deleg.scope/work",
		"machine.slice", "machine.slice/machine-c1.scope", "machine.slice/machine-c1.scope/init.scope",
		"machine.slice/machine-c1.scope/system.slice",
		"machine.slice/machine-c1.scope/system.slice/y.service",
		"job", "job/a",
	};
	size_t i;

	(void)state;
	snprintf(root, sizeof(root), "/tmp/dmabufctl-sd.XXXXXX");
	assert_non_null(mkdtemp(root));
	mkcg("", true);
	for (i = 0; i < sizeof(tree) / sizeof(tree[0]); i++)
		mkcg(tree[i], !strstr(tree[i], "x.service") && strcmp(tree[i], "job/a"));
	/* a slice whose children have no dmabuf yet */
	put("system.slice/nodm.slice/cgroup.subtree_control", "memory\n");
	put("system.slice/nodm.slice/cgroup.controllers", "memory dmabuf\n");
	put("system.slice/nodm.slice/nodm.service/cgroup.controllers", "memory\n");
	put("system.slice/nodm.slice/nodm.service/cgroup.subtree_control", "%s", "");
	delegate("system.slice/d.service", "trusted.delegate");
	delegate("user.slice/user-1000.slice/user@1000.service", "user.delegate");
	delegate("user.slice/user-1000.slice/user@1000.service/app.slice/deleg.scope", "trusted.delegate");
	delegate("machine.slice/machine-c1.scope", "trusted.delegate");
	/* not "1": not delegated */
	assert_int_equal(setxattr(fmt("%s/system.slice/x.service", root), "trusted.delegate", "0", 1, 0), 0);
	snprintf(bin, sizeof(bin), "%s/bin", root);
	mkdir(bin, 0755);
	setenv("PATH", fmt("%s:%s", bin, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin"), 1);
	setenv("FAKECGFS_ROOT", root, 1);	/* where fakecgfs.so acts */
	unsetenv("DMABUFCTL_CGROUP_ROOT");
	unsetenv("DMABUFCTL_SYSTEMD");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return system(fmt("rm -rf '%s'", root));
}

static void slurp(int fd, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t k;

	lseek(fd, 0, SEEK_SET);
	while (got < n - 1 && (k = read(fd, buf + got, n - 1 - got)) > 0)
		got += k;
	buf[got] = '\0';
}

/* dmabufctl --cgroup-root ROOT ARGS... NULL: status, stdout and stderr in r. */
static int run(const char *arg, ...)
{
	char *argv[64], of[] = "/tmp/dmabufctl-out.XXXXXX", ef[] = "/tmp/dmabufctl-err.XXXXXX";
	int i = 0, o, e, st;
	va_list ap;
	pid_t pid;

	argv[i++] = (char *)ctl;
	argv[i++] = "--cgroup-root";
	argv[i++] = root;
	va_start(ap, arg);
	for (; arg && i < 63; arg = va_arg(ap, const char *))
		argv[i++] = (char *)arg;
	va_end(ap);
	argv[i] = NULL;
	o = mkstemp(of);
	e = mkstemp(ef);
	assert_true(o >= 0 && e >= 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(o, 1);
		dup2(e, 2);
		setenv("LD_PRELOAD", fakecgfs, 1);
		execv(ctl, argv);
		_exit(99);
	}
	waitpid(pid, &st, 0);
	slurp(o, r.out, sizeof(r.out));
	slurp(e, r.err, sizeof(r.err));
	close(o);
	close(e);
	unlink(of);
	unlink(ef);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return r.status;
}

#define RUN(want, ...) do {						\
	int _s = run(__VA_ARGS__, (char *)NULL);			\
	if (_s != (want))						\
		fail_msg("status %d, want %d\nstdout: %s\nstderr: %s",	\
			 _s, (want), r.out, r.err);			\
} while (0)

#define HAS(s, sub) do {						\
	if (!strstr((s), (sub)))					\
		fail_msg("'%s' not in:\n%s", (sub), (s));		\
} while (0)

#define HASNT(s, sub) do {						\
	if (strstr((s), (sub)))						\
		fail_msg("'%s' in:\n%s", (sub), (s));			\
} while (0)

#define U1000 "user.slice/user-1000.slice/user@1000.service"

/* set: a unit's cgroup is refused with its set-property, status 3 */
static void test_set_owned(void **state)
{
	(void)state;
	RUN(3, "--systemd", "yes", "set", "system.slice/x.service", "udmabuf", "8M", "/dev/dma_heap/system", "max");
	HAS(r.err, "/system.slice/x.service is the cgroup of the unit x.service, which systemd owns");
	HAS(r.err, "systemctl set-property x.service \"DMABufPinnedMax=udmabuf 8388608\" \"DMABufPinnedMax=dma_heap/system max\"");
	HAS(r.err, "--runtime");
	assert_string_equal(get("system.slice/x.service/dmabuf.pinned.max"), "udmabuf max\ndma_heap/system max\n");
	/* in JSON too, with status 3 */
	RUN(3, "--systemd", "yes", "-j", "set", "/system.slice/x.service", "udmabuf", "8M");
	HAS(r.out, "\"status\":3");
	HAS(r.out, "systemctl set-property x.service");
	/* a slice, an absolute path, cg_escape's '_' */
	RUN(3, "--systemd", "yes", "set", fmt("%s/system.slice", root), "udmabuf", "1G");
	HAS(r.err, "systemctl set-property system.slice \"DMABufPinnedMax=udmabuf 1073741824\"");
	RUN(3, "--systemd", "yes", "set", "system.slice/_cpu.odd.service", "udmabuf", "1G");
	HAS(r.err, "systemctl set-property cpu.odd.service ");
	/* a delegated unit's own limit is still systemd's */
	RUN(3, "--systemd", "yes", "set", "system.slice/d.service", "udmabuf", "1G");
	HAS(r.err, "systemctl set-property d.service");
	HAS(r.err, "a child cgroup of the delegated unit");
	/* the user manager's units (user@1000.service delegated with user.delegate) */
	RUN(3, "--systemd", "yes", "set", U1000 "/app.slice", "udmabuf", "4M");
	HAS(r.err, "which the user manager of UID 1000 (systemd --user) owns");
	HAS(r.err, "as user 1000: systemctl --user set-property app.slice \"DMABufPinnedMax=udmabuf 4194304\"");
	RUN(3, "--systemd", "yes", "set", U1000 "/app.slice/app-x.scope", "udmabuf", "4M");
	HAS(r.err, "systemctl --user set-property app-x.scope");
	/* user@1000.service's own is the system manager's */
	RUN(3, "--systemd", "yes", "set", U1000, "udmabuf", "4M");
	HAS(r.err, "dmabufctl: /" U1000 " is the cgroup of the unit user@1000.service, which systemd owns");
	HASNT(r.err, "--user");
	/* a container's manager */
	RUN(3, "--systemd", "yes", "set", "machine.slice/machine-c1.scope/system.slice/y.service", "udmabuf", "4M");
	HAS(r.err, "inside machine-c1.scope: systemctl set-property y.service");
}

/* set: allowed where systemd does not manage */
static void test_set_allowed(void **state)
{
	(void)state;
	RUN(0, "--systemd", "yes", "set", "system.slice/d.service/sub", "udmabuf", "8M");
	assert_string_equal(get("system.slice/d.service/sub/dmabuf.pinned.max"), "udmabuf 8388608\n");
	RUN(0, "--systemd", "yes", "set", U1000 "/app.slice/deleg.scope/work", "udmabuf", "1M");
	assert_string_equal(get(U1000 "/app.slice/deleg.scope/work/dmabuf.pinned.max"), "udmabuf 1048576\n");
	RUN(0, "--systemd", "yes", "set", "job", "udmabuf", "2M");
	RUN(0, "--systemd", "yes", "set", "system.slice/x.service/sub", "udmabuf", "2M");
	/* not under systemd: as before */
	RUN(0, "--systemd", "no", "set", "system.slice/x.service", "udmabuf", "3M");
	assert_string_equal(get("system.slice/x.service/dmabuf.pinned.max"), "udmabuf 3145728\n");
	put("system.slice/x.service/dmabuf.pinned.max", "udmabuf max\ndma_heap/system max\n");
	RUN(1, "--systemd", "maybe", "set", "job", "udmabuf", "2M");
	HAS(r.err, "bad --systemd 'maybe'");
}

/* enable: subtree_control writes only where allowed */
static void test_enable(void **state)
{
	(void)state;
	/* nothing to write: the ancestors have dmabuf */
	RUN(0, "--systemd", "yes", "enable", "system.slice/x.service");
	/* x.service's own subtree_control: its children are systemd's to make */
	RUN(3, "--systemd", "yes", "enable", "system.slice/x.service", "--subtree");
	HAS(r.err, "cannot enable dmabuf in /system.slice/x.service: it is the cgroup of x.service, which systemd manages without delegating it");
	HAS(r.err, "Delegate=yes");
	assert_string_equal(get("system.slice/x.service/cgroup.subtree_control"), "memory\n");
	RUN(3, "--systemd", "yes", "enable", "system.slice/x.service/sub");
	HAS(r.err, "systemd-run --scope -p Delegate=yes");
	/* an ancestor slice without dmabuf: systemd enables it for the unit */
	RUN(3, "--systemd", "yes", "enable", "system.slice/nodm.slice/nodm.service");
	HAS(r.err, "cannot enable dmabuf in /system.slice/nodm.slice: it is the cgroup of nodm.slice");
	HAS(r.err, "systemctl set-property nodm.service DMABufAccounting=yes");
	assert_string_equal(get("system.slice/nodm.slice/cgroup.subtree_control"), "memory\n");
	/* the user manager's part of user@1000.service */
	put(U1000 "/cgroup.subtree_control", "memory\n");
	RUN(3, "--systemd", "yes", "enable", U1000 "/app.slice");
	HAS(r.err, "cannot enable dmabuf in /" U1000 ": it is delegated to the user manager of UID 1000, which manages what is below it");
	HAS(r.err, "as user 1000: systemctl --user set-property app.slice DMABufAccounting=yes");
	put(U1000 "/cgroup.subtree_control", "memory dmabuf\n");
	/* delegated subtrees: the delegatee's */
	put("system.slice/d.service/sub/cgroup.subtree_control", "memory\n");
	RUN(0, "--systemd", "yes", "enable", "system.slice/d.service/sub", "--subtree");
	HAS(get("system.slice/d.service/sub/cgroup.subtree_control"), "dmabuf");
	put("system.slice/d.service/cgroup.subtree_control", "memory\n");
	RUN(0, "--systemd", "yes", "enable", "system.slice/d.service/sub");
	HAS(get("system.slice/d.service/cgroup.subtree_control"), "dmabuf");
	RUN(0, "--systemd", "yes", "enable", "job/a", "--subtree");
	/* without systemd, as before */
	RUN(0, "--systemd", "no", "enable", "system.slice/x.service", "--subtree");
	put("system.slice/x.service/cgroup.subtree_control", "memory\n");
}

/* run --parent: the parent must be the caller's to use; exit statuses */
static void test_run_parent(void **state)
{
	(void)state;
	RUN(0, "--systemd", "yes", "run", "--parent", "system.slice/d.service", "true");
	/* COMMAND's status, its limit set in the child cgroup */
	RUN(2, "--systemd", "yes", "run", "-l", "udmabuf=8M", "--parent", "system.slice/d.service/sub", "--",
	    "sh", "-c", "cat \"$0\"/system.slice/d.service/sub/dmabufctl-run.*/dmabuf.pinned.max; exit 2", root);
	assert_string_equal(r.out, "udmabuf 8388608\n");
	assert_string_equal(r.err, "");
	RUN(7, "--systemd", "yes", "run", "--parent", U1000 "/app.slice/deleg.scope/work", "sh", "-c", "exit 7");
	RUN(0, "--systemd", "yes", "run", "--parent", "job", "true");
	RUN(128 + SIGKILL, "--systemd", "yes", "run", "--parent", "job", "sh", "-c", "kill -KILL $$");
	RUN(128 + SIGTERM, "run", "--systemd=no", "--parent", "job", "sh", "-c", "kill -TERM $$");
	RUN(127, "--systemd", "yes", "run", "--parent", "job", "/nonexistent/cmd");
	HAS(r.err, "cannot run /nonexistent/cmd: No such file or directory");
	RUN(126, "--systemd", "yes", "run", "--parent", "job", "/etc/passwd");
	HAS(r.err, "cannot run /etc/passwd: Permission denied");
	/* refused parents: 125, with systemd-run's way */
	RUN(125, "--systemd", "yes", "run", "--parent", "system.slice/x.service", "true");
	HAS(r.err, "will not create a cgroup in /system.slice/x.service: it is the cgroup of x.service, which systemd manages without delegating it");
	HAS(r.err, "systemd-run");
	HAS(r.err, "--scope -p Delegate=yes -- dmabufctl run");
	RUN(125, "--systemd", "yes", "run", "--parent", "/", "true");
	HAS(r.err, "will not create a cgroup in /: it is the root cgroup");
	RUN(125, "--systemd", "yes", "run", "--parent", U1000, "true");
	HAS(r.err, "delegated to the user manager of UID 1000");
	RUN(125, "--systemd", "yes", "-j", "run", "--parent", "system.slice/x.service", "true");
	HAS(r.out, "\"status\":125");
	/* x.service itself was not touched */
	assert_int_equal(access(fmt("%s/system.slice/x.service/leaf", root), F_OK), -1);
	assert_string_equal(get("system.slice/x.service/cgroup.subtree_control"), "memory\n");
	/* nothing left behind */
	assert_int_equal(system(fmt("ls -d %s/job/dmabufctl-run.* %s/system.slice/*/dmabufctl-run.* 2>/dev/null",
				    root, root)) == 0, 0);
}

/* run's own failures are 125, never a status COMMAND could have */
static void test_run_usage(void **state)
{
	(void)state;
	RUN(125, "run", "--systemd=no", "-l", "udmabuf=8M");
	HAS(r.err, "no COMMAND given: usage: dmabufctl run");
	RUN(125, "run", "--systemd=no", "-l", "udmabuf", "true");
	HAS(r.err, "a limit is POOL=SIZE, not 'udmabuf'");
	RUN(125, "run", "--systemd=no", "-l", "udmabuf=8X", "true");
	RUN(125, "run", "--systemd=no", "--frob", "true");
	HAS(r.err, "unknown option '--frob'");
	RUN(125, "run", "--systemd=no", "--parent");
	HAS(r.err, "needs a value");
	RUN(125, "run", "--systemd=no", "-l", "nosuch=1M", "--parent", "job", "true");
	HAS(r.err, "no such pool 'nosuch'");
	RUN(125, "run", "--systemd=no", "--parent", "nosuch", "true");
	HAS(r.err, "no such cgroup");
	RUN(125, "run", "--systemd=maybe", "true");
	/* the first non-option is COMMAND: its options are its own */
	RUN(3, "run", "--systemd=no", "--parent", "job", "sh", "-c", "exit 3", "-l", "x");
	RUN(0, "run", "--help");
	HAS(r.out, "125 dmabufctl failed");
}

static void stand_in(const char *script)
{
	FILE *f = fopen(fmt("%s/systemd-run", bin), "w");

	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s", script);
	fclose(f);
	assert_int_equal(chmod(fmt("%s/systemd-run", bin), 0755), 0);
}

/* run under systemd without --parent: through systemd-run, the caller stays */
static void test_run_scope(void **state)
{
	char *args;

	(void)state;
	/* systemd-run fails: 125, whatever its status */
	stand_in(fmt("printf '%%s\\n' \"$@\" > %s/args; echo 'Failed to start transient scope unit' >&2; exit 1\n", root));
	RUN(125, "--systemd", "yes", "run", "-l", "udmabuf=8M", "--limit=/dev/dma_heap/system=max", "--", "sh", "-c", "exit 0");
	HAS(r.err, "systemd-run could not start a transient scope (it exited with 1)");
	args = get("args");
	assert_non_null(args);
	HAS(args, "--scope\n--quiet\n--collect\n");
	HAS(args, "-p\nDelegate=yes\n");
	HAS(args, fmt("--\n%s\n--cgroup-root\n%s\nrun\n--systemd=yes\n--parent-is-self=", ctl, root));
	HAS(args, "--limit=udmabuf=8388608\n--limit=dma_heap/system=max\n--\nsh\n-c\nexit 0\n");
	if (geteuid())
		HAS(args, "--user\n");
	else
		HASNT(args, "--user\n");
	/* the caller was not moved: nothing made in the tree */
	assert_int_equal(system(fmt("find %s -name leaf -o -name 'dmabufctl-run.*' | grep -q .", root)) == 0, 0);
	/* COMMAND's status through the scope: a stand-in that execs what follows -- */
	stand_in("while [ \"$1\" != -- ]; do shift; done; shift; exec \"$@\"\n");
	/* (here the inner run finds the host's own cgroup, not a delegated one: 125 from it) */
	RUN(125, "--systemd", "yes", "run", "--", "true");
	HAS(r.err, "will not create a cgroup in /: it is the root cgroup");
	HAS(r.err, "systemd-run's scope must be delegated with dmabuf");
	/*
	 * A stand-in that execs the inner run with --systemd=no added (the
	 * host's own cgroup stands for the scope): its statuses pass through,
	 * so a 2 of COMMAND is COMMAND's, and 125 is the inner run's failure.
	 */
	stand_in("while [ \"$1\" != -- ]; do shift; done; shift\n"
		 "exe=$1 a=$2 b=$3 c=$4 d=$5; shift 5\n"
		 "[ \"$c$d\" = run--systemd=yes ] || exit 99\n"
		 "exec \"$exe\" \"$a\" \"$b\" \"$c\" \"$d\" --systemd=no \"$@\"\n");
	RUN(2, "--systemd", "yes", "run", "--", "sh", "-c", "exit 2");
	RUN(0, "--systemd", "yes", "run", "-l", "udmabuf=1M", "--", "sh", "-c",
	    "cat \"$0\"/dmabufctl-run.*/dmabuf.pinned.max", root);
	assert_string_equal(r.out, "udmabuf 1048576\n");
	RUN(127, "--systemd", "yes", "run", "--", "/nonexistent/cmd");
	RUN(125, "--systemd", "yes", "run", "-l", "nosuch=1M", "--", "true");
	HAS(r.err, "no such pool 'nosuch'");
	RUN(128 + SIGKILL, "--systemd", "yes", "run", "--", "sh", "-c", "kill -KILL $$");
	/* systemd-run missing */
	unlink(fmt("%s/systemd-run", bin));
	setenv("PATH", bin, 1);
	RUN(125, "--systemd", "yes", "run", "true");
	HAS(r.err, "cannot run systemd-run: No such file or directory");
	setenv("PATH", fmt("%s:/usr/local/bin:/usr/bin:/bin", bin), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_owned),
		cmocka_unit_test(test_set_allowed),
		cmocka_unit_test(test_enable),
		cmocka_unit_test(test_run_parent),
		cmocka_unit_test(test_run_usage),
		cmocka_unit_test(test_run_scope),
	};

	ctl = getenv("DMABUFCTL");
	if (!ctl) {
		fprintf(stderr, "set DMABUFCTL to the binary\n");
		return 1;
	}
	fakecgfs = getenv("FAKECGFS");
	if (!fakecgfs || access(fakecgfs, R_OK)) {
		fprintf(stderr, "set FAKECGFS to the built tests/fakecgfs.c (fakecgfs.so)\n");
		return 1;
	}
	if (geteuid()) {
		fprintf(stderr, "test_systemd: skipped, needs root for trusted.* xattrs\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
