// SPDX-License-Identifier: GPL-2.0-only
/// The offset argument of dma_iova_link() is the position of the range
/// inside the IOVA space reserved by dma_iova_try_alloc(): the range is
/// mapped at state->addr + offset.  A call that is executed repeatedly (in
/// a loop) with the same constant offset maps every range on top of the
/// first one.  Depending on the IOMMU driver the second link fails because
/// the IOVA is already mapped, or the earlier translation is replaced; in
/// both cases the tail of the reservation is never mapped although the
/// caller describes [0, total) to the device.  The offset normally advances
/// by the length of each linked range.
///
// Confidence: High
// Copyright: (C) 2026 RDMA demo project
// Comments: Only a constant offset is checked.  An offset held in a
//  variable that is not updated in the loop is not reported, because the
//  update can be hidden in a helper called through a pointer.  A loop in
//  which the state itself changes between iterations (one state per
//  element) is not reported either: the state expression is then reassigned
//  in the loop or contains an array subscript.
// Options: --no-includes --include-headers
// Requires: 1.1.1
// Keywords: dma_iova_link

virtual context
virtual org
virtual report

@r exists@
expression dev, st, phys, E;
constant C;
position p;
@@

dma_iova_link@p(dev, st, phys, C, ...)
... when != st = E
    when any
dma_iova_link@p(dev, st, phys, C, ...)

@script:python@
st << r.st;
@@

# One state per loop element, for example &state[i].
if "[" in st:
	cocci.include_match(False)

@depends on context@
position r.p;
@@

* dma_iova_link@p(...)

@script:python depends on org@
p << r.p;
@@

coccilib.org.print_todo(p[0], "dma_iova_link() in a loop with a constant IOVA offset")

@script:python depends on report@
p << r.p;
@@

coccilib.report.print_report(p[0],
	"ERROR: dma_iova_link() is repeated with the same constant IOVA offset; every range is mapped at the same IOVA")
