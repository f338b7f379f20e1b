// SPDX-License-Identifier: GPL-2.0
/*
 * dmabufctl: cgroups that systemd owns.
 *
 * Under systemd, a unit's cgroup and its attributes belong to the manager:
 * a dmabuf.pinned.max written by hand into a unit's cgroup is set back at
 * the next daemon-reload or set-property, and a cgroup created inside a
 * unit's that is not delegated is one systemd does not know about
 * (CGROUP_DELEGATION.md). So writes are checked first:
 *
 *  - the owner walk, from the root down: the root and every component with
 *    a unit name (after cg_escape's leading '_') ending in .slice, .scope,
 *    .service, .socket, .mount or .swap below a manager are that manager's;
 *  - a component with the xattr trusted.delegate (or, if it has none,
 *    user.delegate) "1" is delegated: below it nobody but the delegatee
 *    manages, unless it has an init.scope child, a nested manager
 *    (user@UID.service, a container), whose units are its own again;
 *  - dmabuf.pinned.max of an owned cgroup is refused (EXIT_OWNED), with the
 *    systemctl set-property that does it; mkdir and cgroup.subtree_control
 *    in X are allowed if X is not owned, or is delegated to something that
 *    is not a manager.
 *
 * Is systemd managing the host: /run/systemd/system/ exists (sd_booted()),
 * or --systemd yes|stock|no. A stock systemd does not know the dmabuf
 * controller: cgroup.subtree_control may then be written in its cgroups
 * (systemd_manages_dmabuf()).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "dmabufctl.h"

static enum { SD_AUTO, SD_YES, SD_STOCK, SD_NO } mode = SD_AUTO;

int systemd_opt(const char *arg)
{
	if (!strcmp(arg, "auto"))
		mode = SD_AUTO;
	else if (!strcmp(arg, "yes"))
		mode = SD_YES;
	else if (!strcmp(arg, "stock"))
		mode = SD_STOCK;
	else if (!strcmp(arg, "no"))
		mode = SD_NO;
	else
		return fail(EXIT_USAGE, "--systemd takes auto, yes, stock or no",
			    "bad --systemd '%s'", arg);
	return 0;
}

static int env_mode(void)
{
	const char *e = getenv("DMABUFCTL_SYSTEMD");

	if (mode != SD_AUTO || !e)
		return mode;
	if (!strcmp(e, "yes"))
		return SD_YES;
	if (!strcmp(e, "stock"))
		return SD_STOCK;
	if (!strcmp(e, "no"))
		return SD_NO;
	return SD_AUTO;
}

bool systemd_active(void)
{
	int m = env_mode();

	if (m == SD_AUTO)
		return !access("/run/systemd/system/", F_OK);
	return m != SD_NO;
}

/*
 * Does the manager handle the dmabuf controller (the patched systemd of
 * Documentation/systemd.md)? Then it sets cgroup.subtree_control itself,
 * and undoes a "+dmabuf" written by hand where its units do not ask for
 * it. A stock systemd leaves controllers it does not know alone, so that
 * `enable` may write them (Documentation/systemd-stock.md). Asked once:
 * the manager has DefaultDMABufAccounting only if it knows the controller;
 * if systemctl cannot say, it is taken to know (writes are refused, and
 * --systemd stock overrides).
 */
bool systemd_manages_dmabuf(void)
{
	static int known = -1;
	char line[256];
	FILE *f;
	int m = env_mode();

	if (m != SD_AUTO)
		return m == SD_YES;
	if (known >= 0)
		return known;
	known = 1;
	f = popen("systemctl show -p DefaultDMABufAccounting,Version 2>/dev/null", "r");
	if (!f)
		return known;
	{
		bool version = false, dmabuf = false;

		while (fgets(line, sizeof(line), f)) {
			version |= !strncmp(line, "Version=", 8);
			dmabuf |= !strncmp(line, "DefaultDMABufAccounting=", 24);
		}
		if (!pclose(f) && version)
			known = dmabuf;	/* the manager answered */
	}
	return known;
}

/* The cgroup types of units, and the characters unit_name_is_valid() takes. */
static bool unit_name(const char *s, size_t n)
{
	static const char *const types[] = {
		".slice", ".scope", ".service", ".socket", ".mount", ".swap",
	};
	size_t i, t, at = 0;

	if (n && *s == '_') {	/* cg_escape() */
		s++;
		n--;
	}
	if (!n || n > 255)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '@')
			at++;
		else if (!isalnum((unsigned char)s[i]) && !strchr(":-_.\\", s[i]))
			return false;
	}
	if (at > 1 || *s == '@' || *s == '.')
		return false;
	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		size_t l = strlen(types[t]);

		if (n > l && !memcmp(s + n - l, types[t], l) && s[n - l - 1] != '@')
			return true;
	}
	return false;
}

/* cg_is_delegated(): trusted.delegate, else user.delegate. */
static bool delegated(const char *path)
{
	static const char *const names[] = { "trusted.delegate", "user.delegate" };
	char v[16];
	size_t i;
	ssize_t n;

	for (i = 0; i < 2; i++) {
		n = getxattr(path, names[i], v, sizeof(v) - 1);
		if (n < 0 && (errno == ENODATA || errno == EOPNOTSUPP || errno == EPERM))
			continue;
		if (n < 0)
			return false;
		v[n] = '\0';
		return !strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "true") ||
		       !strcasecmp(v, "on") || !strcasecmp(v, "y") || !strcasecmp(v, "t");
	}
	return false;
}

/* Who manages the cgroup (the first `len` bytes of cg). */
void systemd_owner(const char *cg, size_t len, struct sd_owner *o)
{
	char path[4096], a[CG_MAX];
	const char *p = cg, *e, *end = cg + len;
	bool in_mgr = true;
	int uid = -1;
	char mgr_unit[SD_UNIT_MAX] = "";

	memset(o, 0, sizeof(*o));
	o->managed = true;
	o->uid = -1;
	snprintf(o->unit, sizeof(o->unit), "-.slice");
	while (p < end) {
		e = memchr(p, '/', end - p);
		if (!e)
			e = end;
		snprintf(a, sizeof(a), "%.*s", (int)(e - cg), cg);
		cgfs_path(a, NULL, path, sizeof(path));
		if (in_mgr && unit_name(p, e - p)) {
			o->managed = true;
			snprintf(o->unit, sizeof(o->unit), "%.*s", (int)(e - p - (*p == '_')), p + (*p == '_'));
			o->uid = uid;
			snprintf(o->mgr_unit, sizeof(o->mgr_unit), "%s", mgr_unit);
		} else {
			in_mgr = false;
			o->managed = false;
			o->unit[0] = '\0';
			o->uid = -1;
			o->mgr_unit[0] = '\0';
		}
		snprintf(o->name, sizeof(o->name), "%.*s", (int)(e - p), p);
		o->delegated = delegated(path);
		o->nested = false;
		if (o->delegated) {
			o->nested = !access(fixf("%s/init.scope", path), F_OK);
			in_mgr = o->nested;
			if (o->nested) {
				unsigned u;
				int k = -1;

				snprintf(mgr_unit, sizeof(mgr_unit), "%.*s", (int)(e - p), p);
				uid = sscanf(mgr_unit, "user@%u.service%n", &u, &k) == 1 &&
				      k == (int)strlen(mgr_unit) ? (int)u : -2;
				o->inner_uid = uid;
			}
		}
		p = e < end ? e + 1 : e;
	}
}

/* mkdir and cgroup.subtree_control in CG: not a manager's, or delegated to a non-manager. */
static bool writable(const struct sd_owner *o)
{
	return !o->nested && (!o->managed || o->delegated);
}

/* "systemctl --user " and who runs it, for the manager of o. */
static const char *systemctl(const struct sd_owner *o)
{
	static char b[SD_UNIT_MAX + 64];

	if (o->uid >= 0)
		snprintf(b, sizeof(b), "as user %d: systemctl --user", o->uid);
	else if (o->uid == -2)
		snprintf(b, sizeof(b), "inside %s: systemctl", o->mgr_unit);
	else
		snprintf(b, sizeof(b), "systemctl");
	return b;
}

static const char *manager(const struct sd_owner *o)
{
	static char b[SD_UNIT_MAX + 64];

	if (o->uid >= 0)
		snprintf(b, sizeof(b), "the user manager of UID %d (systemd --user)", o->uid);
	else if (o->uid == -2)
		snprintf(b, sizeof(b), "the systemd inside %s", o->mgr_unit);
	else
		snprintf(b, sizeof(b), "systemd");
	return b;
}

int systemd_check_limits(const char *cg, const char *lines)
{
	char fix[2048];
	struct sd_owner o;
	const char *l, *e;
	size_t len;

	/* A stock systemd never writes dmabuf.pinned.max: nothing to undo it. */
	if (!systemd_active())
		return 0;
	systemd_owner(cg, strlen(cg), &o);
	if (!o.managed || !systemd_manages_dmabuf())
		return 0;
	len = snprintf(fix, sizeof(fix), "%s set-property %s", systemctl(&o), o.unit);
	for (l = lines; *l && len < sizeof(fix); l = *e ? e + 1 : e) {
		e = strchrnul(l, '\n');
		if (e > l)
			len += snprintf(fix + len, sizeof(fix) - len, " \"DMABufPinnedMax=%.*s\"", (int)(e - l), l);
	}
	if (len < sizeof(fix))
		snprintf(fix + len, sizeof(fix) - len, " (with --runtime: until reboot)%s",
			 o.delegated ? "; or set limits in a child cgroup of the delegated unit" : "");
	return fail(EXIT_OWNED, fix,
		    "%s is the cgroup of the unit %s, which %s owns: a limit written there would be undone at its next daemon-reload or set-property",
		    cg_show(cg), o.unit, manager(&o));
}

static int refuse_into(const char *cg, size_t len, const struct sd_owner *o, bool mk, int status,
		       const char *fix)
{
	char a[CG_MAX], f[2048], what[CG_MAX + SD_UNIT_MAX + 64];

	snprintf(f, sizeof(f), "%s", fix);	/* may be fixf()'s buffer */
	snprintf(a, sizeof(a), "%.*s", (int)len, cg);
	if (o->nested) {
		if (o->inner_uid >= 0)
			snprintf(what, sizeof(what), "the user manager of UID %d", o->inner_uid);
		else
			snprintf(what, sizeof(what), "the systemd inside %s", o->name);
		return fail(status, f, "%s in %s: it is delegated to %s, which manages what is below it",
			    mk ? "will not create a cgroup" : "cannot enable dmabuf", cg_show(a), what);
	}
	if (*a)
		snprintf(what, sizeof(what), "the cgroup of %s", o->unit);
	else
		snprintf(what, sizeof(what), "the root cgroup");
	return fail(status, f, "%s in %s: it is %s, which %s manages without delegating it",
		    mk ? "will not create a cgroup" : "cannot enable dmabuf", cg_show(a), what, manager(o));
}

static bool has_dmabuf(const char *a)
{
	char buf[1024], *p;

	if (cgfs_read(a, "cgroup.subtree_control", buf, sizeof(buf)) < 0)
		return false;
	for (p = strtok(buf, " \t\n"); p; p = strtok(NULL, " \t\n"))
		if (!strcmp(p, "dmabuf") || !strcmp(p, "+dmabuf"))
			return true;
	return false;
}

/*
 * The cgroup.subtree_control writes of `enable CG [--subtree]`: those of
 * CG's ancestors (and CG's own with `self`) without dmabuf yet.
 * `into`: a mkdir in CG too (run's child cgroup).
 */
static int check_enable(const char *cg, bool self, bool into, int status, const char *run_fix)
{
	struct sd_owner o, unit;
	size_t len = 0, n = strlen(cg);
	char a[CG_MAX];

	if (!systemd_active())
		return 0;
	systemd_owner(cg, n, &unit);
	for (;;) {
		if (len == n && !self && !into)
			break;
		snprintf(a, sizeof(a), "%.*s", (int)len, cg);
		systemd_owner(cg, len, &o);
		if (!writable(&o) && ((len == n && into) ||
				      ((len < n || self) && !has_dmabuf(a) && systemd_manages_dmabuf()))) {
			bool mk = len == n && into;

			if (run_fix)
				return refuse_into(cg, len, &o, mk, status, run_fix);
			if (len < n && unit.managed)
				return refuse_into(cg, len, &o, mk, status,
						   fixf("let systemd enable it: %s set-property %s DMABufAccounting=yes",
							systemctl(&unit), unit.unit));
			return refuse_into(cg, len, &o, mk, status,
					   "give the unit Delegate=yes and use the cgroups below it, or run the work in a delegated scope: systemd-run --scope -p Delegate=yes -- COMMAND");
		}
		if (len == n)
			break;
		len = strchrnul(cg + len + (len ? 1 : 0), '/') - cg;
	}
	return 0;
}

int systemd_check_enable(const char *cg, bool subtree)
{
	return check_enable(cg, subtree, false, EXIT_OWNED, NULL);
}

int systemd_check_parent(const char *cg, int status, const char *fix)
{
	if (fix)
		return check_enable(cg, true, true, status, fix);
	return check_enable(cg, true, true, status,
			    fixf("run it without --parent (it makes a delegated transient scope: systemd-run%s --scope -p Delegate=yes -- dmabufctl run ...), or give --parent a cgroup delegated to you",
				 geteuid() ? " --user" : ""));
}

/* Is CG a cgroup the caller may create cgroups in (run's own cgroup)? */
bool systemd_writable(const char *cg)
{
	struct sd_owner o;

	if (!systemd_active())
		return true;
	systemd_owner(cg, strlen(cg), &o);
	return writable(&o);
}

/* The mode in effect, as --systemd takes it (for the run inside a scope). */
const char *systemd_mode(void)
{
	if (!systemd_active())
		return "no";
	return systemd_manages_dmabuf() ? "yes" : "stock";
}
