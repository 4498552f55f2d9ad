// SPDX-License-Identifier: GPL-2.0-only
/*
 * Demo RDMA HCA: memory regions over dma-bufs.
 *
 * Two import models, chosen per device in debugfs (dmabuf_import):
 *
 * dynamic (the default): the device can take translation misses, so the
 * MR follows the exporter. invalidate_mappings() takes the translation
 * away from the device (INVALIDATE_MR, which completes only when the
 * device no longer uses it) and gives the mapping back; the next access
 * makes the device report a miss, and the miss work maps the dma-buf again
 * under its reservation lock and loads the new translation (UPDATE_MR).
 * Work that needs the MR waits in the device meanwhile. If the exporter
 * refuses the mapping (it revoked the buffer for good), the MR is revoked:
 * its accesses fail with protection errors until it is deregistered.
 *
 * revocable: pinned for the MR's lifetime, as a device without translation
 * misses needs, but accepted by exporters that must be able to take their
 * memory back (vfio-pci). The revoke callback revokes the MR in the device
 * before it returns; the RDMA core then unmaps and unpins. It runs at most
 * once, from the exporter or from the core at deregistration.
 *
 * Either way the key stays allocated in the device until deregistration,
 * so a revoked key is never handed to a new MR while userspace holds it.
 *
 * Locking: the reservation lock is taken before the command lock, never
 * the other way round, and no driver lock is held while taking it.
 */
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <rdma/ib_umem.h>
#include <rdma/uverbs_ioctl.h>

#include "demo.h"

static int demo_mr_xlate_cmd(struct demo_mr *mr, u16 opcode, u32 flags)
{
	struct demo_dev *dev = to_demo_dev(mr->ibmr.device);
	struct demo_cmd cmd = {
		.opcode = cpu_to_le16(opcode),
		.mr.key = cpu_to_le32(mr->ibmr.lkey),
		.mr.mode = cpu_to_le32(mr->umem.mode),
		.mr.addr = cpu_to_le64(mr->umem.addr),
		.mr.page_shift = cpu_to_le32(mr->umem.page_shift),
		.mr.flags = cpu_to_le32(flags),
	};
	int err;

	err = demo_cmd_exec(dev, &cmd);
	/* The device copied the page list, or failed. */
	demo_umem_put_pbl(dev, &mr->umem);
	return err;
}

/* Revoke the MR in the device: every later access is a protection error. */
static void demo_mr_revoke_hw(struct demo_mr *mr)
{
	/*
	 * Whatever the command returns, the device no longer uses the
	 * mapping: it ran the command, or it did not in time and was reset
	 * before demo_cmd_exec() returned, and a reset device does no DMA.
	 */
	demo_mr_xlate_cmd(mr, DEMO_CMD_INVALIDATE_MR, 0);
}

/* --- pinned, revocable */

/* Called with the reservation lock held, at most once. */
static void demo_dmabuf_revoke(void *priv)
{
	demo_mr_revoke_hw(priv);
}

/* --- dynamic */

/* Map again and give the device the new translation. Resv held. */
static int demo_dmabuf_remap(struct demo_mr *mr)
{
	struct demo_dev *dev = to_demo_dev(mr->ibmr.device);
	int err;

	err = demo_umem_dmabuf_map(dev, &mr->umem, mr->ibmr.iova);
	if (err)
		return err;
	err = demo_mr_xlate_cmd(mr, DEMO_CMD_UPDATE_MR, 0);
	if (err)
		demo_umem_dmabuf_unmap(dev, &mr->umem);
	return err;
}

/*
 * The exporter moves or takes back the memory (resv held). Dynamic
 * importers must stop using the mapping and give it back in bounded time:
 * the device lets go of the translation before the command completes.
 */
static void demo_dmabuf_invalidate(struct dma_buf_attachment *attach)
{
	struct ib_umem_dmabuf *umem_dmabuf = attach->importer_priv;
	struct demo_mr *mr = umem_dmabuf->private;

	/* Not yet registered, already torn down, or nothing mapped. */
	if (!mr || !umem_dmabuf->sgt)
		return;
	demo_mr_xlate_cmd(mr, DEMO_CMD_INVALIDATE_MR, DEMO_MR_F_FAULT);
	demo_umem_dmabuf_unmap(to_demo_dev(mr->ibmr.device), &mr->umem);
}

static const struct dma_buf_attach_ops demo_dmabuf_attach_ops = {
	.allow_peer2peer = true,
	.invalidate_mappings = demo_dmabuf_invalidate,
};

static void demo_dmabuf_resolve(struct demo_mr *mr)
{
	struct ib_umem_dmabuf *umem_dmabuf = mr->umem.dmabuf;

	ib_umem_dmabuf_revoke_lock(umem_dmabuf);
	if (umem_dmabuf->private && !umem_dmabuf->sgt &&
	    demo_dmabuf_remap(mr)) {
		/* The exporter refuses: the MR is dead, the work fails. */
		umem_dmabuf->private = NULL;
		demo_mr_revoke_hw(mr);
	}
	ib_umem_dmabuf_revoke_unlock(umem_dmabuf);
}

static void demo_dmabuf_miss_work(struct work_struct *work)
{
	struct demo_dev *dev = container_of(work, struct demo_dev, miss_work);
	struct demo_mr *mr;
	unsigned long i;

	/* demo_dereg_dmabuf_mr() erases an MR, then flushes this work. */
	xa_for_each(&dev->dmabuf_mrs, i, mr)
		if (test_and_clear_bit(0, &mr->miss))
			demo_dmabuf_resolve(mr);
}

/**
 * demo_dmabuf_miss - the device reported a translation miss
 * @dev: the HCA
 * @key: the MR's key
 *
 * Called from the interrupt handler.
 */
void demo_dmabuf_miss(struct demo_dev *dev, u32 key)
{
	struct demo_mr *mr;

	rcu_read_lock();
	mr = xa_load(&dev->dmabuf_mrs, key >> 8);
	/* Freed after an RCU grace period once erased. */
	if (mr && mr->ibmr.lkey == key) {
		set_bit(0, &mr->miss);
		queue_work(system_dfl_wq, &dev->miss_work);
	}
	rcu_read_unlock();
}

static struct ib_mr *demo_reg_dmabuf_dynamic(struct ib_pd *ibpd,
					     struct demo_mr *mr, u64 offset,
					     u64 length, u64 virt, int fd,
					     int access)
{
	struct demo_dev *dev = to_demo_dev(ibpd->device);
	struct demo_cmd cmd = {
		.mr.iova = cpu_to_le64(virt),
		.mr.length = cpu_to_le64(length),
		.mr.access = cpu_to_le32(demo_access(access)),
		.mr.mode = cpu_to_le32(DEMO_MR_NONE),
		.mr.flags = cpu_to_le32(DEMO_MR_F_FAULT),
	};
	struct ib_umem_dmabuf *umem_dmabuf;
	struct ib_mr *ibmr;
	int err;

	umem_dmabuf = ib_umem_dmabuf_get(ibpd->device, offset, length, fd,
					 access, &demo_dmabuf_attach_ops);
	if (IS_ERR(umem_dmabuf))
		return ERR_CAST(umem_dmabuf);
	mr->umem.dmabuf = umem_dmabuf;
	mr->dynamic = true;

	/* Created without a translation: misses until the first map. */
	ibmr = demo_create_mr(ibpd, &cmd, mr);
	if (IS_ERR(ibmr)) {
		err = PTR_ERR(ibmr);
		goto err_release;
	}
	mr->ibmr.iova = virt;
	mr->ibmr.length = length;
	err = xa_err(xa_store(&dev->dmabuf_mrs, mr->ibmr.lkey >> 8, mr,
			      GFP_KERNEL));
	if (err)
		goto err_destroy;

	ib_umem_dmabuf_revoke_lock(umem_dmabuf);
	umem_dmabuf->private = mr;
	err = demo_dmabuf_remap(mr);
	if (err)
		umem_dmabuf->private = NULL;
	ib_umem_dmabuf_revoke_unlock(umem_dmabuf);
	if (err)
		goto err_erase;
	return ibmr;

err_erase:
	xa_erase(&dev->dmabuf_mrs, mr->ibmr.lkey >> 8);
	flush_work(&dev->miss_work);
err_destroy:
	demo_destroy_mr(dev, mr->ibmr.lkey);
err_release:
	demo_umem_put(dev, &mr->umem);
	return ERR_PTR(err);
}

static struct ib_mr *demo_reg_dmabuf_revocable(struct ib_pd *ibpd,
					       struct demo_mr *mr, u64 offset,
					       u64 length, u64 virt, int fd,
					       int access)
{
	struct demo_dev *dev = to_demo_dev(ibpd->device);
	struct demo_cmd cmd = {
		.mr.iova = cpu_to_le64(virt),
		.mr.length = cpu_to_le64(length),
		.mr.access = cpu_to_le32(demo_access(access)),
	};
	struct ib_umem_dmabuf *umem_dmabuf;
	struct ib_mr *ibmr;
	int err;

	/* Returns mapped, pinned and with the reservation lock held. */
	umem_dmabuf = ib_umem_dmabuf_get_pinned_revocable_and_lock(ibpd->device,
								   offset,
								   length, fd,
								   access);
	if (IS_ERR(umem_dmabuf))
		return ERR_CAST(umem_dmabuf);
	mr->umem.dmabuf = umem_dmabuf;

	err = demo_umem_dmabuf_map(dev, &mr->umem, virt);
	if (err)
		goto err_unlock;
	ibmr = demo_create_umem_mr(ibpd, &cmd, mr);
	if (IS_ERR(ibmr)) {
		err = PTR_ERR(ibmr);
		goto err_unlock;
	}
	mr->ibmr.iova = virt;
	mr->ibmr.length = length;
	ib_umem_dmabuf_set_revoke_locked(umem_dmabuf, demo_dmabuf_revoke, mr);
	ib_umem_dmabuf_revoke_unlock(umem_dmabuf);
	return ibmr;

err_unlock:
	ib_umem_dmabuf_revoke_unlock(umem_dmabuf);
	/* No revoke callback is set yet: release only unmaps and unpins. */
	demo_umem_put(dev, &mr->umem);
	return ERR_PTR(err);
}

struct ib_mr *demo_reg_user_mr_dmabuf(struct ib_pd *ibpd, u64 offset,
				      u64 length, u64 virt_addr, int fd,
				      int access, struct ib_dmah *dmah,
				      struct uverbs_attr_bundle *attrs)
{
	struct demo_dev *dev = to_demo_dev(ibpd->device);
	struct ib_mr *ibmr;
	struct demo_mr *mr;
	int err;

	err = demo_check_user_mr(dev, &attrs->driver_udata, dmah, access,
				 length);
	if (err)
		return ERR_PTR(err);

	mr = kzalloc_obj(*mr);
	if (!mr)
		return ERR_PTR(-ENOMEM);
	/* The core sets it on success; the callbacks need it before. */
	mr->ibmr.device = ibpd->device;
	if (READ_ONCE(dev->dmabuf_import) == DEMO_DMABUF_REVOCABLE)
		ibmr = demo_reg_dmabuf_revocable(ibpd, mr, offset, length,
						 virt_addr, fd, access);
	else
		ibmr = demo_reg_dmabuf_dynamic(ibpd, mr, offset, length,
					       virt_addr, fd, access);
	/*
	 * A dynamic import published the MR in dmabuf_mrs before it failed:
	 * the interrupt handler may still hold it under RCU.
	 */
	if (IS_ERR(ibmr))
		kfree_rcu(mr, rcu);
	return ibmr;
}

/**
 * demo_dereg_dmabuf_mr - deregister a dma-buf MR
 * @mr: the MR
 *
 * Return: 0, or the errno of a device that failed DESTROY_MR; the MR then
 * stays, revoked.
 */
int demo_dereg_dmabuf_mr(struct demo_mr *mr)
{
	struct demo_dev *dev = to_demo_dev(mr->ibmr.device);
	struct ib_umem_dmabuf *umem_dmabuf = mr->umem.dmabuf;
	int err;

	if (mr->dynamic && umem_dmabuf) {
		xa_erase(&dev->dmabuf_mrs, mr->ibmr.lkey >> 8);
		flush_work(&dev->miss_work);
		ib_umem_dmabuf_revoke_lock(umem_dmabuf);
		if (umem_dmabuf->private) {
			umem_dmabuf->private = NULL;
			demo_mr_revoke_hw(mr);
		}
		if (umem_dmabuf->sgt)
			demo_umem_dmabuf_unmap(dev, &mr->umem);
		ib_umem_dmabuf_revoke_unlock(umem_dmabuf);
	}
	/*
	 * The key stays allocated until the memory is gone; a pinned
	 * import's revoke callback runs here if the exporter has not run it.
	 */
	demo_umem_put(dev, &mr->umem);
	err = demo_destroy_mr(dev, mr->ibmr.lkey);
	if (err)
		return err;
	/* The interrupt handler may still look the MR up under RCU. */
	kfree_rcu(mr, rcu);
	return 0;
}

void demo_dmabuf_init(struct demo_dev *dev)
{
	xa_init(&dev->dmabuf_mrs);
	INIT_WORK(&dev->miss_work, demo_dmabuf_miss_work);
}

void demo_dmabuf_fini(struct demo_dev *dev)
{
	cancel_work_sync(&dev->miss_work);
	WARN_ON(!xa_empty(&dev->dmabuf_mrs));
	xa_destroy(&dev->dmabuf_mrs);
}
