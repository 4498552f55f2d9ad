/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Demo RDMA HCA driver: driver-side objects.
 */
#ifndef _DEMO_H_
#define _DEMO_H_

#include <linux/completion.h>
#include <linux/mutex.h>
#include <linux/xarray.h>
#include <rdma/ib_verbs.h>

#include "demo_hw_defs.h"
#include "demo_model.h"

#define DEMO_PORT		1
#define DEMO_MAX_PD		1024
/* RDMA READs a QP may have outstanding; the device runs one at a time */
#define DEMO_MAX_RD_ATOM	16
#define DEMO_PKEY_DEFAULT	0xffff

struct demo_dev;

/**
 * typedef demo_event_fn - hands one type of device event to its owner
 * @dev: the HCA
 * @param: the event's parameter: a CQ or QP number, an MR key, ...
 *
 * Context: hard interrupt context, from the event queue's interrupt.
 */
typedef void (*demo_event_fn)(struct demo_dev *dev, u32 param);

/**
 * struct demo_dev - one demo HCA
 * @ibdev: the RDMA core device, first so container_of() is free
 * @dma_dev: the device the HCA does DMA through: a PCI function, or a
 *	platform device with no IOMMU
 * @index: instance number, used for deterministic GUIDs and LIDs
 * @pd_xa: allocated protection domain numbers
 * @hw: the device behind the register window
 * @attr: limits the device reported at probe
 * @cmd_lock: serialises commands
 * @cmd_done: signalled by the CMD_DONE event
 * @cmd_dead: the device failed (a command timed out, or it reported a
 *	fatal error) and was reset: it does no DMA any more, and commands
 *	that release device state succeed in software
 * @fatal_work: resets the device after a fatal error event
 * @flush_work: once the device was reset, tells the consumers of its
 *	kernel CQs to poll, where the driver completes what the device will
 *	not (see demo_flush_work())
 * @cmdq: command ring (coherent DMA memory)
 * @cmdq_dma: device address of @cmdq
 * @cmdq_pi: commands posted
 * @eq: event ring (coherent DMA memory)
 * @eq_dma: device address of @eq
 * @eq_ci: events consumed
 * @events: the handler of each event type the command layer does not
 *	handle itself, by type (see demo_hw_init())
 * @cq_xa: CQs by device CQ number, for completion events
 * @qp_xa: QPs by QP number, for completions and QP events
 * @link_up: port state, from port change events
 * @mr_backend: how user MRs are mapped (enum demo_mr_backend)
 * @mr_xlate: which translations MRs may get (enum demo_mr_xlate)
 * @dmabuf_import: how dma-buf MRs are imported (enum demo_dmabuf_import)
 * @dmabuf_mrs: dynamic dma-buf MRs by key index, for translation misses
 * @miss_work: resolves translation misses in process context
 * @debugfs: per-device debugfs directory
 */
struct demo_dev {
	struct ib_device ibdev;
	struct device *dma_dev;
	u32 index;
	struct xarray pd_xa;

	struct dmod_dev *hw;
	struct demo_device_attr attr;
	struct mutex cmd_lock;		/* one command at a time */
	struct completion cmd_done;
	bool cmd_dead;
	struct work_struct fatal_work;
	struct work_struct flush_work;
	struct demo_cmd *cmdq;
	dma_addr_t cmdq_dma;
	u32 cmdq_pi;
	struct demo_eqe *eq;
	dma_addr_t eq_dma;
	u32 eq_ci;
	const demo_event_fn *events;
	struct xarray cq_xa;
	struct xarray qp_xa;
	int mr_backend;
	int mr_xlate;
	int dmabuf_import;
	struct xarray dmabuf_mrs;
	struct work_struct miss_work;
	struct dentry *debugfs;
	bool link_up;
};

struct demo_ucontext {
	struct ib_ucontext ibucontext;
};

/**
 * struct demo_uq - queue memory shared with userspace (demo_uq.c)
 * @entry: the mmap entry; it owns the pages
 * @cpu: kernel address of the pages
 * @size: bytes, a multiple of PAGE_SIZE
 * @dma: device address of the pages
 */
struct demo_uq {
	struct rdma_user_mmap_entry entry;
	void *cpu;
	size_t size;
	dma_addr_t dma;
};

struct demo_pd {
	struct ib_pd ibpd;
	u32 pdn;
};

/**
 * struct demo_cq - a completion queue
 * @ibcq: core object
 * @cqn: device CQ number
 * @lock: serialises polling
 * @ring: CQE ring in coherent DMA memory
 * @ring_dma: device address of @ring
 * @depth: entries in the ring (a power of two)
 * @ci: CQEs consumed
 * @uq: for a user CQ, the ring and the doorbell record; @ring is unused
 */
struct demo_cq {
	struct ib_cq ibcq;
	u32 cqn;
	spinlock_t lock;		/* pollers */
	struct demo_cqe *ring;
	dma_addr_t ring_dma;
	u32 depth;
	u16 ci;
	struct demo_uq *uq;
};

/**
 * struct demo_wq - the driver's side of a send or receive queue
 * @ring: WQE ring in coherent DMA memory
 * @dma: device address of @ring
 * @wr_id: the caller's wr_id of each slot
 * @depth: slots (a power of two)
 * @pi: WQEs posted
 * @ci: WQEs known completed
 */
struct demo_wq {
	struct demo_wqe *ring;
	dma_addr_t dma;
	u64 *wr_id;
	u32 depth;
	u16 pi;
	u16 ci;
};

/**
 * struct demo_qp - an RC queue pair
 * @ibqp: core object
 * @lock: serialises posting and the shadow state
 * @state: the state the driver last moved the QP to
 * @sq: send queue
 * @rq: receive queue
 * @sq_sig_all: every send WQE generates a completion
 * @attr: the attributes last set, for query_qp
 * @uq: for a user QP, its rings and doorbell record; @sq and @rq then hold
 *	only the depths
 */
struct demo_qp {
	struct ib_qp ibqp;
	spinlock_t lock;		/* posters, shadow state */
	enum ib_qp_state state;
	struct demo_wq sq, rq;
	bool sq_sig_all;
	struct ib_qp_attr attr;
	struct demo_uq *uq;
};

/* How user MRs are pinned and mapped; debugfs "mr_backend". */
enum demo_mr_backend {
	DEMO_MR_BACKEND_UMEM,	/* ib_umem: the DMA range API path */
	DEMO_MR_BACKEND_SGL,	/* its scatterlist path, for comparison */
};

/* Translations MRs may get; debugfs "mr_translation". */
enum demo_mr_xlate {
	DEMO_MR_XLATE_AUTO,	/* one range when contiguous, else a page list */
	DEMO_MR_XLATE_PBL,	/* page lists only, like MTT-only hardware */
};

/**
 * struct demo_umem - user memory and what the device is told about it
 * @umem: pinned and mapped by ib_umem_get_va()
 * @dmabuf: or imported from a dma-buf, mapped by its exporter
 * @mode: DEMO_MR_RANGE or DEMO_MR_PBL (DEMO_MR_NONE: a dma-buf unmapped)
 * @addr: the device range, or the device address of the page list's root
 * @page_shift: page list block size
 * @entries: translation entries the device holds for the MR
 * @pbl: the page list's leaf pages, until the device has copied them
 * @pbl_leaves: leaf pages allocated
 * @pbl_root: the root list: device addresses of the leaf pages
 * @pbl_root_dma: device address of @pbl_root, given to the device
 * @pbl_root_size: size of @pbl_root in bytes
 */
struct demo_umem {
	struct ib_umem *umem;
	struct ib_umem_dmabuf *dmabuf;
	u32 mode;
	dma_addr_t addr;
	u32 page_shift;
	u64 entries;
	__le64 **pbl;
	u32 pbl_leaves;
	__le64 *pbl_root;
	dma_addr_t pbl_root_dma;
	size_t pbl_root_size;
};

/* How dma-buf MRs are imported; debugfs "dmabuf_import". */
enum demo_dmabuf_import {
	DEMO_DMABUF_DYNAMIC,	/* invalidate_mappings; the device re-faults */
	DEMO_DMABUF_REVOCABLE,	/* pinned, revoked for good by the exporter */
};

/**
 * struct demo_mr - a memory region the device translates
 * @ibmr: core object; lkey == rkey == the device key
 * @umem: user memory behind a user MR
 * @dynamic: a dma-buf MR imported with invalidate_mappings
 * @miss: the device reported a translation miss (dynamic dma-buf MRs)
 * @rcu: dma-buf MRs are freed after a grace period
 */
struct demo_mr {
	struct ib_mr ibmr;
	struct demo_umem umem;
	bool dynamic;
	unsigned long miss;
	struct rcu_head rcu;
};

static inline struct demo_dev *to_demo_dev(struct ib_device *ibdev)
{
	return container_of(ibdev, struct demo_dev, ibdev);
}

static inline struct demo_pd *to_demo_pd(struct ib_pd *ibpd)
{
	return container_of(ibpd, struct demo_pd, ibpd);
}

static inline struct demo_cq *to_demo_cq(struct ib_cq *ibcq)
{
	return container_of(ibcq, struct demo_cq, ibcq);
}

static inline struct demo_qp *to_demo_qp(struct ib_qp *ibqp)
{
	return container_of(ibqp, struct demo_qp, ibqp);
}

static inline struct demo_mr *to_demo_mr(struct ib_mr *ibmr)
{
	return container_of(ibmr, struct demo_mr, ibmr);
}

/* demo_bench.c */
#if IS_ENABLED(CONFIG_INFINIBAND_DEMO_BENCH)
int demo_bench_init(struct dentry *parent);
void demo_bench_exit(void);
#else
static inline int demo_bench_init(struct dentry *parent) { return 0; }
static inline void demo_bench_exit(void) { }
#endif

/* demo_cmd.c */
int demo_cmd_exec(struct demo_dev *dev, struct demo_cmd *cmd);
int demo_hw_init(struct demo_dev *dev, const demo_event_fn *events);
void demo_hw_fini(struct demo_dev *dev);

/* demo_mem.c */
int demo_umem_get(struct demo_dev *dev, struct demo_umem *m, u64 start,
		  u64 length, u64 virt, int access);
void demo_umem_put_pbl(struct demo_dev *dev, struct demo_umem *m);
void demo_umem_put(struct demo_dev *dev, struct demo_umem *m);
int demo_umem_dmabuf_map(struct demo_dev *dev, struct demo_umem *m, u64 virt);
void demo_umem_dmabuf_unmap(struct demo_dev *dev, struct demo_umem *m);

/* demo_dmabuf.c */
struct ib_mr *demo_reg_user_mr_dmabuf(struct ib_pd *ibpd, u64 offset,
				      u64 length, u64 virt_addr, int fd,
				      int access, struct ib_dmah *dmah,
				      struct uverbs_attr_bundle *attrs);
int demo_dereg_dmabuf_mr(struct demo_mr *mr);
void demo_dmabuf_init(struct demo_dev *dev);
void demo_dmabuf_fini(struct demo_dev *dev);
void demo_dmabuf_miss(struct demo_dev *dev, u32 key);

/* demo_main.c */
struct demo_dev *demo_pdev_create(void);
void demo_pdev_remove(struct demo_dev *dev);
struct demo_dev *demo_pci_get_any(void);

/* demo_uq.c */
struct demo_uq *demo_uq_alloc(struct demo_dev *dev, struct ib_ucontext *uctx,
			      size_t size);
void demo_uq_free(struct demo_dev *dev, struct demo_uq *uq);
int demo_mmap(struct ib_ucontext *uctx, struct vm_area_struct *vma);
void demo_mmap_free(struct rdma_user_mmap_entry *entry);

/* demo_verbs.c */
#define DEMO_MR_ACCESS_SUPPORTED					\
	(IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE |		\
	 IB_ACCESS_REMOTE_READ | IB_ACCESS_RELAXED_ORDERING)

u32 demo_access(int access);
struct ib_mr *demo_create_mr(struct ib_pd *ibpd, struct demo_cmd *cmd,
			     struct demo_mr *mr);
int demo_destroy_mr(struct demo_dev *dev, u32 key);
int demo_check_user_mr(struct demo_dev *dev, struct ib_udata *udata,
		       struct ib_dmah *dmah, int access, u64 length);
struct ib_mr *demo_create_umem_mr(struct ib_pd *ibpd, struct demo_cmd *cmd,
				  struct demo_mr *mr);
int demo_query_device(struct ib_device *ibdev, struct ib_device_attr *attr,
		      struct ib_udata *udata);
int demo_query_port(struct ib_device *ibdev, u32 port,
		    struct ib_port_attr *attr);
int demo_get_port_immutable(struct ib_device *ibdev, u32 port,
			    struct ib_port_immutable *immutable);
int demo_query_gid(struct ib_device *ibdev, u32 port, int index,
		   union ib_gid *gid);
int demo_query_pkey(struct ib_device *ibdev, u32 port, u16 index, u16 *pkey);
int demo_alloc_ucontext(struct ib_ucontext *uctx, struct ib_udata *udata);
void demo_dealloc_ucontext(struct ib_ucontext *uctx);
void demo_disassociate_ucontext(struct ib_ucontext *uctx);
int demo_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata);
int demo_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata);
int demo_create_cq(struct ib_cq *ibcq, const struct ib_cq_init_attr *attr,
		   struct uverbs_attr_bundle *attrs);
int demo_create_user_cq(struct ib_cq *ibcq, const struct ib_cq_init_attr *attr,
			struct uverbs_attr_bundle *attrs);
int demo_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata);
void demo_cq_clean(struct demo_cq *cq, u32 qpn);
int demo_poll_cq(struct ib_cq *ibcq, int num_entries, struct ib_wc *wc);
int demo_req_notify_cq(struct ib_cq *ibcq, enum ib_cq_notify_flags flags);
struct ib_mr *demo_get_dma_mr(struct ib_pd *ibpd, int access);
struct ib_mr *demo_reg_user_mr(struct ib_pd *ibpd, u64 start, u64 length,
			       u64 virt_addr, int access,
			       struct ib_dmah *dmah, struct ib_udata *udata);
int demo_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata);
struct ib_mr *demo_reg_dma_range(struct ib_pd *ibpd, dma_addr_t addr,
				 u64 iova, u64 length, int access);
struct rdma_hw_stats *demo_alloc_hw_port_stats(struct ib_device *ibdev,
					       u32 port);
int demo_get_hw_stats(struct ib_device *ibdev, struct rdma_hw_stats *stats,
		      u32 port, int index);
void demo_port_event(struct demo_dev *dev, u32 up);
void demo_cq_event(struct demo_dev *dev, u32 cqn);
void demo_flush_work(struct work_struct *work);

/* demo_qp.c */
int demo_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *init,
		   struct ib_udata *udata);
int demo_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		   struct ib_udata *udata);
int demo_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		  struct ib_qp_init_attr *init);
int demo_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata);
int demo_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
		   const struct ib_send_wr **bad_wr);
int demo_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
		   const struct ib_recv_wr **bad_wr);
void demo_qp_complete(struct demo_qp *qp, struct demo_cqe *cqe,
		      struct ib_wc *wc);
void demo_qp_event(struct demo_dev *dev, u32 qpn);
int demo_qp_flush(struct demo_qp *qp, bool recv, struct ib_wc *wc, int n);

#endif /* _DEMO_H_ */
