/* SPDX-License-Identifier: GPL-2.0 OR Linux-OpenIB */
/*
 * User memory pinned for a device and mapped without a scatterlist.
 */
#ifndef IB_UMEM_PHYS_H
#define IB_UMEM_PHYS_H

#include <linux/dma-mapping.h>
#include <linux/types.h>

struct ib_device;

/**
 * struct ib_umem_phys - user memory pinned and mapped for DMA
 * @ibdev: the device the memory is mapped for
 * @owning_mm: the mm the pages were pinned from, for the pinned_vm count
 * @address: user virtual address of byte 0
 * @length: length in bytes
 * @npages: pinned pages; the range covers them whole
 * @nr_runs: entries in @runs
 * @runs: physically contiguous runs of pinned pages, page aligned
 * @dma: device address of each run when @state is not in use; %NULL on
 *	the IOVA path
 * @state: the contiguous IOVA range on the IOVA path
 * @dir: mapping direction: %DMA_TO_DEVICE unless the memory is writable
 * @dma_attrs: mapping attributes
 * @writable: pinned for write; pages are dirtied on release
 *
 * Drivers read the device address ranges through ib_umem_phys_nr_ranges(),
 * ib_umem_phys_range(), ib_umem_phys_find_best_pgsz() and
 * rdma_umem_phys_for_each_dma_block(), not the fields.
 */
struct ib_umem_phys {
	struct ib_device *ibdev;
	struct mm_struct *owning_mm;
	unsigned long address;
	size_t length;
	unsigned long npages;
	unsigned int nr_runs;
	struct phys_vec *runs;
	dma_addr_t *dma;
	struct dma_iova_state state;
	enum dma_data_direction dir;
	unsigned long dma_attrs;
	bool writable;
};

/**
 * struct ib_umem_phys_iter - position of rdma_umem_phys_for_each_dma_block()
 * @up: the memory being walked
 * @pgsz: block size
 * @range: current device address range
 * @end: end of the current range, rounded up to @pgsz
 * @addr: device address of the current block
 */
struct ib_umem_phys_iter {
	struct ib_umem_phys *up;
	unsigned long pgsz;
	unsigned int range;
	dma_addr_t end;
	dma_addr_t addr;
};

/**
 * ib_umem_phys_contiguous - is the memory one contiguous device range?
 * @up: pinned and mapped user memory
 *
 * Return: true when the memory was mapped through the DMA IOVA API. A
 * device then needs a single translation entry for it, at
 * ib_umem_phys_dma_start().
 */
static inline bool ib_umem_phys_contiguous(struct ib_umem_phys *up)
{
	return dma_use_iova(&up->state);
}

/**
 * ib_umem_phys_nr_ranges - number of device address ranges
 * @up: pinned and mapped user memory
 *
 * Return: 1 on the IOVA path, else the number of physically contiguous runs.
 */
static inline unsigned int ib_umem_phys_nr_ranges(struct ib_umem_phys *up)
{
	return ib_umem_phys_contiguous(up) ? 1 : up->nr_runs;
}

/**
 * ib_umem_phys_range - one device address range
 * @up: pinned and mapped user memory
 * @i: index, below ib_umem_phys_nr_ranges()
 * @len: returns the length of the range in bytes
 *
 * Ranges cover whole pages; byte 0 of the memory is at offset
 * offset_in_page(@up->address) of range 0.
 *
 * Return: the device address of the range.
 */
static inline dma_addr_t ib_umem_phys_range(struct ib_umem_phys *up,
					    unsigned int i, u64 *len)
{
	if (ib_umem_phys_contiguous(up)) {
		*len = (u64)up->npages << PAGE_SHIFT;
		return up->state.addr;
	}
	*len = up->runs[i].len;
	return up->dma[i];
}

/**
 * ib_umem_phys_dma_start - device address of byte 0
 * @up: pinned and mapped user memory
 *
 * Return: the device address of byte 0; on the IOVA path the rest follows
 * it contiguously.
 */
static inline dma_addr_t ib_umem_phys_dma_start(struct ib_umem_phys *up)
{
	u64 len;

	return ib_umem_phys_range(up, 0, &len) + (up->address & ~PAGE_MASK);
}

/**
 * ib_umem_phys_num_dma_blocks - number of @pgsz blocks covering the memory
 * @up: pinned and mapped user memory
 * @pgsz: block size
 * @virt: the I/O virtual address the device uses for byte 0
 *
 * Return: the number of blocks rdma_umem_phys_for_each_dma_block() visits.
 */
static inline size_t ib_umem_phys_num_dma_blocks(struct ib_umem_phys *up,
						 unsigned long pgsz, u64 virt)
{
	return (ALIGN(virt + up->length, pgsz) - ALIGN_DOWN(virt, pgsz)) / pgsz;
}

#ifdef CONFIG_INFINIBAND_USER_MEM

struct ib_umem_phys *ib_umem_phys_get(struct ib_device *device,
				      unsigned long addr, size_t size,
				      int access);
void ib_umem_phys_release(struct ib_umem_phys *up);
unsigned long ib_umem_phys_find_best_pgsz(struct ib_umem_phys *up,
					  unsigned long pgsz_bitmap, u64 virt);
struct ib_umem_phys_iter *
__ib_umem_phys_iter_start(struct ib_umem_phys_iter *it, struct ib_umem_phys *up,
			  unsigned long pgsz);
bool __ib_umem_phys_iter_next(struct ib_umem_phys_iter *it);

#else /* CONFIG_INFINIBAND_USER_MEM */

static inline struct ib_umem_phys *
ib_umem_phys_get(struct ib_device *device, unsigned long addr, size_t size,
		 int access)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void ib_umem_phys_release(struct ib_umem_phys *up) { }

static inline unsigned long
ib_umem_phys_find_best_pgsz(struct ib_umem_phys *up,
			    unsigned long pgsz_bitmap, u64 virt)
{
	return 0;
}

static inline struct ib_umem_phys_iter *
__ib_umem_phys_iter_start(struct ib_umem_phys_iter *it, struct ib_umem_phys *up,
			  unsigned long pgsz)
{
	return it;
}

static inline bool __ib_umem_phys_iter_next(struct ib_umem_phys_iter *it)
{
	return false;
}

#endif /* CONFIG_INFINIBAND_USER_MEM */

/**
 * rdma_umem_phys_for_each_dma_block - walk the memory in device blocks
 * @up: pinned and mapped user memory
 * @it: a struct ib_umem_phys_iter
 * @pgsz: block size, from ib_umem_phys_find_best_pgsz()
 *
 * Visits ib_umem_phys_num_dma_blocks() blocks; the device address of each
 * is @it->addr, aligned to @pgsz.
 */
#define rdma_umem_phys_for_each_dma_block(up, it, pgsz)			\
	for (struct ib_umem_phys_iter *__it =				\
		__ib_umem_phys_iter_start(it, up, pgsz);		\
	     __ib_umem_phys_iter_next(__it);)

#endif /* IB_UMEM_PHYS_H */
