// SPDX-License-Identifier: GPL-2.0-only
/*
 * RC bandwidth and latency over kernel verbs between any two RDMA devices.
 *
 * Comparing the demo HCA with another device (rxe on a veth pair, say) is
 * only fair if the same code drives both, so this uses nothing but core
 * verbs: one RC QP on each device, DMA MRs, CQs polled directly. Write
 * "<device> <device> [<rounds>]" to /sys/kernel/debug/demo_rdma/bench;
 * reading the file gives the figures of the last run:
 *
 *   write_bw <bytes> <KB/s>     RDMA WRITE, 16 in flight
 *   write_ratio <bytes> <per mille>
 *                               RDMA WRITE against memcpy, paired runs
 *   send_lat 64 <ns>            half the round trip of a SEND ping-pong
 *   memcpy_bw 4194304 <KB/s>    one CPU, for scale
 *
 * A run of a large size is short: from 64 KiB on, and for memcpy, the
 * figure is the best of several runs, so that a moment the virtual
 * machine's host takes its CPU away does not decide it. The sizes from
 * 64 KiB on run in <rounds> rounds (1 to BENCH_REPS, BENCH_REPS if not
 * given; a device far slower than a CPU's copy needs fewer to be
 * compared with), each round every size once, so that
 * a slow spell of the host lands on one run of several sizes rather than
 * on every run of one. Each of those RDMA runs is followed by this CPU's
 * memcpy() of the same bytes between the same buffers; write_ratio is the
 * median of the runs' ratios, which a slow moment of either side alone
 * cannot move far.
 *
 * Writing "memcpy <bytes>" runs only that copy, between two buffers of
 * its own, and gives "memcpy_bw <bytes> <KB/s>": userspace benchmarks pair
 * their runs with the same kernel memcpy() this way. Writing
 * "memcpy_user <bytes> <from> <to>" gives the same line for this CPU
 * copying the bytes between two page-aligned ranges of the writer's
 * memory, from the same pages an RDMA WRITE between those ranges reads
 * and writes, one memcpy() per physically contiguous run of them.
 *
 * A benchmark prints figures; it passes or fails nothing.
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/seq_buf.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <rdma/ib_cache.h>
#include <rdma/ib_verbs.h>

#include "demo.h"

#define BENCH_BUF	SZ_4M
#define BENCH_DEPTH	16
#define BENCH_LAT_ITERS	200
#define BENCH_BYTES	SZ_16M
#define BENCH_TIMEOUT	(10 * HZ)
#define BENCH_REPS	15
/* The sizes with paired runs: 64 KiB, 256 KiB, 1 MiB and 4 MiB */
#define BENCH_PAIRED	4
static_assert(SZ_64K << 2 * (BENCH_PAIRED - 1) == BENCH_BUF);
#define BENCH_SLEEP_MIN_US	10
#define BENCH_SLEEP_MAX_US	160

struct bench_end {
	struct ib_device *dev;
	struct ib_pd *pd;
	struct ib_cq *cq;
	struct ib_qp *qp;
	void *buf;
	u64 dma;
	u32 lkey, rkey;
};

static DEFINE_MUTEX(bench_lock);
static char *bench_out;
static size_t bench_len;

/* Every RDMA device, so a run can find its two by name. */
static DEFINE_XARRAY(bench_devs);

static int bench_add(struct ib_device *ibdev)
{
	return xa_err(xa_store(&bench_devs, ibdev->index, ibdev, GFP_KERNEL));
}

static void bench_remove(struct ib_device *ibdev, void *client_data)
{
	xa_erase(&bench_devs, ibdev->index);
}

static struct ib_client bench_client = {
	.name = "demo_bench",
	.add = bench_add,
	.remove = bench_remove,
};

/* A reference on the device called @name, or NULL. */
static struct ib_device *bench_get_dev(const char *name)
{
	struct ib_device *ibdev, *found = NULL;
	unsigned long i;

	xa_lock(&bench_devs);
	xa_for_each(&bench_devs, i, ibdev) {
		if (!strcmp(dev_name(&ibdev->dev), name) &&
		    ib_device_try_get(ibdev)) {
			found = ibdev;
			break;
		}
	}
	xa_unlock(&bench_devs);
	return found;
}

static void bench_end_put(struct bench_end *e)
{
	if (e->qp)
		ib_destroy_qp(e->qp);
	if (e->cq)
		ib_free_cq(e->cq);
	if (e->buf && e->dma)
		ib_dma_unmap_single(e->dev, e->dma, BENCH_BUF,
				    DMA_BIDIRECTIONAL);
	kfree(e->buf);
	if (e->pd)
		ib_dealloc_pd(e->pd);
	if (e->dev)
		ib_device_put(e->dev);
}

static int bench_end_get(struct bench_end *e, const char *name)
{
	struct ib_qp_init_attr init = {
		.cap = { .max_send_wr = BENCH_DEPTH, .max_recv_wr = BENCH_DEPTH,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.sq_sig_type = IB_SIGNAL_ALL_WR,
		.qp_type = IB_QPT_RC,
	};
	int err;

	e->dev = bench_get_dev(name);
	if (!e->dev)
		return -ENODEV;
	e->pd = ib_alloc_pd(e->dev, IB_PD_UNSAFE_GLOBAL_RKEY);
	if (IS_ERR(e->pd)) {
		err = PTR_ERR(e->pd);
		e->pd = NULL;
		return err;
	}
	e->lkey = e->pd->local_dma_lkey;
	e->rkey = e->pd->unsafe_global_rkey;
	/*
	 * One contiguous buffer, so one DMA address covers a whole message;
	 * worth compacting memory for.
	 */
	e->buf = kzalloc(BENCH_BUF, GFP_KERNEL | __GFP_RETRY_MAYFAIL |
			 __GFP_NOWARN);
	if (!e->buf)
		return -ENOMEM;
	e->dma = ib_dma_map_single(e->dev, e->buf, BENCH_BUF,
				   DMA_BIDIRECTIONAL);
	if (ib_dma_mapping_error(e->dev, e->dma)) {
		e->dma = 0;
		return -EIO;
	}
	e->cq = ib_alloc_cq(e->dev, NULL, 2 * BENCH_DEPTH, 0, IB_POLL_DIRECT);
	if (IS_ERR(e->cq)) {
		err = PTR_ERR(e->cq);
		e->cq = NULL;
		return err;
	}
	init.send_cq = e->cq;
	init.recv_cq = e->cq;
	e->qp = ib_create_qp(e->pd, &init);
	if (IS_ERR(e->qp)) {
		err = PTR_ERR(e->qp);
		e->qp = NULL;
		return err;
	}
	return 0;
}

/* INIT, RTR and RTS towards @peer: by LID on IB ports, by GID on RoCE. */
static int bench_connect(struct bench_end *e, struct bench_end *peer)
{
	struct ib_qp_attr attr = {
		.qp_state = IB_QPS_INIT,
		.port_num = 1,
		.qp_access_flags = IB_ACCESS_LOCAL_WRITE |
				   IB_ACCESS_REMOTE_WRITE |
				   IB_ACCESS_REMOTE_READ,
	};
	struct ib_port_attr pattr;
	union ib_gid gid;
	int err;

	err = ib_modify_qp(e->qp, &attr, IB_QP_STATE | IB_QP_PKEY_INDEX |
			   IB_QP_PORT | IB_QP_ACCESS_FLAGS);
	if (err)
		return err;

	memset(&attr, 0, sizeof(attr));
	err = ib_query_port(peer->dev, 1, &pattr);
	if (err)
		return err;
	attr.ah_attr.type = rdma_ah_find_type(e->dev, 1);
	rdma_ah_set_port_num(&attr.ah_attr, 1);
	if (rdma_protocol_roce(e->dev, 1)) {
		err = rdma_query_gid(peer->dev, 1, 0, &gid);
		if (err)
			return err;
		rdma_ah_set_grh(&attr.ah_attr, &gid, 0, 0, 1, 0);
	} else {
		rdma_ah_set_dlid(&attr.ah_attr, pattr.lid);
	}
	attr.qp_state = IB_QPS_RTR;
	attr.path_mtu = min(pattr.active_mtu, IB_MTU_1024);
	attr.dest_qp_num = peer->qp->qp_num;
	attr.max_dest_rd_atomic = 1;
	attr.min_rnr_timer = 1;
	err = ib_modify_qp(e->qp, &attr, IB_QP_STATE | IB_QP_AV |
			   IB_QP_PATH_MTU | IB_QP_DEST_QPN | IB_QP_RQ_PSN |
			   IB_QP_MAX_DEST_RD_ATOMIC | IB_QP_MIN_RNR_TIMER);
	if (err)
		return err;

	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IB_QPS_RTS;
	attr.timeout = 14;
	attr.retry_cnt = 7;
	attr.rnr_retry = 7;
	attr.max_rd_atomic = 1;
	return ib_modify_qp(e->qp, &attr, IB_QP_STATE | IB_QP_TIMEOUT |
			    IB_QP_RETRY_CNT | IB_QP_RNR_RETRY | IB_QP_SQ_PSN |
			    IB_QP_MAX_QP_RD_ATOMIC);
}

/* Poll @e's CQ until one completion arrives; its status. */
static int bench_wait(struct bench_end *e, enum ib_wc_opcode *op)
{
	unsigned long end = jiffies + BENCH_TIMEOUT;
	unsigned int us = BENCH_SLEEP_MIN_US;
	struct ib_wc wc;

	while (!ib_poll_cq(e->cq, 1, &wc)) {
		if (time_after(jiffies, end))
			return -ETIMEDOUT;
		/*
		 * Sleep, do not spin: what executes the work requests, the
		 * demo device model or rxe's tasks, runs on this machine's
		 * CPUs, and a preemptible kernel lets a spinning task keep
		 * its CPU until the next tick. Sleep longer the longer the
		 * CQ stays empty, up to BENCH_SLEEP_MAX_US, so that a long
		 * message does not wake the poller scores of times.
		 */
		usleep_range(us, 2 * us);
		us = min(2 * us, BENCH_SLEEP_MAX_US);
	}
	if (op)
		*op = wc.opcode;
	return wc.status == IB_WC_SUCCESS ? 0 : -EIO;
}

static int bench_post_write(struct bench_end *a, struct bench_end *b,
			    u32 len)
{
	struct ib_sge sge = {
		.addr = a->dma, .length = len, .lkey = a->lkey,
	};
	struct ib_rdma_wr wr = {
		.wr = {
			.opcode = IB_WR_RDMA_WRITE,
			.send_flags = IB_SEND_SIGNALED,
			.sg_list = &sge,
			.num_sge = 1,
		},
		.remote_addr = b->dma,
		.rkey = b->rkey,
	};

	return ib_post_send(a->qp, &wr.wr, NULL);
}

/* How many messages of @len bytes a run sends: about BENCH_BYTES. */
static u32 bench_nr_msgs(u32 len)
{
	return clamp_t(u32, BENCH_BYTES / len, 16, 2000);
}

/* KB/s of @bytes moved since @t0 */
static u64 bench_kbps(u64 bytes, ktime_t t0)
{
	s64 ns = ktime_to_ns(ktime_sub(ktime_get(), t0));

	return div64_u64(bytes * NSEC_PER_MSEC, max_t(s64, ns, 1));
}

/* KB/s of RDMA WRITEs of @len bytes from @a to @b, BENCH_DEPTH in flight. */
static int bench_write_bw(struct bench_end *a, struct bench_end *b, u32 len,
			  u64 *kbps)
{
	u32 n = bench_nr_msgs(len), posted = 0, done = 0;
	ktime_t t0 = ktime_get();
	int err;

	while (done < n) {
		while (posted < n && posted - done < BENCH_DEPTH) {
			err = bench_post_write(a, b, len);
			if (err)
				return err;
			posted++;
		}
		err = bench_wait(a, NULL);
		if (err)
			return err;
		done++;
	}
	*kbps = bench_kbps((u64)n * len, t0);
	return 0;
}

static int bench_post_recv(struct bench_end *e)
{
	struct ib_sge sge = {
		.addr = e->dma + SZ_1M, .length = 64, .lkey = e->lkey,
	};
	struct ib_recv_wr wr = { .sg_list = &sge, .num_sge = 1 };

	return ib_post_recv(e->qp, &wr, NULL);
}

static int bench_send(struct bench_end *e)
{
	struct ib_sge sge = { .addr = e->dma, .length = 64, .lkey = e->lkey };
	struct ib_send_wr wr = {
		.opcode = IB_WR_SEND,
		.send_flags = IB_SEND_SIGNALED,
		.sg_list = &sge,
		.num_sge = 1,
	};

	return ib_post_send(e->qp, &wr, NULL);
}

/* Wait for a send and a receive completion on @e, in any order. */
static int bench_wait_pair(struct bench_end *e)
{
	enum ib_wc_opcode op;
	int i, err, got = 0;

	for (i = 0; i < 2; i++) {
		err = bench_wait(e, &op);
		if (err)
			return err;
		got |= op == IB_WC_RECV ? 1 : 2;
	}
	return got == 3 ? 0 : -EIO;
}

/* Half the round trip of a 64-byte SEND ping-pong between @a and @b. */
static int bench_send_lat(struct bench_end *a, struct bench_end *b, u64 *ns)
{
	ktime_t t0;
	int i, err;

	err = bench_post_recv(a) ?: bench_post_recv(b);
	if (err)
		return err;
	t0 = ktime_get();
	for (i = 0; i < BENCH_LAT_ITERS; i++) {
		/* a -> b; b answers once it has received */
		err = bench_send(a) ?: bench_wait(b, NULL) ?:
		      bench_post_recv(b) ?: bench_send(b) ?:
		      bench_wait_pair(a) ?: bench_post_recv(a) ?:
		      bench_wait(b, NULL);
		if (err)
			return err;
	}
	*ns = div64_u64(ktime_to_ns(ktime_sub(ktime_get(), t0)),
			2 * BENCH_LAT_ITERS);
	return 0;
}

/* One CPU copying the 4 MiB buffer 16 times, in 64 KiB pieces. */
static u64 bench_memcpy_bw(struct bench_end *a, struct bench_end *b)
{
	ktime_t t0 = ktime_get();
	size_t off;
	int i;

	for (i = 0; i < 16; i++)
		for (off = 0; off < BENCH_BUF; off += SZ_64K)
			memcpy(b->buf + off, a->buf + off, SZ_64K);
	return bench_kbps(16ULL * BENCH_BUF, t0);
}

/*
 * KB/s of this CPU copying what bench_write_bw() moves: @len bytes from
 * @src to @dst as many times as that sends them.
 */
static u64 bench_memcpy_len(void *dst, const void *src, u32 len)
{
	u32 n = bench_nr_msgs(len), i;
	ktime_t t0 = ktime_get();

	for (i = 0; i < n; i++)
		memcpy(dst, src, len);
	return bench_kbps((u64)n * len, t0);
}

static int bench_cmp_u32(const void *x, const void *y)
{
	u32 a = *(const u32 *)x, b = *(const u32 *)y;

	return a < b ? -1 : a > b;
}

/*
 * RDMA WRITE of every size from 64 to BENCH_BUF bytes, each size 4 times
 * the one before: below 64 KiB one run each; from 64 KiB on, every size
 * once in each round, @rounds times, each run paired with a memcpy() of
 * the same bytes right after it. Prints the best of each size's runs
 * and, from 64 KiB on, the median of its paired ratios.
 */
static int bench_writes(struct bench_end *a, struct bench_end *b,
			u32 rounds, struct seq_buf *s)
{
	u32 ratio[BENCH_PAIRED][BENCH_REPS], len;
	u64 best[BENCH_PAIRED] = {}, v, mc;
	int i, r, err;

	for (len = 64; len < SZ_64K; len *= 4) {
		err = bench_write_bw(a, b, len, &v);
		if (err)
			return err;
		seq_buf_printf(s, "write_bw %u %llu\n", len, v);
	}
	for (r = 0; r < rounds; r++) {
		for (i = 0, len = SZ_64K; i < BENCH_PAIRED; i++, len *= 4) {
			err = bench_write_bw(a, b, len, &v);
			if (err)
				return err;
			best[i] = max(best[i], v);
			mc = bench_memcpy_len(b->buf, a->buf, len);
			ratio[i][r] = div64_u64(v * 1000, max_t(u64, mc, 1));
		}
	}
	for (i = 0, len = SZ_64K; i < BENCH_PAIRED; i++, len *= 4) {
		sort(ratio[i], rounds, sizeof(ratio[i][0]), bench_cmp_u32, NULL);
		seq_buf_printf(s, "write_bw %u %llu\n", len, best[i]);
		seq_buf_printf(s, "write_ratio %u %u\n", len,
			       ratio[i][rounds / 2]);
	}
	return 0;
}

static int bench_run(const char *na, const char *nb, u32 rounds,
		     struct seq_buf *s)
{
	struct bench_end a = {}, b = {};
	u64 v;
	int i, err;

	err = bench_end_get(&a, na) ?: bench_end_get(&b, nb);
	if (err)
		goto out;
	err = bench_connect(&a, &b) ?: bench_connect(&b, &a);
	if (err)
		goto out;
	seq_buf_printf(s, "devices %s %s\n", na, nb);
	err = bench_writes(&a, &b, rounds, s);
	if (err)
		goto out;
	err = bench_send_lat(&a, &b, &v);
	if (err)
		goto out;
	seq_buf_printf(s, "send_lat 64 %llu\n", v);
	for (v = 0, i = 0; i < BENCH_REPS; i++)
		v = max(v, bench_memcpy_bw(&a, &b));
	seq_buf_printf(s, "memcpy_bw %u %llu\n", BENCH_BUF, v);
out:
	bench_end_put(&b);
	bench_end_put(&a);
	return err;
}

/*
 * "memcpy <bytes>": only bench_memcpy_len() between two buffers of the
 * benchmark's size, for a userspace benchmark to pair its runs with. The
 * buffers stay until the module goes, so that each pairing copies warm
 * memory, as the kernel verbs pairing does.
 */
static void *bench_mc_buf[2];

static int bench_memcpy_only(const char *arg, struct seq_buf *s)
{
	u32 len;
	int err, i;

	err = kstrtou32(arg, 0, &len);
	if (err)
		return err;
	if (!len || len > BENCH_BUF)
		return -EINVAL;
	for (i = 0; i < 2; i++) {
		if (!bench_mc_buf[i])
			bench_mc_buf[i] = kzalloc(BENCH_BUF, GFP_KERNEL |
						  __GFP_RETRY_MAYFAIL);
		if (!bench_mc_buf[i])
			return -ENOMEM;
	}
	seq_buf_printf(s, "memcpy_bw %u %llu\n", len,
		       bench_memcpy_len(bench_mc_buf[1], bench_mc_buf[0], len));
	return 0;
}

/*
 * Pages from @f[0] and @t[0] on (at most @n) that are physically
 * contiguous on both sides and one mapping reaches: one copy moves them.
 */
static int bench_pages_run(struct page **f, struct page **t, int n)
{
	int k = 1;

	if (IS_ENABLED(CONFIG_HIGHMEM))
		return 1;
	while (k < n && page_to_pfn(f[k]) == page_to_pfn(f[0]) + k &&
	       page_to_pfn(t[k]) == page_to_pfn(t[0]) + k)
		k++;
	return k;
}

/*
 * "memcpy_user <bytes> <from> <to>": this CPU copying @bytes from the
 * writer's memory at <from> to <to> as many times as a run sends them,
 * through the kernel's mapping of the pages, as they lie: one memcpy() for
 * each run of pages that is physically contiguous on both sides, as the
 * device model copies them. Both ranges are pinned for the copy only.
 */
static int bench_memcpy_user(const char *in, struct seq_buf *s)
{
	unsigned long from, to;
	int got[2] = {}, n, j, err;
	struct page **pg;
	void *d, *f;
	u32 *runs, len, i;
	ktime_t t0;

	if (sscanf(in, "memcpy_user %u %lx %lx", &len, &from, &to) != 3)
		return -EINVAL;
	if (!len || len > BENCH_BUF || !PAGE_ALIGNED(len) ||
	    !PAGE_ALIGNED(from) || !PAGE_ALIGNED(to))
		return -EINVAL;
	n = len >> PAGE_SHIFT;
	pg = kvmalloc_array(2 * n, sizeof(*pg), GFP_KERNEL);
	runs = kvmalloc_array(n, sizeof(*runs), GFP_KERNEL);
	if (!pg || !runs) {
		err = -ENOMEM;
		goto out;
	}
	got[0] = pin_user_pages_fast(from, n, 0, pg);
	got[1] = pin_user_pages_fast(to, n, FOLL_WRITE, pg + n);
	err = got[0] == n && got[1] == n ? 0 : -EFAULT;
	if (err)
		goto unpin;
	for (j = 0; j < n; j += runs[j])
		runs[j] = bench_pages_run(pg + j, pg + n + j, n - j);
	t0 = ktime_get();
	for (i = 0; i < bench_nr_msgs(len); i++) {
		for (j = 0; j < n; j += runs[j]) {
			d = kmap_local_page(pg[n + j]);
			f = kmap_local_page(pg[j]);
			memcpy(d, f, runs[j] * PAGE_SIZE);
			kunmap_local(f);
			kunmap_local(d);
		}
	}
	seq_buf_printf(s, "memcpy_bw %u %llu\n", len,
		       bench_kbps((u64)i * len, t0));
unpin:
	if (got[0] > 0)
		unpin_user_pages(pg, got[0]);
	if (got[1] > 0)
		unpin_user_pages_dirty_lock(pg + n, got[1], true);
out:
	kvfree(runs);
	kvfree(pg);
	return err;
}

static ssize_t bench_write(struct file *f, const char __user *ubuf,
			   size_t len, loff_t *ppos)
{
	char in[2 * IB_DEVICE_NAME_MAX + 8], na[IB_DEVICE_NAME_MAX],
	     nb[IB_DEVICE_NAME_MAX];
	u32 rounds = BENCH_REPS;
	struct seq_buf s;
	char *out;
	int n, err;

	if (len >= sizeof(in))
		return -EINVAL;
	if (copy_from_user(in, ubuf, len))
		return -EFAULT;
	in[len] = 0;
	n = sscanf(in, "%63s %63s %u", na, nb, &rounds);
	if (n < 2)
		return -EINVAL;
	out = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!out)
		return -ENOMEM;
	seq_buf_init(&s, out, PAGE_SIZE);

	mutex_lock(&bench_lock);
	if (!strcmp(na, "memcpy"))
		err = bench_memcpy_only(nb, &s);
	else if (!strcmp(na, "memcpy_user"))
		err = bench_memcpy_user(in, &s);
	else if (!rounds || rounds > BENCH_REPS)
		err = -EINVAL;
	else
		err = bench_run(na, nb, rounds, &s);
	if (err) {
		kfree(out);
	} else {
		kfree(bench_out);
		bench_out = out;
		bench_len = seq_buf_used(&s);
	}
	mutex_unlock(&bench_lock);
	return err ?: len;
}

static ssize_t bench_read(struct file *f, char __user *ubuf, size_t len,
			  loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&bench_lock);
	ret = simple_read_from_buffer(ubuf, len, ppos, bench_out, bench_len);
	mutex_unlock(&bench_lock);
	return ret;
}

static const struct file_operations bench_fops = {
	.owner = THIS_MODULE,
	.read = bench_read,
	.write = bench_write,
	.llseek = default_llseek,
};

int demo_bench_init(struct dentry *parent)
{
	int err;

	err = ib_register_client(&bench_client);
	if (err)
		return err;
	debugfs_create_file("bench", 0600, parent, NULL, &bench_fops);
	return 0;
}

/* After the debugfs file is gone. */
void demo_bench_exit(void)
{
	ib_unregister_client(&bench_client);
	kfree(bench_mc_buf[0]);
	kfree(bench_mc_buf[1]);
	bench_mc_buf[0] = NULL;
	bench_mc_buf[1] = NULL;
	kfree(bench_out);
	bench_out = NULL;
}
