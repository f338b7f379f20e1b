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
 * content by python3 expressions (one python3 process for all).
 * Text is compared whole where it is stable: LC_ALL=C (show's tree in
 * ASCII; test_show_utf8 in C.UTF-8). watch and top run in the background,
 * the test waiting for what they say through /proc (their SIGTERM handler
 * once set up, watch's inotify watches in fdinfo), not for guessed times;
 * counter files change in place, as the kernel's do. export: test_export.py;
 * systemd's cgroups: test_systemd.c.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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
	setenv("LC_ALL", "C", 1);		/* the tree in ASCII (test_show_utf8: UTF-8) */
	unsetenv("COLUMNS");
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
	/* idle (nothing pinned, no limit): show leaves it out, as any host's */
	if (*own && access(fmt("%s/%s", root, own), F_OK))
		mkcg(own, 0, UNLIMITED, 0, 0);
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
 * list. One python3 process does every check (a process each would take
 * most of the tests' time): it reads "LEN_DOC LEN_EXPR LINES\n", the
 * document and the expression, and answers "0" or "1 WHY" on a line.
 */
static const char checker[] =
"import json, sys\n"
"v = None\n"
"if sys.argv[1]:\n"
"    import jsonschema\n"
"    s = json.load(open(sys.argv[1]))\n"
"    cls = jsonschema.validators.validator_for(s)\n"
"    cls.check_schema(s)\n"
"    v = cls(s)\n"
"while True:\n"
"    h = sys.stdin.buffer.readline()\n"
"    if not h:\n"
"        break\n"
"    n, m, lines = map(int, h.split())\n"
"    t, e = sys.stdin.buffer.read(n), sys.stdin.buffer.read(m).decode()\n"
"    try:\n"
"        t = t.decode('utf-8', 'strict')\n"
"        docs = [json.loads(l) for l in t.split('\\n') if l] if lines else [json.loads(t)]\n"
"        for x in docs:\n"
"            if v:\n"
"                v.validate(x)\n"
"        d = docs if lines else docs[0]\n"
"        why = '' if eval(e) else 'false'\n"
"    except Exception as ex:\n"
"        why = repr(ex)[:2000].replace('\\n', ' ') or 'exception'\n"
"    sys.stdout.write(('1 ' + why if why else '0') + '\\n')\n"
"    sys.stdout.flush()\n";

static FILE *py_to, *py_from;

static void checker_start(void)
{
	int in[2], outp[2];
	pid_t pid;

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(outp, O_CLOEXEC), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		execlp("python3", "python3", "-c", checker, schema ? schema : "", (char *)NULL);
		_exit(99);
	}
	close(in[0]);
	close(outp[1]);
	py_to = fdopen(in[1], "w");
	py_from = fdopen(outp[0], "r");
	assert_true(py_to && py_from);
}

static void json_check_doc(const char *doc, const char *expr, bool lines)
{
	char answer[2100];

	if (!lines)
		assert_true(json_valid(doc));
	if (!py_to)
		checker_start();
	fprintf(py_to, "%zu %zu %d\n%s%s", strlen(doc), strlen(expr), lines, doc, expr);
	fflush(py_to);
	if (!fgets(answer, sizeof(answer), py_from))
		fail_msg("the python3 JSON checker is gone (python3, python3-jsonschema installed?)");
	if (strcmp(answer, "0\n"))
		fail_msg("JSON check '%s' failed (%s) on:\n%s", expr, answer + 2, doc);
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
	/* rounded down, so that a usage just below a limit never shows as the limit */
	assert_string_equal(size_str((8ULL << 30) - 1, false, b, sizeof(b)), "7.9GiB");
	assert_string_equal(size_str(17163091968ULL, false, b, sizeof(b)), "15.9GiB");
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

/* general: usage, help, commands */

static void test_usage(void **state)
{
	/* each command's own help, wherever -h/--help/help comes */
	static const char *const helps[][4] = {
		{ "--help", NULL, NULL, "usage: dmabufctl [OPTIONS] [COMMAND [ARGS]]" },
		{ "help", NULL, NULL, "usage: dmabufctl [OPTIONS] [COMMAND [ARGS]]" },
		{ "-j", "-h", NULL, "usage: dmabufctl [OPTIONS] [COMMAND [ARGS]]" },
		{ "show", "--help", NULL, "usage: dmabufctl [show] [CGROUP | --pid PID]" },
		{ "show", "job", "-h", "usage: dmabufctl [show] [CGROUP | --pid PID]" },
		{ "pool", "--help", NULL, "usage: dmabufctl pool\n" },
		{ "pins", "--help", NULL, "usage: dmabufctl pins [--cgroup CGROUP]" },
		{ "top", "--help", NULL, "usage: dmabufctl top [-d SECONDS] [-n N] [--batch]" },
		{ "watch", "-h", NULL, "usage: dmabufctl watch [CGROUP | /] [-n N]" },
		{ "set", "--help", NULL, "usage: dmabufctl set CGROUP POOL=SIZE|max" },
		{ "enable", "--help", NULL, "usage: dmabufctl enable CGROUP [--subtree]" },
		{ "run", "--help", NULL, "usage: dmabufctl run [-l POOL=SIZE]..." },
		{ "export", "--help", NULL, "usage: dmabufctl export [--textfile FILE]" },
		{ "cgroup", "-h", NULL, "usage: dmabufctl [show]" },
		{ "cgroup", "show", "--help", "usage: dmabufctl [show]" },
		{ "cgroup", "set", "--help", "usage: dmabufctl set CGROUP" },
		{ "cgroup", "enable", "-h", "usage: dmabufctl enable CGROUP" },
	};
	char all[65536];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		RUN(0, helps[i][0], helps[i][1], helps[i][2]);
		if (strncmp(r.out, helps[i][3], strlen(helps[i][3])))
			fail_msg("%s %s: not '%s':\n%s", helps[i][0], helps[i][1] ? helps[i][1] : "",
				 helps[i][3], r.out);
		assert_string_equal(r.err, "");
	}
	/* the overview names every command */
	RUN(0, "help");
	for (i = 0; i < 9; i++)
		HAS(r.out, fmt("\n  %s ", (const char *[]){ "show", "pool", "pins", "top", "watch", "set",
							    "enable", "run", "export" }[i]));
	RUN(0, "-V");
	assert_string_equal(r.out, "dmabufctl 2.0\n");
	RUN(0, "--version");
	assert_string_equal(r.out, "dmabufctl 2.0\n");
	/* no command: show, the whole tree */
	RUN(0, "show");
	snprintf(all, sizeof(all), "%s", r.out);
	RUN(0, NULL);
	assert_string_equal(r.out, all);
	HAS(r.out, "\n|-job ");
	RUN(0, "-j");
	json_check(r.out, "d[\"cgroups\"][0][\"cgroup\"] == \"/\" and \"/job\" in [c[\"cgroup\"] for c in d[\"cgroups\"]]");
	/* unknown commands and options */
	RUN(1, "frob");
	assert_string_equal(r.err, "dmabufctl: unknown command 'frob': commands: show, pool, pins, top, watch,"
			    " set, enable, run, export; see `dmabufctl --help`\n");
	assert_string_equal(r.out, "");
	RUN(1, "-p", "frob");
	json_error(1, "unknown command 'frob'");
	json_check(r.out, "d[\"error\"][\"fix\"] == \"commands: show, pool, pins, top, watch, set, enable, run, export;"
		   " see `dmabufctl --help`\"");
	RUN(1, "--frob");
	HAS(r.err, "unknown option '--frob': usage: dmabufctl [OPTIONS]");
	RUN(1, "-x", "show");
	HAS(r.err, "unknown option '-x'");
	RUN(1, "--cgroup-root");
	HAS(r.err, "--cgroup-root needs a value");
	RUN(1, "-j", "cgroup", "frob");
	json_error(1, "unknown command 'cgroup frob'");
	HAS(r.err, "`dmabufctl show frob`");
	RUN(1, "pool", "frob");
	HAS(r.err, "unknown argument 'frob': usage: dmabufctl pool\n");
	/* global options among a command's, after its arguments too */
	RUN(0, "pool", "--json");
	json_check(r.out, "len(d[\"pools\"]) == 2");
	RUN(0, "show", "job", "-b", "-j");
	json_check(r.out, "d[\"cgroups\"][0][\"cgroup\"] == \"/job\"");
	RUN(0, "show", "job", "-b");
	HAS(r.out, "/job   udmabuf         8388608 8388608 8388608      1    2       1\n");
	RUN(1, "-j", "show", "job", "--frob");
	json_error(1, "unknown option '--frob'");
}

/* Commands are exact words: a prefix is never taken for a command. */
static void test_abbreviations(void **state)
{
	static const char *const bad[][3] = {
		{ "c", "s" }, { "p" }, { "po", "show" }, { "sh" }, { "s" }, { "cg" }, { "r", "true" },
		{ "w", "job" }, { "hel" }, { "Show" }, { "show-" }, { "e", "job" },
	};
	static const char *const bad_sub[][3] = {
		{ "cgroup", "s" }, { "cgroup", "sh", "job" }, { "cgroup", "se", "other" }, { "cgroup", "e" },
		{ "cgroup", "shows" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		RUN(1, bad[i][0], bad[i][1], bad[i][2]);
		HAS(r.err, fmt("dmabufctl: unknown command '%s': commands: show, pool,", bad[i][0]));
		assert_string_equal(r.out, "");
	}
	for (i = 0; i < sizeof(bad_sub) / sizeof(bad_sub[0]); i++) {
		RUN(1, bad_sub[i][0], bad_sub[i][1], bad_sub[i][2]);
		HAS(r.err, fmt("dmabufctl: unknown command 'cgroup %s': commands: show, set, enable", bad_sub[i][1]));
	}
	/* old words after a command are arguments, not commands */
	RUN(1, "pool", "show");
	HAS(r.err, "unknown argument 'show': usage: dmabufctl pool\n");
	RUN(1, "-j", "pins", "show");
	json_error(1, "unknown argument 'show'");
	/* a cgroup named like nothing is refused as one, not as a command */
	RUN(1, "show", "s");
	HAS(r.err, fmt("no such cgroup %s/s", root));
	/* nothing was written by set's abbreviation */
	assert_string_equal(get("other/dmabuf.pinned.max"), "udmabuf 1610612736\ndma_heap/system max\n");
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
	RUN(2, "--cgroup-root", dir);		/* show, the default command */
	HAS(r.err, "this kernel has no dmabuf cgroup controller");
	/* not a cgroup v2 tree */
	RUN(2, "-j", "--cgroup-root", "/tmp", "show");
	json_error(2, "/tmp is not a cgroup v2 tree (no cgroup.controllers)");
}

/* pool */

static void test_pool(void **state)
{
	(void)state;
	RUN(0, "pool");
	assert_string_equal(r.out,
		"POOL              CAPACITY     PINNED     PINS  REFUSED\n"
		"udmabuf                max       8MiB        2        1\n"
		"dma_heap/system       1GiB          0        0        0\n");
	RUN(0, "-b", "pool");
	HAS(r.out, "udmabuf                max    8388608        2        1\n");
	HAS(r.out, "dma_heap/system 1073741824          0        0        0\n");
	RUN(0, "pool", "-b");
	HAS(r.out, "dma_heap/system 1073741824          0        0        0\n");
	RUN(0, "-j", "pool");
	json_check(r.out, "d == {\"version\": 1, \"pools\": [{\"pool\": \"udmabuf\", \"capacity\": None, \"current\": 8388608, \"pins\": 2, \"refused\": 1},"
		   " {\"pool\": \"dma_heap/system\", \"capacity\": 1073741824, \"current\": 0, \"pins\": 0, \"refused\": 0}]}");
	RUN(0, "-p", "pool");
	HAS(r.out, "{\n  \"version\": 1,\n  \"pools\": [\n    {\n      \"pool\": \"udmabuf\",\n");
	json_check(r.out, "len(d[\"pools\"]) == 2");
}

/* show: the tree (LC_ALL=C: ASCII lines) */

/* The fixture of setup(), every cgroup of it: each value is its files'. */
static const char tree_all[] =
	"CGROUP  POOL            CURRENT PEAK    MAX EVENTS PINS REFUSED\n"
	"/       udmabuf            8MiB    -      -      -    -       -\n"
	"|       dma_heap/system       0    -      -      -    -       -\n"
	"|-job   udmabuf            8MiB 8MiB   8MiB      1    2       1\n"
	"| |     dma_heap/system       0    0    max      0    0       0\n"
	"| `-a   udmabuf            4MiB 4MiB    max      0    1       0\n"
	"|       dma_heap/system       0    0    max      0    0       0\n"
	"`-other udmabuf               0    0 1.5GiB      0    0       0\n"
	"        dma_heap/system       0    0    max      0    0       0\n";

static const char tree_job[] =
	"CGROUP POOL            CURRENT PEAK  MAX EVENTS PINS REFUSED\n"
	"/job   udmabuf            8MiB 8MiB 8MiB      1    2       1\n"
	"|      dma_heap/system       0    0  max      0    0       0\n"
	"`-a    udmabuf            4MiB 4MiB  max      0    1       0\n"
	"       dma_heap/system       0    0  max      0    0       0\n";

static void test_show(void **state)
{
	char abs[400];

	(void)state;
	/* from the root by default; the idle (job/a/plain, the caller's own) left out */
	RUN(0, "show");
	assert_string_equal(r.out, tree_all);
	assert_string_equal(r.err, "");
	RUN(0, "show", "/");
	assert_string_equal(r.out, tree_all);
	/* CGROUP in each form */
	RUN(0, "show", "job");
	assert_string_equal(r.out, tree_job);
	snprintf(abs, sizeof(abs), "%s/job/", root);
	RUN(0, "show", abs);
	assert_string_equal(r.out, tree_job);
	RUN(0, "show", "/job");
	assert_string_equal(r.out, tree_job);
	RUN(0, "show", "./job//");
	assert_string_equal(r.out, tree_job);
	/* a leaf */
	RUN(0, "show", "job/a");
	assert_string_equal(r.out,
		"CGROUP POOL            CURRENT PEAK MAX EVENTS PINS REFUSED\n"
		"/job/a udmabuf            4MiB 4MiB max      0    1       0\n"
		"       dma_heap/system       0    0 max      0    0       0\n");
	/* bytes */
	RUN(0, "-b", "show", "other");
	assert_string_equal(r.out,
		"CGROUP POOL            CURRENT PEAK        MAX EVENTS PINS REFUSED\n"
		"/other udmabuf               0    0 1610612736      0    0       0\n"
		"       dma_heap/system       0    0        max      0    0       0\n");
	/* a value changed is shown changed: the files are read, nothing cached */
	put("job/a/dmabuf.pinned.stat", "udmabuf pins=7 refused=3\ndma_heap/system pins=0 refused=0\n");
	RUN(0, "show", "job/a", "-o", "cgroup,pins,refused");
	assert_string_equal(r.out, "CGROUP PINS REFUSED\n/job/a    7       3\n          0       0\n");
	put("job/a/dmabuf.pinned.stat", "udmabuf pins=1 refused=0\ndma_heap/system pins=0 refused=0\n");
}

/* What makes a cgroup shown, -a, and the cgroups without the controller. */
static void test_show_all(void **state)
{
	(void)state;
	/* job/a/plain: no controller, so idle; shown with -a only, marked */
	RUN(0, "show", "-a", "job");
	assert_string_equal(r.out,
		"CGROUP    POOL                 CURRENT PEAK  MAX EVENTS PINS REFUSED\n"
		"/job      udmabuf                 8MiB 8MiB 8MiB      1    2       1\n"
		"|         dma_heap/system            0    0  max      0    0       0\n"
		"`-a       udmabuf                 4MiB 4MiB  max      0    1       0\n"
		"  |       dma_heap/system            0    0  max      0    0       0\n"
		"  `-plain (dmabuf not enabled)                               \n");
	RUN(0, "show", "job", "--all");
	HAS(r.out, "`-plain (dmabuf not enabled)");
	RUN(0, "-j", "show", "-a", "job");
	json_check(r.out, "[(c[\"cgroup\"], c[\"depth\"], c[\"enabled\"], len(c[\"pools\"])) for c in d[\"cgroups\"]] =="
		   " [(\"/job\", 0, True, 2), (\"/job/a\", 1, True, 2), (\"/job/a/plain\", 2, False, 0)]");
	/* an idle cgroup: hidden; each kind of activity shows it */
	mkcg("idle", 0, UNLIMITED, 0, 0);
	RUN(0, "-j", "show");
	json_check(r.out, "\"/idle\" not in [c[\"cgroup\"] for c in d[\"cgroups\"]]");
	RUN(0, "show", "-a", "-o", "cgroup", "-n");
	HAS(r.out, "|-idle\n");
	RUN(0, "show", "idle", "-o", "cgroup");	/* CGROUP itself, always */
	assert_string_equal(r.out, "CGROUP\n/idle\n");
	put("idle/dmabuf.pinned.current", "udmabuf 0\ndma_heap/system 4096\n");	/* pinned */
	RUN(0, "show", "-o", "cgroup", "-n");
	HAS(r.out, "|-idle\n");
	put("idle/dmabuf.pinned.current", "udmabuf 0\ndma_heap/system 0\n");
	put("idle/dmabuf.pinned.max", "udmabuf max\ndma_heap/system 1048576\n");	/* a limit */
	RUN(0, "show", "-o", "cgroup", "-n");
	HAS(r.out, "|-idle\n");
	put("idle/dmabuf.pinned.max", "udmabuf max\ndma_heap/system max\n");
	put("idle/dmabuf.pinned.events", "udmabuf max=1\ndma_heap/system max=0\n");	/* a refusal */
	RUN(0, "show", "-o", "cgroup", "-n");
	HAS(r.out, "|-idle\n");
	put("idle/dmabuf.pinned.events", "udmabuf max=0\ndma_heap/system max=0\n");
	put("idle/dmabuf.pinned.stat", "udmabuf pins=0 refused=2\ndma_heap/system pins=0 refused=0\n");
	RUN(0, "show", "-o", "cgroup", "-n");
	HAS(r.out, "|-idle\n");
	put("idle/dmabuf.pinned.stat", "udmabuf pins=0 refused=0\ndma_heap/system pins=0 refused=0\n");
	RUN(0, "show", "-o", "cgroup", "-n");
	assert_null(strstr(r.out, "idle"));
	assert_int_equal(system(fmt("rm -rf %s/idle", root)), 0);
}

/* -d: levels shown; what is active deeper keeps its ancestors shown. */
static void test_show_depth(void **state)
{
	(void)state;
	mkcg("deep", 0, UNLIMITED, 0, 0);
	mkcg("deep/x", 0, UNLIMITED, 0, 0);
	mkcg("deep/x/y", 0, 1048576, 0, 0);	/* a limit, nothing pinned */
	mkcg("deep/z", 0, UNLIMITED, 0, 0);	/* idle */
	RUN(0, "show", "deep");
	assert_string_equal(r.out,
		"CGROUP POOL            CURRENT PEAK  MAX EVENTS PINS REFUSED\n"
		"/deep  udmabuf               0    0  max      0    0       0\n"
		"|      dma_heap/system       0    0  max      0    0       0\n"
		"`-x    udmabuf               0    0  max      0    0       0\n"
		"  |    dma_heap/system       0    0  max      0    0       0\n"
		"  `-y  udmabuf               0    0 1MiB      0    0       0\n"
		"       dma_heap/system       0    0  max      0    0       0\n");
	RUN(0, "show", "deep", "-d", "1");
	assert_string_equal(r.out,
		"CGROUP POOL            CURRENT PEAK MAX EVENTS PINS REFUSED\n"
		"/deep  udmabuf               0    0 max      0    0       0\n"
		"|      dma_heap/system       0    0 max      0    0       0\n"
		"`-x    udmabuf               0    0 max      0    0       0\n"
		"       dma_heap/system       0    0 max      0    0       0\n");
	RUN(0, "show", "--depth=0", "deep");
	assert_string_equal(r.out,
		"CGROUP POOL            CURRENT PEAK MAX EVENTS PINS REFUSED\n"
		"/deep  udmabuf               0    0 max      0    0       0\n"
		"       dma_heap/system       0    0 max      0    0       0\n");
	RUN(0, "show", "deep", "-a");
	assert_string_equal(r.out,
		"CGROUP POOL            CURRENT PEAK  MAX EVENTS PINS REFUSED\n"
		"/deep  udmabuf               0    0  max      0    0       0\n"
		"|      dma_heap/system       0    0  max      0    0       0\n"
		"|-x    udmabuf               0    0  max      0    0       0\n"
		"| |    dma_heap/system       0    0  max      0    0       0\n"
		"| `-y  udmabuf               0    0 1MiB      0    0       0\n"
		"|      dma_heap/system       0    0  max      0    0       0\n"
		"`-z    udmabuf               0    0  max      0    0       0\n"
		"       dma_heap/system       0    0  max      0    0       0\n");
	RUN(0, "show", "-d", "1");
	assert_string_equal(r.out,
		"CGROUP  POOL            CURRENT PEAK    MAX EVENTS PINS REFUSED\n"
		"/       udmabuf            8MiB    -      -      -    -       -\n"
		"|       dma_heap/system       0    -      -      -    -       -\n"
		"|-deep  udmabuf               0    0    max      0    0       0\n"
		"|       dma_heap/system       0    0    max      0    0       0\n"
		"|-job   udmabuf            8MiB 8MiB   8MiB      1    2       1\n"
		"|       dma_heap/system       0    0    max      0    0       0\n"
		"`-other udmabuf               0    0 1.5GiB      0    0       0\n"
		"        dma_heap/system       0    0    max      0    0       0\n");
	RUN(0, "show", "-d", "0");
	assert_string_equal(r.out,
		"CGROUP POOL            CURRENT PEAK MAX EVENTS PINS REFUSED\n"
		"/      udmabuf            8MiB    -   -      -    -       -\n"
		"       dma_heap/system       0    -   -      -    -       -\n");
	RUN(0, "-j", "show", "-d", "2");
	json_check(r.out, "[(c[\"cgroup\"], c[\"depth\"]) for c in d[\"cgroups\"]] == [(\"/\", 0), (\"/deep\", 1), (\"/deep/x\", 2),"
		   " (\"/job\", 1), (\"/job/a\", 2), (\"/other\", 1)]");
	RUN(0, "-j", "show", "deep", "-a", "-d", "1");
	json_check(r.out, "[(c[\"cgroup\"], c[\"depth\"]) for c in d[\"cgroups\"]] == [(\"/deep\", 0), (\"/deep/x\", 1), (\"/deep/z\", 1)]");
	assert_int_equal(system(fmt("rm -rf %s/deep", root)), 0);
}

/* -o, --raw, -n */
static void test_show_columns(void **state)
{
	(void)state;
	RUN(0, "show", "-o", "cgroup,pool,MAX");
	assert_string_equal(r.out,
		"CGROUP  POOL               MAX\n"
		"/       udmabuf              -\n"
		"|       dma_heap/system      -\n"
		"|-job   udmabuf           8MiB\n"
		"| |     dma_heap/system    max\n"
		"| `-a   udmabuf            max\n"
		"|       dma_heap/system    max\n"
		"`-other udmabuf         1.5GiB\n"
		"        dma_heap/system    max\n");
	/* any order, any case; -n */
	RUN(0, "show", "-b", "--output", "cgroup,max,Pool", "-n", "job");
	assert_string_equal(r.out,
		"/job   8388608 udmabuf\n"
		"|          max dma_heap/system\n"
		"`-a        max udmabuf\n"
		"           max dma_heap/system\n");
	RUN(0, "show", "--noheadings", "-o", "events,pins,refused,current,peak", "job/a");
	assert_string_equal(r.out, "     0    1       0    4MiB 4MiB\n     0    0       0       0    0\n");
	/* raw: a line per cgroup and pool, full paths, one space */
	RUN(0, "show", "job", "--raw");
	assert_string_equal(r.out,
		"CGROUP POOL CURRENT PEAK MAX EVENTS PINS REFUSED\n"
		"/job udmabuf 8MiB 8MiB 8MiB 1 2 1\n"
		"/job dma_heap/system 0 0 max 0 0 0\n"
		"/job/a udmabuf 4MiB 4MiB max 0 1 0\n"
		"/job/a dma_heap/system 0 0 max 0 0 0\n");
	RUN(0, "show", "--raw", "-n", "-b", "-o", "CGROUP,current,REFUSED", "-a", "job");
	assert_string_equal(r.out,
		"/job 8388608 1\n"
		"/job 0 0\n"
		"/job/a 4194304 0\n"
		"/job/a 0 0\n"
		"/job/a/plain  \n");
	RUN(0, "show", "--raw", "-n", "-o", "cgroup,pool,current");
	assert_string_equal(r.out,
		"/ udmabuf 8MiB\n/ dma_heap/system 0\n/job udmabuf 8MiB\n/job dma_heap/system 0\n"
		"/job/a udmabuf 4MiB\n/job/a dma_heap/system 0\n/other udmabuf 0\n/other dma_heap/system 0\n");
	/* errors */
	RUN(1, "show", "-o", "cgroup,frob");
	HAS(r.err, "bad column list 'cgroup,frob' (columns: CGROUP, POOL, CURRENT, PEAK, MAX, EVENTS, PINS, REFUSED)");
	RUN(1, "-j", "show", "-o", "");
	json_error(1, "bad column list ''");
	RUN(1, "show", "-o");
	HAS(r.err, "-o needs a value");
	RUN(1, "show", "-o", "cgroup,pool,current,peak,max,events,pins,refused,cgroup");
	HAS(r.err, "bad column list");
}

/* A UTF-8 locale: the tree in box-drawing lines, aligned all the same. */
static void test_show_utf8(void **state)
{
	locale_t l = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);

	(void)state;
	if (!l)
		l = newlocale(LC_ALL_MASK, "C.utf8", (locale_t)0);
	if (!l)
		skip();
	freelocale(l);
	setenv("LC_ALL", "C.UTF-8", 1);
	run("show", "-a", "job", (char *)NULL);
	setenv("LC_ALL", "C", 1);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out,
		"CGROUP    POOL                 CURRENT PEAK  MAX EVENTS PINS REFUSED\n"
		"/job      udmabuf                 8MiB 8MiB 8MiB      1    2       1\n"
		"\xe2\x94\x82         dma_heap/system            0    0  max      0    0       0\n"
		"\xe2\x94\x94\xe2\x94\x80" "a       udmabuf                 4MiB 4MiB  max      0    1       0\n"
		"  \xe2\x94\x82       dma_heap/system            0    0  max      0    0       0\n"
		"  \xe2\x94\x94\xe2\x94\x80" "plain (dmabuf not enabled)                               \n");
	setenv("LC_ALL", "C.UTF-8", 1);
	run("show", (char *)NULL);
	setenv("LC_ALL", "C", 1);
	HAS(r.out, "\n\xe2\x94\x9c\xe2\x94\x80job   udmabuf            8MiB 8MiB   8MiB      1    2       1\n");
}

/* JSON: a flat list, depth first, with each cgroup's depth below the first. */
static void test_show_json(void **state)
{
	(void)state;
	RUN(0, "-j", "show", "job/a");
	json_check(r.out, "d == {\"version\": 1, \"cgroups\": [{\"cgroup\": \"/job/a\", \"depth\": 0, \"enabled\": True, \"pools\": ["
		   "{\"pool\": \"udmabuf\", \"current\": 4194304, \"peak\": 4194304, \"max\": None, \"events\": 0,"
		   " \"events_local\": 0, \"pins\": 1, \"refused\": 0},"
		   " {\"pool\": \"dma_heap/system\", \"current\": 0, \"peak\": 0, \"max\": None, \"events\": 0,"
		   " \"events_local\": 0, \"pins\": 0, \"refused\": 0}]}]}");
	RUN(0, "-j", "show");
	json_check(r.out, "[(c[\"cgroup\"], c[\"depth\"], c[\"enabled\"], len(c[\"pools\"])) for c in d[\"cgroups\"]] =="
		   " [(\"/\", 0, True, 2), (\"/job\", 1, True, 2), (\"/job/a\", 2, True, 2), (\"/other\", 1, True, 2)]");
	/* the root: current only */
	json_check(r.out, "d[\"cgroups\"][0][\"pools\"] == [{\"pool\": \"udmabuf\", \"current\": 8388608},"
		   " {\"pool\": \"dma_heap/system\", \"current\": 0}]");
	json_check(r.out, "[c[\"pools\"][0][\"max\"] for c in d[\"cgroups\"] if c[\"cgroup\"] == \"/other\"] == [1610612736]");
	/* events and events.local are each their file's */
	put("job/dmabuf.pinned.events.local", "udmabuf max=0\ndma_heap/system max=0\n");
	RUN(0, "-j", "show", "job", "-d", "0");
	json_check(r.out, "d[\"cgroups\"][0][\"pools\"][0][\"events\"] == 1 and d[\"cgroups\"][0][\"pools\"][0][\"events_local\"] == 0");
	put("job/dmabuf.pinned.events.local", "udmabuf max=1\ndma_heap/system max=0\n");
	/* -p: the same document, indented; -o and --raw do not change JSON */
	RUN(0, "-p", "show", "job", "--raw", "-o", "pool");
	HAS(r.out, "{\n  \"version\": 1,\n  \"cgroups\": [\n");
	json_check(r.out, "[c[\"cgroup\"] for c in d[\"cgroups\"]] == [\"/job\", \"/job/a\"] and len(d[\"cgroups\"][0][\"pools\"][0]) == 8");
}

/* --pid: from the cgroup of a process */
static void test_show_pid(void **state)
{
	char pid[32];

	(void)state;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	RUN(0, "-j", "show", "--pid", pid);
	json_check(r.out, fmt("d[\"cgroups\"][0][\"cgroup\"] == \"/%s\" and d[\"cgroups\"][0][\"depth\"] == 0", own));
	RUN(0, "-j", "show", fmt("--pid=%s", pid), "-d", "0");
	json_check(r.out, "len(d[\"cgroups\"]) == 1");
	RUN(0, "show", "--pid", pid, "-o", "cgroup", "-n", "-d", "0");
	assert_string_equal(r.out, fmt("/%s\n", own));
}

/* The form of earlier versions: cgroup show|list [CGROUP] [-r]. */
static void test_cgroup_show(void **state)
{
	char pid[32], want[1100];

	(void)state;
	RUN(0, "cgroup", "show", "job");	/* CGROUP alone, without -r */
	assert_string_equal(r.out,
		"CGROUP POOL            CURRENT PEAK  MAX EVENTS PINS REFUSED\n"
		"/job   udmabuf            8MiB 8MiB 8MiB      1    2       1\n"
		"       dma_heap/system       0    0  max      0    0       0\n");
	RUN(0, "cgroup", "show", "job", "-r");
	assert_string_equal(r.out, tree_job);
	RUN(0, "cgroup", "list", "-r", "job");
	assert_string_equal(r.out, tree_job);
	/* show takes the old -r (the tree is its default): never --raw */
	RUN(0, "show", "job", "-r");
	assert_string_equal(r.out, tree_job);
	RUN(0, "show", "--recursive", "job");
	assert_string_equal(r.out, tree_job);
	RUN(0, "cgroup", "./job//");
	HAS(r.out, "/job   udmabuf ");
	RUN(0, "-j", "cgroup", "show", "--recursive", "/");
	json_check(r.out, "[c[\"cgroup\"] for c in d[\"cgroups\"]] == [\"/\", \"/job\", \"/job/a\", \"/other\"]");
	/* the caller's own cgroup by default */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(want, sizeof(want), "d[\"cgroups\"][0][\"cgroup\"] == \"/%s\" and len(d[\"cgroups\"]) == 1", own);
	RUN(0, "-j", "cgroup", "show");
	json_check(r.out, want);
	RUN(0, "-p", "cgroup");
	json_check(r.out, want);
	RUN(0, "-j", "cgroup", "show", "--pid", pid);
	json_check(r.out, want);
	RUN(1, "cgroup", "show", "job", "other");
	HAS(r.err, "one CGROUP only, not 'other' too");
}

static void test_show_errors(void **state)
{
	(void)state;
	RUN(1, "show", "nosuch");
	assert_string_equal(r.err, fmt("dmabufctl: no such cgroup %s/nosuch: see the tree: dmabufctl show -a\n", root));
	assert_string_equal(r.out, "");
	RUN(1, "-j", "show", "nosuch");
	json_error(1, "no such cgroup");
	json_check(r.out, "d[\"error\"][\"fix\"] == \"see the tree: dmabufctl show -a\"");
	RUN(2, "show", "job/a/plain");
	assert_string_equal(r.err, fmt("dmabufctl: controller dmabuf not enabled in %s/job/a/plain: run `dmabufctl enable job/a/plain`\n", root));
	RUN(2, "-p", "show", "job/a/plain");
	json_error(2, "controller dmabuf not enabled");
	json_check(r.out, "d[\"error\"][\"fix\"] == \"run `dmabufctl enable job/a/plain`\"");
	RUN(2, "cgroup", "show", "/job/a/plain/");
	HAS(r.err, "run `dmabufctl enable job/a/plain`");
	RUN(1, "show", "job/../other");
	HAS(r.err, "bad cgroup path 'job/../other'");
	RUN(1, "show", "job", "other");
	HAS(r.err, "one CGROUP only, not 'other' too: usage: dmabufctl [show]");
	RUN(1, "show", "--pid", "1", "job");
	HAS(r.err, "a CGROUP or --pid, not both");
	RUN(1, "show", "--pid", "x");
	HAS(r.err, "bad PID 'x'");
	RUN(1, "show", "--pid", "-1");
	HAS(r.err, "bad PID '-1'");
	RUN(1, "-j", "show", "--pid", "999999999");
	json_error(1, "no such process 999999999");
	RUN(1, "show", "--pid");
	HAS(r.err, "--pid needs a value");
	RUN(1, "show", "-x");
	HAS(r.err, "unknown option '-x'");
	RUN(1, "show", "-d", "x");
	HAS(r.err, "bad depth 'x'");
	RUN(1, "show", "-d", "-1");
	HAS(r.err, "bad depth '-1'");
	RUN(1, "show", "-d", "");
	HAS(r.err, "bad depth ''");
	/* a file that cannot be read */
	assert_int_equal(system(fmt("mkdir -p %s/bad && cp %s/job/dmabuf.* %s/job/cgroup.* %s/bad/ && rm %s/bad/dmabuf.pinned.peak"
				     " && mkdir %s/bad/dmabuf.pinned.peak", root, root, root, root, root, root)), 0);
	RUN(2, "-j", "show", "bad");
	json_error(2, "cannot read the dmabuf files of");
	assert_int_equal(system(fmt("rm -rf %s/bad", root)), 0);
}

/* set */

static void test_set(void **state)
{
	(void)state;
	RUN(0, "set", "other", "udmabuf=8M");
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "");
	assert_string_equal(get("other/dmabuf.pinned.max"), "udmabuf 8388608\n");
	/* several, in one write, /dev names */
	RUN(0, "set", "/other", "/dev/dma_heap/system=1.5G", "/dev/udmabuf=max");
	assert_string_equal(get("other/dmabuf.pinned.max"), "dma_heap/system 1610612736\nudmabuf max\n");
	/* the old POOL SIZE pairs, and both forms mixed */
	RUN(0, "set", "other", "udmabuf", "4K", "dma_heap/system", "max");
	assert_string_equal(get("other/dmabuf.pinned.max"), "udmabuf 4096\ndma_heap/system max\n");
	RUN(0, "set", "other", "udmabuf", "1M", "dma_heap/system=2M");
	assert_string_equal(get("other/dmabuf.pinned.max"), "udmabuf 1048576\ndma_heap/system 2097152\n");
	RUN(0, "cgroup", "set", "other", "udmabuf=3M");
	assert_string_equal(get("other/dmabuf.pinned.max"), "udmabuf 3145728\n");
	RUN(0, "cgroup", "set", "other", "udmabuf", "5M");
	assert_string_equal(get("other/dmabuf.pinned.max"), "udmabuf 5242880\n");
	/* JSON: what is read back after the write (the fake file holds what was written) */
	RUN(0, "-j", "set", "other", "udmabuf=4096");
	assert_string_equal(get("other/dmabuf.pinned.max"), "udmabuf 4096\n");
	json_check(r.out, "d == {\"version\": 1, \"cgroup\": \"/other\", \"pools\": [{\"pool\": \"udmabuf\", \"max\": 4096}]}");
	RUN(0, "set", "-j", "other", "udmabuf=max");
	json_check(r.out, "d[\"pools\"] == [{\"pool\": \"udmabuf\", \"max\": None}]");
	/* and show shows it */
	put("other/dmabuf.pinned.max", "udmabuf 8388608\ndma_heap/system max\n");
	RUN(0, "show", "other", "--raw", "-n", "-o", "pool,max");
	assert_string_equal(r.out, "udmabuf 8MiB\ndma_heap/system max\n");
	put("other/dmabuf.pinned.max", "udmabuf 1610612736\ndma_heap/system max\n");
}

static void test_set_errors(void **state)
{
	(void)state;
	RUN(1, "set", "other", "udmabf=8M");
	assert_string_equal(r.err, "dmabufctl: no such pool 'udmabf': pools: udmabuf, dma_heap/system\n");
	RUN(1, "-j", "set", "other", "udmabf", "8M");
	json_error(1, "no such pool 'udmabf'");
	json_check(r.out, "d[\"error\"][\"fix\"] == \"pools: udmabuf, dma_heap/system\"");
	RUN(1, "set", "other", "udmabuf=8X");
	HAS(r.err, "dmabufctl: bad size '8X': give bytes, or a size like 512M, 4G, 1.5G");
	RUN(1, "set", "other", "udmabuf=");
	HAS(r.err, "bad size ''");
	RUN(1, "set", "other", "=8M");
	HAS(r.err, "bad pool ''");
	RUN(1, "-j", "set", "other", "/dev/null=8M");
	json_error(1, "bad pool '/dev/null'");
	RUN(1, "set", "other", "/dev/null", "8M");
	HAS(r.err, "bad pool '/dev/null'");
	RUN(1, "set", "/", "udmabuf=8M");
	HAS(r.err, "the root cgroup has no limits: set limits on a child cgroup");
	RUN(1, "set", "nosuch", "udmabuf=8M");
	HAS(r.err, "no such cgroup");
	RUN(2, "set", "job/a/plain", "udmabuf=8M");
	HAS(r.err, "controller dmabuf not enabled in");
	HAS(r.err, "run `dmabufctl enable job/a/plain`");
	RUN(1, "set");
	HAS(r.err, "CGROUP, POOL and SIZE needed: usage: dmabufctl set CGROUP POOL=SIZE|max");
	RUN(1, "set", "other");
	HAS(r.err, "CGROUP, POOL and SIZE needed");
	RUN(1, "set", "other", "udmabuf");
	HAS(r.err, "CGROUP, POOL and SIZE needed");
	RUN(1, "cgroup", "set", "other", "udmabuf=1M", "dma_heap/system");
	HAS(r.err, "a POOL without a SIZE");
	RUN(1, "-j", "set", "--frob", "other", "udmabuf=1M");
	json_error(1, "unknown option '--frob'");
	/* options come before CGROUP: after it, all is limits */
	RUN(1, "set", "other", "udmabuf=1M", "-j");
	HAS(r.err, "a POOL without a SIZE");
	/* nothing was written by any of these */
	assert_string_equal(get("other/dmabuf.pinned.max"), "udmabuf 1610612736\ndma_heap/system max\n");
	/* a write that fails */
	assert_int_equal(system(fmt("mkdir -p %s/ro && cp %s/job/dmabuf.* %s/ro/ && rm %s/ro/dmabuf.pinned.max"
				     " && mkdir %s/ro/dmabuf.pinned.max", root, root, root, root, root)), 0);
	RUN(2, "-j", "set", "ro", "udmabuf=1M");
	json_error(2, "cannot write");
	HAS(r.err, "/ro/dmabuf.pinned.max: Is a directory");
	assert_int_equal(system(fmt("rm -rf %s/ro", root)), 0);
}

/* enable */

static void test_enable(void **state)
{
	(void)state;
	mkcg_plain("e1");
	mkcg_plain("e1/e2");
	mkcg_plain("e1/e2/e3");
	put("cgroup.subtree_control", "cpu\n");
	RUN(0, "enable", "e1/e2/e3");
	assert_string_equal(r.out, fmt("enabled dmabuf in %s/cgroup.subtree_control\n"
				       "enabled dmabuf in %s/e1/cgroup.subtree_control\n"
				       "enabled dmabuf in %s/e1/e2/cgroup.subtree_control\n", root, root, root));
	put("cgroup.subtree_control", "dmabuf\n");
	assert_string_equal(get("e1/cgroup.subtree_control"), "+dmabuf");
	assert_string_equal(get("e1/e2/cgroup.subtree_control"), "+dmabuf");
	assert_string_equal(get("e1/e2/e3/cgroup.subtree_control"), "");
	put("e1/cgroup.subtree_control", "dmabuf\n");
	put("e1/e2/cgroup.subtree_control", "cpu\n");
	RUN(0, "-j", "enable", "e1/e2/e3", "--subtree");
	json_check(r.out, "d == {\"version\": 1, \"cgroup\": \"/e1/e2/e3\", \"enabled_in\": [\"/e1/e2\", \"/e1/e2/e3\"]}");
	put("e1/e2/cgroup.subtree_control", "cpu dmabuf\n");
	put("e1/e2/e3/cgroup.subtree_control", "dmabuf\n");
	RUN(0, "-j", "cgroup", "enable", "e1/e2/e3", "-s");
	json_check(r.out, "d[\"enabled_in\"] == []");
	RUN(0, "enable", "/e1/e2");
	assert_string_equal(r.out, "");
	/* the old form */
	put("e1/e2/cgroup.subtree_control", "cpu\n");
	RUN(0, "cgroup", "enable", "e1/e2/e3");
	assert_string_equal(r.out, fmt("enabled dmabuf in %s/e1/e2/cgroup.subtree_control\n", root));
	RUN(1, "enable");
	HAS(r.err, "which CGROUP?: usage: dmabufctl enable CGROUP [--subtree]");
	RUN(1, "-j", "enable", "nosuch");
	json_error(1, "no such cgroup");
	RUN(1, "enable", "a", "b");
	HAS(r.err, "one CGROUP only");
	RUN(1, "cgroup", "enable", "e1", "-x");
	HAS(r.err, "unknown option '-x'");
	/* subtree_control that cannot be read */
	assert_int_equal(system(fmt("rm %s/e1/e2/cgroup.subtree_control && mkdir %s/e1/e2/cgroup.subtree_control",
				     root, root)), 0);
	RUN(2, "-j", "enable", "e1/e2/e3");
	json_error(2, "cannot read");
	assert_int_equal(system(fmt("rm -rf %s/e1", root)), 0);
}

/* watch and top: the binary in the background */

/* Starts dmabufctl ARGV in the background: stdout into OUTFILE, stderr into ERRFILE. */
static pid_t bg(const char *outfile, const char *errfile, char *const argv[])
{
	/* opened here: nothing of a previous run is read once bg() returns */
	int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int efd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	pid_t pid;

	assert_true(fd >= 0 && efd >= 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* a failed test leaves nothing running */
		dup2(fd, 1);
		dup2(efd, 2);
		if (fakecgfs)
			setenv("LD_PRELOAD", fakecgfs, 1);
		execv(ctl, argv);
		_exit(99);
	}
	close(fd);
	close(efd);
	return pid;
}

/*
 * Until PID has its SIGTERM handler: watch sets it once every watch is in
 * place, top before its first round. No sleep guesses how long that takes.
 */
static void bg_ready(pid_t pid)
{
	char path[64], line[256];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	for (i = 0; i < 1000; i++) {
		FILE *f = fopen(path, "r");
		unsigned long long caught = 0;

		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "SigCgt:", 7))
				caught = strtoull(line + 7, NULL, 16);
		if (f)
			fclose(f);
		if (caught & (1ULL << (SIGTERM - 1)))
			return;
		if (waitpid(pid, NULL, WNOHANG))
			fail_msg("dmabufctl exited before it was ready");
		usleep(2000);
	}
	fail_msg("dmabufctl not ready after 2 s");
}

/* The inotify watches PID holds (/proc/PID/fdinfo). */
static int bg_watches(pid_t pid)
{
	char dir[64], line[512];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", (int)pid);
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		f = fopen(fmt("%s/%s", dir, e->d_name), "r");
		while (f && fgets(line, sizeof(line), f))
			n += !strncmp(line, "inotify wd:", 11);
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

/* Until PID holds N inotify watches. */
static void bg_watching(pid_t pid, int n)
{
	int i;

	for (i = 0; i < 1000 && bg_watches(pid) != n; i++)
		usleep(2000);
	if (bg_watches(pid) != n)
		fail_msg("%d inotify watches, want %d", bg_watches(pid), n);
}

/* Until FILE has N lines. */
static void bg_lines(const char *file, int n)
{
	char buf[65536];
	int i, fd, k;
	const char *c;

	for (i = 0; i < 2500; i++) {
		fd = open(file, O_RDONLY);
		slurp(fd, buf, sizeof(buf));
		close(fd);
		for (k = 0, c = buf; (c = strchr(c, '\n')); c++)
			k++;
		if (k >= n)
			return;
		usleep(2000);
	}
	fail_msg("%s: not %d lines after 5 s", file, n);
}

/* Its exit status, stdout in OUT and stderr in ERR; -1 if it did not exit in 5 s. */
static int bg_wait(pid_t pid, const char *outfile, const char *errfile, char *out, size_t n,
		   char *err, size_t en)
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
	slurp(fd, out, n);
	close(fd);
	fd = open(errfile, O_RDONLY);
	slurp(fd, err, en);
	close(fd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * A counter file changed in place, as the kernel's change: one write(2) at
 * offset 0 without truncating (a truncation is an IN_MODIFY of its own,
 * which would show watch an empty file). Counters only grow, and so does
 * the text.
 */
static void poke(const char *rel, const char *form, ...)
{
	char path[2048], text[1024];
	struct stat sb;
	va_list ap;
	int fd, n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	va_start(ap, form);
	n = vsnprintf(text, sizeof(text), form, ap);
	va_end(ap);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_true(n >= sb.st_size);
	assert_int_equal(write(fd, text, n), n);
	close(fd);
}

/* A refusal by CG's own limit: events.local (what watch watches), and events. */
static void refuse(const char *cg, const char *pool, int events, int local)
{
	bool u = !strcmp(pool, "udmabuf");

	poke(fmt("%s/dmabuf.pinned.events", cg), "udmabuf max=%d\ndma_heap/system max=%d\n",
	     u ? events : 0, u ? 0 : events);
	poke(fmt("%s/dmabuf.pinned.events.local", cg), "udmabuf max=%d\ndma_heap/system max=%d\n",
	     u ? local : 0, u ? 0 : local);
}

struct bgfiles {
	char out[32], err[32];
	char o[16384], e[4096];
};

static void bgfiles_make(struct bgfiles *f)
{
	int fd;

	snprintf(f->out, sizeof(f->out), "/tmp/dmabufctl-bg.XXXXXX");
	snprintf(f->err, sizeof(f->err), "/tmp/dmabufctl-bg.XXXXXX");
	fd = mkstemp(f->out);
	assert_true(fd >= 0);
	close(fd);
	fd = mkstemp(f->err);
	assert_true(fd >= 0);
	close(fd);
}

static void bgfiles_rm(struct bgfiles *f)
{
	unlink(f->out);
	unlink(f->err);
}

/* watch */

/* The time of a line: 2026-01-02T03:04:05.678Z */
static bool utc_time(const char *s)
{
	static const char form[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t i;

	for (i = 0; i < sizeof(form) - 1; i++)
		if (form[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != form[i])
			return false;
	return true;
}

static void test_watch(void **state)
{
	char *all[] = { (char *)ctl, "watch", "-n", "4", NULL };
	struct bgfiles f;
	char *l1, *l2, *l3;
	pid_t pid;
	int n;

	(void)state;
	bgfiles_make(&f);
	mkcg("job/a/lim", 0, 1048576, 0, 0);
	/* the whole host by default: a refusal deep in the tree, named */
	pid = bg(f.out, f.err, all);
	bg_ready(pid);
	refuse("job/a/lim", "udmabuf", 1, 1);
	bg_lines(f.out, 1);
	/* a cgroup made after watch started (mkdir: fakecgfs makes its files) */
	n = bg_watches(pid);
	assert_int_equal(system(fmt("LD_PRELOAD='%s' mkdir %s/other/new", fakecgfs ? fakecgfs : "", root)), 0);
	assert_non_null(get("other/new/dmabuf.pinned.events.local"));
	bg_watching(pid, n + 2);	/* its directory and its events.local */
	usleep(50 * 1000);		/* and events.local read, as it was before any refusal */
	refuse("other/new", "dma_heap/system", 2, 2);	/* +2 at once: one line */
	bg_lines(f.out, 2);
	/* a refusal by a descendant's limit only (events, not events.local): no line */
	poke("job/dmabuf.pinned.events", "udmabuf max=5\ndma_heap/system max=0\n");
	refuse("job/a/lim", "udmabuf", 2, 2);	/* 4 refusals in all: -n 4 exits */
	assert_int_equal(bg_wait(pid, f.out, f.err, f.o, sizeof(f.o), f.e, sizeof(f.e)), 0);
	l1 = f.o;
	l2 = strchr(l1, '\n') + 1;
	l3 = strchr(l2, '\n') + 1;
	if (!utc_time(l1) || !utc_time(l2) || !utc_time(l3) ||
	    strncmp(l1 + 24, " /job/a/lim udmabuf refused +1 events.local max=1 limit 1MiB\n", l2 - l1 - 24) ||
	    strncmp(l2 + 24, " /other/new dma_heap/system refused +2 events.local max=2 limit max\n", l3 - l2 - 24) ||
	    strcmp(l3 + 24, " /job/a/lim udmabuf refused +1 events.local max=2 limit 1MiB\n"))
		fail_msg("watch output:\n%s", f.o);
	assert_string_equal(f.e, "");

	/* JSON, -b, a cgroup's subtree */
	{
		char *json[] = { (char *)ctl, "-j", "watch", "job", "--count", "1", NULL };

		pid = bg(f.out, f.err, json);
		bg_ready(pid);
		refuse("other/new", "dma_heap/system", 3, 3);	/* not in job's subtree */
		poke("job/a/lim/dmabuf.pinned.max", "udmabuf 2097152\ndma_heap/system max\n");
		refuse("job/a/lim", "udmabuf", 3, 3);
		assert_int_equal(bg_wait(pid, f.out, f.err, f.o, sizeof(f.o), f.e, sizeof(f.e)), 0);
		json_check_doc(f.o, "len(d) == 1 and set(d[0]) == {\"version\", \"time\", \"cgroup\", \"pool\","
			       " \"events_local_delta\", \"events_local\", \"max\"} and d[0][\"version\"] == 1 and"
			       " d[0][\"cgroup\"] == \"/job/a/lim\" and d[0][\"pool\"] == \"udmabuf\" and"
			       " d[0][\"events_local_delta\"] == 1 and d[0][\"events_local\"] == 3 and"
			       " d[0][\"max\"] == 2097152 and d[0][\"time\"].endswith(\"Z\")", true);
		assert_string_equal(f.e, "");
	}
	{
		char *bytes[] = { (char *)ctl, "watch", "/job/a/lim", "-b", "-n", "1", NULL };

		pid = bg(f.out, f.err, bytes);
		bg_ready(pid);
		refuse("job/a/lim", "udmabuf", 5, 5);
		assert_int_equal(bg_wait(pid, f.out, f.err, f.o, sizeof(f.o), f.e, sizeof(f.e)), 0);
		if (!utc_time(f.o) || strcmp(f.o + 24, " /job/a/lim udmabuf refused +2 events.local max=5 limit 2097152\n"))
			fail_msg("watch -b output:\n%s", f.o);
	}
	/* the controller enabled in a cgroup while watched: its files appear */
	{
		char *sub[] = { (char *)ctl, "watch", "job/a", "-n", "1", NULL };

		pid = bg(f.out, f.err, sub);
		bg_ready(pid);
		n = bg_watches(pid);
		put("job/a/plain/dmabuf.pinned.current", "udmabuf 0\ndma_heap/system 0\n");
		put("job/a/plain/dmabuf.pinned.peak", "udmabuf 0\ndma_heap/system 0\n");
		put("job/a/plain/dmabuf.pinned.max", "udmabuf 4096\ndma_heap/system max\n");
		put("job/a/plain/dmabuf.pinned.events", "udmabuf max=0\ndma_heap/system max=0\n");
		put("job/a/plain/dmabuf.pinned.stat", "udmabuf pins=0 refused=0\ndma_heap/system pins=0 refused=0\n");
		put("job/a/plain/dmabuf.pinned.events.local", "udmabuf max=0\ndma_heap/system max=0\n");
		bg_watching(pid, n + 1);	/* its events.local */
		usleep(50 * 1000);
		refuse("job/a/plain", "udmabuf", 1, 1);
		assert_int_equal(bg_wait(pid, f.out, f.err, f.o, sizeof(f.o), f.e, sizeof(f.e)), 0);
		if (!utc_time(f.o) || strcmp(f.o + 24, " /job/a/plain udmabuf refused +1 events.local max=1 limit 4KiB\n"))
			fail_msg("watch, controller enabled:\n%s", f.o);
		assert_int_equal(system(fmt("rm %s/job/a/plain/dmabuf.*", root)), 0);
	}
	/* SIGTERM, SIGINT: status 0, no line, no error */
	{
		char *term[] = { (char *)ctl, "-p", "watch", NULL };
		int sig[] = { SIGTERM, SIGINT }, i;

		for (i = 0; i < 2; i++) {
			pid = bg(f.out, f.err, term);
			bg_ready(pid);
			kill(pid, sig[i]);
			assert_int_equal(bg_wait(pid, f.out, f.err, f.o, sizeof(f.o), f.e, sizeof(f.e)), 0);
			assert_string_equal(f.o, "");
			assert_string_equal(f.e, "");
		}
	}
	bgfiles_rm(&f);
	put("job/dmabuf.pinned.events", "udmabuf max=1\ndma_heap/system max=0\n");
	assert_int_equal(system(fmt("rm -rf %s/job/a/lim %s/other/new", root, root)), 0);
}

/* The cgroup watched is removed: watch ends, status 0. */
static void test_watch_removed(void **state)
{
	char *argv[] = { (char *)ctl, "watch", "gone", NULL };
	char *json[] = { (char *)ctl, "-j", "watch", "gone", NULL };
	struct bgfiles f;
	pid_t pid;

	(void)state;
	bgfiles_make(&f);
	mkcg("gone", 0, UNLIMITED, 0, 0);
	mkcg("gone/child", 0, 4096, 0, 0);
	pid = bg(f.out, f.err, argv);
	bg_ready(pid);
	assert_int_equal(system(fmt("rm -rf %s/gone", root)), 0);
	assert_int_equal(bg_wait(pid, f.out, f.err, f.o, sizeof(f.o), f.e, sizeof(f.e)), 0);
	assert_string_equal(f.o, "");
	assert_string_equal(f.e, "dmabufctl: cgroup /gone removed\n");
	/* JSON: stdout stays a stream of refusals (none) */
	mkcg("gone", 0, UNLIMITED, 0, 0);
	pid = bg(f.out, f.err, json);
	bg_ready(pid);
	assert_int_equal(system(fmt("rm -rf %s/gone", root)), 0);
	assert_int_equal(bg_wait(pid, f.out, f.err, f.o, sizeof(f.o), f.e, sizeof(f.e)), 0);
	assert_string_equal(f.o, "");
	bgfiles_rm(&f);
}

static void test_watch_errors(void **state)
{
	(void)state;
	RUN(2, "-j", "watch", "job/a/plain");
	json_error(2, "controller dmabuf not enabled");
	RUN(1, "watch", "job", "-n", "0");
	HAS(r.err, "bad count '0': usage: dmabufctl watch [CGROUP | /] [-n N]");
	RUN(1, "watch", "-n", "x");
	HAS(r.err, "bad count 'x'");
	RUN(1, "watch", "--count");
	HAS(r.err, "--count needs a value");
	RUN(1, "-j", "watch", "nosuch");
	json_error(1, "no such cgroup");
	RUN(1, "watch", "job/../x");
	HAS(r.err, "bad cgroup path");
	RUN(1, "watch", "a", "b");
	HAS(r.err, "one CGROUP only");
	RUN(1, "watch", "--frob");
	HAS(r.err, "unknown option '--frob'");
}

/* top */

static void test_top(void **state)
{
	char *json[] = { (char *)ctl, "-j", "top", "-d", "0.3", "-n", "2", NULL };
	char *text[] = { (char *)ctl, "top", "--delay=0.3", "--iterations", "2", "--batch", NULL };
	char *term[] = { (char *)ctl, "top", "-d", "60", NULL };
	struct bgfiles f;
	const char *t, *line;
	char *end;
	pid_t pid;

	(void)state;
	bgfiles_make(&f);
	/* one round: what pins, the most first; no rate yet */
	RUN(0, "top", "-n", "1");
	t = r.out;
	if (strncmp(t, "dmabufctl top - ", 16) || !isdigit((unsigned char)t[16]) || t[18] != ':' || t[21] != ':' ||
	    strcmp(t + 24, "  pinned 8MiB\n"
		   "CGROUP POOL    CURRENT PEAK  MAX PINS REFUSED/s\n"
		   "/job   udmabuf    8MiB 8MiB 8MiB    2         -\n"
		   "/job/a udmabuf    4MiB 4MiB  max    1         -\n"))
		fail_msg("top:\n%s", r.out);
	RUN(0, "top", "-n", "1", "-b");
	HAS(r.out, "/job   udmabuf 8388608 8388608 8388608    2         -\n");

	/* JSON, two rounds: refused= of /other grows between them */
	pid = bg(f.out, f.err, json);
	bg_lines(f.out, 1);
	poke("other/dmabuf.pinned.stat", "udmabuf pins=0 refused=3\ndma_heap/system pins=0 refused=0\n");
	assert_int_equal(bg_wait(pid, f.out, f.err, f.o, sizeof(f.o), f.e, sizeof(f.e)), 0);
	json_check_doc(f.o, "len(d) == 2 and all(x[\"version\"] == 1 and x[\"current\"] == 8388608 for x in d)", true);
	/* round 1: no rate anywhere; /other neither pins nor was refused: not shown */
	json_check_doc(f.o, "\"refused_per_s\" not in d[0] and all(\"refused_per_s\" not in c for c in d[0][\"cgroups\"]) and"
		       " d[0][\"cgroups\"] == [{\"cgroup\": \"/job\", \"pool\": \"udmabuf\", \"current\": 8388608, \"peak\": 8388608,"
		       " \"max\": 8388608, \"pins\": 2, \"refused\": 1}, {\"cgroup\": \"/job/a\", \"pool\": \"udmabuf\","
		       " \"current\": 4194304, \"peak\": 4194304, \"max\": None, \"pins\": 1, \"refused\": 0}]", true);
	/* round 2: /other's 3 refusals over about 0.3 s, and the total the same */
	json_check_doc(f.o, "[(c[\"cgroup\"], c[\"pool\"], c[\"refused\"]) for c in d[1][\"cgroups\"]] =="
		       " [(\"/job\", \"udmabuf\", 1), (\"/job/a\", \"udmabuf\", 0), (\"/other\", \"udmabuf\", 3)] and"
		       " d[1][\"cgroups\"][0][\"refused_per_s\"] == 0 and d[1][\"cgroups\"][1][\"refused_per_s\"] == 0", true);
	json_check_doc(f.o, "(lambda rate, gap: 0 < rate <= 3 / 0.3 + 1e-6 and rate * (gap + 0.5) >= 3 and"
		       " d[1][\"refused_per_s\"] == rate)(d[1][\"cgroups\"][2][\"refused_per_s\"],"
		       " __import__(\"datetime\").datetime.fromisoformat(d[1][\"time\"][:-1]).timestamp() -"
		       " __import__(\"datetime\").datetime.fromisoformat(d[0][\"time\"][:-1]).timestamp())", true);
	put("other/dmabuf.pinned.stat", "udmabuf pins=0 refused=0\ndma_heap/system pins=0 refused=0\n");

	/* text: the same, a table per round */
	pid = bg(f.out, f.err, text);
	bg_lines(f.out, 4);
	poke("job/dmabuf.pinned.stat", "udmabuf pins=2 refused=4\ndma_heap/system pins=0 refused=0\n");
	assert_int_equal(bg_wait(pid, f.out, f.err, f.o, sizeof(f.o), f.e, sizeof(f.e)), 0);
	line = strstr(f.o, "  pinned 8MiB, ");	/* round 2's first line: the total rate */
	if (!line || strtod(line + 15, &end) <= 0 || strncmp(end, " refused/s\n", 11))
		fail_msg("top, 2 rounds:\n%s", f.o);
	line = strstr(line, "\n/job   udmabuf    8MiB 8MiB 8MiB    2 ");
	if (!line || strtod(line + 40, &end) <= 0 || *end != '\n' ||
	    !strstr(line, "\n/job/a udmabuf    4MiB 4MiB  max    1       0.0\n"))
		fail_msg("top, round 2:\n%s", f.o);
	put("job/dmabuf.pinned.stat", "udmabuf pins=2 refused=1\ndma_heap/system pins=0 refused=0\n");

	/* SIGTERM in the wait between rounds: status 0, the first round printed */
	pid = bg(f.out, f.err, term);
	bg_lines(f.out, 4);
	kill(pid, SIGTERM);
	assert_int_equal(bg_wait(pid, f.out, f.err, f.o, sizeof(f.o), f.e, sizeof(f.e)), 0);
	HAS(f.o, "/job/a udmabuf    4MiB 4MiB  max    1         -\n");
	assert_string_equal(f.e, "");
	bgfiles_rm(&f);

	/* errors */
	RUN(1, "top", "-d", "0");
	HAS(r.err, "bad delay '0' (seconds, 0.1 to 86400): usage: dmabufctl top");
	RUN(1, "top", "-d", "x");
	HAS(r.err, "bad delay 'x'");
	RUN(1, "-j", "top", "-n", "0");
	json_error(1, "bad count '0'");
	RUN(1, "top", "-n", "1x");
	HAS(r.err, "bad count '1x'");
	RUN(1, "top", "job");
	HAS(r.err, "unknown argument 'job'");
	RUN(1, "top", "--frob");
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
	RUN(0, "run", "--limit=udmabuf=max", "--parent", "job", "true");
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
	json_error(125, "no such pool 'udmabf'");	/* cgfs.c's message, run's status */
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
	RUN(0, "-j", "pins", "--debugfs", dbg, "--pool", "udmabuf");
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
	HAS(r.err, "unknown option '--bogus'");
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
		cmocka_unit_test(test_abbreviations),
		cmocka_unit_test(test_root_errors),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_pins),
		cmocka_unit_test(test_show),
		cmocka_unit_test(test_show_all),
		cmocka_unit_test(test_show_depth),
		cmocka_unit_test(test_show_columns),
		cmocka_unit_test(test_show_utf8),
		cmocka_unit_test(test_show_json),
		cmocka_unit_test(test_show_pid),
		cmocka_unit_test(test_cgroup_show),
		cmocka_unit_test(test_show_errors),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_set_errors),
		cmocka_unit_test(test_enable),
		cmocka_unit_test(test_watch),
		cmocka_unit_test(test_watch_removed),
		cmocka_unit_test(test_watch_errors),
		cmocka_unit_test(test_top),
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
