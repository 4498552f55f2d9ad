/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Demo RDMA HCA device model: what its parts share. The driver never
 * includes this; it sees the model through demo_model.h and
 * demo_hw_defs.h only.
 */
#ifndef _DMOD_H_
#define _DMOD_H_

#include <linux/irq_work.h>
#include <linux/workqueue.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include "demo_hw_defs.h"
#include "demo_model.h"

struct iommu_domain;

#define DMOD_RNR_DELAY_MS	1
/*
 * Packets the device moves in one pass of its work, 1 MiB: then it drops
 * its lock, so that a peer's traffic through it gets a turn, and serves
 * its own commands again before it goes on, so no QP's traffic holds up
 * commands for long.
 */
#define DMOD_PASS_PKTS		256
#define DMOD_RNR_INFINITE	7
/*
 * Cut-through packets the device translates before it moves them, one copy
 * per physically contiguous run: 64 KiB. A burst's runs on one side fit
 * its packets' worst case, one page more than their SGEs each; a burst
 * that needs more goes through the packet buffer.
 */
#define DMOD_BURST_PKTS		16
#define DMOD_PKT_PIECES		(2 * DEMO_HW_MAX_SGE + 2)

/* Host memory a burst of packets reaches on one side: physical runs */
struct dmod_pieces {
	u32 n;
	struct {
		phys_addr_t phys;
		u32 len;
	} p[DMOD_BURST_PKTS * DMOD_PKT_PIECES];
};

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

	spinlock_t db_lock;	/* doorbells: db_list, QPs' sq_pi, rq_pi */
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
	bool store_forward;	/* test port: every packet through pkt[] */
	struct dmod_pieces burst[2];	/* source and destination runs */
	u8 pkt[DMOD_PKT_SIZE];	/* the packet buffer, for peer memory */
};

extern struct xarray dmod_ports;
extern struct workqueue_struct *dmod_wq;
extern struct dentry *dmod_debugfs;

/* events (demo_model.c) */
bool dmod_post_entry(struct dmod_dev *mdev, dma_addr_t addr,
		     void *entry, size_t len, u8 *owner);
bool dmod_running(struct dmod_dev *mdev);
void __dmod_post_event(struct dmod_dev *mdev, u16 type, u32 param,
		       u64 info);
void dmod_post_event(struct dmod_dev *mdev, u16 type, u32 param,
		     u64 info);

/* host memory (dmod_dma.c) */
/* memory sections a DMA engine found to be RAM in a pass (dmod_dma.c) */
struct dmod_ram {
	unsigned long sec[16];	/* section number + 1, or 0 */
};

struct iommu_domain *dmod_dma_domain(struct dmod_dev *mdev);
bool dmod_dma_ram(struct dmod_dev *mdev, struct iommu_domain *dom,
		  struct dmod_ram *ram, dma_addr_t addr, phys_addr_t *phys);
bool dmod_dma(struct dmod_dev *mdev, dma_addr_t addr, void *buf,
	      size_t len, bool to_host);

/* translation tables (dmod_mr.c) */
struct dmod_mr *dmod_mr_check(struct dmod_dev *mdev, u32 key, u32 pdn,
			      u64 va, u64 len, u32 access);
dma_addr_t dmod_mr_addr(struct dmod_mr *mr, u64 va, u64 *contig);
bool dmod_mr_dma(struct dmod_dev *mdev, struct dmod_mr *mr, u64 va,
		 void *buf, u64 len, bool to_mr);
bool dmod_mr_missing(struct dmod_dev *mdev, u32 key, u32 pdn,
		     u32 access);
u16 dmod_create_mr(struct dmod_dev *mdev, struct demo_cmd *cmd);
u16 dmod_destroy_mr(struct dmod_dev *mdev, struct demo_cmd *cmd);
u16 dmod_invalidate_mr(struct dmod_dev *mdev, struct demo_cmd *cmd);
u16 dmod_update_mr(struct dmod_dev *mdev, struct demo_cmd *cmd);

/* commands (dmod_cmd.c) */
void dmod_process_cmds(struct dmod_dev *mdev);

/* the data engine (dmod_engine.c) */
void dmod_flush(struct dmod_qp *qp);
void dmod_work(struct work_struct *work);

/* the test port (dmod_port.c) */
void dmod_debugfs_add(struct dmod_dev *mdev);

#endif /* _DMOD_H_ */
