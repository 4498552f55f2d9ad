// SPDX-License-Identifier: GPL-2.0-only
/*
 * Demo RDMA HCA: user memory as the device sees it.
 *
 * The one place where the driver pins and DMA maps user memory, and the
 * one place that unmaps it. The rest of the driver only sees what the
 * device is given: one contiguous device range (DEMO_MR_RANGE) or a page
 * list of device addresses (DEMO_MR_PBL).
 *
 * ib_umem_get_va() pins and maps the memory. For a device that does DMA,
 * the RDMA core maps it with the DMA range API: behind an IOMMU DMA domain
 * the whole MR is one IOVA range, and the device gets one translation
 * entry for it whatever the size; without one each physically contiguous
 * run is mapped with dma_map_phys() and the device gets a page list with
 * the largest page size the runs allow. The driver only reads the result
 * through the ib_umem helpers. For comparison the core's scatterlist path
 * can be selected per device in debugfs (mr_backend: "umem" or "sgl"),
 * with CONFIG_INFINIBAND_UMEM_SGL_BENCH.
 *
 * dma-buf memory is mapped by its exporter (ib_umem_dmabuf_map_pages());
 * demo_umem_dmabuf_map() turns the exporter's DMA addresses into the same
 * two translation forms, and demo_umem_dmabuf_unmap() gives them back.
 * Both run under the dma-buf's reservation lock.
 */
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/iommu.h>
#include <rdma/ib_umem.h>
#include <rdma/iter.h>

#include "demo.h"

/* Device page sizes for page lists, as the device reported them. */
static unsigned long demo_pgsz_cap(struct demo_dev *dev)
{
	return le64_to_cpu(dev->attr.page_size_cap);
}

/*
 * A page list of @n entries in pages (DEMO_PBL_PER_LEAF entries a leaf)
 * under a root list, so that no allocation the user's MR size decides is
 * more than a few pages.
 */
static int demo_umem_alloc_pbl(struct demo_dev *dev, struct demo_umem *m,
			       unsigned long pgsz, size_t n)
{
	size_t leaves = DIV_ROUND_UP(n, DEMO_PBL_PER_LEAF);
	dma_addr_t dma;

	if (!n || n > DEMO_HW_MAX_PBL)
		return -EINVAL;
	m->pbl = kcalloc(leaves, sizeof(*m->pbl), GFP_KERNEL);
	if (!m->pbl)
		return -ENOMEM;
	m->pbl_root_size = array_size(leaves, sizeof(*m->pbl_root));
	m->pbl_root = dma_alloc_coherent(dev->dma_dev, m->pbl_root_size,
					 &m->pbl_root_dma, GFP_KERNEL);
	if (!m->pbl_root)
		goto err;
	for (; m->pbl_leaves < leaves; m->pbl_leaves++) {
		m->pbl[m->pbl_leaves] = dma_alloc_coherent(dev->dma_dev,
							   DEMO_PBL_LEAF_SIZE,
							   &dma, GFP_KERNEL);
		if (!m->pbl[m->pbl_leaves])
			goto err;
		m->pbl_root[m->pbl_leaves] = cpu_to_le64(dma);
	}
	m->page_shift = __ffs(pgsz);
	m->entries = n;
	m->mode = DEMO_MR_PBL;
	m->addr = m->pbl_root_dma;
	return 0;

err:
	demo_umem_put_pbl(dev, m);
	return -ENOMEM;
}

/* Entry @i of the page list. */
static void demo_pbl_set(struct demo_umem *m, size_t i, dma_addr_t addr)
{
	if (i < m->entries)
		m->pbl[i / DEMO_PBL_PER_LEAF][i % DEMO_PBL_PER_LEAF] =
			cpu_to_le64(addr);
}

/*
 * One device range if the DMA addresses are contiguous (an IOVA range, or
 * physically contiguous memory without an IOMMU) and the device may use
 * one (debugfs mr_translation), else a page list with the largest page
 * size they allow. Never sg_page(): an MMIO exporter has no pages.
 */
static int demo_umem_xlate(struct demo_dev *dev, struct demo_umem *m,
			   struct ib_umem *umem, u64 virt)
{
	struct ib_block_iter biter;
	unsigned long pgsz;
	size_t i = 0;
	int err;

	if (READ_ONCE(dev->mr_xlate) != DEMO_MR_XLATE_PBL &&
	    ib_umem_is_contiguous(umem)) {
		m->mode = DEMO_MR_RANGE;
		m->addr = ib_umem_start_dma_addr(umem);
		m->entries = 1;
		return 0;
	}
	pgsz = ib_umem_find_best_pgsz(umem, demo_pgsz_cap(dev), virt);
	if (!pgsz)
		return -EINVAL;
	err = demo_umem_alloc_pbl(dev, m, pgsz,
				  ib_umem_num_dma_blocks(umem, pgsz));
	if (err)
		return err;
	rdma_umem_for_each_dma_block(umem, &biter, pgsz)
		demo_pbl_set(m, i++, rdma_block_iter_dma_address(&biter));
	return 0;
}

/* The core's scatterlist path, when the kernel keeps it for comparison */
static struct ib_umem *demo_umem_get_sgl(struct demo_dev *dev, u64 start,
					 u64 length, int access)
{
#if IS_ENABLED(CONFIG_INFINIBAND_UMEM_SGL_BENCH)
	return ib_umem_get_va_sgl(&dev->ibdev, start, length, access);
#else
	return ERR_PTR(-EOPNOTSUPP);
#endif
}

/**
 * demo_umem_get - pin and map user memory for a memory region
 * @dev: the HCA
 * @m: filled with what the device needs for CREATE_MR
 * @start: user virtual address
 * @length: length in bytes
 * @virt: the MR's I/O virtual address
 * @access: IB_ACCESS_* flags
 *
 * A page list lives in coherent DMA memory until demo_umem_put_pbl(); the
 * device copies it at CREATE_MR.
 *
 * Return: 0, or a negative errno with nothing left pinned or mapped.
 */
int demo_umem_get(struct demo_dev *dev, struct demo_umem *m, u64 start,
		  u64 length, u64 virt, int access)
{
	struct ib_umem *umem;
	int err;

	memset(m, 0, sizeof(*m));
	if (READ_ONCE(dev->mr_backend) == DEMO_MR_BACKEND_SGL)
		umem = demo_umem_get_sgl(dev, start, length, access);
	else
		umem = ib_umem_get_va(&dev->ibdev, start, length, access);
	if (IS_ERR(umem))
		return PTR_ERR(umem);
	err = demo_umem_xlate(dev, m, umem, virt);
	if (err) {
		ib_umem_release(umem);
		return err;
	}
	m->umem = umem;
	return 0;
}

/*
 * Does the device reach @addr through a bounce buffer? Behind an IOMMU DMA
 * domain the address is an IOVA and the HCA, a trusted device, is never
 * bounced; dma_need_sync() answers for dma-direct.
 */
static bool demo_dma_bounces(struct demo_dev *dev, dma_addr_t addr)
{
	struct iommu_domain *dom = iommu_get_domain_for_dev(dev->dma_dev);

	if (dom && iommu_is_dma_domain(dom))
		return false;
	return dma_need_sync(dev->dma_dev, addr);
}

/**
 * demo_umem_dmabuf_map - map a dma-buf MR's memory for the device
 * @dev: the HCA
 * @m: m->dmabuf is attached; filled with the translation for CREATE_MR or
 *	UPDATE_MR
 * @virt: the MR's I/O virtual address
 *
 * The caller holds the dma-buf's reservation lock. A page list lives until
 * demo_umem_put_pbl().
 *
 * Return: 0, or a negative errno with nothing mapped: -EIO if the
 * exporter's mapping needs syncs (swiotlb bounce buffers).
 */
int demo_umem_dmabuf_map(struct demo_dev *dev, struct demo_umem *m, u64 virt)
{
	struct ib_block_iter biter;
	int err;

	dma_resv_assert_held(m->dmabuf->attach->dmabuf->resv);
	err = ib_umem_dmabuf_map_pages(m->dmabuf);
	if (err)
		return err;
	err = demo_umem_xlate(dev, m, &m->dmabuf->umem, virt);
	if (err)
		goto err_unmap;
	/*
	 * The exporter chose the mapping; one that needs syncs (a bounce
	 * buffer) is refused, as user MRs are: RDMA has no point at which
	 * to sync. (The translation set the umem's iova, which the block
	 * iterator counts from.)
	 */
	rdma_umem_for_each_dma_block(&m->dmabuf->umem, &biter, PAGE_SIZE) {
		if (demo_dma_bounces(dev, rdma_block_iter_dma_address(&biter))) {
			demo_umem_put_pbl(dev, m);
			err = -EIO;
			goto err_unmap;
		}
	}
	return 0;

err_unmap:
	ib_umem_dmabuf_unmap_pages(m->dmabuf);
	return err;
}

/**
 * demo_umem_dmabuf_unmap - give a dma-buf MR's mapping back to the exporter
 * @dev: the HCA
 * @m: the memory; the device no longer uses its translation
 *
 * The caller holds the dma-buf's reservation lock.
 */
void demo_umem_dmabuf_unmap(struct demo_dev *dev, struct demo_umem *m)
{
	dma_resv_assert_held(m->dmabuf->attach->dmabuf->resv);
	demo_umem_put_pbl(dev, m);
	ib_umem_dmabuf_unmap_pages(m->dmabuf);
	m->mode = DEMO_MR_NONE;
	m->addr = 0;
	m->entries = 0;
}

/**
 * demo_umem_put_pbl - free the page list once the device has copied it
 * @dev: the HCA
 * @m: the memory
 */
void demo_umem_put_pbl(struct demo_dev *dev, struct demo_umem *m)
{
	u32 i;

	for (i = 0; i < m->pbl_leaves; i++)
		dma_free_coherent(dev->dma_dev, DEMO_PBL_LEAF_SIZE, m->pbl[i],
				  le64_to_cpu(m->pbl_root[i]));
	m->pbl_leaves = 0;
	kfree(m->pbl);
	m->pbl = NULL;
	if (m->pbl_root)
		dma_free_coherent(dev->dma_dev, m->pbl_root_size, m->pbl_root,
				  m->pbl_root_dma);
	m->pbl_root = NULL;
}

/**
 * demo_umem_put - unmap and unpin: the one teardown
 * @dev: the HCA
 * @m: the memory; the device no longer has a translation entry for it
 */
void demo_umem_put(struct demo_dev *dev, struct demo_umem *m)
{
	demo_umem_put_pbl(dev, m);
	ib_umem_release(m->umem);
	m->umem = NULL;
	/* Revokes first: a pinned import's revoke callback runs here. */
	if (m->dmabuf)
		ib_umem_release(&m->dmabuf->umem);
	m->dmabuf = NULL;
}
