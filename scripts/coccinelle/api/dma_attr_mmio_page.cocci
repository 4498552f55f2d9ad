// SPDX-License-Identifier: GPL-2.0-only
/// DMA_ATTR_MMIO describes a physical address range without a struct page
/// (a PCI BAR for peer-to-peer DMA).  It is only meaningful for the phys
/// based interfaces: dma_map_phys()/dma_unmap_phys(), dma_iova_link() and
/// friends, and dma_map_resource(), which sets it itself.  The page,
/// single and scatterlist interfaces all describe RAM through a struct
/// page: dma_map_page_attrs() and dma_map_single_attrs() fail with
/// DMA_MAPPING_ERROR when DMA_ATTR_MMIO is set, dma_unmap_page_attrs() and
/// dma_unmap_single_attrs() then return without unmapping anything, and the
/// scatterlist interfaces detect peer-to-peer pages from their pgmap, not
/// from the attribute.
///
// Confidence: High
// Copyright: (C) 2026 RDMA demo project
// Comments: The attribute is found either directly in the attrs argument
//  or in a variable that was given DMA_ATTR_MMIO earlier in the same
//  function and not reassigned in between.
// Options: --no-includes --include-headers
// Requires: 1.1.1
// Keywords: DMA_ATTR_MMIO

virtual context
virtual org
virtual report

@r@
identifier fn =~ "^(dma_(un)?map_(page|single|sg)_attrs|dma_(un)?map_sgtable|ib_dma_(un)?map_(sg|sgtable)_attrs)$";
position p;
@@

fn@p(...,<+... DMA_ATTR_MMIO ...+>)

@v exists@
identifier fn =~ "^(dma_(un)?map_(page|single|sg)_attrs|dma_(un)?map_sgtable|ib_dma_(un)?map_(sg|sgtable)_attrs)$";
expression a, E;
position p, p1;
@@

(
a |=@p1 <+... DMA_ATTR_MMIO ...+>
|
a =@p1 <+... DMA_ATTR_MMIO ...+>
)
... when != a = E
fn@p(..., a)

@depends on context@
identifier r.fn;
position r.p;
@@

* fn@p(...)

@depends on context@
identifier v.fn;
position v.p;
@@

* fn@p(...)

@script:python depends on org@
fn << r.fn;
p << r.p;
@@

coccilib.org.print_todo(p[0], "DMA_ATTR_MMIO passed to %s(); use dma_map_phys()/dma_unmap_phys() or dma_map_resource()" % fn)

@script:python depends on org@
fn << v.fn;
p << v.p;
p1 << v.p1;
@@

coccilib.org.print_todo(p[0], "DMA_ATTR_MMIO (set on line %s) passed to %s(); use dma_map_phys()/dma_unmap_phys() or dma_map_resource()" % (p1[0].line, fn))

@script:python depends on report@
fn << r.fn;
p << r.p;
@@

coccilib.report.print_report(p[0], "ERROR: DMA_ATTR_MMIO passed to %s(); use dma_map_phys()/dma_unmap_phys() or dma_map_resource()" % fn)

@script:python depends on report@
fn << v.fn;
p << v.p;
p1 << v.p1;
@@

coccilib.report.print_report(p[0], "ERROR: DMA_ATTR_MMIO (set on line %s) passed to %s(); use dma_map_phys()/dma_unmap_phys() or dma_map_resource()" % (p1[0].line, fn))
