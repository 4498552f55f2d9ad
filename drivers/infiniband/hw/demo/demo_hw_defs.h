/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Demo RDMA HCA: the hardware interface.
 *
 * This is the contract between the driver and the device, as a datasheet
 * would give it: registers, the command queue, the event queue and the
 * layout of queue entries in host memory. The driver and the device model
 * meet only here. All multi-byte fields are little endian; every ring
 * lives in DMA memory the driver allocated, and the device reaches it only
 * through the dma_addr_t the driver programmed.
 */
#ifndef _DEMO_HW_DEFS_H_
#define _DEMO_HW_DEFS_H_

#include <linux/bits.h>
#include <linux/types.h>

/* --- registers (32 bit, offsets in the register window) */
#define DEMO_REG_STATUS		0x00	/* RO: DEMO_STATUS_* */
#define DEMO_REG_CTRL		0x04	/* RW: DEMO_CTRL_* */
#define DEMO_REG_CMDQ_BASE_LO	0x10
#define DEMO_REG_CMDQ_BASE_HI	0x14
#define DEMO_REG_CMDQ_LOG_DEPTH	0x18
#define DEMO_REG_EQ_BASE_LO	0x20
#define DEMO_REG_EQ_BASE_HI	0x24
#define DEMO_REG_EQ_LOG_DEPTH	0x28
/* doorbells */
#define DEMO_DB_CMDQ		0x40	/* producer index */
#define DEMO_DB_EQ		0x44	/* consumer index; re-arms the interrupt */
#define DEMO_DB_SQ		0x48	/* qpn << 16 | producer index */
#define DEMO_DB_RQ		0x4c	/* qpn << 16 | producer index */
#define DEMO_DB_CQ		0x50	/* DEMO_DB_CQ_* | cqn; arms the CQ */
#define DEMO_DB_CQ_CI		0x54	/* cqn << 16 | consumer index */

/* 64-bit read-only counters */
#define DEMO_REG_CNT(i)		(0x100 + 8 * (i))
enum demo_hw_counter {
	DEMO_CNT_DMA_FAULTS,
	DEMO_CNT_PROT_ERRORS,
	DEMO_CNT_RNR_NAKS,
	DEMO_CNT_CQ_OVERRUNS,
	DEMO_CNT_TX_WQES,
	DEMO_CNT_RX_WQES,
	DEMO_CNT_TX_BYTES,
	DEMO_CNT_RX_BYTES,
	DEMO_CNT_CMDS,
	DEMO_CNT_MR_MISSES,
	DEMO_CNT_MAX,
};

#define DEMO_STATUS_READY	BIT(0)
#define DEMO_STATUS_FATAL	BIT(1)
#define DEMO_CTRL_ENABLE	BIT(0)

#define DEMO_DB_CQ_SOLICITED	BIT(31)
#define DEMO_DB_CQ_NUM		GENMASK(23, 0)
#define DEMO_DB_QPN		GENMASK(31, 16)
#define DEMO_DB_IDX		GENMASK(15, 0)

/* --- limits the device reports in QUERY_DEVICE */
#define DEMO_HW_MAX_CQ		256
#define DEMO_HW_MAX_QP		256
#define DEMO_HW_MAX_MR		4096
#define DEMO_HW_MAX_CQE		4096
#define DEMO_HW_MAX_WQE		1024
#define DEMO_HW_MAX_SGE		2
#define DEMO_HW_MAX_MSG		SZ_2G

/* --- command queue: 64-byte entries, completion written in place */
enum demo_cmd_opcode {
	DEMO_CMD_QUERY_DEVICE = 1,
	DEMO_CMD_CREATE_CQ,
	DEMO_CMD_DESTROY_CQ,
	DEMO_CMD_CREATE_QP,
	DEMO_CMD_MODIFY_QP,
	DEMO_CMD_QUERY_QP,
	DEMO_CMD_DESTROY_QP,
	DEMO_CMD_CREATE_MR,
	DEMO_CMD_DESTROY_MR,
	DEMO_CMD_SET_PORT,
	DEMO_CMD_INVALIDATE_MR,
	DEMO_CMD_UPDATE_MR,
};

enum demo_cmd_status {
	DEMO_CMD_OK = 0,
	DEMO_CMD_BAD_OPCODE,
	DEMO_CMD_BAD_PARAM,
	DEMO_CMD_NO_RESOURCES,
	DEMO_CMD_BAD_STATE,
	DEMO_CMD_BUSY,
	DEMO_CMD_DMA_FAULT,
};

/* QP states as the device knows them */
enum demo_qp_state {
	DEMO_QPS_RESET,
	DEMO_QPS_INIT,
	DEMO_QPS_RTR,
	DEMO_QPS_RTS,
	DEMO_QPS_ERR,
};

#define DEMO_ACCESS_LOCAL_WRITE		BIT(0)
#define DEMO_ACCESS_REMOTE_WRITE	BIT(1)
#define DEMO_ACCESS_REMOTE_READ		BIT(2)

/* CREATE_MR modes */
#define DEMO_MR_DMA		0	/* addresses are device addresses */
#define DEMO_MR_RANGE		1	/* one contiguous device range */
#define DEMO_MR_PBL		2	/* page list in host memory */
#define DEMO_MR_NONE		3	/* no translation yet (DEMO_MR_F_FAULT) */

/*
 * A DEMO_MR_PBL page list is two levels of host memory, so that no part of
 * it needs more than a few physically contiguous pages: the command's addr
 * is the device address of a root list of __le64 device addresses of leaf
 * pages, and each leaf of DEMO_PBL_LEAF_SIZE bytes holds the next
 * DEMO_PBL_PER_LEAF __le64 entries (the last leaf only what is left). An
 * MR has at most DEMO_HW_MAX_PBL entries: max_msg bytes of 4 KiB pages
 * from an unaligned start. Its root list is then 8 KiB and 8 bytes.
 */
#define DEMO_PBL_LEAF_SIZE	4096
#define DEMO_PBL_PER_LEAF	(DEMO_PBL_LEAF_SIZE / sizeof(__le64))
#define DEMO_HW_MAX_PBL		(DEMO_HW_MAX_MSG / 4096 + 1)

/*
 * MR flags. An MR created with DEMO_MR_F_FAULT may be without a
 * translation: the device then reports a miss with a DEMO_EQE_MR_MISS event
 * and holds the work that needs the MR (responder side: RNR NAKs that do
 * not count against the retry limit) until UPDATE_MR gives it a
 * translation or INVALIDATE_MR revokes it. Without the flag an MR always
 * has its translation until it is revoked or destroyed.
 *
 * INVALIDATE_MR ends the device's use of the MR's current translation
 * before the command completes. With DEMO_MR_F_FAULT (fault-capable MRs
 * only) the MR becomes "missing"; without it the MR is "revoked": every
 * access is a protection error until DESTROY_MR, and the key stays
 * allocated, so it cannot be reused while software may still hold it.
 * UPDATE_MR gives a missing or valid fault-capable MR a new translation
 * (mode, addr, page_shift as for CREATE_MR; iova and length do not change).
 */
#define DEMO_MR_F_FAULT		BIT(0)

struct demo_cmd {
	__le16 opcode;
	__le16 status;		/* written by the device */
	__le32 flags;		/* DEMO_CMD_F_* */
	union {
		struct {
			__le64 resp_dma;	/* struct demo_device_attr */
		} query_device;
		struct {
			__le64 ring_dma;
			__le32 log_depth;
			__le32 cqn;		/* out */
			__le64 dbr_dma;		/* struct demo_cq_dbr, or 0 */
		} create_cq;
		struct {
			__le64 sq_dma;
			__le64 rq_dma;
			__le32 log_sq_depth;
			__le32 log_rq_depth;
			__le32 send_cqn;
			__le32 recv_cqn;
			__le32 pdn;
			__le32 qpn;		/* out */
			__le64 dbr_dma;		/* struct demo_qp_dbr, or 0 */
		} create_qp;
		struct {
			__le32 qpn;
			__le32 mask;		/* DEMO_QP_ATTR_* */
			__le32 state;
			__le32 access;
			__le32 dest_lid;
			__le32 dest_qpn;
			__le32 rnr_retry;
			__le32 cur_state;	/* out, also for QUERY_QP */
		} qp;
		struct {
			__le64 iova;
			__le64 length;
			__le64 addr;		/* range start, or the page list */
			__le32 pdn;
			__le32 access;
			__le32 mode;		/* DEMO_MR_* */
			__le32 page_shift;	/* DEMO_MR_PBL */
			__le32 key;		/* out; DESTROY_MR etc.: in */
			__le32 flags;		/* DEMO_MR_F_* */
		} mr;
		struct {
			__le32 num;		/* cqn, qpn */
		} destroy;
		struct {
			__le32 link_up;
		} set_port;
		__u8 raw[56];
	};
	__le32 done;		/* written last by the device: 1 when complete */
	__le32 rsvd;
};

#define DEMO_CMD_F_INTR		BIT(0)	/* raise a CMD_DONE event */

#define DEMO_QP_ATTR_STATE	BIT(0)
#define DEMO_QP_ATTR_ACCESS	BIT(1)
#define DEMO_QP_ATTR_DEST	BIT(2)
#define DEMO_QP_ATTR_RNR_RETRY	BIT(3)

struct demo_device_attr {
	__le64 fw_ver;
	__le32 max_cq;
	__le32 max_cqe;
	__le32 max_qp;
	__le32 max_wqe;
	__le32 max_sge;
	__le32 max_mr;
	__le64 max_msg;
	__le64 page_size_cap;
};

/* --- event queue: 16-byte entries */
enum demo_eqe_type {
	DEMO_EQE_COMP = 1,		/* param: cqn */
	DEMO_EQE_CMD_DONE,		/* param: command index */
	DEMO_EQE_QP_FATAL,		/* param: qpn; a QP went to ERR */
	DEMO_EQE_PORT_CHANGE,		/* param: 1 link up, 0 down */
	DEMO_EQE_DMA_FAULT,		/* param: qpn or 0 */
	DEMO_EQE_MR_MISS,		/* param: MR key without a translation */
	DEMO_EQE_FATAL,			/* the device failed and stopped */
	DEMO_EQE_NR
};

struct demo_eqe {
	__le16 type;
	__le16 owner;		/* toggles each pass over the ring */
	__le32 param;
	__le64 info;
};

/* --- work queues: 64-byte WQEs */
enum demo_wqe_opcode {
	DEMO_WQE_SEND = 1,
	DEMO_WQE_SEND_IMM,
	DEMO_WQE_WRITE,
	DEMO_WQE_WRITE_IMM,
	DEMO_WQE_READ,
	DEMO_WQE_RECV,
};

#define DEMO_WQE_F_SIGNALED	BIT(0)
#define DEMO_WQE_F_SOLICITED	BIT(1)

struct demo_sge {
	__le64 addr;
	__le32 length;
	__le32 lkey;
};

struct demo_wqe {
	u8 opcode;
	u8 flags;
	u8 num_sge;
	u8 rsvd;
	__be32 imm;
	__le64 remote_addr;
	__le32 rkey;
	__le32 rsvd2;
	__le64 rsvd3;
	struct demo_sge sge[DEMO_HW_MAX_SGE];
};

/*
 * --- doorbell records
 *
 * A CQ or QP created with a doorbell record address keeps its software
 * indices in host memory instead of in the doorbell registers; this is how
 * software without access to the register window (userspace) drives it.
 * The device reads a QP's producer indices when DEMO_DB_SQ is written for
 * it (the index in the doorbell value is then ignored) and whenever it
 * finds the receive queue empty, and a CQ's consumer index whenever the
 * CQ looks full. An index that claims more entries than the ring holds
 * moves the QP to ERR.
 */
struct demo_qp_dbr {
	__le32 sq_pi;		/* low 16 bits used */
	__le32 rq_pi;
};

struct demo_cq_dbr {
	__le32 ci;		/* low 16 bits used */
	__le32 rsvd;
};

/* --- completion queue: 32-byte CQEs */
enum demo_cqe_status {
	DEMO_CQE_OK = 0,
	DEMO_CQE_LOC_LEN_ERR,
	DEMO_CQE_LOC_PROT_ERR,
	DEMO_CQE_REM_ACCESS_ERR,
	DEMO_CQE_REM_INV_REQ_ERR,
	DEMO_CQE_RNR_RETRY_EXC,
	DEMO_CQE_WR_FLUSH_ERR,
	DEMO_CQE_REM_OP_ERR,
	DEMO_CQE_FATAL_ERR,
	DEMO_CQE_RETRY_EXC,
};

#define DEMO_CQE_F_IMM		BIT(0)
#define DEMO_CQE_F_RECV		BIT(1)	/* from the receive queue */

struct demo_cqe {
	u8 opcode;		/* enum demo_wqe_opcode of the request */
	u8 status;
	u8 flags;
	u8 owner;		/* 1 on the first pass over the ring, then toggles */
	__le32 qpn;
	__le16 wqe_idx;
	__le16 src_lid;
	__le32 src_qpn;
	__le32 byte_len;
	__be32 imm;
	__le64 rsvd;
};

#endif /* _DEMO_HW_DEFS_H_ */
