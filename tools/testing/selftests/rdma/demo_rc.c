// SPDX-License-Identifier: GPL-2.0-only
/*
 * Userspace RC traffic between two demo RDMA HCAs, with no rdma-core.
 *
 * The process maps each CQ and QP the driver creates (rings plus a
 * doorbell record), writes WQEs into the send and receive rings, rings the
 * send doorbell with an empty POST_SEND and polls the CQ ring itself,
 * exactly as a provider library would. Traffic runs between the HCA on a
 * PCI function (DEMO_PCI_DEV) and one on a platform device, in both
 * directions, so every transfer crosses both DMA paths (IOVA behind an
 * IOMMU, direct without), and between the program's two platform HCAs,
 * which any runner has. Every test checks the bytes that arrived, the completions the
 * device wrote and, at the end, that the RDMA core's object counts of both
 * devices are back where they started.
 */
#include <grp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "../kselftest_harness.h"
#include "demo_uverbs.h"

#define BUF_SIZE	(2UL << 20)
#define WAIT_MS		5000
#define ACCESS_ALL	(IB_UVERBS_ACCESS_LOCAL_WRITE | \
			 IB_UVERBS_ACCESS_REMOTE_WRITE | \
			 IB_UVERBS_ACCESS_REMOTE_READ)
#define RNR_INFINITE	7

static const char * const res_types[] = { "ctx", "pd", "cq", "qp", "mr" };

/* One HCA with everything a test needs on it. */
struct side {
	int fd;
	char ibdev[64];
	__u16 lid;
	__u32 pd;
	struct uv_cq cq;
	struct uv_qp qp;
	unsigned char *buf;
	__u32 mr, key;
	long base[5];
	bool cq_live, qp_live, mr_live;
};

FIXTURE(demo_rc) {
	struct side a, b;	/* a sends, b responds */
};

FIXTURE_VARIANT(demo_rc) {
	enum uv_bus req, resp;
	int resp_nth;		/* which HCA of its bus responds */
};

FIXTURE_VARIANT_ADD(demo_rc, pci_to_platform) {
	.req = UV_BUS_PCI,
	.resp = UV_BUS_PLATFORM,
};

FIXTURE_VARIANT_ADD(demo_rc, platform_to_pci) {
	.req = UV_BUS_PLATFORM,
	.resp = UV_BUS_PCI,
};

/* Two HCAs the program made: what any runner can run, with no PCI HCA. */
FIXTURE_VARIANT_ADD(demo_rc, platform_to_platform) {
	.req = UV_BUS_PLATFORM,
	.resp = UV_BUS_PLATFORM,
	.resp_nth = 1,
};

static void res_snapshot(struct side *s, long *out)
{
	uv_res_counts(s->ibdev, res_types, ARRAY_SIZE(res_types), out);
}

static int side_open(struct side *s, enum uv_bus bus, int nth)
{
	memset(s, 0, sizeof(*s));
	s->fd = uv_open_demo(bus, nth, s->ibdev, sizeof(s->ibdev));
	if (s->fd < 0)
		return -1;
	s->lid = uv_lid(s->ibdev);
	res_snapshot(s, s->base);
	return 0;
}

/* Context, PD, a 64-entry CQ, an RC QP and a registered 2 MiB buffer. */
static int side_setup(struct side *s)
{
	struct demo_alloc_ucontext_resp caps;
	struct uv_qp_init init = { .max_send_wr = 64, .max_recv_wr = 64 };
	int rc;

	rc = _uv_get_context_drv(s->fd, NULL, 0, &caps);
	if (!rc)
		rc = _uv_alloc_pd(s->fd, &s->pd);
	if (!rc)
		rc = _uv_create_cq(s->fd, 64, -1, &s->cq);
	if (rc)
		return rc;
	s->cq_live = true;
	init.pd = s->pd;
	init.scq = &s->cq;
	init.rcq = &s->cq;
	rc = _uv_create_qp(s->fd, &init, &s->qp);
	if (rc)
		return rc;
	s->qp_live = true;
	s->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (s->buf == MAP_FAILED)
		return errno;
	rc = _uv_reg_mr(s->fd, s->pd, s->buf, BUF_SIZE, (uintptr_t)s->buf,
			ACCESS_ALL, &s->mr, &s->key);
	if (rc)
		return rc;
	s->mr_live = true;
	return 0;
}

static void side_teardown(struct __test_metadata *_metadata, struct side *s)
{
	long now[5];
	unsigned int i;

	if (s->fd <= 0)
		return;
	if (s->qp_live)
		EXPECT_EQ(0, _uv_destroy_qp(&s->qp));
	if (s->cq_live)
		EXPECT_EQ(0, _uv_destroy_cq(&s->cq));
	if (s->mr_live)
		EXPECT_EQ(0, _uv_dereg_mr(s->fd, s->mr));
	if (s->pd)
		EXPECT_EQ(0, _uv_dealloc_pd(s->fd, s->pd));
	if (s->buf && s->buf != MAP_FAILED)
		munmap(s->buf, BUF_SIZE);
	close(s->fd);
	/* Every object the test made is gone from the RDMA core. */
	res_snapshot(s, now);
	for (i = 0; i < ARRAY_SIZE(res_types); i++) {
		if (now[i] != s->base[i])
			TH_LOG("%s: %s count %ld, was %ld", s->ibdev,
			       res_types[i], now[i], s->base[i]);
		EXPECT_NE(-1, now[i]);
		EXPECT_EQ(s->base[i], now[i]);
	}
}

FIXTURE_SETUP(demo_rc)
{
	if (side_open(&self->a, variant->req, 0))
		SKIP(return, "%s", uv_no_hca_why(variant->req));
	if (side_open(&self->b, variant->resp, variant->resp_nth))
		SKIP(return, "%s", uv_no_hca_why(variant->resp));
	if (uv_cmdline_has("swiotlb=force"))
		SKIP(return, "swiotlb=force: user queues are refused (see swiotlb_refuses_queues)");
	ASSERT_EQ(0, side_setup(&self->a));
	ASSERT_EQ(0, side_setup(&self->b));
	uv_qp_connect(&self->a.qp, ACCESS_ALL, self->b.lid, self->b.qp.qpn,
		      RNR_INFINITE);
	uv_qp_connect(&self->b.qp, ACCESS_ALL, self->a.lid, self->a.qp.qpn,
		      RNR_INFINITE);
}

FIXTURE_TEARDOWN(demo_rc)
{
	side_teardown(_metadata, &self->a);
	side_teardown(_metadata, &self->b);
}

#define A (&self->a)
#define B (&self->b)

/* Wait for the next CQE of @s into @c and check its status and opcode. */
static void wait_cqe(struct __test_metadata *_metadata, struct side *s,
		     struct uv_hw_cqe *c, int status, int opcode)
{
	ASSERT_EQ(0, uv_wait_cq(&s->cq, c, WAIT_MS));
	ASSERT_EQ(status, c->status);
	ASSERT_EQ(opcode, c->opcode);
}

#define expect_cqe(s, cqe, st, op) wait_cqe(_metadata, s, &(cqe), st, op)

/* No CQE arrives on @s within @ms. */
#define expect_no_cqe(s, ms) do {					\
	struct uv_hw_cqe __c;						\
	ASSERT_EQ(ETIMEDOUT, uv_wait_cq(&(s)->cq, &__c, ms));		\
} while (0)

/* Wait until counter @name of @ibdev reaches @want; returns its value. */
static long long wait_counter(const char *ibdev, const char *name,
			      long long want)
{
	long long v = -1;
	int i;

	for (i = 0; i < 100; i++) {
		v = uv_counter(ibdev, name);
		if (v >= want)
			break;
		usleep(20000);
	}
	return v;
}

/* Wait until the device reports QP state @want; returns the last one. */
static int wait_qp_state(struct uv_qp *qp, int want)
{
	int i, st = -1;

	for (i = 0; i < 100; i++) {
		st = uv_query_qp_state(qp);
		if (st == want)
			break;
		usleep(20000);
	}
	return st;
}

/*
 * A second connected pair: @q on A with CQ @cq and RNR retry count @rnr,
 * its @peer on B with B's CQ.
 */
static void make_pair(struct __test_metadata *_metadata, struct side *a,
		      struct side *b, struct uv_cq *cq, struct uv_qp *q,
		      struct uv_qp *peer, __u8 rnr)
{
	struct uv_qp_init init = { .pd = a->pd, .scq = cq, .rcq = cq,
				   .max_send_wr = 8, .max_recv_wr = 8 };

	uv_create_qp(a->fd, &init, q);
	init.pd = b->pd;
	init.scq = &b->cq;
	init.rcq = &b->cq;
	uv_create_qp(b->fd, &init, peer);
	uv_qp_connect(q, ACCESS_ALL, b->lid, peer->qpn, rnr);
	uv_qp_connect(peer, ACCESS_ALL, a->lid, q->qpn, RNR_INFINITE);
}

static const size_t sizes[] = { 1, 63, 64, 4095, 4096, 4097, 65536, 65537,
				1UL << 20 };

static struct uv_wr wr_of(struct side *l, size_t off, size_t len, __u8 op,
			  struct side *r, size_t roff)
{
	struct uv_wr wr = {
		.opcode = op,
		.flags = UV_WQE_F_SIGNALED,
		.addr = (uintptr_t)l->buf + off,
		.length = len,
		.lkey = l->key,
	};

	if (r) {
		wr.remote_addr = (uintptr_t)r->buf + roff;
		wr.rkey = r->key;
	}
	return wr;
}

TEST_F(demo_rc, send_recv)
{
	struct uv_hw_cqe c;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t len = sizes[i];
		struct uv_wr wr = wr_of(A, 0, len, UV_WQE_SEND, NULL, 0);

		fill(A->buf, len, i);
		memset(B->buf, 0, len + 1);
		uv_post_recv(&B->qp, (uintptr_t)B->buf, BUF_SIZE, B->key);
		uv_post_send(&A->qp, &wr);
		expect_cqe(A, c, UV_CQE_OK, UV_WQE_SEND);
		ASSERT_FALSE(c.flags & UV_CQE_F_RECV);
		ASSERT_EQ(A->qp.sq_pi - 1, c.wqe_idx);
		expect_cqe(B, c, UV_CQE_OK, UV_WQE_SEND);
		ASSERT_TRUE(c.flags & UV_CQE_F_RECV);
		ASSERT_EQ(len, c.byte_len);
		ASSERT_EQ(A->qp.qpn, c.src_qpn);
		ASSERT_EQ(A->lid, c.src_lid);
		ASSERT_EQ(0, memcmp(A->buf, B->buf, len)) TH_LOG("size %zu", len);
		ASSERT_EQ(0, B->buf[len]);
	}
}

TEST_F(demo_rc, send_with_imm)
{
	struct uv_wr wr = wr_of(A, 0, 100, UV_WQE_SEND_IMM, NULL, 0);
	struct uv_hw_cqe c;

	wr.imm = htobe32(0xdeadbeef);
	fill(A->buf, 100, 7);
	uv_post_recv(&B->qp, (uintptr_t)B->buf + 8, 4096, B->key);
	uv_post_send(&A->qp, &wr);
	expect_cqe(A, c, UV_CQE_OK, UV_WQE_SEND_IMM);
	expect_cqe(B, c, UV_CQE_OK, UV_WQE_SEND_IMM);
	ASSERT_TRUE(c.flags & UV_CQE_F_IMM);
	ASSERT_EQ(htobe32(0xdeadbeef), c.imm);
	ASSERT_EQ(100, c.byte_len);
	ASSERT_EQ(0, memcmp(A->buf, B->buf + 8, 100));
}

TEST_F(demo_rc, rdma_write)
{
	struct uv_hw_cqe c;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t len = sizes[i], roff = i * 3;
		struct uv_wr wr = wr_of(A, 0, len, UV_WQE_WRITE, B, roff);

		fill(A->buf, len, i + 50);
		memset(B->buf, 0, len + roff + 1);
		uv_post_send(&A->qp, &wr);
		expect_cqe(A, c, UV_CQE_OK, UV_WQE_WRITE);
		ASSERT_EQ(0, memcmp(A->buf, B->buf + roff, len))
			TH_LOG("size %zu", len);
		ASSERT_EQ(0, B->buf[roff + len]);
	}
	/* A plain write consumes no receive and completes nothing on B. */
	expect_no_cqe(B, 50);
}

TEST_F(demo_rc, rdma_write_with_imm)
{
	struct uv_hw_cqe c;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t len = sizes[i];
		struct uv_wr wr = wr_of(A, 0, len, UV_WQE_WRITE_IMM, B, 4096);

		wr.imm = htobe32(i);
		fill(A->buf, len, i + 90);
		uv_post_recv(&B->qp, 0, 0, 0);
		uv_post_send(&A->qp, &wr);
		expect_cqe(A, c, UV_CQE_OK, UV_WQE_WRITE_IMM);
		expect_cqe(B, c, UV_CQE_OK, UV_WQE_WRITE_IMM);
		ASSERT_TRUE(c.flags & UV_CQE_F_RECV);
		ASSERT_TRUE(c.flags & UV_CQE_F_IMM);
		ASSERT_EQ(htobe32(i), c.imm);
		ASSERT_EQ(len, c.byte_len);
		ASSERT_EQ(0, memcmp(A->buf, B->buf + 4096, len));
	}
}

TEST_F(demo_rc, rdma_read)
{
	struct uv_hw_cqe c;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t len = sizes[i];
		struct uv_wr wr = wr_of(A, 1, len, UV_WQE_READ, B, 5);

		fill(B->buf + 5, len, i + 130);
		memset(A->buf, 0, len + 2);
		uv_post_send(&A->qp, &wr);
		expect_cqe(A, c, UV_CQE_OK, UV_WQE_READ);
		ASSERT_EQ(len, c.byte_len);
		ASSERT_EQ(0, memcmp(B->buf + 5, A->buf + 1, len))
			TH_LOG("size %zu", len);
		ASSERT_EQ(0, A->buf[0]);
		ASSERT_EQ(0, A->buf[len + 1]);
	}
	expect_no_cqe(B, 50);
}

/* An unsignaled WQE lands but completes only through the next signaled one. */
TEST_F(demo_rc, unsignaled)
{
	struct uv_wr w1 = wr_of(A, 0, 512, UV_WQE_WRITE, B, 0);
	struct uv_wr w2 = wr_of(A, 512, 512, UV_WQE_WRITE, B, 512);
	struct uv_hw_cqe c;

	fill(A->buf, 1024, 3);
	memset(B->buf, 0, 1024);
	w1.flags = 0;
	uv_post_send(&A->qp, &w1);
	uv_post_send(&A->qp, &w2);
	expect_cqe(A, c, UV_CQE_OK, UV_WQE_WRITE);
	ASSERT_EQ(1, c.wqe_idx);
	expect_no_cqe(A, 50);
	ASSERT_EQ(0, memcmp(A->buf, B->buf, 1024));
}

/*
 * A remote access the responder must refuse: the requester gets
 * REM_ACCESS_ERR, its QP goes to ERR and later work is flushed; the
 * responder's memory is untouched and its device counts the refusal.
 */
static void remote_refused(struct __test_metadata *_metadata, struct side *a,
			   struct side *b, struct uv_wr *wr)
{
	long long prot = uv_counter(b->ibdev, "protection_errors");
	struct uv_wr next = wr_of(a, 0, 8, UV_WQE_WRITE, b, 0);
	struct uv_hw_cqe c;
	size_t i;

	fill(a->buf, 8192, 1);
	memset(b->buf, 0x5a, 3 * 4096);
	uv_post_send(&a->qp, wr);
	expect_cqe(a, c, UV_CQE_REM_ACCESS_ERR, wr->opcode);
	ASSERT_EQ(UV_QPS_ERR, uv_query_qp_state(&a->qp));
	uv_post_send(&a->qp, &next);
	ASSERT_EQ(0, uv_wait_cq(&a->cq, &c, WAIT_MS));
	ASSERT_EQ(UV_CQE_WR_FLUSH_ERR, c.status);
	for (i = 0; i < 3 * 4096; i++)
		ASSERT_EQ(0x5a, b->buf[i]) TH_LOG("byte %zu changed", i);
	ASSERT_EQ(prot + 1, uv_counter(b->ibdev, "protection_errors"));
	expect_no_cqe(b, 50);
}

TEST_F(demo_rc, wrong_rkey)
{
	struct uv_wr wr = wr_of(A, 0, 64, UV_WQE_WRITE, B, 0);

	wr.rkey ^= 0x100;
	remote_refused(_metadata, A, B, &wr);
}

TEST_F(demo_rc, wrong_pd)
{
	struct uv_wr wr = wr_of(A, 0, 64, UV_WQE_WRITE, B, 0);
	__u32 pd2, mr2, key2;

	/* B's buffer, registered again in a PD B's QP is not in. */
	uv_alloc_pd(B->fd, &pd2);
	uv_reg_mr(B->fd, pd2, B->buf, BUF_SIZE, (uintptr_t)B->buf, ACCESS_ALL,
		  &mr2, &key2);
	wr.rkey = key2;
	remote_refused(_metadata, A, B, &wr);
	uv_dereg_mr(B->fd, mr2);
	uv_dealloc_pd(B->fd, pd2);
}

TEST_F(demo_rc, out_of_bounds)
{
	/* Ends 8 bytes past the MR: nothing of it may land. */
	struct uv_wr wr = wr_of(A, 0, 16, UV_WQE_WRITE, B, BUF_SIZE - 8);
	long long prot = uv_counter(B->ibdev, "protection_errors");
	struct uv_hw_cqe c;

	memset(B->buf + BUF_SIZE - 8, 0x5a, 8);
	fill(A->buf, 16, 2);
	uv_post_send(&A->qp, &wr);
	expect_cqe(A, c, UV_CQE_REM_ACCESS_ERR, UV_WQE_WRITE);
	ASSERT_EQ(prot + 1, uv_counter(B->ibdev, "protection_errors"));
	ASSERT_EQ(0x5a, B->buf[BUF_SIZE - 8]);
	ASSERT_EQ(0x5a, B->buf[BUF_SIZE - 1]);
}

TEST_F(demo_rc, read_out_of_bounds)
{
	struct uv_wr wr = wr_of(A, 0, 4096, UV_WQE_READ, B, BUF_SIZE - 4095);
	struct uv_hw_cqe c;

	memset(A->buf, 0x5a, 4096);
	uv_post_send(&A->qp, &wr);
	expect_cqe(A, c, UV_CQE_REM_ACCESS_ERR, UV_WQE_READ);
	ASSERT_EQ(0x5a, A->buf[0]);
	ASSERT_EQ(0x5a, A->buf[4095]);
}

TEST_F(demo_rc, after_dereg)
{
	struct uv_wr wr = wr_of(A, 0, 64, UV_WQE_WRITE, B, 0);
	__u32 old_key = B->key;
	__u32 mr2, key2;

	/* Keep B's memory registered under a new key; kill the old one. */
	uv_reg_mr(B->fd, B->pd, B->buf, BUF_SIZE, (uintptr_t)B->buf,
		  IB_UVERBS_ACCESS_LOCAL_WRITE, &mr2, &key2);
	uv_dereg_mr(B->fd, B->mr);
	B->mr = mr2;
	B->key = key2;
	ASSERT_NE(old_key, key2);
	wr.rkey = old_key;
	remote_refused(_metadata, A, B, &wr);
}

/* A local SGE with a bad lkey fails on the requester, before the wire. */
TEST_F(demo_rc, bad_lkey)
{
	struct uv_wr wr = wr_of(A, 0, 64, UV_WQE_WRITE, B, 0);
	long long prot = uv_counter(A->ibdev, "protection_errors");
	struct uv_hw_cqe c;

	wr.lkey ^= 0x100;
	memset(B->buf, 0x5a, 64);
	uv_post_send(&A->qp, &wr);
	expect_cqe(A, c, UV_CQE_LOC_PROT_ERR, UV_WQE_WRITE);
	ASSERT_EQ(prot + 1, uv_counter(A->ibdev, "protection_errors"));
	ASSERT_EQ(0x5a, B->buf[0]);
}

/* A receive buffer too small for the message fails both sides. */
TEST_F(demo_rc, recv_too_small)
{
	struct uv_wr wr = wr_of(A, 0, 4096, UV_WQE_SEND, NULL, 0);
	struct uv_hw_cqe c;

	uv_post_recv(&B->qp, (uintptr_t)B->buf, 4095, B->key);
	uv_post_send(&A->qp, &wr);
	expect_cqe(B, c, UV_CQE_LOC_LEN_ERR, UV_WQE_SEND);
	expect_cqe(A, c, UV_CQE_REM_OP_ERR, UV_WQE_SEND);
	ASSERT_EQ(UV_QPS_ERR, uv_query_qp_state(&B->qp));
}

/* Without a receive and with no RNR retries the send fails. */
TEST_F(demo_rc, rnr_retry_exceeded)
{
	struct uv_wr wr = wr_of(A, 0, 64, UV_WQE_SEND, NULL, 0);
	long long rnr = uv_counter(A->ibdev, "rnr_naks");
	struct uv_qp q, peer;
	struct uv_hw_cqe c;

	make_pair(_metadata, A, B, &A->cq, &q, &peer, 0);
	uv_post_send(&q, &wr);
	expect_cqe(A, c, UV_CQE_RNR_RETRY_EXC, UV_WQE_SEND);
	ASSERT_EQ(rnr + 1, uv_counter(A->ibdev, "rnr_naks"));
	ASSERT_EQ(UV_QPS_ERR, uv_query_qp_state(&q));
	uv_destroy_qp(&peer);
	uv_destroy_qp(&q);
}

/* Work posted before RTS waits; the device runs it once the QP is RTS. */
TEST_F(demo_rc, wrong_state)
{
	struct uv_qp_init init = {
		.pd = A->pd, .scq = &A->cq, .rcq = &A->cq,
		.max_send_wr = 4, .max_recv_wr = 4,
	};
	struct ib_uverbs_modify_qp to_rts = {
		.attr_mask = UV_QP_STATE, .qp_state = UV_QPS_RTS,
	};
	long long tx = uv_counter(A->ibdev, "tx_wqes");
	struct uv_wr wr = wr_of(A, 0, 64, UV_WQE_WRITE, B, 0);
	struct uv_qp q;
	struct uv_hw_cqe c;

	ASSERT_LE(0, tx);
	uv_create_qp(A->fd, &init, &q);
	/* RESET -> RTS skips states: the core refuses it. */
	ASSERT_EQ(EINVAL, _uv_modify_qp(&q, &to_rts));
	ASSERT_EQ(UV_QPS_RESET, uv_query_qp_state(&q));
	ASSERT_EQ(0, _uv_qp_to_init(&q, ACCESS_ALL));
	fill(A->buf, 64, 9);
	memset(B->buf, 0, 64);
	uv_post_send(&q, &wr);
	expect_no_cqe(A, 100);
	ASSERT_EQ(tx, uv_counter(A->ibdev, "tx_wqes"));
	ASSERT_EQ(0, B->buf[0]);
	/* B's QP points elsewhere: the device reports the peer unreachable. */
	ASSERT_EQ(0, _uv_qp_to_rtr(&q, B->lid, B->qp.qpn, 0));
	ASSERT_EQ(0, _uv_post_send_cmd(&q, 0));
	expect_cqe(A, c, UV_CQE_RETRY_EXC, UV_WQE_WRITE);
	ASSERT_EQ(0, B->buf[0]);
	uv_destroy_qp(&q);
}

/*
 * A CQ too small for its completions: the device counts the overrun and
 * drops the CQE, and uses the consumer index from the doorbell record once
 * the process has polled.
 */
TEST_F(demo_rc, cq_overrun)
{
	struct uv_wr wr = wr_of(A, 0, 8, UV_WQE_WRITE, B, 0);
	long long over = uv_counter(A->ibdev, "cq_overruns");
	struct uv_qp q, peer;
	struct uv_hw_cqe c;
	struct uv_cq cq;
	int i;

	/* The device's smallest CQ has two entries. */
	uv_create_cq(A->fd, 1, -1, &cq);
	ASSERT_EQ(2, cq.depth);
	make_pair(_metadata, A, B, &cq, &q, &peer, RNR_INFINITE);

	for (i = 0; i < 4; i++)
		uv_post_send(&q, &wr);
	ASSERT_EQ(over + 2, wait_counter(A->ibdev, "cq_overruns", over + 2));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, uv_wait_cq(&cq, &c, WAIT_MS));
		ASSERT_EQ(i, c.wqe_idx);
	}
	ASSERT_EQ(0, uv_poll_cq(&cq, &c));
	/* Polled: the device sees room through the record. */
	uv_post_send(&q, &wr);
	ASSERT_EQ(0, uv_wait_cq(&cq, &c, WAIT_MS));
	ASSERT_EQ(4, c.wqe_idx);
	ASSERT_EQ(over + 2, uv_counter(A->ibdev, "cq_overruns"));

	uv_destroy_qp(&peer);
	uv_destroy_qp(&q);
	uv_destroy_cq(&cq);
}

/* A completion event reaches the completion channel of an armed CQ. */
TEST_F(demo_rc, completion_channel)
{
	struct uv_wr wr = wr_of(A, 0, 8, UV_WQE_WRITE, B, 0);
	struct ib_uverbs_comp_event_desc ev;
	struct uv_qp q, peer;
	struct uv_hw_cqe c;
	struct pollfd pfd;
	struct uv_cq cq;
	int chan;

	uv_create_comp_channel(A->fd, &chan);
	uv_create_cq(A->fd, 4, chan, &cq);
	make_pair(_metadata, A, B, &cq, &q, &peer, RNR_INFINITE);

	/* Not armed: a completion raises no event. */
	uv_post_send(&q, &wr);
	ASSERT_EQ(0, uv_wait_cq(&cq, &c, WAIT_MS));
	pfd = (struct pollfd){ .fd = chan, .events = POLLIN };
	ASSERT_EQ(0, poll(&pfd, 1, 100));
	uv_req_notify_cq(&cq, false);
	uv_post_send(&q, &wr);
	ASSERT_EQ(1, poll(&pfd, 1, WAIT_MS));
	ASSERT_EQ(sizeof(ev), read(chan, &ev, sizeof(ev)));
	ASSERT_EQ((uintptr_t)&cq, ev.cq_handle);
	ASSERT_EQ(0, uv_wait_cq(&cq, &c, WAIT_MS));

	uv_destroy_qp(&peer);
	uv_destroy_qp(&q);
	uv_destroy_cq(&cq);
	close(chan);
}

/* A producer index past the ring's end is a QP error, not a wild DMA. */
TEST_F(demo_rc, bad_doorbell)
{
	long long tx = uv_counter(A->ibdev, "tx_wqes");

	ASSERT_LE(0, tx);
	A->qp.dbr->sq_pi = A->qp.resp.sq_depth + 1;
	ASSERT_EQ(0, _uv_post_send_cmd(&A->qp, 0));
	ASSERT_EQ(UV_QPS_ERR, wait_qp_state(&A->qp, UV_QPS_ERR));
	ASSERT_EQ(tx, uv_counter(A->ibdev, "tx_wqes"));
}

/*
 * The kernel's own data path is not offered on user queues: POLL_CQ and
 * POST_RECV are not commands of a demo device, and POST_SEND takes no work
 * requests (it is the doorbell).
 */
TEST_F(demo_rc, kernel_paths_refused)
{
	ASSERT_EQ(EOPNOTSUPP, _uv_kernel_poll_cq(&A->cq));
	ASSERT_EQ(EOPNOTSUPP, _uv_post_recv_cmd(&A->qp, 1));
	ASSERT_EQ(EOPNOTSUPP, _uv_post_recv_cmd(&A->qp, 0));
	ASSERT_EQ(EINVAL, _uv_post_send_cmd(&A->qp, 1));
	ASSERT_EQ(0, _uv_post_send_cmd(&A->qp, 0));
}

/* Driver data of the CQ and QP create commands, checked field by field. */
TEST_F(demo_rc, bad_udata)
{
	struct uv_qp_init init = { .pd = A->pd, .scq = &A->cq, .rcq = &A->cq,
				   .max_send_wr = 4, .max_recv_wr = 4 };
	struct demo_create_cq cq_req = {};
	struct demo_create_qp qp_req = {};
	struct demo_alloc_ucontext_resp caps;
	__u64 longer[3] = {};
	struct uv_cq cq;
	struct uv_qp qp;
	int fd2;

	/* Unknown comp_mask bits: not supported by this kernel. */
	cq_req.comp_mask = 1;
	ASSERT_EQ(EOPNOTSUPP, __uv_create_cq(A->fd, 4, -1, &cq_req,
					     sizeof(cq_req), &cq));
	cq_req.comp_mask = 0;
	cq_req.reserved = 1;
	ASSERT_EQ(EINVAL, __uv_create_cq(A->fd, 4, -1, &cq_req,
					 sizeof(cq_req), &cq));
	/* Shorter than the first version of the struct. */
	ASSERT_EQ(EINVAL, __uv_create_cq(A->fd, 4, -1, &cq_req, 4, &cq));
	/* Longer: fine while the unknown tail is zero. */
	longer[2] = 1;
	ASSERT_EQ(EOPNOTSUPP, __uv_create_cq(A->fd, 4, -1, longer,
					     sizeof(longer), &cq));
	longer[2] = 0;
	ASSERT_EQ(0, __uv_create_cq(A->fd, 4, -1, longer, sizeof(longer), &cq));
	uv_destroy_cq(&cq);
	/* Beyond the device's limits. */
	ASSERT_EQ(EINVAL, _uv_create_cq(A->fd, 1 << 20, -1, &cq));

	qp_req.comp_mask = 2;
	ASSERT_EQ(EOPNOTSUPP, __uv_create_qp(A->fd, &init, &qp_req,
					     sizeof(qp_req), &qp));
	qp_req.comp_mask = 0;
	qp_req.reserved = 3;
	ASSERT_EQ(EINVAL, __uv_create_qp(A->fd, &init, &qp_req,
					 sizeof(qp_req), &qp));
	ASSERT_EQ(EINVAL, __uv_create_qp(A->fd, &init, &qp_req, 0, &qp));
	init.max_send_wr = 1 << 20;
	ASSERT_EQ(EINVAL, _uv_create_qp(A->fd, &init, &qp));
	init.max_send_wr = 4;
	init.max_inline = 64;
	ASSERT_EQ(EINVAL, _uv_create_qp(A->fd, &init, &qp));

	/* The context takes no driver input. */
	fd2 = uv_open_demo(UV_BUS_ANY, 0, NULL, 0);
	ASSERT_LE(0, fd2);
	longer[0] = 1;
	ASSERT_EQ(EOPNOTSUPP, _uv_get_context_drv(fd2, longer, 8, &caps));
	ASSERT_EQ(0, _uv_get_context_drv(fd2, NULL, 0, &caps));
	ASSERT_EQ(64, caps.wqe_size);
	ASSERT_EQ(32, caps.cqe_size);
	ASSERT_EQ(0, caps.comp_mask);
	close(fd2);
}

/* The VmFlags of the mapping at @p in /proc/self/smaps, or "". */
static void vma_flags(const void *p, char *flags, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	unsigned long start, end;
	bool in = false;
	char line[256];

	flags[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			in = start == (unsigned long)p;
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(flags, len, "%s ", line + 8);
			break;
		}
	}
	fclose(f);
}

/* Only the queues' own offsets, sizes and shared mappings are allowed. */
TEST_F(demo_rc, bad_mmap)
{
	char flags[256];
	struct uv_cq cq;
	size_t size;
	__u64 off;
	void *p;

	off = A->cq.resp.mmap_offset;
	size = A->cq.resp.mmap_size;
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, A->fd, off + 64 * 4096);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	p = mmap(NULL, size + 4096, PROT_READ, MAP_SHARED, A->fd, off);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, A->fd, off);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);

	/*
	 * A mapping outlives its CQ: it stays readable and the device no
	 * longer writes to it; the offset is dead for new mappings.
	 */
	uv_create_cq(A->fd, 4, -1, &cq);
	p = mmap(NULL, cq.resp.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 A->fd, cq.resp.mmap_offset);
	ASSERT_NE(MAP_FAILED, p);
	/*
	 * Queue memory is kernel RAM: mapped as pages ("mm"), never as I/O
	 * memory ("io", "pf"), which would lose its encryption.
	 */
	vma_flags(p, flags, sizeof(flags));
	TH_LOG("ring mapping: VmFlags:%s", flags);
	ASSERT_NE(NULL, strstr(flags, " mm "));
	ASSERT_EQ(NULL, strstr(flags, " io "));
	ASSERT_EQ(NULL, strstr(flags, " pf "));
	memset(p, 0xa5, cq.resp.mmap_size);
	uv_destroy_cq(&cq);
	ASSERT_EQ(0xa5, ((unsigned char *)p)[0]);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, cq.resp.mmap_size, PROT_READ,
				   MAP_SHARED, A->fd, cq.resp.mmap_offset));
	ASSERT_EQ(EINVAL, errno);
	munmap(p, cq.resp.mmap_size);
}

/*
 * File descriptors: a completion channel that is closed, that is not a
 * channel, or that belongs to another device file is refused; closing a
 * channel under a live CQ leaves the CQ working; a closed device file
 * maps nothing.
 */
TEST_F(demo_rc, closed_fds)
{
	struct uv_wr wr = wr_of(A, 0, 8, UV_WQE_WRITE, B, 0);
	struct uv_qp q, peer;
	struct uv_hw_cqe c;
	struct uv_cq cq;
	int chan, fd2;
	__u32 ncv;

	uv_create_comp_channel(A->fd, &chan);
	close(chan);
	uv_err_create_cq(EBADF, A->fd, 4, chan, &cq);
	uv_err_create_cq(EBADF, A->fd, 4, A->fd, &cq);
	uv_create_comp_channel(B->fd, &chan);
	uv_err_create_cq(EBADF, A->fd, 4, chan, &cq);
	close(chan);

	uv_create_comp_channel(A->fd, &chan);
	uv_create_cq(A->fd, 4, chan, &cq);
	close(chan);
	make_pair(_metadata, A, B, &cq, &q, &peer, RNR_INFINITE);
	uv_req_notify_cq(&cq, false);
	uv_post_send(&q, &wr);
	ASSERT_EQ(0, uv_wait_cq(&cq, &c, WAIT_MS));
	ASSERT_EQ(UV_CQE_OK, c.status);
	uv_destroy_qp(&peer);
	uv_destroy_qp(&q);
	uv_destroy_cq(&cq);

	fd2 = uv_open_demo(UV_BUS_ANY, 0, NULL, 0);
	ASSERT_LE(0, fd2);
	uv_get_context(fd2, &ncv, NULL);
	close(fd2);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd2, 0));
	ASSERT_EQ(EBADF, errno);
	uv_err_get_context(EBADF, fd2);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * While A has 1024 RDMA WRITEs of 2 MiB queued to B, 2 GiB in all, the
 * devices keep serving commands: each CREATE_CQ and DESTROY_CQ pair on B
 * completes far inside the driver's 5 s command timeout, because the
 * device moves a bounded number of packets per pass of its work and
 * serves commands between passes. Prints the slowest pair.
 */
TEST_F(demo_rc, commands_during_traffic)
{
	struct uv_qp_init init = { .pd = A->pd, .scq = &A->cq, .rcq = &A->cq,
				   .max_send_wr = 1024, .max_recv_wr = 1 };
	struct uv_wr wr = wr_of(A, 0, BUF_SIZE, UV_WQE_WRITE, B, 0);
	double t, worst = 0, total = 0;
	struct uv_qp q, peer;
	struct uv_cq cq;
	int i;

	uv_create_qp(A->fd, &init, &q);
	init.pd = B->pd;
	init.scq = &B->cq;
	init.rcq = &B->cq;
	init.max_send_wr = 1;
	uv_create_qp(B->fd, &init, &peer);
	uv_qp_connect(&q, ACCESS_ALL, B->lid, peer.qpn, RNR_INFINITE);
	uv_qp_connect(&peer, ACCESS_ALL, A->lid, q.qpn, RNR_INFINITE);
	wr.flags = 0;
	for (i = 0; i < 1024; i++)
		uv_post_send(&q, &wr);

	for (i = 0; i < 20; i++) {
		t = now_ms();
		uv_create_cq(B->fd, 4, -1, &cq);
		uv_destroy_cq(&cq);
		t = now_ms() - t;
		total += t;
		if (t > worst)
			worst = t;
	}
	printf("# CQ create+destroy on %s, traffic from %s: slowest %.1f ms, mean %.1f ms\n",
	       B->ibdev, A->ibdev, worst, total / 20);
	EXPECT_GT(1000, worst);
	/* the traffic goes with its QP, mid-way */
	uv_destroy_qp(&q);
	uv_destroy_qp(&peer);
}

/* What the unprivileged process may lock: two 2 MiB buffers and rings */
#define UNPRIV_MEMLOCK	(16UL << 20)
#define UNPRIV_ID	65534	/* nobody */

struct huge_case {
	const char *name;
	__u8 opcode;
	__u32 len[2];		/* SGE lengths; a second SGE when len[1] */
	__u8 status;		/* the completion the WQE must get */
};

/*
 * Above the device's max_msg (2 GiB) a WQE is a length error; at 2 GiB it
 * gets as far as its SGE, which no MR of the process covers.
 */
static const struct huge_case huge_cases[] = {
	{ "RDMA WRITE of 2 GiB", UV_WQE_WRITE, { 1U << 31 },
	  UV_CQE_LOC_PROT_ERR },
	{ "RDMA READ of 2 GiB", UV_WQE_READ, { 1U << 31 },
	  UV_CQE_LOC_PROT_ERR },
	{ "SEND of 2 GiB", UV_WQE_SEND, { 1U << 31 }, UV_CQE_LOC_PROT_ERR },
	{ "RDMA WRITE of 2^32 - 1 bytes", UV_WQE_WRITE, { ~0U },
	  UV_CQE_LOC_LEN_ERR },
	{ "RDMA WRITE of two 2 GiB SGEs, a 32-bit sum of 0", UV_WQE_WRITE,
	  { 1U << 31, 1U << 31 }, UV_CQE_LOC_LEN_ERR },
	{ "SEND of 2^32 - 1 and 1 bytes, a 32-bit sum of 0", UV_WQE_SEND,
	  { ~0U, 1 }, UV_CQE_LOC_LEN_ERR },
};

/*
 * In a child that has dropped to nobody with its own RLIMIT_MEMLOCK: set
 * up both HCAs, post @c's one WQE and check its completion. Returns 0, or
 * the step that failed.
 */
static int huge_message_child(const struct huge_case *c)
{
	struct rlimit rl = { UNPRIV_MEMLOCK, UNPRIV_MEMLOCK };
	struct uv_hw_cqe cqe;
	struct uv_hw_wqe *w;
	struct side a, b;
	unsigned int i;

	if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgroups(0, NULL) ||
	    setgid(UNPRIV_ID) || setuid(UNPRIV_ID))
		return 1;
	if (side_open(&a, UV_BUS_ANY, 0) || side_open(&b, UV_BUS_ANY, 1) ||
	    side_setup(&a) || side_setup(&b))
		return 2;
	if (_uv_qp_connect(&a.qp, ACCESS_ALL, b.lid, b.qp.qpn, 0) ||
	    _uv_qp_connect(&b.qp, ACCESS_ALL, a.lid, a.qp.qpn, 0))
		return 3;
	/* a receive, so that a SEND gets as far as its own SGEs */
	uv_post_recv(&b.qp, (uintptr_t)b.buf, BUF_SIZE, b.key);
	w = &a.qp.sq[a.qp.sq_pi & (a.qp.resp.sq_depth - 1)];
	memset(w, 0, sizeof(*w));
	w->opcode = c->opcode;
	w->flags = UV_WQE_F_SIGNALED;
	w->remote_addr = (uintptr_t)b.buf;
	w->rkey = b.key;
	for (i = 0; i < 2 && c->len[i]; i++) {
		w->sge[i].addr = (uintptr_t)a.buf;
		w->sge[i].length = c->len[i];
		w->sge[i].lkey = a.key;
		w->num_sge++;
	}
	a.qp.sq_pi++;
	__atomic_store_n(&a.qp.dbr->sq_pi, a.qp.sq_pi, __ATOMIC_RELEASE);
	if (_uv_post_send_cmd(&a.qp, 0))
		return 4;
	if (uv_wait_cq(&a.cq, &cqe, WAIT_MS))
		return 5;
	if (cqe.status != c->status || cqe.opcode != c->opcode) {
		printf("# %s: status %u, opcode %u\n", c->name, cqe.status,
		       cqe.opcode);
		return 6;
	}
	return 0;
}

/*
 * An unprivileged process with a 16 MiB RLIMIT_MEMLOCK posts messages of
 * 2 GiB, of 2^32 - 1 bytes, and of two SGEs whose 32-bit sum wraps to 0.
 * Each gets its error completion and nothing more: the device allocates
 * nothing for a message (a 2 GiB allocation used to WARN, which fails the
 * VM's log scan), and the objects go with the process.
 */
TEST(unprivileged_huge_messages)
{
	struct side a, b;
	unsigned int i;
	int st;

	if (side_open(&a, UV_BUS_ANY, 0) || side_open(&b, UV_BUS_ANY, 1))
		SKIP(return, "needs two demo HCAs");
	if (uv_cmdline_has("swiotlb=force"))
		SKIP(return, "swiotlb=force: user queues are refused (see swiotlb_refuses_queues)");
	if (geteuid())
		SKIP(return, "needs root, to drop to uid %d", UNPRIV_ID);
	for (i = 0; i < ARRAY_SIZE(huge_cases); i++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (!pid)
			_exit(huge_message_child(&huge_cases[i]));
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
		ASSERT_TRUE(WIFEXITED(st));
		EXPECT_EQ(0, WEXITSTATUS(st))
			TH_LOG("%s: step %d failed", huge_cases[i].name,
			       WEXITSTATUS(st));
	}
	/* every object the children made is gone */
	side_teardown(_metadata, &a);
	side_teardown(_metadata, &b);
}

/*
 * Closing the device file with everything live and mapped tears it all
 * down; the mappings stay valid until unmapped.
 */
TEST(close_with_objects)
{
	struct side s;
	long now[5];
	unsigned int i;
	void *ring;

	if (side_open(&s, UV_BUS_ANY, 0))
		SKIP(return, "no demo HCA");
	if (uv_cmdline_has("swiotlb=force"))
		SKIP(return, "swiotlb=force: user queues are refused");
	ASSERT_EQ(0, side_setup(&s));
	ring = s.qp.map;
	close(s.fd);
	/* The VMAs still hold the file: the objects go when they go. */
	memset(ring, 0, 64);
	munmap(s.qp.map, s.qp.resp.mmap_size);
	munmap(s.cq.map, s.cq.resp.mmap_size);
	munmap(s.buf, BUF_SIZE);
	res_snapshot(&s, now);
	for (i = 0; i < ARRAY_SIZE(res_types); i++) {
		if (now[i] != s.base[i])
			TH_LOG("%s count %ld, was %ld", res_types[i], now[i],
			       s.base[i]);
		EXPECT_NE(-1, now[i]);
		EXPECT_EQ(s.base[i], now[i]);
	}
}

/*
 * swiotlb=force: the device could reach queue memory shared with the
 * process only through bounce buffers, so user CQs are refused with EIO;
 * everywhere else they are created.
 */
TEST(swiotlb_refuses_queues)
{
	struct uv_cq cq;
	__u32 ncv;
	int fd;

	fd = uv_open_demo(UV_BUS_ANY, 0, NULL, 0);
	if (fd < 0)
		SKIP(return, "no demo HCA");
	uv_get_context(fd, &ncv, NULL);
	if (uv_cmdline_has("swiotlb=force")) {
		uv_err_create_cq(EIO, fd, 4, -1, &cq);
	} else {
		uv_create_cq(fd, 4, -1, &cq);
		uv_destroy_cq(&cq);
	}
	close(fd);
}

TEST_HARNESS_MAIN
