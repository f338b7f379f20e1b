// SPDX-License-Identifier: GPL-2.0
/*
 * dmabufctl: output. A command prints its text result to `out`. With -j the
 * j_*() calls build a json-c tree instead, serialized by out_end() only if
 * the command succeeded, so that stdout always holds one valid JSON
 * document: the result or the error. A stream (watch, out_stream()) is one
 * JSON object per line instead, each printed and flushed when it is closed.
 *
 * Every document and every line of a stream has "version": JSON_VERSION
 * (dmabufctl.schema.json, dmabufctl.8 "JSON OUTPUT"): keys are only ever
 * added within a version; a renamed or removed key is a new version.
 *
 * Names (cgroups, comms, exporters) are bytes, and JSON strings are UTF-8:
 * json-c escapes '"', '\' and control characters but copies bytes >= 0x80
 * unchecked. jstr() copies valid UTF-8 and writes any other byte as the
 * four characters \xNN, as libsmartcols' text output does.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "dmabufctl.h"

#define JSON_VERSION	1

struct opts opt;
FILE *out;

static char err_msg[1024], err_fix[1024];
static int err_status;

/*
 * The open containers, innermost last. In a stream, a top-level object is a
 * line (top), or stack[0] is NULL: the stream opened with j_arr(NULL)
 * (watch), whose objects are the lines. Lines are printed, not kept.
 */
static json_object **stack;
static size_t depth, stack_cap;
static json_object *doc;	/* the finished top-level document */
static bool streaming;

void out_begin(void)
{
	out = stdout;
}

/* Nothing is left out of a document for want of memory: it is not printed. */
static void __attribute__((noreturn)) oom(void)
{
	fputs("dmabufctl: out of memory\n", stderr);
	exit(EXIT_SYS);
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

/* A JSON string of the bytes @s: valid UTF-8 as it is, other bytes as \xNN. */
static json_object *jstr(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = strlen(s), k = 0;
	char *b = malloc(4 * len + 1);	/* each byte at most \xNN */
	json_object *o;
	int n;

	if (!b)
		oom();
	while (*s) {
		n = utf8_len((const unsigned char *)s);
		if (n) {
			memcpy(b + k, s, n);
			k += n;
			s += n;
		} else {
			b[k++] = '\\';
			b[k++] = 'x';
			b[k++] = hex[(unsigned char)*s >> 4];
			b[k++] = hex[(unsigned char)*s & 15];
			s++;
		}
	}
	o = json_object_new_string_len(b, k);
	free(b);
	return o;
}

static void push(json_object *o)
{
	if (depth == stack_cap) {
		size_t cap = stack_cap ? 2 * stack_cap : 16;
		json_object **more = realloc(stack, cap * sizeof(*stack));

		if (!more)
			oom();
		stack = more;
		stack_cap = cap;
	}
	stack[depth++] = o;
}

static void add_version(json_object *o)
{
	json_object_object_add(o, "version", json_object_new_int(JSON_VERSION));
}

/* Adds @v (NULL is JSON null) to the innermost container, under @key in an object. */
static void j_add(const char *key, json_object *v)
{
	json_object *c = depth ? stack[depth - 1] : NULL;

	if (!c) {		/* nowhere to go: a value outside any document */
		json_object_put(v);
		return;
	}
	if (json_object_is_type(c, json_type_array))
		json_object_array_add(c, v);
	else
		json_object_object_add(c, key ? key : "", v);
}

/* A stream's line is being closed or opened at this depth. */
static bool is_line(void)
{
	return streaming && (!depth || (depth == 1 && !stack[0]));
}

static void j_open(const char *key, json_object *o)
{
	/* A document, or a line of a stream: they carry the version. */
	if (!depth || is_line()) {
		if (json_object_is_type(o, json_type_object))
			add_version(o);
		if (!depth && !streaming) {
			json_object_put(doc);
			doc = o;
		}
	} else {
		j_add(key, o);
	}
	push(o);
}

void j_obj(const char *key)
{
	j_open(key, json_object_new_object());
}

void j_arr(const char *key)
{
	if (streaming && !depth) {
		push(NULL);	/* the stream: its objects become lines */
		return;
	}
	j_open(key, json_object_new_array());
}

static const char *serialize(json_object *o, bool pretty)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

	flags |= pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN;
	return json_object_to_json_string_ext(o, flags);
}

/* A line of the stream, flushed at once: whoever reads it waits for it. */
static void print_line(json_object *o)
{
	fputs(serialize(o, false), stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

void j_end(void)
{
	json_object *o;

	if (!depth)
		return;
	o = stack[--depth];
	if (o && is_line()) {
		print_line(o);
		json_object_put(o);
	}
}

void j_str(const char *key, const char *v)
{
	j_add(key, jstr(v));
}

void j_u64(const char *key, uint64_t v)
{
	j_add(key, json_object_new_uint64(v));
}

void j_double(const char *key, double v)
{
	j_add(key, json_object_new_double(v));
}

void j_int(const char *key, long long v)
{
	j_add(key, json_object_new_int64(v));
}

void j_bool(const char *key, bool v)
{
	j_add(key, json_object_new_boolean(v));
}

void j_limit(const char *key, uint64_t v)
{
	j_add(key, v == UNLIMITED ? NULL : json_object_new_uint64(v));
}

void j_flush(void)
{
	fflush(stdout);
}

/*
 * watch, top: from now on, each top-level object, or each object in a
 * top-level j_arr() (the stream), is printed as one line when it is
 * closed: a reader gets every event as a complete document, however the
 * stream ends.
 */
void out_stream(void)
{
	streaming = true;
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

/* {"version": 1, "error": {"message": ..., "fix": ..., "status": N}} */
static void print_json_error(void)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();

	add_version(o);
	json_object_object_add(e, "message", jstr(err_msg));
	if (*err_fix)
		json_object_object_add(e, "fix", jstr(err_fix));
	json_object_object_add(e, "status", json_object_new_int(err_status));
	json_object_object_add(o, "error", e);
	fputs(serialize(o, opt.pretty && !streaming), stdout);
	fputc('\n', stdout);
	json_object_put(o);
}

static void reset(void)
{
	/* Only the document and an unfinished line are not owned by a parent. */
	if (streaming && depth)
		json_object_put(stack[0] ? stack[0] : depth > 1 ? stack[1] : NULL);
	depth = 0;
	json_object_put(doc);
	doc = NULL;
	streaming = false;
	err_status = 0;
	err_msg[0] = err_fix[0] = '\0';
}

/*
 * The end of a command: print its result, or its error (on stderr as text;
 * as the JSON document on stdout with -j, and as text on stderr too, for
 * people). A stream that was already started (watch) gets the error as its
 * last line. The state is reset: another command may follow (the tests).
 */
int out_end(int status)
{
	if (err_status) {
		/* The exit status is the command's say (run's 125 for an error of cgfs.c). */
		if (status)
			err_status = status;
		if (opt.json)
			print_json_error();
		fflush(stdout);
		fprintf(stderr, "dmabufctl: %s%s%s\n", err_msg, *err_fix ? ": " : "", err_fix);
	} else if (opt.json && doc && !streaming) {
		fputs(serialize(doc, opt.pretty), stdout);
		fputc('\n', stdout);
	}
	reset();
	fflush(stdout);
	return status;
}

/* The time now, UTC, with milliseconds: "2026-12-02T22:21:55.123Z". */
const char *utc_now(char *buf, size_t n)
{
	struct timespec now;
	struct tm tm;
	size_t l;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	l = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + l, n - l, ".%03ldZ", now.tv_nsec / 1000000);
	return buf;
}
