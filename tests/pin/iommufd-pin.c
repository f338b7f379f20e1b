// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd-pin: map dma-bufs into an iommufd IOAS.
 *
 * The second importer the dmabuf cgroup controller covers, after RDMA:
 * IOMMU_IOAS_MAP_FILE with a dma-buf fd attaches to the buffer and pins it
 * (drivers/iommu/iommufd/pages.c, iopt_map_dmabuf()) until the mapping goes,
 * and the kernel charges that pin to the cgroup of this process. A limit
 * makes the map fail with EAGAIN.
 *
 * The dma-bufs come from iommufd's own test exporter (IOMMU_TEST_CMD with
 * IOMMU_TEST_OP_DMABUF_GET, CONFIG_IOMMUFD_TEST): the only exporter besides
 * vfio-pci that iommufd accepts, and the only one a VM without a device
 * has. It registers no dmabuf cgroup pool, so its buffers are charged to the
 * pool named after the exporter, "iommufd". It hands out at most 2 MiB
 * (512 pages) per buffer.
 *
 * With --vfio, the dma-bufs are slices of a PCI BAR instead: the device's
 * vfio cdev (/dev/vfio/devices/vfioN, the device bound to vfio-pci) is bound
 * to the same iommufd and attached to the IOAS, and each dma-buf comes from
 * VFIO_DEVICE_FEATURE_DMA_BUF, the next SIZE bytes of the BAR. vfio-pci
 * charges them to the BAR's pool, "vfio/<device>/bar<N>".
 *
 * Each mapping gets its own dma-buf, whose fd is closed once mapped: the
 * mapping holds the only reference. --revoke revokes each buffer right after
 * mapping it (IOMMU_TEST_OP_DMABUF_REVOKE): iommufd drops the buffer from
 * its page tables but keeps the pin, and its charge, until the unmap.
 *
 * Exit status: 0 all mapped, 3 a map was refused with EAGAIN, 1 usage
 * error, 2 other error (as dmabuf-pin).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pin-common.h"

#include <linux/iommufd.h>	/* the 7.3 uAPI: build/include-7.3 */
#ifndef __counted_by		/* Debian 12's linux/stddef.h lacks it */
#define __counted_by(m)
#endif
#include <linux/vfio.h>		/* the 7.3 uAPI: build/include-7.3 */
#include "iommufd_test.h"	/* drivers/iommu/iommufd/, not uapi */

#define EXIT_REFUSED 3
#define EXIT_FAIL 2
#define EXIT_USAGE 1

/* IOMMU_TEST_OP_DMABUF_GET's limit: 512 pages. */
#define TEST_DMABUF_MAX_PAGES 512

struct mapping {
	int dmabuf;		/* the dma-buf fd until mapped */
	bool mapped;
	uint64_t iova;
};

static struct {
	size_t size;
	int count;
	bool keep_going;
	bool hold;
	bool exit_without_unmap;
	bool revoke;
	bool mock_domain;
	const char *vfio;	/* the vfio cdev of the device whose BAR is mapped */
	unsigned int bar;
} opt = {
	.size = 2 << 20,
	.count = 1,
};

static int iommufd = -1;
static uint32_t ioas_id;
static int vfio_fd = -1;
static uint64_t bar_offset;	/* where the next BAR dma-buf starts */

/* What a failed IOMMU_TEST_CMD most likely means. */
static const char *test_cmd_hint(int err)
{
	return err == ENOTTY ? " (a kernel without CONFIG_IOMMUFD_TEST)" : "";
}

/* iommufd */

static void iommufd_open(void)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0)
		die(EXIT_FAIL, "/dev/iommu: %s%s", strerror(errno),
		    errno == ENOENT ? " (a kernel without CONFIG_IOMMUFD)" : "");
	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc))
		die(EXIT_FAIL, "IOMMU_IOAS_ALLOC: %s", strerror(errno));
	ioas_id = alloc.out_ioas_id;
}

/*
 * A mock device attached to the IOAS through a mock domain: mappings are
 * then loaded into a (software) page table, as with a real device, and a
 * revoke takes them out of it. Map and pin do not need one.
 */
static void mock_domain(void)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = ioas_id,
	};

	if (ioctl(iommufd, IOMMU_TEST_CMD, &cmd))
		die(EXIT_FAIL, "IOMMU_TEST_OP_MOCK_DOMAIN: %s%s", strerror(errno),
		    test_cmd_hint(errno));
	say("mock domain: hwpt %u, device %u\n", cmd.mock_domain.out_hwpt_id,
	    cmd.mock_domain.out_idev_id);
}

/* Whether @fd is a dma-buf: its fdinfo names an exporter. */
static bool is_dmabuf(int fd)
{
	char path[64], line[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "exp_name:", 9);
	fclose(f);
	return found;
}

static int dmabuf_get(size_t size)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_DMABUF_GET,
		.dmabuf_get = { .length = size, .open_flags = O_CLOEXEC },
	};
	int fd;

	fd = ioctl(iommufd, IOMMU_TEST_CMD, &cmd);
	if (fd < 0)
		die(EXIT_FAIL, "IOMMU_TEST_OP_DMABUF_GET of %zu bytes: %s%s", size,
		    strerror(errno), test_cmd_hint(errno));
	/* 7.3 before the series' fix returned 0, and stdin got mapped. */
	if (!is_dmabuf(fd))
		die(EXIT_FAIL, "IOMMU_TEST_OP_DMABUF_GET returned fd %d, which is not a dma-buf (a kernel without \"iommufd/selftest: Return the dma-buf's fd\")",
		    fd);
	return fd;
}

/* vfio-pci */

/* Bind the device to our iommufd and attach it to the IOAS. */
static void vfio_open(void)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = ioas_id,
	};

	vfio_fd = open(opt.vfio, O_RDWR | O_CLOEXEC);
	if (vfio_fd < 0)
		die(EXIT_FAIL, "%s: %s (the device's cdev: bind it to vfio-pci, CONFIG_VFIO_DEVICE_CDEV)",
		    opt.vfio, strerror(errno));
	if (ioctl(vfio_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		die(EXIT_FAIL, "VFIO_DEVICE_BIND_IOMMUFD: %s%s", strerror(errno),
		    errno == EPERM ? " (the device's MSIs are not isolated: interrupt remapping, or iommufd.allow_unsafe_interrupts=1)" : "");
	if (ioctl(vfio_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		die(EXIT_FAIL, "VFIO_DEVICE_ATTACH_IOMMUFD_PT: %s", strerror(errno));
	say("vfio: %s bound as device %u, attached to IOAS %u\n", opt.vfio,
	    bind.out_devid, ioas_id);
}

/* A dma-buf of the next SIZE bytes of the BAR. */
static int vfio_dmabuf_get(size_t size)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_dma_buf) +
		      sizeof(struct vfio_region_dma_range) + 7) / 8] = { 0 };
	struct vfio_device_feature *feature = (void *)buf;
	struct vfio_device_feature_dma_buf *get = (void *)feature->data;
	int fd;

	feature->argsz = sizeof(buf);
	feature->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_BUF;
	get->region_index = opt.bar;
	get->open_flags = O_RDWR | O_CLOEXEC;
	get->nr_ranges = 1;
	get->dma_ranges[0].offset = bar_offset;
	get->dma_ranges[0].length = size;
	fd = ioctl(vfio_fd, VFIO_DEVICE_FEATURE, feature);
	if (fd < 0)
		die(EXIT_FAIL, "VFIO_DEVICE_FEATURE_DMA_BUF of BAR %u, %zu bytes at %#" PRIx64 ": %s",
		    opt.bar, size, bar_offset, strerror(errno));
	if (!is_dmabuf(fd))
		die(EXIT_FAIL, "VFIO_DEVICE_FEATURE_DMA_BUF returned fd %d, which is not a dma-buf",
		    fd);
	bar_offset += size;
	return fd;
}

static void dmabuf_revoke(int fd)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_DMABUF_REVOKE,
		.dmabuf_revoke = { .dmabuf_fd = fd, .revoked = 1 },
	};

	if (ioctl(iommufd, IOMMU_TEST_CMD, &cmd))
		die(EXIT_FAIL, "IOMMU_TEST_OP_DMABUF_REVOKE: %s%s", strerror(errno),
		    test_cmd_hint(errno));
}

/* Map the whole dma-buf at an IOVA iommufd picks; -errno on failure. */
static int map_file(struct mapping *m)
{
	struct iommu_ioas_map_file map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas_id,
		.fd = m->dmabuf,
		.start = 0,
		.length = opt.size,
	};

	if (ioctl(iommufd, IOMMU_IOAS_MAP_FILE, &map))
		return -errno;
	m->iova = map.iova;
	m->mapped = true;
	return 0;
}

static void unmap(struct mapping *m, int n)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = ioas_id,
		.iova = m->iova,
		.length = opt.size,
	};

	if (ioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap))
		die(EXIT_FAIL, "IOMMU_IOAS_UNMAP of map %d: %s", n, strerror(errno));
	if (unmap.length != opt.size)
		die(EXIT_FAIL, "IOMMU_IOAS_UNMAP of map %d: unmapped %llu bytes, not %zu",
		    n, (unsigned long long)unmap.length, opt.size);
	m->mapped = false;
}

static int unmap_all(struct mapping *maps)
{
	int i, n = 0;

	for (i = 0; i < opt.count; i++)
		if (maps[i].mapped) {
			unmap(&maps[i], i + 1);
			n++;
		}
	return n;
}

/* Holding */


/*
 * Wait for "release", EOF on stdin, SIGTERM, SIGINT or SIGUSR1; "unmap"
 * unmaps everything and goes on waiting, so that a test can look at the
 * charge after the unmap and before the exit.
 */
static void hold(struct mapping *maps, int n)
{
	char line[64];

	catch_release_signals();
	printf("holding %d mappings (pid %d): send 'unmap' to unmap them, 'release' or EOF on stdin, or SIGTERM to end\n",
	       n, getpid());
	fflush(stdout);
	while (!released) {
		if (!fgets(line, sizeof(line), stdin))
			break;
		if (!strncmp(line, "release", 7))
			break;
		if (!strncmp(line, "unmap", 5)) {
			n = unmap_all(maps);
			printf("unmapped %d mappings\n", n);
			fflush(stdout);
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: iommufd-pin [OPTIONS]\n"
"Map dma-bufs into an IOAS with IOMMU_IOAS_MAP_FILE: each mapping is a pin,\n"
"charged by the dmabuf cgroup controller to this process's cgroup. The\n"
"dma-bufs come from iommufd's test exporter (pool \"iommufd\", needs\n"
"CONFIG_IOMMUFD_TEST), or with --vfio from a PCI BAR (pool \"vfio/DEV/barN\").\n"
"\n"
"  -z, --size SIZE      size of each dma-buf: bytes or K/M, a multiple of the\n"
"                       page size, at most 512 pages from the test exporter\n"
"                       (default 2M)\n"
"  -n, --count N        map N dma-bufs, one mapping each (default 1)\n"
"  -k, --keep-going     go on mapping after a refusal\n"
"  -r, --revoke         revoke each dma-buf right after mapping it\n"
"  -m, --mock-domain    attach a mock device's domain to the IOAS first\n"
"  -V, --vfio CDEV[:BAR] map slices of a PCI BAR (default BAR 2) of the device\n"
"                       whose vfio cdev is CDEV (/dev/vfio/devices/vfioN),\n"
"                       instead of the test exporter's buffers: pool\n"
"                       \"vfio/<device>/bar<N>\"\n"
"  -H, --hold           then wait for 'release', EOF on stdin or SIGTERM;\n"
"                       'unmap' on stdin unmaps everything meanwhile\n"
"  -x, --exit-without-unmap  then exit without unmapping: closing /dev/iommu\n"
"                       ends the mappings (implies --hold)\n"
"  -q, --quiet          print only errors and refusals\n"
"\n"
"Exit status: 0 mapped, 3 refused with EAGAIN, 1 usage, 2 other error.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 'z' },
		{ "count", required_argument, NULL, 'n' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "revoke", no_argument, NULL, 'r' },
		{ "mock-domain", no_argument, NULL, 'm' },
		{ "vfio", required_argument, NULL, 'V' },
		{ "hold", no_argument, NULL, 'H' },
		{ "exit-without-unmap", no_argument, NULL, 'x' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	long page = sysconf(_SC_PAGESIZE);
	int c, i, mapped = 0, refused = 0, status = 0;
	struct mapping *maps;
	char *end;
	long n;

	pin_prog = "iommufd-pin";

	while ((c = getopt_long(argc, argv, "z:n:krmV:Hxqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'z':
			if (parse_size(optarg, &opt.size) || !opt.size)
				die(EXIT_USAGE, "bad size '%s': bytes, or a number with K or M", optarg);
			if (opt.size % page)
				die(EXIT_USAGE, "size %zu is not a multiple of the page size (%ld)",
				    opt.size, page);
			break;
		case 'n':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || *end || n < 1 || n > 1 << 20)
				die(EXIT_USAGE, "-n needs a positive number, not '%s'", optarg);
			opt.count = n;
			break;
		case 'k': opt.keep_going = true; break;
		case 'r': opt.revoke = true; break;
		case 'm': opt.mock_domain = true; break;
		case 'V':
			opt.vfio = optarg;
			opt.bar = 2;
			/* A ":N" at the end (N a BAR, 0 to 5) picks the BAR. */
			end = strrchr(optarg, ':');
			if (end && end[1] >= '0' && end[1] <= '5' && !end[2]) {
				opt.bar = end[1] - '0';
				*end = '\0';
			}
			break;
		case 'H': opt.hold = true; break;
		case 'x': opt.exit_without_unmap = opt.hold = true; break;
		case 'q': pin_quiet = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!opt.vfio && opt.size / page > TEST_DMABUF_MAX_PAGES)
		die(EXIT_USAGE, "size %zu is over the test exporter's %d pages (%ld bytes)",
		    opt.size, TEST_DMABUF_MAX_PAGES, TEST_DMABUF_MAX_PAGES * page);
	if (opt.vfio && (opt.revoke || opt.mock_domain))
		die(EXIT_USAGE, "--revoke and --mock-domain are for the test exporter, not --vfio");

	iommufd_open();
	if (opt.mock_domain)
		mock_domain();
	if (opt.vfio)
		vfio_open();

	maps = calloc(opt.count, sizeof(*maps));
	if (!maps)
		die(EXIT_FAIL, "out of memory");
	for (i = 0; i < opt.count; i++) {
		struct mapping *m = &maps[i];
		int ret;

		m->dmabuf = opt.vfio ? vfio_dmabuf_get(opt.size) : dmabuf_get(opt.size);
		ret = map_file(m);
		if (!ret) {
			mapped++;
			say("map %d: ok: %zu bytes of dma-buf at iova %#" PRIx64 "\n",
			    i + 1, opt.size, m->iova);
			if (opt.revoke) {
				dmabuf_revoke(m->dmabuf);
				say("map %d: revoked\n", i + 1);
			}
		} else if (ret == -EAGAIN) {
			refused++;
			printf("map %d: refused: EAGAIN (%s)\n", i + 1, strerror(-ret));
		} else {
			printf("map %d: failed: %s\n", i + 1, strerror(-ret));
			status = EXIT_FAIL;
		}
		fflush(stdout);
		/* A mapping holds its own reference on the dma-buf. */
		close(m->dmabuf);
		m->dmabuf = -1;
		if (ret && !opt.keep_going)
			break;
	}
	say("%d mapped, %d refused\n", mapped, refused);

	if (opt.hold)
		hold(maps, mapped);
	if (opt.exit_without_unmap)
		_exit(status ?: refused ? EXIT_REFUSED : 0);
	unmap_all(maps);
	free(maps);
	if (vfio_fd >= 0)
		close(vfio_fd);
	close(iommufd);
	return status ?: refused ? EXIT_REFUSED : 0;
}
