// SPDX-License-Identifier: GPL-2.0
/*
 * dmabuf-pin: create dma-bufs and pin them as RDMA memory regions.
 *
 * The test tool of the dmabuf cgroup controller: it allocates dma-bufs from
 * udmabuf or a dma-heap, registers memory regions over them on an RDMA
 * device (soft-RoCE in the test VM), holds them as long as asked and
 * deregisters them. Every registration is a pin that the kernel charges to
 * the cgroup of this process, and a limit makes it fail with EAGAIN.
 *
 * rdma-core 44's rxe provider has no reg_dmabuf_mr, so the registration
 * uses the kernel's REG_DMABUF_MR uverbs ioctl (a stable uAPI) directly;
 * everything else goes through libibverbs.
 *
 * The test device (lib/test_dmabuf_dev.c, /dev/dmabuf_testdevN) exports
 * buffers from device memory; while holding, "query" on stdin prints where
 * each of them is, "revoke" revokes them, "stats" prints the region's figures.
 *
 * Exit status: 0 all MRs registered (and data checked, with --rdma-write),
 * 3 a registration was refused with EAGAIN, 1 usage error, 2 other error.
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
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <lib/test_dmabuf_dev_uapi.h>
#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/ib_user_ioctl_verbs.h>
#include <rdma/rdma_user_ioctl.h>

#include "pin-common.h"

#define EXIT_REFUSED 3
#define EXIT_FAIL 2
#define EXIT_USAGE 1

struct buf {
	int fd;			/* the dma-buf */
	int memfd;		/* udmabuf: the memfd behind it */
	int testdev;		/* the test device's char device, or -1 */
	void *map;		/* CPU mapping, for --rdma-write */
	size_t size;
};

struct mr {
	uint32_t handle, lkey, rkey;
	uint64_t iova;
	struct buf *buf;
};

static struct {
	const char *device;
	const char *source;
	size_t size;
	int count;
	int buffers;
	bool keep_going;
	bool hold;
	bool exit_without_dereg;
	bool rdma_write;
	bool no_mr;
	long loop;
	double churn;
	const char *sources;
	const char *stats;
	bool fail_injected;
	long fuzz;
} opt = {
	.sources = "udmabuf",
	.source = "udmabuf",
	.size = 4 << 20,
	.count = 1,
};

static struct ibv_context *ctx;
static struct ibv_pd *pd;

/*
 * dma-buf sources. Each returns 0, or -errno with buf_error saying what
 * failed: the normal modes die with it, --churn counts it.
 */
static char buf_error[320];

static int buf_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int buf_fail(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf_error, sizeof(buf_error), fmt, ap);
	va_end(ap);
	return -err;
}

static int buf_udmabuf(struct buf *b)
{
	struct udmabuf_create create = { 0 };
	int dev, ret;

	b->memfd = memfd_create("dmabuf-pin", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (b->memfd < 0)
		return buf_fail("memfd_create: %s", strerror(errno));
	if (ftruncate(b->memfd, b->size) ||
	    fcntl(b->memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		ret = buf_fail("memfd set-up: %s", strerror(errno));
		goto err;
	}
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		ret = buf_fail("/dev/udmabuf: %s", strerror(errno));
		goto err;
	}
	create.memfd = b->memfd;
	create.flags = UDMABUF_FLAGS_CLOEXEC;
	create.size = b->size;
	b->fd = ioctl(dev, UDMABUF_CREATE, &create);
	if (b->fd < 0)
		ret = buf_fail("UDMABUF_CREATE of %zu bytes: %s%s", b->size,
			       strerror(errno), errno == EINVAL ?
			       " (udmabuf's size_limit_mb is 64 by default)" : "");
	close(dev);
	if (b->fd >= 0)
		return 0;
err:
	close(b->memfd);
	b->memfd = -1;
	return ret;
}

static int buf_heap(struct buf *b, const char *heap)
{
	struct dma_heap_allocation_data alloc = { 0 };
	char path[256];
	int dev, ret = 0;

	snprintf(path, sizeof(path), "/dev/dma_heap/%s", heap);
	dev = open(path, O_RDONLY | O_CLOEXEC);
	if (dev < 0)
		return buf_fail("%s: %s", path, strerror(errno));
	alloc.len = b->size;
	alloc.fd_flags = O_RDWR | O_CLOEXEC;
	if (ioctl(dev, DMA_HEAP_IOCTL_ALLOC, &alloc))
		ret = buf_fail("DMA_HEAP_IOCTL_ALLOC on %s: %s", path,
			       strerror(errno));
	if (!ret)
		b->fd = alloc.fd;
	close(dev);
	return ret;
}

/* testdev[:N] in the device's memory, testdev-system[:N] in system memory */
static int buf_testdev(struct buf *b, const char *instance, bool system)
{
	struct dmabuf_testdev_create create = { 0 };
	char path[64];
	int ret;

	snprintf(path, sizeof(path), "/dev/dmabuf_testdev%s",
		 instance ? instance : "0");
	b->testdev = open(path, O_RDWR | O_CLOEXEC);
	if (b->testdev < 0)
		return buf_fail("%s: %s (CONFIG_TEST_DMABUF_DEV)", path,
				strerror(errno));
	create.size = b->size;
	create.flags = system ? DMABUF_TESTDEV_CREATE_SYSTEM : 0;
	if (ioctl(b->testdev, DMABUF_TESTDEV_IOC_CREATE, &create)) {
		ret = buf_fail("DMABUF_TESTDEV_IOC_CREATE of %zu bytes on %s: %s",
			       b->size, path, strerror(errno));
		close(b->testdev);
		b->testdev = -1;
		return ret;
	}
	b->fd = create.fd;
	b->memfd = -1;
	return 0;
}

/* A dma-buf of @size bytes from @source; 0 or -errno (see buf_error). */
static int buf_create_from(struct buf *b, const char *source, size_t size)
{
	const char *colon = strchr(source, ':');
	size_t len = colon ? (size_t)(colon - source) : strlen(source);

	b->size = size;
	b->map = NULL;
	b->testdev = -1;
	b->fd = -1;
	b->memfd = -1;
	if ((len == 7 && !strncmp(source, "testdev", 7)) ||
	    (len == 14 && !strncmp(source, "testdev-system", 14)))
		return buf_testdev(b, colon ? colon + 1 : NULL, len == 14);
	if (!strcmp(source, "udmabuf"))
		return buf_udmabuf(b);
	if (!strcmp(source, "heap"))
		return buf_heap(b, "system");
	if (!strncmp(source, "heap:", 5))
		return buf_heap(b, source + 5);
	die(EXIT_USAGE, "unknown source '%s': udmabuf, heap, heap:NAME, testdev[:N] or testdev-system[:N]",
	    source);
}

static void buf_create(struct buf *b)
{
	if (buf_create_from(b, opt.source, opt.size))
		die(EXIT_FAIL, "%s", buf_error);
}

static void buf_close(struct buf *b)
{
	if (b->map)
		munmap(b->map, b->size);
	if (b->fd >= 0)
		close(b->fd);
	if (b->memfd >= 0)
		close(b->memfd);
	if (b->testdev >= 0)
		close(b->testdev);
	b->fd = b->memfd = b->testdev = -1;
	b->map = NULL;
}

static void *buf_map(struct buf *b)
{
	if (b->testdev >= 0)
		die(EXIT_USAGE, "the test device's buffers have no CPU mapping: no --rdma-write");
	if (!b->map) {
		/* The memfd for udmabuf; the dma-buf itself for heaps. */
		b->map = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			      b->memfd >= 0 ? b->memfd : b->fd, 0);
		if (b->map == MAP_FAILED)
			die(EXIT_FAIL, "mmap: %s", strerror(errno));
	}
	return b->map;
}

static void buf_sync(struct buf *b, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags | DMA_BUF_SYNC_RW };

	if (ioctl(b->fd, DMA_BUF_IOCTL_SYNC, &sync))
		die(EXIT_FAIL, "DMA_BUF_IOCTL_SYNC: %s", strerror(errno));
}

/* The uverbs ioctl interface, for REG_DMABUF_MR and MR_DESTROY */

struct uverbs_cmd {
	struct ib_uverbs_ioctl_hdr hdr;
	struct ib_uverbs_attr attrs[10];
};

static struct ib_uverbs_attr *cmd_attr(struct uverbs_cmd *c, uint16_t id,
				       uint64_t data, uint16_t len)
{
	struct ib_uverbs_attr *a = &c->attrs[c->hdr.num_attrs++];

	memset(a, 0, sizeof(*a));
	a->attr_id = id;
	a->len = len;
	a->flags = UVERBS_ATTR_F_MANDATORY;
	a->data = data;
	return a;
}

static int cmd_run(struct uverbs_cmd *c, uint16_t object, uint16_t method)
{
	c->hdr.length = sizeof(c->hdr) + c->hdr.num_attrs * sizeof(c->attrs[0]);
	c->hdr.object_id = object;
	c->hdr.method_id = method;
	c->hdr.driver_id = RDMA_DRIVER_RXE;
	return ioctl(ctx->cmd_fd, RDMA_VERBS_IOCTL, &c->hdr) ? -errno : 0;
}

#define MR_ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ)

/* REG_DMABUF_MR with every input given: 0 or -errno. */
static int mr_reg_raw(struct mr *mr, int fd, uint64_t offset, uint64_t length,
		      uint64_t iova, uint32_t access)
{
	struct uverbs_cmd c = { 0 };
	struct ib_uverbs_attr *handle;
	int ret;

	mr->iova = iova;
	handle = cmd_attr(&c, UVERBS_ATTR_REG_DMABUF_MR_HANDLE, 0, 0);
	cmd_attr(&c, UVERBS_ATTR_REG_DMABUF_MR_PD_HANDLE, pd->handle, 0);
	cmd_attr(&c, UVERBS_ATTR_REG_DMABUF_MR_OFFSET, offset,
		 sizeof(uint64_t));
	cmd_attr(&c, UVERBS_ATTR_REG_DMABUF_MR_LENGTH, length,
		 sizeof(uint64_t));
	cmd_attr(&c, UVERBS_ATTR_REG_DMABUF_MR_IOVA, iova, sizeof(uint64_t));
	cmd_attr(&c, UVERBS_ATTR_REG_DMABUF_MR_FD, (uint32_t)fd,
		 sizeof(uint32_t));
	cmd_attr(&c, UVERBS_ATTR_REG_DMABUF_MR_ACCESS_FLAGS, access,
		 sizeof(uint32_t));
	cmd_attr(&c, UVERBS_ATTR_REG_DMABUF_MR_RESP_LKEY,
		 (uintptr_t)&mr->lkey, sizeof(uint32_t));
	cmd_attr(&c, UVERBS_ATTR_REG_DMABUF_MR_RESP_RKEY,
		 (uintptr_t)&mr->rkey, sizeof(uint32_t));
	ret = cmd_run(&c, UVERBS_OBJECT_MR, UVERBS_METHOD_REG_DMABUF_MR);
	if (!ret)
		mr->handle = handle->data;
	return ret;
}

static int mr_reg(struct mr *mr, struct buf *b)
{
	mr->buf = b;
	return mr_reg_raw(mr, b->fd, 0, b->size, 0x10000000, MR_ACCESS);
}

static int mr_destroy(struct mr *mr)
{
	struct uverbs_cmd c = { 0 };

	cmd_attr(&c, UVERBS_ATTR_DESTROY_MR_HANDLE, mr->handle, 0);
	return cmd_run(&c, UVERBS_OBJECT_MR, UVERBS_METHOD_MR_DESTROY);
}

static void mr_dereg(struct mr *mr)
{
	int ret = mr_destroy(mr);

	if (ret)
		die(EXIT_FAIL, "MR_DESTROY: %s", strerror(-ret));
}

static void open_device(void)
{
	struct ibv_device **list;
	int i, n;

	list = ibv_get_device_list(&n);
	if (!list || !n)
		die(EXIT_FAIL, "no RDMA device (in the VM: rdma link add rxe0 type rxe netdev eth0)");
	for (i = 0; i < n; i++)
		if (!opt.device || !strcmp(ibv_get_device_name(list[i]), opt.device))
			break;
	if (i == n)
		die(EXIT_FAIL, "no RDMA device named %s", opt.device);
	ctx = ibv_open_device(list[i]);
	if (!ctx)
		die(EXIT_FAIL, "ibv_open_device(%s): %s",
		    ibv_get_device_name(list[i]), strerror(errno));
	ibv_free_device_list(list);
	pd = ibv_alloc_pd(ctx);
	if (!pd)
		die(EXIT_FAIL, "ibv_alloc_pd: %s", strerror(errno));
}

/* --rdma-write: a loopback RC QP writes a pattern into each dma-buf MR */

static int find_gid(union ibv_gid *gid)
{
	int i;

	for (i = 0; i < 16; i++) {
		if (ibv_query_gid(ctx, 1, i, gid))
			break;
		/* An IPv4-mapped GID: RoCE v2 over the netdev's address. */
		if (!gid->raw[0] && gid->raw[10] == 0xff && gid->raw[11] == 0xff)
			return i;
	}
	die(EXIT_FAIL, "no IPv4 GID on port 1: give the netdev an IPv4 address");
}

static struct ibv_qp *loopback_qp(struct ibv_cq *cq)
{
	struct ibv_qp_init_attr init = {
		.send_cq = cq, .recv_cq = cq, .qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_qp_attr attr;
	union ibv_gid gid;
	struct ibv_qp *qp;
	int gid_index = find_gid(&gid);

	qp = ibv_create_qp(pd, &init);
	if (!qp)
		die(EXIT_FAIL, "ibv_create_qp: %s", strerror(errno));

	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IBV_QPS_INIT;
	attr.port_num = 1;
	attr.qp_access_flags = IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
			       IBV_ACCESS_LOCAL_WRITE;
	if (ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		die(EXIT_FAIL, "QP to INIT: %s", strerror(errno));

	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IBV_QPS_RTR;
	attr.path_mtu = IBV_MTU_1024;
	attr.dest_qp_num = qp->qp_num;
	attr.max_dest_rd_atomic = 1;
	attr.min_rnr_timer = 12;
	attr.ah_attr.is_global = 1;
	attr.ah_attr.grh.dgid = gid;
	attr.ah_attr.grh.sgid_index = gid_index;
	attr.ah_attr.grh.hop_limit = 1;
	attr.ah_attr.port_num = 1;
	if (ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		die(EXIT_FAIL, "QP to RTR: %s", strerror(errno));

	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IBV_QPS_RTS;
	attr.timeout = 14;
	attr.retry_cnt = 7;
	attr.rnr_retry = 7;
	attr.max_rd_atomic = 1;
	if (ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_TIMEOUT |
			  IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
			  IBV_QP_MAX_QP_RD_ATOMIC))
		die(EXIT_FAIL, "QP to RTS: %s", strerror(errno));
	return qp;
}

/*
 * Write a pattern at an odd offset of the MR with RDMA WRITE, then check
 * through the CPU mapping that exactly those bytes changed.
 */
static int rdma_write_check(struct mr *mr, int n)
{
	struct ibv_cq *cq = ibv_create_cq(ctx, 4, NULL, NULL, 0);
	size_t off = 4096 + 123, len = 64 * 1024 + 7, i;
	struct ibv_send_wr wr = { 0 }, *bad;
	struct ibv_sge sge;
	struct ibv_mr *src_mr;
	struct ibv_wc wc;
	struct ibv_qp *qp;
	unsigned char *src, *dst;
	time_t deadline;
	int bad_bytes = 0, polled;

	if (!cq)
		die(EXIT_FAIL, "ibv_create_cq: %s", strerror(errno));
	if (mr->buf->size < off + len + 1)
		die(EXIT_USAGE, "--rdma-write needs a size of at least %zu",
		    off + len + 1);
	qp = loopback_qp(cq);

	src = malloc(len);
	for (i = 0; i < len; i++)
		src[i] = (unsigned char)(i * 7 + n + 1) | 1;
	src_mr = ibv_reg_mr(pd, src, len, IBV_ACCESS_LOCAL_WRITE);
	if (!src_mr)
		die(EXIT_FAIL, "ibv_reg_mr: %s", strerror(errno));

	dst = buf_map(mr->buf);
	buf_sync(mr->buf, DMA_BUF_SYNC_START);
	memset(dst, 0, mr->buf->size);
	buf_sync(mr->buf, DMA_BUF_SYNC_END);

	sge.addr = (uintptr_t)src;
	sge.length = len;
	sge.lkey = src_mr->lkey;
	wr.opcode = IBV_WR_RDMA_WRITE;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = mr->iova + off;
	wr.wr.rdma.rkey = mr->rkey;
	if (ibv_post_send(qp, &wr, &bad))
		die(EXIT_FAIL, "ibv_post_send: %s", strerror(errno));
	deadline = time(NULL) + 60;
	while (!(polled = ibv_poll_cq(cq, 1, &wc)) && time(NULL) < deadline)
		usleep(1000);
	if (polled != 1)
		die(EXIT_FAIL, "RDMA WRITE: no completion within 60 s");
	if (wc.status != IBV_WC_SUCCESS)
		die(EXIT_FAIL, "RDMA WRITE: completion status %s",
		    ibv_wc_status_str(wc.status));

	buf_sync(mr->buf, DMA_BUF_SYNC_START);
	for (i = 0; i < mr->buf->size; i++) {
		unsigned char want = (i >= off && i < off + len) ? src[i - off] : 0;

		if (dst[i] != want && bad_bytes++ < 5)
			fprintf(stderr, "mr %d: byte %zu is %#x, expected %#x\n",
				n, i, dst[i], want);
	}
	buf_sync(mr->buf, DMA_BUF_SYNC_END);
	say("mr %d: rdma write of %zu bytes at offset %zu: %s\n", n, len, off,
	    bad_bytes ? "DATA MISMATCH" : "data ok");

	ibv_destroy_qp(qp);
	ibv_dereg_mr(src_mr);
	ibv_destroy_cq(cq);
	free(src);
	return bad_bytes ? -1 : 0;
}

/* Holding */


/* The test device's buffers: where they are, and revocation. */
static void testdev_query(struct buf *bufs, int n)
{
	struct dmabuf_testdev_query q;
	int i;

	for (i = 0; i < n; i++) {
		if (bufs[i].testdev < 0)
			continue;
		memset(&q, 0, sizeof(q));
		q.fd = bufs[i].fd;
		if (ioctl(bufs[i].testdev, DMABUF_TESTDEV_IOC_QUERY, &q)) {
			printf("buf %d: query failed: %s\n", i + 1, strerror(errno));
			continue;
		}
		printf("buf %d: %s pins=%u revoked=%u moves=%llu\n", i + 1,
		       q.placement == DMABUF_TESTDEV_REGION ? "region" : "system",
		       q.pins, q.revoked, (unsigned long long)q.moves);
	}
	printf("query done\n");
}

/* The device of the first test-device buffer: its region's figures. */
static void testdev_stats(struct buf *bufs, int n)
{
	struct dmabuf_testdev_stats st;
	int i;

	for (i = 0; i < n && bufs[i].testdev < 0; i++)
		;
	if (i == n)
		printf("stats: no test device buffer\n");
	else if (ioctl(bufs[i].testdev, DMABUF_TESTDEV_IOC_STATS, &st))
		printf("stats: failed: %s\n", strerror(errno));
	else
		printf("stats size=%llu free=%llu pinned=%llu evictions=%llu\n",
		       (unsigned long long)st.region_size,
		       (unsigned long long)st.region_free,
		       (unsigned long long)st.region_pinned,
		       (unsigned long long)st.evictions);
	printf("stats done\n");
}

static void testdev_revoke(struct buf *bufs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (bufs[i].testdev >= 0 &&
		    ioctl(bufs[i].testdev, DMABUF_TESTDEV_IOC_REVOKE, &bufs[i].fd))
			printf("buf %d: revoke failed: %s\n", i + 1, strerror(errno));
	printf("revoke done\n");
}

/*
 * Wait for "release", EOF on stdin, SIGTERM, SIGINT or SIGUSR1; "query",
 * "revoke" and "stats" act on the test device's buffers meanwhile.
 */
static void hold(int n, struct buf *bufs, int nbufs)
{
	char line[64];

	catch_release_signals();
	printf("holding %d MRs (pid %d): send 'release' or EOF on stdin, or SIGTERM\n",
	       n, getpid());
	fflush(stdout);
	while (!released) {
		if (!fgets(line, sizeof(line), stdin))
			break;
		if (!strncmp(line, "release", 7))
			break;
		if (!strncmp(line, "query", 5))
			testdev_query(bufs, nbufs);
		else if (!strncmp(line, "revoke", 6))
			testdev_revoke(bufs, nbufs);
		else if (!strncmp(line, "stats", 5))
			testdev_stats(bufs, nbufs);
		fflush(stdout);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int benchmark(void)
{
	struct buf b;
	struct mr mr;
	double t0, t;
	long i;
	int ret;

	buf_create(&b);
	/* Warm up: the first pin creates the cgroup's pool state. */
	ret = mr_reg(&mr, &b);
	if (ret)
		die(ret == -EAGAIN ? EXIT_REFUSED : EXIT_FAIL,
		    "REG_DMABUF_MR: %s", strerror(-ret));
	mr_dereg(&mr);
	t0 = now();
	for (i = 0; i < opt.loop; i++) {
		ret = mr_reg(&mr, &b);
		if (ret)
			die(EXIT_FAIL, "REG_DMABUF_MR: %s", strerror(-ret));
		mr_dereg(&mr);
	}
	t = now() - t0;
	printf("%ld reg+dereg of a %zu-byte %s MR in %.3f s: %.0f ops/s\n",
	       opt.loop, opt.size, opt.source, t, opt.loop / t);
	return 0;
}

/*
 * --churn SECONDS: the worker of make stress (tests/guest/stress.sh). In
 * rounds until the time is up or SIGTERM: create 1 to 3 dma-bufs of 16K to
 * 256K from random sources of --sources, register an MR over each, hold them
 * for up to 10 ms, sometimes revoke the test device's ones, deregister and
 * close; one round in 50 exits without deregistering instead. Every failure
 * is counted by its kind; the counts are rewritten to --stats FILE after
 * each round, so that they survive a SIGKILL. With --fail-injected, the
 * process marks itself for fault injection (/proc/self/make-it-fail) for
 * the calls under test (faults()).
 */
#define CHURN_MAX_BUFS	3

#define CHURN_MAX_SOURCES	8

static struct {
	unsigned long rounds, pins, refused, enomem, nodev, buf_enomem,
		      buf_gone, revokes, dereg_enomem, errors;
	unsigned long src_pins[CHURN_MAX_SOURCES];
	char last_error[200];
} churn_st;
static int churn_stats_fd = -1;

static void churn_stats(void)
{
	char line[768];
	int n, i;

	if (churn_stats_fd < 0)
		return;
	/* Fixed-width: each write overwrites all of the previous one. */
	n = snprintf(line, sizeof(line),
		     "rounds=%-10lu pins=%-10lu refused=%-10lu enomem=%-10lu nodev=%-10lu buf_enomem=%-10lu buf_gone=%-10lu revokes=%-10lu dereg_enomem=%-10lu errors=%-10lu\n",
		     churn_st.rounds, churn_st.pins, churn_st.refused,
		     churn_st.enomem, churn_st.nodev, churn_st.buf_enomem,
		     churn_st.buf_gone, churn_st.revokes, churn_st.dereg_enomem,
		     churn_st.errors);
	for (i = 0; i < CHURN_MAX_SOURCES; i++)
		n += snprintf(line + n, sizeof(line) - n, "pins%d=%-10lu ", i,
			      churn_st.src_pins[i]);
	n += snprintf(line + n, sizeof(line) - n, "\nlast_error=%-200.200s\n",
		      churn_st.last_error);
	if (pwrite(churn_stats_fd, line, n, 0) != n)
		die(EXIT_FAIL, "writing %s: %s", opt.stats, strerror(errno));
}

static void churn_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void churn_error(const char *fmt, ...)
{
	va_list ap;

	churn_st.errors++;
	va_start(ap, fmt);
	vsnprintf(churn_st.last_error, sizeof(churn_st.last_error), fmt, ap);
	va_end(ap);
	if (!pin_quiet)
		fprintf(stderr, "dmabuf-pin: %s\n", churn_st.last_error);
}

/*
 * With --fail-injected, fault injection covers the kernel's work for the
 * calls under test only: buffer creation, registration and deregistration.
 * Elsewhere, a failure could hit the page faults that read this program
 * and its libraries from the 9p root of the test VM.
 */
static int fail_fd = -1;

static void faults(bool on)
{
	if (fail_fd >= 0 && pwrite(fail_fd, on ? "1" : "0", 1, 0) != 1)
		die(EXIT_FAIL, "/proc/self/make-it-fail: %s", strerror(errno));
}

/*
 * The stress's chaos loop kills a worker under fault injection with
 * SIGUSR2, not SIGKILL: a SIGKILL inside a window exits with injection on,
 * and the exit's last fput of this program and its libraries (files on the
 * VM's 9p root) then clunks their fids under injection. A failed clunk
 * frees the fid in the client but not in the server, which refuses the
 * reused fid number from then on: every later open in the VM fails with
 * EINVAL. This handler ends injection and exits at once, holding whatever
 * is held, as a SIGKILL would (a blocked call is interrupted, not finished).
 */
static void churn_killed(int sig __attribute__((unused)))
{
	if (fail_fd >= 0 && pwrite(fail_fd, "0", 1, 0) != 1)
		_exit(EXIT_FAIL);
	_exit(128 + SIGKILL);
}

static int churn(void)
{
	struct buf bufs[CHURN_MAX_BUFS];
	struct mr mrs[CHURN_MAX_BUFS];
	char *list, *tok, *sources[CHURN_MAX_SOURCES];
	int src[CHURN_MAX_BUFS], nsrc = 0, i, n, ret;
	bool testdev;
	double end = now() + opt.churn;

	list = strdup(opt.sources);
	for (tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		if (nsrc == CHURN_MAX_SOURCES)
			die(EXIT_USAGE, "--sources: at most %d", CHURN_MAX_SOURCES);
		sources[nsrc++] = tok;
	}
	if (!nsrc)
		die(EXIT_USAGE, "--sources needs at least one source");
	if (opt.stats) {
		churn_stats_fd = open(opt.stats, O_WRONLY | O_CREAT | O_TRUNC |
				      O_CLOEXEC, 0644);
		if (churn_stats_fd < 0)
			die(EXIT_FAIL, "%s: %s", opt.stats, strerror(errno));
	}
	/* The file's page exists before fault injection can fail it. */
	churn_stats();
	srandom(getpid() ^ (unsigned int)(now() * 1e6));
	catch_release_signals();
	if (opt.fail_injected) {
		fail_fd = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);
		if (fail_fd < 0)
			die(EXIT_FAIL, "/proc/self/make-it-fail: %s (CONFIG_FAULT_INJECTION)",
			    strerror(errno));
		/*
		 * Code first run inside a window (an error path) would be
		 * paged in from the 9p root under fault injection: a failed
		 * 9p read there has left the VM's 9p client failing every
		 * open with EINVAL. All of this program resident, now and
		 * for what it maps later.
		 */
		if (mlockall(MCL_CURRENT | MCL_FUTURE))
			die(EXIT_FAIL, "mlockall: %s", strerror(errno));
		sigaction(SIGUSR2, &(struct sigaction){ .sa_handler = churn_killed },
			  NULL);
	}

	while (!released && now() < end) {
		n = 1 + random() % CHURN_MAX_BUFS;
		/*
		 * Accepted failures: refusals; ENOMEM only under fault
		 * injection; a vanished device (the chaos loop unbinds it)
		 * only for the test device's buffers.
		 */
		for (i = 0; i < n; i++) {
			mrs[i].handle = UINT32_MAX;
			src[i] = random() % nsrc;
			testdev = !strncmp(sources[src[i]], "testdev", 7);
			faults(true);
			ret = buf_create_from(&bufs[i], sources[src[i]],
					      (1 + random() % 16) << 14);
			faults(false);
			/* memfd_create() says ENOSPC when shmem gets no inode. */
			if ((ret == -ENOMEM || ret == -ENOSPC) &&
			    opt.fail_injected) {
				churn_st.buf_enomem++;
			} else if (testdev && (ret == -ENOENT || ret == -ENODEV ||
					       ret == -ENXIO)) {
				churn_st.buf_gone++;
			} else if (ret) {
				churn_error("%s", buf_error);
			} else {
				faults(true);
				ret = mr_reg(&mrs[i], &bufs[i]);
				faults(false);
				if (!ret) {
					churn_st.pins++;
					churn_st.src_pins[src[i]]++;
				} else if (ret == -EAGAIN) {
					churn_st.refused++;
				} else if (ret == -ENOMEM && opt.fail_injected) {
					churn_st.enomem++;
				} else if (ret == -ENODEV && testdev) {
					churn_st.nodev++;
				} else {
					churn_error("REG_DMABUF_MR of %zu bytes of %s: %s",
						    bufs[i].size, sources[src[i]],
						    strerror(-ret));
				}
				if (ret)
					mrs[i].handle = UINT32_MAX;
			}
		}
		usleep(random() % 10000);
		if (random() % 10 == 0) {
			for (i = 0; i < n; i++) {
				if (bufs[i].fd < 0 || bufs[i].testdev < 0)
					continue;
				if (!ioctl(bufs[i].testdev,
					   DMABUF_TESTDEV_IOC_REVOKE, &bufs[i].fd))
					churn_st.revokes++;
				else if (errno == ENODEV)	/* unbound */
					churn_st.buf_gone++;
				else
					churn_error("DMABUF_TESTDEV_IOC_REVOKE: %s",
						    strerror(errno));
			}
		}
		churn_st.rounds++;
		if (random() % 50 == 0) {
			/*
			 * Exit holding: the kernel cleans up. Not under fault
			 * injection: the exit also releases this program's
			 * files on the VM's 9p root, and 9p does not survive
			 * a failed clunk (execs then fail with EINVAL).
			 */
			churn_stats();
			_exit(0);
		}
		for (i = 0; i < n; i++) {
			if (bufs[i].fd >= 0 && mrs[i].handle != UINT32_MAX) {
				faults(true);
				ret = mr_destroy(&mrs[i]);
				faults(false);
				if (ret == -ENOMEM && opt.fail_injected)
					churn_st.dereg_enomem++;
				else if (ret)
					churn_error("MR_DESTROY: %s",
						    strerror(-ret));
			}
			buf_close(&bufs[i]);
		}
		churn_stats();
	}
	churn_stats();
	return churn_st.errors ? EXIT_FAIL : 0;
}

/*
 * --fuzz N: N registrations with random inputs: fds that are no dma-buf
 * (-1, a closed one, a memfd), offsets and lengths around and far beyond
 * the buffer's size, odd iovas and random access flags. Each either
 * fails, with an errno of the uAPI's and nothing charged to this process's
 * cgroup, or succeeds with the buffer's size charged, and deregisters.
 */
static unsigned long long cg_current(const char *file, const char *pool)
{
	char line[256];
	size_t len = strlen(pool);
	unsigned long long v = 0;
	FILE *f = fopen(file, "r");

	if (!f)
		die(EXIT_FAIL, "%s: %s", file, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, pool, len) && line[len] == ' ')
			v = strtoull(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

static uint64_t fuzz_u64(uint64_t size)
{
	static const uint64_t odd[] = {
		0, 1, 4095, 4096, 4097, UINT32_MAX, (uint64_t)UINT32_MAX + 1,
		UINT64_MAX, UINT64_MAX - 4095, INT64_MAX,
	};

	switch (random() % 4) {
	case 0:
		return odd[random() % (sizeof(odd) / sizeof(odd[0]))];
	case 1:
		return size + (random() % 3) - 1;
	case 2:
		return (uint64_t)(random() % 64) << 12;
	default:
		return ((uint64_t)random() << 32) ^ random();
	}
}

static int fuzz(void)
{
	const char *pool = "udmabuf";
	char path[640], line[512];
	unsigned long long before, after;
	unsigned long ok = 0, failed = 0, bad = 0;
	int memfd, closed, fds[4], errs[64] = { 0 };
	struct buf b;
	struct mr mr;
	FILE *f;
	long i;

	/* This process's cgroup and its dmabuf.pinned.current. */
	f = fopen("/proc/self/cgroup", "r");
	if (!f || !fgets(line, sizeof(line), f) || strncmp(line, "0::", 3))
		die(EXIT_FAIL, "no cgroup v2 path in /proc/self/cgroup");
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	snprintf(path, sizeof(path), "/sys/fs/cgroup%s/dmabuf.pinned.current",
		 line + 3);
	if (strcmp(opt.source, pool))
		die(EXIT_USAGE, "--fuzz uses udmabuf buffers");

	buf_create(&b);
	memfd = memfd_create("fuzz", MFD_CLOEXEC);
	closed = dup(memfd);
	close(closed);
	fds[0] = b.fd;
	fds[1] = -1;
	fds[2] = closed;
	fds[3] = memfd;
	srandom(getpid());
	for (i = 0; i < opt.fuzz; i++) {
		int k = random() % 8, fd = fds[k < 4 ? 0 : k - 4], ret;
		uint64_t offset = random() % 2 ? 0 : fuzz_u64(b.size);
		uint64_t length = random() % 2 ? b.size : fuzz_u64(b.size);
		uint64_t iova = random() % 2 ? 0x10000000 : fuzz_u64(b.size);
		uint32_t access = random() % 2 ? MR_ACCESS : (uint32_t)random();

		before = cg_current(path, pool);
		ret = mr_reg_raw(&mr, fd, offset, length, iova, access);
		after = cg_current(path, pool);
		if (!ret) {
			ok++;
			if (after != before + b.size) {
				printf("fuzz %ld: registered fd %d offset %#llx length %#llx access %#x: charge %llu -> %llu, expected +%zu\n",
				       i, fd, (unsigned long long)offset,
				       (unsigned long long)length, access,
				       before, after, b.size);
				bad++;
			}
			mr_dereg(&mr);
			if (cg_current(path, pool) != before) {
				printf("fuzz %ld: deregistration left %llu charged\n",
				       i, cg_current(path, pool) - before);
				bad++;
			}
			continue;
		}
		failed++;
		errs[-ret < 64 ? -ret : 0]++;
		if (after != before) {
			printf("fuzz %ld: failed (%s) with fd %d offset %#llx length %#llx access %#x, yet the charge went %llu -> %llu\n",
			       i, strerror(-ret), fd, (unsigned long long)offset,
			       (unsigned long long)length, access, before, after);
			bad++;
		}
		/* The errnos the uAPI documents for bad input, and ENOMEM. */
		if (ret != -EINVAL && ret != -EBADF && ret != -EOPNOTSUPP &&
		    ret != -EFAULT && ret != -EPERM && ret != -ENOMEM) {
			printf("fuzz %ld: fd %d offset %#llx length %#llx access %#x: unexpected %s\n",
			       i, fd, (unsigned long long)offset,
			       (unsigned long long)length, access, strerror(-ret));
			bad++;
		}
		if (bad > 10)
			break;
	}
	printf("fuzz: %ld registrations, %lu succeeded, %lu failed:", i, ok,
	       failed);
	for (i = 1; i < 64; i++)
		if (errs[i])
			printf(" %s %d", strerrorname_np(i) ?: "?", errs[i]);
	printf("; %lu wrong\n", bad);
	return bad ? EXIT_FAIL : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: dmabuf-pin [OPTIONS]\n"
"Register memory regions over dma-bufs on an RDMA device: each is a pin,\n"
"charged by the dmabuf cgroup controller to this process's cgroup.\n"
"\n"
"  -d, --device NAME         RDMA device (default: the first one)\n"
"  -s, --source SRC          udmabuf (default), heap (= heap:system), heap:NAME,\n"
"                            testdev[:N], testdev-system[:N] (the test device)\n"
"  -z, --size SIZE           size of each dma-buf: bytes or K/M/G (default 4M)\n"
"  -n, --count N             register N MRs (default 1)\n"
"  -b, --buffers N           over N dma-bufs, round robin (default: one per MR)\n"
"  -k, --keep-going          go on registering after a refusal\n"
"  -H, --hold                then wait for 'release', EOF on stdin or SIGTERM\n"
"  -x, --exit-without-dereg  then exit without deregistering (implies --hold)\n"
"  -N, --no-mr               create the dma-bufs, register nothing (with --hold)\n"
"  -w, --rdma-write          RDMA WRITE into each MR over a loopback QP, check the data\n"
"  -l, --loop N              benchmark: register and deregister one MR N times\n"
"  -C, --churn SECONDS       stress worker: pin and release random buffers of\n"
"                            --sources (comma-separated) for that long\n"
"      --sources LIST        sources of --churn (default: udmabuf)\n"
"      --stats FILE          --churn's counts, rewritten after each round\n"
"      --fail-injected       --churn: subject this process to fault injection\n"
"      --fuzz N              N registrations with random bad input (udmabuf)\n"
"  -q, --quiet               print only errors\n"
"\n"
"Exit status: 0 registered, 3 refused with EAGAIN, 1 usage, 2 other error.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "source", required_argument, NULL, 's' },
		{ "size", required_argument, NULL, 'z' },
		{ "count", required_argument, NULL, 'n' },
		{ "buffers", required_argument, NULL, 'b' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "hold", no_argument, NULL, 'H' },
		{ "exit-without-dereg", no_argument, NULL, 'x' },
		{ "rdma-write", no_argument, NULL, 'w' },
		{ "no-mr", no_argument, NULL, 'N' },
		{ "loop", required_argument, NULL, 'l' },
		{ "churn", required_argument, NULL, 'C' },
		{ "sources", required_argument, NULL, 'S' },
		{ "stats", required_argument, NULL, 'T' },
		{ "fail-injected", no_argument, NULL, 'F' },
		{ "fuzz", required_argument, NULL, 'U' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int c, i, registered = 0, refused = 0, status = 0;
	struct buf *bufs;
	struct mr *mrs;
	char *end;

	pin_prog = "dmabuf-pin";

	while ((c = getopt_long(argc, argv, "d:s:z:n:b:kHxwNl:C:qh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'd': opt.device = optarg; break;
		case 's': opt.source = optarg; break;
		case 'z':
			if (parse_size(optarg, &opt.size) || !opt.size)
				die(EXIT_USAGE, "bad size '%s': bytes, or a number with K, M or G", optarg);
			break;
		case 'n':
		case 'b':
		case 'l':
			errno = 0;
			i = strtol(optarg, &end, 10);
			if (errno || *end || i < 1)
				die(EXIT_USAGE, "-%c needs a positive number, not '%s'", c, optarg);
			if (c == 'n')
				opt.count = i;
			else if (c == 'b')
				opt.buffers = i;
			else
				opt.loop = i;
			break;
		case 'k': opt.keep_going = true; break;
		case 'H': opt.hold = true; break;
		case 'x': opt.exit_without_dereg = opt.hold = true; break;
		case 'w': opt.rdma_write = true; break;
		case 'N': opt.no_mr = true; break;
		case 'C':
			opt.churn = strtod(optarg, &end);
			if (*end || !(opt.churn > 0))
				die(EXIT_USAGE, "--churn needs a number of seconds, not '%s'", optarg);
			break;
		case 'S': opt.sources = optarg; break;
		case 'T': opt.stats = optarg; break;
		case 'F': opt.fail_injected = true; break;
		case 'U':
			opt.fuzz = strtol(optarg, &end, 10);
			if (*end || opt.fuzz < 1)
				die(EXIT_USAGE, "--fuzz needs a positive number, not '%s'", optarg);
			break;
		case 'q': pin_quiet = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}

	if (opt.no_mr && (opt.loop || opt.rdma_write || opt.churn))
		die(EXIT_USAGE, "--no-mr registers nothing: no --loop, --churn or --rdma-write");
	if (!opt.no_mr)
		open_device();
	if (opt.loop)
		return benchmark();
	if (opt.churn)
		return churn();
	if (opt.fuzz)
		return fuzz();

	if (!opt.buffers || opt.buffers > opt.count)
		opt.buffers = opt.count;
	bufs = calloc(opt.buffers, sizeof(*bufs));
	mrs = calloc(opt.count, sizeof(*mrs));
	for (i = 0; i < opt.buffers; i++)
		buf_create(&bufs[i]);

	for (i = 0; i < opt.count && !opt.no_mr; i++) {
		int ret = mr_reg(&mrs[i], &bufs[i % opt.buffers]);

		if (!ret) {
			registered++;
			say("mr %d: registered %zu bytes of %s (dma-buf %d)\n",
			    i + 1, opt.size, opt.source, i % opt.buffers + 1);
			if (opt.rdma_write && rdma_write_check(&mrs[i], i + 1))
				status = EXIT_FAIL;
			continue;
		}
		mrs[i].handle = UINT32_MAX;
		if (ret == -EAGAIN) {
			refused++;
			printf("mr %d: refused: EAGAIN (%s)\n", i + 1,
			       strerror(-ret));
		} else {
			printf("mr %d: failed: %s\n", i + 1, strerror(-ret));
			status = EXIT_FAIL;
		}
		fflush(stdout);
		if (!opt.keep_going)
			break;
	}
	say("%d registered, %d refused\n", registered, refused);

	if (opt.hold)
		hold(registered, bufs, opt.buffers);
	if (opt.exit_without_dereg)
		_exit(status ?: refused ? EXIT_REFUSED : 0);

	for (i = 0; i < opt.count; i++)
		if (mrs[i].buf && mrs[i].handle != UINT32_MAX)
			mr_dereg(&mrs[i]);
	if (ctx) {
		ibv_dealloc_pd(pd);
		ibv_close_device(ctx);
	}
	return status ?: refused ? EXIT_REFUSED : 0;
}
