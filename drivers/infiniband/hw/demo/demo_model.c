// SPDX-License-Identifier: GPL-2.0-only
/*
 * Demo RDMA HCA: the device model ("the silicon").
 *
 * Nothing in this file knows about the driver's structures. The model sees
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
 * Fabric: every demo device has one port with a LID; all ports on the host
 * are connected, and RC traffic goes to the QP named by the destination
 * LID and QPN.
 */
#include <linux/bitfield.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-direct.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/irq_work.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "demo_hw_defs.h"
#include "demo_model.h"

#define DMOD_RNR_DELAY_MS	1
/*
 * Packets the device moves in one pass of its work, 1 MiB: then it lets
 * the other HCAs' work run and serves its own commands again before it
 * goes on, so no QP's traffic holds up commands for long.
 */
#define DMOD_PASS_PKTS		256
#define DMOD_RNR_INFINITE	7

static DEFINE_XARRAY(dmod_ports);	/* LID -> struct dmod_dev, under RCU */

struct dmod_cq {
	u32 cqn;
	dma_addr_t ring;
	u32 depth;
	u16 pi;			/* CQEs written */
	u16 ci;			/* from DEMO_DB_CQ_CI or the doorbell record */
	dma_addr_t dbr;		/* struct demo_cq_dbr, or 0 */
	bool armed;
	bool solicited_only;
	struct rcu_head rcu;
};

enum dmod_mr_state {
	DMOD_MR_VALID,
	DMOD_MR_MISSING,	/* fault-capable, no translation */
	DMOD_MR_REVOKED,
};

struct dmod_mr {
	u32 key;
	u32 pdn;
	u32 access;
	u32 mode;
	u32 flags;		/* DEMO_MR_F_* */
	enum dmod_mr_state state;
	bool miss_reported;	/* one event per miss */
	u64 iova;
	u64 length;
	u64 addr;
	u32 page_shift;
	dma_addr_t *pages;	/* DEMO_MR_PBL: fetched at creation */
};

struct dmod_qp {
	u32 qpn;
	u32 pdn;
	enum demo_qp_state state;
	u32 access;
	u32 dest_lid;
	u32 dest_qpn;
	u32 rnr_retry;
	u32 rnr_count;
	u64 xfer_off;		/* bytes of the head send WQE moved so far */
	dma_addr_t sq, rq;
	u32 sq_depth, rq_depth;
	/* 16-bit ring indices: pi from the doorbells, ci the device's */
	u16 sq_pi, sq_ci;
	u16 rq_pi, rq_ci;
	dma_addr_t dbr;		/* struct demo_qp_dbr, or 0 */
	struct dmod_cq *scq, *rcq;
	struct list_head db_node;	/* on dmod_dev::db_list */
	struct dmod_dev *mdev;
	struct rcu_head rcu;
};

#define DMOD_PKT_SIZE	SZ_4K	/* the port's MTU, IB_MTU_4096 */

struct dmod_dev {
	struct mutex lock;	/* the device's state; see dmod_peer_lock() */
	struct dmod_dev *peer;	/* the device the current QP sends to */
	struct device *dma_dev;
	u32 lid;
	bool link_up;
	u32 status, ctrl;
	u64 cmdq_base, eq_base;
	u32 cmdq_depth, eq_depth;
	u32 cmdq_ci;		/* commands executed */
	u32 cmdq_pi;		/* from the doorbell */
	u32 eq_pi, eq_ci;
	struct xarray cqs, qps, mrs;
	u32 next_qpn;		/* QPNs are handed out cyclically */
	u32 mr_tag;
	u64 cnt[DEMO_CNT_MAX];

	spinlock_t db_lock;	/* doorbell mailbox: db_list, cmdq_pi */
	struct list_head db_list;
	struct delayed_work work;

	void (*irq_handler)(void *ctx);
	void *irq_ctx;
	bool irq_armed;
	spinlock_t irq_lock;	/* one interrupt at a time, as one MSI vector */
	struct irq_work irq_work;

	struct dentry *debugfs;
	u32 port_key;		/* test port: the MR mr_mem goes through */
	u32 drop_cmds;		/* test port: commands to take and not run */
	u32 budget;		/* packets left in this pass of the work */
	u8 pkt[DMOD_PKT_SIZE];	/* the packet buffer messages stream through */
};

static struct workqueue_struct *dmod_wq;
static struct dentry *dmod_debugfs;

/* --- DMA as the device sees it */

/*
 * Peer-to-peer: a device address may lead to another PCI device's memory
 * BAR (a dma-buf exported by vfio-pci) instead of RAM. Such a request goes
 * to the peer, which the model reaches through an uncached mapping of the
 * BAR page. Only prefetchable memory BARs, memory without side effects,
 * are reached this way; anything else that is not RAM is a fault.
 */
static bool dmod_is_mmio(phys_addr_t phys)
{
	struct pci_dev *pdev = NULL;
	int bar;

	if (pfn_valid(PHYS_PFN(phys)))
		return false;
	for_each_pci_dev(pdev) {
		for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
			struct resource *res = pci_resource_n(pdev, bar);

			if ((res->flags & IORESOURCE_MEM) &&
			    (res->flags & IORESOURCE_PREFETCH) &&
			    phys >= res->start && phys <= res->end) {
				pci_dev_put(pdev);
				return true;
			}
		}
	}
	return false;
}

/*
 * Translate one device address to a CPU physical address the way the
 * device's requests would be translated. Returns false for a DMA fault.
 */
static bool dmod_translate(struct dmod_dev *mdev, dma_addr_t addr,
			   phys_addr_t *phys)
{
	struct iommu_domain *dom = iommu_get_domain_for_dev(mdev->dma_dev);

	if (dom && dom->type != IOMMU_DOMAIN_IDENTITY) {
		*phys = iommu_iova_to_phys(dom, addr);
		return *phys != 0;
	}
	*phys = dma_to_phys(mdev->dma_dev, addr);
	return true;
}

static bool dmod_mmio(phys_addr_t phys, void *buf, size_t len, bool to_host)
{
	void __iomem *va;

	if (!dmod_is_mmio(phys))
		return false;
	va = ioremap(phys & PAGE_MASK, PAGE_SIZE);
	if (!va)
		return false;
	if (to_host)
		memcpy_toio(va + offset_in_page(phys), buf, len);
	else
		memcpy_fromio(buf, va + offset_in_page(phys), len);
	iounmap(va);
	return true;
}

/* Copy between host memory at device address @addr and @buf. */
static bool dmod_dma(struct dmod_dev *mdev, dma_addr_t addr, void *buf,
		     size_t len, bool to_host)
{
	while (len) {
		size_t chunk = min_t(size_t, len, PAGE_SIZE - offset_in_page(addr));
		phys_addr_t phys;
		void *va;

		if (!dmod_translate(mdev, addr, &phys))
			goto fault;
		if (pfn_valid(PHYS_PFN(phys))) {
			va = kmap_local_pfn(PHYS_PFN(phys)) + offset_in_page(phys);
			if (to_host)
				memcpy(va, buf, chunk);
			else
				memcpy(buf, va, chunk);
			kunmap_local(va);
		} else if (!dmod_mmio(phys, buf, chunk, to_host)) {
			goto fault;
		}
		addr += chunk;
		buf += chunk;
		len -= chunk;
	}
	return true;

fault:
	mdev->cnt[DEMO_CNT_DMA_FAULTS]++;
	return false;
}

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
static bool dmod_post_entry(struct dmod_dev *mdev, dma_addr_t addr,
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
static bool dmod_running(struct dmod_dev *mdev)
{
	return (READ_ONCE(mdev->ctrl) & DEMO_CTRL_ENABLE) &&
	       !(READ_ONCE(mdev->status) & DEMO_STATUS_FATAL);
}

/* Post an event whatever the status says; see dmod_post_event(). */
static void __dmod_post_event(struct dmod_dev *mdev, u16 type, u32 param,
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

static void dmod_post_event(struct dmod_dev *mdev, u16 type, u32 param,
			    u64 info)
{
	if (dmod_running(mdev))
		__dmod_post_event(mdev, type, param, info);
}

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
static void dmod_flush(struct dmod_qp *qp)
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

/* --- memory regions */

static struct dmod_mr *dmod_mr_check(struct dmod_dev *mdev, u32 key, u32 pdn,
				     u64 va, u64 len, u32 access)
{
	struct dmod_mr *mr = xa_load(&mdev->mrs, key >> 8);

	if (!mr || mr->key != key || mr->pdn != pdn ||
	    mr->state != DMOD_MR_VALID)
		return NULL;
	if ((mr->access & access) != access)
		return NULL;
	if (mr->mode != DEMO_MR_DMA &&
	    (va < mr->iova || len > mr->length || va - mr->iova > mr->length - len))
		return NULL;
	return mr;
}

/* Device address of MR byte @va, and how many bytes are contiguous there. */
static dma_addr_t dmod_mr_addr(struct dmod_mr *mr, u64 va, u64 *contig)
{
	u64 off, pgsz, start;

	switch (mr->mode) {
	case DEMO_MR_RANGE:
		*contig = mr->iova + mr->length - va;
		return mr->addr + (va - mr->iova);
	case DEMO_MR_PBL:
		pgsz = 1ULL << mr->page_shift;
		start = mr->iova & ~(pgsz - 1);
		off = va - start;
		*contig = pgsz - (off & (pgsz - 1));
		return mr->pages[off >> mr->page_shift] + (off & (pgsz - 1));
	default:
		*contig = U64_MAX;
		return va;
	}
}

/* Move @len bytes of MR data at @va to or from @buf. */
static bool dmod_mr_dma(struct dmod_dev *mdev, struct dmod_mr *mr, u64 va,
			void *buf, u64 len, bool to_mr)
{
	while (len) {
		u64 contig;
		dma_addr_t addr = dmod_mr_addr(mr, va, &contig);
		u64 n = min(len, contig);

		if (!dmod_dma(mdev, addr, buf, n, to_mr))
			return false;
		va += n;
		buf += n;
		len -= n;
	}
	return true;
}

/*
 * A fault-capable MR without a translation: report the miss once, and tell
 * the caller to hold the work until the driver resolves it. Only an access
 * the MR would allow faults: the key, PD and access rights are checked
 * first, as fault-capable hardware does, so a stranger's guessed key is a
 * protection error, not a miss.
 */
static bool dmod_mr_missing(struct dmod_dev *mdev, u32 key, u32 pdn,
			    u32 access)
{
	struct dmod_mr *mr = xa_load(&mdev->mrs, key >> 8);

	if (!mr || mr->key != key || mr->state != DMOD_MR_MISSING ||
	    mr->pdn != pdn || (mr->access & access) != access)
		return false;
	if (!mr->miss_reported) {
		mr->miss_reported = true;
		mdev->cnt[DEMO_CNT_MR_MISSES]++;
		dmod_post_event(mdev, DEMO_EQE_MR_MISS, key, 0);
	}
	return true;
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
 * time, through the device's packet buffer. The device allocates nothing
 * per message, and a long message holds nothing a short one does not.
 */
/* The SGEs of a WQE, or one remote range, checked, as one byte stream */
struct dmod_sgl {
	struct dmod_dev *mdev;
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

enum {
	DMOD_STREAM_OK,
	DMOD_STREAM_SRC_FAULT,
	DMOD_STREAM_DST_FAULT,
	DMOD_STREAM_MORE,	/* the pass's budget ran out first */
};

/*
 * Move the bytes of a @len byte message from @src to @dst, one packet at
 * a time, from *@off on, as far as the pass's budget goes; *@off follows.
 */
static int dmod_stream(struct dmod_dev *mdev, struct dmod_sgl *src,
		       struct dmod_sgl *dst, u64 len, u64 *off)
{
	u32 n;

	for (; *off < len; *off += n) {
		if (!mdev->budget)
			return DMOD_STREAM_MORE;
		n = min_t(u64, len - *off, DMOD_PKT_SIZE);
		if (!dmod_sgl_dma(src, *off, mdev->pkt, n, false))
			return DMOD_STREAM_SRC_FAULT;
		if (!dmod_sgl_dma(dst, *off, mdev->pkt, n, true))
			return DMOD_STREAM_DST_FAULT;
		mdev->budget--;
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

/* --- commands */

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

/*
 * Fetch a page list of @n entries into the device's own table: the root
 * list at @root, then each leaf page it names.
 */
static u16 dmod_pbl_fetch(struct dmod_dev *mdev, dma_addr_t root, u64 n,
			  dma_addr_t **out)
{
	u64 leaves = DIV_ROUND_UP(n, DEMO_PBL_PER_LEAF), i, j, k = 0, cnt;
	u16 status = DEMO_CMD_NO_RESOURCES;
	__le64 *rootl, *leaf;
	dma_addr_t *pages;

	pages = kvcalloc(n, sizeof(*pages), GFP_KERNEL);
	rootl = kcalloc(leaves, sizeof(*rootl), GFP_KERNEL);
	leaf = kmalloc(DEMO_PBL_LEAF_SIZE, GFP_KERNEL);
	if (!pages || !rootl || !leaf)
		goto out;
	status = DEMO_CMD_DMA_FAULT;
	if (!dmod_dma(mdev, root, rootl, leaves * sizeof(*rootl), false))
		goto out;
	for (i = 0; i < leaves; i++) {
		cnt = min_t(u64, n - k, DEMO_PBL_PER_LEAF);
		if (!dmod_dma(mdev, le64_to_cpu(rootl[i]), leaf,
			      cnt * sizeof(*leaf), false))
			goto out;
		for (j = 0; j < cnt; j++)
			pages[k++] = le64_to_cpu(leaf[j]);
	}
	status = DEMO_CMD_OK;
	*out = pages;
	pages = NULL;
out:
	kfree(leaf);
	kfree(rootl);
	kvfree(pages);
	return status;
}

/*
 * Load a translation (mode, addr, page_shift of @cmd) into @mr, whose iova
 * and length are set. The device fetches a page list into its own tables.
 */
static u16 dmod_mr_load(struct dmod_dev *mdev, struct dmod_mr *mr,
			struct demo_cmd *cmd)
{
	u32 mode = le32_to_cpu(cmd->mr.mode);
	u32 shift = le32_to_cpu(cmd->mr.page_shift);
	dma_addr_t *pages = NULL;
	u64 pgsz, n;
	u16 status;

	if (mode > DEMO_MR_NONE ||
	    (mode == DEMO_MR_PBL && (shift < PAGE_SHIFT || shift > 40)))
		return DEMO_CMD_BAD_PARAM;
	if (mode == DEMO_MR_PBL) {
		pgsz = 1ULL << shift;
		n = (ALIGN(mr->iova + mr->length, pgsz) -
		     ALIGN_DOWN(mr->iova, pgsz)) >> shift;
		if (!n || n > DEMO_HW_MAX_PBL)
			return DEMO_CMD_BAD_PARAM;
		status = dmod_pbl_fetch(mdev, le64_to_cpu(cmd->mr.addr), n,
					&pages);
		if (status)
			return status;
	}
	kvfree(mr->pages);
	mr->pages = pages;
	mr->mode = mode;
	mr->addr = le64_to_cpu(cmd->mr.addr);
	mr->page_shift = mode == DEMO_MR_PBL ? shift : 0;
	mr->state = mode == DEMO_MR_NONE ? DMOD_MR_MISSING : DMOD_MR_VALID;
	mr->miss_reported = false;
	return DEMO_CMD_OK;
}

static u16 dmod_create_mr(struct dmod_dev *mdev, struct demo_cmd *cmd)
{
	u32 flags = le32_to_cpu(cmd->mr.flags);
	struct dmod_mr *mr;
	u16 status;
	u32 idx;

	if ((flags & ~DEMO_MR_F_FAULT) ||
	    (le32_to_cpu(cmd->mr.mode) == DEMO_MR_NONE &&
	     !(flags & DEMO_MR_F_FAULT)) ||
	    (le32_to_cpu(cmd->mr.mode) == DEMO_MR_DMA && flags))
		return DEMO_CMD_BAD_PARAM;
	mr = kzalloc_obj(*mr);
	if (!mr)
		return DEMO_CMD_NO_RESOURCES;
	mr->pdn = le32_to_cpu(cmd->mr.pdn);
	mr->access = le32_to_cpu(cmd->mr.access);
	mr->flags = flags;
	mr->iova = le64_to_cpu(cmd->mr.iova);
	mr->length = le64_to_cpu(cmd->mr.length);
	status = dmod_mr_load(mdev, mr, cmd);
	if (status) {
		kfree(mr);
		return status;
	}
	if (xa_alloc(&mdev->mrs, &idx, mr, XA_LIMIT(1, DEMO_HW_MAX_MR),
		     GFP_KERNEL)) {
		kvfree(mr->pages);
		kfree(mr);
		return DEMO_CMD_NO_RESOURCES;
	}
	/* The low byte changes on every reuse, so stale keys miss. */
	mr->key = idx << 8 | (++mdev->mr_tag & 0xff);
	cmd->mr.key = cpu_to_le32(mr->key);
	return DEMO_CMD_OK;
}

static u16 dmod_destroy_mr(struct dmod_dev *mdev, struct demo_cmd *cmd)
{
	u32 key = le32_to_cpu(cmd->mr.key);
	struct dmod_mr *mr = xa_load(&mdev->mrs, key >> 8);

	if (!mr || mr->key != key)
		return DEMO_CMD_BAD_PARAM;
	xa_erase(&mdev->mrs, key >> 8);
	kvfree(mr->pages);
	kfree(mr);
	return DEMO_CMD_OK;
}

static struct dmod_mr *dmod_mr_by_key(struct dmod_dev *mdev, u32 key)
{
	struct dmod_mr *mr = xa_load(&mdev->mrs, key >> 8);

	if (!mr || mr->key != key || mr->mode == DEMO_MR_DMA)
		return NULL;
	return mr;
}

/*
 * Commands run under the device's lock, which every access to the device's
 * MRs holds, also a peer's: once INVALIDATE_MR completes, no access
 * through the old translation is in flight or can start.
 */
static u16 dmod_invalidate_mr(struct dmod_dev *mdev, struct demo_cmd *cmd)
{
	struct dmod_mr *mr = dmod_mr_by_key(mdev, le32_to_cpu(cmd->mr.key));
	u32 flags = le32_to_cpu(cmd->mr.flags);

	if (!mr || (flags & ~DEMO_MR_F_FAULT) ||
	    ((flags & DEMO_MR_F_FAULT) && !(mr->flags & DEMO_MR_F_FAULT)))
		return DEMO_CMD_BAD_PARAM;
	if (mr->state == DMOD_MR_REVOKED)
		return DEMO_CMD_BAD_STATE;
	kvfree(mr->pages);
	mr->pages = NULL;
	mr->mode = DEMO_MR_NONE;
	mr->addr = 0;
	mr->state = flags & DEMO_MR_F_FAULT ? DMOD_MR_MISSING : DMOD_MR_REVOKED;
	mr->miss_reported = false;
	return DEMO_CMD_OK;
}

static u16 dmod_update_mr(struct dmod_dev *mdev, struct demo_cmd *cmd)
{
	struct dmod_mr *mr = dmod_mr_by_key(mdev, le32_to_cpu(cmd->mr.key));
	u32 mode = le32_to_cpu(cmd->mr.mode);

	if (!mr || !(mr->flags & DEMO_MR_F_FAULT) ||
	    (mode != DEMO_MR_RANGE && mode != DEMO_MR_PBL))
		return DEMO_CMD_BAD_PARAM;
	if (mr->state == DMOD_MR_REVOKED)
		return DEMO_CMD_BAD_STATE;
	/* Work held on the miss runs again at its next retry. */
	return dmod_mr_load(mdev, mr, cmd);
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

static void dmod_process_cmds(struct dmod_dev *mdev)
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

/*
 * One pass of the device's work: the commands first, then the doorbelled
 * QPs in turn until the pass's budget of packets is spent. What is left
 * waits for the next pass, queued at once, which serves commands first
 * again; meanwhile the other HCAs get their turn.
 */
static void dmod_work(struct work_struct *work)
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

/*
 * --- the test port
 *
 * Silicon has debug access to its own view of memory; the model offers
 * the same through debugfs, for tests only. It lets a test see what the
 * device can reach, independently of any driver data path:
 *
 *   mrs      the MR table: key, PD, access, mode, iova, length, device
 *            address, page shift, translation entries
 *   mr_key   the MR that mr_mem goes through
 *   mr_mem   pread/pwrite at file offset = MR virtual address: the device
 *            moves the bytes through the MR's translation. No such key:
 *            ENOENT; a write without local write access: EACCES; outside
 *            the MR: ERANGE (both count as protection errors); a DMA fault:
 *            EIO (counted as a DMA fault); a revoked MR: EACCES. A miss on
 *            a fault-capable MR is reported as on the data path, and the
 *            access waits up to DMOD_PORT_MISS_MS for the translation
 *            (then ETIMEDOUT).
 *   dma_mem  pread at file offset = device address, behind a translating
 *            IOMMU only (EOPNOTSUPP otherwise): EIO where the IOMMU maps
 *            nothing.
 *   link     the port's cable: write 0 to pull it, 1 to plug it in.
 */
#define DMOD_PORT_MAX	SZ_1M
#define DMOD_PORT_MISS_MS	5000

static int dmod_mrs_show(struct seq_file *m, void *unused)
{
	struct dmod_dev *mdev = m->private;
	struct dmod_mr *mr;
	unsigned long i;

	mutex_lock(&mdev->lock);
	xa_for_each(&mdev->mrs, i, mr) {
		u64 n = 1;

		if (mr->mode == DEMO_MR_PBL)
			n = (ALIGN(mr->iova + mr->length, 1ULL << mr->page_shift) -
			     ALIGN_DOWN(mr->iova, 1ULL << mr->page_shift)) >>
			    mr->page_shift;
		if (mr->mode == DEMO_MR_NONE)
			n = 0;
		seq_printf(m, "key 0x%x pd %u access 0x%x mode %s iova 0x%llx length %llu addr 0x%llx page_shift %u entries %llu state %s\n",
			   mr->key, mr->pdn, mr->access,
			   mr->mode == DEMO_MR_DMA ? "dma" :
			   mr->mode == DEMO_MR_RANGE ? "range" :
			   mr->mode == DEMO_MR_PBL ? "pbl" : "none",
			   mr->iova, mr->length, mr->addr,
			   mr->mode == DEMO_MR_PBL ? mr->page_shift : 0,
			   mr->mode == DEMO_MR_DMA ? 0 : n,
			   mr->state == DMOD_MR_VALID ? "valid" :
			   mr->state == DMOD_MR_MISSING ? "missing" : "revoked");
	}
	mutex_unlock(&mdev->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dmod_mrs);

static ssize_t dmod_port_mr(struct dmod_dev *mdev, void *buf, size_t len,
			    loff_t pos, bool to_mr)
{
	struct dmod_mr *mr;
	ssize_t ret = len;

	mutex_lock(&mdev->lock);
	mr = xa_load(&mdev->mrs, mdev->port_key >> 8);
	if (!dmod_running(mdev)) {
		ret = -EIO;
	} else if (!mr || mr->key != mdev->port_key) {
		ret = -ENOENT;
	} else if (mr->mode == DEMO_MR_DMA) {
		ret = -EOPNOTSUPP;	/* no bounds to check */
	} else if (mr->state == DMOD_MR_REVOKED) {
		mdev->cnt[DEMO_CNT_PROT_ERRORS]++;
		ret = -EACCES;
	} else if (dmod_mr_missing(mdev, mr->key, mr->pdn, 0)) {
		ret = -EAGAIN;
	} else if (to_mr && !(mr->access & DEMO_ACCESS_LOCAL_WRITE)) {
		mdev->cnt[DEMO_CNT_PROT_ERRORS]++;
		ret = -EACCES;
	} else if (!dmod_mr_check(mdev, mr->key, mr->pdn, pos, len, 0)) {
		mdev->cnt[DEMO_CNT_PROT_ERRORS]++;
		ret = -ERANGE;
	} else if (!dmod_mr_dma(mdev, mr, pos, buf, len, to_mr)) {
		ret = -EIO;
	}
	mutex_unlock(&mdev->lock);
	return ret;
}

/* As the data path holds work on a miss, the port waits for the driver. */
static ssize_t dmod_port_mr_wait(struct dmod_dev *mdev, void *buf, size_t len,
				 loff_t pos, bool to_mr)
{
	unsigned long end = jiffies + msecs_to_jiffies(DMOD_PORT_MISS_MS);
	ssize_t ret;

	while ((ret = dmod_port_mr(mdev, buf, len, pos, to_mr)) == -EAGAIN) {
		if (time_after(jiffies, end))
			return -ETIMEDOUT;
		if (msleep_interruptible(1))
			return -EINTR;
	}
	return ret;
}

static ssize_t dmod_mr_mem_read(struct file *f, char __user *ubuf,
				size_t len, loff_t *ppos)
{
	struct dmod_dev *mdev = f->private_data;
	ssize_t ret;
	void *buf;

	len = min_t(size_t, len, DMOD_PORT_MAX);
	buf = kvmalloc(len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	ret = dmod_port_mr_wait(mdev, buf, len, *ppos, false);
	if (ret > 0 && copy_to_user(ubuf, buf, ret))
		ret = -EFAULT;
	if (ret > 0)
		*ppos += ret;
	kvfree(buf);
	return ret;
}

static ssize_t dmod_mr_mem_write(struct file *f, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	struct dmod_dev *mdev = f->private_data;
	ssize_t ret;
	void *buf;

	len = min_t(size_t, len, DMOD_PORT_MAX);
	buf = vmemdup_user(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ret = dmod_port_mr_wait(mdev, buf, len, *ppos, true);
	if (ret > 0)
		*ppos += ret;
	kvfree(buf);
	return ret;
}

static const struct file_operations dmod_mr_mem_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = dmod_mr_mem_read,
	.write = dmod_mr_mem_write,
	.llseek = default_llseek,
};

static ssize_t dmod_dma_mem_read(struct file *f, char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	struct dmod_dev *mdev = f->private_data;
	struct iommu_domain *dom = iommu_get_domain_for_dev(mdev->dma_dev);
	ssize_t ret = 0;
	void *buf;

	if (!dom || dom->type == IOMMU_DOMAIN_IDENTITY)
		return -EOPNOTSUPP;
	len = min_t(size_t, len, DMOD_PORT_MAX);
	buf = kvmalloc(len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	mutex_lock(&mdev->lock);
	if (!dmod_dma(mdev, *ppos, buf, len, false))
		ret = -EIO;
	mutex_unlock(&mdev->lock);
	if (!ret && copy_to_user(ubuf, buf, len))
		ret = -EFAULT;
	if (!ret) {
		*ppos += len;
		ret = len;
	}
	kvfree(buf);
	return ret;
}

static const struct file_operations dmod_dma_mem_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = dmod_dma_mem_read,
	.llseek = default_llseek,
};

static int dmod_link_get(void *data, u64 *val)
{
	struct dmod_dev *mdev = data;

	*val = READ_ONCE(mdev->link_up);
	return 0;
}

static int dmod_link_set(void *data, u64 val)
{
	if (val > 1)
		return -EINVAL;
	dmod_cable(data, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dmod_link_fops, dmod_link_get, dmod_link_set, "%llu\n");

/* Take the next @val commands off the ring and never complete them. */
static int dmod_drop_cmds_set(void *data, u64 val)
{
	struct dmod_dev *mdev = data;

	if (val > U32_MAX)
		return -EINVAL;
	mutex_lock(&mdev->lock);
	mdev->drop_cmds = val;
	mutex_unlock(&mdev->lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dmod_drop_cmds_fops, NULL, dmod_drop_cmds_set,
			 "%llu\n");

/**
 * dmod_fail - make the device fail
 * @mdev: the device
 *
 * What a fault in the silicon does, for tests: the device reports a fatal
 * error and stops.
 */
void dmod_fail(struct dmod_dev *mdev)
{
	mutex_lock(&mdev->lock);
	/*
	 * The status first, as silicon sets it before it interrupts: the
	 * event's handler may run at once and read it.
	 */
	WRITE_ONCE(mdev->status, mdev->status | DEMO_STATUS_FATAL);
	if (READ_ONCE(mdev->ctrl) & DEMO_CTRL_ENABLE)
		__dmod_post_event(mdev, DEMO_EQE_FATAL, 0, 0);
	mutex_unlock(&mdev->lock);
}

static int dmod_fatal_set(void *data, u64 val)
{
	if (val != 1)
		return -EINVAL;
	dmod_fail(data);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dmod_fatal_fops, NULL, dmod_fatal_set, "%llu\n");

static void dmod_debugfs_add(struct dmod_dev *mdev)
{
	mdev->debugfs = debugfs_create_dir(dev_name(mdev->dma_dev),
					   dmod_debugfs);
	debugfs_create_file("mrs", 0400, mdev->debugfs, mdev, &dmod_mrs_fops);
	debugfs_create_x32("mr_key", 0600, mdev->debugfs, &mdev->port_key);
	debugfs_create_file("mr_mem", 0600, mdev->debugfs, mdev,
			    &dmod_mr_mem_fops);
	debugfs_create_file("dma_mem", 0400, mdev->debugfs, mdev,
			    &dmod_dma_mem_fops);
	debugfs_create_file_unsafe("link", 0600, mdev->debugfs, mdev,
				   &dmod_link_fops);
	debugfs_create_file_unsafe("drop_cmds", 0200, mdev->debugfs, mdev,
				   &dmod_drop_cmds_fops);
	debugfs_create_file_unsafe("fatal", 0200, mdev->debugfs, mdev,
				   &dmod_fatal_fops);
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
