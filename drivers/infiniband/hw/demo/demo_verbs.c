// SPDX-License-Identifier: GPL-2.0-only
/*
 * Demo RDMA HCA driver: device, port, PD, CQ and MR verbs.
 */
#include <linux/bitfield.h>
#include <linux/dma-mapping.h>
#include <rdma/ib_verbs.h>
#include <rdma/uverbs_ioctl.h>
#include <rdma/demo-abi.h>

#include "demo.h"

#define DEMO_VENDOR_ID		0x1234
#define DEMO_VENDOR_PART_ID	0xde70

int demo_query_device(struct ib_device *ibdev, struct ib_device_attr *attr,
		      struct ib_udata *udata)
{
	struct demo_dev *dev = to_demo_dev(ibdev);
	int err;

	err = ib_no_udata_io(udata);
	if (err)
		return err;

	memset(attr, 0, sizeof(*attr));
	attr->fw_ver = le64_to_cpu(dev->attr.fw_ver);
	attr->sys_image_guid = ibdev->node_guid;
	attr->max_mr_size = U64_MAX;
	attr->page_size_cap = le64_to_cpu(dev->attr.page_size_cap);
	attr->vendor_id = DEMO_VENDOR_ID;
	attr->vendor_part_id = DEMO_VENDOR_PART_ID;
	attr->max_qp = le32_to_cpu(dev->attr.max_qp);
	attr->max_qp_wr = le32_to_cpu(dev->attr.max_wqe);
	attr->max_send_sge = le32_to_cpu(dev->attr.max_sge);
	attr->max_recv_sge = le32_to_cpu(dev->attr.max_sge);
	attr->max_sge_rd = le32_to_cpu(dev->attr.max_sge);
	attr->max_cq = le32_to_cpu(dev->attr.max_cq);
	attr->max_cqe = le32_to_cpu(dev->attr.max_cqe);
	attr->max_mr = le32_to_cpu(dev->attr.max_mr);
	attr->max_pd = DEMO_MAX_PD;
	attr->max_qp_rd_atom = DEMO_MAX_RD_ATOM;
	attr->max_qp_init_rd_atom = DEMO_MAX_RD_ATOM;
	attr->max_pkeys = 1;
	attr->device_cap_flags = IB_DEVICE_RC_RNR_NAK_GEN;
	return 0;
}

int demo_query_port(struct ib_device *ibdev, u32 port,
		    struct ib_port_attr *attr)
{
	struct demo_dev *dev = to_demo_dev(ibdev);

	/* The core zeroes @attr before calling. */
	if (READ_ONCE(dev->link_up)) {
		attr->state = IB_PORT_ACTIVE;
		attr->phys_state = IB_PORT_PHYS_STATE_LINK_UP;
	} else {
		attr->state = IB_PORT_DOWN;
		attr->phys_state = IB_PORT_PHYS_STATE_DISABLED;
	}
	attr->max_mtu = IB_MTU_4096;
	attr->active_mtu = IB_MTU_4096;
	attr->gid_tbl_len = 1;
	attr->pkey_tbl_len = 1;
	attr->max_msg_sz = le64_to_cpu(dev->attr.max_msg);
	attr->lid = dev->index + 1;
	attr->sm_lid = 1;
	attr->lmc = 0;
	attr->max_vl_num = 1;
	attr->active_width = IB_WIDTH_4X;
	attr->active_speed = IB_SPEED_EDR;
	return 0;
}

/**
 * demo_port_event - the port's link went up or down
 * @dev: the HCA
 * @up: DEMO_EQE_PORT_CHANGE's parameter: 1 up, 0 down
 *
 * Context: hard interrupt context.
 */
void demo_port_event(struct demo_dev *dev, u32 up)
{
	struct ib_event ev = {
		.device = &dev->ibdev,
		.element.port_num = DEMO_PORT,
		.event = up ? IB_EVENT_PORT_ACTIVE : IB_EVENT_PORT_ERR,
	};

	WRITE_ONCE(dev->link_up, !!up);
	ib_dispatch_event(&ev);
}

int demo_get_port_immutable(struct ib_device *ibdev, u32 port,
			    struct ib_port_immutable *immutable)
{
	struct ib_port_attr attr;
	int err;

	err = ib_query_port(ibdev, port, &attr);
	if (err)
		return err;

	immutable->pkey_tbl_len = attr.pkey_tbl_len;
	immutable->gid_tbl_len = attr.gid_tbl_len;
	/*
	 * IB transport addressed by LID, without the management classes: the
	 * demo fabric has no subnet manager, so no MAD agents are created.
	 */
	immutable->core_cap_flags = RDMA_CORE_CAP_PROT_IB;
	return 0;
}

int demo_query_gid(struct ib_device *ibdev, u32 port, int index,
		   union ib_gid *gid)
{
	if (index)
		return -EINVAL;

	gid->global.subnet_prefix = cpu_to_be64(0xfe80000000000000ULL);
	gid->global.interface_id = ibdev->node_guid;
	return 0;
}

int demo_query_pkey(struct ib_device *ibdev, u32 port, u16 index, u16 *pkey)
{
	if (index)
		return -EINVAL;

	*pkey = DEMO_PKEY_DEFAULT;
	return 0;
}

int demo_alloc_ucontext(struct ib_ucontext *uctx, struct ib_udata *udata)
{
	struct demo_dev *dev = to_demo_dev(uctx->device);
	struct demo_alloc_ucontext_resp resp = {
		.max_wqe = le32_to_cpu(dev->attr.max_wqe),
		.max_cqe = le32_to_cpu(dev->attr.max_cqe),
		.wqe_size = sizeof(struct demo_wqe),
		.cqe_size = sizeof(struct demo_cqe),
	};
	int err;

	err = ib_is_udata_in_empty(udata);
	if (err)
		return err;
	return ib_respond_udata(udata, resp);
}

void demo_dealloc_ucontext(struct ib_ucontext *uctx)
{
}

/*
 * The HCA goes away while processes still hold contexts on it. The core
 * destroys their objects next, which ends the device's access to their
 * queue memory; mappings of it they still hold keep only the pages. The
 * device keeps nothing per context, so there is nothing else to let go
 * of, and removal does not wait for the processes to close their files.
 */
void demo_disassociate_ucontext(struct ib_ucontext *uctx)
{
}

int demo_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct demo_dev *dev = to_demo_dev(ibpd->device);
	struct demo_pd *pd = to_demo_pd(ibpd);
	int err;

	err = ib_no_udata_io(udata);
	if (err)
		return err;

	err = xa_alloc(&dev->pd_xa, &pd->pdn, pd, XA_LIMIT(1, DEMO_MAX_PD),
		       GFP_KERNEL);
	/* All PD numbers in use is a resource shortage, not a busy device. */
	return err == -EBUSY ? -ENOMEM : err;
}

int demo_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct demo_dev *dev = to_demo_dev(ibpd->device);

	xa_erase(&dev->pd_xa, to_demo_pd(ibpd)->pdn);
	return 0;
}

/* --- completion queues */

static int demo_cq_cmd_create(struct demo_dev *dev, struct demo_cq *cq,
			      dma_addr_t ring, dma_addr_t dbr)
{
	struct demo_cmd cmd = {
		.opcode = cpu_to_le16(DEMO_CMD_CREATE_CQ),
		.create_cq.ring_dma = cpu_to_le64(ring),
		.create_cq.log_depth = cpu_to_le32(ilog2(cq->depth)),
		.create_cq.dbr_dma = cpu_to_le64(dbr),
	};
	int err;

	err = demo_cmd_exec(dev, &cmd);
	if (err)
		return err;
	cq->cqn = le32_to_cpu(cmd.create_cq.cqn);
	err = xa_err(xa_store_irq(&dev->cq_xa, cq->cqn, cq, GFP_KERNEL));
	if (err) {
		memset(&cmd, 0, sizeof(cmd));
		cmd.opcode = cpu_to_le16(DEMO_CMD_DESTROY_CQ);
		cmd.destroy.num = cpu_to_le32(cq->cqn);
		demo_cmd_exec(dev, &cmd);
	}
	return err;
}

/**
 * demo_flush_work - completion events for a device that was reset
 * @work: the device's flush_work
 *
 * A device that was reset writes no CQE and raises no interrupt; the
 * driver completes its kernel QPs' work requests, with flush errors, when
 * their CQs are polled (demo_poll_flush()). This tells the CQs' consumers
 * to poll, as the interrupt would: at the reset, and after each post to
 * the dead device (ib_drain_qp() posts and waits). It runs apart from the
 * posting thread, as an interrupt would, and with interrupts off, the
 * context completion handlers are written for. User CQs are polled by
 * their process, which got the fatal event.
 */
void demo_flush_work(struct work_struct *work)
{
	struct demo_dev *dev = container_of(work, struct demo_dev, flush_work);
	struct demo_cq *cq;
	unsigned long i;

	/* demo_cq_destroy_hw() waits for RCU before the CQ is freed. */
	rcu_read_lock();
	xa_for_each(&dev->cq_xa, i, cq) {
		if (cq->uq || !cq->ibcq.comp_handler)
			continue;
		local_irq_disable();
		cq->ibcq.comp_handler(&cq->ibcq, cq->ibcq.cq_context);
		local_irq_enable();
	}
	rcu_read_unlock();
}

/* Make the device forget the CQ; no completion event for it after this. */
static int demo_cq_destroy_hw(struct demo_dev *dev, struct demo_cq *cq)
{
	struct demo_cmd cmd = {
		.opcode = cpu_to_le16(DEMO_CMD_DESTROY_CQ),
		.destroy.num = cpu_to_le32(cq->cqn),
	};
	int err;

	err = demo_cmd_exec(dev, &cmd);
	if (err)
		return err;
	xa_erase_irq(&dev->cq_xa, cq->cqn);
	dmod_synchronize_irq(dev->hw);
	synchronize_rcu();
	return 0;
}

int demo_create_cq(struct ib_cq *ibcq, const struct ib_cq_init_attr *attr,
		   struct uverbs_attr_bundle *attrs)
{
	struct demo_dev *dev = to_demo_dev(ibcq->device);
	struct demo_cq *cq = to_demo_cq(ibcq);
	u32 depth;
	int err;

	if (attrs)
		return -EOPNOTSUPP;
	if (attr->flags || !attr->cqe ||
	    attr->cqe > le32_to_cpu(dev->attr.max_cqe))
		return -EINVAL;

	/* The device's smallest CQ has two entries. */
	depth = roundup_pow_of_two(max(attr->cqe, 2U));
	cq->ring = dma_alloc_coherent(dev->dma_dev, depth * sizeof(*cq->ring),
				      &cq->ring_dma, GFP_KERNEL);
	if (!cq->ring)
		return -ENOMEM;
	cq->depth = depth;
	spin_lock_init(&cq->lock);

	err = demo_cq_cmd_create(dev, cq, cq->ring_dma, 0);
	if (err) {
		dma_free_coherent(dev->dma_dev, depth * sizeof(*cq->ring),
				  cq->ring, cq->ring_dma);
		return err;
	}
	ibcq->cqe = depth;
	return 0;
}

/*
 * A user CQ: the ring and its doorbell record are mapped into the process,
 * which polls the ring and stores its consumer index in the record.
 */
int demo_create_user_cq(struct ib_cq *ibcq, const struct ib_cq_init_attr *attr,
			struct uverbs_attr_bundle *attrs)
{
	struct demo_dev *dev = to_demo_dev(ibcq->device);
	struct ib_udata *udata = &attrs->driver_udata;
	struct demo_cq *cq = to_demo_cq(ibcq);
	struct demo_create_cq_resp resp = {};
	struct demo_create_cq req;
	size_t ring;
	int err;

	err = ib_copy_validate_udata_in_cm(udata, req, reserved, 0);
	if (err)
		return err;
	if (req.reserved)
		return -EINVAL;
	/* The device's rings are kernel memory: no user-supplied buffers. */
	if (uverbs_attr_is_valid(attrs, UVERBS_ATTR_CREATE_CQ_BUFFER_VA) ||
	    uverbs_attr_is_valid(attrs, UVERBS_ATTR_CREATE_CQ_BUFFER_FD) ||
	    uverbs_attr_is_valid(attrs, UVERBS_ATTR_CREATE_CQ_BUF_UMEM))
		return -EOPNOTSUPP;
	if (attr->flags || !attr->cqe ||
	    attr->cqe > le32_to_cpu(dev->attr.max_cqe))
		return -EINVAL;

	cq->depth = roundup_pow_of_two(max(attr->cqe, 2U));
	spin_lock_init(&cq->lock);
	ring = cq->depth * sizeof(struct demo_cqe);
	cq->uq = demo_uq_alloc(dev, attrs->context,
			       ring + sizeof(struct demo_cq_dbr));
	if (IS_ERR(cq->uq))
		return PTR_ERR(cq->uq);
	err = demo_cq_cmd_create(dev, cq, cq->uq->dma, cq->uq->dma + ring);
	if (err)
		goto err_uq;

	resp.mmap_offset = rdma_user_mmap_get_offset(&cq->uq->entry);
	resp.cqn = cq->cqn;
	resp.depth = cq->depth;
	resp.mmap_size = cq->uq->size;
	resp.dbr_offset = ring;
	ibcq->cqe = cq->depth;
	err = ib_respond_udata(udata, resp);
	if (err)
		goto err_cq;
	return 0;

err_cq:
	demo_cq_destroy_hw(dev, cq);
err_uq:
	demo_uq_free(dev, cq->uq);
	return err;
}

/**
 * demo_cq_event - the device wrote a CQE to an armed CQ
 * @dev: the HCA
 * @cqn: the CQ's number
 *
 * Context: hard interrupt context.
 */
void demo_cq_event(struct demo_dev *dev, u32 cqn)
{
	struct demo_cq *cq;

	/* Destroying a CQ waits for RCU readers before the CQ is freed. */
	rcu_read_lock();
	cq = xa_load(&dev->cq_xa, cqn);
	if (cq && cq->ibcq.comp_handler)
		cq->ibcq.comp_handler(&cq->ibcq, cq->ibcq.cq_context);
	rcu_read_unlock();
}

int demo_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata)
{
	struct demo_dev *dev = to_demo_dev(ibcq->device);
	struct demo_cq *cq = to_demo_cq(ibcq);
	int err;

	err = demo_cq_destroy_hw(dev, cq);
	if (err)
		return err;
	if (cq->uq)
		demo_uq_free(dev, cq->uq);
	else
		dma_free_coherent(dev->dma_dev, cq->depth * sizeof(*cq->ring),
				  cq->ring, cq->ring_dma);
	return 0;
}

static enum ib_wc_status demo_wc_status(u8 status)
{
	switch (status) {
	case DEMO_CQE_OK:		return IB_WC_SUCCESS;
	case DEMO_CQE_LOC_LEN_ERR:	return IB_WC_LOC_LEN_ERR;
	case DEMO_CQE_LOC_PROT_ERR:	return IB_WC_LOC_PROT_ERR;
	case DEMO_CQE_REM_ACCESS_ERR:	return IB_WC_REM_ACCESS_ERR;
	case DEMO_CQE_REM_INV_REQ_ERR:	return IB_WC_REM_INV_REQ_ERR;
	case DEMO_CQE_RNR_RETRY_EXC:	return IB_WC_RNR_RETRY_EXC_ERR;
	case DEMO_CQE_WR_FLUSH_ERR:	return IB_WC_WR_FLUSH_ERR;
	case DEMO_CQE_REM_OP_ERR:	return IB_WC_REM_OP_ERR;
	case DEMO_CQE_RETRY_EXC:	return IB_WC_RETRY_EXC_ERR;
	default:			return IB_WC_FATAL_ERR;
	}
}

static enum ib_wc_opcode demo_wc_opcode(u8 opcode, bool recv)
{
	switch (opcode) {
	case DEMO_WQE_SEND:
	case DEMO_WQE_SEND_IMM:
		return recv ? IB_WC_RECV : IB_WC_SEND;
	case DEMO_WQE_WRITE:
		return IB_WC_RDMA_WRITE;
	case DEMO_WQE_WRITE_IMM:
		return recv ? IB_WC_RECV_RDMA_WITH_IMM : IB_WC_RDMA_WRITE;
	case DEMO_WQE_READ:
		return IB_WC_RDMA_READ;
	default:
		return recv ? IB_WC_RECV : IB_WC_SEND;
	}
}

/* Returns 1 for a completion, 0 for a CQE dropped, -EAGAIN for none. */
static int demo_poll_one(struct demo_dev *dev, struct demo_cq *cq,
			 struct ib_wc *wc)
{
	struct demo_cqe *cqe = &cq->ring[cq->ci & (cq->depth - 1)];
	struct demo_qp *qp;
	bool recv;

	if (READ_ONCE(cqe->owner) != !(cq->ci & cq->depth))
		return -EAGAIN;
	dma_rmb();
	cq->ci++;

	recv = cqe->flags & DEMO_CQE_F_RECV;
	memset(wc, 0, sizeof(*wc));
	wc->status = demo_wc_status(cqe->status);
	wc->opcode = demo_wc_opcode(cqe->opcode, recv);
	wc->byte_len = le32_to_cpu(cqe->byte_len);
	wc->src_qp = le32_to_cpu(cqe->src_qpn);
	wc->slid = le16_to_cpu(cqe->src_lid);
	wc->port_num = DEMO_PORT;
	wc->pkey_index = 0;
	if (cqe->flags & DEMO_CQE_F_IMM) {
		wc->ex.imm_data = cqe->imm;
		wc->wc_flags |= IB_WC_WITH_IMM;
	}
	rcu_read_lock();
	qp = xa_load(&dev->qp_xa, le32_to_cpu(cqe->qpn));
	if (qp)
		demo_qp_complete(qp, cqe, wc);
	rcu_read_unlock();
	/* Completions of a destroyed QP are dropped. */
	return qp ? 1 : 0;
}

/**
 * demo_cq_clean - drop what a destroyed QP left in a kernel CQ
 * @cq: the QP's send or receive CQ
 * @qpn: the QP's number; the device has destroyed the QP
 *
 * The device writes no CQE for @qpn any more, but those it wrote before
 * stay in the ring until polled. A QP created later with the same number
 * would be handed them, with its own wr_ids and ring indices. They are
 * renamed to QPN 0, which the device never gives a QP, so that
 * demo_poll_one() drops them. User CQs are their owner's to clean.
 */
void demo_cq_clean(struct demo_cq *cq, u32 qpn)
{
	unsigned long flags;
	u32 n;
	u16 ci;

	if (cq->uq)
		return;
	spin_lock_irqsave(&cq->lock, flags);
	for (n = 0, ci = cq->ci; n < cq->depth; n++, ci++) {
		struct demo_cqe *cqe = &cq->ring[ci & (cq->depth - 1)];

		if (READ_ONCE(cqe->owner) != !(ci & cq->depth))
			break;
		dma_rmb();
		if (le32_to_cpu(cqe->qpn) == qpn)
			cqe->qpn = 0;
	}
	spin_unlock_irqrestore(&cq->lock, flags);
}

/*
 * A device that was reset completes nothing more: once the CQEs it wrote
 * are polled, the work requests it was given, and those posted since,
 * complete here with flush errors, as those of a QP in the error state
 * do. Called with the CQ lock held.
 */
static int demo_poll_flush(struct demo_dev *dev, struct demo_cq *cq,
			   int num_entries, struct ib_wc *wc)
{
	struct demo_qp *qp;
	unsigned long i;
	int n = 0;

	/* demo_qp_destroy_hw() waits for RCU before the QP is freed. */
	rcu_read_lock();
	xa_for_each(&dev->qp_xa, i, qp) {
		if (qp->ibqp.send_cq == &cq->ibcq)
			n += demo_qp_flush(qp, false, wc + n, num_entries - n);
		if (qp->ibqp.recv_cq == &cq->ibcq)
			n += demo_qp_flush(qp, true, wc + n, num_entries - n);
		if (n == num_entries)
			break;
	}
	rcu_read_unlock();
	return n;
}

int demo_poll_cq(struct ib_cq *ibcq, int num_entries, struct ib_wc *wc)
{
	struct demo_dev *dev = to_demo_dev(ibcq->device);
	struct demo_cq *cq = to_demo_cq(ibcq);
	unsigned long flags;
	u16 ci0;
	int n = 0, ret;

	/* The process polls a user CQ; the kernel does not parse its ring. */
	if (cq->uq)
		return -EOPNOTSUPP;
	spin_lock_irqsave(&cq->lock, flags);
	ci0 = cq->ci;
	while (n < num_entries) {
		ret = demo_poll_one(dev, cq, &wc[n]);
		if (ret < 0)
			break;
		n += ret;
	}
	if (cq->ci != ci0)
		dmod_reg_write(dev->hw, DEMO_DB_CQ_CI,
			       FIELD_PREP(DEMO_DB_QPN, cq->cqn) | cq->ci);
	if (n < num_entries && READ_ONCE(dev->cmd_dead))
		n += demo_poll_flush(dev, cq, num_entries - n, wc + n);
	spin_unlock_irqrestore(&cq->lock, flags);
	return n;
}

int demo_req_notify_cq(struct ib_cq *ibcq, enum ib_cq_notify_flags flags)
{
	struct demo_dev *dev = to_demo_dev(ibcq->device);
	struct demo_cq *cq = to_demo_cq(ibcq);
	u32 db = cq->cqn;
	unsigned long irqflags;
	int missed = 0;

	if ((flags & IB_CQ_SOLICITED_MASK) == IB_CQ_SOLICITED)
		db |= DEMO_DB_CQ_SOLICITED;
	dmod_reg_write(dev->hw, DEMO_DB_CQ, db);

	if ((flags & IB_CQ_REPORT_MISSED_EVENTS) && !cq->uq) {
		spin_lock_irqsave(&cq->lock, irqflags);
		missed = READ_ONCE(cq->ring[cq->ci & (cq->depth - 1)].owner) ==
			 !(cq->ci & cq->depth);
		spin_unlock_irqrestore(&cq->lock, irqflags);
	}
	return missed;
}

/* --- memory regions */

u32 demo_access(int access)
{
	u32 a = 0;

	if (access & IB_ACCESS_LOCAL_WRITE)
		a |= DEMO_ACCESS_LOCAL_WRITE;
	if (access & IB_ACCESS_REMOTE_WRITE)
		a |= DEMO_ACCESS_REMOTE_WRITE;
	if (access & IB_ACCESS_REMOTE_READ)
		a |= DEMO_ACCESS_REMOTE_READ;
	return a;
}

struct ib_mr *demo_create_mr(struct ib_pd *ibpd, struct demo_cmd *cmd,
			     struct demo_mr *mr)
{
	struct demo_dev *dev = to_demo_dev(ibpd->device);
	int err;

	cmd->opcode = cpu_to_le16(DEMO_CMD_CREATE_MR);
	cmd->mr.pdn = cpu_to_le32(to_demo_pd(ibpd)->pdn);
	err = demo_cmd_exec(dev, cmd);
	if (err)
		return ERR_PTR(err);
	mr->ibmr.lkey = le32_to_cpu(cmd->mr.key);
	mr->ibmr.rkey = mr->ibmr.lkey;
	return &mr->ibmr;
}

/*
 * A DMA MR: the device takes addresses as device (DMA) addresses. Kernel
 * ULPs use it for local access; remote access through it needs the PD's
 * unsafe global rkey, as everywhere.
 */
struct ib_mr *demo_get_dma_mr(struct ib_pd *ibpd, int access)
{
	struct demo_cmd cmd = {
		.mr.mode = cpu_to_le32(DEMO_MR_DMA),
		.mr.access = cpu_to_le32(demo_access(access)),
	};
	struct demo_mr *mr;
	struct ib_mr *ibmr;

	mr = kzalloc_obj(*mr);
	if (!mr)
		return ERR_PTR(-ENOMEM);
	ibmr = demo_create_mr(ibpd, &cmd, mr);
	if (IS_ERR(ibmr))
		kfree(mr);
	return ibmr;
}

#if IS_ENABLED(CONFIG_INFINIBAND_DEMO_KUNIT_TEST)
/**
 * demo_reg_dma_range - an MR over one device address range, for the tests
 * @ibpd: protection domain
 * @addr: device address of byte 0
 * @iova: the MR's I/O virtual address
 * @length: length in bytes
 * @access: IB_ACCESS_* flags
 *
 * Kernel ULPs get bounded MRs through fast registration, which the device
 * does not offer; the tests use this to make the device check MR bounds
 * on the kernel data path. Release with demo_dereg_mr().
 *
 * Return: the MR, or an ERR_PTR.
 */
struct ib_mr *demo_reg_dma_range(struct ib_pd *ibpd, dma_addr_t addr,
				 u64 iova, u64 length, int access)
{
	struct demo_cmd cmd = {
		.mr.mode = cpu_to_le32(DEMO_MR_RANGE),
		.mr.iova = cpu_to_le64(iova),
		.mr.length = cpu_to_le64(length),
		.mr.addr = cpu_to_le64(addr),
		.mr.access = cpu_to_le32(demo_access(access)),
	};
	struct demo_mr *mr;
	struct ib_mr *ibmr;

	mr = kzalloc_obj(*mr);
	if (!mr)
		return ERR_PTR(-ENOMEM);
	ibmr = demo_create_mr(ibpd, &cmd, mr);
	if (IS_ERR(ibmr)) {
		kfree(mr);
		return ibmr;
	}
	ibmr->device = ibpd->device;
	ibmr->pd = ibpd;
	return ibmr;
}
#endif

/* What every user MR, over user memory or a dma-buf, must pass. */
int demo_check_user_mr(struct demo_dev *dev, struct ib_udata *udata,
		       struct ib_dmah *dmah, int access, u64 length)
{
	int err;

	err = ib_no_udata_io(udata);
	if (err)
		return err;
	if (dmah || (access & ~DEMO_MR_ACCESS_SUPPORTED))
		return -EOPNOTSUPP;
	if (!length || length > le64_to_cpu(dev->attr.max_msg))
		return -EINVAL;
	return 0;
}

/*
 * CREATE_MR with the translation demo_mem.c built in @mr->umem; the page
 * list is freed once the device has copied it, or failed.
 */
struct ib_mr *demo_create_umem_mr(struct ib_pd *ibpd, struct demo_cmd *cmd,
				  struct demo_mr *mr)
{
	struct ib_mr *ibmr;

	cmd->mr.mode = cpu_to_le32(mr->umem.mode);
	cmd->mr.addr = cpu_to_le64(mr->umem.addr);
	cmd->mr.page_shift = cpu_to_le32(mr->umem.page_shift);
	ibmr = demo_create_mr(ibpd, cmd, mr);
	demo_umem_put_pbl(to_demo_dev(ibpd->device), &mr->umem);
	return ibmr;
}

/*
 * A user MR: pinned and mapped in demo_mem.c; the device gets one range or
 * a page list and enforces the access flags and bounds itself.
 */
struct ib_mr *demo_reg_user_mr(struct ib_pd *ibpd, u64 start, u64 length,
			       u64 virt_addr, int access,
			       struct ib_dmah *dmah, struct ib_udata *udata)
{
	struct demo_dev *dev = to_demo_dev(ibpd->device);
	struct demo_cmd cmd = {
		.mr.iova = cpu_to_le64(virt_addr),
		.mr.length = cpu_to_le64(length),
		.mr.access = cpu_to_le32(demo_access(access)),
	};
	struct demo_mr *mr;
	struct ib_mr *ibmr;
	int err;

	err = demo_check_user_mr(dev, udata, dmah, access, length);
	if (err)
		return ERR_PTR(err);

	mr = kzalloc_obj(*mr);
	if (!mr)
		return ERR_PTR(-ENOMEM);
	err = demo_umem_get(dev, &mr->umem, start, length, virt_addr, access);
	if (err)
		goto err_free;

	ibmr = demo_create_umem_mr(ibpd, &cmd, mr);
	if (IS_ERR(ibmr)) {
		err = PTR_ERR(ibmr);
		goto err_put;
	}
	return ibmr;

err_put:
	demo_umem_put(dev, &mr->umem);
err_free:
	kfree(mr);
	return ERR_PTR(err);
}

int demo_destroy_mr(struct demo_dev *dev, u32 key)
{
	struct demo_cmd cmd = {
		.opcode = cpu_to_le16(DEMO_CMD_DESTROY_MR),
		.mr.key = cpu_to_le32(key),
	};

	return demo_cmd_exec(dev, &cmd);
}

int demo_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata)
{
	struct demo_dev *dev = to_demo_dev(ibmr->device);
	struct demo_mr *mr = to_demo_mr(ibmr);
	int err;

	if (mr->umem.dmabuf)
		return demo_dereg_dmabuf_mr(mr);
	/* The device drops its translation entry before the pages go. */
	err = demo_destroy_mr(dev, ibmr->lkey);
	if (err)
		return err;
	demo_umem_put(dev, &mr->umem);
	kfree(mr);
	return 0;
}

/* --- counters: what the device did, read from its counter registers */

static const struct rdma_stat_desc demo_stat_descs[] = {
	[DEMO_CNT_DMA_FAULTS].name = "dma_faults",
	[DEMO_CNT_PROT_ERRORS].name = "protection_errors",
	[DEMO_CNT_RNR_NAKS].name = "rnr_naks",
	[DEMO_CNT_CQ_OVERRUNS].name = "cq_overruns",
	[DEMO_CNT_TX_WQES].name = "tx_wqes",
	[DEMO_CNT_RX_WQES].name = "rx_wqes",
	[DEMO_CNT_TX_BYTES].name = "tx_bytes",
	[DEMO_CNT_RX_BYTES].name = "rx_bytes",
	[DEMO_CNT_CMDS].name = "commands",
	[DEMO_CNT_MR_MISSES].name = "mr_misses",
};

struct rdma_hw_stats *demo_alloc_hw_port_stats(struct ib_device *ibdev,
					       u32 port)
{
	return rdma_alloc_hw_stats_struct(demo_stat_descs, DEMO_CNT_MAX,
					  RDMA_HW_STATS_DEFAULT_LIFESPAN);
}

int demo_get_hw_stats(struct ib_device *ibdev, struct rdma_hw_stats *stats,
		      u32 port, int index)
{
	struct demo_dev *dev = to_demo_dev(ibdev);
	int i;

	for (i = 0; i < DEMO_CNT_MAX; i++)
		stats->value[i] = dmod_reg_read64(dev->hw, DEMO_REG_CNT(i));
	return DEMO_CNT_MAX;
}
