/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * Demo RDMA HCA: the driver-specific part of the uverbs ABI.
 *
 * The device's queue formats (WQEs, CQEs, doorbell records) are hardware
 * facts, not kernel ABI: a provider keeps its own copy, as for any HCA.
 *
 * Userspace maps each CQ and QP with mmap() on the uverbs file at the
 * offset the create response gives. The mapping holds the rings and a
 * doorbell record. The device reads the producer indices of a QP from its
 * record, and the consumer index of a CQ from its record.
 *
 * Doorbells: a real HCA gives userspace a page of its register window to
 * write doorbells into. The demo device is a model inside the kernel, and
 * a model cannot trap a store to memory, so userspace stores the index in
 * the doorbell record and then tells the device with a system call:
 * IB_USER_VERBS_CMD_POST_SEND with no work requests. Receive queues need
 * no call: the device reads the record when it needs a receive WQE.
 */
#ifndef DEMO_ABI_USER_H
#define DEMO_ABI_USER_H

#include <linux/types.h>

#define DEMO_ABI_VERSION 1

struct demo_alloc_ucontext_resp {
	__u32 comp_mask;
	__u32 max_wqe;		/* entries per send or receive queue */
	__u32 max_cqe;
	__u16 wqe_size;		/* bytes per WQE */
	__u16 cqe_size;		/* bytes per CQE */
};

struct demo_create_cq {
	__u32 comp_mask;	/* must be 0 */
	__u32 reserved;		/* must be 0 */
};

struct demo_create_cq_resp {
	__aligned_u64 mmap_offset;
	__u32 comp_mask;
	__u32 cqn;
	__u32 depth;		/* CQEs in the ring */
	__u32 mmap_size;	/* bytes to map */
	__u32 dbr_offset;	/* struct demo_cq_dbr, in the mapping */
	__u32 reserved;
};

struct demo_create_qp {
	__u32 comp_mask;	/* must be 0 */
	__u32 reserved;		/* must be 0 */
};

struct demo_create_qp_resp {
	__aligned_u64 mmap_offset;
	__u32 comp_mask;
	__u32 sq_depth;		/* WQEs in the send ring */
	__u32 rq_depth;		/* WQEs in the receive ring */
	__u32 mmap_size;	/* bytes to map */
	__u32 sq_offset;	/* send ring, in the mapping */
	__u32 rq_offset;	/* receive ring, in the mapping */
	__u32 dbr_offset;	/* struct demo_qp_dbr, in the mapping */
	__u32 reserved;
};

#endif /* DEMO_ABI_USER_H */
