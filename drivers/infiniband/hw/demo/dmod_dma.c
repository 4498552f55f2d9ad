// SPDX-License-Identifier: GPL-2.0-only
/*
 * Demo RDMA HCA device model: host memory as the device reaches it.
 *
 * The device's DMA: a device address goes through the IOMMU domain of the
 * DMA device when it has a translating one, else it is a dma-direct
 * address; either way it may lead to RAM or to a peer device's memory
 * BAR. What does not translate is a counted DMA fault.
 */
#include <linux/dma-direct.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/mmzone.h>
#include <linux/pci.h>

#include "dmod.h"

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

/* The IOMMU domain that translates the device's requests, or NULL. */
struct iommu_domain *dmod_dma_domain(struct dmod_dev *mdev)
{
	struct iommu_domain *dom = iommu_get_domain_for_dev(mdev->dma_dev);

	return dom && dom->type != IOMMU_DOMAIN_IDENTITY ? dom : NULL;
}

/*
 * Translate one device address to a CPU physical address the way the
 * device's requests would be translated, through @dom (from
 * dmod_dma_domain()). Returns false for a DMA fault.
 */
static bool __dmod_translate(struct dmod_dev *mdev, struct iommu_domain *dom,
			     dma_addr_t addr, phys_addr_t *phys)
{
	if (dom) {
		*phys = iommu_iova_to_phys(dom, addr);
		return *phys != 0;
	}
	*phys = dma_to_phys(mdev->dma_dev, addr);
	return true;
}

static bool dmod_translate(struct dmod_dev *mdev, dma_addr_t addr,
			   phys_addr_t *phys)
{
	return __dmod_translate(mdev, dmod_dma_domain(mdev), addr, phys);
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

/*
 * Is @pfn RAM, as pfn_valid() says? pfn_valid() takes an RCU read section,
 * which lockdep makes costly once per page; its answer holds for a whole
 * memory section when that is boot memory ("early"). struct dmod_ram
 * remembers such sections for one pass of the device's work: the pages
 * the device reaches in a pass are memory the driver gave it, pinned or
 * allocated, and the commands that take such memory away wait for the
 * pass to end, so a section holding one of them cannot go offline in
 * between.
 */
static bool dmod_pfn_ram(struct dmod_ram *ram, unsigned long pfn)
{
#ifdef CONFIG_SPARSEMEM
	unsigned long nr = pfn_to_section_nr(pfn);
	unsigned long *slot = &ram->sec[nr % ARRAY_SIZE(ram->sec)];
	bool early;

	if (*slot == nr + 1)
		return true;
	if (!pfn_valid(pfn))
		return false;
	rcu_read_lock_sched();
	early = early_section(__pfn_to_section(pfn));
	rcu_read_unlock_sched();
	if (early)
		*slot = nr + 1;
	return true;
#else
	return pfn_valid(pfn);
#endif
}

/*
 * Where device address @addr leads through @dom when it is RAM: *@phys.
 * False for a fault or a peer's memory, which only dmod_dma() reaches
 * (and counts).
 */
bool dmod_dma_ram(struct dmod_dev *mdev, struct iommu_domain *dom,
		  struct dmod_ram *ram, dma_addr_t addr, phys_addr_t *phys)
{
	return __dmod_translate(mdev, dom, addr, phys) &&
	       dmod_pfn_ram(ram, PHYS_PFN(*phys));
}

/* Copy between host memory at device address @addr and @buf. */
bool dmod_dma(struct dmod_dev *mdev, dma_addr_t addr, void *buf,
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
