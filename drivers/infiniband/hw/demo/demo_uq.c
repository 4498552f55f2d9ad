// SPDX-License-Identifier: GPL-2.0-only
/*
 * Demo RDMA HCA driver: queue memory shared with userspace.
 *
 * A user CQ or QP gets one buffer holding its rings and its doorbell
 * record. The device reaches it through one DMA mapping; userspace maps
 * it through an rdma_user_mmap_entry. The buffer is ordinary kernel RAM,
 * so it is mapped page by page as RAM (vm_insert_page()), never as I/O
 * memory: rdma_user_mmap_io() would make it VM_IO | VM_PFNMAP and drop
 * the encryption of its pages on hosts with memory encryption.
 *
 * The lifetimes differ: the DMA mapping ends when the object is destroyed
 * (the device has forgotten it by then); the pages belong to the mmap
 * entry and are released in mmap_free, and a VMA that still maps them
 * holds its own references until it goes.
 */
#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <rdma/ib_verbs.h>

#include "demo.h"

/* Userspace and the device share the memory, so it is never bounced. */
#define DEMO_UQ_ATTRS	DMA_ATTR_REQUIRE_COHERENT

/**
 * demo_uq_alloc - allocate queue memory for userspace and map it
 * @dev: the HCA
 * @uctx: the user context the mapping belongs to
 * @size: bytes needed
 *
 * Return: the buffer, zeroed and mapped for the device, or an ERR_PTR;
 * -EIO if the device could only reach it through a bounce buffer.
 */
struct demo_uq *demo_uq_alloc(struct demo_dev *dev, struct ib_ucontext *uctx,
			      size_t size)
{
	struct demo_uq *uq;
	int err;

	uq = kzalloc_obj(*uq);
	if (!uq)
		return ERR_PTR(-ENOMEM);
	uq->size = PAGE_ALIGN(size);
	uq->cpu = alloc_pages_exact(uq->size, GFP_KERNEL | __GFP_ZERO);
	if (!uq->cpu) {
		err = -ENOMEM;
		goto err_free;
	}
	uq->dma = dma_map_phys(dev->dma_dev, virt_to_phys(uq->cpu), uq->size,
			       DMA_BIDIRECTIONAL, DEMO_UQ_ATTRS);
	if (dma_mapping_error(dev->dma_dev, uq->dma)) {
		err = -EIO;
		goto err_pages;
	}
	err = rdma_user_mmap_entry_insert(uctx, &uq->entry, uq->size);
	if (err)
		goto err_unmap;
	return uq;

err_unmap:
	dma_unmap_phys(dev->dma_dev, uq->dma, uq->size, DMA_BIDIRECTIONAL,
		       DEMO_UQ_ATTRS);
err_pages:
	free_pages_exact(uq->cpu, uq->size);
err_free:
	kfree(uq);
	return ERR_PTR(err);
}

/**
 * demo_uq_free - end the device's access and userspace's new mappings
 * @dev: the HCA
 * @uq: the buffer; the device must no longer use it
 *
 * Existing mappings keep the pages until they are unmapped.
 */
void demo_uq_free(struct demo_dev *dev, struct demo_uq *uq)
{
	dma_unmap_phys(dev->dma_dev, uq->dma, uq->size, DMA_BIDIRECTIONAL,
		       DEMO_UQ_ATTRS);
	rdma_user_mmap_entry_remove(&uq->entry);
}

int demo_mmap(struct ib_ucontext *uctx, struct vm_area_struct *vma)
{
	struct rdma_user_mmap_entry *entry;
	struct demo_uq *uq;
	size_t off;
	int err = 0;

	/* Checks that the VMA is shared and as long as the entry. */
	entry = rdma_user_mmap_entry_get(uctx, vma);
	if (!entry)
		return -EINVAL;
	uq = container_of(entry, struct demo_uq, entry);
	vm_flags_set(vma, VM_DONTEXPAND);
	for (off = 0; off < uq->size && !err; off += PAGE_SIZE)
		err = vm_insert_page(vma, vma->vm_start + off,
				     virt_to_page(uq->cpu + off));
	rdma_user_mmap_entry_put(entry);
	return err;
}

void demo_mmap_free(struct rdma_user_mmap_entry *entry)
{
	struct demo_uq *uq = container_of(entry, struct demo_uq, entry);

	free_pages_exact(uq->cpu, uq->size);
	kfree(uq);
}
