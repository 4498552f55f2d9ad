// SPDX-License-Identifier: GPL-2.0-only
/*
 * Userspace RC bandwidth and latency between two demo HCAs.
 *
 * The process drives the user queues itself (demo_uverbs.h): RDMA WRITE
 * bandwidth with 16 WQEs in flight for 64 bytes to 4 MiB, and the
 * latency of a 64-byte SEND ping-pong, from the HCA on a PCI function to
 * the one on a platform device. The output has the format of the kernel
 * verbs benchmark (debugfs demo_rdma/bench) so the two can be compared:
 *
 *   write_bw <bytes> <KB/s>     from 64 KiB on, the best of REPS runs
 *   write_ratio <bytes> <per mille>
 *                               from 64 KiB on, the median over the runs
 *                               of RDMA WRITE against the kernel's
 *                               memcpy() of as many bytes right after
 *   write_ratio_pages <bytes> <per mille>
 *                               the same against the kernel copying the
 *                               bytes the WRITE moved, from the same pages
 *   send_lat 64 <ns>
 *
 * The sizes from 64 KiB on run in REPS rounds, each round every size
 * once, so that a slow spell of the host lands on one run of several
 * sizes rather than on every run of one.
 *
 * The memcpy() is the kernel verbs benchmark's (demo_rdma/bench, "memcpy
 * <bytes>"), so that both benchmarks divide by the same copy: the C
 * library's memcpy() can be a different instruction mix altogether (under
 * TCG its vector instructions ran at a fraction of the kernel's copy).
 * That copy is between two physically contiguous kernel buffers; this
 * benchmark's buffers are pages scattered in memory, as a process's
 * memory is, which a CPU copies more slowly (under TCG, in one boot,
 * about 0.6 as fast page by page). write_ratio_pages divides by the
 * kernel copying the same bytes from the same pages, one copy per
 * physically contiguous run as the device model makes them ("memcpy_user
 * <bytes> <from> <to>"): what the model costs beyond the copy it has to
 * make. Without that file there is neither ratio.
 *
 * A benchmark prints figures; it passes or fails nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "../kselftest.h"
#include "demo_uverbs.h"

#define BUF	(4UL << 20)
#define DEPTH	16
#define BYTES	(16UL << 20)
#define LAT_ITERS 200
#define REPS	15
#define PAIRED	4	/* 64 KiB, 256 KiB, 1 MiB and 4 MiB */

struct end {
	int fd;
	char ibdev[64];
	__u32 pd, mr, key;
	struct uv_cq cq;
	struct uv_qp qp;
	unsigned char *buf;
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "demo_rc_bench: %s: %s\n", what, strerror(err));
	exit(KSFT_FAIL);
}

static void end_open(struct end *e, enum uv_bus bus)
{
	struct demo_alloc_ucontext_resp caps;
	struct uv_qp_init init = { .max_send_wr = DEPTH,
				   .max_recv_wr = DEPTH };
	int rc;

	e->fd = uv_open_demo(bus, 0, e->ibdev, sizeof(e->ibdev));
	if (e->fd < 0) {
		printf("# no demo HCA on that bus\n");
		exit(KSFT_SKIP);
	}
	rc = _uv_get_context_drv(e->fd, NULL, 0, &caps);
	if (!rc)
		rc = _uv_alloc_pd(e->fd, &e->pd);
	if (!rc)
		rc = _uv_create_cq(e->fd, 2 * DEPTH, -1, &e->cq);
	if (rc)
		die("setup", rc);
	init.pd = e->pd;
	init.scq = &e->cq;
	init.rcq = &e->cq;
	rc = _uv_create_qp(e->fd, &init, &e->qp);
	if (rc)
		die("create QP", rc);
	e->buf = mmap(NULL, BUF, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (e->buf == MAP_FAILED)
		die("mmap", errno);
	rc = _uv_reg_mr(e->fd, e->pd, e->buf, BUF, (uintptr_t)e->buf,
			IB_UVERBS_ACCESS_LOCAL_WRITE |
			IB_UVERBS_ACCESS_REMOTE_WRITE, &e->mr, &e->key);
	if (rc)
		die("reg MR", rc);
}

static void wait_one(struct end *e)
{
	struct uv_hw_cqe c;
	int rc = uv_wait_cq(&e->cq, &c, 10000);

	if (rc)
		die("completion", rc);
	if (c.status != UV_CQE_OK)
		die("completion status", EIO);
}

static void post(struct end *e, __u8 op, __u32 len, struct end *r)
{
	struct uv_wr wr = {
		.opcode = op,
		.flags = UV_WQE_F_SIGNALED,
		.addr = (uintptr_t)e->buf,
		.length = len,
		.lkey = e->key,
	};
	int rc;

	if (r) {
		wr.remote_addr = (uintptr_t)r->buf;
		wr.rkey = r->key;
	}
	rc = _uv_post_send(&e->qp, &wr);
	if (rc)
		die("post", rc);
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

#define KBENCH "/sys/kernel/debug/demo_rdma/bench"

/* Run @cmd in the kernel verbs benchmark: its memcpy_bw for @len, or 0. */
static double kernel_copy_bw(const char *cmd, unsigned long len)
{
	char out[128];
	unsigned long l;
	double bw = 0;
	ssize_t n;
	int fd;

	fd = open(KBENCH, O_RDWR);
	if (fd < 0)
		return 0;
	if (write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd)) {
		n = pread(fd, out, sizeof(out) - 1, 0);
		if (n > 0) {
			out[n] = 0;
			if (sscanf(out, "memcpy_bw %lu %lf", &l, &bw) != 2 ||
			    l != len)
				bw = 0;
		}
	}
	close(fd);
	return bw;
}

/*
 * KB/s of the kernel's memcpy() of @len bytes as many times as a run sends
 * them, on this CPU, or 0 without the kernel verbs benchmark.
 */
static double kernel_memcpy_bw(unsigned long len)
{
	char cmd[32];

	snprintf(cmd, sizeof(cmd), "memcpy %lu", len);
	return kernel_copy_bw(cmd, len);
}

/* The same, for the kernel copying @len bytes from @from's pages to @to's. */
static double kernel_pages_bw(unsigned long len, const void *from,
			      const void *to)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "memcpy_user %lu %lx %lx", len,
		 (unsigned long)from, (unsigned long)to);
	return kernel_copy_bw(cmd, len);
}

/* KB/s of one run: RDMA WRITEs of @len bytes from @a to @b, DEPTH in flight */
static double write_run(struct end *a, struct end *b, unsigned long len)
{
	unsigned long n = BYTES / len, posted = 0, done = 0;
	double t0;

	n = n < 16 ? 16 : n > 2000 ? 2000 : n;
	t0 = now_ns();
	while (done < n) {
		while (posted < n && posted - done < DEPTH) {
			post(a, UV_WQE_WRITE, len, b);
			posted++;
		}
		wait_one(a);
		done++;
	}
	return n * len * 1e6 / (now_ns() - t0);
}

/* The median of @n ratios, in per mille */
static double median(double *v, int n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return v[n / 2] * 1000;
}

int main(void)
{
	double best[PAIRED] = {}, ratio[PAIRED][REPS], pratio[PAIRED][REPS];
	int i, r, rc, nr[PAIRED] = {}, npr[PAIRED] = {};
	struct end a = {}, b = {};
	double t0, bw, mc, pc;
	unsigned long len;

	end_open(&a, UV_BUS_PCI);
	end_open(&b, UV_BUS_PLATFORM);
	rc = _uv_qp_connect(&a.qp, IB_UVERBS_ACCESS_REMOTE_WRITE,
			    uv_lid(b.ibdev), b.qp.qpn, 7);
	if (!rc)
		rc = _uv_qp_connect(&b.qp, IB_UVERBS_ACCESS_REMOTE_WRITE,
				    uv_lid(a.ibdev), a.qp.qpn, 7);
	if (rc)
		die("connect", rc);
	printf("devices %s %s userspace\n", a.ibdev, b.ibdev);

	for (len = 64; len < 65536; len *= 4)
		printf("write_bw %lu %.0f\n", len, write_run(&a, &b, len));
	for (r = 0; r < REPS; r++) {
		for (i = 0, len = 65536; i < PAIRED; i++, len *= 4) {
			bw = write_run(&a, &b, len);
			best[i] = bw > best[i] ? bw : best[i];
			mc = kernel_memcpy_bw(len);
			pc = kernel_pages_bw(len, a.buf, b.buf);
			if (mc)
				ratio[i][nr[i]++] = bw / mc;
			if (pc)
				pratio[i][npr[i]++] = bw / pc;
		}
	}
	for (i = 0, len = 65536; i < PAIRED; i++, len *= 4) {
		printf("write_bw %lu %.0f\n", len, best[i]);
		if (nr[i] == REPS)
			printf("write_ratio %lu %.0f\n", len,
			       median(ratio[i], REPS));
		if (npr[i] == REPS)
			printf("write_ratio_pages %lu %.0f\n", len,
			       median(pratio[i], REPS));
	}

	/* 64-byte ping-pong: a -> b, b answers once it has received. */
	uv_post_recv(&a.qp, (uintptr_t)a.buf + BUF / 2, 64, a.key);
	uv_post_recv(&b.qp, (uintptr_t)b.buf + BUF / 2, 64, b.key);
	t0 = now_ns();
	for (i = 0; i < LAT_ITERS; i++) {
		post(&a, UV_WQE_SEND, 64, NULL);
		wait_one(&b);			/* b's receive */
		uv_post_recv(&b.qp, (uintptr_t)b.buf + BUF / 2, 64, b.key);
		post(&b, UV_WQE_SEND, 64, NULL);
		wait_one(&a);			/* a's send and receive */
		wait_one(&a);
		uv_post_recv(&a.qp, (uintptr_t)a.buf + BUF / 2, 64, a.key);
		wait_one(&b);			/* b's send */
	}
	printf("send_lat 64 %.0f\n", (now_ns() - t0) / (2 * LAT_ITERS));
	return KSFT_PASS;
}
