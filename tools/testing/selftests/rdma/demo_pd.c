// SPDX-License-Identifier: GPL-2.0-only
/*
 * Protection domains on demo RDMA HCAs, through raw uverbs ioctls.
 *
 * Every test runs on a demo HCA bound to a PCI function and on one created
 * on a platform device (no IOMMU); a variant whose device is absent skips.
 */
#include "../kselftest_harness.h"
#include "demo_uverbs.h"

#define DEMO_MAX_PD 1024

FIXTURE(demo_pd) {
	int fd;
	char ibdev[64];
};

FIXTURE_VARIANT(demo_pd) {
	enum uv_bus bus;
};

FIXTURE_VARIANT_ADD(demo_pd, pci) {
	.bus = UV_BUS_PCI,
};

FIXTURE_VARIANT_ADD(demo_pd, platform) {
	.bus = UV_BUS_PLATFORM,
};

FIXTURE_SETUP(demo_pd)
{
	self->fd = uv_open_demo(variant->bus, 0, self->ibdev,
				sizeof(self->ibdev));
	if (self->fd < 0)
		SKIP(return, "%s", uv_no_hca_why(variant->bus));
}

FIXTURE_TEARDOWN(demo_pd)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(demo_pd, context)
{
	__u32 ncv = 0;
	__u64 core = 0;

	uv_get_context(self->fd, &ncv, &core);
	EXPECT_EQ(1, ncv);
	/* The driver validates every udata it is given. */
	EXPECT_TRUE(core & IB_UVERBS_CORE_SUPPORT_ROBUST_UDATA);
	/* One context per open file. */
	uv_err_get_context(EINVAL, self->fd);
}

TEST_F(demo_pd, alloc_dealloc)
{
	__u32 a, b;

	uv_get_context(self->fd, NULL, NULL);
	uv_alloc_pd(self->fd, &a);
	uv_alloc_pd(self->fd, &b);
	EXPECT_NE(a, b);
	uv_dealloc_pd(self->fd, a);
	uv_dealloc_pd(self->fd, b);
	/* A handle is gone once destroyed. */
	uv_err_dealloc_pd(ENOENT, self->fd, a);
}

TEST_F(demo_pd, no_context)
{
	__u32 h;

	uv_err_alloc_pd(EINVAL, self->fd, &h);
}

TEST_F(demo_pd, bad_handle)
{
	uv_get_context(self->fd, NULL, NULL);
	uv_err_dealloc_pd(ENOENT, self->fd, 0);
	uv_err_dealloc_pd(ENOENT, self->fd, 12345);
}

TEST_F(demo_pd, driver_data)
{
	__u64 zero = 0, junk = 1;
	__u32 h;

	uv_get_context(self->fd, NULL, NULL);
	/* demo takes no PD driver data: zeroes are fine, anything else not. */
	ASSERT_EQ(0, __uv_alloc_pd(self->fd, &h, &zero, sizeof(zero),
				   sizeof(struct ib_uverbs_alloc_pd_resp)));
	uv_dealloc_pd(self->fd, h);
	ASSERT_EQ(EOPNOTSUPP, __uv_alloc_pd(self->fd, &h, &junk, sizeof(junk),
					    sizeof(struct ib_uverbs_alloc_pd_resp)));
	/* A response buffer too small for the core response. */
	ASSERT_EQ(ENOSPC, __uv_alloc_pd(self->fd, &h, NULL, 0, 2));
}

TEST_F(demo_pd, bad_ioctl)
{
	struct uv_cmd cmd;

	uv_get_context(self->fd, NULL, NULL);
	/* An unknown method, and reserved header bits, are unsupported. */
	uv_cmd_init(&cmd, UVERBS_OBJECT_PD, 0x7ff);
	EXPECT_EQ(EPROTONOSUPPORT, uv_ioctl(self->fd, &cmd));
	uv_cmd_init(&cmd, UVERBS_OBJECT_PD, UVERBS_METHOD_PD_DESTROY);
	cmd.hdr.reserved1 = 1;
	EXPECT_EQ(EPROTONOSUPPORT, uv_ioctl(self->fd, &cmd));
	/* The device only takes commands for the demo driver's ABI. */
	uv_cmd_init(&cmd, UVERBS_OBJECT_PD, UVERBS_METHOD_PD_DESTROY);
	cmd.hdr.driver_id = RDMA_DRIVER_RXE;
	uv_attr_obj(&cmd, UVERBS_ATTR_DESTROY_PD_HANDLE, 0);
	EXPECT_EQ(EINVAL, uv_ioctl(self->fd, &cmd));
	/* An object handle attribute with a length. */
	uv_cmd_init(&cmd, UVERBS_OBJECT_PD, UVERBS_METHOD_PD_DESTROY);
	uv_attr_u64(&cmd, UVERBS_ATTR_DESTROY_PD_HANDLE, 0);
	EXPECT_EQ(EINVAL, uv_ioctl(self->fd, &cmd));
}

/*
 * The device has DEMO_MAX_PD protection domains: the next one fails with
 * ENOMEM, and closing the file gives them all back.
 */
TEST_F(demo_pd, exhaust_and_close)
{
	static __u32 h[DEMO_MAX_PD];
	__u32 extra;
	int i, round;

	for (round = 0; round < 2; round++) {
		uv_get_context(self->fd, NULL, NULL);
		for (i = 0; i < DEMO_MAX_PD; i++)
			ASSERT_EQ(0, _uv_alloc_pd(self->fd, &h[i])) TH_LOG("pd %d", i);
		uv_err_alloc_pd(ENOMEM, self->fd, &extra);
		close(self->fd);
		self->fd = uv_open_demo(variant->bus, 0, NULL, 0);
		ASSERT_LE(0, self->fd);
	}
}

/* Read the port state as sysfs shows it ("4: ACTIVE", "1: DOWN"). */
static int port_state(const char *ibdev)
{
	char path[PATH_MAX], buf[32];

	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/1/state",
		 ibdev);
	if (uv_read_line(path, buf, sizeof(buf)))
		return -1;
	return atoi(buf);
}

static int wait_port_state(const char *ibdev, int want)
{
	int i;

	for (i = 0; i < 200 && port_state(ibdev) != want; i++)
		usleep(10000);
	return port_state(ibdev);
}

static int set_cable(const char *ibdev, int up)
{
	char name[NAME_MAX + 1], path[PATH_MAX];
	FILE *f;
	int rc;

	if (uv_dma_dev_name(ibdev, name, sizeof(name)))
		return -1;
	snprintf(path, sizeof(path), "/sys/kernel/debug/demo_model/%s/link",
		 name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	rc = fprintf(f, "%d\n", up) < 0;
	return fclose(f) || rc ? -1 : 0;
}

/* The port follows its cable: down when pulled, active when plugged in. */
TEST_F(demo_pd, port_state)
{
	ASSERT_EQ(4, port_state(self->ibdev));
	if (set_cable(self->ibdev, 0))
		SKIP(return, "no device model test port (debugfs)");
	EXPECT_EQ(1, wait_port_state(self->ibdev, 1));
	ASSERT_EQ(0, set_cable(self->ibdev, 1));
	EXPECT_EQ(4, wait_port_state(self->ibdev, 4));
}

TEST_HARNESS_MAIN
