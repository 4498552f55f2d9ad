// SPDX-License-Identifier: GPL-2.0-only
/// dma_map_phys() returns DMA_MAPPING_ERROR on failure (for example a
/// non-coherent device with DMA_ATTR_REQUIRE_COHERENT, an address above the
/// DMA mask without swiotlb, IOVA exhaustion, or DMA_ATTR_MMIO under forced
/// swiotlb).  The result must be checked with dma_mapping_error() before it
/// is handed to the device or stored for a later dma_unmap_phys().
/// ib_dma_map_bvec() wraps dma_map_phys() for RDMA and is checked with
/// ib_dma_mapping_error().
///
// Confidence: High
// Copyright: (C) 2026 RDMA demo project
// Comments: A result is considered checked if dma_mapping_error() or
//  ib_dma_mapping_error() is applied to the same expression somewhere after
//  the call in the same function, or if the result is returned directly
//  ("return dma_map_phys(...)"), leaving the check to the caller.  Comparing
//  with DMA_MAPPING_ERROR directly is also accepted.  A result stored and
//  checked in another function is reported; such code should check where
//  it maps.
// Options: --no-includes --include-headers
// Requires: 1.1.1
// Keywords: dma_map_phys, ib_dma_map_bvec

virtual context
virtual org
virtual report

@ok exists@
expression A, D, E;
identifier fn = {dma_map_phys, ib_dma_map_bvec};
position p;
@@

A = fn@p(...)
... when != A = E
    when any
(
dma_mapping_error(D, A)
|
ib_dma_mapping_error(D, A)
|
A == DMA_MAPPING_ERROR
|
A != DMA_MAPPING_ERROR
)

@ret exists@
expression A, E;
identifier fn = {dma_map_phys, ib_dma_map_bvec};
position p;
@@

A = fn@p(...);
... when != A = E
return A;

@bad@
expression A;
identifier fn = {dma_map_phys, ib_dma_map_bvec};
position p != {ok.p, ret.p};
@@

A = fn@p(...)

@depends on context@
identifier bad.fn;
position bad.p;
@@

* fn@p(...)

@script:python depends on org@
fn << bad.fn;
p << bad.p;
@@

chk = "ib_dma_mapping_error" if fn == "ib_dma_map_bvec" else "dma_mapping_error"
coccilib.org.print_todo(p[0], "result of %s() is not checked with %s()" % (fn, chk))

@script:python depends on report@
fn << bad.fn;
p << bad.p;
@@

chk = "ib_dma_mapping_error" if fn == "ib_dma_map_bvec" else "dma_mapping_error"
coccilib.report.print_report(p[0], "ERROR: result of %s() is not checked with %s()" % (fn, chk))
