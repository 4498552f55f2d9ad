// SPDX-License-Identifier: GPL-2.0-only
/*
 * Demo RDMA HCA: the device model ("the silicon").
 *
 * Nothing in the model knows about the driver's structures. The model sees
 * register writes, and host memory only through device addresses
 * (dma_addr_t), translated the way the device would see them: through the
 * IOMMU domain of the DMA device when it has a translating one, otherwise
 * as dma-direct addresses. An address the IOMMU does not map is a device
 * DMA fault: counted, reported as a completion error and an event, and
 * never a kernel crash. Without an IOMMU, like real hardware, the device
 * cannot tell a stale address from a live one; only MR bounds and keys
 * protect memory there.
 *
 * Processing model: doorbells only record what the driver asked for and
 * kick a work item; the work item, in process context, executes commands
 * and work requests under the device's own mutex, which stands for the
 * silicon's state. A message to another demo device also holds that
 * device's mutex, taken with a trylock: a QP whose peer is busy waits for
 * a later pass, so two devices sending to each other never wait on each
 * other, and no lock is held across all devices. Interrupts are raised
 * with irq_work, so the driver's handler runs in hard interrupt context as
 * it would on real hardware.
 *
 * Files: this one is the bus side (registers, doorbells, the interrupt
 * line, events) and the device's life cycle; dmod_cmd.c runs commands,
 * dmod_mr.c keeps the translation tables, dmod_engine.c moves data,
 * dmod_dma.c reaches host memory, dmod_port.c is the test port. dmod.h
 * is what they share.
 *
 * Fabric: every demo device has one port with a LID; all ports on the host
 * are connected, and RC traffic goes to the QP named by the destination
 * LID and QPN.
 */
#include <linux/bitfield.h>
#include <linux/debugfs.h>
#include <linux/irq_work.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "dmod.h"

DEFINE_XARRAY(dmod_ports);	/* LID -> struct dmod_dev, under RCU */
struct workqueue_struct *dmod_wq;
struct dentry *dmod_debugfs;

/* --- interrupts and events */

static void dmod_irq_work(struct irq_work *work)
{
	struct dmod_dev *mdev = container_of(work, struct dmod_dev, irq_work);
	void (*handler)(void *ctx);

	spin_lock(&mdev->irq_lock);
	handler = READ_ONCE(mdev->irq_handler);
	if (handler)
		handler(mdev->irq_ctx);
	spin_unlock(&mdev->irq_lock);
}

/*
 * Write a queue entry as hardware does: the whole entry with the owner bit
 * of the previous pass, then, once that is visible, the new owner bit. A
 * consumer that sees the new owner bit (and reads the rest after
 * dma_rmb()) sees the whole entry, never a part of the previous pass.
 */
bool dmod_post_entry(struct dmod_dev *mdev, dma_addr_t addr,
		     void *entry, size_t len, u8 *owner)
{
	u8 cur = *owner;
	bool ok;

	*owner = !cur;
	ok = dmod_dma(mdev, addr, entry, len, true);
	*owner = cur;
	if (!ok)
		return false;
	/* The entry before its owner bit; pairs with the reader's dma_rmb() */
	wmb();
	return dmod_dma(mdev, addr + (owner - (u8 *)entry), owner, 1, true);
}

/*
 * Does the device run? Disabled (reset) or failed, it runs no command,
 * moves no data and raises no event.
 */
bool dmod_running(struct dmod_dev *mdev)
{
	return (READ_ONCE(mdev->ctrl) & DEMO_CTRL_ENABLE) &&
	       !(READ_ONCE(mdev->status) & DEMO_STATUS_FATAL);
}

/* Post an event whatever the status says; see dmod_post_event(). */
void __dmod_post_event(struct dmod_dev *mdev, u16 type, u32 param,
		       u64 info)
{
	struct demo_eqe eqe = {
		.type = cpu_to_le16(type),
		.owner = cpu_to_le16(!!(mdev->eq_pi & mdev->eq_depth)),
		.param = cpu_to_le32(param),
		.info = cpu_to_le64(info),
	};

	if (!mdev->eq_depth || mdev->eq_pi - READ_ONCE(mdev->eq_ci) >= mdev->eq_depth) {
		/* EQ overrun: the device stops; the driver sees FATAL. */
		WRITE_ONCE(mdev->status, mdev->status | DEMO_STATUS_FATAL);
		return;
	}
	/* The owner bit is in the low byte of the little-endian field. */
	if (!dmod_post_entry(mdev, mdev->eq_base +
			     (mdev->eq_pi & (mdev->eq_depth - 1)) * sizeof(eqe),
			     &eqe, sizeof(eqe), (u8 *)&eqe.owner)) {
		WRITE_ONCE(mdev->status, mdev->status | DEMO_STATUS_FATAL);
		return;
	}
	WRITE_ONCE(mdev->eq_pi, mdev->eq_pi + 1);
	/* Pairs with the barrier in the DEMO_DB_EQ write. */
	smp_mb();
	if (READ_ONCE(mdev->irq_armed)) {
		WRITE_ONCE(mdev->irq_armed, false);
		irq_work_queue(&mdev->irq_work);
	}
}

void dmod_post_event(struct dmod_dev *mdev, u16 type, u32 param,
		     u64 info)
{
	if (dmod_running(mdev))
		__dmod_post_event(mdev, type, param, info);
}

/* --- the bus side */

static void dmod_kick(struct dmod_dev *mdev)
{
	mod_delayed_work(dmod_wq, &mdev->work, 0);
}

/*
 * Clearing ENABLE resets the device, as a PCI function reset does: the
 * write returns once the work the device was doing is finished, and from
 * then on it runs no command, moves no data and raises no interrupt. The
 * caller may free everything the device used. It sleeps.
 */
static void dmod_stop(struct dmod_dev *mdev)
{
	might_sleep();
	/* The work sees the device stopped on its next pass, if any. */
	cancel_delayed_work_sync(&mdev->work);
	irq_work_sync(&mdev->irq_work);
}

/*
 * Doorbells may be rung from any context, as on real hardware; writing
 * DEMO_REG_CTRL sleeps.
 */
void dmod_reg_write(struct dmod_dev *mdev, u32 off, u32 val)
{
	struct dmod_qp *qp;
	struct dmod_cq *cq;
	unsigned long flags;

	switch (off) {
	case DEMO_REG_CTRL:
		mutex_lock(&mdev->lock);
		WRITE_ONCE(mdev->ctrl, val);
		if (val & DEMO_CTRL_ENABLE)
			WRITE_ONCE(mdev->status, mdev->status | DEMO_STATUS_READY);
		else
			WRITE_ONCE(mdev->status, mdev->status & ~DEMO_STATUS_READY);
		mutex_unlock(&mdev->lock);
		if (!(val & DEMO_CTRL_ENABLE))
			dmod_stop(mdev);
		break;
	case DEMO_REG_CMDQ_BASE_LO:
		mdev->cmdq_base = (mdev->cmdq_base & ~0xffffffffULL) | val;
		break;
	case DEMO_REG_CMDQ_BASE_HI:
		mdev->cmdq_base = lower_32_bits(mdev->cmdq_base) | (u64)val << 32;
		break;
	case DEMO_REG_CMDQ_LOG_DEPTH:
		mdev->cmdq_depth = val < 16 ? 1U << val : 0;
		mdev->cmdq_ci = 0;
		mdev->cmdq_pi = 0;
		break;
	case DEMO_REG_EQ_BASE_LO:
		mdev->eq_base = (mdev->eq_base & ~0xffffffffULL) | val;
		break;
	case DEMO_REG_EQ_BASE_HI:
		mdev->eq_base = lower_32_bits(mdev->eq_base) | (u64)val << 32;
		break;
	case DEMO_REG_EQ_LOG_DEPTH:
		mdev->eq_depth = val < 16 ? 1U << val : 0;
		mdev->eq_pi = 0;
		mdev->eq_ci = 0;
		break;
	case DEMO_DB_CMDQ:
		WRITE_ONCE(mdev->cmdq_pi, val);
		dmod_kick(mdev);
		break;
	case DEMO_DB_EQ:
		WRITE_ONCE(mdev->eq_ci, val);
		WRITE_ONCE(mdev->irq_armed, true);
		/* Pairs with the barrier in dmod_post_event(). */
		smp_mb();
		/* Events posted while disarmed raise the line now. */
		if (READ_ONCE(mdev->eq_pi) != val && dmod_running(mdev)) {
			WRITE_ONCE(mdev->irq_armed, false);
			irq_work_queue(&mdev->irq_work);
		}
		break;
	case DEMO_DB_SQ:
	case DEMO_DB_RQ:
		rcu_read_lock();
		qp = xa_load(&mdev->qps, FIELD_GET(DEMO_DB_QPN, val));
		if (qp) {
			spin_lock_irqsave(&mdev->db_lock, flags);
			/* With a doorbell record the index is read from there. */
			if (!qp->dbr && off == DEMO_DB_SQ)
				WRITE_ONCE(qp->sq_pi, FIELD_GET(DEMO_DB_IDX, val));
			else if (!qp->dbr)
				WRITE_ONCE(qp->rq_pi, FIELD_GET(DEMO_DB_IDX, val));
			if (list_empty(&qp->db_node))
				list_add_tail(&qp->db_node, &mdev->db_list);
			spin_unlock_irqrestore(&mdev->db_lock, flags);
			dmod_kick(mdev);
		}
		rcu_read_unlock();
		break;
	case DEMO_DB_CQ:
		rcu_read_lock();
		cq = xa_load(&mdev->cqs, FIELD_GET(DEMO_DB_CQ_NUM, val));
		if (cq) {
			WRITE_ONCE(cq->solicited_only, !!(val & DEMO_DB_CQ_SOLICITED));
			WRITE_ONCE(cq->armed, true);
		}
		rcu_read_unlock();
		break;
	case DEMO_DB_CQ_CI:
		rcu_read_lock();
		cq = xa_load(&mdev->cqs, FIELD_GET(DEMO_DB_QPN, val));
		if (cq)
			WRITE_ONCE(cq->ci, FIELD_GET(DEMO_DB_IDX, val));
		rcu_read_unlock();
		break;
	}
}

u32 dmod_reg_read(struct dmod_dev *mdev, u32 off)
{
	switch (off) {
	case DEMO_REG_STATUS:
		return READ_ONCE(mdev->status);
	case DEMO_REG_CTRL:
		return READ_ONCE(mdev->ctrl);
	default:
		return 0;
	}
}

u64 dmod_reg_read64(struct dmod_dev *mdev, u32 off)
{
	u32 i = (off - DEMO_REG_CNT(0)) / 8;

	if (off < DEMO_REG_CNT(0) || i >= DEMO_CNT_MAX)
		return 0;
	return READ_ONCE(mdev->cnt[i]);
}

void dmod_request_irq(struct dmod_dev *mdev, void (*handler)(void *ctx),
		      void *ctx)
{
	mdev->irq_ctx = ctx;
	WRITE_ONCE(mdev->irq_handler, handler);
}

void dmod_synchronize_irq(struct dmod_dev *mdev)
{
	irq_work_sync(&mdev->irq_work);
}

void dmod_free_irq(struct dmod_dev *mdev)
{
	WRITE_ONCE(mdev->irq_handler, NULL);
	dmod_synchronize_irq(mdev);
}

/**
 * dmod_attach - power on the device behind @dma_dev
 * @dma_dev: the device whose DMA the model performs
 * @lid: the port's address on the demo fabric
 *
 * Return: the device, or an ERR_PTR.
 */
struct dmod_dev *dmod_attach(struct device *dma_dev, u32 lid)
{
	struct dmod_dev *mdev;
	int err;

	mdev = kzalloc_obj(*mdev);
	if (!mdev)
		return ERR_PTR(-ENOMEM);
	mdev->dma_dev = dma_dev;
	mdev->lid = lid;
	mdev->link_up = true;
	xa_init_flags(&mdev->cqs, XA_FLAGS_ALLOC1);
	xa_init_flags(&mdev->qps, XA_FLAGS_ALLOC);
	xa_init_flags(&mdev->mrs, XA_FLAGS_ALLOC1);
	mutex_init(&mdev->lock);
	spin_lock_init(&mdev->db_lock);
	spin_lock_init(&mdev->irq_lock);
	INIT_LIST_HEAD(&mdev->db_list);
	INIT_DELAYED_WORK(&mdev->work, dmod_work);
	init_irq_work(&mdev->irq_work, dmod_irq_work);

	err = xa_insert(&dmod_ports, lid, mdev, GFP_KERNEL);
	if (err) {
		kfree(mdev);
		return ERR_PTR(err);
	}
	dmod_debugfs_add(mdev);
	return mdev;
}

static void dmod_free_table(struct xarray *xa, bool mrs)
{
	unsigned long i;
	void *entry;

	xa_for_each(xa, i, entry) {
		if (mrs)
			kvfree(((struct dmod_mr *)entry)->pages);
		kfree(entry);
	}
	xa_destroy(xa);
}

/**
 * dmod_detach - power off the device: it stops all DMA before returning
 * @mdev: the device
 */
void dmod_detach(struct dmod_dev *mdev)
{
	debugfs_remove(mdev->debugfs);
	/* No peer finds the device now, and none still uses it after this. */
	xa_erase(&dmod_ports, mdev->lid);
	synchronize_rcu();
	mutex_lock(&mdev->lock);
	mdev->ctrl = 0;
	mdev->status = 0;
	mdev->cmdq_depth = 0;
	mdev->eq_depth = 0;
	mutex_unlock(&mdev->lock);
	cancel_delayed_work_sync(&mdev->work);
	dmod_free_irq(mdev);
	dmod_free_table(&mdev->qps, false);
	dmod_free_table(&mdev->cqs, false);
	dmod_free_table(&mdev->mrs, true);
	mutex_destroy(&mdev->lock);
	kfree(mdev);
}

int dmod_init(void)
{
	dmod_wq = alloc_workqueue("demo_model", WQ_UNBOUND, 0);
	if (!dmod_wq)
		return -ENOMEM;
	dmod_debugfs = debugfs_create_dir("demo_model", NULL);
	return 0;
}

void dmod_exit(void)
{
	debugfs_remove(dmod_debugfs);
	destroy_workqueue(dmod_wq);
}
