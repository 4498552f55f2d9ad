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
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/ib_user_ioctl_verbs.h>
#include <rdma/ib_user_verbs.h>
#include <rdma/rdma_netlink.h>
#include <rdma/rdma_user_ioctl_cmds.h>
#include <rdma/demo-abi.h>

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

/*
 * Register bytes [@offset, + @len) of dma-buf @dmabuf_fd as an MR at I/O
 * virtual address @iova.
 */
static inline int _uv_reg_dmabuf_mr(int fd, __u32 pd, int dmabuf_fd,
				    __u64 offset, __u64 len, __u64 iova,
				    __u32 access, __u32 *handle, __u32 *lkey)
{
	__u32 rkey, lk;
	struct uv_cmd cmd;
	int rc;

	uv_cmd_init(&cmd, UVERBS_OBJECT_MR, UVERBS_METHOD_REG_DMABUF_MR);
	uv_attr_obj(&cmd, UVERBS_ATTR_REG_DMABUF_MR_HANDLE, 0);
	uv_attr_obj(&cmd, UVERBS_ATTR_REG_DMABUF_MR_PD_HANDLE, pd);
	uv_attr_u64(&cmd, UVERBS_ATTR_REG_DMABUF_MR_OFFSET, offset);
	uv_attr_u64(&cmd, UVERBS_ATTR_REG_DMABUF_MR_LENGTH, len);
	uv_attr_u64(&cmd, UVERBS_ATTR_REG_DMABUF_MR_IOVA, iova);
	uv_attr_in(&cmd, UVERBS_ATTR_REG_DMABUF_MR_FD, &dmabuf_fd,
		   sizeof(dmabuf_fd));
	uv_attr_u64(&cmd, UVERBS_ATTR_REG_DMABUF_MR_ACCESS_FLAGS, access);
	uv_attr_out(&cmd, UVERBS_ATTR_REG_DMABUF_MR_RESP_LKEY, &lk, sizeof(lk));
	uv_attr_out(&cmd, UVERBS_ATTR_REG_DMABUF_MR_RESP_RKEY, &rkey,
		    sizeof(rkey));
	rc = uv_ioctl(fd, &cmd);
	if (!rc) {
		*handle = cmd.attrs[0].data;
		if (lkey)
			*lkey = lk;
	}
	return rc;
}

#define uv_reg_dmabuf_mr(fd, pd, dfd, o, l, i, acc, h, k) \
	ASSERT_EQ(0, _uv_reg_dmabuf_mr(fd, pd, dfd, o, l, i, acc, h, k))
#define uv_err_reg_dmabuf_mr(e, fd, pd, dfd, o, l, i, acc) do {	\
	__u32 __h;							\
	ASSERT_EQ(e, _uv_reg_dmabuf_mr(fd, pd, dfd, o, l, i, acc, &__h, \
				       NULL));				\
} while (0)

/*
 * --- the HCAs a test program uses
 *
 * Every program makes its own HCAs, so that it runs under any kselftest
 * runner: before main(), as root, it creates UV_PLATFORM_HCAS platform
 * HCAs through the driver's new_device file (as netdevsim's tests do), and
 * removes them at exit. An HCA on a PCI function (the IOVA path behind an
 * IOMMU) cannot be made: the PCI functions to use are named in DEMO_PCI_DEV
 * (bus addresses, separated by commas), as the vfio selftests take theirs.
 * A function not bound to demo_rdma is bound for the run and given back
 * to its driver at exit. The program exits KSFT_SKIP when it cannot run at
 * all: not root, or no demo_rdma driver. The driver module or debugfs,
 * when the program had to load or mount them, are unloaded or unmounted at
 * exit: no run leaves the host changed.
 */
#ifndef UV_PLATFORM_HCAS
#define UV_PLATFORM_HCAS 2
#endif
#define UV_DRV_DIR	"/sys/bus/platform/drivers/demo_rdma"
#define UV_MAX_PCI	4

enum uv_bus { UV_BUS_ANY, UV_BUS_PCI, UV_BUS_PLATFORM };

static struct {
	pid_t owner;			/* the process that cleans up */
	int nplat, npci;
	int plat[UV_PLATFORM_HCAS + 1];	/* demo_rdma.<id> made by us */
	char pci[UV_MAX_PCI][32];	/* DEMO_PCI_DEV functions */
	bool pci_bound[UV_MAX_PCI];	/* bound by us: give back at exit */
	bool loaded, mounted;
} uv_prov;

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

/* Write @s to the file @path. Returns 0 or the errno. */
static inline int uv_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : errno;
}

/* The first entry of directory @dir into @buf; 0 or -1. */
static inline int uv_first_entry(const char *dir, char *buf, size_t len)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int rc = -1;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= len)
			continue;
		memcpy(buf, de->d_name, strlen(de->d_name) + 1);
		rc = 0;
		break;
	}
	closedir(d);
	return rc;
}

/*
 * Make the HCA of platform device demo_rdma.@id (new_device). Returns 0,
 * or the errno: EEXIST when the id is taken.
 */
static inline int uv_new_hca(int id)
{
	char s[16];

	snprintf(s, sizeof(s), "%d", id);
	return uv_write_file(UV_DRV_DIR "/new_device", s);
}

/* Remove the HCA of demo_rdma.@id (del_device). Returns 0 or the errno. */
static inline int uv_del_hca(int id)
{
	char s[16];

	snprintf(s, sizeof(s), "%d", id);
	return uv_write_file(UV_DRV_DIR "/del_device", s);
}

/*
 * Make an HCA on a platform device with an id no other HCA has; returns
 * the id, or -1.
 */
static inline int uv_new_hca_any(void)
{
	int i, id;

	for (i = 0; i < 64; i++) {
		id = 1000000 + (getpid() % 100000) * 64 + i;
		if (!uv_new_hca(id))
			return id;
	}
	return -1;
}

/*
 * Open the uverbs device of the HCA on @dev (a device of sysfs bus
 * @bus); @ibdev gets its name. Returns the fd or -1.
 */
static inline int uv_open_dev(const char *bus, const char *dev, char *ibdev,
			      size_t len)
{
	char path[PATH_MAX], name[64], uverbs[64];
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/%s/devices/%s/infiniband",
		 bus, dev);
	if (uv_first_entry(path, name, sizeof(name)))
		return -1;
	snprintf(path, sizeof(path), "/sys/bus/%s/devices/%s/infiniband_verbs",
		 bus, dev);
	if (uv_first_entry(path, uverbs, sizeof(uverbs)))
		return -1;
	snprintf(path, sizeof(path), "/dev/infiniband/%s", uverbs);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && ibdev)
		snprintf(ibdev, len, "%s", name);
	return fd;
}

/*
 * Open the uverbs device of this program's @nth HCA on @bus (UV_BUS_ANY:
 * the PCI HCAs, then the platform ones). Returns the fd, or -1 when there
 * is no such HCA; @ibdev gets its name.
 */
static inline int uv_open_demo(enum uv_bus bus, int nth, char *ibdev,
			       size_t len)
{
	char dev[64];

	if (bus != UV_BUS_PLATFORM && nth < uv_prov.npci)
		return uv_open_dev("pci", uv_prov.pci[nth], ibdev, len);
	if (bus == UV_BUS_ANY)
		nth -= uv_prov.npci;
	if (bus == UV_BUS_PCI || nth >= uv_prov.nplat)
		return -1;
	snprintf(dev, sizeof(dev), "demo_rdma.%d", uv_prov.plat[nth]);
	return uv_open_dev("platform", dev, ibdev, len);
}

/* Why uv_open_demo(@bus, ...) found no HCA: a skip reason. */
static inline const char *uv_no_hca_why(enum uv_bus bus)
{
	if (bus == UV_BUS_PCI)
		return uv_prov.npci ? "DEMO_PCI_DEV: a function did not bind to demo_rdma" :
		       "no PCI HCA: DEMO_PCI_DEV names no PCI function for demo_rdma";
	return "could not make a platform HCA through new_device";
}

/* Bind PCI function @bdf to demo_rdma for this run; 1 if we bound it. */
static inline int uv_pci_bind(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *drv;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	drv = uv_link_base(path, link, sizeof(link));
	if (!strcmp(drv, "demo_rdma"))
		return 0;
	if (*drv) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind",
			 bdf);
		if (uv_write_file(path, bdf))
			return -1;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	if (uv_write_file(path, "demo_rdma"))
		return -1;
	uv_write_file("/sys/bus/pci/drivers_probe", bdf);
	return 1;
}

/* Give a function uv_pci_bind() bound back to the driver it matches. */
static inline void uv_pci_unbind(const char *bdf)
{
	char path[PATH_MAX];

	uv_write_file("/sys/bus/pci/drivers/demo_rdma/unbind", bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	uv_write_file(path, "\n");
	uv_write_file("/sys/bus/pci/drivers_probe", bdf);
}

static inline void uv_unprovision(void)
{
	int i;

	if (getpid() != uv_prov.owner)
		return;
	uv_prov.owner = 0;
	for (i = 0; i < uv_prov.nplat; i++)
		uv_del_hca(uv_prov.plat[i]);
	for (i = 0; i < uv_prov.npci; i++)
		if (uv_prov.pci_bound[i])
			uv_pci_unbind(uv_prov.pci[i]);
	if (uv_prov.loaded && system("modprobe -q -r demo_rdma"))
		printf("# could not unload demo_rdma\n");
	if (uv_prov.mounted)
		umount("/sys/kernel/debug");
}

/* A runner's timeout ends the program with SIGTERM: clean up first. */
static inline void uv_term(int sig)
{
	uv_unprovision();
	signal(sig, SIG_DFL);
	raise(sig);
}

static inline void uv_skip_program(const char *why)
{
	printf("TAP version 13\n1..0 # SKIP %s\n", why);
	fflush(stdout);
	uv_unprovision();
	_exit(4);	/* KSFT_SKIP */
}

static void __attribute__((constructor)) uv_provision(void)
{
	char list[256], *bdf, *save;
	int i, id;

	uv_prov.owner = getpid();
	if (geteuid())
		uv_skip_program("demo HCA tests need root");
	if (access(UV_DRV_DIR, F_OK)) {
		if (system("modprobe -q demo_rdma 2>/dev/null") ||
		    access(UV_DRV_DIR, F_OK))
			uv_skip_program("no demo_rdma driver (CONFIG_INFINIBAND_DEMO)");
		uv_prov.loaded = true;
	}
	if (access("/sys/kernel/debug/demo_model", F_OK) &&
	    !mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL))
		uv_prov.mounted = true;
	atexit(uv_unprovision);
	signal(SIGTERM, uv_term);

	for (i = 0; i < UV_PLATFORM_HCAS; i++) {
		id = uv_new_hca_any();
		if (id < 0)
			break;
		uv_prov.plat[uv_prov.nplat++] = id;
	}
	if (!getenv("DEMO_PCI_DEV"))
		return;
	snprintf(list, sizeof(list), "%s", getenv("DEMO_PCI_DEV"));
	for (bdf = strtok_r(list, ", ", &save);
	     bdf && uv_prov.npci < UV_MAX_PCI;
	     bdf = strtok_r(NULL, ", ", &save)) {
		i = uv_prov.npci++;
		snprintf(uv_prov.pci[i], sizeof(uv_prov.pci[i]), "%s", bdf);
		uv_prov.pci_bound[i] = uv_pci_bind(bdf) == 1;
	}
}

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

/* How the driver imports dma-bufs on @ibdev: "dynamic" or "revocable". */
static inline int uv_set_dmabuf_import(const char *ibdev, const char *model)
{
	char name[NAME_MAX + 1], path[PATH_MAX];

	/* No such device: the path does not exist and the write fails. */
	if (uv_dma_dev_name(ibdev, name, sizeof(name)))
		name[0] = 0;
	snprintf(path, sizeof(path),
		 "/sys/kernel/debug/demo_rdma/%s/dmabuf_import", name);
	return uv_write_file(path, model);
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

/* Does the kernel command line contain @word? */
static inline bool uv_cmdline_has(const char *word)
{
	char buf[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strstr(buf, word);
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

/* --- the device model's test port (debugfs demo_model/<device>/) */

#define MODEL_DIR "/sys/kernel/debug/demo_model"

/* The device model's test port of one HCA. */
struct port {
	char dir[PATH_MAX];
	int mem_fd;
};

static inline int open_port(struct port *port, const char *file, int flags)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s", port->dir, file);
	return open(path, flags | O_CLOEXEC);
}

/*
 * Find the test port of the device @ibdev does DMA through and open its
 * mr_mem. Returns 0, or -1 when the model has no test port (no debugfs).
 */
static inline int port_init(struct port *port, const char *ibdev)
{
	char name[NAME_MAX + 1];

	port->mem_fd = -1;
	if (uv_dma_dev_name(ibdev, name, sizeof(name)))
		return -1;
	snprintf(port->dir, sizeof(port->dir), MODEL_DIR "/%s", name);
	if (access(port->dir, F_OK))
		return -1;
	port->mem_fd = open_port(port, "mr_mem", O_RDWR);
	return port->mem_fd < 0 ? -1 : 0;
}

/*
 * Have the device move @len bytes at MR address @va through MR @key.
 * Returns 0, the errno of the device's refusal, or -1 for a short transfer.
 */
static inline int dev_rw(struct port *port, __u32 key, __u64 va,
			 void *buf, size_t len, bool write_mr)
{
	char k[16];
	int fd, n;
	size_t done = 0;

	fd = open_port(port, "mr_key", O_WRONLY);
	if (fd < 0)
		return errno;
	n = snprintf(k, sizeof(k), "0x%x", key);
	if (write(fd, k, n) != n) {
		close(fd);
		return errno;
	}
	close(fd);
	while (done < len) {
		ssize_t r = write_mr ?
			pwrite(port->mem_fd, buf + done, len - done, va + done) :
			pread(port->mem_fd, buf + done, len - done, va + done);

		if (r <= 0)
			return r ? errno : -1;
		done += r;
	}
	return 0;
}

#define dev_read(k, va, b, l) dev_rw(&self->port, k, va, b, l, false)
#define dev_write(k, va, b, l) dev_rw(&self->port, k, va, b, l, true)

struct mr_info {
	char mode[8];
	char state[8];		/* valid, missing or revoked */
	unsigned long long addr, entries;
	unsigned int page_shift;
	int count;		/* MRs in the device's table */
};

/* What the device holds for MR @key, and how many MRs it holds. */
static inline int mr_info(struct port *port, __u32 key, struct mr_info *mi)
{
	char path[PATH_MAX + 8], line[512];
	bool found = false;
	FILE *f;

	memset(mi, 0, sizeof(*mi));
	snprintf(path, sizeof(path), "%s/mrs", port->dir);
	f = fopen(path, "r");
	if (!f) {
		mi->count = -1;
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned int k;

		mi->count++;
		if (sscanf(line, "key 0x%x", &k) == 1 && k == key) {
			char *p = strstr(line, " mode ");

			found = p && sscanf(p,
				" mode %7s iova %*s length %*s addr 0x%llx page_shift %u entries %llu state %7s",
				mi->mode, &mi->addr, &mi->page_shift,
				&mi->entries, mi->state) >= 4;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

/* MRs in the device's table, or -1 if the test port cannot tell. */
static inline int mr_count(struct port *port)
{
	struct mr_info mi;

	mr_info(port, 0, &mi);
	return mi.count;
}

static inline void fill(void *p, size_t len, unsigned int seed)
{
	unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (unsigned char)(i * 131 + seed * 7 + (i >> 12));
}

/* --- write() commands, carried by the INVOKE_WRITE ioctl */

/*
 * Run write() command @id: @in/@in_len is the core request, @out/@out_len
 * the core response (none if @out_len is 0), @uhw_in and @uhw_out the
 * driver's udata (none if NULL).
 */
static inline int uv_write_cmd(int fd, __u32 id, const void *in, size_t in_len,
			       void *out, size_t out_len, const void *uhw_in,
			       size_t uhw_in_len, void *uhw_out,
			       size_t uhw_out_len)
{
	struct uv_cmd cmd;

	uv_cmd_init(&cmd, UVERBS_OBJECT_DEVICE, UVERBS_METHOD_INVOKE_WRITE);
	uv_attr_u64(&cmd, UVERBS_ATTR_WRITE_CMD, id);
	uv_attr_in(&cmd, UVERBS_ATTR_CORE_IN, in, in_len);
	if (out_len)
		uv_attr_out(&cmd, UVERBS_ATTR_CORE_OUT, out, out_len);
	if (uhw_in)
		uv_attr_in(&cmd, UVERBS_ATTR_UHW_IN, uhw_in, uhw_in_len);
	if (uhw_out)
		uv_attr_out(&cmd, UVERBS_ATTR_UHW_OUT, uhw_out, uhw_out_len);
	return uv_ioctl(fd, &cmd);
}

/* --- the demo device's queue formats (its datasheet; little endian) */

enum {
	UV_WQE_SEND = 1,
	UV_WQE_SEND_IMM,
	UV_WQE_WRITE,
	UV_WQE_WRITE_IMM,
	UV_WQE_READ,
	UV_WQE_RECV,
};

enum {
	UV_CQE_OK = 0,
	UV_CQE_LOC_LEN_ERR,
	UV_CQE_LOC_PROT_ERR,
	UV_CQE_REM_ACCESS_ERR,
	UV_CQE_REM_INV_REQ_ERR,
	UV_CQE_RNR_RETRY_EXC,
	UV_CQE_WR_FLUSH_ERR,
	UV_CQE_REM_OP_ERR,
	UV_CQE_FATAL_ERR,
	UV_CQE_RETRY_EXC,
};

#define UV_WQE_F_SIGNALED	0x1
#define UV_WQE_F_SOLICITED	0x2
#define UV_CQE_F_IMM		0x1
#define UV_CQE_F_RECV		0x2

struct uv_hw_sge {
	__u64 addr;
	__u32 length;
	__u32 lkey;
};

struct uv_hw_wqe {
	__u8 opcode;
	__u8 flags;
	__u8 num_sge;
	__u8 rsvd;
	__be32 imm;
	__u64 remote_addr;
	__u32 rkey;
	__u32 rsvd2;
	__u64 rsvd3;
	struct uv_hw_sge sge[2];
};

struct uv_hw_cqe {
	__u8 opcode;
	__u8 status;
	__u8 flags;
	__u8 owner;
	__u32 qpn;
	__u16 wqe_idx;
	__u16 src_lid;
	__u32 src_qpn;
	__u32 byte_len;
	__be32 imm;
	__u64 rsvd;
};

struct uv_hw_qp_dbr {
	__u32 sq_pi;
	__u32 rq_pi;
};

struct uv_hw_cq_dbr {
	__u32 ci;
	__u32 rsvd;
};

/* --- user context with the demo driver's response */

static inline int _uv_get_context_drv(int fd, const void *uhw_in,
				      size_t uhw_in_len,
				      struct demo_alloc_ucontext_resp *resp)
{
	struct uv_cmd cmd;

	uv_cmd_init(&cmd, UVERBS_OBJECT_DEVICE, UVERBS_METHOD_GET_CONTEXT);
	if (uhw_in)
		uv_attr_in(&cmd, UVERBS_ATTR_UHW_IN, uhw_in, uhw_in_len);
	uv_attr_out(&cmd, UVERBS_ATTR_UHW_OUT, resp, sizeof(*resp));
	return uv_ioctl(fd, &cmd);
}

#define uv_get_context_drv(fd, r) ASSERT_EQ(0, _uv_get_context_drv(fd, NULL, 0, r))
#define uv_err_get_context_drv(e, fd, in, len, r) \
	ASSERT_EQ(e, _uv_get_context_drv(fd, in, len, r))

/* --- completion queues, polled in userspace */

struct uv_cq {
	int fd;
	__u32 handle;
	__u32 depth;
	__u16 ci;
	struct demo_create_cq_resp resp;
	void *map;
	struct uv_hw_cqe *ring;
	struct uv_hw_cq_dbr *dbr;
};

static inline int _uv_create_comp_channel(int fd, int *chan)
{
	struct ib_uverbs_create_comp_channel req = {};
	struct ib_uverbs_create_comp_channel_resp resp = {};
	int rc;

	rc = uv_write_cmd(fd, IB_USER_VERBS_CMD_CREATE_COMP_CHANNEL, &req,
			  sizeof(req), &resp, sizeof(resp), NULL, 0, NULL, 0);
	if (!rc)
		*chan = resp.fd;
	return rc;
}

#define uv_create_comp_channel(fd, c) ASSERT_EQ(0, _uv_create_comp_channel(fd, c))
#define uv_err_create_comp_channel(e, fd, c) \
	ASSERT_EQ(e, _uv_create_comp_channel(fd, c))

/*
 * Create a CQ of at least @cqe entries and map it. @uhw/@uhw_len replaces
 * the driver request (NULL: a zeroed struct demo_create_cq); @chan is a
 * completion channel fd or -1.
 */
static inline int __uv_create_cq(int fd, __u32 cqe, int chan,
				 const void *uhw, size_t uhw_len,
				 struct uv_cq *cq)
{
	struct ib_uverbs_create_cq req = {
		.user_handle = (uintptr_t)cq,
		.cqe = cqe,
		.comp_channel = chan,
	};
	struct ib_uverbs_create_cq_resp resp = {};
	struct demo_create_cq dreq = {};
	int rc;

	memset(cq, 0, sizeof(*cq));
	cq->fd = fd;
	rc = uv_write_cmd(fd, IB_USER_VERBS_CMD_CREATE_CQ, &req, sizeof(req),
			  &resp, sizeof(resp), uhw ? uhw : &dreq,
			  uhw ? uhw_len : sizeof(dreq), &cq->resp,
			  sizeof(cq->resp));
	if (rc)
		return rc;
	cq->handle = resp.cq_handle;
	cq->depth = cq->resp.depth;
	cq->map = mmap(NULL, cq->resp.mmap_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, cq->resp.mmap_offset);
	if (cq->map == MAP_FAILED)
		return errno;
	cq->ring = cq->map;
	cq->dbr = cq->map + cq->resp.dbr_offset;
	return 0;
}

static inline int _uv_create_cq(int fd, __u32 cqe, int chan, struct uv_cq *cq)
{
	return __uv_create_cq(fd, cqe, chan, NULL, 0, cq);
}

static inline int _uv_destroy_cq(struct uv_cq *cq)
{
	struct ib_uverbs_destroy_cq req = { .cq_handle = cq->handle };
	struct ib_uverbs_destroy_cq_resp resp;

	if (cq->map && cq->map != MAP_FAILED)
		munmap(cq->map, cq->resp.mmap_size);
	cq->map = NULL;
	return uv_write_cmd(cq->fd, IB_USER_VERBS_CMD_DESTROY_CQ, &req,
			    sizeof(req), &resp, sizeof(resp), NULL, 0, NULL, 0);
}

static inline int _uv_req_notify_cq(struct uv_cq *cq, bool solicited)
{
	struct ib_uverbs_req_notify_cq req = {
		.cq_handle = cq->handle,
		.solicited_only = solicited,
	};

	return uv_write_cmd(cq->fd, IB_USER_VERBS_CMD_REQ_NOTIFY_CQ, &req,
			    sizeof(req), NULL, 0, NULL, 0, NULL, 0);
}

/* The kernel's POLL_CQ, which the demo driver refuses for user CQs. */
static inline int _uv_kernel_poll_cq(struct uv_cq *cq)
{
	struct ib_uverbs_poll_cq req = { .cq_handle = cq->handle, .ne = 1 };
	struct {
		struct ib_uverbs_poll_cq_resp hdr;
		struct ib_uverbs_wc wc;
	} resp;

	return uv_write_cmd(cq->fd, IB_USER_VERBS_CMD_POLL_CQ, &req,
			    sizeof(req), &resp, sizeof(resp), NULL, 0, NULL, 0);
}

#define uv_create_cq(fd, n, ch, cq) ASSERT_EQ(0, _uv_create_cq(fd, n, ch, cq))
#define uv_err_create_cq(e, fd, n, ch, cq) \
	ASSERT_EQ(e, _uv_create_cq(fd, n, ch, cq))
#define uv_destroy_cq(cq) ASSERT_EQ(0, _uv_destroy_cq(cq))
#define uv_err_destroy_cq(e, cq) ASSERT_EQ(e, _uv_destroy_cq(cq))
#define uv_req_notify_cq(cq, s) ASSERT_EQ(0, _uv_req_notify_cq(cq, s))
#define uv_err_req_notify_cq(e, cq, s) ASSERT_EQ(e, _uv_req_notify_cq(cq, s))
#define uv_err_kernel_poll_cq(e, cq) ASSERT_EQ(e, _uv_kernel_poll_cq(cq))

/* Take the next CQE, if the device has written one; returns 1 or 0. */
static inline int uv_poll_cq(struct uv_cq *cq, struct uv_hw_cqe *cqe)
{
	struct uv_hw_cqe *e = &cq->ring[cq->ci & (cq->depth - 1)];

	if (__atomic_load_n(&e->owner, __ATOMIC_ACQUIRE) !=
	    !(cq->ci & cq->depth))
		return 0;
	*cqe = *e;
	cq->ci++;
	/* The device reads the consumer index when the CQ looks full. */
	__atomic_store_n(&cq->dbr->ci, cq->ci, __ATOMIC_RELEASE);
	return 1;
}

/* Wait up to @ms milliseconds for the next CQE; 0 or ETIMEDOUT. */
static inline int uv_wait_cq(struct uv_cq *cq, struct uv_hw_cqe *cqe, int ms)
{
	int i, rc = ETIMEDOUT;

	for (i = 0; i <= ms * 10 && rc; i++) {
		if (uv_poll_cq(cq, cqe))
			rc = 0;
		else
			usleep(100);
	}
	return rc;
}

/* --- RC queue pairs, posted to in userspace */

/* enum ib_qp_attr_mask, enum ib_qp_state and enum ib_mtu: not in uapi */
enum {
	UV_QP_STATE = 1 << 0,
	UV_QP_ACCESS_FLAGS = 1 << 3,
	UV_QP_PKEY_INDEX = 1 << 4,
	UV_QP_PORT = 1 << 5,
	UV_QP_AV = 1 << 7,
	UV_QP_PATH_MTU = 1 << 8,
	UV_QP_TIMEOUT = 1 << 9,
	UV_QP_RETRY_CNT = 1 << 10,
	UV_QP_RNR_RETRY = 1 << 11,
	UV_QP_RQ_PSN = 1 << 12,
	UV_QP_MAX_QP_RD_ATOMIC = 1 << 13,
	UV_QP_MIN_RNR_TIMER = 1 << 15,
	UV_QP_SQ_PSN = 1 << 16,
	UV_QP_MAX_DEST_RD_ATOMIC = 1 << 17,
	UV_QP_DEST_QPN = 1 << 20,
};

enum {
	UV_QPS_RESET,
	UV_QPS_INIT,
	UV_QPS_RTR,
	UV_QPS_RTS,
	UV_QPS_SQD,
	UV_QPS_SQE,
	UV_QPS_ERR,
};

#define UV_MTU_4096 5

struct uv_qp {
	int fd;
	__u32 handle;
	__u32 qpn;
	__u16 sq_pi, rq_pi;
	struct demo_create_qp_resp resp;
	void *map;
	struct uv_hw_wqe *sq, *rq;
	struct uv_hw_qp_dbr *dbr;
};

struct uv_qp_init {
	__u32 pd;
	struct uv_cq *scq, *rcq;
	__u32 max_send_wr, max_recv_wr;
	__u32 max_inline;
	bool sig_all;
};

static inline int __uv_create_qp(int fd, const struct uv_qp_init *init,
				 const void *uhw, size_t uhw_len,
				 struct uv_qp *qp)
{
	struct ib_uverbs_create_qp req = {
		.user_handle = (uintptr_t)qp,
		.pd_handle = init->pd,
		.send_cq_handle = init->scq->handle,
		.recv_cq_handle = init->rcq->handle,
		.max_send_wr = init->max_send_wr,
		.max_recv_wr = init->max_recv_wr,
		.max_send_sge = 1,
		.max_recv_sge = 1,
		.max_inline_data = init->max_inline,
		.sq_sig_all = init->sig_all,
		.qp_type = IB_UVERBS_QPT_RC,
	};
	struct ib_uverbs_create_qp_resp resp = {};
	struct demo_create_qp dreq = {};
	int rc;

	memset(qp, 0, sizeof(*qp));
	qp->fd = fd;
	rc = uv_write_cmd(fd, IB_USER_VERBS_CMD_CREATE_QP, &req, sizeof(req),
			  &resp, sizeof(resp), uhw ? uhw : &dreq,
			  uhw ? uhw_len : sizeof(dreq), &qp->resp,
			  sizeof(qp->resp));
	if (rc)
		return rc;
	qp->handle = resp.qp_handle;
	qp->qpn = resp.qpn;
	qp->map = mmap(NULL, qp->resp.mmap_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, qp->resp.mmap_offset);
	if (qp->map == MAP_FAILED)
		return errno;
	qp->sq = qp->map + qp->resp.sq_offset;
	qp->rq = qp->map + qp->resp.rq_offset;
	qp->dbr = qp->map + qp->resp.dbr_offset;
	return 0;
}

static inline int _uv_create_qp(int fd, const struct uv_qp_init *init,
				struct uv_qp *qp)
{
	return __uv_create_qp(fd, init, NULL, 0, qp);
}

static inline int _uv_destroy_qp(struct uv_qp *qp)
{
	struct ib_uverbs_destroy_qp req = { .qp_handle = qp->handle };
	struct ib_uverbs_destroy_qp_resp resp;

	if (qp->map && qp->map != MAP_FAILED)
		munmap(qp->map, qp->resp.mmap_size);
	qp->map = NULL;
	return uv_write_cmd(qp->fd, IB_USER_VERBS_CMD_DESTROY_QP, &req,
			    sizeof(req), &resp, sizeof(resp), NULL, 0, NULL, 0);
}

static inline int _uv_modify_qp(struct uv_qp *qp,
				struct ib_uverbs_modify_qp *req)
{
	req->qp_handle = qp->handle;
	return uv_write_cmd(qp->fd, IB_USER_VERBS_CMD_MODIFY_QP, req,
			    sizeof(*req), NULL, 0, NULL, 0, NULL, 0);
}

/* The QP state the kernel reports (enum ib_qp_state). */
static inline int uv_query_qp_state(struct uv_qp *qp)
{
	struct ib_uverbs_query_qp req = {
		.qp_handle = qp->handle,
		.attr_mask = UV_QP_STATE,
	};
	struct ib_uverbs_query_qp_resp resp = {};
	int rc;

	rc = uv_write_cmd(qp->fd, IB_USER_VERBS_CMD_QUERY_QP, &req,
			  sizeof(req), &resp, sizeof(resp), NULL, 0, NULL, 0);
	return rc ? -rc : resp.qp_state;
}

static inline int _uv_qp_to_init(struct uv_qp *qp, __u32 access)
{
	struct ib_uverbs_modify_qp m = {
		.attr_mask = UV_QP_STATE | UV_QP_PKEY_INDEX | UV_QP_PORT |
			     UV_QP_ACCESS_FLAGS,
		.qp_state = UV_QPS_INIT,
		.port_num = 1,
		.qp_access_flags = access,
	};

	return _uv_modify_qp(qp, &m);
}

static inline int _uv_qp_to_rtr(struct uv_qp *qp, __u16 dlid, __u32 dqpn,
				__u8 rnr_retry)
{
	struct ib_uverbs_modify_qp m = {
		.attr_mask = UV_QP_STATE | UV_QP_AV | UV_QP_PATH_MTU |
			     UV_QP_DEST_QPN | UV_QP_RQ_PSN |
			     UV_QP_MAX_DEST_RD_ATOMIC | UV_QP_MIN_RNR_TIMER,
		.qp_state = UV_QPS_RTR,
		.dest = { .dlid = dlid, .port_num = 1 },
		.path_mtu = UV_MTU_4096,
		.dest_qp_num = dqpn,
		.max_dest_rd_atomic = 1,
		.min_rnr_timer = 1,
	};
	struct ib_uverbs_modify_qp r = {
		.attr_mask = UV_QP_STATE | UV_QP_TIMEOUT | UV_QP_RETRY_CNT |
			     UV_QP_RNR_RETRY | UV_QP_SQ_PSN |
			     UV_QP_MAX_QP_RD_ATOMIC,
		.qp_state = UV_QPS_RTS,
		.timeout = 14,
		.retry_cnt = 7,
		.rnr_retry = rnr_retry,
		.max_rd_atomic = 1,
	};
	int rc = _uv_modify_qp(qp, &m);

	return rc ? rc : _uv_modify_qp(qp, &r);
}

/* INIT, RTR and RTS towards QP @dqpn on the port with LID @dlid. */
static inline int _uv_qp_connect(struct uv_qp *qp, __u32 access, __u16 dlid,
				 __u32 dqpn, __u8 rnr_retry)
{
	int rc = _uv_qp_to_init(qp, access);

	return rc ? rc : _uv_qp_to_rtr(qp, dlid, dqpn, rnr_retry);
}

#define uv_create_qp(fd, i, qp) ASSERT_EQ(0, _uv_create_qp(fd, i, qp))
#define uv_err_create_qp(e, fd, i, qp) ASSERT_EQ(e, _uv_create_qp(fd, i, qp))
#define uv_destroy_qp(qp) ASSERT_EQ(0, _uv_destroy_qp(qp))
#define uv_err_destroy_qp(e, qp) ASSERT_EQ(e, _uv_destroy_qp(qp))
#define uv_modify_qp(qp, m) ASSERT_EQ(0, _uv_modify_qp(qp, m))
#define uv_err_modify_qp(e, qp, m) ASSERT_EQ(e, _uv_modify_qp(qp, m))
#define uv_qp_connect(qp, a, l, n, r) \
	ASSERT_EQ(0, _uv_qp_connect(qp, a, l, n, r))
#define uv_err_qp_connect(e, qp, a, l, n, r) \
	ASSERT_EQ(e, _uv_qp_connect(qp, a, l, n, r))

/*
 * The send doorbell: a POST_SEND with @wr_count work requests. With none
 * it tells the device to read the QP's doorbell record.
 */
static inline int _uv_post_send_cmd(struct uv_qp *qp, __u32 wr_count)
{
	struct {
		struct ib_uverbs_post_send hdr;
		struct ib_uverbs_send_wr wr;
	} req = {
		.hdr = {
			.qp_handle = qp->handle,
			.wr_count = wr_count,
			.wqe_size = sizeof(struct ib_uverbs_send_wr),
		},
		.wr = { .opcode = IB_UVERBS_WR_SEND },
	};
	struct ib_uverbs_post_send_resp resp;

	return uv_write_cmd(qp->fd, IB_USER_VERBS_CMD_POST_SEND, &req,
			    sizeof(req.hdr) + wr_count * sizeof(req.wr),
			    &resp, sizeof(resp), NULL, 0, NULL, 0);
}

static inline int _uv_post_recv_cmd(struct uv_qp *qp, __u32 wr_count)
{
	struct {
		struct ib_uverbs_post_recv hdr;
		struct ib_uverbs_recv_wr wr;
	} req = {
		.hdr = {
			.qp_handle = qp->handle,
			.wr_count = wr_count,
			.wqe_size = sizeof(struct ib_uverbs_recv_wr),
		},
	};
	struct ib_uverbs_post_recv_resp resp;

	return uv_write_cmd(qp->fd, IB_USER_VERBS_CMD_POST_RECV, &req,
			    sizeof(req.hdr) + wr_count * sizeof(req.wr),
			    &resp, sizeof(resp), NULL, 0, NULL, 0);
}

struct uv_wr {
	__u8 opcode;		/* UV_WQE_* */
	__u8 flags;		/* UV_WQE_F_* */
	__u64 addr;		/* local buffer */
	__u32 length;
	__u32 lkey;
	__u64 remote_addr;
	__u32 rkey;
	__be32 imm;
};

/* Write a send WQE, publish the producer index, ring the doorbell. */
static inline int _uv_post_send(struct uv_qp *qp, const struct uv_wr *wr)
{
	struct uv_hw_wqe *w = &qp->sq[qp->sq_pi & (qp->resp.sq_depth - 1)];

	memset(w, 0, sizeof(*w));
	w->opcode = wr->opcode;
	w->flags = wr->flags;
	w->imm = wr->imm;
	w->remote_addr = wr->remote_addr;
	w->rkey = wr->rkey;
	w->num_sge = wr->length ? 1 : 0;
	w->sge[0].addr = wr->addr;
	w->sge[0].length = wr->length;
	w->sge[0].lkey = wr->lkey;
	qp->sq_pi++;
	__atomic_store_n(&qp->dbr->sq_pi, qp->sq_pi, __ATOMIC_RELEASE);
	return _uv_post_send_cmd(qp, 0);
}

/* Receives need no system call: the device reads the record. */
static inline void uv_post_recv(struct uv_qp *qp, __u64 addr, __u32 length,
				__u32 lkey)
{
	struct uv_hw_wqe *w = &qp->rq[qp->rq_pi & (qp->resp.rq_depth - 1)];

	memset(w, 0, sizeof(*w));
	w->opcode = UV_WQE_RECV;
	w->num_sge = 1;
	w->sge[0].addr = addr;
	w->sge[0].length = length;
	w->sge[0].lkey = lkey;
	qp->rq_pi++;
	__atomic_store_n(&qp->dbr->rq_pi, qp->rq_pi, __ATOMIC_RELEASE);
}

#define uv_post_send(qp, wr) ASSERT_EQ(0, _uv_post_send(qp, wr))
#define uv_err_post_send(e, qp, wr) ASSERT_EQ(e, _uv_post_send(qp, wr))
#define uv_post_send_cmd(qp, n) ASSERT_EQ(0, _uv_post_send_cmd(qp, n))
#define uv_err_post_send_cmd(e, qp, n) ASSERT_EQ(e, _uv_post_send_cmd(qp, n))
#define uv_err_post_recv_cmd(e, qp, n) ASSERT_EQ(e, _uv_post_recv_cmd(qp, n))

/* --- what the RDMA core tracks (rdma resource show, over RDMA netlink) */

/* The attributes of the @len bytes at @a, by type, into @tb[0..@max]. */
static inline void uv_nla_parse(struct nlattr *a, int len, struct nlattr **tb,
				int max)
{
	memset(tb, 0, (max + 1) * sizeof(*tb));
	while (len >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	       a->nla_len <= len) {
		int type = a->nla_type & NLA_TYPE_MASK;

		if (type <= max)
			tb[type] = a;
		len -= NLA_ALIGN(a->nla_len);
		a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	}
}

#define UV_NLA_DATA(a)	((void *)((char *)(a) + NLA_HDRLEN))
#define UV_NLA_LEN(a)	((int)(a)->nla_len - NLA_HDRLEN)

/* One device's RES_GET answer: its summary counts, if it is @ibdev. */
static inline void uv_res_msg(struct nlmsghdr *h, const char *ibdev,
			      const char * const *types, unsigned int n,
			      long *out)
{
	struct nlattr *tb[RDMA_NLDEV_ATTR_MAX], *ent[RDMA_NLDEV_ATTR_MAX];
	struct nlattr *e, *name, *curr;
	int len, max = RDMA_NLDEV_ATTR_MAX - 1;
	unsigned int i;

	uv_nla_parse(NLMSG_DATA(h), h->nlmsg_len - NLMSG_HDRLEN, tb, max);
	if (!tb[RDMA_NLDEV_ATTR_DEV_NAME] ||
	    strcmp(UV_NLA_DATA(tb[RDMA_NLDEV_ATTR_DEV_NAME]), ibdev) ||
	    !tb[RDMA_NLDEV_ATTR_RES_SUMMARY])
		return;
	e = UV_NLA_DATA(tb[RDMA_NLDEV_ATTR_RES_SUMMARY]);
	len = UV_NLA_LEN(tb[RDMA_NLDEV_ATTR_RES_SUMMARY]);
	while (len >= NLA_HDRLEN && e->nla_len >= NLA_HDRLEN &&
	       e->nla_len <= len) {
		uv_nla_parse(UV_NLA_DATA(e), UV_NLA_LEN(e), ent, max);
		name = ent[RDMA_NLDEV_ATTR_RES_SUMMARY_ENTRY_NAME];
		curr = ent[RDMA_NLDEV_ATTR_RES_SUMMARY_ENTRY_CURR];
		for (i = 0; name && curr && i < n; i++) {
			__u64 v;

			if (strcmp(UV_NLA_DATA(name), types[i]))
				continue;
			memcpy(&v, UV_NLA_DATA(curr), sizeof(v));
			out[i] = v;
		}
		len -= NLA_ALIGN(e->nla_len);
		e = (struct nlattr *)((char *)e + NLA_ALIGN(e->nla_len));
	}
}

/*
 * The counts of @n object types (@types: "pd", "cq", "qp", "mr", "ctx",
 * ...) of @ibdev, in @out, as `rdma resource show` reports them; -1 for a
 * type the kernel did not report. Asks the kernel directly (an RDMA
 * netlink RES_GET dump), so no tool is needed; returns 0, or -1 if the
 * dump failed.
 */
static inline int uv_res_counts(const char *ibdev, const char * const *types,
				unsigned int n, long *out)
{
	struct nlmsghdr req = {
		.nlmsg_len = NLMSG_LENGTH(0),
		.nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV,
					       RDMA_NLDEV_CMD_RES_GET),
		.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.nlmsg_seq = 1,
	};
	static char buf[65536];
	struct nlmsghdr *h;
	unsigned int i;
	int fd, len, rc = -1;

	for (i = 0; i < n; i++)
		out[i] = -1;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_RDMA);
	if (fd < 0)
		return -1;
	if (send(fd, &req, req.nlmsg_len, 0) != (ssize_t)req.nlmsg_len)
		goto out;
	for (;;) {
		len = recv(fd, buf, sizeof(buf), 0);
		if (len <= 0)
			goto out;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				rc = 0;
				goto out;
			}
			if (h->nlmsg_type == NLMSG_ERROR)
				goto out;
			uv_res_msg(h, ibdev, types, n, out);
		}
	}
out:
	close(fd);
	return rc;
}

/* The number of @type objects of @ibdev, or -1. */
static inline long uv_res_count(const char *ibdev, const char *type)
{
	long v;

	uv_res_counts(ibdev, &type, 1, &v);
	return v;
}

/* The process's pinned memory (VmPin in /proc/self/status) in KiB, or -1. */
static inline long uv_vm_pinned_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* The LID of port 1 of @ibdev, from sysfs; 0 if unknown. */
static inline __u16 uv_lid(const char *ibdev)
{
	char path[PATH_MAX], buf[32];

	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/1/lid",
		 ibdev);
	if (uv_read_line(path, buf, sizeof(buf)))
		return 0;
	return strtoul(buf, NULL, 0);
}

#ifdef __KSELFTEST_HARNESS_H

/* --- RC connections between two HCAs, for the harness's tests */

#define UV_RC_ACCESS (IB_UVERBS_ACCESS_LOCAL_WRITE | \
		      IB_UVERBS_ACCESS_REMOTE_WRITE | \
		      IB_UVERBS_ACCESS_REMOTE_READ)
#define UV_RC_WAIT_MS	5000
#define UV_RC_OP_LEN	4096
#define UV_RNR_INFINITE	7

/* One end of an RC connection: its own context, PD, CQ and QP. */
struct uv_end {
	int fd;
	char ibdev[64];
	__u32 pd;
	struct uv_cq cq;
	struct uv_qp qp;
	bool cq_live, qp_live;
};

/*
 * Open the @nth demo HCA of @bus and make an end on it: 0, -1 if there is
 * no such HCA, or the errno of the object that could not be made. Call
 * uv_end_close() in every case but -1.
 */
static inline int uv_end_open(struct uv_end *e, enum uv_bus bus, int nth)
{
	struct uv_qp_init init = { .max_send_wr = 16, .max_recv_wr = 16 };
	struct demo_alloc_ucontext_resp caps;
	int rc;

	e->cq_live = false;
	e->qp_live = false;
	e->fd = uv_open_demo(bus, nth, e->ibdev, sizeof(e->ibdev));
	if (e->fd < 0)
		return -1;
	rc = _uv_get_context_drv(e->fd, NULL, 0, &caps);
	if (!rc)
		rc = _uv_alloc_pd(e->fd, &e->pd);
	if (!rc)
		rc = _uv_create_cq(e->fd, 16, -1, &e->cq);
	if (rc)
		return rc;
	e->cq_live = true;
	init.pd = e->pd;
	init.scq = &e->cq;
	init.rcq = &e->cq;
	rc = _uv_create_qp(e->fd, &init, &e->qp);
	e->qp_live = !rc;
	return rc;
}

static inline void uv_end_close(struct __test_metadata *_metadata,
				struct uv_end *e)
{
	if (e->qp_live)
		EXPECT_EQ(0, _uv_destroy_qp(&e->qp));
	if (e->cq_live)
		EXPECT_EQ(0, _uv_destroy_cq(&e->cq));
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
	e->cq_live = false;
	e->qp_live = false;
}

/*
 * One UV_RC_OP_LEN operation from @from to @to, and its completions.
 * @laddr/@lkey is the local buffer; @raddr/@rkey the peer's memory for
 * READ and WRITE, or for SEND the receive buffer first posted on @to.
 * The requester's completion must have @status.
 */
static inline void uv_rc_op(struct __test_metadata *_metadata,
			    struct uv_end *from, struct uv_end *to,
			    __u8 opcode, __u64 laddr, __u32 lkey,
			    __u64 raddr, __u32 rkey, int status)
{
	struct uv_wr wr = { .opcode = opcode, .flags = UV_WQE_F_SIGNALED,
			    .addr = laddr, .length = UV_RC_OP_LEN,
			    .lkey = lkey };
	struct uv_hw_cqe c;

	if (opcode == UV_WQE_SEND) {
		uv_post_recv(&to->qp, raddr, UV_RC_OP_LEN, rkey);
	} else {
		wr.remote_addr = raddr;
		wr.rkey = rkey;
	}
	ASSERT_EQ(0, _uv_post_send(&from->qp, &wr));
	ASSERT_EQ(0, uv_wait_cq(&from->cq, &c, UV_RC_WAIT_MS));
	ASSERT_EQ(status, c.status);
	if (status)
		return;
	ASSERT_EQ(opcode, c.opcode);
	if (opcode != UV_WQE_SEND)
		return;
	ASSERT_EQ(0, uv_wait_cq(&to->cq, &c, UV_RC_WAIT_MS));
	ASSERT_EQ(UV_CQE_OK, c.status);
	ASSERT_TRUE(c.flags & UV_CQE_F_RECV);
	ASSERT_EQ(UV_RC_OP_LEN, c.byte_len);
}

#endif /* __KSELFTEST_HARNESS_H */

#endif /* __DEMO_UVERBS_H */
