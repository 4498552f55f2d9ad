// SPDX-License-Identifier: GPL-2.0-only
/*
 * dma-buf memory regions on demo RDMA HCAs, proved by the device.
 *
 * A test exports memory as a dma-buf, registers it through
 * UVERBS_METHOD_REG_DMABUF_MR and has the device move bytes through the MR
 * with the device model's test port; the CPU checks them through its own
 * mapping of the dma-buf, inside DMA_BUF_IOCTL_SYNC brackets.
 *
 * Variants: exporter (udmabuf over a memfd, the system dma-heap) x the HCA
 * (on a PCI function, behind the IOMMU when there is one, or on a platform
 * device) x the driver's import model (dynamic, or pinned and revocable;
 * debugfs dmabuf_import). Exporters that take memory back (vfio-pci) are in
 * demo_dmabuf_p2p.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#include "../kselftest_harness.h"
#include "demo_uverbs.h"

#define PG 4096UL
#define NPAGES 64
#define RW (IB_UVERBS_ACCESS_LOCAL_WRITE)

enum exporter { UDMABUF, HEAP };

/* What the helpers need of a test. */
struct env {
	int fd;
	__u32 pd;
	struct port port;
	bool iommu;
	int dbuf;		/* the dma-buf */
	size_t size;
	unsigned char *cpu;	/* the CPU's mapping of the dma-buf */
	bool bounce;		/* swiotlb=force: mappings bounce */
};

FIXTURE(demo_dmabuf) {
	struct env e;
	char ibdev[64];
	int memfd;		/* udmabuf: the memory behind the dma-buf */
	int mrs;		/* MRs in the device before the test */
};

FIXTURE_VARIANT(demo_dmabuf) {
	enum uv_bus bus;
	enum exporter exporter;
	const char *import;
};

FIXTURE_VARIANT_ADD(demo_dmabuf, pci_udmabuf_dynamic) {
	.bus = UV_BUS_PCI, .exporter = UDMABUF, .import = "dynamic",
};

FIXTURE_VARIANT_ADD(demo_dmabuf, pci_udmabuf_revocable) {
	.bus = UV_BUS_PCI, .exporter = UDMABUF, .import = "revocable",
};

FIXTURE_VARIANT_ADD(demo_dmabuf, pci_heap_dynamic) {
	.bus = UV_BUS_PCI, .exporter = HEAP, .import = "dynamic",
};

FIXTURE_VARIANT_ADD(demo_dmabuf, pci_heap_revocable) {
	.bus = UV_BUS_PCI, .exporter = HEAP, .import = "revocable",
};

FIXTURE_VARIANT_ADD(demo_dmabuf, platform_udmabuf_dynamic) {
	.bus = UV_BUS_PLATFORM, .exporter = UDMABUF, .import = "dynamic",
};

FIXTURE_VARIANT_ADD(demo_dmabuf, platform_udmabuf_revocable) {
	.bus = UV_BUS_PLATFORM, .exporter = UDMABUF, .import = "revocable",
};

FIXTURE_VARIANT_ADD(demo_dmabuf, platform_heap_dynamic) {
	.bus = UV_BUS_PLATFORM, .exporter = HEAP, .import = "dynamic",
};

FIXTURE_VARIANT_ADD(demo_dmabuf, platform_heap_revocable) {
	.bus = UV_BUS_PLATFORM, .exporter = HEAP, .import = "revocable",
};

/* A memfd udmabuf accepts: sealed against shrinking, writable. */
static int make_memfd(size_t size)
{
	int fd = memfd_create("demo_dmabuf", MFD_ALLOW_SEALING | MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, size) || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Export @n ranges of the memfd as one dma-buf. Returns the fd or -errno. */
static int udmabuf_list(int memfd, const __u64 *offsets, const __u64 *sizes,
			int n)
{
	struct udmabuf_create_list *list;
	int dev, ret, i;

	list = calloc(1, sizeof(*list) + n * sizeof(list->list[0]));
	if (!list)
		return -ENOMEM;
	list->flags = UDMABUF_FLAGS_CLOEXEC;
	list->count = n;
	for (i = 0; i < n; i++) {
		list->list[i].memfd = memfd;
		list->list[i].offset = offsets[i];
		list->list[i].size = sizes[i];
	}
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		free(list);
		return -errno;
	}
	ret = ioctl(dev, UDMABUF_CREATE_LIST, list);
	if (ret < 0)
		ret = -errno;
	close(dev);
	free(list);
	return ret;
}

static int heap_alloc(size_t size)
{
	struct dma_heap_allocation_data data = {
		.len = size,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	int ret;

	if (heap < 0)
		return -errno;
	ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data);
	ret = ret < 0 ? -errno : (int)data.fd;
	close(heap);
	return ret;
}

/*
 * CPU access to the dma-buf, bracketed as the dma-buf API asks. Returns 0
 * or the errno of the exporter's CPU access hook.
 */
static int cpu_sync(int dbuf, bool start)
{
	struct dma_buf_sync sync = {
		.flags = (start ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END) |
			 DMA_BUF_SYNC_RW,
	};

	return ioctl(dbuf, DMA_BUF_IOCTL_SYNC, &sync) ? errno : 0;
}

/* Map @dbuf for the CPU; NULL on failure. */
static unsigned char *map_dbuf(int dbuf, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dbuf, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void cpu_fill(int dbuf, unsigned char *cpu, size_t len, unsigned int seed)
{
	cpu_sync(dbuf, true);
	fill(cpu, len, seed);
	cpu_sync(dbuf, false);
}

FIXTURE_SETUP(demo_dmabuf)
{
	int ret;

	self->memfd = -1;
	self->e.dbuf = -1;
	self->e.port.mem_fd = -1;
	self->e.fd = uv_open_demo(variant->bus, 0, self->ibdev,
				  sizeof(self->ibdev));
	if (self->e.fd < 0)
		SKIP(return, "%s", uv_no_hca_why(variant->bus));
	if (port_init(&self->e.port, self->ibdev))
		SKIP(return, "no device model test port (debugfs)");
	ASSERT_EQ(0, uv_set_dmabuf_import(self->ibdev, variant->import));
	self->e.iommu = uv_iommu_translates(self->ibdev);
	self->e.bounce = uv_cmdline_has("swiotlb=force");
	uv_get_context(self->e.fd, NULL, NULL);
	uv_alloc_pd(self->e.fd, &self->e.pd);
	self->mrs = mr_count(&self->e.port);
	ASSERT_LE(0, self->mrs);

	self->e.size = NPAGES * PG;
	if (variant->exporter == UDMABUF) {
		const __u64 off = 0, size = self->e.size;

		self->memfd = make_memfd(self->e.size);
		ASSERT_LE(0, self->memfd);
		ret = udmabuf_list(self->memfd, &off, &size, 1);
		if (ret == -ENOENT)
			SKIP(return, "no /dev/udmabuf (CONFIG_UDMABUF)");
	} else {
		ret = heap_alloc(self->e.size);
		if (ret == -ENOENT)
			SKIP(return, "no system dma-heap (CONFIG_DMABUF_HEAPS_SYSTEM)");
	}
	ASSERT_LE(0, ret);
	self->e.dbuf = ret;
	self->e.cpu = map_dbuf(self->e.dbuf, self->e.size);
	ASSERT_NE(NULL, self->e.cpu);
	/*
	 * An exporter's mapping that bounces is refused, as user MRs are;
	 * the data tests cannot run (see bounce_refused).
	 */
	if (self->e.bounce && strcmp(_metadata->name, "bounce_refused") &&
	    strcmp(_metadata->name, "bad_input") &&
	    strcmp(_metadata->name, "large_segments"))
		SKIP(return, "swiotlb=force: dma-buf MRs are refused (see bounce_refused)");
}

FIXTURE_TEARDOWN(demo_dmabuf)
{
	/* Every test deregisters, or exits: nothing stays in the device. */
	if (self->e.port.mem_fd >= 0)
		EXPECT_EQ(self->mrs, mr_count(&self->e.port));
	if (self->e.cpu)
		munmap(self->e.cpu, self->e.size);
	if (self->e.dbuf >= 0)
		close(self->e.dbuf);
	if (self->memfd >= 0)
		close(self->memfd);
	if (self->e.port.mem_fd >= 0)
		close(self->e.port.mem_fd);
	if (self->e.fd >= 0)
		close(self->e.fd);
}

/*
 * Register dma-buf bytes [@off, + @len) at @iova; the device reads them,
 * then writes new bytes; exactly those bytes change in the dma-buf.
 */
static void round_trip(struct __test_metadata *_metadata, struct env *e,
		       size_t off, size_t len, __u64 iova)
{
	unsigned char *got = malloc(len), *want = malloc(len);
	unsigned char *before = malloc(e->size);
	struct mr_info mi;
	__u32 h, key;

	ASSERT_NE(NULL, got);
	ASSERT_NE(NULL, want);
	ASSERT_NE(NULL, before);
	cpu_fill(e->dbuf, e->cpu, e->size, len);
	uv_reg_dmabuf_mr(e->fd, e->pd, e->dbuf, off, len, iova, RW,
			 &h, &key);
	ASSERT_EQ(0, mr_info(&e->port, key, &mi));
	EXPECT_STREQ("valid", mi.state);
	if (e->iommu) {
		/* The exporter's mapping is one IOVA range: one entry. */
		EXPECT_STREQ("range", mi.mode);
		EXPECT_EQ(1, mi.entries);
	}

	ASSERT_EQ(0, dev_rw(&e->port, key, iova, got, len, false));
	cpu_sync(e->dbuf, true);
	EXPECT_EQ(0, memcmp(got, e->cpu + off, len));
	memcpy(before, e->cpu, e->size);
	cpu_sync(e->dbuf, false);

	fill(want, len, len + 1);
	ASSERT_EQ(0, dev_rw(&e->port, key, iova, want, len, true));
	cpu_sync(e->dbuf, true);
	EXPECT_EQ(0, memcmp(e->cpu + off, want, len));
	EXPECT_EQ(0, memcmp(e->cpu, before, off));
	EXPECT_EQ(0, memcmp(e->cpu + off + len, before + off + len,
			    e->size - off - len));
	cpu_sync(e->dbuf, false);

	/* Not a byte outside the MR. */
	EXPECT_EQ(ERANGE, dev_rw(&e->port, key, iova - 1, got, 1, false));
	EXPECT_EQ(ERANGE, dev_rw(&e->port, key, iova + len, got, 1, true));
	uv_dereg_mr(e->fd, h);
	EXPECT_EQ(ENOENT, dev_rw(&e->port, key, iova, got, 1, false));
	free(got);
	free(want);
	free(before);
}

TEST_F(demo_dmabuf, whole_buffer)
{
	round_trip(_metadata, &self->e, 0, self->e.size, 0x7f0000000000ULL);
}

/* The MR starts and ends inside pages; its iova shares the page offset. */
TEST_F(demo_dmabuf, offset_and_partial_range)
{
	round_trip(_metadata, &self->e, 3 * PG + 100, 5 * PG + 17,
		   0x10000000ULL + 100);
	round_trip(_metadata, &self->e, self->e.size - PG, PG, 0x20000000ULL);
	round_trip(_metadata, &self->e, 17, 1, 17);
}

/* Two MRs over one dma-buf, overlapping: each sees the same bytes. */
TEST_F(demo_dmabuf, two_mrs_one_buffer)
{
	unsigned char a[64], b[64];
	__u32 h1, h2, k1, k2;

	cpu_fill(self->e.dbuf, self->e.cpu, self->e.size, 5);
	uv_reg_dmabuf_mr(self->e.fd, self->e.pd, self->e.dbuf, 0, 8 * PG, 0, RW,
			 &h1, &k1);
	uv_reg_dmabuf_mr(self->e.fd, self->e.pd, self->e.dbuf, 4 * PG, 8 * PG,
			 0x100000, RW, &h2, &k2);
	ASSERT_NE(k1, k2);
	fill(a, sizeof(a), 9);
	ASSERT_EQ(0, dev_rw(&self->e.port, k1, 6 * PG, a, sizeof(a), true));
	ASSERT_EQ(0, dev_rw(&self->e.port, k2, 0x100000 + 2 * PG, b, sizeof(b),
			    false));
	EXPECT_EQ(0, memcmp(a, b, sizeof(a)));
	uv_dereg_mr(self->e.fd, h1);
	/* The other MR keeps its own attachment and mapping. */
	ASSERT_EQ(0, dev_rw(&self->e.port, k2, 0x100000 + 2 * PG, b, sizeof(b),
			    false));
	EXPECT_EQ(0, memcmp(a, b, sizeof(a)));
	uv_dereg_mr(self->e.fd, h2);
}

/*
 * A udmabuf made of several memfd ranges, in another order than the
 * memfd's: the device must see the dma-buf's order.
 */
TEST_F(demo_dmabuf, multi_range_export)
{
	static const __u64 offs[] = { 40 * PG, 0, 20 * PG }, sizes[] = {
		3 * PG, 2 * PG, 5 * PG };
	const size_t len = 10 * PG;
	unsigned char *got = malloc(len), *mem;
	__u32 h, key;
	int dbuf, i;
	size_t at = 0;

	if (variant->exporter != UDMABUF)
		SKIP(return, "only udmabuf exports lists of ranges");
	ASSERT_NE(NULL, got);
	mem = mmap(NULL, self->e.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->memfd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	fill(mem, self->e.size, 77);
	dbuf = udmabuf_list(self->memfd, offs, sizes, 3);
	ASSERT_LE(0, dbuf);
	uv_reg_dmabuf_mr(self->e.fd, self->e.pd, dbuf, 0, len, 0x40000000ULL, RW,
			 &h, &key);
	ASSERT_EQ(0, dev_rw(&self->e.port, key, 0x40000000ULL, got, len, false));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, memcmp(got + at, mem + offs[i], sizes[i]));
		at += sizes[i];
	}
	/* A write across the seam of the first two ranges. */
	fill(got, 2 * PG, 3);
	ASSERT_EQ(0, dev_rw(&self->e.port, key, 0x40000000ULL + 2 * PG, got,
			    2 * PG, true));
	EXPECT_EQ(0, memcmp(mem + 42 * PG, got, PG));
	EXPECT_EQ(0, memcmp(mem, got + PG, PG));
	uv_dereg_mr(self->e.fd, h);
	close(dbuf);
	munmap(mem, self->e.size);
	free(got);
}

/* The MR holds the dma-buf: closing and unmapping it changes nothing. */
TEST_F(demo_dmabuf, buffer_closed_after_reg)
{
	unsigned char a[256], b[256];
	__u32 h, key;

	uv_reg_dmabuf_mr(self->e.fd, self->e.pd, self->e.dbuf, PG, 4 * PG, PG, RW,
			 &h, &key);
	munmap(self->e.cpu, self->e.size);
	self->e.cpu = NULL;
	close(self->e.dbuf);
	self->e.dbuf = -1;
	fill(a, sizeof(a), 1);
	ASSERT_EQ(0, dev_rw(&self->e.port, key, 2 * PG, a, sizeof(a), true));
	ASSERT_EQ(0, dev_rw(&self->e.port, key, 2 * PG, b, sizeof(b), false));
	EXPECT_EQ(0, memcmp(a, b, sizeof(a)));
	uv_dereg_mr(self->e.fd, h);
}

/* Bad input: a clean errno, and nothing left in the device. */
TEST_F(demo_dmabuf, bad_input)
{
	int closed = dup(self->e.dbuf);

	ASSERT_LE(0, closed);
	close(closed);
	/* Not a file, not a dma-buf. */
	uv_err_reg_dmabuf_mr(EBADF, self->e.fd, self->e.pd, closed, 0, PG, 0, RW);
	uv_err_reg_dmabuf_mr(EBADF, self->e.fd, self->e.pd, -1, 0, PG, 0, RW);
	uv_err_reg_dmabuf_mr(EINVAL, self->e.fd, self->e.pd, self->e.fd, 0, PG, 0,
			     RW);
	/* Past the end, empty, wrapping. */
	uv_err_reg_dmabuf_mr(EINVAL, self->e.fd, self->e.pd, self->e.dbuf, 0,
			     self->e.size + PG, 0, RW);
	uv_err_reg_dmabuf_mr(EINVAL, self->e.fd, self->e.pd, self->e.dbuf,
			     self->e.size - PG, 2 * PG, 0, RW);
	uv_err_reg_dmabuf_mr(EINVAL, self->e.fd, self->e.pd, self->e.dbuf,
			     self->e.size, PG, 0, RW);
	uv_err_reg_dmabuf_mr(EINVAL, self->e.fd, self->e.pd, self->e.dbuf, 0, 0, 0,
			     RW);
	uv_err_reg_dmabuf_mr(EINVAL, self->e.fd, self->e.pd, self->e.dbuf, -PG, PG,
			     0, RW);
	/* The iova must share the offset's place in its page. */
	uv_err_reg_dmabuf_mr(EINVAL, self->e.fd, self->e.pd, self->e.dbuf, 100, PG,
			     0, RW);
	/* Access the device cannot give, or the core refuses. */
	uv_err_reg_dmabuf_mr(EOPNOTSUPP, self->e.fd, self->e.pd, self->e.dbuf, 0,
			     PG, 0, RW | IB_UVERBS_ACCESS_REMOTE_ATOMIC);
	uv_err_reg_dmabuf_mr(EINVAL, self->e.fd, self->e.pd, self->e.dbuf, 0, PG, 0,
			     IB_UVERBS_ACCESS_REMOTE_WRITE);
	uv_err_reg_dmabuf_mr(EINVAL, self->e.fd, self->e.pd, self->e.dbuf, 0, PG, 0,
			     IB_UVERBS_ACCESS_MW_BIND);
	/* A PD that does not exist. */
	uv_err_reg_dmabuf_mr(ENOENT, self->e.fd, self->e.pd + 100, self->e.dbuf, 0,
			     PG, 0, RW);
	EXPECT_EQ(self->mrs, mr_count(&self->e.port));
}

/* A read-only MR: the device reads, and refuses to write. */
TEST_F(demo_dmabuf, read_only)
{
	unsigned char b[64];
	__u32 h, key;

	cpu_fill(self->e.dbuf, self->e.cpu, self->e.size, 2);
	uv_reg_dmabuf_mr(self->e.fd, self->e.pd, self->e.dbuf, 0, PG, 0, 0, &h,
			 &key);
	ASSERT_EQ(0, dev_rw(&self->e.port, key, 0, b, sizeof(b), false));
	cpu_sync(self->e.dbuf, true);
	EXPECT_EQ(0, memcmp(b, self->e.cpu, sizeof(b)));
	cpu_sync(self->e.dbuf, false);
	EXPECT_EQ(EACCES, dev_rw(&self->e.port, key, 0, b, sizeof(b), true));
	uv_dereg_mr(self->e.fd, h);
}

/* A process that exits with dma-buf MRs leaves nothing behind. */
TEST_F(demo_dmabuf, exit_with_mrs)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (!pid) {
		char ibdev[64];
		__u32 pd, h, key;
		int fd = uv_open_demo(variant->bus, 0, ibdev, sizeof(ibdev));

		if (fd < 0 || _uv_get_context(fd, NULL, NULL) ||
		    _uv_alloc_pd(fd, &pd))
			_exit(1);
		for (int i = 0; i < 4; i++)
			if (_uv_reg_dmabuf_mr(fd, pd, self->e.dbuf, i * PG, PG,
					      0, RW, &h, &key))
				_exit(2);
		_exit(mr_count(&self->e.port) == self->mrs + 4 ? 0 : 3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(self->mrs, mr_count(&self->e.port));
}

/* Write @val to a sysfs or procfs file. */
static int write_ulong(const char *path, unsigned long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lu", val);
	return uv_write_file(path, buf);
}

static long read_ulong(const char *path)
{
	unsigned long val;
	FILE *f = fopen(path, "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%lu", &val);
	fclose(f);
	return n == 1 ? (long)val : -1;
}

#define HUGE_SZ (2UL << 20)
#define NR_HUGE "/proc/sys/vm/nr_hugepages"
#define FREE_HUGE "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"

/*
 * A dma-buf whose memory is physically contiguous well beyond 64 KiB: a
 * udmabuf over a hugetlb memfd (one 2 MiB folio), or 1 MiB chunks of the
 * system heap. Every mapping of it must be built within its device's
 * maximum DMA segment size: udmabuf's CPU access maps it for the udmabuf
 * misc device, which allows 64 KiB (DMA-API debug reports longer
 * segments, and swiotlb=force cannot bounce them); the HCA says it takes
 * any length. Without those, the kernel log check of the run fails.
 */
TEST_F(demo_dmabuf, large_segments)
{
	long nr_huge = read_ulong(NR_HUGE);
	struct env big = self->e;
	int memfd = -1;

	if (variant->exporter == UDMABUF) {
		const __u64 off = 0, size = HUGE_SZ;

		if (nr_huge < 0 || write_ulong(NR_HUGE, nr_huge + 1))
			SKIP(return, "cannot reserve a huge page (" NR_HUGE ")");
		if (read_ulong(FREE_HUGE) < 1) {
			write_ulong(NR_HUGE, nr_huge);
			SKIP(return, "no free 2 MiB huge page");
		}
		memfd = memfd_create("demo_dmabuf_huge", MFD_HUGETLB |
				     MFD_ALLOW_SEALING | MFD_CLOEXEC);
		if (memfd < 0 || ftruncate(memfd, HUGE_SZ) ||
		    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
			if (memfd >= 0)
				close(memfd);
			write_ulong(NR_HUGE, nr_huge);
			SKIP(return, "no hugetlb memfd (CONFIG_HUGETLBFS)");
		}
		big.dbuf = udmabuf_list(memfd, &off, &size, 1);
	} else {
		big.dbuf = heap_alloc(HUGE_SZ);
	}
	ASSERT_LE(0, big.dbuf);
	big.size = HUGE_SZ;
	big.cpu = map_dbuf(big.dbuf, big.size);
	ASSERT_NE(NULL, big.cpu);

	/* The exporter's CPU access maps the buffer for its own device. */
	ASSERT_EQ(0, cpu_sync(big.dbuf, true));
	fill(big.cpu, big.size, 11);
	ASSERT_EQ(0, cpu_sync(big.dbuf, false));

	/* The HCA's mapping: byte-exact, whole and across the chunks. */
	if (!self->e.bounce) {
		round_trip(_metadata, &big, 0, big.size, 0x7e0000000000ULL);
		round_trip(_metadata, &big, HUGE_SZ / 2 - PG - 8, 2 * PG + 16,
			   0x30000000ULL + ((HUGE_SZ / 2 - PG - 8) % PG));
	}

	munmap(big.cpu, big.size);
	close(big.dbuf);
	if (memfd >= 0) {
		close(memfd);
		EXPECT_EQ(0, write_ulong(NR_HUGE, nr_huge));
	}
}

/*
 * RC traffic with the dma-buf MR on one end: the peer, a second HCA (the
 * second platform HCA, or a platform HCA for the PCI variants) with an MR
 * of ordinary user memory, writes into the dma-buf and reads from it; a
 * send gathers from it and a receive lands in it. The CPU checks every
 * byte through its own mapping of the dma-buf.
 */
TEST_F(demo_dmabuf, rc_traffic)
{
	const __u64 iova = 0x7f0000000000ULL;
	struct uv_end p = { .fd = -1 }, q = { .fd = -1 };
	unsigned char *cpu = self->e.cpu, *buf;
	__u32 bh, bkey, mh, mkey;
	__u64 va;

	ASSERT_EQ(0, uv_end_open(&p, variant->bus, 0));
	ASSERT_EQ(0, uv_end_open(&q, UV_BUS_PLATFORM,
				 variant->bus == UV_BUS_PLATFORM));
	ASSERT_STRNE(p.ibdev, q.ibdev);
	buf = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	va = (uintptr_t)buf;
	uv_reg_mr(q.fd, q.pd, buf, 4 * PG, va, UV_RC_ACCESS, &mh, &mkey);
	uv_reg_dmabuf_mr(p.fd, p.pd, self->e.dbuf, 0, 4 * PG, iova,
			 UV_RC_ACCESS, &bh, &bkey);
	uv_qp_connect(&p.qp, UV_RC_ACCESS, uv_lid(q.ibdev), q.qp.qpn,
		      UV_RNR_INFINITE);
	uv_qp_connect(&q.qp, UV_RC_ACCESS, uv_lid(p.ibdev), p.qp.qpn,
		      UV_RNR_INFINITE);
	cpu_fill(self->e.dbuf, cpu, 4 * PG, 9);

	/* The peer writes page 1 of the dma-buf, then reads page 2. */
	fill(buf, 2 * PG, 1);
	uv_rc_op(_metadata, &q, &p, UV_WQE_WRITE, va, mkey, iova + PG, bkey,
		 UV_CQE_OK);
	uv_rc_op(_metadata, &q, &p, UV_WQE_READ, va + PG, mkey,
		 iova + 2 * PG, bkey, UV_CQE_OK);
	ASSERT_EQ(0, cpu_sync(self->e.dbuf, true));
	EXPECT_EQ(0, memcmp(cpu + PG, buf, PG));
	EXPECT_EQ(0, memcmp(buf + PG, cpu + 2 * PG, PG));
	ASSERT_EQ(0, cpu_sync(self->e.dbuf, false));

	/* A send gathers page 2; the peer's send lands in page 3. */
	uv_rc_op(_metadata, &p, &q, UV_WQE_SEND, iova + 2 * PG, bkey,
		 va + 2 * PG, mkey, UV_CQE_OK);
	fill(buf + 3 * PG, PG, 3);
	uv_rc_op(_metadata, &q, &p, UV_WQE_SEND, va + 3 * PG, mkey,
		 iova + 3 * PG, bkey, UV_CQE_OK);
	ASSERT_EQ(0, cpu_sync(self->e.dbuf, true));
	EXPECT_EQ(0, memcmp(buf + 2 * PG, cpu + 2 * PG, PG));
	EXPECT_EQ(0, memcmp(cpu + 3 * PG, buf + 3 * PG, PG));
	/* Page 0 was not touched. */
	fill(buf, PG, 9);
	EXPECT_EQ(0, memcmp(cpu, buf, PG));
	ASSERT_EQ(0, cpu_sync(self->e.dbuf, false));

	uv_dereg_mr(p.fd, bh);
	uv_dereg_mr(q.fd, mh);
	uv_end_close(_metadata, &p);
	uv_end_close(_metadata, &q);
	munmap(buf, 4 * PG);
}

/* Under swiotlb=force registration fails cleanly instead of bouncing. */
TEST_F(demo_dmabuf, bounce_refused)
{
	__u32 h, key;

	if (!self->e.bounce) {
		uv_reg_dmabuf_mr(self->e.fd, self->e.pd, self->e.dbuf, 0, PG, 0,
				 RW, &h, &key);
		uv_dereg_mr(self->e.fd, h);
		return;
	}
	uv_err_reg_dmabuf_mr(EIO, self->e.fd, self->e.pd, self->e.dbuf, 0,
			     self->e.size, 0, RW);
	EXPECT_EQ(self->mrs, mr_count(&self->e.port));
}

TEST_HARNESS_MAIN
