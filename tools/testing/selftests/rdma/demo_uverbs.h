/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Raw uverbs ioctl helpers for the demo RDMA HCA selftests; no rdma-core.
 *
 * Every call comes in two forms, as in the iommufd selftests:
 *   _uv_xxx(...)            returns 0 or the errno the kernel gave
 *   uv_xxx(...)             asserts success
 *   uv_err_xxx(errno, ...)  asserts that exact errno
 */
#ifndef __DEMO_UVERBS_H
#define __DEMO_UVERBS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/ib_user_ioctl_verbs.h>
#include <rdma/ib_user_verbs.h>
#include <rdma/rdma_user_ioctl_cmds.h>

#define UV_MAX_ATTRS 12

struct uv_cmd {
	struct ib_uverbs_ioctl_hdr hdr;
	struct ib_uverbs_attr attrs[UV_MAX_ATTRS];
};

static inline void uv_cmd_init(struct uv_cmd *cmd, __u16 object, __u16 method)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->hdr.object_id = object;
	cmd->hdr.method_id = method;
	cmd->hdr.driver_id = RDMA_DRIVER_DEMO;
}

static inline struct ib_uverbs_attr *uv_attr(struct uv_cmd *cmd, __u16 id,
					     __u16 flags)
{
	struct ib_uverbs_attr *attr = &cmd->attrs[cmd->hdr.num_attrs++];

	attr->attr_id = id;
	attr->flags = flags;
	return attr;
}

/* Input pointers of up to 8 bytes travel inline in the attribute. */
static inline void uv_attr_in(struct uv_cmd *cmd, __u16 id, const void *ptr,
			      size_t len)
{
	struct ib_uverbs_attr *attr = uv_attr(cmd, id, 0);

	attr->len = len;
	if (len <= sizeof(attr->data))
		memcpy(&attr->data, ptr, len);
	else
		attr->data = (uintptr_t)ptr;
}

static inline void uv_attr_out(struct uv_cmd *cmd, __u16 id, void *ptr,
			       size_t len)
{
	struct ib_uverbs_attr *attr = uv_attr(cmd, id, 0);

	attr->len = len;
	attr->data = (uintptr_t)ptr;
}

static inline void uv_attr_u64(struct uv_cmd *cmd, __u16 id, __u64 val)
{
	struct ib_uverbs_attr *attr = uv_attr(cmd, id, 0);

	attr->len = sizeof(val);
	attr->data = val;
}

/* An object handle: the value travels in data, len must be 0. */
static inline void uv_attr_obj(struct uv_cmd *cmd, __u16 id, __u32 handle)
{
	uv_attr(cmd, id, 0)->data = handle;
}

static inline int uv_ioctl(int fd, struct uv_cmd *cmd)
{
	cmd->hdr.length = sizeof(cmd->hdr) +
			  cmd->hdr.num_attrs * sizeof(cmd->attrs[0]);
	if (ioctl(fd, RDMA_VERBS_IOCTL, &cmd->hdr))
		return errno;
	return 0;
}

/* --- finding demo devices */

enum uv_bus { UV_BUS_ANY, UV_BUS_PCI, UV_BUS_PLATFORM };

static inline int uv_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	char *line;

	if (!f)
		return -1;
	line = fgets(buf, len, f);
	fclose(f);
	if (!line)
		return -1;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static inline const char *uv_link_base(const char *path, char *buf, size_t len)
{
	ssize_t n = readlink(path, buf, len - 1);

	if (n < 0)
		return "";
	buf[n] = 0;
	return strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
}

/*
 * Open the uverbs character device of the @nth demo HCA on @bus.  Returns
 * the fd, or -1 when there is no such device; @ibdev gets its name.
 */
static inline int uv_open_demo(enum uv_bus bus, int nth, char *ibdev,
			       size_t len)
{
	char path[PATH_MAX], link[PATH_MAX], name[64];
	struct dirent *de;
	DIR *dir;
	int fd = -1;

	dir = opendir("/sys/class/infiniband_verbs");
	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		const char *drv, *subsys;

		if (strncmp(de->d_name, "uverbs", 6))
			continue;
		snprintf(path, sizeof(path),
			 "/sys/class/infiniband_verbs/%s/ibdev", de->d_name);
		if (uv_read_line(path, name, sizeof(name)))
			continue;
		snprintf(path, sizeof(path),
			 "/sys/class/infiniband/%s/device/driver", name);
		drv = uv_link_base(path, link, sizeof(link));
		if (strcmp(drv, "demo_rdma"))
			continue;
		snprintf(path, sizeof(path),
			 "/sys/class/infiniband/%s/device/subsystem", name);
		subsys = uv_link_base(path, link, sizeof(link));
		if ((bus == UV_BUS_PCI && strcmp(subsys, "pci")) ||
		    (bus == UV_BUS_PLATFORM && strcmp(subsys, "platform")))
			continue;
		if (nth--)
			continue;
		snprintf(path, sizeof(path), "/dev/infiniband/%s", de->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0 && ibdev)
			snprintf(ibdev, len, "%s", name);
		break;
	}
	closedir(dir);
	return fd;
}

/* --- device object */

static inline int _uv_get_context(int fd, __u32 *num_comp_vectors,
				  __u64 *core_support)
{
	struct uv_cmd cmd;

	uv_cmd_init(&cmd, UVERBS_OBJECT_DEVICE, UVERBS_METHOD_GET_CONTEXT);
	if (num_comp_vectors)
		uv_attr_out(&cmd, UVERBS_ATTR_GET_CONTEXT_NUM_COMP_VECTORS,
			    num_comp_vectors, sizeof(*num_comp_vectors));
	if (core_support)
		uv_attr_out(&cmd, UVERBS_ATTR_GET_CONTEXT_CORE_SUPPORT,
			    core_support, sizeof(*core_support));
	return uv_ioctl(fd, &cmd);
}

#define uv_get_context(fd, ncv, cs) ASSERT_EQ(0, _uv_get_context(fd, ncv, cs))
#define uv_err_get_context(e, fd) ASSERT_EQ(e, _uv_get_context(fd, NULL, NULL))

/* --- protection domains */

/*
 * Allocate a PD through the write() command set carried by the
 * INVOKE_WRITE ioctl; @uhw/@uhw_len is driver input, @out_len the size of
 * the core response buffer.
 */
static inline int __uv_alloc_pd(int fd, __u32 *handle, const void *uhw,
				size_t uhw_len, size_t out_len)
{
	struct ib_uverbs_alloc_pd req = {};
	struct ib_uverbs_alloc_pd_resp resp = {};
	struct uv_cmd cmd;
	int rc;

	uv_cmd_init(&cmd, UVERBS_OBJECT_DEVICE, UVERBS_METHOD_INVOKE_WRITE);
	uv_attr_u64(&cmd, UVERBS_ATTR_WRITE_CMD, IB_USER_VERBS_CMD_ALLOC_PD);
	uv_attr_in(&cmd, UVERBS_ATTR_CORE_IN, &req, sizeof(req));
	uv_attr_out(&cmd, UVERBS_ATTR_CORE_OUT, &resp, out_len);
	if (uhw)
		uv_attr_in(&cmd, UVERBS_ATTR_UHW_IN, uhw, uhw_len);
	rc = uv_ioctl(fd, &cmd);
	if (!rc)
		*handle = resp.pd_handle;
	return rc;
}

static inline int _uv_alloc_pd(int fd, __u32 *handle)
{
	return __uv_alloc_pd(fd, handle, NULL, 0,
			     sizeof(struct ib_uverbs_alloc_pd_resp));
}

static inline int _uv_dealloc_pd(int fd, __u32 handle)
{
	struct uv_cmd cmd;

	uv_cmd_init(&cmd, UVERBS_OBJECT_PD, UVERBS_METHOD_PD_DESTROY);
	uv_attr_obj(&cmd, UVERBS_ATTR_DESTROY_PD_HANDLE, handle);
	return uv_ioctl(fd, &cmd);
}

#define uv_alloc_pd(fd, h) ASSERT_EQ(0, _uv_alloc_pd(fd, h))
#define uv_err_alloc_pd(e, fd, h) ASSERT_EQ(e, _uv_alloc_pd(fd, h))
#define uv_dealloc_pd(fd, h) ASSERT_EQ(0, _uv_dealloc_pd(fd, h))
#define uv_err_dealloc_pd(e, fd, h) ASSERT_EQ(e, _uv_dealloc_pd(fd, h))

/* --- memory regions */

static inline int _uv_reg_mr(int fd, __u32 pd, const void *addr, __u64 len,
			     __u64 iova, __u32 access, __u32 *handle,
			     __u32 *lkey)
{
	__u32 rkey, lk;
	struct uv_cmd cmd;
	int rc;

	uv_cmd_init(&cmd, UVERBS_OBJECT_MR, UVERBS_METHOD_REG_MR);
	uv_attr_obj(&cmd, UVERBS_ATTR_REG_MR_HANDLE, 0);
	uv_attr_obj(&cmd, UVERBS_ATTR_REG_MR_PD_HANDLE, pd);
	uv_attr_u64(&cmd, UVERBS_ATTR_REG_MR_ADDR, (uintptr_t)addr);
	uv_attr_u64(&cmd, UVERBS_ATTR_REG_MR_LENGTH, len);
	uv_attr_u64(&cmd, UVERBS_ATTR_REG_MR_IOVA, iova);
	uv_attr_u64(&cmd, UVERBS_ATTR_REG_MR_ACCESS_FLAGS, access);
	uv_attr_out(&cmd, UVERBS_ATTR_REG_MR_RESP_LKEY, &lk, sizeof(lk));
	uv_attr_out(&cmd, UVERBS_ATTR_REG_MR_RESP_RKEY, &rkey, sizeof(rkey));
	rc = uv_ioctl(fd, &cmd);
	if (!rc) {
		*handle = cmd.attrs[0].data;
		if (lkey)
			*lkey = lk;
	}
	return rc;
}

static inline int _uv_dereg_mr(int fd, __u32 handle)
{
	struct uv_cmd cmd;

	uv_cmd_init(&cmd, UVERBS_OBJECT_MR, UVERBS_METHOD_MR_DESTROY);
	uv_attr_obj(&cmd, UVERBS_ATTR_DESTROY_MR_HANDLE, handle);
	return uv_ioctl(fd, &cmd);
}

#define uv_reg_mr(fd, pd, a, l, i, acc, h, k) \
	ASSERT_EQ(0, _uv_reg_mr(fd, pd, a, l, i, acc, h, k))
#define uv_err_reg_mr(e, fd, pd, a, l, i, acc) do {			\
	__u32 __h;							\
	ASSERT_EQ(e, _uv_reg_mr(fd, pd, a, l, i, acc, &__h, NULL));	\
} while (0)
#define uv_dereg_mr(fd, h) ASSERT_EQ(0, _uv_dereg_mr(fd, h))

/* --- what sysfs says about a device */

/* The kernel name of the device the HCA does DMA through. */
static inline int uv_dma_dev_name(const char *ibdev, char *buf, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *name;

	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/device", ibdev);
	name = uv_link_base(path, link, sizeof(link));
	if (!*name || strlen(name) >= len)
		return -1;
	memcpy(buf, name, strlen(name) + 1);
	return 0;
}

/*
 * A hardware counter of port 1, as rdma statistic shows it. The core
 * caches counters for "lifespan" milliseconds: wait that long first, so
 * the value is read after everything the caller did.
 */
static inline long long uv_counter(const char *ibdev, const char *name)
{
	char path[PATH_MAX], buf[64];
	long lifespan;

	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/ports/1/hw_counters/lifespan", ibdev);
	if (uv_read_line(path, buf, sizeof(buf)))
		return -1;
	lifespan = strtol(buf, NULL, 0);
	usleep((lifespan + 2) * 1000);
	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/ports/1/hw_counters/%s", ibdev, name);
	if (uv_read_line(path, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 0);
}

/* Is the HCA behind an IOMMU that translates its DMA? */
static inline bool uv_iommu_translates(const char *ibdev)
{
	char path[PATH_MAX], buf[32];

	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/device/iommu_group/type", ibdev);
	if (uv_read_line(path, buf, sizeof(buf)))
		return false;
	return !strcmp(buf, "DMA") || !strcmp(buf, "DMA-FQ");
}

#endif /* __DEMO_UVERBS_H */
