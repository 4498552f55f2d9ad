// SPDX-License-Identifier: GPL-2.0-only
/// dma_iova_link() only writes IOMMU page table entries.  The device is not
/// guaranteed to see the new translation (IOTLB flush, virtio-iommu map
/// request, batched cache maintenance on non-coherent devices) until
/// dma_iova_sync() has been called on the linked range.  Find functions
/// that link a range and then return success without syncing it.
///
// Confidence: High
// Copyright: (C) 2026 RDMA demo project
// Comments: The check is limited to one function.  A path that calls
//  dma_use_iova() on the same state after the link is not followed, since
//  callers commonly do "if (dma_use_iova(state)) dma_iova_sync(...)"
//  after a loop that mixes the IOVA and the dma_map_phys() paths.  A path
//  that leaves through a goto is not followed either.  Only "return 0"
//  and "return true" count as success exits: a bare "return" in a void
//  function cannot be told apart from the exit taken when the link failed.
//  Success exits reached through a goto, "return ret" with ret == 0, and a
//  sync done by the caller are therefore not checked.  The state argument is
//  compared as text, so "&mr->state" and a local pointer to it are
//  different states for this rule.  spatch does not split conditions, so a
//  dma_iova_sync() inside a condition such as "if (x && dma_iova_sync(...))"
//  counts as done on both branches.
// Options: --no-includes --include-headers
// Requires: 1.1.1
// Keywords: dma_iova_link, dma_iova_sync

virtual context
virtual org
virtual report

@r exists@
expression dev, dev2, st;
identifier l;
symbol true;
position p1, p2;
@@

dma_iova_link@p1(dev, st, ...)
... when != dma_iova_sync(dev2, st, ...)
    when != dma_iova_destroy(dev2, st, ...)
    when != dma_iova_unlink(dev2, st, ...)
    when != dma_iova_free(dev2, st)
    when != dma_use_iova(st)
    when != goto l;
(
return@p2 0;
|
return@p2 true;
)

@depends on context@
position r.p1;
@@

* dma_iova_link@p1(...)

@depends on context@
position r.p2;
@@

* return@p2 ...;

@script:python depends on org@
p1 << r.p1;
p2 << r.p2;
@@

coccilib.org.print_todo(p1[0],
	"dma_iova_link() not followed by dma_iova_sync() before the return on line %s" % p2[0].line)

@script:python depends on report@
p1 << r.p1;
p2 << r.p2;
@@

coccilib.report.print_report(p1[0],
	"WARNING: dma_iova_link() not followed by dma_iova_sync() before the return on line %s" % p2[0].line)
