// SPDX-License-Identifier: GPL-2.0
/*
 * fakecgfs.so: the kernel's side of the host tests' fake cgroupfs, as an
 * LD_PRELOAD library of the tests only (it is never linked into dmabufctl,
 * whose code is the same for the fake tree as for /sys/fs/cgroup).
 *
 * A directory tree of plain files stands in for cgroupfs, but mkdir(2) and
 * rmdir(2) do more on cgroupfs: mkdir creates the interface files (the
 * controllers' only if the parent enabled them in cgroup.subtree_control),
 * rmdir removes a cgroup that still has them. Under $FAKECGFS_ROOT, this
 * does the same; elsewhere, it calls the real functions only.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool under_root(const char *path)
{
	const char *root = getenv("FAKECGFS_ROOT");
	size_t n = root ? strlen(root) : 0;

	return n && !strncmp(path, root, n) && path[n] == '/';
}

static void slurp(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t got = f ? fread(buf, 1, n - 1, f) : 0;

	buf[got] = '\0';
	if (f)
		fclose(f);
}

static void put(const char *dir, const char *file, const char *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	if (f) {
		fputs(s, f);
		fclose(f);
	}
}

/* DIR/FILE: "POOL <value>\n" for each pool of the root's dmabuf.capacity. */
static void per_pool(const char *dir, const char *file, const char *value, const char *pools)
{
	char path[4096];
	const char *p, *e;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	if (!f)
		return;
	for (p = pools; *p; p = *e ? e + 1 : e) {
		e = strchrnul(p, '\n');
		if (e > p && memchr(p, ' ', e - p))
			fprintf(f, "%.*s %s\n", (int)((char *)memchr(p, ' ', e - p) - p), p, value);
	}
	fclose(f);
}

static void populate(const char *path)
{
	char parent[4096], file[4200], sub[1024], pools[4096], *slash, *plus;

	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (!slash)
		return;
	*slash = '\0';
	snprintf(file, sizeof(file), "%s/cgroup.subtree_control", parent);
	slurp(file, sub, sizeof(sub));
	while ((plus = strchr(sub, '+')))	/* what a write of "+dmabuf" left */
		memmove(plus, plus + 1, strlen(plus));
	put(path, "cgroup.controllers", sub);
	put(path, "cgroup.subtree_control", "");
	put(path, "cgroup.procs", "");
	if (!strstr(sub, "dmabuf"))
		return;
	snprintf(file, sizeof(file), "%s/dmabuf.capacity", getenv("FAKECGFS_ROOT"));
	slurp(file, pools, sizeof(pools));
	per_pool(path, "dmabuf.pinned.current", "0", pools);
	per_pool(path, "dmabuf.pinned.peak", "0", pools);
	per_pool(path, "dmabuf.pinned.max", "max", pools);
	per_pool(path, "dmabuf.pinned.events", "max=0", pools);
	per_pool(path, "dmabuf.pinned.events.local", "max=0", pools);
	per_pool(path, "dmabuf.pinned.stat", "pins=0 refused=0", pools);
}

int mkdir(const char *path, mode_t mode)
{
	int (*real)(const char *, mode_t) = (int (*)(const char *, mode_t))dlsym(RTLD_NEXT, "mkdir");
	int r = real(path, mode);

	if (!r && under_root(path))
		populate(path);
	return r;
}

/* The interface files go with the cgroup; child cgroups keep it (ENOTEMPTY). */
int rmdir(const char *path)
{
	int (*real)(const char *) = (int (*)(const char *))dlsym(RTLD_NEXT, "rmdir");
	struct dirent *e;
	bool children = false;
	DIR *d;

	if (!under_root(path))
		return real(path);
	d = opendir(path);
	while (d && (e = readdir(d)))
		children |= e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d && !children) {
		rewinddir(d);
		while ((e = readdir(d)))
			if (e->d_type == DT_REG)
				unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
	return real(path);
}
