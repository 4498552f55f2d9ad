// SPDX-License-Identifier: GPL-2.0-only
/*
 * User memory regions on demo RDMA HCAs, proved by the device.
 *
 * A test registers user memory through raw uverbs ioctls, then has the
 * device itself read and write it through the MR: the device model's test
 * port (debugfs demo_model/<device>/) moves bytes with the device's own
 * translation, so what a test sees is what the device can reach. Behind a
 * translating IOMMU the MR must be one device range whatever its size (the
 * DMA IOVA API); without one, a page list with the largest page size the
 * memory allows (dma_map_phys). Under swiotlb=force registration must fail
 * cleanly instead of bouncing.
 *
 * Every test runs on an HCA bound to a PCI function and on one on a
 * platform device (never behind an IOMMU).
 */
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "../kselftest_harness.h"
#include "demo_uverbs.h"

#define PG 4096UL

FIXTURE(demo_mr) {
	int fd;
	__u32 pd;
	char ibdev[64];
	struct port port;
	bool iommu;
	bool bounce;
};

FIXTURE_VARIANT(demo_mr) {
	enum uv_bus bus;
};

FIXTURE_VARIANT_ADD(demo_mr, pci) {
	.bus = UV_BUS_PCI,
};

FIXTURE_VARIANT_ADD(demo_mr, platform) {
	.bus = UV_BUS_PLATFORM,
};

static void *map_buf(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

#define RW (IB_UVERBS_ACCESS_LOCAL_WRITE)

/*
 * Register [@buf + @off, + @len), have the device read it and write it
 * back with new bytes, and check that exactly those bytes changed. Without
 * an IOMMU the device must hold a page list of at least @pbl_min entries,
 * or one range when the pages happen to be physically contiguous.
 */
static void round_trip(struct __test_metadata *_metadata, int fd, __u32 pd,
		       struct port *port, bool iommu, char *buf, size_t span,
		       size_t off, size_t len, unsigned long long pbl_min)
{
	unsigned char *got = malloc(len), *want = malloc(len);
	unsigned char *before = malloc(span);
	struct mr_info mi;
	__u32 h, key;

	ASSERT_NE(NULL, got);
	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, before);
	fill(buf, span, len);
	uv_reg_mr(fd, pd, buf + off, len, (uintptr_t)buf + off, RW,
		  &h, &key);
	ASSERT_EQ(0, mr_info(port, key, &mi));
	if (iommu) {
		/* One IOVA range: one translation entry, any size. */
		EXPECT_STREQ("range", mi.mode);
		EXPECT_EQ(1, mi.entries);
	} else if (!strcmp(mi.mode, "range")) {
		EXPECT_EQ(1, mi.entries);
	} else {
		EXPECT_STREQ("pbl", mi.mode);
		EXPECT_LE(pbl_min, mi.entries);
	}
	/* The device reads exactly the MR's bytes... */
	ASSERT_EQ(0, dev_rw(port, key, (uintptr_t)buf + off, got, len, false));
	EXPECT_EQ(0, memcmp(got, buf + off, len));
	/* ...and writes exactly them: nothing around the MR changes. */
	memcpy(before, buf, span);
	fill(want, len, len + 1);
	ASSERT_EQ(0, dev_rw(port, key, (uintptr_t)buf + off, want, len, true));
	EXPECT_EQ(0, memcmp(buf + off, want, len));
	EXPECT_EQ(0, memcmp(buf, before, off));
	EXPECT_EQ(0, memcmp(buf + off + len, before + off + len,
			    span - off - len));
	uv_dereg_mr(fd, h);
	free(got);
	free(want);
	free(before);
}

#define BOUNCE_MSG "swiotlb=force: user MRs are refused (see bounce_refused)"

FIXTURE_SETUP(demo_mr)
{
	self->port.mem_fd = -1;
	self->fd = uv_open_demo(variant->bus, 0, self->ibdev,
				sizeof(self->ibdev));
	if (self->fd < 0)
		SKIP(return, "%s", uv_no_hca_why(variant->bus));
	if (port_init(&self->port, self->ibdev))
		SKIP(return, "no device model test port (debugfs)");
	self->iommu = uv_iommu_translates(self->ibdev);
	self->bounce = uv_cmdline_has("swiotlb=force");
	uv_get_context(self->fd, NULL, NULL);
	uv_alloc_pd(self->fd, &self->pd);
}

FIXTURE_TEARDOWN(demo_mr)
{
	if (self->port.mem_fd >= 0)
		close(self->port.mem_fd);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(demo_mr, one_page)
{
	char *buf = map_buf(PG);

	if (self->bounce)
		SKIP(return, BOUNCE_MSG);
	ASSERT_NE(NULL, buf);
	round_trip(_metadata, self->fd, self->pd, &self->port, self->iommu,
		   buf, PG, 0, PG, 1);
	munmap(buf, PG);
}

TEST_F(demo_mr, unaligned_start_and_end)
{
	size_t span = 4 * PG;
	char *buf = map_buf(span);

	if (self->bounce)
		SKIP(return, BOUNCE_MSG);
	ASSERT_NE(NULL, buf);
	round_trip(_metadata, self->fd, self->pd, &self->port, self->iommu,
		   buf, span, 100, 2 * PG + 37, 1);
	round_trip(_metadata, self->fd, self->pd, &self->port, self->iommu,
		   buf, span, PG - 1, 2, 1);
	round_trip(_metadata, self->fd, self->pd, &self->port, self->iommu,
		   buf, span, 3 * PG + 5, 1, 1);
	munmap(buf, span);
}

TEST_F(demo_mr, sizes)
{
	static const size_t sizes[] = { 1, 63, 4095, 4096, 4097, 65539,
					1048576 + 5 };
	size_t span = 2 * 1048576;
	char *buf = map_buf(span);
	unsigned int i;

	if (self->bounce)
		SKIP(return, BOUNCE_MSG);
	ASSERT_NE(NULL, buf);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		round_trip(_metadata, self->fd, self->pd, &self->port,
			   self->iommu, buf, span, (i * 1237) % PG, sizes[i],
			   1);
	munmap(buf, span);
}

/*
 * 8 MiB of 4 KiB pages from an unaligned start: without an IOMMU a page
 * list of 2049 entries, in five leaf pages of 512, and every byte read and
 * written by the device across the leaves' boundaries. The pages are
 * faulted in out of order, so that neighbours are not physically
 * contiguous and the device gets 4 KiB pages.
 */
TEST_F(demo_mr, page_list_leaves)
{
	size_t len = 8UL << 20, span = len + 2 * PG, n = span / PG, i;
	char *buf = map_buf(span);

	if (self->bounce)
		SKIP(return, BOUNCE_MSG);
	ASSERT_NE(NULL, buf);
	/* Fails without THP, where the pages are 4 KiB anyway. */
	madvise(buf, span, MADV_NOHUGEPAGE);
	for (i = 0; i < n; i++)
		buf[(i * 769 % n) * PG] = 1;
	round_trip(_metadata, self->fd, self->pd, &self->port, self->iommu,
		   buf, span, 5, len, 4 * 512 + 1);
	munmap(buf, span);
}

/* The MR's I/O virtual address need not be the user address. */
TEST_F(demo_mr, iova_is_not_va)
{
	char *buf = map_buf(2 * PG), got[64];
	__u64 iova = 0x7e0000000000ULL + 200;
	__u32 h, key;

	if (self->bounce)
		SKIP(return, BOUNCE_MSG);
	ASSERT_NE(NULL, buf);
	fill(buf, 2 * PG, 9);
	uv_reg_mr(self->fd, self->pd, buf + 200, PG, iova, RW, &h, &key);
	ASSERT_EQ(0, dev_read(key, iova + PG - 64, got, 64));
	EXPECT_EQ(0, memcmp(got, buf + 200 + PG - 64, 64));
	/* The user address means nothing to the device. */
	EXPECT_EQ(ERANGE, dev_read(key, (uintptr_t)buf + 200, got, 1));
	/* The page offsets of address and iova must agree. */
	uv_err_reg_mr(EINVAL, self->fd, self->pd, buf, PG, iova, RW);
	uv_dereg_mr(self->fd, h);
	munmap(buf, 2 * PG);
}

#define NR_HUGE "/proc/sys/vm/nr_hugepages"
#define HPAGE (2UL << 20)

static long read_long(const char *path)
{
	char buf[64];

	if (uv_read_line(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 0);
}

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -1;
	rc = fprintf(f, "%ld\n", v) < 0;
	return fclose(f) || rc ? -1 : 0;
}

/*
 * Huge pages in, large device pages out: @len bytes of 2 MiB hugetlb
 * pages, reserved for the test and given back after it.
 */
static void big_mr(struct __test_metadata *_metadata, int fd, __u32 pd,
		   struct port *port, bool iommu, size_t len)
{
	long nr = read_long(NR_HUGE), want_nr = nr + len / HPAGE;
	char *buf, got[PG], want[PG];
	struct mr_info mi;
	__u32 h, key;
	size_t i;

	if (nr < 0 || write_long(NR_HUGE, want_nr) ||
	    read_long(NR_HUGE) < want_nr) {
		write_long(NR_HUGE, nr);
		SKIP(return, "cannot reserve %zu MiB of huge pages", len >> 20);
	}
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (buf == MAP_FAILED) {
		write_long(NR_HUGE, nr);
		SKIP(return, "no hugetlb mapping");
	}
	for (i = 0; i < len; i += PG)
		buf[i] = (char)(i >> 12);
	uv_reg_mr(fd, pd, buf, len, (uintptr_t)buf, RW, &h, &key);
	ASSERT_EQ(0, mr_info(port, key, &mi));
	if (iommu) {
		EXPECT_STREQ("range", mi.mode);
		EXPECT_EQ(1, mi.entries);
	} else if (!strcmp(mi.mode, "range")) {
		/* the huge pages happen to follow each other in memory */
		EXPECT_EQ(1, mi.entries);
	} else {
		/* Physically contiguous huge pages: 2 MiB device pages. */
		EXPECT_STREQ("pbl", mi.mode);
		EXPECT_LE(21, mi.page_shift);
		EXPECT_GE(len / HPAGE, mi.entries);
	}
	/* First, middle and last page, read and written by the device. */
	for (i = 0; i < 3; i++) {
		size_t at = i == 0 ? 0 : i == 1 ? len / 2 + PG : len - PG;

		ASSERT_EQ(0, dev_rw(port, key, (uintptr_t)buf + at, got, PG, false));
		EXPECT_EQ(0, memcmp(got, buf + at, PG));
		fill(want, PG, i);
		ASSERT_EQ(0, dev_rw(port, key, (uintptr_t)buf + at, want, PG, true));
		EXPECT_EQ(0, memcmp(buf + at, want, PG));
	}
	EXPECT_EQ(ERANGE, dev_rw(port, key, (uintptr_t)buf + len, got, 1, false));
	uv_dereg_mr(fd, h);
	munmap(buf, len);
	write_long(NR_HUGE, nr);
}

TEST_F(demo_mr, huge_pages_64m)
{
	if (self->bounce)
		SKIP(return, BOUNCE_MSG);
	big_mr(_metadata, self->fd, self->pd, &self->port, self->iommu,
	       64UL << 20);
}

static unsigned long long mem_available(void)
{
	unsigned long long kb = 0;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb << 10;
}

TEST_F(demo_mr, one_gib)
{
	if (self->bounce)
		SKIP(return, BOUNCE_MSG);
	if (mem_available() < (1ULL << 30) + (256ULL << 20))
		SKIP(return, "needs 1.25 GiB of available memory");
	big_mr(_metadata, self->fd, self->pd, &self->port, self->iommu,
	       1UL << 30);
}

/* Outside the MR the device refuses: a protection error it counts. */
TEST_F(demo_mr, out_of_bounds)
{
	char *buf = map_buf(3 * PG), got[16];
	long long prot = uv_counter(self->ibdev, "protection_errors");
	__u64 va;
	__u32 h, key;

	if (self->bounce)
		SKIP(return, BOUNCE_MSG);
	ASSERT_NE(NULL, buf);
	va = (uintptr_t)buf + PG;
	uv_reg_mr(self->fd, self->pd, buf + PG, PG, va, RW, &h, &key);
	EXPECT_EQ(ERANGE, dev_read(key, va - 1, got, 1));
	EXPECT_EQ(ERANGE, dev_read(key, va + PG - 8, got, 9));
	EXPECT_EQ(ERANGE, dev_write(key, va + PG, got, 1));
	EXPECT_EQ(prot + 3, uv_counter(self->ibdev, "protection_errors"));
	uv_dereg_mr(self->fd, h);
	munmap(buf, 3 * PG);
}

/* Without local write access the device does not write. */
TEST_F(demo_mr, read_only)
{
	char *buf = map_buf(PG), got[PG];
	long long prot = uv_counter(self->ibdev, "protection_errors");
	__u32 h, key;

	if (self->bounce)
		SKIP(return, BOUNCE_MSG);
	ASSERT_NE(NULL, buf);
	fill(buf, PG, 3);
	uv_reg_mr(self->fd, self->pd, buf, PG, (uintptr_t)buf, 0, &h, &key);
	ASSERT_EQ(0, dev_read(key, (uintptr_t)buf, got, PG));
	EXPECT_EQ(0, memcmp(got, buf, PG));
	EXPECT_EQ(EACCES, dev_write(key, (uintptr_t)buf, got, 1));
	EXPECT_EQ(prot + 1, uv_counter(self->ibdev, "protection_errors"));
	uv_dereg_mr(self->fd, h);
	/* Read-only memory cannot back a writable MR. */
	ASSERT_EQ(0, mprotect(buf, PG, PROT_READ));
	uv_err_reg_mr(EFAULT, self->fd, self->pd, buf, PG, (uintptr_t)buf, RW);
	munmap(buf, PG);
}

/* After dereg the key is gone: the device refuses it. */
TEST_F(demo_mr, after_dereg)
{
	char *buf = map_buf(4 * PG), got[16];
	__u32 h, key;

	if (self->bounce)
		SKIP(return, BOUNCE_MSG);
	ASSERT_NE(NULL, buf);
	uv_reg_mr(self->fd, self->pd, buf, 4 * PG, (uintptr_t)buf, RW, &h,
		  &key);
	uv_dereg_mr(self->fd, h);
	EXPECT_EQ(ENOENT, dev_read(key, (uintptr_t)buf, got, 1));
	munmap(buf, 4 * PG);
}

/*
 * After dereg, behind an IOMMU, the device range is unmapped: a device
 * access there is a DMA fault, counted by the device. Without an IOMMU
 * that translates, the device address is the page's physical address and
 * stays reachable: nothing to test.
 */
TEST_F(demo_mr, dma_fault_after_dereg)
{
	char *buf = map_buf(4 * PG), got[16];
	long long faults;
	struct mr_info mi;
	__u32 h, key;
	int fd;

	if (self->bounce)
		SKIP(return, BOUNCE_MSG);
	if (!self->iommu)
		SKIP(return, "no translating IOMMU: an unmapped device address is no fault");
	ASSERT_NE(NULL, buf);
	uv_reg_mr(self->fd, self->pd, buf, 4 * PG, (uintptr_t)buf, RW, &h,
		  &key);
	ASSERT_EQ(0, mr_info(&self->port, key, &mi));
	uv_dereg_mr(self->fd, h);
	fd = open_port(&self->port, "dma_mem", O_RDONLY);
	ASSERT_LE(0, fd);
	faults = uv_counter(self->ibdev, "dma_faults");
	EXPECT_EQ(-1, pread(fd, got, 8, mi.addr));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(-1, pread(fd, got, 8, mi.addr + 3 * PG));
	EXPECT_EQ(faults + 2, uv_counter(self->ibdev, "dma_faults"));
	close(fd);
	munmap(buf, 4 * PG);
}

/*
 * fork() after registration: the pinned pages stay the parent's, and the
 * device keeps seeing what the parent writes, not what the child does.
 */
TEST_F(demo_mr, fork_after_reg)
{
	char *buf = map_buf(2 * PG), got[2 * PG], want[2 * PG];
	__u32 h, key;
	int status;
	pid_t pid;

	if (self->bounce)
		SKIP(return, BOUNCE_MSG);
	ASSERT_NE(NULL, buf);
	fill(buf, 2 * PG, 1);
	uv_reg_mr(self->fd, self->pd, buf, 2 * PG, (uintptr_t)buf, RW, &h,
		  &key);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		memset(buf, 0xc5, 2 * PG);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, dev_read(key, (uintptr_t)buf, got, 2 * PG));
	EXPECT_EQ(0, memcmp(got, buf, 2 * PG));
	fill(buf, 2 * PG, 2);
	ASSERT_EQ(0, dev_read(key, (uintptr_t)buf, got, 2 * PG));
	EXPECT_EQ(0, memcmp(got, buf, 2 * PG));
	fill(want, 2 * PG, 3);
	ASSERT_EQ(0, dev_write(key, (uintptr_t)buf, want, 2 * PG));
	EXPECT_EQ(0, memcmp(buf, want, 2 * PG));
	uv_dereg_mr(self->fd, h);
	munmap(buf, 2 * PG);
}

/* A process that exits with MRs registered leaves nothing behind. */
TEST_F(demo_mr, exit_with_mrs)
{
	int before = mr_count(&self->port), status;
	pid_t pid;

	ASSERT_LE(0, before);
	if (self->bounce)
		SKIP(return, BOUNCE_MSG);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char ibdev[64], *buf = map_buf(64 * PG);
		__u32 pd, h;
		int fd, i;

		fd = uv_open_demo(variant->bus, 0, ibdev, sizeof(ibdev));
		if (fd < 0 || !buf || _uv_get_context(fd, NULL, NULL) ||
		    _uv_alloc_pd(fd, &pd))
			_exit(1);
		for (i = 0; i < 4; i++)
			if (_uv_reg_mr(fd, pd, buf + i * 16 * PG, 16 * PG,
				       (uintptr_t)buf + i * 16 * PG, RW, &h,
				       NULL))
				_exit(2);
		if (mr_count(&self->port) != before + 4)
			_exit(3);
		_exit(0);	/* no dereg, no close */
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(before, mr_count(&self->port));
}

static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[0].effective &= ~(1U << CAP_IPC_LOCK);
	data[0].permitted &= ~(1U << CAP_IPC_LOCK);
	return syscall(SYS_capset, &hdr, data);
}

/* Pinning counts against RLIMIT_MEMLOCK, as for any user MR. */
TEST_F(demo_mr, memlock_limit)
{
	int status;
	pid_t pid;

	if (self->bounce)
		SKIP(return, BOUNCE_MSG);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct rlimit rl = { 64 * PG, 64 * PG };
		char ibdev[64], *buf = map_buf(128 * PG);
		__u32 pd, h, h2;
		int fd;

		fd = uv_open_demo(variant->bus, 0, ibdev, sizeof(ibdev));
		if (fd < 0 || !buf || _uv_get_context(fd, NULL, NULL) ||
		    _uv_alloc_pd(fd, &pd))
			_exit(1);
		if (setrlimit(RLIMIT_MEMLOCK, &rl) || drop_ipc_lock())
			_exit(2);
		if (_uv_reg_mr(fd, pd, buf, 65 * PG, (uintptr_t)buf, RW, &h,
			       NULL) != ENOMEM)
			_exit(3);
		if (_uv_reg_mr(fd, pd, buf, 48 * PG, (uintptr_t)buf, RW, &h,
			       NULL))
			_exit(4);
		/* 48 + 17 pages are over the limit together. */
		if (_uv_reg_mr(fd, pd, buf + 64 * PG, 17 * PG,
			       (uintptr_t)buf + 64 * PG, RW, &h2, NULL) != ENOMEM)
			_exit(5);
		if (_uv_dereg_mr(fd, h))
			_exit(6);
		/* The failed attempts did not leak into the count. */
		if (_uv_reg_mr(fd, pd, buf, 64 * PG, (uintptr_t)buf, RW, &h,
			       NULL))
			_exit(7);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(demo_mr, bad_input)
{
	char *buf = map_buf(4 * PG), *hole;
	int before = mr_count(&self->port);
	__u32 h;

	ASSERT_LE(0, before);
	if (self->bounce)
		SKIP(return, BOUNCE_MSG);
	ASSERT_NE(NULL, buf);
	/* two pages, the second one unmapped */
	hole = map_buf(2 * PG);
	ASSERT_NE(NULL, hole);
	munmap(hole + PG, PG);
	/* zero length */
	uv_err_reg_mr(EINVAL, self->fd, self->pd, buf, 0, (uintptr_t)buf, RW);
	/* longer than the device's largest message */
	uv_err_reg_mr(EINVAL, self->fd, self->pd, buf, (2ULL << 30) + 1,
		      (uintptr_t)buf, RW);
	/* nothing mapped there */
	uv_err_reg_mr(EFAULT, self->fd, self->pd, hole + PG, PG,
		      (uintptr_t)hole + PG, RW);
	/* partly mapped */
	uv_err_reg_mr(EFAULT, self->fd, self->pd, hole, 2 * PG,
		      (uintptr_t)hole, 0);
	munmap(hole, PG);
	/* wraps around */
	uv_err_reg_mr(EINVAL, self->fd, self->pd, (void *)-PG, 2 * PG,
		      -PG, RW);
	/* remote write needs local write (core rule) */
	uv_err_reg_mr(EINVAL, self->fd, self->pd, buf, PG, (uintptr_t)buf,
		      IB_UVERBS_ACCESS_REMOTE_WRITE);
	/* atomics and memory windows: the device has neither */
	uv_err_reg_mr(EOPNOTSUPP, self->fd, self->pd, buf, PG, (uintptr_t)buf,
		      RW | IB_UVERBS_ACCESS_REMOTE_ATOMIC);
	uv_err_reg_mr(EOPNOTSUPP, self->fd, self->pd, buf, PG, (uintptr_t)buf,
		      RW | IB_UVERBS_ACCESS_MW_BIND);
	/* on-demand paging is not offered */
	uv_err_reg_mr(EOPNOTSUPP, self->fd, self->pd, buf, PG, (uintptr_t)buf,
		      RW | IB_UVERBS_ACCESS_ON_DEMAND);
	/* flags nobody knows */
	uv_err_reg_mr(EINVAL, self->fd, self->pd, buf, PG, (uintptr_t)buf,
		      1U << 30);
	/* no such PD */
	uv_err_reg_mr(ENOENT, self->fd, self->pd + 1000, buf, PG,
		      (uintptr_t)buf, RW);
	/* nothing was left behind in the device */
	EXPECT_EQ(before, mr_count(&self->port));
	/* a handle is gone once destroyed */
	uv_reg_mr(self->fd, self->pd, buf, PG, (uintptr_t)buf, RW, &h, NULL);
	uv_dereg_mr(self->fd, h);
	EXPECT_EQ(ENOENT, _uv_dereg_mr(self->fd, h));
	EXPECT_EQ(before, mr_count(&self->port));
	munmap(buf, 4 * PG);
}

/*
 * swiotlb=force: the device could only reach user memory through bounce
 * buffers, which RDMA cannot use. Registration fails with EIO and leaves
 * nothing behind; nothing is bounced silently.
 */
TEST_F(demo_mr, bounce_refused)
{
	char *buf = map_buf(4 * PG);
	int before = mr_count(&self->port);

	ASSERT_LE(0, before);
	if (!self->bounce)
		SKIP(return, "only under swiotlb=force");
	ASSERT_NE(NULL, buf);
	uv_err_reg_mr(EIO, self->fd, self->pd, buf, 4 * PG, (uintptr_t)buf,
		      RW);
	uv_err_reg_mr(EIO, self->fd, self->pd, buf + 10, 100,
		      (uintptr_t)buf + 10, 0);
	EXPECT_EQ(before, mr_count(&self->port));
	munmap(buf, 4 * PG);
}

TEST_HARNESS_MAIN
