// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark: register + deregister user MRs on a demo HCA, through ib_umem's
 * DMA range API path and through its scatterlist path (debugfs mr_backend
 * "sgl", with CONFIG_INFINIBAND_UMEM_SGL_BENCH), in the same kernel, on the
 * same memory. Prints figures; it is not a test.
 *
 *   demo_mr_bench [pci|platform]
 *
 * For each size (the last once more, "s", of pages that are not physically
 * adjacent) it prints the time of one register + deregister on each
 * path and their ratio, the time each spends above the pinning floor
 * (below) and that ratio, the translation entries the device holds for the
 * MR, and the kernel memory the registration holds, scaled to 1 GiB
 * (MemFree before and after, so the figure includes page lists, IOMMU page
 * tables and the scatterlist or run array; below 256 MiB the figure is
 * noise and is not printed). The floor is the cost of pinning alone: the
 * same memory registered as an io_uring fixed buffer, which pins it long
 * term and maps nothing. Each iteration times the floor and both paths
 * one after the other, and each figure is the median over the iterations
 * (a ratio: the median of the iterations' ratios), so that a moment the
 * host takes the CPU away from a TCG guest moves no figure far.
 *
 * A second table counts the IOMMU work of one register + deregister on
 * each path, from tracepoints, so that it does not depend on how fast the
 * machine is: iommu_map() and iommu_unmap() calls (iommu:map, iommu:unmap)
 * and Intel IOTLB flushes (intel_iommu:cache_tag_flush_range and _np, one
 * per flushed range). Each event is counted in a tracefs instance of its
 * own, as entries plus overruns, so a full buffer still counts. Those
 * counts need no task names: while the instances exist, the top-level
 * option record-cmd is off (and then set back), so that enabling the
 * events does not register the name-recording probes on sched_switch
 * and sched_wakeup. Those probes would run on every context switch and
 * wakeup of the timed runs, and registering them patches those
 * tracepoints' call sites in code every CPU is running; a QEMU before 8.1
 * with multi-threaded TCG was seen to leave another vCPU on the
 * breakpoint of that patching (an oops in an interrupt, then a panic).
 */
#include <dirent.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

static int set_choice(struct bench *b, const char *choice, const char *name)
{
	char path[PATH_MAX];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "/sys/kernel/debug/demo_rdma/%s/%s",
		 b->dma_dev, choice);
	f = fopen(path, "w");
	if (!f)
		return -1;
	rc = fputs(name, f) < 0;
	return fclose(f) || rc ? -1 : 0;
}

static int set_backend(struct bench *b, const char *name)
{
	return set_choice(b, "mr_backend", name);
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

/* IOMMU events counted per register + deregister (the second table) */
static const char *const ev_names[] = {
	"iommu/map", "iommu/unmap",
	"intel_iommu/cache_tag_flush_range",
	"intel_iommu/cache_tag_flush_range_np",
};

#define NR_EV ARRAY_SIZE(ev_names)

/* each event's tracefs instance; "" when the event is not there */
static char ev_dir[NR_EV][256];
/* the top-level record-cmd option ev_setup() turned off, or "" */
static char rec_cmd[256];

static int write_str(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -1;
	rc = fputs(s, f) < 0;
	return fclose(f) || rc ? -1 : 0;
}

static void ev_setup(void)
{
	const char *root = "/sys/kernel/tracing";
	char path[PATH_MAX], flag[8];
	unsigned int i;

	if (access("/sys/kernel/tracing/instances", F_OK))
		root = "/sys/kernel/debug/tracing";
	/* instances take the option's value when they are made */
	snprintf(rec_cmd, sizeof(rec_cmd), "%s/options/record-cmd", root);
	if (uv_read_line(rec_cmd, flag, sizeof(flag)) || strcmp(flag, "1") ||
	    write_str(rec_cmd, "0"))
		rec_cmd[0] = 0;
	for (i = 0; i < NR_EV; i++) {
		snprintf(ev_dir[i], sizeof(ev_dir[i]),
			 "%s/instances/demo_mr_bench_%u", root, i);
		mkdir(ev_dir[i], 0700);
		/* only the counts are read: keep the buffers small */
		snprintf(path, sizeof(path), "%s/buffer_size_kb", ev_dir[i]);
		write_str(path, "8");
		snprintf(path, sizeof(path), "%s/events/%s/enable", ev_dir[i],
			 ev_names[i]);
		if (write_str(path, "1")) {
			rmdir(ev_dir[i]);
			ev_dir[i][0] = 0;
		}
	}
}

static void ev_teardown(void)
{
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < NR_EV; i++) {
		if (!ev_dir[i][0])
			continue;
		snprintf(path, sizeof(path), "%s/events/%s/enable", ev_dir[i],
			 ev_names[i]);
		write_str(path, "0");
		rmdir(ev_dir[i]);
	}
	if (rec_cmd[0])
		write_str(rec_cmd, "1");
}

/* Empty every instance's buffer (which also zeroes its counts). */
static void ev_reset(void)
{
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < NR_EV; i++) {
		if (!ev_dir[i][0])
			continue;
		snprintf(path, sizeof(path), "%s/trace", ev_dir[i]);
		write_str(path, "");
	}
}

/* Events of instance @i since ev_reset(), or -1 */
static long long ev_count(unsigned int i)
{
	char path[PATH_MAX], line[128];
	long long n = 0, v;
	struct dirent *d;
	DIR *dir;

	if (!ev_dir[i][0])
		return -1;
	snprintf(path, sizeof(path), "%s/per_cpu", ev_dir[i]);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		FILE *f;

		if (strncmp(d->d_name, "cpu", 3))
			continue;
		snprintf(path, sizeof(path), "%s/per_cpu/%s/stats", ev_dir[i],
			 d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "entries: %lld", &v) == 1 ||
			    sscanf(line, "overrun: %lld", &v) == 1)
				n += v;
		fclose(f);
	}
	closedir(dir);
	return n;
}

struct result {
	long long entries;
	double kib_per_gib;
	long long ev[NR_EV];	/* IOMMU events of one register + deregister */
};

static int measure(struct bench *b, char *buf, size_t len, struct result *r)
{
	long long before, after;
	__u32 h, key;
	int i;

	/* kernel memory held while one MR is registered */
	ev_reset();
	before = mem_free_kb();
	if (_uv_reg_mr(b->fd, b->pd, buf, len, (uintptr_t)buf,
		       IB_UVERBS_ACCESS_LOCAL_WRITE, &h, &key))
		return -1;
	after = mem_free_kb();
	r->entries = mr_entries(b, key);
	r->kib_per_gib = (double)(before - after) * (1UL << 30) / len;
	if (_uv_dereg_mr(b->fd, h))
		return -1;
	for (i = 0; i < (int)NR_EV; i++)
		r->ev[i] = ev_count(i);
	return 0;
}

/* Microseconds of one register + deregister of @buf on @backend, or -1. */
static double reg_us(struct bench *b, const char *backend, char *buf,
		     size_t len)
{
	double t0;
	__u32 h;

	if (set_backend(b, backend))
		return -1;
	t0 = now_us();
	if (_uv_reg_mr(b->fd, b->pd, buf, len, (uintptr_t)buf,
		       IB_UVERBS_ACCESS_LOCAL_WRITE, &h, NULL) ||
	    _uv_dereg_mr(b->fd, h))
		return -1;
	return now_us() - t0;
}

/*
 * Translation entries of one MR on @backend when the device takes page
 * lists only (mr_translation "pbl"), as MTT hardware does; -1 on failure.
 */
static long long pbl_entries(struct bench *b, char *buf, size_t len,
			     const char *backend)
{
	long long n = -1;
	__u32 h, key;

	if (set_backend(b, backend) || set_choice(b, "mr_translation", "pbl"))
		return -1;
	if (!_uv_reg_mr(b->fd, b->pd, buf, len, (uintptr_t)buf,
			IB_UVERBS_ACCESS_LOCAL_WRITE, &h, &key)) {
		n = mr_entries(b, key);
		_uv_dereg_mr(b->fd, h);
	}
	set_choice(b, "mr_translation", "auto");
	return n;
}

/*
 * @len bytes of 4 KiB pages of which no two are physically adjacent, as
 * far as the page allocator allows: each page is faulted in right after a
 * page of a second buffer, which is then freed.
 */
static char *map_scattered(size_t len)
{
	char *buf, *other;
	size_t i;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	other = mmap(NULL, len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || other == MAP_FAILED) {
		if (buf != MAP_FAILED)
			munmap(buf, len);
		if (other != MAP_FAILED)
			munmap(other, len);
		return MAP_FAILED;
	}
	madvise(buf, len, MADV_NOHUGEPAGE);
	madvise(other, len, MADV_NOHUGEPAGE);
	for (i = 0; i < len; i += PG) {
		buf[i] = 1;
		other[i] = 1;
	}
	munmap(other, len);
	return buf;
}

/*
 * Microseconds of pinning alone, or -1: an io_uring fixed buffer on @ring
 * pins long term and maps nothing.
 */
static double pin_us(int ring, char *buf, size_t len)
{
	struct iovec iov = { buf, len };
	double t0 = now_us();

	if (syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS,
		    &iov, 1) ||
	    syscall(__NR_io_uring_register, ring, IORING_UNREGISTER_BUFFERS,
		    NULL, 0))
		return -1;
	return now_us() - t0;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MAX_ITERS 100

/* Medians over @iters iterations of the floor and both paths, each once. */
struct timing {
	double pin, rng, sgl, ratio, above_rng, above_sgl, above_ratio;
};

static int time_paths(struct bench *b, char *buf, size_t len, int iters,
		      struct timing *t)
{
	static double v[7][MAX_ITERS];
	struct io_uring_params p = {};
	int ring, i;

	ring = syscall(__NR_io_uring_setup, 1, &p);
	if (ring < 0)
		return -1;
	for (i = 0; i < iters; i++) {
		v[0][i] = pin_us(ring, buf, len);
		v[1][i] = reg_us(b, "umem", buf, len);
		v[2][i] = reg_us(b, "sgl", buf, len);
		if (v[0][i] < 0 || v[1][i] < 0 || v[2][i] < 0) {
			close(ring);
			return -1;
		}
		v[3][i] = v[2][i] / v[1][i];
		v[4][i] = v[1][i] - v[0][i];
		v[5][i] = v[2][i] - v[0][i];
		v[6][i] = v[4][i] > 0 ? v[5][i] / v[4][i] : 0;
	}
	close(ring);
	t->pin = median(v[0], iters);
	t->rng = median(v[1], iters);
	t->sgl = median(v[2], iters);
	t->ratio = median(v[3], iters);
	t->above_rng = median(v[4], iters);
	t->above_sgl = median(v[5], iters);
	t->above_ratio = median(v[6], iters);
	return 0;
}

int main(int argc, char **argv)
{
	/* the last size again, of scattered pages (the "s" line) */
	static const size_t sizes[] = { 4UL << 10, 64UL << 10, 1UL << 20,
					16UL << 20, 256UL << 20, 1UL << 30,
					256UL << 20 };
	static long long evs[ARRAY_SIZE(sizes)][2][NR_EV];
	static long long pbl[ARRAY_SIZE(sizes)][2];
	enum uv_bus bus = UV_BUS_PCI;
	struct bench b = {};
	unsigned int i, n = 0, e;

	if (argc > 1 && !strcmp(argv[1], "platform"))
		bus = UV_BUS_PLATFORM;
	b.fd = uv_open_demo(bus, 0, b.ibdev, sizeof(b.ibdev));
	if (b.fd < 0 || uv_dma_dev_name(b.ibdev, b.dma_dev, sizeof(b.dma_dev)) ||
	    _uv_get_context(b.fd, NULL, NULL) || _uv_alloc_pd(b.fd, &b.pd)) {
		printf("# no demo HCA on %s\n", argc > 1 ? argv[1] : "pci");
		return 4;
	}
	ev_setup();
	printf("# %s (%s, %s): register + deregister one MR, 4 KiB pages\n",
	       b.ibdev, b.dma_dev,
	       uv_iommu_translates(b.ibdev) ? "IOMMU DMA domain" : "no IOMMU");
	printf("# %8s %5s %9s %9s %9s %6s %9s %9s %6s %9s %8s %9s %9s\n",
	       "size", "iters", "pin_us", "range_us", "sgl_us", "ratio",
	       "above_r", "above_s", "ratio", "ent_range", "ent_sgl",
	       "KiB/GiB_r", "KiB/GiB_s");
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t len = sizes[i];
		int iters = len >= (256UL << 20) ? 5 :
			    len >= (16UL << 20) ? 10 : MAX_ITERS;
		struct result rng, sgl;
		struct timing t;
		char *buf;

		bool scattered = i == ARRAY_SIZE(sizes) - 1;

		if (scattered) {
			buf = map_scattered(len);
		} else {
			buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (buf != MAP_FAILED) {
				/* 4 KiB pages, however THP is set */
				madvise(buf, len, MADV_NOHUGEPAGE);
				memset(buf, 1, len);
			}
		}
		if (buf == MAP_FAILED) {
			printf("# %zu: no memory\n", len);
			continue;
		}
		if (set_backend(&b, "umem") || measure(&b, buf, len, &rng) ||
		    set_backend(&b, "sgl") || measure(&b, buf, len, &sgl) ||
		    time_paths(&b, buf, len, iters, &t)) {
			printf("# %zu: registration failed: %s\n", len,
			       strerror(errno));
			munmap(buf, len);
			break;
		}
		printf("# %7zuK%c%5d %9.1f %9.1f %9.1f %6.2f %9.1f %9.1f %6.2f %9lld %8lld",
		       len >> 10, scattered ? 's' : ' ', iters, t.pin, t.rng,
		       t.sgl, t.ratio, t.above_rng, t.above_sgl, t.above_ratio,
		       rng.entries, sgl.entries);
		if (len >= (256UL << 20))
			printf(" %9.0f %9.0f\n", rng.kib_per_gib,
			       sgl.kib_per_gib);
		else
			printf(" %9s %9s\n", "-", "-");
		fflush(stdout);
		memcpy(evs[i][0], rng.ev, sizeof(rng.ev));
		memcpy(evs[i][1], sgl.ev, sizeof(sgl.ev));
		pbl[i][0] = pbl_entries(&b, buf, len, "umem");
		pbl[i][1] = pbl_entries(&b, buf, len, "sgl");
		n = i + 1;
		munmap(buf, len);
	}
	set_backend(&b, "umem");
	ev_teardown();
	printf("# IOMMU work of one register + deregister (-1: no such event),\n"
	       "# and the translation entries of a device that takes page lists only\n");
	printf("# %8s %9s %9s %9s %9s %9s %9s %9s %9s\n", "size", "map_range",
	       "map_sgl", "unmap_rng", "unmap_sgl", "flush_rng", "flush_sgl",
	       "pbl_range", "pbl_sgl");
	for (i = 0; i < n; i++) {
		long long f[2];

		for (e = 0; e < 2; e++)
			f[e] = evs[i][e][2] < 0 ? -1 :
			       evs[i][e][2] + (evs[i][e][3] < 0 ? 0 : evs[i][e][3]);
		printf("# %7zuK%c%9lld %9lld %9lld %9lld %9lld %9lld %9lld %9lld\n",
		       sizes[i] >> 10, i == ARRAY_SIZE(sizes) - 1 ? 's' : ' ',
		       evs[i][0][0], evs[i][1][0],
		       evs[i][0][1], evs[i][1][1], f[0], f[1], pbl[i][0],
		       pbl[i][1]);
	}
	return 0;
}
