// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the demo HCA's kernel verbs data path: two HCAs on the
 * demo fabric, a connected pair of RC QPs, and bytes checked on arrival.
 */
#include <kunit/test.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <rdma/ib_verbs.h>

#include "demo.h"

#define T_WAIT_MS	5000

struct t_side {
	struct demo_dev *dev;
	bool borrowed;		/* an HCA bound to a PCI function */
	struct ib_device *ib;
	struct ib_pd *pd;
	struct ib_cq *cq;
	struct ib_qp *qp;
	void *buf;
	dma_addr_t dma;
	size_t len;
};

struct t_ctx {
	struct t_side a, b;
};

static int t_side_init(struct kunit *test, struct t_side *s, size_t len,
		       bool pci)
{
	struct ib_qp_init_attr init = {
		.qp_type = IB_QPT_RC,
		.sq_sig_type = IB_SIGNAL_REQ_WR,
		.cap = { .max_send_wr = 64, .max_recv_wr = 64,
			 .max_send_sge = 2, .max_recv_sge = 2 },
	};
	struct ib_cq_init_attr cq_attr = { .cqe = 256 };

	s->dev = pci ? demo_pci_get_any() : NULL;
	s->borrowed = s->dev;
	if (!s->dev)
		s->dev = demo_pdev_create();
	if (IS_ERR(s->dev))
		return PTR_ERR(s->dev);
	s->ib = &s->dev->ibdev;
	s->pd = ib_alloc_pd(s->ib, IB_PD_UNSAFE_GLOBAL_RKEY);
	if (IS_ERR(s->pd))
		return PTR_ERR(s->pd);
	s->cq = ib_create_cq(s->ib, NULL, NULL, NULL, &cq_attr);
	if (IS_ERR(s->cq))
		return PTR_ERR(s->cq);
	init.send_cq = s->cq;
	init.recv_cq = s->cq;
	s->qp = ib_create_qp(s->pd, &init);
	if (IS_ERR(s->qp))
		return PTR_ERR(s->qp);
	s->len = len;
	s->buf = kvzalloc(len, GFP_KERNEL);
	if (!s->buf)
		return -ENOMEM;
	s->dma = ib_dma_map_single(s->ib, s->buf, len, DMA_BIDIRECTIONAL);
	if (ib_dma_mapping_error(s->ib, s->dma))
		return -ENOMEM;
	return 0;
}

static void t_side_fini(struct t_side *s)
{
	if (IS_ERR_OR_NULL(s->dev))
		return;
	if (s->buf && s->dma && !ib_dma_mapping_error(s->ib, s->dma))
		ib_dma_unmap_single(s->ib, s->dma, s->len, DMA_BIDIRECTIONAL);
	kvfree(s->buf);
	if (!IS_ERR_OR_NULL(s->qp))
		ib_destroy_qp(s->qp);
	if (!IS_ERR_OR_NULL(s->cq))
		ib_destroy_cq(s->cq);
	if (!IS_ERR_OR_NULL(s->pd))
		ib_dealloc_pd(s->pd);
	if (s->borrowed)
		put_device(s->dev->dma_dev);
	else
		demo_pdev_remove(s->dev);
}

static int t_modify(struct ib_qp *qp, enum ib_qp_state state, u32 dlid,
		    u32 dqpn, u8 rnr_retry)
{
	struct ib_qp_attr attr = { .qp_state = state };
	int mask = IB_QP_STATE;

	switch (state) {
	case IB_QPS_INIT:
		attr.port_num = DEMO_PORT;
		attr.qp_access_flags = IB_ACCESS_REMOTE_WRITE |
				       IB_ACCESS_REMOTE_READ;
		mask |= IB_QP_PKEY_INDEX | IB_QP_PORT | IB_QP_ACCESS_FLAGS;
		break;
	case IB_QPS_RTR:
		attr.ah_attr.type = RDMA_AH_ATTR_TYPE_IB;
		rdma_ah_set_dlid(&attr.ah_attr, dlid);
		rdma_ah_set_port_num(&attr.ah_attr, DEMO_PORT);
		attr.dest_qp_num = dqpn;
		attr.path_mtu = IB_MTU_4096;
		attr.rq_psn = 0;
		attr.max_dest_rd_atomic = 1;
		attr.min_rnr_timer = 1;
		mask |= IB_QP_AV | IB_QP_PATH_MTU | IB_QP_DEST_QPN |
			IB_QP_RQ_PSN | IB_QP_MAX_DEST_RD_ATOMIC |
			IB_QP_MIN_RNR_TIMER;
		break;
	case IB_QPS_RTS:
		attr.sq_psn = 0;
		attr.timeout = 14;
		attr.retry_cnt = 7;
		attr.rnr_retry = rnr_retry;
		attr.max_rd_atomic = 1;
		mask |= IB_QP_SQ_PSN | IB_QP_TIMEOUT | IB_QP_RETRY_CNT |
			IB_QP_RNR_RETRY | IB_QP_MAX_QP_RD_ATOMIC;
		break;
	default:
		break;
	}
	return ib_modify_qp(qp, &attr, mask);
}

static int t_connect(struct t_ctx *c, u8 rnr_retry)
{
	struct t_side *s[2] = { &c->a, &c->b };
	int i, err;

	for (i = 0; i < 2; i++) {
		struct t_side *me = s[i], *peer = s[!i];
		struct ib_port_attr pa;

		err = ib_query_port(peer->ib, DEMO_PORT, &pa);
		err = err ?: t_modify(me->qp, IB_QPS_INIT, 0, 0, 0);
		err = err ?: t_modify(me->qp, IB_QPS_RTR, pa.lid,
				      peer->qp->qp_num, 0);
		err = err ?: t_modify(me->qp, IB_QPS_RTS, 0, 0, rnr_retry);
		if (err)
			return err;
	}
	return 0;
}

static int t_init(struct kunit *test)
{
	struct t_ctx *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, c);
	test->priv = c;
	/* Side a is an HCA on a PCI function when one is bound: the IOVA path. */
	KUNIT_ASSERT_EQ(test, 0, t_side_init(test, &c->a, SZ_256K, true));
	KUNIT_ASSERT_EQ(test, 0, t_side_init(test, &c->b, SZ_256K, false));
	KUNIT_ASSERT_EQ(test, 0, t_connect(c, 0));
	return 0;
}

static void t_exit(struct kunit *test)
{
	struct t_ctx *c = test->priv;

	if (!c)
		return;
	t_side_fini(&c->a);
	t_side_fini(&c->b);
}

/* Wait for one completion on @s. */
static int t_poll(struct t_side *s, struct ib_wc *wc)
{
	unsigned long end = jiffies + msecs_to_jiffies(T_WAIT_MS);

	do {
		if (ib_poll_cq(s->cq, 1, wc) == 1)
			return 0;
		usleep_range(100, 200);
	} while (time_before(jiffies, end));
	return -ETIMEDOUT;
}

static void t_fill(struct t_side *s, u8 seed)
{
	size_t i;
	u8 *p = s->buf;

	for (i = 0; i < s->len; i++)
		p[i] = (u8)(i * 7 + seed);
}

static int t_post_recv(struct t_side *s, u64 off, u32 len, u64 wr_id)
{
	struct ib_sge sge = {
		.addr = s->dma + off, .length = len,
		.lkey = s->pd->local_dma_lkey,
	};
	struct ib_recv_wr wr = { .wr_id = wr_id, .sg_list = &sge, .num_sge = 1 };

	return ib_post_recv(s->qp, &wr, NULL);
}

static int t_post(struct t_side *s, enum ib_wr_opcode op, u64 off, u32 len,
		  u64 raddr, u32 rkey, u64 wr_id)
{
	struct ib_sge sge = {
		.addr = s->dma + off, .length = len,
		.lkey = s->pd->local_dma_lkey,
	};
	struct ib_rdma_wr wr = {
		.wr = { .wr_id = wr_id, .sg_list = &sge, .num_sge = 1,
			.opcode = op, .send_flags = IB_SEND_SIGNALED,
			.ex.imm_data = cpu_to_be32(0x1234abcd) },
		.remote_addr = raddr,
		.rkey = rkey,
	};

	return ib_post_send(s->qp, &wr.wr, NULL);
}

/* Buffers stay within what swiotlb can bounce in one mapping (256 KiB). */
static const size_t t_sizes[] = { 1, 7, 64, 4095, 4096, 4097, 3 * 4096 + 5,
				  SZ_32K + 1, SZ_64K + 3 };

static void t_size_desc(const size_t *sz, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%zu bytes", *sz);
}

KUNIT_ARRAY_PARAM(t_size, t_sizes, t_size_desc);

static void t_check_bytes(struct kunit *test, struct t_side *from, u64 foff,
			  struct t_side *to, u64 toff, size_t len)
{
	ib_dma_sync_single_for_cpu(to->ib, to->dma, to->len, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, 0, memcmp(from->buf + foff, to->buf + toff, len));
}

static void demo_test_send_recv(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	size_t len = *(const size_t *)test->param_value;
	struct ib_wc wc;

	t_fill(&c->a, 1);
	ib_dma_sync_single_for_device(c->a.ib, c->a.dma, c->a.len, DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_EQ(test, 0, t_post_recv(&c->b, 8, len + 100, 77));
	KUNIT_ASSERT_EQ(test, 0, t_post(&c->a, IB_WR_SEND, 3, len, 0, 0, 5));

	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->a, &wc));
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_SUCCESS);
	KUNIT_EXPECT_EQ(test, wc.opcode, IB_WC_SEND);
	KUNIT_EXPECT_EQ(test, wc.wr_id, 5);
	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->b, &wc));
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_SUCCESS);
	KUNIT_EXPECT_EQ(test, wc.opcode, IB_WC_RECV);
	KUNIT_EXPECT_EQ(test, wc.wr_id, 77);
	KUNIT_EXPECT_EQ(test, wc.byte_len, len);
	KUNIT_EXPECT_EQ(test, wc.src_qp, c->a.qp->qp_num);
	t_check_bytes(test, &c->a, 3, &c->b, 8, len);
}

static void demo_test_write_read(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	size_t len = *(const size_t *)test->param_value;
	u32 rkey = c->b.pd->unsafe_global_rkey;
	struct ib_wc wc;

	/* RDMA WRITE a -> b, then READ it back from b into another spot. */
	t_fill(&c->a, 2);
	memset(c->b.buf, 0, c->b.len);
	ib_dma_sync_single_for_device(c->a.ib, c->a.dma, c->a.len, DMA_BIDIRECTIONAL);
	ib_dma_sync_single_for_device(c->b.ib, c->b.dma, c->b.len, DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_EQ(test, 0, t_post(&c->a, IB_WR_RDMA_WRITE, 0, len,
					c->b.dma + 11, rkey, 1));
	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->a, &wc));
	KUNIT_ASSERT_EQ(test, wc.status, IB_WC_SUCCESS);
	KUNIT_EXPECT_EQ(test, wc.opcode, IB_WC_RDMA_WRITE);
	t_check_bytes(test, &c->a, 0, &c->b, 11, len);

	memset(c->a.buf + SZ_128K + 1, 0, len);
	ib_dma_sync_single_for_device(c->a.ib, c->a.dma, c->a.len, DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_EQ(test, 0, t_post(&c->a, IB_WR_RDMA_READ, SZ_128K + 1, len,
					c->b.dma + 11, rkey, 2));
	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->a, &wc));
	KUNIT_ASSERT_EQ(test, wc.status, IB_WC_SUCCESS);
	KUNIT_EXPECT_EQ(test, wc.opcode, IB_WC_RDMA_READ);
	KUNIT_EXPECT_EQ(test, wc.byte_len, len);
	ib_dma_sync_single_for_cpu(c->a.ib, c->a.dma, c->a.len, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, 0, memcmp(c->a.buf, c->a.buf + SZ_128K + 1, len));
}

static void demo_test_write_imm(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	struct ib_wc wc;

	t_fill(&c->a, 3);
	ib_dma_sync_single_for_device(c->a.ib, c->a.dma, c->a.len, DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_EQ(test, 0, t_post_recv(&c->b, 0, 0, 9));
	KUNIT_ASSERT_EQ(test, 0, t_post(&c->a, IB_WR_RDMA_WRITE_WITH_IMM, 0, 100,
					c->b.dma + 500,
					c->b.pd->unsafe_global_rkey, 1));
	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->a, &wc));
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_SUCCESS);
	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->b, &wc));
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_SUCCESS);
	KUNIT_EXPECT_EQ(test, wc.opcode, IB_WC_RECV_RDMA_WITH_IMM);
	KUNIT_EXPECT_TRUE(test, wc.wc_flags & IB_WC_WITH_IMM);
	KUNIT_EXPECT_EQ(test, be32_to_cpu(wc.ex.imm_data), 0x1234abcd);
	KUNIT_EXPECT_EQ(test, wc.byte_len, 100);
	KUNIT_EXPECT_EQ(test, wc.wr_id, 9);
	t_check_bytes(test, &c->a, 0, &c->b, 500, 100);
}

/* Sends arrive, and complete, in the order they were posted. */
static void demo_test_ordering(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	struct ib_wc wc;
	int i;

	t_fill(&c->a, 4);
	ib_dma_sync_single_for_device(c->a.ib, c->a.dma, c->a.len, DMA_BIDIRECTIONAL);
	for (i = 0; i < 32; i++)
		KUNIT_ASSERT_EQ(test, 0, t_post_recv(&c->b, i * 128, 128, 100 + i));
	for (i = 0; i < 32; i++)
		KUNIT_ASSERT_EQ(test, 0, t_post(&c->a, IB_WR_SEND, i * 64, 64, 0,
						0, i));
	for (i = 0; i < 32; i++) {
		KUNIT_ASSERT_EQ(test, 0, t_poll(&c->a, &wc));
		KUNIT_EXPECT_EQ(test, wc.wr_id, i);
		KUNIT_ASSERT_EQ(test, 0, t_poll(&c->b, &wc));
		KUNIT_EXPECT_EQ(test, wc.wr_id, 100 + i);
		KUNIT_EXPECT_EQ(test, wc.status, IB_WC_SUCCESS);
	}
	ib_dma_sync_single_for_cpu(c->b.ib, c->b.dma, c->b.len, DMA_BIDIRECTIONAL);
	for (i = 0; i < 32; i++)
		KUNIT_EXPECT_EQ(test, 0, memcmp(c->a.buf + i * 64,
						c->b.buf + i * 128, 64));
}

static void demo_test_bad_rkey(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	struct ib_wc wc;

	KUNIT_ASSERT_EQ(test, 0, t_post(&c->a, IB_WR_RDMA_WRITE, 0, 64,
					c->b.dma, c->b.pd->unsafe_global_rkey ^ 0x100,
					1));
	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->a, &wc));
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_REM_ACCESS_ERR);
	/* The QP is in error now: later work is flushed. */
	KUNIT_ASSERT_EQ(test, 0, t_post(&c->a, IB_WR_SEND, 0, 8, 0, 0, 2));
	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->a, &wc));
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_WR_FLUSH_ERR);
	KUNIT_EXPECT_EQ(test, wc.wr_id, 2);
}

/* The remote PD's key is not valid for a QP of another PD. */
static void demo_test_bad_lkey(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	struct ib_sge sge = { .addr = c->a.dma, .length = 16,
			      .lkey = c->a.pd->local_dma_lkey + 0x100 };
	struct ib_send_wr wr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1,
				 .opcode = IB_WR_SEND,
				 .send_flags = IB_SEND_SIGNALED };
	struct ib_wc wc;

	KUNIT_ASSERT_EQ(test, 0, t_post_recv(&c->b, 0, 64, 1));
	KUNIT_ASSERT_EQ(test, 0, ib_post_send(c->a.qp, &wr, NULL));
	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->a, &wc));
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_LOC_PROT_ERR);
}

static void demo_test_rnr(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	struct ib_wc wc;

	/* rnr_retry 0 and no receive posted: the send fails at once. */
	KUNIT_ASSERT_EQ(test, 0, t_post(&c->a, IB_WR_SEND, 0, 8, 0, 0, 1));
	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->a, &wc));
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_RNR_RETRY_EXC_ERR);
}

static void demo_test_short_recv(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	struct ib_wc wc;

	KUNIT_ASSERT_EQ(test, 0, t_post_recv(&c->b, 0, 16, 1));
	KUNIT_ASSERT_EQ(test, 0, t_post(&c->a, IB_WR_SEND, 0, 64, 0, 0, 2));
	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->b, &wc));
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_LOC_LEN_ERR);
	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->a, &wc));
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_REM_OP_ERR);
}

static void demo_test_wrong_state(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	struct ib_qp_attr attr;
	struct ib_qp_init_attr init;

	/* Back to RESET, then INIT: sends are refused, receives taken. */
	KUNIT_ASSERT_EQ(test, 0, t_modify(c->a.qp, IB_QPS_RESET, 0, 0, 0));
	KUNIT_EXPECT_EQ(test, -EINVAL, t_post_recv(&c->a, 0, 8, 1));
	KUNIT_ASSERT_EQ(test, 0, t_modify(c->a.qp, IB_QPS_INIT, 0, 0, 0));
	KUNIT_EXPECT_EQ(test, -EINVAL, t_post(&c->a, IB_WR_SEND, 0, 8, 0, 0, 1));
	KUNIT_EXPECT_EQ(test, 0, t_post_recv(&c->a, 0, 8, 1));
	/* INIT -> RTS skips RTR: the core and the device both refuse it. */
	KUNIT_EXPECT_EQ(test, -EINVAL, t_modify(c->a.qp, IB_QPS_RTS, 0, 0, 0));
	KUNIT_ASSERT_EQ(test, 0, ib_query_qp(c->a.qp, &attr, IB_QP_STATE, &init));
	KUNIT_EXPECT_EQ(test, attr.qp_state, IB_QPS_INIT);
}

static void demo_test_flush(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	struct ib_wc wc;
	int i;

	for (i = 0; i < 5; i++)
		KUNIT_ASSERT_EQ(test, 0, t_post_recv(&c->b, 0, 8, i));
	KUNIT_ASSERT_EQ(test, 0, t_modify(c->b.qp, IB_QPS_ERR, 0, 0, 0));
	for (i = 0; i < 5; i++) {
		KUNIT_ASSERT_EQ(test, 0, t_poll(&c->b, &wc));
		KUNIT_EXPECT_EQ(test, wc.status, IB_WC_WR_FLUSH_ERR);
		KUNIT_EXPECT_EQ(test, wc.wr_id, i);
	}
	KUNIT_EXPECT_EQ(test, 0, ib_poll_cq(c->b.cq, 1, &wc));
}

/* Destroying QPs with sends stuck on RNR retries leaves nothing behind. */
static void demo_test_teardown_in_flight(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	int i;

	KUNIT_ASSERT_EQ(test, 0, t_modify(c->a.qp, IB_QPS_RESET, 0, 0, 0));
	KUNIT_ASSERT_EQ(test, 0, t_modify(c->b.qp, IB_QPS_RESET, 0, 0, 0));
	KUNIT_ASSERT_EQ(test, 0, t_connect(c, 7));
	for (i = 0; i < 16; i++)
		KUNIT_ASSERT_EQ(test, 0, t_post(&c->a, IB_WR_SEND, 0, 4096, 0, 0, i));
	msleep(20);
	KUNIT_EXPECT_EQ(test, 0, ib_destroy_qp(c->a.qp));
	c->a.qp = NULL;
}

/* Wait until the device has written @n CQEs to @ibcq that nobody polled. */
static int t_wait_cqes(struct ib_cq *ibcq, u16 n)
{
	unsigned long end = jiffies + msecs_to_jiffies(T_WAIT_MS);
	struct demo_cq *cq = to_demo_cq(ibcq);
	u16 ci = cq->ci + n - 1;

	do {
		if (READ_ONCE(cq->ring[ci & (cq->depth - 1)].owner) ==
		    !(ci & cq->depth))
			return 0;
		usleep_range(100, 200);
	} while (time_before(jiffies, end));
	return -ETIMEDOUT;
}

/*
 * A QP destroyed with completions still in its CQ: they are never handed
 * to a later QP, not even to the one that gets its number back, which
 * the device gives out only after all the others.
 */
static void demo_test_stale_cqes(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	struct ib_qp_init_attr init = {
		.qp_type = IB_QPT_RC,
		.sq_sig_type = IB_SIGNAL_REQ_WR,
		.send_cq = c->b.cq,
		.recv_cq = c->b.cq,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	u32 qpn = c->b.qp->qp_num;
	struct ib_qp *qp;
	struct ib_wc wc;
	int i;

	for (i = 0; i < 5; i++)
		KUNIT_ASSERT_EQ(test, 0, t_post_recv(&c->b, 0, 8, i));
	KUNIT_ASSERT_EQ(test, 0, t_modify(c->b.qp, IB_QPS_ERR, 0, 0, 0));
	KUNIT_ASSERT_EQ(test, 0, t_wait_cqes(c->b.cq, 5));
	KUNIT_ASSERT_EQ(test, 0, ib_destroy_qp(c->b.qp));
	c->b.qp = NULL;

	/* Side b's HCA is new: every other QPN comes first. */
	for (i = 1; i < DEMO_HW_MAX_QP; i++) {
		qp = ib_create_qp(c->b.pd, &init);
		KUNIT_ASSERT_FALSE(test, IS_ERR(qp));
		KUNIT_ASSERT_NE(test, qp->qp_num, qpn);
		KUNIT_ASSERT_EQ(test, 0, ib_destroy_qp(qp));
	}
	qp = ib_create_qp(c->b.pd, &init);
	KUNIT_ASSERT_FALSE(test, IS_ERR(qp));
	c->b.qp = qp;
	KUNIT_EXPECT_EQ(test, qp->qp_num, qpn);
	KUNIT_EXPECT_EQ(test, 0, ib_poll_cq(c->b.cq, 1, &wc));
}

/* Behind an IOMMU an address nobody mapped is a device DMA fault. */
static void demo_test_dma_fault(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	struct iommu_domain *dom = iommu_get_domain_for_dev(c->a.dev->dma_dev);
	struct rdma_hw_stats *stats;
	struct ib_sge sge;
	struct ib_send_wr wr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1,
				 .opcode = IB_WR_SEND,
				 .send_flags = IB_SEND_SIGNALED };
	struct ib_wc wc;
	u64 before;

	if (!dom || dom->type == IOMMU_DOMAIN_IDENTITY)
		kunit_skip(test, "no translating IOMMU for %s",
			   dev_name(c->a.dev->dma_dev));
	stats = demo_alloc_hw_port_stats(c->a.ib, DEMO_PORT);
	KUNIT_ASSERT_NOT_NULL(test, stats);
	demo_get_hw_stats(c->a.ib, stats, DEMO_PORT, 0);
	before = stats->value[DEMO_CNT_DMA_FAULTS];

	sge.addr = c->a.dma + c->a.len + SZ_1G;
	sge.length = 64;
	sge.lkey = c->a.pd->local_dma_lkey;
	KUNIT_ASSERT_EQ(test, 0, t_post_recv(&c->b, 0, 64, 1));
	KUNIT_ASSERT_EQ(test, 0, ib_post_send(c->a.qp, &wr, NULL));
	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->a, &wc));
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_LOC_PROT_ERR);
	demo_get_hw_stats(c->a.ib, stats, DEMO_PORT, 0);
	KUNIT_EXPECT_EQ(test, stats->value[DEMO_CNT_DMA_FAULTS], before + 1);
	rdma_free_hw_stats_struct(stats);
}

/*
 * MR bounds on the kernel data path: an RDMA WRITE that ends inside a
 * bounded MR lands; one that runs past its end is refused by the
 * responder with a remote access error, and writes nothing.
 */
static void demo_test_mr_bounds(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	u64 iova = 0x100000, prot;
	struct ib_mr *mr;
	struct ib_wc wc;
	u8 *b = c->b.buf;

	mr = demo_reg_dma_range(c->b.pd, c->b.dma + SZ_4K, iova, SZ_4K,
				IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE);
	KUNIT_ASSERT_FALSE(test, IS_ERR(mr));
	t_fill(&c->a, 5);
	memset(c->b.buf, 0, c->b.len);
	ib_dma_sync_single_for_device(c->a.ib, c->a.dma, c->a.len, DMA_BIDIRECTIONAL);
	ib_dma_sync_single_for_device(c->b.ib, c->b.dma, c->b.len, DMA_BIDIRECTIONAL);

	KUNIT_ASSERT_EQ(test, 0, t_post(&c->a, IB_WR_RDMA_WRITE, 0, 8,
					iova + SZ_4K - 8, mr->rkey, 1));
	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->a, &wc));
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_SUCCESS);
	t_check_bytes(test, &c->a, 0, &c->b, 2 * SZ_4K - 8, 8);

	prot = dmod_reg_read64(c->b.dev->hw, DEMO_REG_CNT(DEMO_CNT_PROT_ERRORS));
	KUNIT_ASSERT_EQ(test, 0, t_post(&c->a, IB_WR_RDMA_WRITE, 64, 16,
					iova + SZ_4K - 8, mr->rkey, 2));
	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->a, &wc));
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_REM_ACCESS_ERR);
	KUNIT_EXPECT_EQ(test, prot + 1,
			dmod_reg_read64(c->b.dev->hw,
					DEMO_REG_CNT(DEMO_CNT_PROT_ERRORS)));
	ib_dma_sync_single_for_cpu(c->b.ib, c->b.dma, c->b.len, DMA_BIDIRECTIONAL);
	/* Neither the last bytes of the MR nor the ones after it changed. */
	KUNIT_EXPECT_EQ(test, 0, memcmp(c->a.buf, b + 2 * SZ_4K - 8, 8));
	KUNIT_EXPECT_TRUE(test, !memchr_inv(b + 2 * SZ_4K, 0, 8));
	KUNIT_EXPECT_EQ(test, 0, demo_dereg_mr(mr, NULL));
}

/*
 * A work request above the device's max_msg (2 GiB) is refused when it is
 * posted, its length summed in 64 bits so that two 2 GiB SGEs are not a
 * message of 0 bytes; the QP takes nothing of it.
 */
static void demo_test_huge_wr(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	struct ib_sge sge[2] = {
		{ .addr = c->a.dma, .length = SZ_2G,
		  .lkey = c->a.pd->local_dma_lkey },
		{ .addr = c->a.dma, .length = SZ_2G,
		  .lkey = c->a.pd->local_dma_lkey },
	};
	struct ib_send_wr wr = { .wr_id = 1, .sg_list = sge, .num_sge = 2,
				 .opcode = IB_WR_SEND,
				 .send_flags = IB_SEND_SIGNALED };
	const struct ib_send_wr *bad = NULL;
	struct ib_wc wc;

	KUNIT_EXPECT_EQ(test, -EINVAL, ib_post_send(c->a.qp, &wr, &bad));
	KUNIT_EXPECT_PTR_EQ(test, &wr, bad);
	sge[0].length = U32_MAX;
	wr.num_sge = 1;
	bad = NULL;
	KUNIT_EXPECT_EQ(test, -EINVAL, ib_post_send(c->a.qp, &wr, &bad));
	KUNIT_EXPECT_PTR_EQ(test, &wr, bad);

	/* The next completion is the next send's. */
	KUNIT_ASSERT_EQ(test, 0, t_post_recv(&c->b, 0, 64, 1));
	sge[0].length = 16;
	wr.wr_id = 2;
	KUNIT_ASSERT_EQ(test, 0, ib_post_send(c->a.qp, &wr, NULL));
	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->a, &wc));
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_SUCCESS);
	KUNIT_EXPECT_EQ(test, wc.wr_id, 2);
}

struct t_port_events {
	struct ib_event_handler handler;
	atomic_t down, up, fatal;
};

static void t_port_event(struct ib_event_handler *h, struct ib_event *ev)
{
	struct t_port_events *e = container_of(h, struct t_port_events, handler);

	if (ev->event == IB_EVENT_PORT_ERR)
		atomic_inc(&e->down);
	else if (ev->event == IB_EVENT_PORT_ACTIVE)
		atomic_inc(&e->up);
	else if (ev->event == IB_EVENT_DEVICE_FATAL)
		atomic_inc(&e->fatal);
}

static int t_wait_count(atomic_t *v, int want)
{
	unsigned long end = jiffies + msecs_to_jiffies(T_WAIT_MS);

	while (atomic_read(v) < want) {
		if (time_after(jiffies, end))
			return -ETIMEDOUT;
		usleep_range(100, 200);
	}
	return 0;
}

/*
 * Pull b's cable: the device reports the port change, the core gets
 * IB_EVENT_PORT_ERR, the port is down, and a send to b is retried until
 * it fails. Plug it back in: IB_EVENT_PORT_ACTIVE and an active port.
 */
static void demo_test_link_down(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	struct t_port_events ev = {};
	struct ib_port_attr pa;
	struct ib_wc wc;

	INIT_IB_EVENT_HANDLER(&ev.handler, c->b.ib, t_port_event);
	ib_register_event_handler(&ev.handler);

	dmod_cable(c->b.dev->hw, false);
	KUNIT_EXPECT_EQ(test, 0, t_wait_count(&ev.down, 1));
	KUNIT_EXPECT_EQ(test, 0, ib_query_port(c->b.ib, DEMO_PORT, &pa));
	KUNIT_EXPECT_EQ(test, pa.state, IB_PORT_DOWN);
	KUNIT_EXPECT_EQ(test, 0, t_post_recv(&c->b, 0, 64, 1));
	KUNIT_EXPECT_EQ(test, 0, t_post(&c->a, IB_WR_SEND, 0, 64, 0, 0, 2));
	KUNIT_EXPECT_EQ(test, 0, t_poll(&c->a, &wc));
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_RETRY_EXC_ERR);

	dmod_cable(c->b.dev->hw, true);
	KUNIT_EXPECT_EQ(test, 0, t_wait_count(&ev.up, 1));
	KUNIT_EXPECT_EQ(test, 0, ib_query_port(c->b.ib, DEMO_PORT, &pa));
	KUNIT_EXPECT_EQ(test, pa.state, IB_PORT_ACTIVE);
	KUNIT_EXPECT_EQ(test, atomic_read(&ev.down), 1);
	ib_unregister_event_handler(&ev.handler);
}

/*
 * b fails and its driver resets it. An RDMA WRITE and an RDMA READ from a
 * to b then fail with retry errors, and b's memory is left as it was: a
 * device that was reset takes part in no transfer, so nothing reaches
 * memory its driver may already have given back.
 */
static void demo_test_dead_peer(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	u32 rkey = c->b.pd->unsafe_global_rkey;
	struct t_port_events ev = {};
	struct ib_port_attr pa;
	struct ib_wc wc;

	KUNIT_ASSERT_EQ(test, 0, ib_query_port(c->b.ib, DEMO_PORT, &pa));
	memset(c->b.buf, 0x5a, c->b.len);
	t_fill(&c->a, 4);
	ib_dma_sync_single_for_device(c->a.ib, c->a.dma, c->a.len,
				      DMA_BIDIRECTIONAL);
	ib_dma_sync_single_for_device(c->b.ib, c->b.dma, c->b.len,
				      DMA_BIDIRECTIONAL);
	INIT_IB_EVENT_HANDLER(&ev.handler, c->b.ib, t_port_event);
	ib_register_event_handler(&ev.handler);
	dmod_fail(c->b.dev->hw);
	KUNIT_EXPECT_EQ(test, 0, t_wait_count(&ev.fatal, 1));
	ib_unregister_event_handler(&ev.handler);

	KUNIT_ASSERT_EQ(test, 0, t_post(&c->a, IB_WR_RDMA_WRITE, 0, SZ_4K,
					c->b.dma, rkey, 1));
	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->a, &wc));
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_RETRY_EXC_ERR);
	ib_dma_sync_single_for_cpu(c->b.ib, c->b.dma, c->b.len,
				   DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_NULL(test, memchr_inv(c->b.buf, 0x5a, c->b.len));

	KUNIT_ASSERT_EQ(test, 0, t_modify(c->a.qp, IB_QPS_RESET, 0, 0, 0));
	KUNIT_ASSERT_EQ(test, 0, t_modify(c->a.qp, IB_QPS_INIT, 0, 0, 0));
	KUNIT_ASSERT_EQ(test, 0, t_modify(c->a.qp, IB_QPS_RTR, pa.lid,
					  c->b.qp->qp_num, 0));
	KUNIT_ASSERT_EQ(test, 0, t_modify(c->a.qp, IB_QPS_RTS, 0, 0, 0));
	memset(c->a.buf, 0, SZ_4K);
	ib_dma_sync_single_for_device(c->a.ib, c->a.dma, c->a.len,
				      DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_EQ(test, 0, t_post(&c->a, IB_WR_RDMA_READ, 0, SZ_4K,
					c->b.dma, rkey, 2));
	KUNIT_ASSERT_EQ(test, 0, t_poll(&c->a, &wc));
	KUNIT_EXPECT_EQ(test, wc.status, IB_WC_RETRY_EXC_ERR);
	ib_dma_sync_single_for_cpu(c->a.ib, c->a.dma, c->a.len,
				   DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_NULL(test, memchr_inv(c->a.buf, 0, SZ_4K));
}

/*
 * A device that was reset completes its kernel QPs' work in software:
 * receives posted before the reset and sends posted after it come back
 * with flush errors, each once, and ib_drain_qp() on a QP whose CQ the
 * core polls returns (its drain work requests are flushed too).
 */
static void demo_test_reset_flush(struct kunit *test)
{
	struct t_ctx *c = test->priv;
	struct ib_qp_init_attr init = {
		.qp_type = IB_QPT_RC,
		.sq_sig_type = IB_SIGNAL_REQ_WR,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct t_port_events ev = {};
	unsigned long seen = 0;
	struct ib_qp *qp;
	struct ib_cq *cq;
	struct ib_wc wc;
	int i;

	cq = ib_alloc_cq(c->b.ib, NULL, 16, 0, IB_POLL_WORKQUEUE);
	KUNIT_ASSERT_FALSE(test, IS_ERR(cq));
	init.send_cq = cq;
	init.recv_cq = cq;
	qp = ib_create_qp(c->b.pd, &init);
	if (IS_ERR(qp)) {
		ib_free_cq(cq);
		KUNIT_FAIL_AND_ABORT(test, "ib_create_qp: %ld", PTR_ERR(qp));
	}
	KUNIT_EXPECT_EQ(test, 0, t_modify(qp, IB_QPS_INIT, 0, 0, 0));

	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, 0, t_post_recv(&c->b, 0, 8, i));
	INIT_IB_EVENT_HANDLER(&ev.handler, c->b.ib, t_port_event);
	ib_register_event_handler(&ev.handler);
	dmod_fail(c->b.dev->hw);
	KUNIT_EXPECT_EQ(test, 0, t_wait_count(&ev.fatal, 1));
	ib_unregister_event_handler(&ev.handler);
	KUNIT_EXPECT_EQ(test, 0, t_post(&c->b, IB_WR_SEND, 0, 8, 0, 0, 4));
	KUNIT_EXPECT_EQ(test, 0, t_post(&c->b, IB_WR_RDMA_WRITE, 0, 8,
					c->a.dma, 0, 5));

	for (i = 0; i < 6; i++) {
		if (t_poll(&c->b, &wc)) {
			KUNIT_FAIL(test, "%d of 6 completions", i);
			break;
		}
		KUNIT_EXPECT_EQ(test, wc.status, IB_WC_WR_FLUSH_ERR);
		KUNIT_EXPECT_PTR_EQ(test, wc.qp, c->b.qp);
		if (wc.wr_id < 6)
			seen |= BIT(wc.wr_id);
		if (wc.wr_id < 4)
			KUNIT_EXPECT_EQ(test, wc.opcode, IB_WC_RECV);
	}
	KUNIT_EXPECT_EQ(test, seen, 0x3fUL);
	KUNIT_EXPECT_EQ(test, 0, ib_poll_cq(c->b.cq, 1, &wc));

	ib_drain_qp(qp);
	KUNIT_EXPECT_EQ(test, 0, ib_destroy_qp(qp));
	ib_free_cq(cq);
}

static struct kunit_case demo_data_path_cases[] = {
	KUNIT_CASE_PARAM(demo_test_send_recv, t_size_gen_params),
	KUNIT_CASE_PARAM(demo_test_write_read, t_size_gen_params),
	KUNIT_CASE(demo_test_write_imm),
	KUNIT_CASE(demo_test_ordering),
	KUNIT_CASE(demo_test_bad_rkey),
	KUNIT_CASE(demo_test_bad_lkey),
	KUNIT_CASE(demo_test_rnr),
	KUNIT_CASE(demo_test_short_recv),
	KUNIT_CASE(demo_test_wrong_state),
	KUNIT_CASE(demo_test_flush),
	KUNIT_CASE(demo_test_teardown_in_flight),
	KUNIT_CASE(demo_test_stale_cqes),
	KUNIT_CASE(demo_test_dma_fault),
	KUNIT_CASE(demo_test_mr_bounds),
	KUNIT_CASE(demo_test_huge_wr),
	KUNIT_CASE(demo_test_link_down),
	KUNIT_CASE(demo_test_dead_peer),
	KUNIT_CASE(demo_test_reset_flush),
	{}
};

static struct kunit_suite demo_data_path_suite = {
	.name = "demo_rdma_data_path",
	.init = t_init,
	.exit = t_exit,
	.test_cases = demo_data_path_cases,
};

kunit_test_suite(demo_data_path_suite);

MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");
