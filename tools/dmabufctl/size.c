// SPDX-License-Identifier: GPL-2.0
/* dmabufctl: sizes and pool names. */
#include <ctype.h>
#include <string.h>

#include "dmabufctl.h"

/*
 * "max", or bytes: digits, an optional fraction, an optional K, M, G or T
 * (powers of 1024, either case, optionally followed by "i"/"iB"/"B"):
 * "4096", "512M", "1.5G", "4GiB". A fraction is rounded down to a byte.
 */
int size_parse(const char *s, uint64_t *bytes)
{
	static const char units[] = "KMGT";
	uint64_t ip = 0, frac = 0, div = 1;
	int shift = 0, digits = 0;
	const char *u;

	if (!strcmp(s, "max")) {
		*bytes = UNLIMITED;
		return 0;
	}
	for (; isdigit((unsigned char)*s); s++, digits++) {
		if (ip > (UINT64_MAX - 9) / 10)
			return -1;
		ip = ip * 10 + (*s - '0');
	}
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++, digits++) {
			if (div < 1000000000000ULL) {	/* enough precision */
				frac = frac * 10 + (*s - '0');
				div *= 10;
			}
		}
	}
	if (!digits)
		return -1;
	if (*s && (u = strchr(units, toupper((unsigned char)*s)))) {
		shift = 10 * (int)(u - units + 1);
		s++;
		if (*s == 'i')
			s++;
	}
	if (*s == 'B' || (*s == 'b' && shift))
		s++;
	if (*s)
		return -1;
	if (shift && ip > (UINT64_MAX >> shift))
		return -1;
	ip <<= shift;
	/* frac / div of a unit: exact enough in 128 bits */
	frac = (uint64_t)(((unsigned __int128)frac << shift) / div);
	if (ip > UINT64_MAX - 1 - frac)	/* UINT64_MAX is "max" */
		return -1;
	*bytes = ip + frac;
	return 0;
}

/* IEC: "0", "512B", "8MiB", "1.5GiB"; raw: "8388608"; "max" for no limit. */
const char *size_str(uint64_t v, bool raw, char *buf, size_t n)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	int i = 0;

	if (v == UNLIMITED)
		snprintf(buf, n, "max");
	else if (raw || v == 0)
		snprintf(buf, n, "%llu", (unsigned long long)v);
	else {
		while (i < 6 && v >= (1ULL << (10 * (i + 1))))
			i++;
		if (!i || !(v & ((1ULL << (10 * i)) - 1)))
			snprintf(buf, n, "%llu%s", (unsigned long long)(v >> (10 * i)), unit[i]);
		else	/* tenths rounded down: 8GiB - 1 is 7.9GiB, never "8.0GiB" beside a MAX of 8GiB */
			snprintf(buf, n, "%llu.%llu%s", (unsigned long long)(v >> (10 * i)),
				 (unsigned long long)(((v & ((1ULL << (10 * i)) - 1)) * 10) >> (10 * i)),
				 unit[i]);
	}
	return buf;
}

/*
 * A pool as named by the kernel, or the device its buffers come from:
 * /dev/udmabuf is "udmabuf", /dev/dma_heap/NAME is "dma_heap/NAME".
 */
int pool_from_arg(const char *arg, char *pool, size_t n)
{
	const char *name = arg;

	if (!strncmp(arg, "/dev/", 5)) {
		if (!strcmp(arg, "/dev/udmabuf"))
			name = "udmabuf";
		else if (!strncmp(arg, "/dev/dma_heap/", 14) && arg[14] &&
			 !strchr(arg + 14, '/'))
			name = arg + 5;
		else
			return -1;
	}
	if (!*name || strlen(name) >= n || strchr(name, ' ') || strchr(name, '\n'))
		return -1;
	snprintf(pool, n, "%s", name);
	return 0;
}
