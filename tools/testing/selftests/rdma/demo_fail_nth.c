// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every allocation on the way to a demo HCA object fails, one at a time.
 *
 * For each way a process makes an object (a context, a PD, a CQ, a QP, a
 * user MR, a dma-buf MR over udmabuf and over the system dma-heap) and for
 * the creation of an HCA through the driver's new_device, the test makes
 * the one call again and again with /proc/thread-self/fail-nth set to 1,
 * 2, 3, ...: the nth fault injection point the call reaches (failslab,
 * fail_page_alloc, usercopy) fails. After every run that failed: the call
 * returned a clean errno, the RDMA core's object counts and the process's
 * VmPin are back where they were, and the HCA still makes a context and a
 * PD for the next run. The sweep ends at the first n the call never
 * reaches, which must succeed; every injection point before it has failed
 * once. As in iommufd_fail_nth, the kernel log (no WARN, leak or DMA-API
 * debug error) is the other judge.
 *
 * The program turns on fault injection for GFP_KERNEL and order-0
 * allocations (failslab and fail_page_alloc in debugfs) and puts the
 * settings back at exit.
 */
#define _GNU_SOURCE
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <sys/mman.h>

#include "../kselftest_harness.h"
#include "demo_uverbs.h"

#define PG		4096UL
#define MR_LEN		(64 * PG)
#define MAX_POINTS	2000
#define RW		(IB_UVERBS_ACCESS_LOCAL_WRITE)

static const char * const res_types[] = { "ctx", "pd", "cq", "qp", "mr" };

/* --- fault injection settings, set before main() and put back at exit */

static const struct { const char *file, *val; } fi_knobs[] = {
	{ "failslab/ignore-gfp-wait", "N" },
	{ "fail_page_alloc/ignore-gfp-wait", "N" },
	{ "fail_page_alloc/ignore-gfp-highmem", "N" },
	{ "fail_page_alloc/min-order", "0" },
	{ "failslab/verbose", "0" },
	{ "fail_page_alloc/verbose", "0" },
	{ "fail_usercopy/verbose", "0" },
};

static struct {
	pid_t owner;
	bool have;		/* fail-nth works: the test can run */
	char old[ARRAY_SIZE(fi_knobs)][32];
} fi;

static void fi_restore(void)
{
	char path[PATH_MAX];
	unsigned int i;

	if (getpid() != fi.owner)
		return;
	for (i = 0; i < ARRAY_SIZE(fi_knobs); i++) {
		if (!fi.old[i][0])
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s",
			 fi_knobs[i].file);
		uv_write_file(path, fi.old[i]);
	}
}

static void __attribute__((constructor)) fi_setup(void)
{
	char path[PATH_MAX];
	unsigned int i;

	fi.owner = getpid();
	atexit(fi_restore);
	for (i = 0; i < ARRAY_SIZE(fi_knobs); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s",
			 fi_knobs[i].file);
		if (uv_read_line(path, fi.old[i], sizeof(fi.old[i])))
			fi.old[i][0] = 0;
		else if (uv_write_file(path, fi_knobs[i].val))
			fi.old[i][0] = 0;
	}
	/* failslab's gfp-wait knob is what makes GFP_KERNEL fail at all */
	fi.have = fi.old[0][0] && !access("/proc/thread-self/fail-nth", W_OK);
}

/* --- one sweep */

struct sweep {
	int nth_fd;		/* /proc/thread-self/fail-nth */
	unsigned int runs, failed;
	unsigned int errnos[5];	/* ENOMEM, EFAULT, EAGAIN, ENODEV, other */
};

static void nth_set(struct __test_metadata *_metadata, struct sweep *sw,
		    unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	ASSERT_EQ(len, pwrite(sw->nth_fd, buf, len, 0));
}

/*
 * Turn fail-nth off; return how far the counter still was from the point
 * to fail: 0 if the nth injection point was reached.
 */
static unsigned int nth_left(struct __test_metadata *_metadata,
			     struct sweep *sw)
{
	char buf[16] = "";
	ssize_t n = pread(sw->nth_fd, buf, sizeof(buf) - 1, 0);

	/*
	 * The read and the write are injection points themselves: a read
	 * that failed reached the nth point, so the call did not.
	 */
	if (n < 0 && errno == EFAULT)
		snprintf(buf, sizeof(buf), "1");
	else
		ASSERT_LT(0, n);
	if (pwrite(sw->nth_fd, "0", 1, 0) != 1)
		ASSERT_EQ(1, pwrite(sw->nth_fd, "0", 1, 0));
	return strtoul(buf, NULL, 0);
}

#define nth_fired(m, sw) (nth_left(m, sw) == 0)

static void sweep_count(struct sweep *sw, int rc)
{
	sw->failed++;
	sw->errnos[rc == ENOMEM ? 0 : rc == EFAULT ? 1 : rc == EAGAIN ? 2 :
		   rc == ENODEV ? 3 : 4]++;
}

static void sweep_report(struct __test_metadata *_metadata, struct sweep *sw,
			 const char *what)
{
	TH_LOG("%s: %u injection points, %u runs failed (ENOMEM %u, EFAULT %u, EAGAIN %u)",
	       what, sw->runs - 1, sw->failed, sw->errnos[0], sw->errnos[1],
	       sw->errnos[2]);
	EXPECT_EQ(0, sw->errnos[3] + sw->errnos[4]);
}

/* --- the object paths, on each of the program's HCAs */

enum path { CTX, PD, CQ, QP, USER_MR, UDMABUF_MR, HEAP_MR };

/* What a run needs made before the call, and what the call makes. */
struct run {
	int fd;
	__u32 pd, pd2, mr;
	struct uv_cq cq;
	struct uv_qp qp;
	int dbuf;
};

/* What every run of a sweep starts from and must come back to */
struct env {
	enum uv_bus bus;
	char ibdev[64];
	long base[5], pinned;
	void *buf;
	int memfd;
};

FIXTURE(demo_fail_nth) {
	struct env e;
};

FIXTURE_VARIANT(demo_fail_nth) {
	enum uv_bus bus;
};

FIXTURE_VARIANT_ADD(demo_fail_nth, pci) {
	.bus = UV_BUS_PCI,
};

FIXTURE_VARIANT_ADD(demo_fail_nth, platform) {
	.bus = UV_BUS_PLATFORM,
};

FIXTURE_SETUP(demo_fail_nth)
{
	struct env *e = &self->e;
	int fd;

	e->bus = variant->bus;
	e->memfd = -1;
	e->buf = MAP_FAILED;
	fd = uv_open_demo(e->bus, 0, e->ibdev, sizeof(e->ibdev));
	if (fd < 0)
		SKIP(return, "%s", uv_no_hca_why(variant->bus));
	close(fd);
	if (!fi.have)
		SKIP(return, "no fail-nth (CONFIG_FAULT_INJECTION_DEBUG_FS, FAILSLAB)");
	if (uv_cmdline_has("swiotlb=force"))
		SKIP(return, "swiotlb=force: user queues and MRs are refused");
	e->buf = mmap(NULL, MR_LEN, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, e->buf);
	ASSERT_EQ(0, uv_res_counts(e->ibdev, res_types,
				   ARRAY_SIZE(res_types), e->base));
	e->pinned = uv_vm_pinned_kb();
	ASSERT_LE(0, e->pinned);
}

FIXTURE_TEARDOWN(demo_fail_nth)
{
	if (self->e.buf != MAP_FAILED)
		munmap(self->e.buf, MR_LEN);
	if (self->e.memfd >= 0)
		close(self->e.memfd);
}

/* A udmabuf over a sealed memfd, or a system-heap buffer: the fd or -1. */
static int make_dmabuf(struct env *e, bool heap)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC,
				    .size = MR_LEN };
	struct dma_heap_allocation_data d = { .len = MR_LEN,
					      .fd_flags = O_RDWR | O_CLOEXEC };
	int dev, ret;

	if (heap) {
		dev = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
		ret = dev < 0 ? -1 : ioctl(dev, DMA_HEAP_IOCTL_ALLOC, &d);
		if (dev >= 0)
			close(dev);
		return ret ? -1 : (int)d.fd;
	}
	if (e->memfd < 0) {
		e->memfd = memfd_create("demo_fail_nth",
					MFD_ALLOW_SEALING | MFD_CLOEXEC);
		if (e->memfd < 0 || ftruncate(e->memfd, MR_LEN) ||
		    fcntl(e->memfd, F_ADD_SEALS, F_SEAL_SHRINK))
			return -1;
	}
	c.memfd = e->memfd;
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -1;
	ret = ioctl(dev, UDMABUF_CREATE, &c);
	close(dev);
	return ret;
}

/* Make what the call on @p needs; asserts: the HCA must still work. */
static void run_prepare(struct __test_metadata *_metadata, struct env *e,
			enum path p, struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->dbuf = -1;
	r->fd = uv_open_demo(e->bus, 0, NULL, 0);
	ASSERT_LE(0, r->fd);
	if (p == CTX)
		return;
	ASSERT_EQ(0, _uv_get_context(r->fd, NULL, NULL));
	if (p == CQ)
		return;
	ASSERT_EQ(0, _uv_alloc_pd(r->fd, &r->pd));
	if (p == QP)
		ASSERT_EQ(0, _uv_create_cq(r->fd, 16, -1, &r->cq));
	if (p == UDMABUF_MR || p == HEAP_MR) {
		r->dbuf = make_dmabuf(e, p == HEAP_MR);
		ASSERT_LE(0, r->dbuf);
	}
}

/* The one call the sweep fails: 0 or the errno. */
static int run_call(struct env *e, enum path p, struct run *r)
{
	struct uv_qp_init init = { .max_send_wr = 8, .max_recv_wr = 8,
				   .pd = r->pd, .scq = &r->cq, .rcq = &r->cq };
	switch (p) {
	case CTX:
		return _uv_get_context(r->fd, NULL, NULL);
	case PD:
		return _uv_alloc_pd(r->fd, &r->pd2);
	case CQ:
		return _uv_create_cq(r->fd, 16, -1, &r->cq);
	case QP:
		return _uv_create_qp(r->fd, &init, &r->qp);
	case USER_MR:
		return _uv_reg_mr(r->fd, r->pd, e->buf, MR_LEN,
				  (uintptr_t)e->buf, RW, &r->mr, NULL);
	default:	/* UDMABUF_MR, HEAP_MR */
		return _uv_reg_dmabuf_mr(r->fd, r->pd, r->dbuf, 0, MR_LEN, 0,
					 RW, &r->mr, NULL);
	}
}

/* Destroy what the run made (and the call, if it succeeded), then check. */
static void run_finish(struct __test_metadata *_metadata, struct env *e,
		       enum path p, struct run *r, int rc)
{
	long now[5];
	unsigned int i;

	if (!rc && p == PD)
		EXPECT_EQ(0, _uv_dealloc_pd(r->fd, r->pd2));
	if (!rc && p == CQ)
		EXPECT_EQ(0, _uv_destroy_cq(&r->cq));
	if (!rc && p == QP)
		EXPECT_EQ(0, _uv_destroy_qp(&r->qp));
	if (!rc && (p == USER_MR || p == UDMABUF_MR || p == HEAP_MR))
		EXPECT_EQ(0, _uv_dereg_mr(r->fd, r->mr));
	/*
	 * After a failed call the CQ may still be busy: the core commits a
	 * QP once the device made it, even if its answer could not be copied
	 * out (EFAULT), and the library's mmap() of the QP's rings may fail
	 * after the QP was made. Closing the context destroys such a QP; the
	 * counts after the close judge.
	 */
	if (p == QP) {
		int err = _uv_destroy_cq(&r->cq);

		if (!rc)
			EXPECT_EQ(0, err);
	}
	if (r->pd)
		EXPECT_EQ(0, _uv_dealloc_pd(r->fd, r->pd));
	if (r->dbuf >= 0)
		close(r->dbuf);
	close(r->fd);
	ASSERT_EQ(0, uv_res_counts(e->ibdev, res_types,
				   ARRAY_SIZE(res_types), now));
	for (i = 0; i < ARRAY_SIZE(res_types); i++)
		ASSERT_EQ(e->base[i], now[i])
			TH_LOG("%s count after a run that returned %d",
			       res_types[i] ?: "?", rc);
	ASSERT_EQ(e->pinned, uv_vm_pinned_kb());
}

static void sweep_path(struct __test_metadata *_metadata, struct env *e,
		       enum path p, const char *what)
{
	struct sweep sw = {};
	struct run r;
	bool fired;
	int rc;

	if (p == UDMABUF_MR || p == HEAP_MR) {
		int fd = make_dmabuf(e, p == HEAP_MR);

		if (fd < 0)
			SKIP(return, "no %s", p == HEAP_MR ?
			     "system dma-heap (CONFIG_DMABUF_HEAPS_SYSTEM)" :
			     "/dev/udmabuf (CONFIG_UDMABUF)");
		close(fd);
	}
	sw.nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, sw.nth_fd);
	for (sw.runs = 1; sw.runs <= MAX_POINTS; sw.runs++) {
		run_prepare(_metadata, e, p, &r);
		nth_set(_metadata, &sw, sw.runs);
		rc = run_call(e, p, &r);
		fired = nth_fired(_metadata, &sw);
		if (rc) {
			ASSERT_TRUE(fired) TH_LOG("run %u: %s", sw.runs,
						  strerror(rc));
			sweep_count(&sw, rc);
		}
		run_finish(_metadata, e, p, &r, rc);
		if (!fired) {
			/* the call never got to the nth point: it is whole */
			ASSERT_EQ(0, rc);
			break;
		}
	}
	close(sw.nth_fd);
	ASSERT_GE(MAX_POINTS, sw.runs);
	sweep_report(_metadata, &sw, what);
}

TEST_F(demo_fail_nth, ctx)
{
	sweep_path(_metadata, &self->e, CTX, "context");
}

TEST_F(demo_fail_nth, pd)
{
	sweep_path(_metadata, &self->e, PD, "PD");
}

TEST_F(demo_fail_nth, cq)
{
	sweep_path(_metadata, &self->e, CQ, "CQ");
}

TEST_F(demo_fail_nth, qp)
{
	sweep_path(_metadata, &self->e, QP, "QP");
}

TEST_F(demo_fail_nth, user_mr)
{
	sweep_path(_metadata, &self->e, USER_MR, "user MR");
}

TEST_F(demo_fail_nth, udmabuf_mr)
{
	sweep_path(_metadata, &self->e, UDMABUF_MR, "udmabuf MR");
}

TEST_F(demo_fail_nth, heap_mr)
{
	sweep_path(_metadata, &self->e, HEAP_MR, "system heap MR");
}

/* The number of registered RDMA devices. */
static int ib_devices(void)
{
	struct dirent *de;
	DIR *d = opendir("/sys/class/infiniband");
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Write @ids to new_device with fail-nth at @n; 0 or the errno. */
static int hca_new(struct __test_metadata *_metadata, struct sweep *sw,
		   const char *ids, unsigned int n, unsigned int *left)
{
	int fd, rc;

	/* the file is opened first: only the write is swept */
	fd = open(UV_DRV_DIR "/new_device", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	nth_set(_metadata, sw, n);
	rc = write(fd, ids, strlen(ids)) == (ssize_t)strlen(ids) ? 0 : errno;
	*left = nth_left(_metadata, sw);
	close(fd);
	return rc;
}

FIXTURE(demo_hca) {
	int id, before;
	char path[PATH_MAX];
};

FIXTURE_SETUP(demo_hca)
{
	self->id = -1;
	self->before = ib_devices();
}

FIXTURE_TEARDOWN(demo_hca)
{
	if (self->id >= 0 && !access(self->path, F_OK))
		EXPECT_EQ(0, uv_del_hca(self->id));
}

/*
 * An HCA made through new_device: after a failed run there is neither a
 * platform device nor an RDMA device left of it. Registering an RDMA
 * device reaches far more injection points than making an object does
 * (sysfs, counters, the uverbs API tree): the sweep first counts them,
 * then fails every point in turn if DEMO_FAIL_NTH_STEP=1, else every
 * step-th, so that it makes about 100 runs within the kselftest runner's
 * 300 s, until a run reaches no point to fail. It prints the count and
 * the step.
 */
TEST_F_TIMEOUT(demo_hca, fail_nth, 280)
{
	const char *env = getenv("DEMO_FAIL_NTH_STEP");
	unsigned int points, step, n, left;
	struct sweep sw = {};
	char ids[16];
	int rc;

	if (!fi.have)
		SKIP(return, "no fail-nth (CONFIG_FAULT_INJECTION_DEBUG_FS, FAILSLAB)");
	/* an id that is free: make and remove an HCA once */
	self->id = uv_new_hca_any();
	ASSERT_LE(0, self->id);
	ASSERT_EQ(0, uv_del_hca(self->id));
	snprintf(self->path, sizeof(self->path),
		 "/sys/bus/platform/devices/demo_rdma.%d", self->id);
	snprintf(ids, sizeof(ids), "%d", self->id);
	sw.nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, sw.nth_fd);

	/* the count: a run whose point to fail lies far beyond the call */
	ASSERT_EQ(0, hca_new(_metadata, &sw, ids, 1000000, &left));
	ASSERT_EQ(0, uv_del_hca(self->id));
	ASSERT_LT(0, left);
	points = 1000000 - left;
	step = env ? strtoul(env, NULL, 0) : (points + 99) / 100;
	if (!step)
		step = 1;

	for (n = 1; ; n += step) {
		/* registration may reach a few more points than counted */
		ASSERT_GT(2 * points + 100, n);
		sw.runs++;
		rc = hca_new(_metadata, &sw, ids, n, &left);
		if (rc) {
			ASSERT_EQ(0, left) TH_LOG("run at %u: %s", n,
						  strerror(rc));
			sweep_count(&sw, rc);
			ASSERT_NE(0, access(self->path, F_OK));
			ASSERT_EQ(self->before, ib_devices());
			continue;
		}
		ASSERT_EQ(self->before + 1, ib_devices());
		ASSERT_EQ(0, uv_del_hca(self->id));
		ASSERT_EQ(self->before, ib_devices());
		/* the call did not reach the nth point: the sweep is done */
		if (left)
			break;
	}
	close(sw.nth_fd);
	TH_LOG("HCA creation: %u injection points, every %u failed: %u runs",
	       points, step, sw.runs);
	TH_LOG("%u failed (ENOMEM %u, EFAULT %u, EAGAIN %u, ENODEV %u)",
	       sw.failed, sw.errnos[0], sw.errnos[1], sw.errnos[2],
	       sw.errnos[3]);
	/* ENODEV: the probe failed, which new_device reports as such */
	EXPECT_EQ(0, sw.errnos[4]);
}

TEST_HARNESS_MAIN
