// SPDX-License-Identifier: GPL-2.0-only
/*
 * Demo RDMA HCA driver: RC queue pairs and the send/receive data path.
 */
#include <linux/bitfield.h>
#include <linux/dma-mapping.h>
#include <rdma/ib_verbs.h>
#include <rdma/uverbs_ioctl.h>
#include <rdma/demo-abi.h>

#include "demo.h"

static int demo_wq_alloc(struct demo_dev *dev, struct demo_wq *wq, u32 n)
{
	wq->depth = roundup_pow_of_two(max(n, 1U));
	wq->wr_id = kcalloc(wq->depth, sizeof(*wq->wr_id), GFP_KERNEL);
	if (!wq->wr_id)
		return -ENOMEM;
	wq->ring = dma_alloc_coherent(dev->dma_dev, wq->depth * sizeof(*wq->ring),
				      &wq->dma, GFP_KERNEL);
	if (!wq->ring) {
		kfree(wq->wr_id);
		return -ENOMEM;
	}
	return 0;
}

static void demo_wq_free(struct demo_dev *dev, struct demo_wq *wq)
{
	dma_free_coherent(dev->dma_dev, wq->depth * sizeof(*wq->ring), wq->ring,
			  wq->dma);
	kfree(wq->wr_id);
}

static int demo_qp_cmd(struct demo_dev *dev, u16 opcode, u32 qpn)
{
	struct demo_cmd cmd = {
		.opcode = cpu_to_le16(opcode),
		.destroy.num = cpu_to_le32(qpn),
	};

	return demo_cmd_exec(dev, &cmd);
}

/**
 * demo_qp_event - the device moved a QP to the error state
 * @dev: the HCA
 * @qpn: the QP's number
 *
 * Context: hard interrupt context.
 */
void demo_qp_event(struct demo_dev *dev, u32 qpn)
{
	struct ib_event ev = {
		.device = &dev->ibdev,
		.event = IB_EVENT_QP_FATAL,
	};
	struct demo_qp *qp;

	/* Destroying a QP waits for RCU readers before the QP is freed. */
	rcu_read_lock();
	qp = xa_load(&dev->qp_xa, qpn);
	if (qp && qp->ibqp.event_handler) {
		ev.element.qp = &qp->ibqp;
		qp->ibqp.event_handler(&ev, qp->ibqp.qp_context);
	}
	rcu_read_unlock();
}

/* The device drops the QP's outstanding work and forgets it. */
static int demo_qp_destroy_hw(struct demo_dev *dev, struct demo_qp *qp)
{
	int err;

	err = demo_qp_cmd(dev, DEMO_CMD_DESTROY_QP, qp->ibqp.qp_num);
	if (err)
		return err;
	xa_erase_irq(&dev->qp_xa, qp->ibqp.qp_num);
	dmod_synchronize_irq(dev->hw);
	/* Pollers look QPs up under RCU. */
	synchronize_rcu();
	return 0;
}

static int demo_qp_cmd_create(struct demo_dev *dev, struct demo_qp *qp,
			      struct ib_qp_init_attr *init, dma_addr_t sq,
			      dma_addr_t rq, dma_addr_t dbr)
{
	struct ib_qp *ibqp = &qp->ibqp;
	struct demo_cmd cmd = {};
	int err;

	cmd.opcode = cpu_to_le16(DEMO_CMD_CREATE_QP);
	cmd.create_qp.sq_dma = cpu_to_le64(sq);
	cmd.create_qp.rq_dma = cpu_to_le64(rq);
	cmd.create_qp.dbr_dma = cpu_to_le64(dbr);
	cmd.create_qp.log_sq_depth = cpu_to_le32(ilog2(qp->sq.depth));
	cmd.create_qp.log_rq_depth = cpu_to_le32(ilog2(qp->rq.depth));
	cmd.create_qp.send_cqn = cpu_to_le32(to_demo_cq(init->send_cq)->cqn);
	cmd.create_qp.recv_cqn = cpu_to_le32(to_demo_cq(init->recv_cq)->cqn);
	cmd.create_qp.pdn = cpu_to_le32(to_demo_pd(ibqp->pd)->pdn);
	err = demo_cmd_exec(dev, &cmd);
	if (err)
		return err;
	ibqp->qp_num = le32_to_cpu(cmd.create_qp.qpn);
	err = xa_err(xa_store_irq(&dev->qp_xa, ibqp->qp_num, qp, GFP_KERNEL));
	if (err)
		demo_qp_cmd(dev, DEMO_CMD_DESTROY_QP, ibqp->qp_num);
	return err;
}

/*
 * A user QP: both rings and the doorbell record are mapped into the
 * process, which writes WQEs and producer indices itself.
 */
static int demo_create_user_qp(struct demo_dev *dev, struct demo_qp *qp,
			       struct ib_qp_init_attr *init,
			       struct ib_udata *udata)
{
	struct demo_create_qp_resp resp = {};
	struct demo_ucontext *uctx;
	struct demo_create_qp req;
	size_t sq, rq;
	int err;

	err = ib_copy_validate_udata_in_cm(udata, req, reserved, 0);
	if (err)
		return err;
	if (req.reserved)
		return -EINVAL;

	uctx = rdma_udata_to_drv_context(udata, struct demo_ucontext,
					 ibucontext);
	qp->sq.depth = roundup_pow_of_two(max(init->cap.max_send_wr, 1U));
	qp->rq.depth = roundup_pow_of_two(max(init->cap.max_recv_wr, 1U));
	sq = qp->sq.depth * sizeof(struct demo_wqe);
	rq = qp->rq.depth * sizeof(struct demo_wqe);
	qp->uq = demo_uq_alloc(dev, &uctx->ibucontext,
			       sq + rq + sizeof(struct demo_qp_dbr));
	if (IS_ERR(qp->uq))
		return PTR_ERR(qp->uq);
	err = demo_qp_cmd_create(dev, qp, init, qp->uq->dma,
				 qp->uq->dma + sq, qp->uq->dma + sq + rq);
	if (err)
		goto err_uq;

	resp.mmap_offset = rdma_user_mmap_get_offset(&qp->uq->entry);
	resp.sq_depth = qp->sq.depth;
	resp.rq_depth = qp->rq.depth;
	resp.mmap_size = qp->uq->size;
	resp.sq_offset = 0;
	resp.rq_offset = sq;
	resp.dbr_offset = sq + rq;
	err = ib_respond_udata(udata, resp);
	if (err)
		goto err_qp;
	return 0;

err_qp:
	demo_qp_destroy_hw(dev, qp);
err_uq:
	demo_uq_free(dev, qp->uq);
	return err;
}

static int demo_create_kernel_qp(struct demo_dev *dev, struct demo_qp *qp,
				 struct ib_qp_init_attr *init)
{
	int err;

	err = demo_wq_alloc(dev, &qp->sq, init->cap.max_send_wr);
	if (err)
		return err;
	err = demo_wq_alloc(dev, &qp->rq, init->cap.max_recv_wr);
	if (err)
		goto err_sq;
	err = demo_qp_cmd_create(dev, qp, init, qp->sq.dma, qp->rq.dma, 0);
	if (err)
		goto err_rq;
	return 0;

err_rq:
	demo_wq_free(dev, &qp->rq);
err_sq:
	demo_wq_free(dev, &qp->sq);
	return err;
}

int demo_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *init,
		   struct ib_udata *udata)
{
	struct demo_dev *dev = to_demo_dev(ibqp->device);
	struct demo_qp *qp = to_demo_qp(ibqp);
	u32 max_wqe = le32_to_cpu(dev->attr.max_wqe);
	u32 max_sge = le32_to_cpu(dev->attr.max_sge);
	int err;

	if (init->qp_type != IB_QPT_RC || init->srq || init->create_flags)
		return -EOPNOTSUPP;
	if (init->cap.max_send_wr > max_wqe || init->cap.max_recv_wr > max_wqe ||
	    init->cap.max_send_sge > max_sge || init->cap.max_recv_sge > max_sge ||
	    init->cap.max_inline_data)
		return -EINVAL;

	spin_lock_init(&qp->lock);
	if (udata)
		err = demo_create_user_qp(dev, qp, init, udata);
	else
		err = demo_create_kernel_qp(dev, qp, init);
	if (err)
		return err;

	qp->state = IB_QPS_RESET;
	qp->sq_sig_all = init->sq_sig_type == IB_SIGNAL_ALL_WR;
	init->cap.max_send_wr = qp->sq.depth;
	init->cap.max_recv_wr = qp->rq.depth;
	init->cap.max_send_sge = max_sge;
	init->cap.max_recv_sge = max_sge;
	return 0;
}

int demo_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata)
{
	struct demo_dev *dev = to_demo_dev(ibqp->device);
	struct demo_qp *qp = to_demo_qp(ibqp);
	int err;

	err = demo_qp_destroy_hw(dev, qp);
	if (err)
		return err;
	if (qp->uq) {
		demo_uq_free(dev, qp->uq);
		return 0;
	}
	demo_cq_clean(to_demo_cq(ibqp->send_cq), ibqp->qp_num);
	if (ibqp->recv_cq != ibqp->send_cq)
		demo_cq_clean(to_demo_cq(ibqp->recv_cq), ibqp->qp_num);
	demo_wq_free(dev, &qp->rq);
	demo_wq_free(dev, &qp->sq);
	return 0;
}

static const enum demo_qp_state demo_hw_state[] = {
	[IB_QPS_RESET] = DEMO_QPS_RESET,
	[IB_QPS_INIT] = DEMO_QPS_INIT,
	[IB_QPS_RTR] = DEMO_QPS_RTR,
	[IB_QPS_RTS] = DEMO_QPS_RTS,
	[IB_QPS_ERR] = DEMO_QPS_ERR,
};

static u32 demo_qp_access(int access)
{
	u32 a = 0;

	if (access & IB_ACCESS_REMOTE_WRITE)
		a |= DEMO_ACCESS_REMOTE_WRITE;
	if (access & IB_ACCESS_REMOTE_READ)
		a |= DEMO_ACCESS_REMOTE_READ;
	return a;
}

int demo_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		   struct ib_udata *udata)
{
	struct demo_dev *dev = to_demo_dev(ibqp->device);
	struct demo_qp *qp = to_demo_qp(ibqp);
	enum ib_qp_state cur, next;
	struct demo_cmd cmd = {};
	unsigned long flags;
	int err;

	err = ib_no_udata_io(udata);
	if (err)
		return err;

	cur = mask & IB_QP_CUR_STATE ? attr->cur_qp_state : qp->state;
	next = mask & IB_QP_STATE ? attr->qp_state : cur;
	if (!ib_modify_qp_is_ok(cur, next, IB_QPT_RC, mask))
		return -EINVAL;
	if (next == IB_QPS_SQD || next == IB_QPS_SQE)
		return -EOPNOTSUPP;
	if ((mask & IB_QP_PORT) && attr->port_num != DEMO_PORT)
		return -EINVAL;
	if ((mask & IB_QP_PKEY_INDEX) && attr->pkey_index)
		return -EINVAL;
	if (((mask & IB_QP_MAX_QP_RD_ATOMIC) &&
	     attr->max_rd_atomic > DEMO_MAX_RD_ATOM) ||
	    ((mask & IB_QP_MAX_DEST_RD_ATOMIC) &&
	     attr->max_dest_rd_atomic > DEMO_MAX_RD_ATOM))
		return -EINVAL;

	cmd.opcode = cpu_to_le16(DEMO_CMD_MODIFY_QP);
	cmd.qp.qpn = cpu_to_le32(ibqp->qp_num);
	if (mask & IB_QP_STATE) {
		cmd.qp.mask |= cpu_to_le32(DEMO_QP_ATTR_STATE);
		cmd.qp.state = cpu_to_le32(demo_hw_state[next]);
	}
	if (mask & IB_QP_ACCESS_FLAGS) {
		cmd.qp.mask |= cpu_to_le32(DEMO_QP_ATTR_ACCESS);
		cmd.qp.access = cpu_to_le32(demo_qp_access(attr->qp_access_flags));
	}
	if (mask & (IB_QP_AV | IB_QP_DEST_QPN)) {
		if ((mask & (IB_QP_AV | IB_QP_DEST_QPN)) !=
		    (IB_QP_AV | IB_QP_DEST_QPN))
			return -EINVAL;
		cmd.qp.mask |= cpu_to_le32(DEMO_QP_ATTR_DEST);
		cmd.qp.dest_lid = cpu_to_le32(rdma_ah_get_dlid(&attr->ah_attr));
		cmd.qp.dest_qpn = cpu_to_le32(attr->dest_qp_num);
	}
	if (mask & IB_QP_RNR_RETRY) {
		cmd.qp.mask |= cpu_to_le32(DEMO_QP_ATTR_RNR_RETRY);
		cmd.qp.rnr_retry = cpu_to_le32(attr->rnr_retry);
	}
	err = demo_cmd_exec(dev, &cmd);
	if (err)
		return err;

	spin_lock_irqsave(&qp->lock, flags);
	qp->state = next;
	if (next == IB_QPS_RESET) {
		qp->sq.pi = 0;
		qp->sq.ci = 0;
		qp->rq.pi = 0;
		qp->rq.ci = 0;
	}
	if (mask & IB_QP_ACCESS_FLAGS)
		qp->attr.qp_access_flags = attr->qp_access_flags;
	if (mask & IB_QP_AV)
		qp->attr.ah_attr = attr->ah_attr;
	if (mask & IB_QP_DEST_QPN)
		qp->attr.dest_qp_num = attr->dest_qp_num;
	if (mask & IB_QP_RNR_RETRY)
		qp->attr.rnr_retry = attr->rnr_retry;
	if (mask & IB_QP_MAX_QP_RD_ATOMIC)
		qp->attr.max_rd_atomic = attr->max_rd_atomic;
	if (mask & IB_QP_MAX_DEST_RD_ATOMIC)
		qp->attr.max_dest_rd_atomic = attr->max_dest_rd_atomic;
	if (mask & IB_QP_PATH_MTU)
		qp->attr.path_mtu = attr->path_mtu;
	spin_unlock_irqrestore(&qp->lock, flags);
	return 0;
}

int demo_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		  struct ib_qp_init_attr *init)
{
	struct demo_dev *dev = to_demo_dev(ibqp->device);
	struct demo_qp *qp = to_demo_qp(ibqp);
	struct demo_cmd cmd = {
		.opcode = cpu_to_le16(DEMO_CMD_QUERY_QP),
		.qp.qpn = cpu_to_le32(ibqp->qp_num),
	};
	static const enum ib_qp_state ib_state[] = {
		[DEMO_QPS_RESET] = IB_QPS_RESET,
		[DEMO_QPS_INIT] = IB_QPS_INIT,
		[DEMO_QPS_RTR] = IB_QPS_RTR,
		[DEMO_QPS_RTS] = IB_QPS_RTS,
		[DEMO_QPS_ERR] = IB_QPS_ERR,
	};
	unsigned long flags;
	u32 hw_state;
	int err;

	/* The device may have moved the QP to ERR on its own. */
	err = demo_cmd_exec(dev, &cmd);
	if (err)
		return err;
	hw_state = le32_to_cpu(cmd.qp.cur_state);
	if (hw_state > DEMO_QPS_ERR)
		return -EIO;

	spin_lock_irqsave(&qp->lock, flags);
	*attr = qp->attr;
	qp->state = ib_state[hw_state];
	spin_unlock_irqrestore(&qp->lock, flags);
	attr->qp_state = ib_state[hw_state];
	attr->cur_qp_state = attr->qp_state;
	attr->port_num = DEMO_PORT;
	attr->cap.max_send_wr = qp->sq.depth;
	attr->cap.max_recv_wr = qp->rq.depth;
	attr->cap.max_send_sge = le32_to_cpu(dev->attr.max_sge);
	attr->cap.max_recv_sge = le32_to_cpu(dev->attr.max_sge);
	memset(init, 0, sizeof(*init));
	init->send_cq = ibqp->send_cq;
	init->recv_cq = ibqp->recv_cq;
	init->qp_type = IB_QPT_RC;
	init->cap = attr->cap;
	init->sq_sig_type = qp->sq_sig_all ? IB_SIGNAL_ALL_WR : IB_SIGNAL_REQ_WR;
	return 0;
}

static int demo_wqe_opcode(enum ib_wr_opcode op)
{
	switch (op) {
	case IB_WR_SEND:		return DEMO_WQE_SEND;
	case IB_WR_SEND_WITH_IMM:	return DEMO_WQE_SEND_IMM;
	case IB_WR_RDMA_WRITE:		return DEMO_WQE_WRITE;
	case IB_WR_RDMA_WRITE_WITH_IMM:	return DEMO_WQE_WRITE_IMM;
	case IB_WR_RDMA_READ:		return DEMO_WQE_READ;
	default:			return -EINVAL;
	}
}

static void demo_fill_sges(struct demo_wqe *wqe, const struct ib_sge *sg,
			   int num)
{
	int i;

	wqe->num_sge = num;
	for (i = 0; i < num; i++) {
		wqe->sge[i].addr = cpu_to_le64(sg[i].addr);
		wqe->sge[i].length = cpu_to_le32(sg[i].length);
		wqe->sge[i].lkey = cpu_to_le32(sg[i].lkey);
	}
}

/* Claim the next WQE of @wq, zeroed; NULL when the ring is full. */
static struct demo_wqe *demo_wq_next(struct demo_wq *wq)
{
	struct demo_wqe *wqe;

	if ((u16)(wq->pi - READ_ONCE(wq->ci)) >= wq->depth)
		return NULL;
	wqe = &wq->ring[wq->pi & (wq->depth - 1)];
	memset(wqe, 0, sizeof(*wqe));
	return wqe;
}

/* The claimed WQE is complete: remember its wr_id and move past it. */
static void demo_wq_commit(struct demo_wq *wq, u64 wr_id)
{
	wq->wr_id[wq->pi & (wq->depth - 1)] = wr_id;
	wq->pi++;
}

/* Tell the device about the new WQEs, which must be visible to it first. */
static void demo_wq_ring(struct demo_dev *dev, u32 db, u32 qpn,
			 struct demo_wq *wq)
{
	dma_wmb();
	dmod_reg_write(dev->hw, db, FIELD_PREP(DEMO_DB_QPN, qpn) | wq->pi);
}

/* A work request's message length, summed where no SGE list can wrap it */
static u64 demo_wr_len(const struct ib_send_wr *wr)
{
	u64 len = 0;
	int i;

	for (i = 0; i < wr->num_sge; i++)
		len += wr->sg_list[i].length;
	return len;
}

int demo_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
		   const struct ib_send_wr **bad_wr)
{
	struct demo_dev *dev = to_demo_dev(ibqp->device);
	struct demo_qp *qp = to_demo_qp(ibqp);
	u32 max_sge = le32_to_cpu(dev->attr.max_sge);
	u64 max_msg = le64_to_cpu(dev->attr.max_msg);
	unsigned long flags;
	int err = 0;

	/*
	 * A user QP posts into its mapped ring; a post with no work requests
	 * is its doorbell (see include/uapi/rdma/demo-abi.h).
	 */
	if (qp->uq) {
		if (wr) {
			*bad_wr = wr;
			return -EINVAL;
		}
		dmod_reg_write(dev->hw, DEMO_DB_SQ,
			       FIELD_PREP(DEMO_DB_QPN, ibqp->qp_num));
		return 0;
	}
	spin_lock_irqsave(&qp->lock, flags);
	if (qp->state != IB_QPS_RTS && qp->state != IB_QPS_ERR) {
		err = -EINVAL;
		goto out;
	}
	for (; wr; wr = wr->next) {
		struct demo_wqe *wqe;
		int op = demo_wqe_opcode(wr->opcode);

		if (op < 0 || wr->num_sge > max_sge ||
		    demo_wr_len(wr) > max_msg) {
			err = -EINVAL;
			break;
		}
		wqe = demo_wq_next(&qp->sq);
		if (!wqe) {
			err = -ENOMEM;
			break;
		}
		wqe->opcode = op;
		if (qp->sq_sig_all || (wr->send_flags & IB_SEND_SIGNALED))
			wqe->flags |= DEMO_WQE_F_SIGNALED;
		if (wr->send_flags & IB_SEND_SOLICITED)
			wqe->flags |= DEMO_WQE_F_SOLICITED;
		if (op == DEMO_WQE_SEND_IMM || op == DEMO_WQE_WRITE_IMM)
			wqe->imm = wr->ex.imm_data;
		if (op >= DEMO_WQE_WRITE) {
			wqe->remote_addr = cpu_to_le64(rdma_wr(wr)->remote_addr);
			wqe->rkey = cpu_to_le32(rdma_wr(wr)->rkey);
		}
		demo_fill_sges(wqe, wr->sg_list, wr->num_sge);
		demo_wq_commit(&qp->sq, wr->wr_id);
	}
	demo_wq_ring(dev, DEMO_DB_SQ, ibqp->qp_num, &qp->sq);
out:
	spin_unlock_irqrestore(&qp->lock, flags);
	if (err)
		*bad_wr = wr;
	/* A dead device completes nothing: the driver flushes the work. */
	if (READ_ONCE(dev->cmd_dead))
		schedule_work(&dev->flush_work);
	return err;
}

int demo_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
		   const struct ib_recv_wr **bad_wr)
{
	struct demo_dev *dev = to_demo_dev(ibqp->device);
	struct demo_qp *qp = to_demo_qp(ibqp);
	u32 max_sge = le32_to_cpu(dev->attr.max_sge);
	unsigned long flags;
	int err = 0;

	/* The device reads a user QP's receive index from its record. */
	if (qp->uq) {
		if (wr) {
			*bad_wr = wr;
			return -EINVAL;
		}
		return 0;
	}
	spin_lock_irqsave(&qp->lock, flags);
	if (qp->state == IB_QPS_RESET) {
		err = -EINVAL;
		goto out;
	}
	for (; wr; wr = wr->next) {
		struct demo_wqe *wqe;

		if (wr->num_sge > max_sge) {
			err = -EINVAL;
			break;
		}
		wqe = demo_wq_next(&qp->rq);
		if (!wqe) {
			err = -ENOMEM;
			break;
		}
		wqe->opcode = DEMO_WQE_RECV;
		demo_fill_sges(wqe, wr->sg_list, wr->num_sge);
		demo_wq_commit(&qp->rq, wr->wr_id);
	}
	demo_wq_ring(dev, DEMO_DB_RQ, ibqp->qp_num, &qp->rq);
out:
	spin_unlock_irqrestore(&qp->lock, flags);
	if (err)
		*bad_wr = wr;
	/* A dead device completes nothing: the driver flushes the work. */
	if (READ_ONCE(dev->cmd_dead))
		schedule_work(&dev->flush_work);
	return err;
}

/**
 * demo_qp_flush - complete a kernel QP's work requests in software
 * @qp: the QP, on a device that was reset
 * @recv: the receive queue, else the send queue
 * @wc: where the completions go
 * @n: room in @wc
 *
 * Context: under RCU with the queue's CQ lock held.
 * Return: the completions written, each a flush error.
 */
int demo_qp_flush(struct demo_qp *qp, bool recv, struct ib_wc *wc, int n)
{
	struct demo_wq *wq = recv ? &qp->rq : &qp->sq;
	int k;

	if (qp->uq)
		return 0;
	spin_lock(&qp->lock);
	for (k = 0; k < n && wq->ci != wq->pi; k++) {
		memset(&wc[k], 0, sizeof(wc[k]));
		wc[k].wr_id = wq->wr_id[wq->ci & (wq->depth - 1)];
		wc[k].status = IB_WC_WR_FLUSH_ERR;
		wc[k].opcode = recv ? IB_WC_RECV : IB_WC_SEND;
		wc[k].qp = &qp->ibqp;
		wc[k].port_num = DEMO_PORT;
		WRITE_ONCE(wq->ci, wq->ci + 1);
	}
	if (k)
		qp->state = IB_QPS_ERR;
	spin_unlock(&qp->lock);
	return k;
}

/**
 * demo_qp_complete - finish a work completion from a CQE of @qp
 * @qp: the QP the CQE names
 * @cqe: the CQE
 * @wc: the work completion being filled
 *
 * Context: any; called under RCU with the CQ lock held.
 */
void demo_qp_complete(struct demo_qp *qp, struct demo_cqe *cqe,
		      struct ib_wc *wc)
{
	bool recv = cqe->flags & DEMO_CQE_F_RECV;
	u16 idx = le16_to_cpu(cqe->wqe_idx);
	struct demo_wq *wq;

	wq = recv ? &qp->rq : &qp->sq;
	wc->qp = &qp->ibqp;
	wc->wr_id = wq->wr_id[idx & (wq->depth - 1)];
	/* A completion retires its WQE and every unsignaled one before it. */
	WRITE_ONCE(wq->ci, idx + 1);
	if (wc->status != IB_WC_SUCCESS && wc->status != IB_WC_WR_FLUSH_ERR)
		WRITE_ONCE(qp->state, IB_QPS_ERR);
}
