// SPDX-License-Identifier: GPL-2.0-only
/*
 * Demo RDMA HCA device model: the data engine.
 *
 * Send queues in bounded passes, messages streamed packet by packet
 * through the device's packet buffer from one MR translation to the
 * other, completions and their CQs, and the work item that runs a pass:
 * commands first, then the doorbelled QPs.
 */
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "dmod.h"

/* --- completions */

/*
 * A CQ with a doorbell record has its consumer index in host memory, where
 * software that polls the CQ without the kernel updates it. The device
 * reads it only when the ring looks full.
 */
static void dmod_cq_fetch_ci(struct dmod_cq *cq, struct dmod_dev *mdev)
{
	struct demo_cq_dbr dbr;
	u16 ci;

	if (!cq->dbr || !dmod_dma(mdev, cq->dbr, &dbr, sizeof(dbr), false))
		return;
	ci = le32_to_cpu(dbr.ci);
	/* A consumer index ahead of the producer is ignored. */
	if ((u16)(cq->pi - ci) <= cq->depth)
		WRITE_ONCE(cq->ci, ci);
}

static void dmod_complete(struct dmod_cq *cq, struct dmod_dev *mdev,
			  struct demo_cqe *cqe, bool solicited)
{
	if ((u16)(cq->pi - READ_ONCE(cq->ci)) >= cq->depth)
		dmod_cq_fetch_ci(cq, mdev);
	if ((u16)(cq->pi - READ_ONCE(cq->ci)) >= cq->depth) {
		mdev->cnt[DEMO_CNT_CQ_OVERRUNS]++;
		return;
	}
	/* Set on the first pass over the zeroed ring, clear on the next. */
	cqe->owner = !(cq->pi & cq->depth);
	if (!dmod_post_entry(mdev, cq->ring + (cq->pi & (cq->depth - 1)) *
			     sizeof(*cqe), cqe, sizeof(*cqe), &cqe->owner))
		return;
	cq->pi++;
	if (cq->armed && (!cq->solicited_only || solicited ||
			  cqe->status != DEMO_CQE_OK)) {
		cq->armed = false;
		dmod_post_event(mdev, DEMO_EQE_COMP, cq->cqn, 0);
	}
}

static void dmod_cqe(struct dmod_qp *qp, bool recv, u16 idx, u8 opcode,
		     u8 status, u32 byte_len, bool has_imm, __be32 imm,
		     struct dmod_qp *src, bool solicited)
{
	struct demo_cqe cqe = {
		.opcode = opcode,
		.status = status,
		.flags = (recv ? DEMO_CQE_F_RECV : 0) | (has_imm ? DEMO_CQE_F_IMM : 0),
		.qpn = cpu_to_le32(qp->qpn),
		.wqe_idx = cpu_to_le16(idx),
		.byte_len = cpu_to_le32(byte_len),
		.imm = imm,
	};

	if (src) {
		cqe.src_lid = cpu_to_le16(src->mdev->lid);
		cqe.src_qpn = cpu_to_le32(src->qpn);
	}
	dmod_complete(recv ? qp->rcq : qp->scq, qp->mdev, &cqe, solicited);
}

static void dmod_qp_error(struct dmod_qp *qp);

/*
 * A QP with a doorbell record has its producer indices in host memory:
 * software that cannot write the doorbell registers stores them there, and
 * the device reads them when it looks for work. An index that claims more
 * entries than the ring holds is a QP error, as on hardware.
 */
static void dmod_qp_fetch_pi(struct dmod_qp *qp)
{
	struct demo_qp_dbr dbr;
	u16 sq_pi, rq_pi;

	if (!qp->dbr)
		return;
	if (!dmod_dma(qp->mdev, qp->dbr, &dbr, sizeof(dbr), false)) {
		dmod_post_event(qp->mdev, DEMO_EQE_DMA_FAULT, qp->qpn, 0);
		dmod_qp_error(qp);
		return;
	}
	/* WQEs are read after the indices: pairs with software's release. */
	smp_rmb();
	sq_pi = le32_to_cpu(dbr.sq_pi);
	rq_pi = le32_to_cpu(dbr.rq_pi);
	if ((u16)(sq_pi - qp->sq_ci) > qp->sq_depth ||
	    (u16)(rq_pi - qp->rq_ci) > qp->rq_depth) {
		dmod_qp_error(qp);
		return;
	}
	WRITE_ONCE(qp->sq_pi, sq_pi);
	WRITE_ONCE(qp->rq_pi, rq_pi);
}

/* Flush everything outstanding on a QP in the error state. */
void dmod_flush(struct dmod_qp *qp)
{
	qp->xfer_off = 0;
	dmod_qp_fetch_pi(qp);
	for (; qp->sq_ci != qp->sq_pi; qp->sq_ci++)
		dmod_cqe(qp, false, qp->sq_ci, 0, DEMO_CQE_WR_FLUSH_ERR, 0,
			 false, 0, NULL, false);
	for (; qp->rq_ci != qp->rq_pi; qp->rq_ci++)
		dmod_cqe(qp, true, qp->rq_ci, DEMO_WQE_RECV,
			 DEMO_CQE_WR_FLUSH_ERR, 0, false, 0, NULL, false);
}

static void dmod_qp_error(struct dmod_qp *qp)
{
	if (qp->state == DEMO_QPS_ERR)
		return;
	qp->state = DEMO_QPS_ERR;
	dmod_post_event(qp->mdev, DEMO_EQE_QP_FATAL, qp->qpn, 0);
}

/* --- the data path */

/* The QP @qp sends to, on the device dmod_peer_lock() locked for it. */
static struct dmod_qp *dmod_peer(struct dmod_qp *qp)
{
	struct dmod_dev *peer = qp->mdev->peer;
	struct dmod_qp *dst;

	/* A device that was reset takes part in no transfer. */
	if (!peer || !peer->link_up || !qp->mdev->link_up ||
	    !dmod_running(peer))
		return NULL;
	dst = xa_load(&peer->qps, qp->dest_qpn);
	if (!dst || (dst->state != DEMO_QPS_RTR && dst->state != DEMO_QPS_RTS) ||
	    dst->dest_lid != qp->mdev->lid || dst->dest_qpn != qp->qpn)
		return NULL;
	return dst;
}

/*
 * A message moves as the link carries it: a packet of at most one MTU at a
 * time, cut-through from one translation to the other, or through the
 * device's packet buffer (dmod_stream()). The device allocates nothing per
 * message, and a long message holds nothing a short one does not.
 */
/* The SGEs of a WQE, or one remote range, checked, as one byte stream */
struct dmod_sgl {
	struct dmod_dev *mdev;
	struct iommu_domain *dom;	/* mdev's translation, for the pass */
	struct dmod_ram ram;
	u32 n;
	struct {
		struct dmod_mr *mr;
		u64 va;
		u64 len;
	} seg[DEMO_HW_MAX_SGE];
};

/*
 * Check the SGEs that hold the first @len bytes of a message: key, PD,
 * access and bounds, before a byte of it moves.
 */
static int dmod_sgl_check(struct dmod_qp *qp, const struct demo_wqe *wqe,
			  u64 len, u32 access, struct dmod_sgl *sgl)
{
	u64 done = 0;
	u32 i;

	sgl->mdev = qp->mdev;
	sgl->dom = dmod_dma_domain(qp->mdev);
	memset(&sgl->ram, 0, sizeof(sgl->ram));
	sgl->n = 0;
	for (i = 0; i < wqe->num_sge && done < len; i++) {
		const struct demo_sge *sge = &wqe->sge[i];
		u64 n = min_t(u64, le32_to_cpu(sge->length), len - done);
		struct dmod_mr *mr;

		mr = dmod_mr_check(qp->mdev, le32_to_cpu(sge->lkey), qp->pdn,
				   le64_to_cpu(sge->addr), n, access);
		if (!mr) {
			qp->mdev->cnt[DEMO_CNT_PROT_ERRORS]++;
			return DEMO_CQE_LOC_PROT_ERR;
		}
		sgl->seg[sgl->n].mr = mr;
		sgl->seg[sgl->n].va = le64_to_cpu(sge->addr);
		sgl->seg[sgl->n].len = n;
		sgl->n++;
		done += n;
	}
	return done == len ? DEMO_CQE_OK : DEMO_CQE_LOC_LEN_ERR;
}

/* The stream of one remote MR range, checked by the caller */
static void dmod_sgl_range(struct dmod_sgl *sgl, struct dmod_dev *mdev,
			   struct dmod_mr *mr, u64 va, u64 len)
{
	sgl->mdev = mdev;
	sgl->dom = dmod_dma_domain(mdev);
	memset(&sgl->ram, 0, sizeof(sgl->ram));
	sgl->n = 1;
	sgl->seg[0].mr = mr;
	sgl->seg[0].va = va;
	sgl->seg[0].len = len;
}

/* Move @n bytes at offset @off of a stream to or from @buf. */
static bool dmod_sgl_dma(struct dmod_sgl *sgl, u64 off, void *buf, u32 n,
			 bool to_sgl)
{
	u32 i, k;

	for (i = 0; i < sgl->n && n; i++) {
		if (off >= sgl->seg[i].len) {
			off -= sgl->seg[i].len;
			continue;
		}
		k = min_t(u64, n, sgl->seg[i].len - off);
		if (!dmod_mr_dma(sgl->mdev, sgl->seg[i].mr, sgl->seg[i].va + off,
				 buf, k, to_sgl))
			return false;
		buf += k;
		n -= k;
		off = 0;
	}
	return !n;
}

/*
 * Translate the @n bytes at offset @off of a stream into RAM pieces in
 * @pc: a piece that continues the one before it in physical memory
 * extends it. False when a byte faults or is a peer's memory, or
 * when @pc is full: those bytes then go through the packet buffer, whose
 * path reaches peers and counts faults.
 */
static bool dmod_sgl_pieces(struct dmod_sgl *sgl, u64 off, u32 n,
			    struct dmod_pieces *pc)
{
	u32 i;

	pc->n = 0;
	for (i = 0; i < sgl->n && n; i++) {
		u64 va, k, run, contig;
		dma_addr_t addr;
		u32 c;

		if (off >= sgl->seg[i].len) {
			off -= sgl->seg[i].len;
			continue;
		}
		va = sgl->seg[i].va + off;
		k = min_t(u64, n, sgl->seg[i].len - off);
		n -= k;
		off = 0;
		while (k) {
			addr = dmod_mr_addr(sgl->seg[i].mr, va, &contig);
			run = min(k, contig);
			va += run;
			k -= run;
			/* one translation per page of the device range */
			for (; run; addr += c, run -= c) {
				phys_addr_t phys;

				c = min_t(u64, run, PAGE_SIZE - offset_in_page(addr));
				if (!dmod_dma_ram(sgl->mdev, sgl->dom, &sgl->ram,
						  addr, &phys))
					return false;
				if (pc->n && pc->p[pc->n - 1].phys +
					     pc->p[pc->n - 1].len == phys) {
					pc->p[pc->n - 1].len += c;
					continue;
				}
				if (pc->n == ARRAY_SIZE(pc->p))
					return false;
				pc->p[pc->n].phys = phys;
				pc->p[pc->n++].len = c;
			}
		}
	}
	return !n;
}

/*
 * Bytes of a piece at @p, @len long, that one mapping reaches: a highmem
 * page is mapped on its own, lowmem is mapped whole.
 */
static u32 dmod_map_span(phys_addr_t p, u32 len)
{
	if (IS_ENABLED(CONFIG_HIGHMEM))
		return min_t(u32, len, PAGE_SIZE - offset_in_page(p));
	return len;
}

/* Cut-through: one copy from the source pieces to the destination's. */
static void dmod_pieces_copy(struct dmod_pieces *dst, struct dmod_pieces *src)
{
	u32 i = 0, j = 0, doff = 0, soff = 0, k;

	while (i < dst->n && j < src->n) {
		phys_addr_t d = dst->p[i].phys + doff, s = src->p[j].phys + soff;
		void *dva, *sva;

		k = min(dmod_map_span(d, dst->p[i].len - doff),
			dmod_map_span(s, src->p[j].len - soff));
		dva = kmap_local_pfn(PHYS_PFN(d)) + offset_in_page(d);
		sva = kmap_local_pfn(PHYS_PFN(s)) + offset_in_page(s);
		/* a message onto itself may overlap */
		if (d < s + k && s < d + k)
			memmove(dva, sva, k);
		else
			memcpy(dva, sva, k);
		kunmap_local(sva);
		kunmap_local(dva);
		doff += k;
		soff += k;
		if (doff == dst->p[i].len) {
			i++;
			doff = 0;
		}
		if (soff == src->p[j].len) {
			j++;
			soff = 0;
		}
	}
}

enum {
	DMOD_STREAM_OK,
	DMOD_STREAM_SRC_FAULT,
	DMOD_STREAM_DST_FAULT,
	DMOD_STREAM_MORE,	/* the pass's budget ran out first */
};

/*
 * Move the bytes of a @len byte message from @src to @dst, one packet at
 * a time, from *@off on, as far as the pass's budget goes; *@off follows.
 * Packets whose bytes are all RAM on both sides move cut-through, like a
 * DMA engine moving them from one translation to the other: a burst of
 * up to DMOD_BURST_PKTS packets is translated on both sides, then moved,
 * one copy per physically contiguous run. A burst that reaches anything
 * else, a fault or a peer's memory (or every one, with the test port's
 * store_forward) goes a packet at a time through the packet buffer: each
 * packet is read whole into it, then written out of it.
 */
static int dmod_stream(struct dmod_dev *mdev, struct dmod_sgl *src,
		       struct dmod_sgl *dst, u64 len, u64 *off)
{
	struct dmod_pieces *spc = &mdev->burst[0], *dpc = &mdev->burst[1];
	u64 end;
	u32 n;

	while (*off < len) {
		if (!mdev->budget)
			return DMOD_STREAM_MORE;
		n = min_t(u64, len - *off, (u64)DMOD_PKT_SIZE *
			  min_t(u32, mdev->budget, DMOD_BURST_PKTS));
		if (!READ_ONCE(mdev->store_forward) &&
		    dmod_sgl_pieces(src, *off, n, spc) &&
		    dmod_sgl_pieces(dst, *off, n, dpc)) {
			dmod_pieces_copy(dpc, spc);
			mdev->budget -= DIV_ROUND_UP(n, DMOD_PKT_SIZE);
			*off += n;
		} else {
			for (end = *off + n; *off < end; *off += n) {
				n = min_t(u64, end - *off, DMOD_PKT_SIZE);
				if (!dmod_sgl_dma(src, *off, mdev->pkt, n, false))
					return DMOD_STREAM_SRC_FAULT;
				if (!dmod_sgl_dma(dst, *off, mdev->pkt, n, true))
					return DMOD_STREAM_DST_FAULT;
				mdev->budget--;
			}
		}
		/* a reschedule point every burst (cheap: not every packet) */
		cond_resched();
	}
	return DMOD_STREAM_OK;
}

/* A message's length: its SGEs' sum, which does not wrap here. */
static u64 dmod_wqe_len(const struct demo_wqe *wqe)
{
	u64 len = 0;
	u32 i;

	for (i = 0; i < wqe->num_sge && i < DEMO_HW_MAX_SGE; i++)
		len += le32_to_cpu(wqe->sge[i].length);
	return len;
}

/*
 * Does a WQE need an MR that misses its translation, locally, at the
 * responder, or in the receive WQE it will consume? Checked before any
 * byte moves, so a held WQE is executed whole once the translations are
 * back.
 */
static bool dmod_wqe_misses(struct dmod_qp *qp, struct demo_wqe *wqe,
			    struct dmod_qp *dst, bool recv)
{
	bool read = wqe->opcode == DEMO_WQE_READ;
	u32 need = read ? DEMO_ACCESS_REMOTE_READ : DEMO_ACCESS_REMOTE_WRITE;
	struct demo_wqe rwqe;
	bool miss = false;
	u32 i;

	for (i = 0; i < wqe->num_sge; i++)
		miss |= dmod_mr_missing(qp->mdev, le32_to_cpu(wqe->sge[i].lkey),
					qp->pdn,
					read ? DEMO_ACCESS_LOCAL_WRITE : 0);
	if (wqe->opcode >= DEMO_WQE_WRITE && (dst->access & need))
		miss |= dmod_mr_missing(dst->mdev, le32_to_cpu(wqe->rkey),
					dst->pdn, need);
	if (recv && wqe->opcode != DEMO_WQE_WRITE_IMM &&
	    dmod_dma(dst->mdev, dst->rq + (dst->rq_ci & (dst->rq_depth - 1)) *
		     sizeof(rwqe), &rwqe, sizeof(rwqe), false))
		for (i = 0; i < min_t(u8, rwqe.num_sge, DEMO_HW_MAX_SGE); i++)
			miss |= dmod_mr_missing(dst->mdev,
						le32_to_cpu(rwqe.sge[i].lkey),
						dst->pdn,
						DEMO_ACCESS_LOCAL_WRITE);
	return miss;
}

enum { DMOD_DONE, DMOD_RNR, DMOD_YIELD };

/*
 * Execute one send queue WQE. Returns DMOD_RNR to retry it later, or
 * DMOD_YIELD when the pass's budget ran out in the middle of its message:
 * the next pass goes on from qp->xfer_off, checking everything again.
 */
static int dmod_execute(struct dmod_qp *qp, struct demo_wqe *wqe, u16 idx)
{
	struct dmod_dev *mdev = qp->mdev;
	u64 len = dmod_wqe_len(wqe);
	bool imm = wqe->opcode == DEMO_WQE_SEND_IMM ||
		   wqe->opcode == DEMO_WQE_WRITE_IMM;
	bool solicited = wqe->flags & DEMO_WQE_F_SOLICITED;
	bool recv = wqe->opcode != DEMO_WQE_WRITE && wqe->opcode != DEMO_WQE_READ;
	u8 status = DEMO_CQE_OK, rstatus = DEMO_CQE_OK;
	struct demo_wqe rwqe;
	struct dmod_qp *dst;
	struct dmod_sgl lsgl, rsgl;
	struct dmod_mr *rmr;
	u32 rlen = 0;
	int err;

	if (wqe->num_sge > DEMO_HW_MAX_SGE || len > DEMO_HW_MAX_MSG ||
	    wqe->opcode < DEMO_WQE_SEND || wqe->opcode > DEMO_WQE_READ) {
		status = DEMO_CQE_LOC_LEN_ERR;
		goto out;
	}
	dst = dmod_peer(qp);
	if (!dst) {
		status = DEMO_CQE_RETRY_EXC;
		goto out;
	}
	if (recv && dst->rq_ci == READ_ONCE(dst->rq_pi)) {
		dmod_qp_fetch_pi(dst);
		if (dst->state == DEMO_QPS_ERR) {
			dmod_flush(dst);
			status = DEMO_CQE_REM_OP_ERR;
			goto out;
		}
	}
	if (recv && dst->rq_ci == READ_ONCE(dst->rq_pi)) {
		mdev->cnt[DEMO_CNT_RNR_NAKS]++;
		if (qp->rnr_retry == DMOD_RNR_INFINITE ||
		    qp->rnr_count++ < qp->rnr_retry)
			return DMOD_RNR;
		status = DEMO_CQE_RNR_RETRY_EXC;
		goto out;
	}
	qp->rnr_count = 0;
	/* A translation miss holds the WQE; it is not an RNR retry. */
	if (dmod_wqe_misses(qp, wqe, dst, recv))
		return DMOD_RNR;

	/* Everything the message needs is checked before a byte of it moves. */
	status = dmod_sgl_check(qp, wqe, len, wqe->opcode == DEMO_WQE_READ ?
				DEMO_ACCESS_LOCAL_WRITE : 0, &lsgl);
	if (status)
		goto out;
	if (wqe->opcode >= DEMO_WQE_WRITE) {
		u32 need = wqe->opcode == DEMO_WQE_READ ? DEMO_ACCESS_REMOTE_READ :
							  DEMO_ACCESS_REMOTE_WRITE;

		rmr = dmod_mr_check(dst->mdev, le32_to_cpu(wqe->rkey), dst->pdn,
				    le64_to_cpu(wqe->remote_addr), len, need);
		if (!rmr || !(dst->access & need)) {
			dst->mdev->cnt[DEMO_CNT_PROT_ERRORS]++;
			status = DEMO_CQE_REM_ACCESS_ERR;
			goto out;
		}
		dmod_sgl_range(&rsgl, dst->mdev, rmr,
			       le64_to_cpu(wqe->remote_addr), len);
		if (wqe->opcode == DEMO_WQE_READ) {
			err = dmod_stream(mdev, &rsgl, &lsgl, len,
					  &qp->xfer_off);
			if (err == DMOD_STREAM_MORE)
				return DMOD_YIELD;
			if (err == DMOD_STREAM_SRC_FAULT)
				status = DEMO_CQE_REM_ACCESS_ERR;
			else if (err)
				status = DEMO_CQE_LOC_PROT_ERR;
		} else {
			err = dmod_stream(mdev, &lsgl, &rsgl, len,
					  &qp->xfer_off);
			if (err == DMOD_STREAM_MORE)
				return DMOD_YIELD;
			if (err == DMOD_STREAM_SRC_FAULT)
				status = DEMO_CQE_LOC_PROT_ERR;
			else if (err)
				status = DEMO_CQE_REM_ACCESS_ERR;
		}
		if (status)
			goto out;
	}
	if (recv) {
		u16 ridx = dst->rq_ci;

		if (!dmod_dma(dst->mdev, dst->rq + (ridx & (dst->rq_depth - 1)) *
			      sizeof(rwqe), &rwqe, sizeof(rwqe), false)) {
			rstatus = DEMO_CQE_FATAL_ERR;
		} else if (wqe->opcode == DEMO_WQE_WRITE_IMM) {
			rlen = len;
		} else {
			rwqe.num_sge = min_t(u8, rwqe.num_sge, DEMO_HW_MAX_SGE);
			if (dmod_wqe_len(&rwqe) < len)
				rstatus = DEMO_CQE_LOC_LEN_ERR;
			else
				rstatus = dmod_sgl_check(dst, &rwqe, len,
							 DEMO_ACCESS_LOCAL_WRITE,
							 &rsgl);
			err = rstatus ? DMOD_STREAM_OK :
					dmod_stream(mdev, &lsgl, &rsgl, len,
						    &qp->xfer_off);
			if (err == DMOD_STREAM_MORE)
				return DMOD_YIELD;
			/* a message that never left whole consumes no receive */
			if (err == DMOD_STREAM_SRC_FAULT) {
				status = DEMO_CQE_LOC_PROT_ERR;
				goto out;
			}
			if (err)
				rstatus = DEMO_CQE_LOC_PROT_ERR;
			rlen = len;
		}
		dst->rq_ci++;
		dmod_cqe(dst, true, ridx, wqe->opcode, rstatus, rlen, imm,
			 wqe->imm, qp, solicited);
		if (rstatus) {
			status = DEMO_CQE_REM_OP_ERR;
			dmod_qp_error(dst);
			dmod_flush(dst);
		} else {
			dst->mdev->cnt[DEMO_CNT_RX_WQES]++;
			dst->mdev->cnt[DEMO_CNT_RX_BYTES] += len;
		}
	}
	if (!status) {
		mdev->cnt[DEMO_CNT_TX_WQES]++;
		mdev->cnt[DEMO_CNT_TX_BYTES] += len;
	}
out:
	if (status || (wqe->flags & DEMO_WQE_F_SIGNALED))
		dmod_cqe(qp, false, idx, wqe->opcode, status,
			 wqe->opcode == DEMO_WQE_READ && !status ? len : 0,
			 false, 0, NULL, false);
	if (status)
		dmod_qp_error(qp);
	return DMOD_DONE;
}

/*
 * The device @qp sends to, locked for the QP's turn in the pass: @qp's own
 * device (locked already), another one whose lock this takes, or NULL if
 * there is none on the fabric. ERR_PTR(-EBUSY) if the other device's lock
 * is held: the QP then waits for a later pass rather than for the lock,
 * as the other device may be waiting the same way for this one's.
 *
 * A device found here stays until its lock is dropped: dmod_detach()
 * takes it out of the fabric, waits for RCU and then for its lock.
 */
static struct dmod_dev *dmod_peer_lock(struct dmod_qp *qp)
{
	struct dmod_dev *peer;

	rcu_read_lock();
	peer = xa_load(&dmod_ports, qp->dest_lid);
	if (peer && peer != qp->mdev && !mutex_trylock(&peer->lock))
		peer = ERR_PTR(-EBUSY);
	rcu_read_unlock();
	return peer;
}

static void dmod_peer_unlock(struct dmod_qp *qp, struct dmod_dev *peer)
{
	if (!IS_ERR_OR_NULL(peer) && peer != qp->mdev)
		mutex_unlock(&peer->lock);
}

/*
 * Returns DMOD_RNR when the QP waits on an RNR retry or for its peer,
 * DMOD_YIELD when the pass's budget ran out before its work did, DMOD_DONE
 * otherwise.
 */
static int dmod_process_sq(struct dmod_qp *qp)
{
	u16 pi;
	int ret;

	if (qp->state == DEMO_QPS_RTS)
		dmod_qp_fetch_pi(qp);
	pi = READ_ONCE(qp->sq_pi);
	if (qp->state == DEMO_QPS_ERR) {
		dmod_flush(qp);
		return DMOD_DONE;
	}
	if (qp->state != DEMO_QPS_RTS)
		return DMOD_DONE;
	while (qp->sq_ci != pi) {
		struct demo_wqe wqe;

		if (!dmod_dma(qp->mdev, qp->sq + (qp->sq_ci & (qp->sq_depth - 1)) *
			      sizeof(wqe), &wqe, sizeof(wqe), false)) {
			dmod_post_event(qp->mdev, DEMO_EQE_DMA_FAULT, qp->qpn, 0);
			dmod_qp_error(qp);
			dmod_flush(qp);
			return DMOD_DONE;
		}
		ret = dmod_execute(qp, &wqe, qp->sq_ci);
		if (ret != DMOD_DONE)
			return ret;
		qp->xfer_off = 0;
		qp->sq_ci++;
		if (qp->state == DEMO_QPS_ERR) {
			dmod_flush(qp);
			return DMOD_DONE;
		}
		if (!qp->mdev->budget && qp->sq_ci != pi)
			return DMOD_YIELD;
	}
	return DMOD_DONE;
}

/* --- the work item */

/*
 * One pass of the device's work: the commands first, then the doorbelled
 * QPs in turn until the pass's budget of packets is spent. What is left
 * waits for the next pass, queued at once, which serves commands first
 * again; meanwhile the other HCAs get their turn.
 */
void dmod_work(struct work_struct *work)
{
	struct dmod_dev *mdev = container_of(to_delayed_work(work),
					     struct dmod_dev, work);
	struct dmod_qp *qp, *tmp;
	struct dmod_dev *peer;
	bool rnr = false, more = false;
	LIST_HEAD(todo);
	int ret;

	mutex_lock(&mdev->lock);
	if (!dmod_running(mdev)) {
		mutex_unlock(&mdev->lock);
		return;
	}
	dmod_process_cmds(mdev);

	mdev->budget = DMOD_PASS_PKTS;
	spin_lock_irq(&mdev->db_lock);
	list_splice_init(&mdev->db_list, &todo);
	spin_unlock_irq(&mdev->db_lock);
	list_for_each_entry_safe(qp, tmp, &todo, db_node) {
		list_del_init(&qp->db_node);
		if (!mdev->budget) {
			ret = DMOD_YIELD;
		} else {
			peer = dmod_peer_lock(qp);
			if (IS_ERR(peer)) {
				ret = DMOD_RNR;
			} else {
				mdev->peer = peer;
				ret = dmod_process_sq(qp);
				mdev->peer = NULL;
				dmod_peer_unlock(qp, peer);
			}
		}
		if (ret == DMOD_DONE)
			continue;
		spin_lock_irq(&mdev->db_lock);
		if (list_empty(&qp->db_node))
			list_add_tail(&qp->db_node, &mdev->db_list);
		spin_unlock_irq(&mdev->db_lock);
		if (ret == DMOD_RNR)
			rnr = true;
		else
			more = true;
	}
	mutex_unlock(&mdev->lock);
	if (more)
		mod_delayed_work(dmod_wq, &mdev->work, 0);
	else if (rnr)
		mod_delayed_work(dmod_wq, &mdev->work,
				 msecs_to_jiffies(DMOD_RNR_DELAY_MS));
}
