// SPDX-License-Identifier: GPL-2.0-only
/*
 * A demo HCA that fails while a process holds objects on it.
 *
 * The device model's test port makes the device take a command and never
 * complete it, report a fatal error, or fail while a command waits. Each
 * way the driver resets the device, and then the process sees
 * IB_EVENT_DEVICE_FATAL on its async event file, new commands fail with
 * EIO, every object it holds can still be destroyed, and once it is done
 * its pinned memory and the RDMA core's object counts are back where they
 * were. The device runs no command after the reset: its command counter
 * does not move.
 *
 * Removing the HCA, or unloading the driver module, while the process
 * holds all that completes at once, and the process is told the same
 * way. A process killed while its traffic streams, or while it waits in
 * a command the device never completes, leaves nothing behind either.
 *
 * Each test makes its own HCA on a new platform device (the driver's
 * new_device) and removes it, so no other HCA is ever touched.
 */
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "../kselftest_harness.h"
/* Each test makes its own HCA: none for the whole program. */
#define UV_PLATFORM_HCAS 0
#include "demo_uverbs.h"

#define DBG		"/sys/kernel/debug"
#define MR_SIZE		(256 * 4096UL)
#define ACCESS_ALL	(IB_UVERBS_ACCESS_LOCAL_WRITE | \
			 IB_UVERBS_ACCESS_REMOTE_WRITE | \
			 IB_UVERBS_ACCESS_REMOTE_READ)
/* enum ib_event_type in the kernel, as the async event file reports it */
#define EVENT_DEVICE_FATAL	8

static const char * const res_types[] = { "ctx", "pd", "cq", "qp", "mr" };

/* What a test holds on its HCA */
struct hca {
	int id;			/* platform device id, -1: none */
	char ibdev[64];
	int fd, async_fd;
	__u32 pd, mr, key;
	struct uv_cq cq;
	struct uv_qp qp;
	void *buf;
	long pinned_kb;		/* VmPin before the test pinned anything */
	long base[5];
	long long cmds;
};

FIXTURE(demo_reset) {
	struct hca h;
};

/* A new file of the uverbs device of @ibdev (a new context), or -1. */
static int open_ibdev(const char *ibdev)
{
	char path[PATH_MAX], uverbs[64];

	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/device/infiniband_verbs", ibdev);
	if (uv_first_entry(path, uverbs, sizeof(uverbs)))
		return -1;
	snprintf(path, sizeof(path), "/dev/infiniband/%s", uverbs);
	return open(path, O_RDWR | O_CLOEXEC);
}

/*
 * Make an HCA on a new platform device: its id in @id, its name in
 * @ibdev, its uverbs device opened. Returns the fd, or -1.
 */
static int new_hca(int *id, char *ibdev, size_t len)
{
	char path[PATH_MAX];

	*id = uv_new_hca_any();
	if (*id < 0)
		return -1;
	snprintf(path, sizeof(path),
		 "/sys/bus/platform/devices/demo_rdma.%d/infiniband", *id);
	if (uv_first_entry(path, ibdev, len))
		return -1;
	return open_ibdev(ibdev);
}

/* The test port file @name of the device model behind demo_rdma.@id */
static int port_write(int id, const char *name, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), DBG "/demo_model/demo_rdma.%d/%s", id,
		 name);
	return uv_write_file(path, val);
}

/* The process's async event file; returns the fd or -1. */
static int async_event_fd(int fd)
{
	struct uv_cmd cmd;

	uv_cmd_init(&cmd, UVERBS_OBJECT_ASYNC_EVENT,
		    UVERBS_METHOD_ASYNC_EVENT_ALLOC);
	uv_attr_obj(&cmd, UVERBS_ATTR_ASYNC_EVENT_ALLOC_FD_HANDLE, 0);
	if (uv_ioctl(fd, &cmd))
		return -1;
	return cmd.attrs[0].data;
}

/* The next async event's type within @ms, or -1. */
static int next_event(int async_fd, int ms)
{
	struct ib_uverbs_async_event_desc ev;
	struct pollfd p = { .fd = async_fd, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return -1;
	if (read(async_fd, &ev, sizeof(ev)) != sizeof(ev))
		return -1;
	return ev.event_type;
}

FIXTURE_SETUP(demo_reset)
{
	struct hca *h = &self->h;
	struct uv_qp_init init = { .max_send_wr = 8, .max_recv_wr = 8 };

	h->id = -1;
	h->fd = -1;
	h->async_fd = -1;
	if (uv_cmdline_has("swiotlb=force"))
		SKIP(return, "swiotlb=force: user queues and MRs are refused");
	h->fd = new_hca(&h->id, h->ibdev, sizeof(h->ibdev));
	ASSERT_LE(0, h->fd);
	ASSERT_EQ(0, uv_res_counts(h->ibdev, res_types,
				   ARRAY_SIZE(res_types), h->base));
	h->pinned_kb = uv_vm_pinned_kb();
	ASSERT_LE(0, h->pinned_kb);

	uv_get_context(h->fd, NULL, NULL);
	h->async_fd = async_event_fd(h->fd);
	ASSERT_LE(0, h->async_fd);
	ASSERT_EQ(0, _uv_alloc_pd(h->fd, &h->pd));
	h->buf = mmap(NULL, MR_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, h->buf);
	ASSERT_EQ(0, _uv_reg_mr(h->fd, h->pd, h->buf, MR_SIZE,
				(uintptr_t)h->buf, ACCESS_ALL, &h->mr,
				&h->key));
	ASSERT_LT(h->pinned_kb, uv_vm_pinned_kb());
	ASSERT_EQ(0, _uv_create_cq(h->fd, 16, -1, &h->cq));
	init.pd = h->pd;
	init.scq = &h->cq;
	init.rcq = &h->cq;
	ASSERT_EQ(0, _uv_create_qp(h->fd, &init, &h->qp));
	h->cmds = uv_counter(h->ibdev, "commands");
	ASSERT_LE(0, h->cmds);
}

FIXTURE_TEARDOWN(demo_reset)
{
	struct hca *h = &self->h;
	if (h->async_fd >= 0)
		close(h->async_fd);
	if (h->fd >= 0)
		close(h->fd);
	if (h->buf && h->buf != MAP_FAILED)
		munmap(h->buf, MR_SIZE);
	if (h->id >= 0)
		EXPECT_EQ(0, uv_del_hca(h->id));
}

/*
 * After the reset: the event, EIO for new commands, every object
 * destroyed, nothing pinned or counted any more, and no command run.
 */
static void after_reset(struct __test_metadata *_metadata, struct hca *h)
{
	long now[ARRAY_SIZE(res_types)];
	struct uv_cq cq2;
	unsigned int i;

	ASSERT_EQ(EVENT_DEVICE_FATAL, next_event(h->async_fd, 5000));
	EXPECT_EQ(EIO, _uv_create_cq(h->fd, 16, -1, &cq2));
	EXPECT_EQ(0, _uv_destroy_qp(&h->qp));
	EXPECT_EQ(0, _uv_destroy_cq(&h->cq));
	EXPECT_EQ(0, _uv_dereg_mr(h->fd, h->mr));
	EXPECT_EQ(h->pinned_kb, uv_vm_pinned_kb());
	EXPECT_EQ(0, _uv_dealloc_pd(h->fd, h->pd));
	close(h->async_fd);
	h->async_fd = -1;
	close(h->fd);
	h->fd = -1;
	ASSERT_EQ(0, uv_res_counts(h->ibdev, res_types,
				   ARRAY_SIZE(res_types), now));
	for (i = 0; i < ARRAY_SIZE(res_types); i++) {
		if (now[i] != h->base[i])
			TH_LOG("%s count %ld, was %ld", res_types[i], now[i],
			       h->base[i]);
		EXPECT_EQ(h->base[i], now[i]);
	}
	/* The dropped command did not run, nor anything after the reset. */
	EXPECT_EQ(h->cmds, uv_counter(h->ibdev, "commands"));
}

/*
 * The device takes a command (CREATE_MR) and never completes it: after
 * the driver's 5 s the registration fails with ETIMEDOUT, its pages are
 * unpinned, and the device is reset.
 */
TEST_F(demo_reset, dropped_command)
{
	struct hca *h = &self->h;
	__u32 mr2, key2;

	ASSERT_EQ(0, port_write(h->id, "drop_cmds", "1"));
	ASSERT_EQ(ETIMEDOUT, _uv_reg_mr(h->fd, h->pd, h->buf, MR_SIZE,
					(uintptr_t)h->buf, ACCESS_ALL, &mr2,
					&key2));
	after_reset(_metadata, h);
}

/* The device reports a fatal error: the driver resets it at once. */
TEST_F(demo_reset, fatal_error)
{
	struct hca *h = &self->h;

	ASSERT_EQ(0, port_write(h->id, "fatal", "1"));
	after_reset(_metadata, h);
}

/*
 * The device takes a command and fails before it completes it: the driver
 * stops waiting at once and the registration fails with EIO, as any
 * command on a failed device does, not with the timeout's ETIMEDOUT.
 */
TEST_F(demo_reset, fatal_during_command)
{
	struct hca *h = &self->h;
	struct timespec t0, t1;
	__u32 mr2, key2;
	int status;
	pid_t pid;

	ASSERT_EQ(0, port_write(h->id, "drop_cmds", "1"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* fail the device while the parent waits in its command */
		usleep(500 * 1000);
		_exit(port_write(h->id, "fatal", "1") ? 1 : 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(EIO, _uv_reg_mr(h->fd, h->pd, h->buf, MR_SIZE,
				  (uintptr_t)h->buf, ACCESS_ALL, &mr2, &key2));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* woken by the failure, not by the driver's 5 s timeout */
	EXPECT_GT(4, t1.tv_sec - t0.tv_sec);
	after_reset(_metadata, h);
}

/*
 * In a child: its own context on @ibdev, an RC QP connected to itself,
 * and RDMA WRITEs of half an MR to its other half, eight at a time, until
 * it is killed. One byte on @ready once the first eight completed; the
 * exit code says what failed before that.
 */
static void stream_until_killed(const char *ibdev, int ready)
{
	struct uv_qp_init init = { .max_send_wr = 8, .max_recv_wr = 8 };
	struct uv_hw_cqe c;
	__u32 pd, mr, key;
	struct uv_cq cq;
	struct uv_qp qp;
	char *buf;
	int fd, i;

	fd = open_ibdev(ibdev);
	if (fd < 0 || _uv_get_context(fd, NULL, NULL) || _uv_alloc_pd(fd, &pd))
		_exit(2);
	buf = mmap(NULL, MR_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED ||
	    _uv_reg_mr(fd, pd, buf, MR_SIZE, (uintptr_t)buf, ACCESS_ALL, &mr,
		       &key) ||
	    _uv_create_cq(fd, 16, -1, &cq))
		_exit(3);
	init.pd = pd;
	init.scq = &cq;
	init.rcq = &cq;
	if (_uv_create_qp(fd, &init, &qp) ||
	    _uv_qp_connect(&qp, ACCESS_ALL, uv_lid(ibdev), qp.qpn, 7))
		_exit(4);
	for (;;) {
		for (i = 0; i < 8; i++) {
			struct uv_wr wr = {
				.opcode = UV_WQE_WRITE,
				.flags = UV_WQE_F_SIGNALED,
				.addr = (uintptr_t)buf,
				.length = MR_SIZE / 2,
				.lkey = key,
				.remote_addr = (uintptr_t)buf + MR_SIZE / 2,
				.rkey = key,
			};

			if (_uv_post_send(&qp, &wr))
				_exit(5);
		}
		for (i = 0; i < 8; i++)
			if (uv_wait_cq(&cq, &c, 5000) || c.status)
				_exit(6);
		if (ready >= 0 && write(ready, "1", 1) == 1) {
			close(ready);
			ready = -1;
		}
	}
}

/*
 * A process is killed while its RDMA WRITEs stream through the HCA: its
 * context and objects go with its files, the RDMA core's counts are back
 * where they were, and the HCA, not reset, goes on serving this process.
 */
TEST_F(demo_reset, killed_during_traffic)
{
	long before[ARRAY_SIZE(res_types)], now[ARRAY_SIZE(res_types)];
	struct hca *h = &self->h;
	struct uv_cq cq2;
	unsigned int i;
	int p[2], status;
	pid_t pid;
	char c;

	ASSERT_EQ(0, uv_res_counts(h->ibdev, res_types,
				   ARRAY_SIZE(res_types), before));
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(p[0]);
		stream_until_killed(h->ibdev, p[1]);
	}
	close(p[1]);
	c = 0;
	EXPECT_EQ(1, read(p[0], &c, 1));
	close(p[0]);
	usleep(200 * 1000);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status))
		TH_LOG("the child exited with %d before it was killed",
		       WEXITSTATUS(status));
	ASSERT_EQ('1', c);

	ASSERT_EQ(0, uv_res_counts(h->ibdev, res_types,
				   ARRAY_SIZE(res_types), now));
	for (i = 0; i < ARRAY_SIZE(res_types); i++) {
		if (now[i] != before[i])
			TH_LOG("%s count %ld, was %ld", res_types[i], now[i],
			       before[i]);
		EXPECT_EQ(before[i], now[i]);
	}
	EXPECT_EQ(-1, next_event(h->async_fd, 0));
	EXPECT_EQ(0, _uv_create_cq(h->fd, 16, -1, &cq2));
	EXPECT_EQ(0, _uv_destroy_cq(&cq2));
}

/*
 * A process is killed while it waits in a command the device takes and
 * never completes: it goes once the driver's 5 s timeout has reset the
 * device, having pinned nothing for good, and the rest is as after any
 * reset.
 */
TEST_F(demo_reset, killed_in_blocking_command)
{
	struct hca *h = &self->h;
	__u32 mr2, key2;
	int status;
	pid_t pid;

	ASSERT_EQ(0, port_write(h->id, "drop_cmds", "1"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(_uv_reg_mr(h->fd, h->pd, h->buf, MR_SIZE,
				 (uintptr_t)h->buf, ACCESS_ALL, &mr2, &key2));
	usleep(500 * 1000);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	after_reset(_metadata, h);
}

/*
 * The HCA is removed while the process holds everything on it: removal
 * does not wait for the process, which gets IB_EVENT_DEVICE_FATAL and EIO
 * for new objects; its objects are gone with the device, and so is what
 * they pinned.
 */
TEST_F(demo_reset, removed_under_process)
{
	struct hca *h = &self->h;
	char path[PATH_MAX];
	__u32 pd2;

	snprintf(path, sizeof(path), "/sys/bus/platform/devices/demo_rdma.%d",
		 h->id);
	ASSERT_EQ(0, uv_del_hca(h->id));
	h->id = -1;
	ASSERT_NE(0, access(path, F_OK));
	ASSERT_EQ(EVENT_DEVICE_FATAL, next_event(h->async_fd, 5000));
	EXPECT_EQ(EIO, _uv_alloc_pd(h->fd, &pd2));
	/* the MR went with the device; the process may drop its handle */
	EXPECT_EQ(h->pinned_kb, uv_vm_pinned_kb());
	EXPECT_EQ(0, _uv_dereg_mr(h->fd, h->mr));
}

/*
 * The driver module is unloaded while the process holds everything on an
 * HCA: the unload does not wait for the process (the driver can
 * disassociate it, so its files hold no reference on the module), the
 * process gets IB_EVENT_DEVICE_FATAL and EIO for new objects, and what
 * its objects pinned is released. The module is loaded again, which binds
 * it to the PCI functions whose driver_override names it, as before.
 */
TEST_F(demo_reset, module_unloaded_under_process)
{
	struct hca *h = &self->h;
	bool reloaded;
	__u32 pd2;

	if (access("/sys/module/demo_rdma/refcnt", F_OK))
		SKIP(return, "demo_rdma is built in: it cannot be unloaded");
	ASSERT_EQ(0, system("modprobe -r demo_rdma"));
	h->id = -1;	/* its platform device went with the module */
	reloaded = !system("modprobe demo_rdma");
	EXPECT_EQ(EVENT_DEVICE_FATAL, next_event(h->async_fd, 5000));
	EXPECT_EQ(EIO, _uv_alloc_pd(h->fd, &pd2));
	EXPECT_EQ(h->pinned_kb, uv_vm_pinned_kb());
	EXPECT_EQ(0, _uv_dereg_mr(h->fd, h->mr));
	ASSERT_TRUE(reloaded);
}

TEST_HARNESS_MAIN
