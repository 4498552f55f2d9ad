// SPDX-License-Identifier: GPL-2.0-only
/*
 * dma-buf MRs over another PCI device's memory (peer-to-peer MMIO), and
 * an exporter that takes its memory back.
 *
 * vfio-pci exports a memory BAR of a QEMU ivshmem-plain function as a
 * dma-buf (VFIO_DEVICE_FEATURE_DMA_BUF). It accepts only importers that can
 * be revoked, and revokes when PCI memory decode is turned off or the
 * device is closed; the revoke returns only once every importer has given
 * its mapping back. A test registers the dma-buf, has the demo device move
 * bytes through the MR with the device model's test port, and checks them
 * through the CPU's mapping of the BAR. When the exporter revokes, a
 * dynamic MR misses and, if the memory comes back, maps it again; a
 * pinned revocable MR is revoked for good. Either way the device must
 * never touch the BAR once the revoke has returned: a BAR with decode off
 * reads as all ones, so a read the device let through would show it.
 *
 * Needs an ivshmem-plain function, named by DEMO_P2P_DEV (in QEMU:
 * -device ivshmem-plain), and a path for peer-to-peer DMA between it and
 * the demo HCA. The program binds the function to vfio-pci, in no-IOMMU
 * mode if it has no IOMMU, and gives both back at exit.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "demo_uverbs.h"

#define PG 4096UL
#define RW (IB_UVERBS_ACCESS_LOCAL_WRITE)
#define SHM_BAR 2
#define IOVA 0x50000000ULL

struct vfio {
	char bdf[32];
	int container, group, device;
	__u64 cfg_off;		/* config space region */
	__u64 bar_off, bar_size;
	unsigned char *bar;	/* the CPU's mapping of the BAR */
};

FIXTURE(demo_p2p) {
	int fd;
	__u32 pd;
	char ibdev[64];
	struct port port;
	struct vfio v;
	int mrs;
	bool bounce;		/* swiotlb=force */
};

FIXTURE_VARIANT(demo_p2p) {
	enum uv_bus bus;
	const char *import;
};

FIXTURE_VARIANT_ADD(demo_p2p, pci_dynamic) {
	.bus = UV_BUS_PCI, .import = "dynamic",
};

FIXTURE_VARIANT_ADD(demo_p2p, pci_revocable) {
	.bus = UV_BUS_PCI, .import = "revocable",
};

FIXTURE_VARIANT_ADD(demo_p2p, platform_dynamic) {
	.bus = UV_BUS_PLATFORM, .import = "dynamic",
};

#define NOIOMMU_KNOB "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"

/*
 * The ivshmem-plain function (1af4:1110) the tests export, named by
 * DEMO_P2P_DEV; bound to vfio-pci before main() and given back at exit.
 */
static struct {
	pid_t owner;
	char bdf[32];
	const char *why;	/* why there is none: the tests' skip reason */
	bool rebound;		/* we bound it to vfio-pci */
	bool knob;		/* we turned vfio's no-IOMMU mode on */
} p2p = { .why = "no ivshmem-plain function: DEMO_P2P_DEV names none" };

static void p2p_give_back(void)
{
	char path[PATH_MAX];

	if (getpid() != p2p.owner)
		return;
	if (p2p.rebound) {
		uv_write_file("/sys/bus/pci/drivers/vfio-pci/unbind", p2p.bdf);
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver_override", p2p.bdf);
		uv_write_file(path, "\n");
		uv_write_file("/sys/bus/pci/drivers_probe", p2p.bdf);
	}
	if (p2p.knob)
		uv_write_file(NOIOMMU_KNOB, "0");
}

/*
 * Bind the function to vfio-pci; in no-IOMMU mode if it has no IOMMU
 * group. vfio then gives it a group of its own, which only the
 * /dev/vfio/noiommu-<group> node tells from an IOMMU group.
 */
static void __attribute__((constructor)) p2p_bind(void)
{
	char path[PATH_MAX], link[PATH_MAX], id[32], knob[8] = "";
	const char *bdf = getenv("DEMO_P2P_DEV");

	if (!bdf || geteuid())
		return;
	snprintf(p2p.bdf, sizeof(p2p.bdf), "%s", bdf);
	p2p.why = "DEMO_P2P_DEV is not an ivshmem-plain PCI function";
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", bdf);
	if (uv_read_line(path, id, sizeof(id)) || strcmp(id, "0x1af4"))
		goto none;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", bdf);
	if (uv_read_line(path, id, sizeof(id)) || strcmp(id, "0x1110"))
		goto none;
	p2p.why = "could not bind DEMO_P2P_DEV to vfio-pci";
	p2p.owner = getpid();
	atexit(p2p_give_back);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	if (!strcmp(uv_link_base(path, link, sizeof(link)), "vfio-pci"))
		return;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	if (access(path, F_OK) &&
	    (uv_read_line(NOIOMMU_KNOB, knob, sizeof(knob)) ||
	     strcmp(knob, "Y"))) {
		if (uv_write_file(NOIOMMU_KNOB, "1"))
			goto none;
		p2p.knob = true;
	}
	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/driver_override", bdf);
	if (uv_write_file(path, "vfio-pci"))
		goto none;
	p2p.rebound = true;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind",
		 bdf);
	uv_write_file(path, bdf);
	if (!uv_write_file("/sys/bus/pci/drivers_probe", bdf))
		return;
none:
	p2p.bdf[0] = 0;
}

static int region(struct vfio *v, __u32 index, __u64 *off, __u64 *size)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = index };

	if (ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &info))
		return -1;
	*off = info.offset;
	if (size)
		*size = info.size;
	return 0;
}

static int vfio_open(struct vfio *v)
{
	char path[PATH_MAX], link[PATH_MAX];
	bool noiommu;
	int grp;

	v->container = -1;
	v->group = -1;
	v->device = -1;
	snprintf(v->bdf, sizeof(v->bdf), "%s", p2p.bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 v->bdf);
	grp = atoi(uv_link_base(path, link, sizeof(link)));
	snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d", grp);
	noiommu = !access(path, F_OK);
	if (!noiommu)
		snprintf(path, sizeof(path), "/dev/vfio/%d", grp);
	v->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	v->group = open(path, O_RDWR | O_CLOEXEC);
	if (v->container < 0 || v->group < 0 ||
	    ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container) ||
	    ioctl(v->container, VFIO_SET_IOMMU,
		  noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU))
		return -1;
	v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, v->bdf);
	if (v->device < 0 ||
	    region(v, VFIO_PCI_CONFIG_REGION_INDEX, &v->cfg_off, NULL) ||
	    region(v, SHM_BAR, &v->bar_off, &v->bar_size))
		return -1;
	v->bar = mmap(NULL, v->bar_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->device, v->bar_off);
	return v->bar == MAP_FAILED ? -1 : 0;
}

static void vfio_close(struct vfio *v)
{
	if (v->bar && v->bar != MAP_FAILED)
		munmap(v->bar, v->bar_size);
	v->bar = NULL;
	if (v->device >= 0)
		close(v->device);
	if (v->group >= 0)
		close(v->group);
	if (v->container >= 0)
		close(v->container);
	v->device = -1;
	v->group = -1;
	v->container = -1;
}

/* PCI memory decode on or off: off revokes the BAR's dma-bufs. */
static int set_decode(struct vfio *v, bool on)
{
	__u16 cmd;

	if (pread(v->device, &cmd, 2, v->cfg_off + PCI_COMMAND) != 2)
		return -1;
	cmd = on ? cmd | PCI_COMMAND_MEMORY : cmd & ~PCI_COMMAND_MEMORY;
	return pwrite(v->device, &cmd, 2, v->cfg_off + PCI_COMMAND) == 2 ?
	       0 : -1;
}

/* Export BAR ranges as one dma-buf; returns its fd or -errno. */
static int export_bar(struct vfio *v, const __u64 *offs, const __u64 *lens,
		      int n)
{
	size_t sz = sizeof(struct vfio_device_feature) +
		    sizeof(struct vfio_device_feature_dma_buf) +
		    n * sizeof(struct vfio_region_dma_range);
	struct vfio_device_feature *feat = calloc(1, sz);
	struct vfio_device_feature_dma_buf *db;
	int i, ret;

	if (!feat)
		return -ENOMEM;
	feat->argsz = sz;
	feat->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_BUF;
	db = (void *)feat->data;
	db->region_index = SHM_BAR;
	db->open_flags = O_RDWR | O_CLOEXEC;
	db->nr_ranges = n;
	for (i = 0; i < n; i++) {
		db->dma_ranges[i].offset = offs[i];
		db->dma_ranges[i].length = lens[i];
	}
	ret = ioctl(v->device, VFIO_DEVICE_FEATURE, feat);
	ret = ret < 0 ? -errno : ret;
	free(feat);
	return ret;
}

static int export_all(struct vfio *v, __u64 off, __u64 len)
{
	return export_bar(v, &off, &len, 1);
}

FIXTURE_SETUP(demo_p2p)
{
	self->port.mem_fd = -1;
	self->v.container = -1;
	self->v.group = -1;
	self->v.device = -1;
	self->fd = uv_open_demo(variant->bus, 0, self->ibdev,
				sizeof(self->ibdev));
	if (self->fd < 0)
		SKIP(return, "%s", uv_no_hca_why(variant->bus));
	if (port_init(&self->port, self->ibdev))
		SKIP(return, "no device model test port (debugfs)");
	if (!p2p.bdf[0])
		SKIP(return, "%s", p2p.why);
	ASSERT_EQ(0, vfio_open(&self->v));
	ASSERT_EQ(0, set_decode(&self->v, true));
	ASSERT_EQ(0, uv_set_dmabuf_import(self->ibdev, variant->import));
	uv_get_context(self->fd, NULL, NULL);
	uv_alloc_pd(self->fd, &self->pd);
	self->mrs = mr_count(&self->port);
	ASSERT_LE(0, self->mrs);
	self->bounce = uv_cmdline_has("swiotlb=force");
}

FIXTURE_TEARDOWN(demo_p2p)
{
	if (self->port.mem_fd >= 0)
		EXPECT_EQ(self->mrs, mr_count(&self->port));
	vfio_close(&self->v);
	if (self->port.mem_fd >= 0)
		close(self->port.mem_fd);
	if (self->fd >= 0)
		close(self->fd);
}

#define IS_PLATFORM (variant->bus == UV_BUS_PLATFORM)
#define DYNAMIC (!strcmp(variant->import, "dynamic"))

/*
 * The platform HCA is not a PCI function: no peer-to-peer path to the BAR,
 * the exporter refuses to map for it (EINVAL). Under swiotlb=force every
 * mapping must bounce and MMIO cannot: dma_map_phys() fails (ENOMEM).
 * Either way registration fails cleanly.
 */
static bool no_p2p(struct __test_metadata *_metadata, int fd, __u32 pd,
		   struct port *port, int mrs, int dbuf, int err)
{
	uv_err_reg_dmabuf_mr(err, fd, pd, dbuf, 0, PG, 0, RW);
	EXPECT_EQ(mrs, mr_count(port));
	return true;
}

#define NO_P2P(dbuf) \
	((IS_PLATFORM || self->bounce) && \
	 no_p2p(_metadata, self->fd, self->pd, &self->port, self->mrs, dbuf, \
		IS_PLATFORM ? EINVAL : ENOMEM))

/* A test that cannot run on such an HCA skips, with the refusal checked. */
#define NO_P2P_WHY \
	(IS_PLATFORM ? "no peer-to-peer path from a platform HCA (EINVAL checked)" : \
		       "swiotlb=force: MMIO cannot bounce (ENOMEM checked)")

/* The device moves BAR bytes through the MR; the CPU sees the same. */
TEST_F(demo_p2p, round_trip)
{
	const size_t len = 16 * PG;
	unsigned char *got = malloc(len), *want = malloc(len);
	struct mr_info mi;
	__u32 h, key;
	int dbuf;

	ASSERT_NE(NULL, got);
	ASSERT_NE(NULL, want);
	fill(self->v.bar, len + 2 * PG, 11);
	dbuf = export_all(&self->v, 0, len + 2 * PG);
	ASSERT_LE(0, dbuf);
	if (NO_P2P(dbuf))
		SKIP(goto out, "%s", NO_P2P_WHY);
	uv_reg_dmabuf_mr(self->fd, self->pd, dbuf, PG + 8, len, IOVA + 8, RW,
			 &h, &key);
	ASSERT_EQ(0, mr_info(&self->port, key, &mi));
	EXPECT_STREQ("range", mi.mode);
	EXPECT_STREQ("valid", mi.state);
	ASSERT_EQ(0, dev_rw(&self->port, key, IOVA + 8, got, len, false));
	EXPECT_EQ(0, memcmp(got, self->v.bar + PG + 8, len));
	fill(want, len, 12);
	ASSERT_EQ(0, dev_rw(&self->port, key, IOVA + 8, want, len, true));
	EXPECT_EQ(0, memcmp(self->v.bar + PG + 8, want, len));
	uv_dereg_mr(self->fd, h);
out:
	close(dbuf);
	free(got);
	free(want);
}

/*
 * A dma-buf of BAR ranges in another order than the BAR's: every range
 * must land at its own place in the MR, also when the exporter maps them
 * into one IOVA range.
 */
TEST_F(demo_p2p, multi_range_export)
{
	static const __u64 offs[] = { 8 * PG, 0, 3 * PG },
		lens[] = { 2 * PG, PG, 4 * PG };
	const size_t len = 7 * PG;
	unsigned char *got = malloc(len);
	size_t at = 0;
	__u32 h, key;
	int dbuf, i;

	ASSERT_NE(NULL, got);
	fill(self->v.bar, 12 * PG, 21);
	dbuf = export_bar(&self->v, offs, lens, 3);
	ASSERT_LE(0, dbuf);
	if (NO_P2P(dbuf))
		SKIP(goto out, "%s", NO_P2P_WHY);
	uv_reg_dmabuf_mr(self->fd, self->pd, dbuf, 0, len, IOVA, RW, &h, &key);
	ASSERT_EQ(0, dev_rw(&self->port, key, IOVA, got, len, false));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, memcmp(got + at, self->v.bar + offs[i], lens[i]))
			TH_LOG("range %d (BAR offset 0x%llx) differs", i,
			       (unsigned long long)offs[i]);
		at += lens[i];
	}
	uv_dereg_mr(self->fd, h);
out:
	close(dbuf);
	free(got);
}

/*
 * The exporter takes the memory back while the MR is idle. The revoke
 * returns (the importer gave its mapping back), and the device cannot
 * reach the BAR any more. Dynamic: the access misses, the mapping is
 * refused, the MR is revoked. Revocable: revoked at once.
 */
TEST_F(demo_p2p, revoke_idle)
{
	long long misses = uv_counter(self->ibdev, "mr_misses");
	unsigned char b[64];
	struct mr_info mi;
	__u32 h, key;
	int dbuf;

	dbuf = export_all(&self->v, 0, 4 * PG);
	ASSERT_LE(0, dbuf);
	if (NO_P2P(dbuf))
		SKIP(goto out, "%s", NO_P2P_WHY);
	uv_reg_dmabuf_mr(self->fd, self->pd, dbuf, 0, 4 * PG, IOVA, RW, &h,
			 &key);
	ASSERT_EQ(0, dev_rw(&self->port, key, IOVA, b, sizeof(b), false));
	ASSERT_EQ(0, set_decode(&self->v, false));
	ASSERT_EQ(0, mr_info(&self->port, key, &mi));
	EXPECT_STREQ(DYNAMIC ? "missing" : "revoked", mi.state);
	EXPECT_EQ(EACCES, dev_rw(&self->port, key, IOVA, b, sizeof(b), false));
	ASSERT_EQ(0, mr_info(&self->port, key, &mi));
	EXPECT_STREQ("revoked", mi.state);
	EXPECT_EQ(misses + (DYNAMIC ? 1 : 0),
		  uv_counter(self->ibdev, "mr_misses"));
	/* Memory back: a revoked MR stays revoked. */
	ASSERT_EQ(0, set_decode(&self->v, true));
	EXPECT_EQ(EACCES, dev_rw(&self->port, key, IOVA, b, sizeof(b), true));
	uv_dereg_mr(self->fd, h);
out:
	close(dbuf);
}

/*
 * The exporter moves the memory away and brings it back before the device
 * needs it: a dynamic MR misses once and maps it again; the bytes are the
 * BAR's. A revocable MR cannot come back.
 */
TEST_F(demo_p2p, invalidate_and_remap)
{
	long long misses = uv_counter(self->ibdev, "mr_misses");
	unsigned char a[256], b[256];
	struct mr_info mi;
	__u32 h, key;
	int dbuf;

	dbuf = export_all(&self->v, 0, 4 * PG);
	ASSERT_LE(0, dbuf);
	if (NO_P2P(dbuf))
		SKIP(goto out, "%s", NO_P2P_WHY);
	uv_reg_dmabuf_mr(self->fd, self->pd, dbuf, 0, 4 * PG, IOVA, RW, &h,
			 &key);
	ASSERT_EQ(0, set_decode(&self->v, false));
	ASSERT_EQ(0, set_decode(&self->v, true));
	fill(a, sizeof(a), 31);
	if (!DYNAMIC) {
		EXPECT_EQ(EACCES, dev_rw(&self->port, key, IOVA + PG, a,
					 sizeof(a), true));
		goto dereg;
	}
	ASSERT_EQ(0, dev_rw(&self->port, key, IOVA + PG, a, sizeof(a), true));
	EXPECT_EQ(0, memcmp(self->v.bar + PG, a, sizeof(a)));
	ASSERT_EQ(0, dev_rw(&self->port, key, IOVA + PG, b, sizeof(b), false));
	EXPECT_EQ(0, memcmp(a, b, sizeof(a)));
	ASSERT_EQ(0, mr_info(&self->port, key, &mi));
	EXPECT_STREQ("valid", mi.state);
	EXPECT_EQ(misses + 1, uv_counter(self->ibdev, "mr_misses"));
dereg:
	uv_dereg_mr(self->fd, h);
out:
	close(dbuf);
}

struct reader {
	struct port *port;
	__u32 key;
	const unsigned char *want;
	int ok, refused, wrong, other;
	bool stop;		/* __atomic */
};

/* Read through the MR until told to stop; sort what came back. */
static void *reader_fn(void *arg)
{
	struct reader *r = arg;
	unsigned char got[PG];

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		int rc = dev_rw(r->port, r->key, IOVA, got, sizeof(got), false);

		if (!rc && !memcmp(got, r->want, sizeof(got)))
			__atomic_fetch_add(&r->ok, 1, __ATOMIC_RELAXED);
		else if (!rc)
			r->wrong++;
		else if (rc == EACCES)
			r->refused++;
		else
			r->other++;
	}
	return NULL;
}

/*
 * Revoke while the device reads the BAR. Every read the device completes
 * returns the BAR's bytes (never the all-ones of a BAR without decode),
 * the revoke returns, and then the device refuses.
 */
TEST_F(demo_p2p, revoke_during_traffic)
{
	unsigned char *want = malloc(PG);
	struct reader r = { .port = &self->port, .want = want };
	pthread_t t;
	__u32 h;
	int dbuf;

	ASSERT_NE(NULL, want);
	fill(self->v.bar, PG, 41);
	memcpy(want, self->v.bar, PG);
	dbuf = export_all(&self->v, 0, PG);
	ASSERT_LE(0, dbuf);
	if (NO_P2P(dbuf))
		SKIP(goto out, "%s", NO_P2P_WHY);
	uv_reg_dmabuf_mr(self->fd, self->pd, dbuf, 0, PG, IOVA, RW, &h, &r.key);
	ASSERT_EQ(0, pthread_create(&t, NULL, reader_fn, &r));
	while (__atomic_load_n(&r.ok, __ATOMIC_RELAXED) < 20 &&
	       !__atomic_load_n(&r.wrong, __ATOMIC_RELAXED) &&
	       !__atomic_load_n(&r.other, __ATOMIC_RELAXED))
		usleep(1000);
	ASSERT_EQ(0, set_decode(&self->v, false));
	usleep(50 * 1000);
	__atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	EXPECT_LE(20, r.ok);
	EXPECT_EQ(0, r.wrong);
	EXPECT_EQ(0, r.other);
	EXPECT_LE(1, r.refused);
	uv_dereg_mr(self->fd, h);
out:
	close(dbuf);
	free(want);
}

/* Closing the vfio device revokes its dma-bufs; the MR is left revoked. */
TEST_F(demo_p2p, close_device)
{
	unsigned char b[64];
	__u32 h, key;
	int dbuf;

	dbuf = export_all(&self->v, 0, PG);
	ASSERT_LE(0, dbuf);
	if (NO_P2P(dbuf))
		SKIP(goto out, "%s", NO_P2P_WHY);
	uv_reg_dmabuf_mr(self->fd, self->pd, dbuf, 0, PG, IOVA, RW, &h, &key);
	vfio_close(&self->v);
	EXPECT_EQ(EACCES, dev_rw(&self->port, key, IOVA, b, sizeof(b), false));
	uv_dereg_mr(self->fd, h);
out:
	close(dbuf);
}

/* A BAR whose decode is off exports a revoked dma-buf: nothing to map. */
TEST_F(demo_p2p, export_while_revoked)
{
	int dbuf;

	ASSERT_EQ(0, set_decode(&self->v, false));
	dbuf = export_all(&self->v, 0, PG);
	ASSERT_LE(0, dbuf);
	uv_err_reg_dmabuf_mr(ENODEV, self->fd, self->pd, dbuf, 0, PG, 0, RW);
	EXPECT_EQ(self->mrs, mr_count(&self->port));
	close(dbuf);
}

/* --- RC traffic through a BAR MR */

/* Decode off and on: the exporter takes the BAR away and gives it back. */
#define BOUNCE_DECODE() do {						\
	ASSERT_EQ(0, set_decode(&self->v, false));			\
	ASSERT_EQ(0, set_decode(&self->v, true));			\
} while (0)

/*
 * RC traffic between the PCI HCA, whose MR is a BAR dma-buf, and the
 * platform HCA, whose MR is ordinary user memory. The BAR MR is written
 * and read by the peer, gathered by a send and filled by a receive, byte
 * for byte. Once the exporter has taken the BAR away and given it back,
 * the first WQE that needs a dynamic MR misses: the device holds it
 * before any byte moves, the driver maps the BAR again, and the WQE then
 * completes whole (responder memory, local gather list, receive buffer:
 * one miss each). A QP of another PD that uses the key meanwhile gets a
 * protection error and no miss. A revocable MR fails such work with an
 * access error. While the BAR stays away, a held WQE fails once the
 * driver gives up, and the device writes nothing.
 */
TEST_F(demo_p2p, rc_traffic)
{
	long long misses = uv_counter(self->ibdev, "mr_misses");
	struct uv_end p = { .fd = -1 }, q = { .fd = -1 };
	struct uv_end r = { .fd = -1 }, s = { .fd = -1 };
	unsigned char *bar = self->v.bar, *buf, old[64];
	__u64 cpu;
	__u32 bh, bkey, mh, mkey, sh, skey;
	struct mr_info mi;
	int dbuf, rc;

	dbuf = export_all(&self->v, 0, 4 * PG);
	ASSERT_LE(0, dbuf);
	if (NO_P2P(dbuf))
		SKIP(goto out, "%s", NO_P2P_WHY);
	rc = uv_end_open(&p, UV_BUS_PCI, 0);
	if (!rc)
		rc = uv_end_open(&q, UV_BUS_PLATFORM, 0);
	if (rc) {
		uv_end_close(_metadata, &p);
		uv_end_close(_metadata, &q);
		close(dbuf);
		/* An HCA that is there but cannot make its objects fails. */
		ASSERT_EQ(-1, rc) TH_LOG("%s", strerror(rc));
		SKIP(return, "no second demo HCA to connect to");
	}
	buf = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	uv_reg_mr(q.fd, q.pd, buf, 4 * PG, (uintptr_t)buf, UV_RC_ACCESS, &mh,
		  &mkey);
	uv_reg_dmabuf_mr(p.fd, p.pd, dbuf, 0, 4 * PG, IOVA, UV_RC_ACCESS, &bh,
			 &bkey);
	uv_qp_connect(&p.qp, UV_RC_ACCESS, uv_lid(q.ibdev), q.qp.qpn,
		      UV_RNR_INFINITE);
	uv_qp_connect(&q.qp, UV_RC_ACCESS, uv_lid(p.ibdev), p.qp.qpn,
		      UV_RNR_INFINITE);

	cpu = (uintptr_t)buf;
	/* The peer writes the BAR, then reads it. */
	fill(buf, PG, 1);
	uv_rc_op(_metadata, &q, &p, UV_WQE_WRITE, cpu, mkey, IOVA + PG, bkey,
		 UV_CQE_OK);
	EXPECT_EQ(0, memcmp(bar + PG, buf, PG));
	fill(bar + 2 * PG, PG, 2);
	uv_rc_op(_metadata, &q, &p, UV_WQE_READ, cpu + PG, mkey, IOVA + 2 * PG,
		 bkey, UV_CQE_OK);
	EXPECT_EQ(0, memcmp(buf + PG, bar + 2 * PG, PG));
	/* A send gathers from the BAR; a receive lands in it. */
	uv_rc_op(_metadata, &p, &q, UV_WQE_SEND, IOVA + 2 * PG, bkey,
		 cpu + 2 * PG, mkey, UV_CQE_OK);
	EXPECT_EQ(0, memcmp(buf + 2 * PG, bar + 2 * PG, PG));
	fill(buf + 3 * PG, PG, 3);
	uv_rc_op(_metadata, &q, &p, UV_WQE_SEND, cpu + 3 * PG, mkey,
		 IOVA + 3 * PG, bkey, UV_CQE_OK);
	EXPECT_EQ(0, memcmp(bar + 3 * PG, buf + 3 * PG, PG));

	/* The BAR goes away and comes back: the responder's MR misses. */
	BOUNCE_DECODE();
	fill(buf, PG, 4);
	if (!DYNAMIC) {
		memcpy(old, bar, sizeof(old));
		uv_rc_op(_metadata, &q, &p, UV_WQE_WRITE, cpu, mkey, IOVA, bkey,
			 UV_CQE_REM_ACCESS_ERR);
		EXPECT_EQ(0, memcmp(bar, old, sizeof(old)));
		EXPECT_EQ(misses, uv_counter(self->ibdev, "mr_misses"));
		goto dereg;
	}
	/*
	 * A stranger who guessed the key, a QP of another PD on the same
	 * HCA, gets a protection error: the device reports no miss and
	 * holds nothing, and the MR stays without its translation.
	 */
	ASSERT_EQ(0, uv_end_open(&r, UV_BUS_PCI, 0));
	ASSERT_EQ(0, uv_end_open(&s, UV_BUS_PLATFORM, 0));
	uv_reg_mr(s.fd, s.pd, buf, PG, cpu, UV_RC_ACCESS, &sh, &skey);
	uv_qp_connect(&r.qp, UV_RC_ACCESS, uv_lid(s.ibdev), s.qp.qpn,
		      UV_RNR_INFINITE);
	uv_qp_connect(&s.qp, UV_RC_ACCESS, uv_lid(r.ibdev), r.qp.qpn,
		      UV_RNR_INFINITE);
	memcpy(old, bar, sizeof(old));
	uv_rc_op(_metadata, &s, &r, UV_WQE_WRITE, cpu, skey, IOVA, bkey,
		 UV_CQE_REM_ACCESS_ERR);
	EXPECT_EQ(0, memcmp(bar, old, sizeof(old)));
	EXPECT_EQ(misses, uv_counter(self->ibdev, "mr_misses"));
	ASSERT_EQ(0, mr_info(&self->port, bkey, &mi));
	EXPECT_STREQ("missing", mi.state);
	uv_dereg_mr(s.fd, sh);
	uv_end_close(_metadata, &r);
	uv_end_close(_metadata, &s);

	/* The owner's write: the device holds it, the driver maps again. */
	uv_rc_op(_metadata, &q, &p, UV_WQE_WRITE, cpu, mkey, IOVA, bkey,
		 UV_CQE_OK);
	EXPECT_EQ(0, memcmp(bar, buf, PG));
	EXPECT_EQ(misses + 1, uv_counter(self->ibdev, "mr_misses"));

	/* Again: now the local gather list of a send misses. */
	BOUNCE_DECODE();
	fill(bar + PG, PG, 5);
	uv_rc_op(_metadata, &p, &q, UV_WQE_SEND, IOVA + PG, bkey, cpu + PG, mkey,
		 UV_CQE_OK);
	EXPECT_EQ(0, memcmp(buf + PG, bar + PG, PG));
	EXPECT_EQ(misses + 2, uv_counter(self->ibdev, "mr_misses"));

	/* Again: now the receive buffer the send lands in misses. */
	BOUNCE_DECODE();
	fill(buf + 2 * PG, PG, 6);
	uv_rc_op(_metadata, &q, &p, UV_WQE_SEND, cpu + 2 * PG, mkey,
		 IOVA + 2 * PG, bkey, UV_CQE_OK);
	EXPECT_EQ(0, memcmp(bar + 2 * PG, buf + 2 * PG, PG));
	EXPECT_EQ(misses + 3, uv_counter(self->ibdev, "mr_misses"));
	ASSERT_EQ(0, mr_info(&self->port, bkey, &mi));
	EXPECT_STREQ("valid", mi.state);

	/*
	 * The BAR stays away: the held write fails when the exporter refuses
	 * to map again, and the MR is revoked. With decode back on, the
	 * BAR shows that nothing was written.
	 */
	memcpy(old, bar + 3 * PG, sizeof(old));
	ASSERT_EQ(0, set_decode(&self->v, false));
	uv_rc_op(_metadata, &q, &p, UV_WQE_WRITE, cpu, mkey, IOVA + 3 * PG, bkey,
		 UV_CQE_REM_ACCESS_ERR);
	ASSERT_EQ(0, set_decode(&self->v, true));
	EXPECT_EQ(0, memcmp(bar + 3 * PG, old, sizeof(old)));
	EXPECT_EQ(misses + 4, uv_counter(self->ibdev, "mr_misses"));
	ASSERT_EQ(0, mr_info(&self->port, bkey, &mi));
	EXPECT_STREQ("revoked", mi.state);
dereg:
	uv_dereg_mr(p.fd, bh);
	uv_dereg_mr(q.fd, mh);
	uv_end_close(_metadata, &p);
	uv_end_close(_metadata, &q);
	munmap(buf, 4 * PG);
out:
	close(dbuf);
}

/* --- a failed mapping gives its IOVA space back */

static const char * const fail_dirs[] = {
	"/sys/kernel/debug/failslab",
	"/sys/kernel/debug/fail_page_alloc",
	"/sys/kernel/debug/fail_usercopy",
};

/* Quiet fault injection that also fails GFP_KERNEL allocations. */
static int faults_setup(bool on)
{
	char path[PATH_MAX];
	unsigned int i;
	int rc = 0;

	for (i = 0; i < ARRAY_SIZE(fail_dirs); i++) {
		snprintf(path, sizeof(path), "%s/verbose", fail_dirs[i]);
		rc |= uv_write_file(path, on ? "0" : "2");
		if (i == 2)
			continue;
		snprintf(path, sizeof(path), "%s/ignore-gfp-wait", fail_dirs[i]);
		rc |= uv_write_file(path, on ? "N" : "Y");
	}
	return rc;
}

/* The device address of the MR over @dbuf, or 0. */
static __u64 mr_addr(struct __test_metadata *_metadata, int fd, __u32 pd,
		     struct port *port, int dbuf)
{
	struct mr_info mi = {};
	__u32 h, key;

	if (_uv_reg_dmabuf_mr(fd, pd, dbuf, 0, 4 * PG, IOVA, RW, &h, &key))
		return 0;
	EXPECT_EQ(0, mr_info(port, key, &mi));
	EXPECT_STREQ("range", mi.mode);
	EXPECT_EQ(0, _uv_dereg_mr(fd, h));
	return mi.addr;
}

/*
 * Fail each allocation, page allocation and user copy of a registration
 * in turn (fail-nth). Every failure returns an errno and leaves no MR, and
 * whatever IOVA space the exporter reserved for the BAR is given back:
 * with a strict IOMMU the allocator hands a freed range of the same size
 * to the next mapping on the same CPU, so the BAR maps at the same IOVA
 * after the sweep as before it. A failure after the reservation that
 * kept it would move the next mapping elsewhere.
 */
TEST_F(demo_p2p, map_failure_frees_iova)
{
	__u64 before, again, after;
	int dbuf, n, rc = 0, tfd, failed = 0;
	__u32 h = 0, key;
	cpu_set_t cpu;
	char buf[16];

	if (!uv_iommu_translates(self->ibdev) || !uv_cmdline_has("iommu.strict=1"))
		SKIP(return, "needs a strict IOMMU: IOVA ranges the exporter reserves");
	tfd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (tfd < 0 || faults_setup(true)) {
		if (tfd >= 0)
			close(tfd);
		faults_setup(false);
		SKIP(return, "no fault injection (CONFIG_FAULT_INJECTION_DEBUG_FS)");
	}
	CPU_ZERO(&cpu);
	CPU_SET(sched_getcpu(), &cpu);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpu), &cpu));
	dbuf = export_all(&self->v, 0, 4 * PG);
	ASSERT_LE(0, dbuf);
	if (NO_P2P(dbuf))
		SKIP(goto out, "%s", NO_P2P_WHY);

	before = mr_addr(_metadata, self->fd, self->pd, &self->port, dbuf);
	again = mr_addr(_metadata, self->fd, self->pd, &self->port, dbuf);
	ASSERT_NE(0, before);
	if (before != again)
		SKIP(goto out, "the IOVA allocator does not reuse a freed range");

	for (n = 1; n < 5000; n++) {
		bool injected;

		snprintf(buf, sizeof(buf), "%d", n);
		ASSERT_EQ((ssize_t)strlen(buf), pwrite(tfd, buf, strlen(buf), 0));
		rc = _uv_reg_dmabuf_mr(self->fd, self->pd, dbuf, 0, 4 * PG, IOVA,
				       RW, &h, &key);
		/*
		 * "0": the registration took the fault. A failed read took it
		 * itself: the registration reached fewer than n fault sites.
		 */
		injected = pread(tfd, buf, sizeof(buf), 0) > 0 && buf[0] == '0';
		if (pwrite(tfd, "0", 1, 0) != 1)
			ASSERT_EQ(1, pwrite(tfd, "0", 1, 0));
		failed += rc != 0;
		EXPECT_EQ(0, rc ? 0 : _uv_dereg_mr(self->fd, h));
		/* Only an injected fault may fail the registration. */
		ASSERT_TRUE(!rc || injected)
			TH_LOG("fail-nth %d: %s, no fault injected", n,
			       strerror(rc));
		ASSERT_EQ(self->mrs, mr_count(&self->port)) TH_LOG("fail-nth %d", n);
		if (!injected)
			break;
	}
	ASSERT_EQ(0, rc) TH_LOG("registration fails without a fault, fail-nth %d", n);
	ASSERT_GT(n, 1);
	EXPECT_LT(0, failed);

	after = mr_addr(_metadata, self->fd, self->pd, &self->port, dbuf);
	EXPECT_EQ(before, after)
		TH_LOG("IOVA 0x%llx before %d failed registrations, 0x%llx after",
		       (unsigned long long)before, failed,
		       (unsigned long long)after);
	TH_LOG("%d fault sites, %d failed registrations", n - 1, failed);
out:
	close(dbuf);
	faults_setup(false);
	close(tfd);
}

TEST_HARNESS_MAIN
