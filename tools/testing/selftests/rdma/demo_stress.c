// SPDX-License-Identifier: GPL-2.0-only
/*
 * Seeded random input to the demo HCA's user ABI.
 *
 * Work requests with random opcodes, flags, SGE counts, lengths, keys and
 * addresses are written straight into the send and receive rings, as a
 * hostile provider would, and mixed with random commands: CQs, QPs and MRs
 * created with random sizes and access, QP transitions to random states.
 * The test checks what must hold whatever the input: every command returns
 * 0 or an errno, the device completes every signaled WQE (with success or
 * an error), every object can be destroyed, and the RDMA core's object
 * counts are back at their baseline. In the project's VM run the kernel
 * log (oops, WARN, lockdep, kmemleak, DMA-API debug) is the other judge.
 *
 * DEMO_STRESS_SEED=N repeats a run (the seed is printed either way);
 * DEMO_STRESS_ROUNDS=N changes its length (default 64 rounds of 16 WQEs).
 */
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#include "../kselftest_harness.h"
#include "demo_uverbs.h"

#define BUF_SIZE	(256UL << 10)
#define WQES		16
#define WAIT_MS		5000
#define ACCESS_ALL	(IB_UVERBS_ACCESS_LOCAL_WRITE | \
			 IB_UVERBS_ACCESS_REMOTE_WRITE | \
			 IB_UVERBS_ACCESS_REMOTE_READ)

static const char * const res_types[] = { "ctx", "pd", "cq", "qp", "mr" };

static __u64 rng;

static __u64 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static __u64 pick(const __u64 *v, size_t n)
{
	return v[rnd() % n];
}

#define PICK(...) ({ const __u64 __v[] = { __VA_ARGS__ }; \
		     pick(__v, ARRAY_SIZE(__v)); })

struct side {
	int fd;
	char ibdev[64];
	__u16 lid;
	__u32 pd;
	struct uv_cq cq;
	struct uv_qp qp;
	unsigned char *buf;
	__u32 mr, key;
	long base[ARRAY_SIZE(res_types)];
};

FIXTURE(demo_stress) {
	struct side s[2];
	int n;			/* HCAs: 2, or 1 sending to itself */
};

static int side_open(struct side *s, int nth)
{
	struct uv_qp_init init = { .max_send_wr = 64, .max_recv_wr = 64 };
	int rc;

	memset(s, 0, sizeof(*s));
	s->fd = uv_open_demo(UV_BUS_ANY, nth, s->ibdev, sizeof(s->ibdev));
	if (s->fd < 0)
		return -1;
	s->lid = uv_lid(s->ibdev);
	uv_res_counts(s->ibdev, res_types, ARRAY_SIZE(res_types), s->base);
	rc = _uv_get_context_drv(s->fd, NULL, 0,
				 &(struct demo_alloc_ucontext_resp){});
	rc = rc ?: _uv_alloc_pd(s->fd, &s->pd);
	rc = rc ?: _uv_create_cq(s->fd, 256, -1, &s->cq);
	if (rc)
		return rc;
	init.pd = s->pd;
	init.scq = &s->cq;
	init.rcq = &s->cq;
	rc = _uv_create_qp(s->fd, &init, &s->qp);
	if (rc)
		return rc;
	s->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (s->buf == MAP_FAILED)
		return errno;
	return _uv_reg_mr(s->fd, s->pd, s->buf, BUF_SIZE, (uintptr_t)s->buf,
			  ACCESS_ALL, &s->mr, &s->key);
}

FIXTURE_SETUP(demo_stress)
{
	int rc;

	if (uv_cmdline_has("swiotlb=force"))
		SKIP(return, "swiotlb=force: user queues and MRs are refused");
	rc = side_open(&self->s[0], 0);
	if (rc == -1)
		SKIP(return, "no demo HCA");
	ASSERT_EQ(0, rc);
	self->n = 1;
	rc = side_open(&self->s[1], 1);
	if (!rc)
		self->n = 2;
	else if (self->s[1].fd >= 0)
		ASSERT_EQ(0, rc);
}

FIXTURE_TEARDOWN(demo_stress)
{
	long now[ARRAY_SIZE(res_types)];
	unsigned int i;
	int k;

	for (k = 0; k < 2; k++) {
		struct side *s = &self->s[k];

		if (s->fd <= 0)
			continue;
		EXPECT_EQ(0, _uv_destroy_qp(&s->qp));
		EXPECT_EQ(0, _uv_destroy_cq(&s->cq));
		EXPECT_EQ(0, _uv_dereg_mr(s->fd, s->mr));
		EXPECT_EQ(0, _uv_dealloc_pd(s->fd, s->pd));
		munmap(s->buf, BUF_SIZE);
		close(s->fd);
		uv_res_counts(s->ibdev, res_types, ARRAY_SIZE(res_types), now);
		for (i = 0; i < ARRAY_SIZE(res_types); i++) {
			if (now[i] != s->base[i])
				TH_LOG("%s: %s count %ld, was %ld", s->ibdev,
				       res_types[i], now[i], s->base[i]);
			EXPECT_NE(-1, now[i]);
			EXPECT_EQ(s->base[i], now[i]);
		}
	}
}

/* An address: in the buffer, near it, or anywhere. */
static __u64 rnd_addr(struct side *s)
{
	__u64 b = (uintptr_t)s->buf;

	return PICK(b, b + rnd() % BUF_SIZE, b + BUF_SIZE - 1, b + BUF_SIZE,
		    b - 4096, 0, rnd(), ~0ULL, b + (1ULL << 32));
}

static __u32 rnd_len(void)
{
	return PICK(0, 1, rnd() % 4096, rnd() % BUF_SIZE, BUF_SIZE,
		    BUF_SIZE + 1, 1U << 31, 0xffffffffU, (__u32)rnd());
}

static __u32 rnd_key(struct side *s)
{
	return PICK(s->key, s->key, s->key ^ 1, s->key + 0x100, 0,
		    (__u32)rnd(), 0xffffffffU);
}

static void rnd_sge(struct side *s, struct uv_hw_sge *g)
{
	g->addr = rnd_addr(s);
	g->length = rnd_len();
	g->lkey = rnd_key(s);
}

/* Random receives on @r: the device reads them when a message comes. */
static void post_recvs(struct side *r, unsigned int n)
{
	while (n--) {
		struct uv_qp *qp = &r->qp;
		struct uv_hw_wqe *w = &qp->rq[qp->rq_pi & (qp->resp.rq_depth - 1)];

		memset(w, 0, sizeof(*w));
		w->opcode = PICK(UV_WQE_RECV, UV_WQE_RECV, UV_WQE_RECV,
				 UV_WQE_SEND, rnd() & 0xff);
		w->num_sge = PICK(0, 1, 1, 2, 3, rnd() & 0xff);
		rnd_sge(r, &w->sge[0]);
		rnd_sge(r, &w->sge[1]);
		qp->rq_pi++;
		__atomic_store_n(&qp->dbr->rq_pi, qp->rq_pi, __ATOMIC_RELEASE);
	}
}

/*
 * WQES random work requests from @s to @r, all signaled, then the
 * doorbell. Returns how many CQEs @s must see: one per WQE.
 */
static unsigned int post_sends(struct side *s, struct side *r)
{
	struct uv_qp *qp = &s->qp;
	unsigned int i;

	for (i = 0; i < WQES; i++) {
		struct uv_hw_wqe *w = &qp->sq[qp->sq_pi & (qp->resp.sq_depth - 1)];

		memset(w, 0, sizeof(*w));
		w->opcode = PICK(UV_WQE_SEND, UV_WQE_SEND_IMM, UV_WQE_WRITE,
				 UV_WQE_WRITE_IMM, UV_WQE_READ, UV_WQE_RECV, 0,
				 rnd() & 0xff);
		w->flags = UV_WQE_F_SIGNALED | (rnd() & UV_WQE_F_SOLICITED);
		w->num_sge = PICK(0, 1, 1, 2, 3, rnd() & 0xff);
		w->imm = rnd();
		w->remote_addr = rnd_addr(r);
		w->rkey = rnd_key(r);
		rnd_sge(s, &w->sge[0]);
		rnd_sge(s, &w->sge[1]);
		qp->sq_pi++;
	}
	__atomic_store_n(&qp->dbr->sq_pi, qp->sq_pi, __ATOMIC_RELEASE);
	return WQES;
}

/* Take every CQE off @s's CQ for up to @ms; returns how many. */
static unsigned int drain(struct side *s, unsigned int want, int ms)
{
	struct uv_hw_cqe c;
	unsigned int got = 0;

	while (got < want && !uv_wait_cq(&s->cq, &c, ms))
		got += !(c.flags & UV_CQE_F_RECV) && c.qpn == s->qp.qpn;
	while (uv_poll_cq(&s->cq, &c))
		;
	return got;
}

/* A random command on @s; returns its errno (0 if it succeeded). */
static int rnd_command(struct side *s)
{
	struct uv_qp_init init = {
		.pd = s->pd, .scq = &s->cq, .rcq = &s->cq,
		.max_send_wr = PICK(0, 1, 64, 1024, 1U << 20, rnd()),
		.max_recv_wr = PICK(0, 1, 64, rnd()),
		.max_inline = PICK(0, 0, 64),
	};
	/*
	 * Never RESET a QP with work outstanding (it is dropped without
	 * completions, as in hardware), nor give it infinite RNR retries:
	 * the test counts on every signaled WQE completing.
	 */
	struct ib_uverbs_modify_qp m = {
		.attr_mask = rnd() & 0x1fffff & ~UV_QP_RNR_RETRY,
		.qp_state = PICK(UV_QPS_INIT, UV_QPS_RTR, UV_QPS_RTS,
				 UV_QPS_SQD, UV_QPS_SQE, UV_QPS_ERR, 7),
		.port_num = PICK(0, 1, 2),
		.qp_access_flags = rnd() & 0xff,
		.dest_qp_num = rnd() & 0xffffff,
		.dest = { .dlid = PICK(0, s->lid, rnd() & 0xffff),
			  .port_num = 1 },
		.path_mtu = rnd() % 7,
	};
	struct uv_cq cq;
	struct uv_qp qp;
	__u32 h, k;
	int rc;

	switch (rnd() % 4) {
	case 0:
		rc = _uv_create_cq(s->fd, PICK(0, 1, 64, 4096, 1U << 20,
					       (__u32)rnd()), -1, &cq);
		return rc ?: _uv_destroy_cq(&cq);
	case 1:
		rc = _uv_create_qp(s->fd, &init, &qp);
		if (rc)
			return rc;
		m.attr_mask |= UV_QP_STATE;
		m.qp_state = UV_QPS_INIT;
		_uv_modify_qp(&qp, &m);
		return _uv_destroy_qp(&qp);
	case 2:
		rc = _uv_reg_mr(s->fd, s->pd, s->buf + rnd() % BUF_SIZE,
				PICK(1, 4096, BUF_SIZE, rnd_len()),
				PICK((uintptr_t)s->buf, rnd()), rnd() & 0x3ff,
				&h, &k);
		return rc ?: _uv_dereg_mr(s->fd, h);
	default:
		return _uv_modify_qp(&s->qp, &m);
	}
}

/* RESET, then connected again: a round's errors leave QPs in ERR. */
static int reconnect(struct side *s, struct side *r)
{
	struct ib_uverbs_modify_qp reset = {
		.attr_mask = UV_QP_STATE, .qp_state = UV_QPS_RESET,
	};
	int rc = _uv_modify_qp(&s->qp, &reset);

	s->qp.sq_pi = 0;
	s->qp.rq_pi = 0;
	s->qp.dbr->sq_pi = 0;
	s->qp.dbr->rq_pi = 0;
	return rc ?: _uv_qp_connect(&s->qp, ACCESS_ALL, r->lid, r->qp.qpn, 1);
}

TEST_F_TIMEOUT(demo_stress, random_abi, 600)
{
	const char *env = getenv("DEMO_STRESS_SEED");
	unsigned int rounds = 64, round, sent = 0, done = 0, errs = 0;
	struct side *a = &self->s[0], *b = &self->s[self->n - 1];
	__u64 seed;
	int rc;

	seed = env ? strtoull(env, NULL, 0) : (__u64)time(NULL);
	rng = seed | 1;
	if (getenv("DEMO_STRESS_ROUNDS"))
		rounds = strtoul(getenv("DEMO_STRESS_ROUNDS"), NULL, 0);
	TH_LOG("DEMO_STRESS_SEED=%llu, %u rounds, %s -> %s",
	       (unsigned long long)seed, rounds, a->ibdev, b->ibdev);

	for (round = 0; round < rounds; round++) {
		struct side *s = round & 1 ? b : a, *r = round & 1 ? a : b;
		unsigned int want, got, i;

		rc = reconnect(s, r);
		if (!rc && r != s)
			rc = reconnect(r, s);
		ASSERT_EQ(0, rc) TH_LOG("round %u", round);
		post_recvs(r, rnd() % 8);
		want = post_sends(s, r);
		ASSERT_EQ(0, _uv_post_send_cmd(&s->qp, 0));
		for (i = 0; i < 4; i++) {
			rc = rnd_command(PICK(0, 1) ? s : r);
			/* errnos only: -1 would be the helper failing */
			ASSERT_LE(0, rc) TH_LOG("round %u", round);
			errs += rc != 0;
		}
		/* The device completes every signaled WQE, with an error or not. */
		got = drain(s, want, WAIT_MS);
		ASSERT_EQ(want, got) TH_LOG("round %u: %u of %u WQEs completed",
					    round, got, want);
		drain(r, 0, 0);
		sent += want;
		done += got;
	}
	TH_LOG("%u WQEs completed, %u random commands failed cleanly",
	       done, errs);
}

TEST_HARNESS_MAIN
