// SPDX-License-Identifier: GPL-2.0-only
/*
 * Demo RDMA HCA device model: the translation tables.
 *
 * The MR table the device keeps: keys, protection domains, access rights
 * and the translations (one range, or a page list the device fetches
 * from host memory), with the commands that load, take away and replace
 * them. The data engine and the test port look MRs up here.
 */
#include <linux/slab.h>
#include <linux/xarray.h>

#include "dmod.h"

/* --- memory regions */

struct dmod_mr *dmod_mr_check(struct dmod_dev *mdev, u32 key, u32 pdn,
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
dma_addr_t dmod_mr_addr(struct dmod_mr *mr, u64 va, u64 *contig)
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
bool dmod_mr_dma(struct dmod_dev *mdev, struct dmod_mr *mr, u64 va,
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
bool dmod_mr_missing(struct dmod_dev *mdev, u32 key, u32 pdn,
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

/* --- MR commands */

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

u16 dmod_create_mr(struct dmod_dev *mdev, struct demo_cmd *cmd)
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

u16 dmod_destroy_mr(struct dmod_dev *mdev, struct demo_cmd *cmd)
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
u16 dmod_invalidate_mr(struct dmod_dev *mdev, struct demo_cmd *cmd)
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

u16 dmod_update_mr(struct dmod_dev *mdev, struct demo_cmd *cmd)
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
