// SPDX-License-Identifier: GPL-2.0 OR Linux-OpenIB
/*
 * Pin user memory for a device and map it without a scatterlist.
 *
 * ib_umem_get_va() pins pages into a scatterlist and maps it with
 * dma_map_sgtable(): the IOMMU path then walks the list and the device
 * gets a page list whatever the IOMMU could have done. Here the pinned
 * pages are kept as physically contiguous runs. When the device sits
 * behind an IOMMU DMA domain, the runs are linked into one IOVA range with
 * the DMA IOVA API and synced once, so the device needs one translation
 * entry for the whole region. Otherwise each run is mapped on its own with
 * dma_map_phys() and the driver builds a page list with
 * ib_umem_phys_find_best_pgsz(). Both paths map with
 * DMA_ATTR_REQUIRE_COHERENT: memory the device could only reach through a
 * bounce buffer is refused, since RDMA has no point at which to copy it.
 */
#include <linux/bitops.h>
#include <linux/count_zeros.h>
#include <linux/dma-map-ops.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <rdma/ib_umem_phys.h>
#include <rdma/ib_verbs.h>

/*
 * Append the pinned @pages to @up->runs, merging physically adjacent ones.
 * On failure the pages not yet appended are unpinned here.
 */
static int umem_phys_add_pages(struct ib_umem_phys *up, unsigned int *cap,
			       struct page **pages, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		phys_addr_t pa = page_to_phys(pages[i]);
		struct phys_vec *last = up->nr_runs ?
					&up->runs[up->nr_runs - 1] : NULL;

		/*
		 * Merge only when the struct pages are adjacent too, so that
		 * a run can be unpinned as a page range.
		 */
		if (last && last->paddr + last->len == pa &&
		    pfn_to_page(PHYS_PFN(last->paddr)) +
		    (last->len >> PAGE_SHIFT) == pages[i]) {
			last->len += PAGE_SIZE;
			continue;
		}
		if (up->nr_runs == *cap) {
			unsigned int ncap = max(*cap * 2, 16U);
			struct phys_vec *runs;

			runs = kvrealloc(up->runs, array_size(ncap, sizeof(*runs)),
					 GFP_KERNEL);
			if (!runs) {
				unpin_user_pages_dirty_lock(pages + i, n - i,
							    false);
				return -ENOMEM;
			}
			up->runs = runs;
			*cap = ncap;
		}
		up->runs[up->nr_runs].paddr = pa;
		up->runs[up->nr_runs].len = PAGE_SIZE;
		up->nr_runs++;
	}
	return 0;
}

static void umem_phys_unpin(struct ib_umem_phys *up)
{
	unsigned int i;

	for (i = 0; i < up->nr_runs; i++) {
		struct page *page = pfn_to_page(PHYS_PFN(up->runs[i].paddr));

		unpin_user_page_range_dirty_lock(page,
						 up->runs[i].len >> PAGE_SHIFT,
						 up->writable);
	}
	kvfree(up->runs);
	up->runs = NULL;
	up->nr_runs = 0;
}

static int umem_phys_pin(struct ib_umem_phys *up)
{
	unsigned int gup_flags = FOLL_LONGTERM;
	unsigned long left = up->npages;
	unsigned long cur = up->address & PAGE_MASK;
	unsigned int cap = 0;
	struct page **pages;
	int ret = 0;

	pages = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	if (up->writable)
		gup_flags |= FOLL_WRITE;

	while (left) {
		long pinned;

		cond_resched();
		pinned = pin_user_pages_fast(cur,
					     min_t(unsigned long, left,
						   PAGE_SIZE / sizeof(*pages)),
					     gup_flags, pages);
		if (pinned < 0) {
			ret = pinned;
			break;
		}
		ret = umem_phys_add_pages(up, &cap, pages, pinned);
		if (ret)
			break;
		cur += pinned * PAGE_SIZE;
		left -= pinned;
	}
	kfree(pages);
	if (ret)
		umem_phys_unpin(up);
	return ret;
}

/*
 * One IOVA range for everything: link each run back to back, then sync
 * once, as the IOVA API requires before the device may use the range.
 * Returns 0 with @up->state unused when the device has no IOMMU DMA
 * domain for it.
 */
static int umem_phys_map_iova(struct ib_umem_phys *up, struct device *dev)
{
	size_t mapped = 0;
	unsigned int i;
	int ret = 0;

	/* Every run but the first must start on an IOVA granule. */
	if (dma_get_merge_boundary(dev) >= PAGE_SIZE)
		return 0;
	if (!dma_iova_try_alloc(dev, &up->state, 0,
				(size_t)up->npages << PAGE_SHIFT))
		return 0;

	for (i = 0; i < up->nr_runs; i++) {
		ret = dma_iova_link(dev, &up->state, up->runs[i].paddr, mapped,
				    up->runs[i].len, up->dir, up->dma_attrs);
		if (ret)
			break;
		mapped += up->runs[i].len;
	}
	if (!ret)
		ret = dma_iova_sync(dev, &up->state, 0, mapped);
	if (ret) {
		dma_iova_destroy(dev, &up->state, mapped, up->dir,
				 up->dma_attrs);
		memset(&up->state, 0, sizeof(up->state));
	}
	return ret;
}

static void umem_phys_unmap_runs(struct ib_umem_phys *up, struct device *dev,
				 unsigned int n)
{
	while (n--)
		dma_unmap_phys(dev, up->dma[n], up->runs[n].len, up->dir,
			       up->dma_attrs);
}

/* No IOVA range: map each physically contiguous run on its own. */
static int umem_phys_map_runs(struct ib_umem_phys *up, struct device *dev)
{
	unsigned int i;

	up->dma = kvcalloc(up->nr_runs, sizeof(*up->dma), GFP_KERNEL);
	if (!up->dma)
		return -ENOMEM;
	for (i = 0; i < up->nr_runs; i++) {
		up->dma[i] = dma_map_phys(dev, up->runs[i].paddr,
					  up->runs[i].len, up->dir,
					  up->dma_attrs);
		if (dma_mapping_error(dev, up->dma[i])) {
			umem_phys_unmap_runs(up, dev, i);
			kvfree(up->dma);
			up->dma = NULL;
			return -EIO;
		}
	}
	return 0;
}

static void umem_phys_unmap(struct ib_umem_phys *up)
{
	struct device *dev = up->ibdev->dma_device;

	if (dma_use_iova(&up->state)) {
		dma_iova_destroy(dev, &up->state,
				 (size_t)up->npages << PAGE_SHIFT, up->dir,
				 up->dma_attrs);
		return;
	}
	umem_phys_unmap_runs(up, dev, up->nr_runs);
	kvfree(up->dma);
}

/**
 * ib_umem_phys_get - pin user memory and map it for a device
 * @device: the device that will access the memory
 * @addr: user virtual address
 * @size: length in bytes
 * @access: IB_ACCESS_* flags; writable access pins for write
 *
 * Pins the pages long term, counted in the caller's pinned_vm against
 * RLIMIT_MEMLOCK like ib_umem_get_va(), and maps them with
 * %DMA_ATTR_REQUIRE_COHERENT. Read-only memory is mapped %DMA_TO_DEVICE so
 * that an IOMMU also refuses device writes to it. On a device behind an
 * IOMMU DMA domain the result is one contiguous device range
 * (ib_umem_phys_contiguous()); otherwise one range per physically
 * contiguous run of pages. Release with ib_umem_phys_release().
 *
 * Context: process context; may sleep.
 * Return: the pinned memory, or an ERR_PTR(): -EINVAL for a zero length or
 * a range that wraps, -EOPNOTSUPP for on-demand paging, a device without
 * a DMA device of its own or a confidential computing guest, -EPERM when
 * the caller may not lock memory, -ENOMEM when the pin would exceed
 * RLIMIT_MEMLOCK or memory ran out, -EFAULT for an address that cannot be
 * pinned, -EIO, -EPERM or -EOPNOTSUPP when the memory can only be reached
 * through a bounce buffer or the device is not DMA coherent.
 */
struct ib_umem_phys *ib_umem_phys_get(struct ib_device *device,
				      unsigned long addr, size_t size,
				      int access)
{
	unsigned long lock_limit, end;
	struct ib_umem_phys *up;
	struct mm_struct *mm;
	int ret;

	if (ib_uses_virt_dma(device) || device->cc_dma_bounce)
		return ERR_PTR(-EOPNOTSUPP);
	if (access & IB_ACCESS_ON_DEMAND)
		return ERR_PTR(-EOPNOTSUPP);
	if (!size || check_add_overflow(addr, size, &end) ||
	    PAGE_ALIGN(end) < end)
		return ERR_PTR(-EINVAL);
	if (!can_do_mlock())
		return ERR_PTR(-EPERM);

	up = kzalloc_obj(*up);
	if (!up)
		return ERR_PTR(-ENOMEM);
	up->ibdev = device;
	up->address = addr;
	up->length = size;
	up->npages = (PAGE_ALIGN(end) - (addr & PAGE_MASK)) >> PAGE_SHIFT;
	up->writable = ib_access_writable(access);
	up->dir = up->writable ? DMA_BIDIRECTIONAL : DMA_TO_DEVICE;
	up->dma_attrs = DMA_ATTR_REQUIRE_COHERENT;
	if (access & IB_ACCESS_RELAXED_ORDERING)
		up->dma_attrs |= DMA_ATTR_WEAK_ORDERING;
	mm = current->mm;
	up->owning_mm = mm;
	mmgrab(mm);

	lock_limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	if (atomic64_add_return(up->npages, &mm->pinned_vm) > lock_limit &&
	    !capable(CAP_IPC_LOCK)) {
		ret = -ENOMEM;
		goto err_account;
	}

	ret = umem_phys_pin(up);
	if (ret)
		goto err_account;

	ret = umem_phys_map_iova(up, device->dma_device);
	if (!ret && !dma_use_iova(&up->state))
		ret = umem_phys_map_runs(up, device->dma_device);
	if (ret)
		goto err_unpin;
	return up;

err_unpin:
	umem_phys_unpin(up);
err_account:
	atomic64_sub(up->npages, &mm->pinned_vm);
	mmdrop(mm);
	kfree(up);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL(ib_umem_phys_get);

/**
 * ib_umem_phys_release - unmap and unpin memory from ib_umem_phys_get()
 * @up: the memory; may be %NULL
 *
 * The device must no longer access the memory: the driver has destroyed
 * the translation entries that point at it. Writable pages are marked
 * dirty.
 *
 * Context: process context; may sleep.
 */
void ib_umem_phys_release(struct ib_umem_phys *up)
{
	if (!up)
		return;
	umem_phys_unmap(up);
	umem_phys_unpin(up);
	atomic64_sub(up->npages, &up->owning_mm->pinned_vm);
	mmdrop(up->owning_mm);
	kfree(up);
}
EXPORT_SYMBOL(ib_umem_phys_release);

/**
 * ib_umem_phys_find_best_pgsz - largest block size for a device page list
 * @up: pinned and mapped user memory
 * @pgsz_bitmap: block sizes the device supports
 * @virt: the I/O virtual address the device uses for byte 0
 *
 * The same rule as ib_umem_find_best_pgsz(): a block size works when @virt
 * and the device address of every range agree in the bits below it, and
 * every boundary between ranges falls on a block boundary. The largest
 * such size that does not exceed the span of the memory is returned.
 *
 * Return: the block size, or 0 when no size in @pgsz_bitmap works.
 */
unsigned long ib_umem_phys_find_best_pgsz(struct ib_umem_phys *up,
					  unsigned long pgsz_bitmap, u64 virt)
{
	unsigned int i, n = ib_umem_phys_nr_ranges(up);
	u64 pgoff = offset_in_page(up->address);
	u64 va = virt, last_va, mask = 0;
	unsigned int bits;

	pgsz_bitmap &= GENMASK(BITS_PER_LONG - 1, PAGE_SHIFT);
	if (!pgsz_bitmap || check_add_overflow(up->length - 1, virt, &last_va))
		return 0;
	bits = bits_per(virt ^ last_va);
	if (bits < BITS_PER_LONG)
		mask = pgsz_bitmap & GENMASK(BITS_PER_LONG - 1, bits);

	for (i = 0; i < n; i++) {
		u64 len;
		dma_addr_t a = ib_umem_phys_range(up, i, &len);

		/* The block size cannot exceed where VA and device differ. */
		mask |= (a + pgoff) ^ va;
		va += len - pgoff;
		pgoff = 0;
		/* A discontinuity must start a new block. */
		if (i + 1 < n)
			mask |= va;
	}
	if (mask)
		pgsz_bitmap &= GENMASK(count_trailing_zeros(mask), 0);
	return pgsz_bitmap ? rounddown_pow_of_two(pgsz_bitmap) : 0;
}
EXPORT_SYMBOL(ib_umem_phys_find_best_pgsz);

/**
 * __ib_umem_phys_iter_start - start rdma_umem_phys_for_each_dma_block()
 * @it: the iterator
 * @up: pinned and mapped user memory
 * @pgsz: block size
 *
 * Return: @it.
 */
struct ib_umem_phys_iter *
__ib_umem_phys_iter_start(struct ib_umem_phys_iter *it, struct ib_umem_phys *up,
			  unsigned long pgsz)
{
	*it = (struct ib_umem_phys_iter) { .up = up, .pgsz = pgsz };
	return it;
}
EXPORT_SYMBOL(__ib_umem_phys_iter_start);

/**
 * __ib_umem_phys_iter_next - step rdma_umem_phys_for_each_dma_block()
 * @it: the iterator
 *
 * Return: false when every block has been visited.
 */
bool __ib_umem_phys_iter_next(struct ib_umem_phys_iter *it)
{
	dma_addr_t a;
	u64 len;

	if (it->end) {
		it->addr += it->pgsz;
		if (it->addr < it->end)
			return true;
		if (++it->range >= ib_umem_phys_nr_ranges(it->up))
			return false;
	}
	a = ib_umem_phys_range(it->up, it->range, &len);
	it->addr = ALIGN_DOWN(a, it->pgsz);
	it->end = ALIGN(a + len, it->pgsz);
	return true;
}
EXPORT_SYMBOL(__ib_umem_phys_iter_next);
