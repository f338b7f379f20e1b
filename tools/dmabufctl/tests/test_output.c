// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of dmabufctl's output layer (output.c on json-c), linked
 * with output.o: the version key, exact 64-bit numbers, null limits, UTF-8
 * cleanup of names, the error document, pretty printing, and streams (one
 * object per line, each flushed when closed). stdout and stderr are
 * redirected to files around each call, as the layer prints to them.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmabufctl.h"	/* before cmocka.h, whose fail() is a macro */

#include <cmocka.h>

static int dmabufctl_fail(int status, const char *fix, const char *msg)
{
	return (fail)(status, fix, "%s", msg);
}

static struct capture {
	char path[64];
	int saved;
	char text[65536];
} cap[3];	/* [1] stdout, [2] stderr */

static void cap_begin(void)
{
	int fdn;

	fflush(NULL);
	for (fdn = 1; fdn <= 2; fdn++) {
		int fd;

		snprintf(cap[fdn].path, sizeof(cap[fdn].path), "/tmp/dmabufctl-test-output.XXXXXX");
		fd = mkstemp(cap[fdn].path);
		assert_true(fd >= 0);
		cap[fdn].saved = dup(fdn);
		dup2(fd, fdn);
		close(fd);
	}
}

/* What was written to fd @fdn so far (the capture goes on). */
static const char *cap_peek(int fdn)
{
	FILE *f = fopen(cap[fdn].path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(cap[fdn].text, 1, sizeof(cap[fdn].text) - 1, f);
	cap[fdn].text[n] = '\0';
	fclose(f);
	return cap[fdn].text;
}

static void cap_end(void)
{
	int fdn;

	fflush(NULL);
	for (fdn = 1; fdn <= 2; fdn++) {
		cap_peek(fdn);
		dup2(cap[fdn].saved, fdn);
		close(cap[fdn].saved);
		unlink(cap[fdn].path);
	}
}

static int setup(void **state)
{
	(void)state;
	memset(&opt, 0, sizeof(opt));
	opt.json = true;
	out_begin();
	return 0;
}

static void test_document(void **state)
{
	(void)state;
	cap_begin();
	j_obj(NULL);
	j_str("s", "a/b");
	j_u64("u64_max", UINT64_MAX);
	j_u64("zero", 0);
	j_int("neg", -5);
	j_bool("t", true);
	j_bool("f", false);
	j_limit("unlimited", UNLIMITED);
	j_limit("limited", UINT64_MAX - 1);
	j_arr("a");
	j_str(NULL, "x");
	j_obj(NULL);
	j_end();
	j_end();
	j_arr("empty");
	j_end();
	j_end();
	assert_string_equal(cap_peek(1), "");	/* nothing before the end */
	assert_int_equal(out_end(0), 0);
	cap_end();
	assert_string_equal(cap[1].text,
		"{\"version\":1,\"s\":\"a/b\",\"u64_max\":18446744073709551615,\"zero\":0,\"neg\":-5,"
		"\"t\":true,\"f\":false,\"unlimited\":null,\"limited\":18446744073709551614,"
		"\"a\":[\"x\",{}],\"empty\":[]}\n");
	assert_string_equal(cap[2].text, "");
}

static void test_pretty(void **state)
{
	(void)state;
	opt.pretty = true;
	cap_begin();
	j_obj(NULL);
	j_arr("pools");
	j_obj(NULL);
	j_str("pool", "udmabuf");
	j_limit("max", UNLIMITED);
	j_end();
	j_end();
	j_end();
	out_end(0);
	cap_end();
	assert_string_equal(cap[1].text,
		"{\n  \"version\": 1,\n  \"pools\": [\n    {\n      \"pool\": \"udmabuf\",\n"
		"      \"max\": null\n    }\n  ]\n}\n");
}

/* Names are bytes: valid UTF-8 is kept, every other byte is \xNN. */
static void test_utf8(void **state)
{
	static const struct { const char *in, *json; } cases[] = {
		{ "plain", "\"plain\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7\"" },
		{ "/job/\xff", "\"/job/\\\\xff\"" },
		{ "\xc3", "\"\\\\xc3\"" },				/* truncated */
		{ "\xe2\x82 ", "\"\\\\xe2\\\\x82 \"" },			/* truncated, then more */
		{ "\xc0\xaf", "\"\\\\xc0\\\\xaf\"" },			/* overlong "/" */
		{ "\xed\xa0\x80", "\"\\\\xed\\\\xa0\\\\x80\"" },	/* a surrogate */
		{ "\xf4\x90\x80\x80", "\"\\\\xf4\\\\x90\\\\x80\\\\x80\"" },	/* > U+10FFFF */
		{ "\x80", "\"\\\\x80\"" },				/* a lone continuation */
		{ "q\"b\\s/n\nt\tc\x01", "\"q\\\"b\\\\s/n\\nt\\tc\\u0001\"" },
	};
	char want[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cap_begin();
		j_obj(NULL);
		j_str("k", cases[i].in);
		j_end();
		out_end(0);
		cap_end();
		snprintf(want, sizeof(want), "{\"version\":1,\"k\":%s}\n", cases[i].json);
		if (strcmp(cap[1].text, want))
			fail_msg("case %zu: got %s want %s", i, cap[1].text, want);
	}
}

/* An error replaces the document: the only JSON on stdout; text on stderr. */
static void test_error(void **state)
{
	(void)state;
	cap_begin();
	j_obj(NULL);
	j_arr("pools");
	j_obj(NULL);
	j_str("pool", "udmabuf");
	assert_int_equal(dmabufctl_fail(2, "do this", "bad \xff"), 2);
	assert_int_equal(dmabufctl_fail(1, "not this", "a second error"), 1);	/* the first counts */
	j_end();
	j_end();
	j_end();
	assert_int_equal(out_end(2), 2);
	cap_end();
	assert_string_equal(cap[1].text,
		"{\"version\":1,\"error\":{\"message\":\"bad \\\\xff\",\"fix\":\"do this\",\"status\":2}}\n");
	assert_string_equal(cap[2].text, "dmabufctl: bad \xff: do this\n");

	/* no fix: no key; and the state is clean for the next document */
	cap_begin();
	dmabufctl_fail(1, NULL, "no object given");
	out_end(1);
	j_obj(NULL);
	j_end();
	out_end(0);
	cap_end();
	assert_string_equal(cap[1].text,
		"{\"version\":1,\"error\":{\"message\":\"no object given\",\"status\":1}}\n{\"version\":1}\n");
	assert_string_equal(cap[2].text, "dmabufctl: no object given\n");
}

/* Text mode: out is stdout, errors go to stderr only. */
static void test_text(void **state)
{
	(void)state;
	opt.json = false;
	out_begin();
	cap_begin();
	fprintf(out, "a table\n");
	out_end(0);
	dmabufctl_fail(2, NULL, "refused");
	out_end(2);
	cap_end();
	assert_string_equal(cap[1].text, "a table\n");
	assert_string_equal(cap[2].text, "dmabufctl: refused\n");
}

/* watch: j_arr(NULL) is the stream; each object is a line, printed when closed. */
static void test_stream_array(void **state)
{
	(void)state;
	opt.pretty = true;	/* lines stay one line each */
	cap_begin();
	out_stream();
	j_arr(NULL);
	j_flush();
	assert_string_equal(cap_peek(1), "");
	j_obj(NULL);
	j_str("pool", "udmabuf");
	j_u64("events_delta", 1);
	assert_string_equal(cap_peek(1), "");
	j_end();
	assert_string_equal(cap_peek(1), "{\"version\":1,\"pool\":\"udmabuf\",\"events_delta\":1}\n");
	j_obj(NULL);
	j_arr("a");
	j_end();
	j_end();
	j_end();	/* the stream: nothing */
	out_end(0);
	cap_end();
	assert_string_equal(cap[1].text,
		"{\"version\":1,\"pool\":\"udmabuf\",\"events_delta\":1}\n{\"version\":1,\"a\":[]}\n");
}

/* top: each top-level object is a line. */
static void test_stream_objects(void **state)
{
	(void)state;
	cap_begin();
	out_stream();
	j_obj(NULL);
	j_u64("current", 1);
	j_end();
	assert_string_equal(cap_peek(1), "{\"version\":1,\"current\":1}\n");
	j_obj(NULL);
	j_u64("current", 2);
	j_end();
	out_end(0);
	cap_end();
	assert_string_equal(cap[1].text, "{\"version\":1,\"current\":1}\n{\"version\":1,\"current\":2}\n");
}

/* An error in a stream is its last line; an unfinished line is dropped. */
static void test_stream_error(void **state)
{
	(void)state;
	cap_begin();
	out_stream();
	j_arr(NULL);
	j_obj(NULL);
	j_u64("n", 1);
	j_end();
	j_obj(NULL);
	j_u64("n", 2);
	dmabufctl_fail(2, NULL, "cgroup gone");
	out_end(2);
	cap_end();
	assert_string_equal(cap[1].text,
		"{\"version\":1,\"n\":1}\n{\"version\":1,\"error\":{\"message\":\"cgroup gone\",\"status\":2}}\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_document, setup),
		cmocka_unit_test_setup(test_pretty, setup),
		cmocka_unit_test_setup(test_utf8, setup),
		cmocka_unit_test_setup(test_error, setup),
		cmocka_unit_test_setup(test_text, setup),
		cmocka_unit_test_setup(test_stream_array, setup),
		cmocka_unit_test_setup(test_stream_objects, setup),
		cmocka_unit_test_setup(test_stream_error, setup),
	};

	return cmocka_run_group_tests_name("output layer (json-c)", tests, NULL, NULL);
}
