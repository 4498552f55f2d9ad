// SPDX-License-Identifier: GPL-2.0-only
/*
 * Demo RDMA HCA device model: command processing.
 *
 * The command queue: each command is fetched from host memory, run
 * against the device's tables and written back with its status; CQ, QP,
 * device and port commands are here, MR commands in dmod_mr.c.
 */
#include <linux/slab.h>
#include <linux/xarray.h>

#include "dmod.h"

static u16 dmod_create_cq(struct dmod_dev *mdev, struct demo_cmd *cmd)
{
	u32 log = le32_to_cpu(cmd->create_cq.log_depth);
	struct dmod_cq *cq;
	u32 cqn;

	if (!log || (1U << log) > DEMO_HW_MAX_CQE)
		return DEMO_CMD_BAD_PARAM;
	cq = kzalloc_obj(*cq);
	if (!cq)
		return DEMO_CMD_NO_RESOURCES;
	if (xa_alloc(&mdev->cqs, &cqn, cq, XA_LIMIT(1, DEMO_HW_MAX_CQ),
		     GFP_KERNEL)) {
		kfree(cq);
		return DEMO_CMD_NO_RESOURCES;
	}
	cq->cqn = cqn;
	cq->ring = le64_to_cpu(cmd->create_cq.ring_dma);
	cq->dbr = le64_to_cpu(cmd->create_cq.dbr_dma);
	cq->depth = 1U << log;
	cmd->create_cq.cqn = cpu_to_le32(cqn);
	return DEMO_CMD_OK;
}

static bool dmod_cq_in_use(struct dmod_dev *mdev, struct dmod_cq *cq)
{
	struct dmod_qp *qp;
	unsigned long i;

	xa_for_each(&mdev->qps, i, qp)
		if (qp->scq == cq || qp->rcq == cq)
			return true;
	return false;
}

static u16 dmod_destroy_cq(struct dmod_dev *mdev, struct demo_cmd *cmd)
{
	u32 cqn = le32_to_cpu(cmd->destroy.num);
	struct dmod_cq *cq = xa_load(&mdev->cqs, cqn);

	if (!cq)
		return DEMO_CMD_BAD_PARAM;
	if (dmod_cq_in_use(mdev, cq))
		return DEMO_CMD_BUSY;
	xa_erase(&mdev->cqs, cqn);
	kfree_rcu(cq, rcu);
	return DEMO_CMD_OK;
}

static u16 dmod_create_qp(struct dmod_dev *mdev, struct demo_cmd *cmd)
{
	u32 lsq = le32_to_cpu(cmd->create_qp.log_sq_depth);
	u32 lrq = le32_to_cpu(cmd->create_qp.log_rq_depth);
	struct dmod_qp *qp;
	u32 qpn;

	if (lsq > ilog2(DEMO_HW_MAX_WQE) || lrq > ilog2(DEMO_HW_MAX_WQE))
		return DEMO_CMD_BAD_PARAM;
	qp = kzalloc_obj(*qp);
	if (!qp)
		return DEMO_CMD_NO_RESOURCES;
	qp->scq = xa_load(&mdev->cqs, le32_to_cpu(cmd->create_qp.send_cqn));
	qp->rcq = xa_load(&mdev->cqs, le32_to_cpu(cmd->create_qp.recv_cqn));
	if (!qp->scq || !qp->rcq) {
		kfree(qp);
		return DEMO_CMD_BAD_PARAM;
	}
	/*
	 * QPN 0 and 1 are special in IB: start at 2. Numbers go round, so
	 * that a QPN comes back as late as possible after its QP is gone.
	 */
	if (xa_alloc_cyclic(&mdev->qps, &qpn, qp,
			    XA_LIMIT(2, DEMO_HW_MAX_QP + 1), &mdev->next_qpn,
			    GFP_KERNEL) < 0) {
		kfree(qp);
		return DEMO_CMD_NO_RESOURCES;
	}
	qp->qpn = qpn;
	qp->mdev = mdev;
	qp->pdn = le32_to_cpu(cmd->create_qp.pdn);
	qp->sq = le64_to_cpu(cmd->create_qp.sq_dma);
	qp->rq = le64_to_cpu(cmd->create_qp.rq_dma);
	qp->dbr = le64_to_cpu(cmd->create_qp.dbr_dma);
	qp->sq_depth = 1U << lsq;
	qp->rq_depth = 1U << lrq;
	qp->state = DEMO_QPS_RESET;
	INIT_LIST_HEAD(&qp->db_node);
	cmd->create_qp.qpn = cpu_to_le32(qpn);
	return DEMO_CMD_OK;
}

static bool dmod_qp_transition_ok(enum demo_qp_state cur,
				  enum demo_qp_state next)
{
	if (next == DEMO_QPS_RESET || next == DEMO_QPS_ERR)
		return true;
	switch (cur) {
	case DEMO_QPS_RESET:
		return next == DEMO_QPS_INIT;
	case DEMO_QPS_INIT:
		return next == DEMO_QPS_INIT || next == DEMO_QPS_RTR;
	case DEMO_QPS_RTR:
		return next == DEMO_QPS_RTS;
	case DEMO_QPS_RTS:
		return next == DEMO_QPS_RTS;
	default:
		return false;
	}
}

static u16 dmod_modify_qp(struct dmod_dev *mdev, struct demo_cmd *cmd)
{
	struct dmod_qp *qp = xa_load(&mdev->qps, le32_to_cpu(cmd->qp.qpn));
	u32 mask = le32_to_cpu(cmd->qp.mask);
	u32 next;

	if (!qp)
		return DEMO_CMD_BAD_PARAM;
	next = mask & DEMO_QP_ATTR_STATE ? le32_to_cpu(cmd->qp.state) : qp->state;
	if (next > DEMO_QPS_ERR || !dmod_qp_transition_ok(qp->state, next))
		return DEMO_CMD_BAD_STATE;
	if (next == DEMO_QPS_RTR && qp->state != DEMO_QPS_RTR &&
	    !(mask & DEMO_QP_ATTR_DEST))
		return DEMO_CMD_BAD_PARAM;
	if (mask & DEMO_QP_ATTR_ACCESS)
		qp->access = le32_to_cpu(cmd->qp.access);
	if (mask & DEMO_QP_ATTR_DEST) {
		qp->dest_lid = le32_to_cpu(cmd->qp.dest_lid);
		qp->dest_qpn = le32_to_cpu(cmd->qp.dest_qpn);
	}
	if (mask & DEMO_QP_ATTR_RNR_RETRY)
		qp->rnr_retry = le32_to_cpu(cmd->qp.rnr_retry);
	if (next == DEMO_QPS_RESET) {
		/* Outstanding work is dropped without completions. */
		qp->sq_pi = 0;
		qp->sq_ci = 0;
		qp->rq_pi = 0;
		qp->rq_ci = 0;
		qp->rnr_count = 0;
		qp->xfer_off = 0;
	}
	qp->state = next;
	if (next == DEMO_QPS_ERR)
		dmod_flush(qp);
	cmd->qp.cur_state = cpu_to_le32(qp->state);
	return DEMO_CMD_OK;
}

static u16 dmod_query_qp(struct dmod_dev *mdev, struct demo_cmd *cmd)
{
	struct dmod_qp *qp = xa_load(&mdev->qps, le32_to_cpu(cmd->qp.qpn));

	if (!qp)
		return DEMO_CMD_BAD_PARAM;
	cmd->qp.cur_state = cpu_to_le32(qp->state);
	cmd->qp.access = cpu_to_le32(qp->access);
	cmd->qp.dest_lid = cpu_to_le32(qp->dest_lid);
	cmd->qp.dest_qpn = cpu_to_le32(qp->dest_qpn);
	cmd->qp.rnr_retry = cpu_to_le32(qp->rnr_retry);
	return DEMO_CMD_OK;
}

static u16 dmod_destroy_qp(struct dmod_dev *mdev, struct demo_cmd *cmd)
{
	struct dmod_qp *qp = xa_erase(&mdev->qps, le32_to_cpu(cmd->destroy.num));

	if (!qp)
		return DEMO_CMD_BAD_PARAM;
	spin_lock_irq(&mdev->db_lock);
	list_del_init(&qp->db_node);
	spin_unlock_irq(&mdev->db_lock);
	kfree_rcu(qp, rcu);
	return DEMO_CMD_OK;
}

static u16 dmod_query_device(struct dmod_dev *mdev, struct demo_cmd *cmd)
{
	struct demo_device_attr attr = {
		.fw_ver = cpu_to_le64(0x0001000000000000ULL),
		.max_cq = cpu_to_le32(DEMO_HW_MAX_CQ),
		.max_cqe = cpu_to_le32(DEMO_HW_MAX_CQE),
		.max_qp = cpu_to_le32(DEMO_HW_MAX_QP),
		.max_wqe = cpu_to_le32(DEMO_HW_MAX_WQE),
		.max_sge = cpu_to_le32(DEMO_HW_MAX_SGE),
		.max_mr = cpu_to_le32(DEMO_HW_MAX_MR),
		.max_msg = cpu_to_le64(DEMO_HW_MAX_MSG),
		.page_size_cap = cpu_to_le64(GENMASK_ULL(40, PAGE_SHIFT)),
	};

	if (!dmod_dma(mdev, le64_to_cpu(cmd->query_device.resp_dma), &attr,
		      sizeof(attr), true))
		return DEMO_CMD_DMA_FAULT;
	return DEMO_CMD_OK;
}

/* The link goes down or comes up: tell the driver with an event. */
static void dmod_link(struct dmod_dev *mdev, bool up)
{
	if (up != mdev->link_up) {
		mdev->link_up = up;
		dmod_post_event(mdev, DEMO_EQE_PORT_CHANGE, up, 0);
	}
}

static u16 dmod_set_port(struct dmod_dev *mdev, struct demo_cmd *cmd)
{
	dmod_link(mdev, le32_to_cpu(cmd->set_port.link_up));
	return DEMO_CMD_OK;
}

/**
 * dmod_cable - plug or pull the port's cable
 * @mdev: the device
 * @up: true to plug it in
 *
 * What a technician does to the hardware, for tests: the device sees its
 * link change and reports it with a port change event.
 */
void dmod_cable(struct dmod_dev *mdev, bool up)
{
	mutex_lock(&mdev->lock);
	dmod_link(mdev, up);
	mutex_unlock(&mdev->lock);
}

static u16 dmod_exec_cmd(struct dmod_dev *mdev, struct demo_cmd *cmd)
{
	switch (le16_to_cpu(cmd->opcode)) {
	case DEMO_CMD_QUERY_DEVICE:	return dmod_query_device(mdev, cmd);
	case DEMO_CMD_CREATE_CQ:	return dmod_create_cq(mdev, cmd);
	case DEMO_CMD_DESTROY_CQ:	return dmod_destroy_cq(mdev, cmd);
	case DEMO_CMD_CREATE_QP:	return dmod_create_qp(mdev, cmd);
	case DEMO_CMD_MODIFY_QP:	return dmod_modify_qp(mdev, cmd);
	case DEMO_CMD_QUERY_QP:		return dmod_query_qp(mdev, cmd);
	case DEMO_CMD_DESTROY_QP:	return dmod_destroy_qp(mdev, cmd);
	case DEMO_CMD_CREATE_MR:	return dmod_create_mr(mdev, cmd);
	case DEMO_CMD_DESTROY_MR:	return dmod_destroy_mr(mdev, cmd);
	case DEMO_CMD_INVALIDATE_MR:	return dmod_invalidate_mr(mdev, cmd);
	case DEMO_CMD_UPDATE_MR:	return dmod_update_mr(mdev, cmd);
	case DEMO_CMD_SET_PORT:		return dmod_set_port(mdev, cmd);
	default:			return DEMO_CMD_BAD_OPCODE;
	}
}

void dmod_process_cmds(struct dmod_dev *mdev)
{
	u32 pi = READ_ONCE(mdev->cmdq_pi);

	while (mdev->cmdq_ci != pi && mdev->cmdq_depth) {
		u32 slot = mdev->cmdq_ci & (mdev->cmdq_depth - 1);
		dma_addr_t addr = mdev->cmdq_base + slot * sizeof(struct demo_cmd);
		struct demo_cmd cmd;
		u16 status;

		mdev->cmdq_ci++;
		/* test port: a command the device takes and never completes */
		if (mdev->drop_cmds) {
			mdev->drop_cmds--;
			continue;
		}
		if (!dmod_dma(mdev, addr, &cmd, sizeof(cmd), false)) {
			WRITE_ONCE(mdev->status, mdev->status | DEMO_STATUS_FATAL);
			return;
		}
		mdev->cnt[DEMO_CNT_CMDS]++;
		status = dmod_exec_cmd(mdev, &cmd);
		cmd.status = cpu_to_le16(status);
		cmd.done = cpu_to_le32(1);
		if (!dmod_dma(mdev, addr, &cmd, sizeof(cmd), true)) {
			WRITE_ONCE(mdev->status, mdev->status | DEMO_STATUS_FATAL);
			return;
		}
		if (le32_to_cpu(cmd.flags) & DEMO_CMD_F_INTR)
			dmod_post_event(mdev, DEMO_EQE_CMD_DONE, slot, 0);
	}
}
