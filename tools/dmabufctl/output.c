// SPDX-License-Identifier: GPL-2.0
/*
 * dmabufctl: output. A command prints its result to `out`; with -j that is
 * a memory buffer, printed at the end only if the command succeeded, so that
 * stdout always holds one valid JSON document: the result or the error.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dmabufctl.h"

struct opts opt;
FILE *out;

static char *buf;
static size_t buf_len;
static char err_msg[1024], err_fix[1024];
static int err_status;

/* JSON writer: one nesting level per open object or array. */
static int depth;
static bool first[64] = { true };
static char closer[64];

void out_begin(void)
{
	out = opt.json ? open_memstream(&buf, &buf_len) : stdout;
	if (!out)
		out = stdout;
}

/* The length of the valid UTF-8 sequence at @s, 0 if there is none. */
static int utf8_len(const unsigned char *s)
{
	int n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (n == 4 && s[0] == 0xf0 && s[1] < 0x90) || (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0;	/* overlong, surrogate, above U+10FFFF */
	return n;
}

/* A JSON string; bytes that are not UTF-8 (names are bytes) as U+FFFD. */
static void json_string(FILE *f, const char *s)
{
	int n;

	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c >= 0x80) {
			n = utf8_len((const unsigned char *)s);
			if (n)
				fwrite(s, 1, n, f);
			else
				fputs("\\ufffd", f);
			s += n ? n - 1 : 0;
		} else if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void j_key(const char *key)
{
	if (depth && !first[depth])
		fputc(',', out);
	first[depth] = false;
	if (opt.pretty && depth)
		fprintf(out, "\n%*s", 2 * depth, "");
	if (key) {
		json_string(out, key);
		fputs(opt.pretty ? ": " : ":", out);
	}
}

static void j_open(const char *key, char c)
{
	j_key(key);
	fputc(c, out);
	depth++;
	first[depth] = true;
	closer[depth] = c == '{' ? '}' : ']';
}

void j_obj(const char *key) { j_open(key, '{'); }
void j_arr(const char *key) { j_open(key, '['); }

void j_end(void)
{
	bool empty = first[depth];
	char c = closer[depth];

	depth--;
	if (opt.pretty && !empty)
		fprintf(out, "\n%*s", 2 * depth, "");
	fputc(c, out);
	if (!depth)
		fputc('\n', out);
}

void j_str(const char *key, const char *v)
{
	j_key(key);
	json_string(out, v);
}

void j_u64(const char *key, uint64_t v)
{
	j_key(key);
	fprintf(out, "%llu", (unsigned long long)v);
}

void j_int(const char *key, long long v)
{
	j_key(key);
	fprintf(out, "%lld", v);
}

void j_bool(const char *key, bool v)
{
	j_key(key);
	fputs(v ? "true" : "false", out);
}

void j_limit(const char *key, uint64_t v)
{
	if (v == UNLIMITED) {
		j_key(key);
		fputs("null", out);
	} else {
		j_u64(key, v);
	}
}

void j_flush(void)
{
	fflush(out);
}

/* watch: a JSON document streamed to stdout as it grows. */
void out_stream(void)
{
	if (out != stdout) {
		fclose(out);
		free(buf);
		out = stdout;
	}
}

const char *fixf(const char *fmt, ...)
{
	static char fix[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fix, sizeof(fix), fmt, ap);
	va_end(ap);
	return fix;
}

/* Records an error (the first one counts) and returns its exit status. */
int fail(int status, const char *fix, const char *fmt, ...)
{
	va_list ap;

	if (err_status)
		return status;
	err_status = status;
	va_start(ap, fmt);
	vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
	va_end(ap);
	snprintf(err_fix, sizeof(err_fix), "%s", fix ? fix : "");
	return status;
}

/* Something worth knowing that is not an error: stderr, even with -j. */
void note(const char *fmt, ...)
{
	va_list ap;

	fputs("dmabufctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* {"error": {"message": ..., "fix": ..., "status": N}} */
static void j_error(void)
{
	j_obj(NULL);
	j_obj("error");
	j_str("message", err_msg);
	if (*err_fix)
		j_str("fix", err_fix);
	j_int("status", err_status);
	j_end();
	j_end();
}

static void print_error(FILE *f)
{
	if (!opt.json) {
		fprintf(f, "dmabufctl: %s%s%s\n", err_msg, *err_fix ? ": " : "", err_fix);
		return;
	}
	out = f;
	depth = 0;
	j_error();
}

/*
 * The end of a command: print its result, or its error (on stderr as text;
 * as the JSON document on stdout with -j, and as text on stderr too, for
 * people). A JSON stream that was already started (watch) gets the error as
 * its last element and is closed.
 */
int out_end(int status)
{
	bool error = err_status != 0;	/* else: run's command status */

	if (opt.json && out != stdout) {
		fclose(out);
		if (!error)
			fwrite(buf, 1, buf_len, stdout);
		free(buf);
		out = stdout;
		if (error)
			depth = 0;	/* the document is dropped */
	}
	if (error) {
		if (opt.json && depth) {	/* an open stream */
			j_error();
			while (depth)
				j_end();
		} else if (opt.json) {
			print_error(stdout);
		}
		opt.json = false;
		print_error(stderr);
	}
	fflush(stdout);
	return status;
}
