// SPDX-License-Identifier: GPL-2.0-only
/// Results of the IOVA API that must be checked:
///  - dma_iova_link() and dma_iova_sync() return an error code (page table
///    allocation failure, -EPERM for a range that would need swiotlb with
///    DMA_ATTR_MMIO or DMA_ATTR_REQUIRE_COHERENT, -EOPNOTSUPP for a
///    non-coherent device with DMA_ATTR_REQUIRE_COHERENT, IOTLB sync
///    failure).  Ignoring it hands the device an address that is not mapped.
///  - dma_iova_try_alloc() returns false when the device does not use an
///    IOMMU DMA domain (no IOMMU, identity domain, swiotlb).  The state is
///    then zeroed, and dma_iova_link()/dma_iova_sync() on it dereference the
///    missing IOVA cookie or map at IOVA 0.  The caller must either test the
///    return value or test dma_use_iova() before linking.
///
// Confidence: High
// Copyright: (C) 2026 RDMA demo project
// Comments: A call whose result is explicitly discarded with a (void) cast
//  is not reported.  For dma_iova_try_alloc() only a call used as a
//  statement is considered; the path to the link is checked inside one
//  function, and testing dma_use_iova() or dma_iova_size() on the same
//  state anywhere on that path counts as a check.
// Options: --no-includes --include-headers
// Requires: 1.1.1
// Keywords: dma_iova_link, dma_iova_sync, dma_iova_try_alloc, dma_use_iova

virtual context
virtual org
virtual report

@ign@
identifier fn = {dma_iova_link, dma_iova_sync};
position p;
@@

fn@p(...);

@alloc exists@
expression dev, dev2, st;
position p1, p2;
@@

dma_iova_try_alloc@p1(dev, st, ...);
... when != dma_use_iova(st)
    when != dma_iova_size(st)
(
dma_iova_link@p2(dev2, st, ...)
|
dma_iova_sync@p2(dev2, st, ...)
)

@depends on context@
identifier ign.fn;
position ign.p;
@@

* fn@p(...);

@depends on context@
position alloc.p1, alloc.p2;
identifier fn;
@@

(
* dma_iova_try_alloc@p1(...);
|
* fn@p2(...)
)

@script:python depends on org@
fn << ign.fn;
p << ign.p;
@@

coccilib.org.print_todo(p[0], "return value of %s() is ignored" % fn)

@script:python depends on org@
p1 << alloc.p1;
p2 << alloc.p2;
@@

coccilib.org.print_todo(p2[0],
	"IOVA state used without checking dma_iova_try_alloc() on line %s" % p1[0].line)

@script:python depends on report@
fn << ign.fn;
p << ign.p;
@@

coccilib.report.print_report(p[0], "ERROR: return value of %s() is ignored" % fn)

@script:python depends on report@
p1 << alloc.p1;
p2 << alloc.p2;
@@

coccilib.report.print_report(p2[0],
	"ERROR: IOVA state used without checking dma_iova_try_alloc() on line %s or dma_use_iova()" % p1[0].line)
