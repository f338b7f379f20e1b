// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of dmabufctl (cmocka): sizes and pool names (linked from
 * size.c), and every command, in text and JSON, with every error path and
 * its exit status, run as the built binary ($DMABUFCTL) on a fake cgroupfs
 * tree in a temporary directory (--cgroup-root / DMABUFCTL_CGROUP_ROOT),
 * with fakecgfs.so ($FAKECGFS) preloaded into it for what cgroupfs does on
 * mkdir and rmdir: the binary runs its production code unchanged.
 * JSON is checked three times: by the small validator below, against
 * dmabufctl.schema.json ($DMABUFCTL_SCHEMA, python3-jsonschema), and its
 * content by python3 expressions.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dmabufctl.h"	/* before cmocka.h, whose fail() is a macro */

#include <cmocka.h>

static const char *ctl;		/* the binary */
static const char *fakecgfs;	/* LD_PRELOAD: the kernel's side of mkdir/rmdir */
static const char *schema;	/* dmabufctl.schema.json: every JSON output is checked */

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
static char root[256];		/* the fake tree */
static char own[1024];		/* the test's own cgroup, as in /proc/self/cgroup */

static struct result {
	int status;
	char out[65536], err[8192];
} r;

/* files */

static void put(const char *rel, const char *form, ...)
{
	char path[2048], *dir;
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	dir = strdup(path);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(system(fmt("mkdir -p '%s'", dir)), 0);
	free(dir);
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

/* A cgroup with the dmabuf files; "" is the root. */
static void mkcg(const char *cg, uint64_t cur, uint64_t max, int events, int pins)
{
	char p[1024];
	const char *sep = *cg ? "/" : "";

#define F(name) (snprintf(p, sizeof(p), "%s%s" name, cg, sep), p)
	put(F("cgroup.controllers"), "cpu memory dmabuf\n");
	put(F("cgroup.subtree_control"), "dmabuf\n");
	put(F("cgroup.procs"), "%s", "");
	put(F("dmabuf.pinned.current"), "udmabuf %llu\ndma_heap/system 0\n", (unsigned long long)cur);
	if (!*cg) {
		put("dmabuf.capacity", "udmabuf max\ndma_heap/system 1073741824\n");
		return;
	}
	put(F("dmabuf.pinned.peak"), "udmabuf %llu\ndma_heap/system 0\n", (unsigned long long)cur);
	if (max == UNLIMITED)
		put(F("dmabuf.pinned.max"), "udmabuf max\ndma_heap/system max\n");
	else
		put(F("dmabuf.pinned.max"), "udmabuf %llu\ndma_heap/system max\n", (unsigned long long)max);
	put(F("dmabuf.pinned.events"), "udmabuf max=%d\ndma_heap/system max=0\n", events);
	put(F("dmabuf.pinned.events.local"), "udmabuf max=%d\ndma_heap/system max=0\n", events);
	put(F("dmabuf.pinned.stat"), "udmabuf pins=%d refused=%d\ndma_heap/system pins=0 refused=0\n",
	    pins, events);
#undef F
}

/* A cgroup without the controller (its parent did not enable it). */
static void mkcg_plain(const char *cg)
{
	put(fmt("%s/cgroup.controllers", cg), "cpu memory\n");
	put(fmt("%s/cgroup.subtree_control", cg), "%s", "");
	put(fmt("%s/cgroup.procs", cg), "%s", "");
}

static int setup(void **state)
{
	FILE *f;
	char line[1024];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/dmabufctl-test.XXXXXX");
	assert_non_null(mkdtemp(root));
	setenv("DMABUFCTL_CGROUP_ROOT", root, 1);
	setenv("DMABUFCTL_SYSTEMD", "no", 1);	/* the same on a host systemd runs (test_systemd.c) */
	setenv("FAKECGFS_ROOT", root, 1);	/* where fakecgfs.so acts */
	mkcg("", 8388608, 0, 0, 0);
	mkcg("job", 8388608, 8388608, 1, 2);
	mkcg("job/a", 4194304, UNLIMITED, 0, 1);
	mkcg_plain("job/a/plain");
	mkcg("other", 0, 1610612736, 0, 0);
	/* the caller's own cgroup, whatever it is on this host */
	own[0] = '\0';
	f = fopen("/proc/self/cgroup", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::/", 4)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(own, sizeof(own), "%s", line + 4);
		}
	if (f)
		fclose(f);
	if (*own && access(fmt("%s/%s", root, own), F_OK))
		mkcg(own, 0, 4096, 0, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return system(fmt("rm -rf '%s'", root));
}

/* running dmabufctl */

static void slurp(int fd, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t k;

	while (got < n - 1 && (k = read(fd, buf + got, n - 1 - got)) > 0)
		got += k;
	buf[got] = '\0';
}

/* run(ARGS..., NULL): status, stdout and stderr in r. */
static int run(const char *arg, ...)
{
	char *argv[64];
	int i = 0, o[2], e[2], st;
	char of[] = "/tmp/dmabufctl-out.XXXXXX", ef[] = "/tmp/dmabufctl-err.XXXXXX";
	va_list ap;
	pid_t pid;

	argv[i++] = (char *)ctl;
	va_start(ap, arg);
	for (; arg && i < 63; arg = va_arg(ap, const char *))
		argv[i++] = (char *)arg;
	va_end(ap);
	argv[i] = NULL;
	o[0] = mkstemp(of);
	e[0] = mkstemp(ef);
	assert_true(o[0] >= 0 && e[0] >= 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(o[0], 1);
		dup2(e[0], 2);
		if (fakecgfs)
			setenv("LD_PRELOAD", fakecgfs, 1);
		execv(ctl, argv);
		_exit(99);
	}
	(void)o[1];
	(void)e[1];
	waitpid(pid, &st, 0);
	lseek(o[0], 0, SEEK_SET);
	lseek(e[0], 0, SEEK_SET);
	slurp(o[0], r.out, sizeof(r.out));
	slurp(e[0], r.err, sizeof(r.err));
	close(o[0]);
	close(e[0]);
	unlink(of);
	unlink(ef);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return r.status;
}

#define RUN(want, ...) do {						\
	int _s = run(__VA_ARGS__, (char *)NULL);				\
	if (_s != (want))						\
		fail_msg("status %d, want %d\nstdout: %s\nstderr: %s",	\
			 _s, (want), r.out, r.err);			\
} while (0)

#define HAS(s, sub) do {						\
	if (!strstr((s), (sub)))					\
		fail_msg("'%s' not in:\n%s", (sub), (s));		\
} while (0)

/* A JSON validator: the whole text is one value. */
static const char *jv(const char *p, int depth);

static const char *ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *jstring(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (; *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)p[i]))
						return NULL;
				p += 4;
			} else if (!strchr("\"\\/bfnrt", *p)) {
				return NULL;
			}
		}
	}
	return p + 1;
}

static const char *jv(const char *p, int depth)
{
	p = ws(p);
	if (depth > 32)
		return NULL;
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';

		p = ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				p = jstring(ws(p));
				if (!p || *(p = ws(p)) != ':')
					return NULL;
				p++;
			}
			p = jv(p, depth + 1);
			if (!p)
				return NULL;
			p = ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return jstring(p);
	if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (*p == '-' || isdigit((unsigned char)*p)) {
		char *end;

		strtod(p, &end);
		return end;
	}
	return NULL;
}

static bool json_valid(const char *s)
{
	const char *e = jv(s, 0);

	return e && !*ws(e);
}

/*
 * The content: python3 evaluates EXPR over d, the parsed document (strict
 * UTF-8), after checking it against dmabufctl.schema.json ($DMABUFCTL_SCHEMA,
 * python3-jsonschema). `lines`: a stream, one document per line; d is their
 * list.
 */
static void json_check_doc(const char *doc, const char *expr, bool lines)
{
	char f[] = "/tmp/dmabufctl-json.XXXXXX";
	int fd = mkstemp(f), st;

	if (!lines)
		assert_true(json_valid(doc));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, doc, strlen(doc)), (int)strlen(doc));
	close(fd);
	st = system(fmt("python3 -c 'import json, sys\n"
			 "t = open(sys.argv[1], encoding=\"utf-8\", errors=\"strict\").read()\n"
			 "docs = [json.loads(l) for l in t.split(\"\\n\") if l] if %d else [json.loads(t)]\n"
			 "if sys.argv[2]:\n"
			 " import jsonschema\n"
			 " s = json.load(open(sys.argv[2]))\n"
			 " for x in docs: jsonschema.validate(x, s)\n"
			 "d = docs if %d else docs[0]\n"
			 "sys.exit(0 if (%s) else 1)' %s '%s'", lines, lines, expr, f, schema ? schema : ""));
	unlink(f);
	if (st)
		fail_msg("JSON check '%s' failed on:\n%s", expr, doc);
}

static void json_check(const char *doc, const char *expr)
{
	json_check_doc(doc, expr, false);
}

/* The error document of a failed -j run, and the text on stderr. */
static void json_error(int status, const char *msg)
{
	json_check(r.out, fmt("d[\"error\"][\"status\"] == %d", status));
	HAS(r.out, msg);
	HAS(r.err, msg);
}

/* sizes and pool names */

static void test_size_parse(void **state)
{
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "0", 0 }, { "4096", 4096 }, { "1K", 1024 }, { "1k", 1024 },
		{ "512M", 512ULL << 20 }, { "4G", 4ULL << 30 }, { "1.5G", 3ULL << 29 },
		{ "1.5g", 3ULL << 29 }, { "4GiB", 4ULL << 30 }, { "8MB", 8ULL << 20 },
		{ "2T", 2ULL << 40 }, { "0.5K", 512 }, { "1.1K", 1126 }, { "100B", 100 },
		{ "max", UNLIMITED }, { "16384T", 1ULL << 54 },
	};
	static const char *const bad[] = {
		"", "x", "8X", "-1", "1.5.5", "M", ".", "1 M", "max ", "MAX", "1KK",
		"18446744073709551615", "18446744073709551616", "16777216T", "1Ki B", "+1",
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (size_parse(ok[i].s, &v))
			fail_msg("'%s' refused", ok[i].s);
		if (v != ok[i].v)
			fail_msg("'%s' is %llu, want %llu", ok[i].s, (unsigned long long)v,
				 (unsigned long long)ok[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!size_parse(bad[i], &v))
			fail_msg("'%s' accepted as %llu", bad[i], (unsigned long long)v);
}

static void test_size_str(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(size_str(0, false, b, sizeof(b)), "0");
	assert_string_equal(size_str(512, false, b, sizeof(b)), "512B");
	assert_string_equal(size_str(1024, false, b, sizeof(b)), "1KiB");
	assert_string_equal(size_str(8 << 20, false, b, sizeof(b)), "8MiB");
	assert_string_equal(size_str(3ULL << 29, false, b, sizeof(b)), "1.5GiB");
	assert_string_equal(size_str(5ULL << 40, false, b, sizeof(b)), "5TiB");
	assert_string_equal(size_str(UNLIMITED, false, b, sizeof(b)), "max");
	assert_string_equal(size_str(8 << 20, true, b, sizeof(b)), "8388608");
	assert_string_equal(size_str(UNLIMITED, true, b, sizeof(b)), "max");
}

static void test_pool_names(void **state)
{
	char p[POOL_NAME_MAX];

	(void)state;
	assert_int_equal(pool_from_arg("/dev/udmabuf", p, sizeof(p)), 0);
	assert_string_equal(p, "udmabuf");
	assert_int_equal(pool_from_arg("/dev/dma_heap/system", p, sizeof(p)), 0);
	assert_string_equal(p, "dma_heap/system");
	assert_int_equal(pool_from_arg("dma_heap/system", p, sizeof(p)), 0);
	assert_string_equal(p, "dma_heap/system");
	assert_int_equal(pool_from_arg("drm/0000:03:00.0/vram0", p, sizeof(p)), 0);
	assert_string_equal(p, "drm/0000:03:00.0/vram0");
	assert_int_equal(pool_from_arg("/dev/null", p, sizeof(p)), -1);
	assert_int_equal(pool_from_arg("/dev/dma_heap/", p, sizeof(p)), -1);
	assert_int_equal(pool_from_arg("/dev/dma_heap/a/b", p, sizeof(p)), -1);
	assert_int_equal(pool_from_arg("", p, sizeof(p)), -1);
	assert_int_equal(pool_from_arg("a b", p, sizeof(p)), -1);
	assert_int_equal(pool_from_arg("udmabuf", p, 4), -1);
}

/* general: usage, help, objects */

static void test_usage(void **state)
{
	static const char *const helps[][3] = {
		{ "--help" }, { "help" }, { "pool", "--help" }, { "cgroup", "-h" },
		{ "cgroup", "set", "--help" }, { "c", "enable", "help" }, { "watch", "--help" },
		{ "run", "--help" }, { "pins", "--help" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		RUN(0, helps[i][0], helps[i][1], helps[i][2]);
		HAS(r.out, "usage: dmabufctl");
	}
	RUN(0, "-V");
	HAS(r.out, "dmabufctl 1.0");
	RUN(1, NULL);
	HAS(r.err, "dmabufctl: no object given: see `dmabufctl --help`");
	RUN(1, "-j");
	json_error(1, "no object given");
	RUN(1, "frob");
	HAS(r.err, "unknown object 'frob': objects: pool, pins, cgroup, watch, run");
	RUN(1, "-p", "frob");
	json_error(1, "unknown object 'frob'");
	RUN(1, "--frob");
	HAS(r.err, "unknown option '--frob': usage: dmabufctl [OPTIONS]");
	RUN(1, "-j", "cgroup", "frob");
	json_error(1, "unknown command 'cgroup frob'");
	HAS(r.err, "`dmabufctl cgroup show frob`");
	RUN(1, "pool", "frob");
	HAS(r.err, "unknown argument 'frob': usage: dmabufctl pool [show]");
}

static void test_root_errors(void **state)
{
	char dir[300];

	(void)state;
	RUN(1, "--cgroup-root", "/nonexistent/x", "pool");
	HAS(r.err, "cgroup root /nonexistent/x: No such file or directory");
	RUN(1, "-j", "--cgroup-root=/nonexistent/x", "pool");
	json_error(1, "cgroup root /nonexistent/x");
	/* a cgroup v2 tree without the controller */
	snprintf(dir, sizeof(dir), "%s/job/a/plain", root);
	RUN(2, "--cgroup-root", dir, "pool");
	HAS(r.err, fmt("this kernel has no dmabuf cgroup controller (not in %s/cgroup.controllers): "
			"boot a kernel built with CONFIG_CGROUP_DMABUF=y", dir));
	/* not a cgroup v2 tree */
	RUN(2, "-j", "--cgroup-root", "/tmp", "cgroup", "show");
	json_error(2, "/tmp is not a cgroup v2 tree (no cgroup.controllers)");
}

/* pool show */

static void test_pool_show(void **state)
{
	(void)state;
	RUN(0, "pool");
	assert_string_equal(r.out,
		"POOL              CAPACITY     PINNED     PINS  REFUSED\n"
		"udmabuf                max       8MiB        2        1\n"
		"dma_heap/system       1GiB          0        0        0\n");
	RUN(0, "p", "s");
	HAS(r.out, "udmabuf                max       8MiB        2        1\n");
	RUN(0, "-b", "po", "show");
	HAS(r.out, "udmabuf                max    8388608        2        1\n");
	HAS(r.out, "dma_heap/system 1073741824          0        0        0\n");
	RUN(0, "-j", "pool");
	json_check(r.out, "d == {\"version\": 1, \"pools\": [{\"pool\": \"udmabuf\", \"capacity\": None, \"current\": 8388608, \"pins\": 2, \"refused\": 1},"
		   " {\"pool\": \"dma_heap/system\", \"capacity\": 1073741824, \"current\": 0, \"pins\": 0, \"refused\": 0}]}");
	RUN(0, "-p", "pool", "show");
	HAS(r.out, "{\n  \"version\": 1,\n  \"pools\": [\n    {\n      \"pool\": \"udmabuf\",\n");
	json_check(r.out, "len(d[\"pools\"]) == 2");
}

/* cgroup show */

static void test_cgroup_show(void **state)
{
	static const char job[] =
		"CGROUP / POOL                CURRENT      PEAK       MAX  EVENTS   PINS REFUSED\n"
		"/job\n"
		"  udmabuf                       8MiB      8MiB      8MiB       1      2       1\n"
		"  dma_heap/system                  0         0       max       0      0       0\n";
	char abs[400];

	(void)state;
	RUN(0, "cgroup", "show", "job");
	assert_string_equal(r.out, job);
	snprintf(abs, sizeof(abs), "%s/job/", root);
	RUN(0, "c", "s", abs);
	assert_string_equal(r.out, job);
	RUN(0, "cg", "sh", "/job");
	assert_string_equal(r.out, job);
	RUN(0, "cgroup", "./job//");
	assert_string_equal(r.out, job);
	RUN(0, "-b", "cgroup", "list", "job");
	HAS(r.out, "  udmabuf                    8388608   8388608   8388608       1      2       1\n");
	RUN(0, "cgroup", "show", "/");
	assert_string_equal(r.out,
		"CGROUP / POOL                CURRENT      PEAK       MAX  EVENTS   PINS REFUSED\n"
		"/\n"
		"  udmabuf                       8MiB         -         -       -      -       -\n"
		"  dma_heap/system                  0         -         -       -      -       -\n");
	RUN(0, "-j", "cgroup", "show", "job/a");
	json_check(r.out, "d == {\"version\": 1, \"cgroups\": [{\"cgroup\": \"/job/a\", \"depth\": 0, \"enabled\": True, \"pools\": ["
		   "{\"pool\": \"udmabuf\", \"current\": 4194304, \"peak\": 4194304, \"max\": None, \"events\": 0,"
		   " \"events_local\": 0, \"pins\": 1, \"refused\": 0},"
		   " {\"pool\": \"dma_heap/system\", \"current\": 0, \"peak\": 0, \"max\": None, \"events\": 0,"
		   " \"events_local\": 0, \"pins\": 0, \"refused\": 0}]}]}");
	RUN(0, "-j", "cgroup", "show", "/");
	json_check(r.out, "d[\"cgroups\"][0][\"pools\"][0] == {\"pool\": \"udmabuf\", \"current\": 8388608}");
}

static void test_cgroup_show_recursive(void **state)
{
	(void)state;
	RUN(0, "cgroup", "show", "job", "-r");
	assert_string_equal(r.out,
		"CGROUP / POOL                CURRENT      PEAK       MAX  EVENTS   PINS REFUSED\n"
		"/job\n"
		"  udmabuf                       8MiB      8MiB      8MiB       1      2       1\n"
		"  dma_heap/system                  0         0       max       0      0       0\n"
		"  /job/a\n"
		"    udmabuf                     4MiB      4MiB       max       0      1       0\n"
		"    dma_heap/system                0         0       max       0      0       0\n"
		"    /job/a/plain  (dmabuf not enabled)\n");
	RUN(0, "-j", "c", "s", "--recursive", "/");
	json_check(r.out, "[(c[\"cgroup\"], c[\"depth\"], c[\"enabled\"], len(c[\"pools\"])) for c in d[\"cgroups\"]"
		   " if c[\"cgroup\"].split(\"/\")[1] in (\"\", \"job\", \"other\")] =="
		   " [(\"/\", 0, True, 2), (\"/job\", 1, True, 2), (\"/job/a\", 2, True, 2),"
		   " (\"/job/a/plain\", 3, False, 0), (\"/other\", 1, True, 2)]");
	json_check(r.out, "[c[\"pools\"][0][\"max\"] for c in d[\"cgroups\"] if c[\"cgroup\"] == \"/other\"] == [1610612736]");
}

static void test_cgroup_show_pid(void **state)
{
	char pid[32], want[1100];

	(void)state;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(want, sizeof(want), "\"cgroup\": \"/%s\"", own);
	RUN(0, "-p", "cgroup", "show", "--pid", pid);
	HAS(r.out, want);
	json_check(r.out, "len(d[\"cgroups\"]) == 1");
	RUN(0, "-p", "cgroup");		/* the caller's own, by default */
	HAS(r.out, want);
	RUN(0, "-j", "c");
	json_check(r.out, "len(d[\"cgroups\"]) == 1");
}

static void test_cgroup_show_errors(void **state)
{
	(void)state;
	RUN(1, "cgroup", "show", "nosuch");
	HAS(r.err, fmt("dmabufctl: no such cgroup %s/nosuch: see the tree: dmabufctl cgroup show -r /", root));
	RUN(1, "-j", "cgroup", "show", "nosuch");
	json_error(1, "no such cgroup");
	RUN(2, "cgroup", "show", "job/a/plain");
	HAS(r.err, fmt("dmabufctl: controller dmabuf not enabled in %s/job/a/plain: run `dmabufctl cgroup enable job/a/plain`", root));
	RUN(2, "-p", "cgroup", "show", "job/a/plain");
	json_error(2, "controller dmabuf not enabled");
	json_check(r.out, "d[\"error\"][\"fix\"] == \"run `dmabufctl cgroup enable job/a/plain`\"");
	RUN(1, "cgroup", "show", "job/../other");
	HAS(r.err, "bad cgroup path 'job/../other'");
	RUN(1, "cgroup", "show", "job", "other");
	HAS(r.err, "one CGROUP only, not 'other' too: usage: dmabufctl cgroup show");
	RUN(1, "cgroup", "show", "--pid", "1", "job");
	HAS(r.err, "a CGROUP or --pid, not both");
	RUN(1, "cgroup", "show", "--pid", "x");
	HAS(r.err, "bad PID 'x'");
	RUN(1, "-j", "cgroup", "show", "--pid", "999999999");
	json_error(1, "no such process 999999999");
	RUN(1, "cgroup", "show", "-x");
	HAS(r.err, "unknown option '-x'");
	/* a file that cannot be read */
	assert_int_equal(system(fmt("mkdir -p %s/bad && cp %s/job/dmabuf.* %s/bad/ && rm %s/bad/dmabuf.pinned.peak"
				     " && mkdir %s/bad/dmabuf.pinned.peak", root, root, root, root, root)), 0);
	RUN(2, "-j", "cgroup", "show", "bad");
	json_error(2, "cannot read the dmabuf files of");
	assert_int_equal(system(fmt("rm -rf %s/bad", root)), 0);
}

/* cgroup set */

static void test_cgroup_set(void **state)
{
	(void)state;
	RUN(0, "cgroup", "set", "other", "udmabuf", "8M");
	assert_string_equal(r.out, "");
	assert_string_equal(get("other/dmabuf.pinned.max"), "udmabuf 8388608\n");
	RUN(0, "c", "se", "/other", "/dev/dma_heap/system", "1.5G", "/dev/udmabuf", "max");
	assert_string_equal(get("other/dmabuf.pinned.max"), "dma_heap/system 1610612736\nudmabuf max\n");
	RUN(0, "-j", "cgroup", "set", "other", "udmabuf", "4096");
	assert_string_equal(get("other/dmabuf.pinned.max"), "udmabuf 4096\n");
	/* the fake file now has udmabuf only: that is what is read back */
	json_check(r.out, "d == {\"version\": 1, \"cgroup\": \"/other\", \"pools\": [{\"pool\": \"udmabuf\", \"max\": 4096}]}");
	RUN(0, "-j", "cgroup", "set", "other", "udmabuf", "max");
	json_check(r.out, "d[\"pools\"] == [{\"pool\": \"udmabuf\", \"max\": None}]");
	put("other/dmabuf.pinned.max", "udmabuf 1610612736\ndma_heap/system max\n");
}

static void test_cgroup_set_errors(void **state)
{
	(void)state;
	RUN(1, "cgroup", "set", "other", "udmabf", "8M");
	HAS(r.err, "dmabufctl: no such pool 'udmabf': pools: udmabuf, dma_heap/system\n");
	RUN(1, "-j", "cgroup", "set", "other", "udmabf", "8M");
	json_error(1, "no such pool 'udmabf'");
	json_check(r.out, "d[\"error\"][\"fix\"] == \"pools: udmabuf, dma_heap/system\"");
	RUN(1, "cgroup", "set", "other", "udmabuf", "8X");
	HAS(r.err, "dmabufctl: bad size '8X': give bytes, or a size like 512M, 4G, 1.5G");
	RUN(1, "-j", "cgroup", "set", "other", "/dev/null", "8M");
	json_error(1, "bad pool '/dev/null'");
	RUN(1, "cgroup", "set", "/", "udmabuf", "8M");
	HAS(r.err, "the root cgroup has no limits: set limits on a child cgroup");
	RUN(1, "cgroup", "set", "nosuch", "udmabuf", "8M");
	HAS(r.err, "no such cgroup");
	RUN(2, "cgroup", "set", "job/a/plain", "udmabuf", "8M");
	HAS(r.err, "controller dmabuf not enabled in");
	RUN(1, "cgroup", "set", "other", "udmabuf");
	HAS(r.err, "CGROUP, POOL and SIZE needed: usage: dmabufctl cgroup set CGROUP POOL SIZE|max");
	RUN(1, "cgroup", "set", "other", "udmabuf", "1M", "dma_heap/system");
	HAS(r.err, "a POOL without a SIZE");
	RUN(1, "-j", "cgroup", "set", "other", "--frob", "udmabuf", "1M");
	json_error(1, "unknown option '--frob'");
	/* nothing was written by any of these */
	assert_string_equal(get("other/dmabuf.pinned.max"), "udmabuf 1610612736\ndma_heap/system max\n");
	/* a write that fails */
	assert_int_equal(system(fmt("mkdir -p %s/ro && cp %s/job/dmabuf.* %s/ro/ && rm %s/ro/dmabuf.pinned.max"
				     " && mkdir %s/ro/dmabuf.pinned.max", root, root, root, root, root)), 0);
	RUN(2, "-j", "cgroup", "set", "ro", "udmabuf", "1M");
	json_error(2, "cannot write");
	HAS(r.err, "/ro/dmabuf.pinned.max: Is a directory");
	assert_int_equal(system(fmt("rm -rf %s/ro", root)), 0);
}

/* cgroup enable */

static void test_cgroup_enable(void **state)
{
	(void)state;
	mkcg_plain("e1");
	mkcg_plain("e1/e2");
	mkcg_plain("e1/e2/e3");
	put("cgroup.subtree_control", "cpu\n");
	RUN(0, "cgroup", "enable", "e1/e2/e3");
	assert_string_equal(r.out, fmt("enabled dmabuf in %s/cgroup.subtree_control\n"
				       "enabled dmabuf in %s/e1/cgroup.subtree_control\n"
				       "enabled dmabuf in %s/e1/e2/cgroup.subtree_control\n", root, root, root));
	put("cgroup.subtree_control", "dmabuf\n");
	assert_string_equal(get("e1/cgroup.subtree_control"), "+dmabuf");
	assert_string_equal(get("e1/e2/cgroup.subtree_control"), "+dmabuf");
	assert_string_equal(get("e1/e2/e3/cgroup.subtree_control"), "");
	put("e1/cgroup.subtree_control", "dmabuf\n");
	put("e1/e2/cgroup.subtree_control", "cpu\n");
	RUN(0, "-j", "c", "e", "e1/e2/e3", "--subtree");
	json_check(r.out, "d == {\"version\": 1, \"cgroup\": \"/e1/e2/e3\", \"enabled_in\": [\"/e1/e2\", \"/e1/e2/e3\"]}");
	put("e1/e2/cgroup.subtree_control", "cpu dmabuf\n");
	put("e1/e2/e3/cgroup.subtree_control", "dmabuf\n");
	RUN(0, "-j", "cgroup", "enable", "e1/e2/e3");
	json_check(r.out, "d[\"enabled_in\"] == []");
	RUN(1, "cgroup", "enable");
	HAS(r.err, "which CGROUP?: usage: dmabufctl cgroup enable CGROUP [--subtree]");
	RUN(1, "-j", "cgroup", "enable", "nosuch");
	json_error(1, "no such cgroup");
	RUN(1, "cgroup", "enable", "a", "b");
	HAS(r.err, "one CGROUP only");
	RUN(1, "cgroup", "enable", "e1", "-x");
	HAS(r.err, "unknown option '-x'");
	/* subtree_control that cannot be read */
	assert_int_equal(system(fmt("rm %s/e1/e2/cgroup.subtree_control && mkdir %s/e1/e2/cgroup.subtree_control",
				     root, root)), 0);
	RUN(2, "-j", "cgroup", "enable", "e1/e2/e3");
	json_error(2, "cannot read");
	assert_int_equal(system(fmt("rm -rf %s/e1", root)), 0);
}

/* watch */

/* Starts dmabufctl ARGS in the background, its stdout into a file. */
static pid_t bg(const char *outfile, char *const argv[])
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(null, 2);		/* notes */
		if (fakecgfs)
			setenv("LD_PRELOAD", fakecgfs, 1);
		execv(ctl, argv);
		_exit(99);
	}
	usleep(300 * 1000);	/* until it watches */
	return pid;
}

static int bg_wait(pid_t pid, const char *outfile, char *buf, size_t n)
{
	int st, i, fd;

	for (i = 0; i < 500 && !waitpid(pid, &st, WNOHANG); i++)
		usleep(10 * 1000);
	if (i == 500) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return -1;
	}
	fd = open(outfile, O_RDONLY);
	slurp(fd, buf, n);
	close(fd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void refuse(const char *cg, int events, int local)
{
	put(fmt("%s/dmabuf.pinned.events.local", cg), "udmabuf max=%d\ndma_heap/system max=0\n", local);
	put(fmt("%s/dmabuf.pinned.events", cg), "udmabuf max=%d\ndma_heap/system max=0\n", events);
}

static void test_watch(void **state)
{
	char f[] = "/tmp/dmabufctl-watch.XXXXXX", buf[4096];
	char *text[] = { (char *)ctl, "watch", "job", "-n", "2", NULL };
	char *json[] = { (char *)ctl, "-j", "w", "job", "--count", "1", NULL };
	char *term[] = { (char *)ctl, "-p", "watch", "job", NULL };
	pid_t pid;
	int fd = mkstemp(f);

	(void)state;
	close(fd);
	mkcg("job", 8388608, 8388608, 1, 2);
	pid = bg(f, text);
	refuse("job", 2, 1);		/* +1 by a descendant's limit */
	usleep(100 * 1000);
	refuse("job", 4, 3);		/* +2 by its own */
	assert_int_equal(bg_wait(pid, f, buf, sizeof(buf)), 0);
	if (!strstr(buf, "Z /job udmabuf refused +1 events max=2 local max=1\n") ||
	    !strstr(buf, "Z /job udmabuf refused +2 events max=4 local max=3\n") ||
	    buf[4] != '-' || buf[10] != 'T' || buf[19] != '.')
		fail_msg("watch output:\n%s", buf);

	pid = bg(f, json);
	refuse("job", 5, 3);
	assert_int_equal(bg_wait(pid, f, buf, sizeof(buf)), 0);
	json_check_doc(buf, "len(d) == 1 and d[0][\"cgroup\"] == \"/job\" and d[0][\"pool\"] == \"udmabuf\" and"
		   " d[0][\"version\"] == 1 and d[0][\"events_delta\"] == 1 and d[0][\"events\"] == 5 and d[0][\"events_local\"] == 3 and"
		   " d[0][\"time\"].endswith(\"Z\")", true);

	pid = bg(f, term);		/* SIGTERM: no line, no error */
	kill(pid, SIGTERM);
	assert_int_equal(bg_wait(pid, f, buf, sizeof(buf)), 0);
	json_check_doc(buf, "d == []", true);
	unlink(f);
	mkcg("job", 8388608, 8388608, 1, 2);
}

static void test_watch_removed(void **state)
{
	char f[] = "/tmp/dmabufctl-watch.XXXXXX", buf[4096];
	char *argv[] = { (char *)ctl, "watch", "gone", NULL };
	pid_t pid;
	int fd = mkstemp(f);

	(void)state;
	close(fd);
	mkcg("gone", 0, 0, 0, 0);
	pid = bg(f, argv);
	assert_int_equal(system(fmt("rm -rf %s/gone", root)), 0);
	assert_int_equal(bg_wait(pid, f, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	unlink(f);
}

static void test_watch_errors(void **state)
{
	(void)state;
	RUN(1, "watch", "/");
	HAS(r.err, "the root cgroup has no events files: watch a child cgroup");
	RUN(2, "-j", "watch", "job/a/plain");
	json_error(2, "controller dmabuf not enabled");
	RUN(1, "watch", "job", "-n", "0");
	HAS(r.err, "bad count '0': usage: dmabufctl watch [CGROUP] [-n N]");
	RUN(1, "-j", "watch", "nosuch");
	json_error(1, "no such cgroup");
	RUN(1, "watch", "a", "b");
	HAS(r.err, "one CGROUP only");
	RUN(1, "watch", "--frob");
	HAS(r.err, "unknown option '--frob'");
}

/* run */

static void test_run(void **state)
{
	(void)state;
	/* the command sees its limits and is in the cgroup; its status is ours */
	RUN(3, "run", "-l", "udmabuf=8M", "--limit", "/dev/dma_heap/system=1.5G", "--parent", "job", "--",
	    "sh", "-c", "cd \"$DMABUFCTL_CGROUP_ROOT\"/job/dmabufctl-run.* && cat dmabuf.pinned.max &&"
	    " test \"$(cat cgroup.procs)\" = $$ && exit 3");
	assert_string_equal(r.out, "udmabuf 8388608\ndma_heap/system 1610612736\n");
	assert_string_equal(r.err, "");
	assert_int_equal(system(fmt("ls -d %s/job/dmabufctl-run.* 2>/dev/null", root)) == 0, 0);
	RUN(0, "r", "--limit=udmabuf=max", "--parent", "job", "true");
	RUN(0, "run", "--parent", "job", "--", "true");
	/* 128 + signal */
	RUN(128 + SIGKILL, "run", "--parent", "job", "--", "sh", "-c", "kill -KILL $$");
	/* JSON after the command's output */
	RUN(5, "-j", "run", "-ludmabuf=1G", "--parent", "job", "--", "sh", "-c", "exit 5");
	json_check(r.out, "d[\"run\"][\"status\"] == 5 and d[\"run\"][\"command\"] == \"sh\" and"
		   " d[\"run\"][\"cgroup\"].startswith(\"/job/dmabufctl-run.\")");
	/* the default parent: the caller's own cgroup */
	RUN(0, "run", "--", "sh", "-c", "ls -d \"$DMABUFCTL_CGROUP_ROOT\"/dmabufctl-run.* \"$DMABUFCTL_CGROUP_ROOT\"/*/dmabufctl-run.* 2>/dev/null; true");
	HAS(r.out, fmt("%s%s%s/dmabufctl-run.", root, *own ? "/" : "", own));
	/* the parent gets the controller for its children */
	mkcg_plain("job/a/plain/p");
	RUN(0, "run", "--parent", "job/a/plain/p", "true");
	assert_string_equal(get("job/a/plain/cgroup.subtree_control"), "+dmabuf");
	assert_string_equal(get("job/a/plain/p/cgroup.subtree_control"), "+dmabuf");
	assert_int_equal(system(fmt("rm -rf %s/job/a/plain/p && echo -n > %s/job/a/plain/cgroup.subtree_control",
				     root, root)), 0);
}

static void test_run_errors(void **state)
{
	(void)state;
	/* run's own failures: 125 (as env(1)), never a status COMMAND could have */
	RUN(125, "run", "-l", "udmabuf=8M");
	HAS(r.err, "no COMMAND given: usage: dmabufctl run [-l POOL=SIZE]... [--parent CGROUP] [--] COMMAND [ARGS]");
	RUN(125, "-j", "run", "-l", "udmabuf", "true");
	json_error(125, "a limit is POOL=SIZE, not 'udmabuf'");
	RUN(125, "run", "-l", "=8M", "true");
	HAS(r.err, "a limit is POOL=SIZE");
	RUN(125, "run", "-l", "udmabuf=8X", "true");
	HAS(r.err, "bad size '8X'");
	RUN(125, "run", "-l", "/dev/sda=8M", "true");
	HAS(r.err, "bad pool '/dev/sda'");
	RUN(125, "-j", "run", "-l", "udmabf=8M", "true");
	json_error(1, "no such pool 'udmabf'");	/* cgfs's fail(); the exit status is 125 */
	RUN(125, "run", "--parent", "nosuch", "true");
	HAS(r.err, "no such cgroup");
	RUN(125, "run", "--frob", "true");
	HAS(r.err, "unknown option '--frob'");
	RUN(127, "run", "--parent", "job", "--", "/nonexistent/cmd");
	HAS(r.err, "dmabufctl: cannot run /nonexistent/cmd: No such file or directory");
	RUN(126, "run", "--parent", "job", "--", "/etc/passwd");
	HAS(r.err, "dmabufctl: cannot run /etc/passwd: Permission denied");
	/* nothing is left behind */
	assert_int_equal(system(fmt("ls -d %s/job/dmabufctl-run.* 2>/dev/null", root)) == 0, 0);
}

/* pins: the kernel's list, as debugfs has it */

static void test_pins(void **state)
{
	char dbg[512], dbg_opt[600];

	(void)state;
	snprintf(dbg, sizeof(dbg), "%s/debugfs", root);
	snprintf(dbg_opt, sizeof(dbg_opt), "--debugfs=%s", dbg);
	assert_int_equal(system(fmt("mkdir -p %s/dma_buf", dbg)), 0);
	put("debugfs/dma_buf/pins",
	    "pid=412 comm=ib\\040reg cgroup=/job/a cgroup_id=7523 pool=udmabuf bytes=1048576 age_ms=5312 importer=0000:00:02.0 exporter=udmabuf inode=33\n"
	    "pid=500 comm=python3 cgroup=/job cgroup_id=7524 pool=dma_heap/system bytes=4194304 age_ms=7300000 importer=iommufd exporter=system inode=34 later=1\n"
	    "pid=501 comm=x cgroup=/jobs cgroup_id=7525 pool=udmabuf bytes=4096 age_ms=61000 importer=iommufd exporter=udmabuf inode=35\n");
	RUN(0, "pins", "--debugfs", dbg);
	HAS(r.out, "    412 ib\\040reg       /job/a                   udmabuf               1MiB     5.3s 0000:00:02.0   udmabuf\n");
	HAS(r.out, "    500 python3         /job                     dma_heap/system       4MiB    2h01m iommufd        system\n");
	HAS(r.out, "    501 x               /jobs                    udmabuf               4KiB    1m01s iommufd        udmabuf\n");
	/* a subtree, not a prefix of names; removed cgroups need not exist */
	RUN(0, "-j", "pins", dbg_opt, "--cgroup", "/job");
	json_check(r.out, "[p[\"pid\"] for p in d[\"pins\"]] == [412, 500]");
	RUN(0, "-j", "pins", "--debugfs", dbg, "--cgroup", fmt("%s/job/a/gone", root));
	json_check(r.out, "d == {\"version\": 1, \"pins\": []}");
	RUN(0, "-j", "pins", "--debugfs", dbg, "--pool", "/dev/udmabuf", "--pid", "412");
	json_check(r.out, "d == {\"version\": 1, \"pins\": [{\"pid\": 412, \"comm\": \"ib reg\", \"cgroup\": \"/job/a\", "
		   "\"cgroup_id\": 7523, \"pool\": \"udmabuf\", \"bytes\": 1048576, \"age_ms\": 5312, "
		   "\"importer\": \"0000:00:02.0\", \"exporter\": \"udmabuf\", \"inode\": 33}]}");
	RUN(0, "-j", "pins", "show", "--debugfs", dbg, "--pool", "udmabuf");
	json_check(r.out, "[p[\"pid\"] for p in d[\"pins\"]] == [412, 501]");
	RUN(0, "-j", "pins", "--debugfs", dbg, "--pid", "0500");
	json_check(r.out, "[p[\"pid\"] for p in d[\"pins\"]] == [500]");
	/* a pool that exists, with nothing held, and one that does not */
	RUN(0, "-j", "pins", "--debugfs", dbg, "--pool", "/dev/dma_heap/system", "--pid", "412");
	json_check(r.out, "d == {\"version\": 1, \"pins\": []}");
	RUN(1, "pins", "--debugfs", dbg, "--pool", "udmabf");
	HAS(r.err, "no such pool 'udmabf'");
	/* names cannot draw rows or send escape sequences; JSON stays UTF-8 */
	put("debugfs/dma_buf/pins",
	    "pid=7 comm=ev\\012\\040666\033[2J cgroup=/job/\xff\\134x cgroup_id=1 pool=udmabuf bytes=1 age_ms=1 importer=iommufd exporter=udmabuf inode=1\n\n");
	RUN(0, "pins", "--debugfs", dbg);
	HAS(r.out, "      7 ev\\012\\040666\\033[2J /job/\xff\\134x");
	assert_null(strstr(r.out, "\n666"));
	RUN(0, "-j", "pins", "--debugfs", dbg);
	json_check(r.out, "d[\"pins\"][0][\"comm\"] == \"ev\\n 666\\x1b[2J\" and d[\"pins\"][0][\"cgroup\"] == \"/job/\\\\xff\\\\x\"");
	/* a line this version does not understand is said, not shown */
	put("debugfs/dma_buf/pins", "pid=1 comm=a cgroup=/ cgroup_id=1 pool=udmabuf bytes=1 age_ms=1 importer=i exporter=e inode=1\npid=1 comm=a\n");
	RUN(0, "pins", "--debugfs", dbg);
	HAS(r.err, "1 line(s) of");
	put("debugfs/dma_buf/pins", "pid=1 comm=a\n");
	RUN(2, "pins", "--debugfs", dbg);
	HAS(r.err, "none understood");
	/* errors */
	RUN(1, "pins", "--pid", "x");
	HAS(r.err, "--pid takes a process id, not 'x'");
	RUN(1, "pins", "--pid", "+5");
	RUN(1, "pins", "--bogus");
	HAS(r.err, "unknown argument '--bogus'");
	RUN(1, "pins", "--cgroup");
	HAS(r.err, "--cgroup needs a value");
	RUN(1, "pins", "--cgroup=", "--debugfs", dbg);
	RUN(1, "pins", "--cgroup", "job/../x", "--debugfs", dbg);
	HAS(r.err, "bad cgroup");
	RUN(2, "pins", "--debugfs", fmt("%s/nothing", root));
	HAS(r.err, "mount -t debugfs");
	assert_int_equal(system(fmt("rm -f %s/dma_buf/pins", dbg)), 0);
	RUN(2, "-j", "pins", "--debugfs", dbg);
	HAS(r.out, "does not list pins");
	assert_true(json_valid(r.out));
}

int main(void)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_size_parse),
		cmocka_unit_test(test_size_str),
		cmocka_unit_test(test_pool_names),
	};
	const struct CMUnitTest commands[] = {
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_root_errors),
		cmocka_unit_test(test_pool_show),
		cmocka_unit_test(test_pins),
		cmocka_unit_test(test_cgroup_show),
		cmocka_unit_test(test_cgroup_show_recursive),
		cmocka_unit_test(test_cgroup_show_pid),
		cmocka_unit_test(test_cgroup_show_errors),
		cmocka_unit_test(test_cgroup_set),
		cmocka_unit_test(test_cgroup_set_errors),
		cmocka_unit_test(test_cgroup_enable),
		cmocka_unit_test(test_watch),
		cmocka_unit_test(test_watch_removed),
		cmocka_unit_test(test_watch_errors),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_run_errors),
	};
	int failed;

	ctl = getenv("DMABUFCTL");
	fakecgfs = getenv("FAKECGFS");
	schema = getenv("DMABUFCTL_SCHEMA");
	if (!ctl || access(ctl, X_OK)) {
		fprintf(stderr, "set DMABUFCTL to the dmabufctl binary (make test does)\n");
		return 2;
	}
	failed = cmocka_run_group_tests_name("sizes and pool names", unit, NULL, NULL);
	failed += cmocka_run_group_tests_name("commands on a fake cgroupfs", commands, setup, teardown);
	return failed ? 1 : 0;
}
