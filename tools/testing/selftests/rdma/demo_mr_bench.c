// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark: register + deregister user MRs on a demo HCA, through the
 * DMA range API (ib_umem_phys) and through the scatterlist umem path, in
 * the same kernel, on the same memory. Prints figures; it is not a test.
 *
 *   demo_mr_bench [pci|platform]
 *
 * For each size it prints the time of one register + deregister on each
 * path and their ratio, the translation entries the device holds for the
 * MR, and the kernel memory the registration holds, scaled to 1 GiB
 * (MemFree before and after, so the figure includes page lists, IOMMU page
 * tables and the scatterlist or run array; below 256 MiB the figure is
 * noise and is not printed). The floor is the cost of pinning alone: the
 * same memory registered as an io_uring fixed buffer, which pins it long
 * term and maps nothing.
 */
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#include "../kselftest.h"
#include "demo_uverbs.h"

#define PG 4096UL

struct bench {
	int fd;
	__u32 pd;
	char ibdev[64];
	char dma_dev[NAME_MAX + 1];
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static long long mem_free_kb(void)
{
	long long kb = -1;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int set_backend(struct bench *b, const char *name)
{
	char path[PATH_MAX];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "/sys/kernel/debug/demo_rdma/%s/mr_backend",
		 b->dma_dev);
	f = fopen(path, "w");
	if (!f)
		return -1;
	rc = fputs(name, f) < 0;
	return fclose(f) || rc ? -1 : 0;
}

/* Translation entries the device holds for @key, from the model's table. */
static long long mr_entries(struct bench *b, __u32 key)
{
	char path[PATH_MAX], line[512];
	long long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/demo_model/%s/mrs",
		 b->dma_dev);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned int k;
		char *p = strstr(line, " entries ");

		if (sscanf(line, "key 0x%x", &k) == 1 && k == key && p)
			n = strtoll(p + 9, NULL, 0);
	}
	fclose(f);
	return n;
}

struct result {
	double us;		/* one register + deregister */
	long long entries;
	double kib_per_gib;
};

static int measure(struct bench *b, char *buf, size_t len, int iters,
		   struct result *r)
{
	long long before, after;
	__u32 h, key;
	double t0;
	int i;

	/* kernel memory held while one MR is registered */
	before = mem_free_kb();
	if (_uv_reg_mr(b->fd, b->pd, buf, len, (uintptr_t)buf,
		       IB_UVERBS_ACCESS_LOCAL_WRITE, &h, &key))
		return -1;
	after = mem_free_kb();
	r->entries = mr_entries(b, key);
	r->kib_per_gib = (double)(before - after) * (1UL << 30) / len;
	if (_uv_dereg_mr(b->fd, h))
		return -1;

	t0 = now_us();
	for (i = 0; i < iters; i++) {
		if (_uv_reg_mr(b->fd, b->pd, buf, len, (uintptr_t)buf,
			       IB_UVERBS_ACCESS_LOCAL_WRITE, &h, NULL) ||
		    _uv_dereg_mr(b->fd, h))
			return -1;
	}
	r->us = (now_us() - t0) / iters;
	return 0;
}

/* Pinning alone: an io_uring fixed buffer pins long term, maps nothing. */
static double pin_floor_us(char *buf, size_t len, int iters)
{
	struct io_uring_params p = {};
	struct iovec iov = { buf, len };
	double t0, us = -1;
	int ring, i;

	ring = syscall(__NR_io_uring_setup, 1, &p);
	if (ring < 0)
		return -1;
	t0 = now_us();
	for (i = 0; i < iters; i++) {
		if (syscall(__NR_io_uring_register, ring,
			    IORING_REGISTER_BUFFERS, &iov, 1) ||
		    syscall(__NR_io_uring_register, ring,
			    IORING_UNREGISTER_BUFFERS, NULL, 0))
			goto out;
	}
	us = (now_us() - t0) / iters;
out:
	close(ring);
	return us;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 4UL << 10, 64UL << 10, 1UL << 20,
					16UL << 20, 256UL << 20, 1UL << 30 };
	enum uv_bus bus = UV_BUS_PCI;
	struct bench b = {};
	unsigned int i;

	if (argc > 1 && !strcmp(argv[1], "platform"))
		bus = UV_BUS_PLATFORM;
	b.fd = uv_open_demo(bus, 0, b.ibdev, sizeof(b.ibdev));
	if (b.fd < 0 || uv_dma_dev_name(b.ibdev, b.dma_dev, sizeof(b.dma_dev)) ||
	    _uv_get_context(b.fd, NULL, NULL) || _uv_alloc_pd(b.fd, &b.pd)) {
		printf("# no demo HCA on %s\n", argc > 1 ? argv[1] : "pci");
		return 4;
	}
	printf("# %s (%s, %s): register + deregister one MR, 4 KiB pages\n",
	       b.ibdev, b.dma_dev,
	       uv_iommu_translates(b.ibdev) ? "IOMMU DMA domain" : "no IOMMU");
	printf("# %8s %6s %10s %10s %10s %7s %8s %8s %9s %9s\n", "size",
	       "iters", "pin_us", "phys_us", "umem_us", "ratio", "ent_phys",
	       "ent_umem", "KiB/GiB_p", "KiB/GiB_u");
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t len = sizes[i];
		int iters = len >= (256UL << 20) ? 3 :
			    len >= (16UL << 20) ? 10 : 100;
		struct result phys, umem;
		double pin;
		char *buf;

		buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (buf == MAP_FAILED) {
			printf("# %zu: no memory\n", len);
			continue;
		}
		madvise(buf, len, MADV_NOHUGEPAGE);
		pin = pin_floor_us(buf, len, iters);
		if (set_backend(&b, "phys") || measure(&b, buf, len, iters, &phys) ||
		    set_backend(&b, "umem") || measure(&b, buf, len, iters, &umem)) {
			printf("# %zu: registration failed: %s\n", len,
			       strerror(errno));
			munmap(buf, len);
			break;
		}
		printf("# %7zuK %6d %10.1f %10.1f %10.1f %7.2f %8lld %8lld",
		       len >> 10, iters, pin, phys.us, umem.us,
		       umem.us / phys.us, phys.entries, umem.entries);
		if (len >= (256UL << 20))
			printf(" %9.0f %9.0f\n", phys.kib_per_gib,
			       umem.kib_per_gib);
		else
			printf(" %9s %9s\n", "-", "-");
		fflush(stdout);
		munmap(buf, len);
	}
	set_backend(&b, "phys");
	return 0;
}
