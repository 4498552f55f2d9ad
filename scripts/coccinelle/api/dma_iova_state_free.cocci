// SPDX-License-Identifier: GPL-2.0-only
/// A dma_iova_state filled in by a successful dma_iova_try_alloc() owns a
/// range of the IOMMU domain's IOVA space until dma_iova_free() or
/// dma_iova_destroy() gives it back.  Freeing the memory that holds the
/// state first loses the only record of the reservation, so the IOVA range
/// is leaked for the life of the domain.  Find kfree() of a state that was
/// reserved in the same function, on a path without dma_iova_free(),
/// dma_iova_destroy() or a dma_use_iova() test of that state.
///
// Confidence: Moderate
// Copyright: (C) 2026 RDMA demo project
// Comments: The reservation is tracked from a dma_iova_try_alloc() call
//  whose result is ignored, or from the code after
//  "if (!dma_iova_try_alloc(...)) S" (the fallback branch S is not
//  followed).  A path that tests dma_use_iova() on the state is not
//  followed, since such code usually frees the reservation under that
//  test.  Conditions are not evaluated, so a path that spatch follows
//  may be infeasible; check each report against the control flow.
// Options: --no-includes --include-headers
// Requires: 1.1.1
// Keywords: dma_iova_try_alloc

virtual context
virtual org
virtual report

@r exists@
expression dev, dev2, st, E;
statement S;
position p1, p2;
@@

(
dma_iova_try_alloc@p1(dev, st, ...);
|
if (!dma_iova_try_alloc@p1(dev, st, ...)) S
)
... when != dma_iova_free(dev2, st)
    when != dma_iova_destroy(dev2, st, ...)
    when != dma_use_iova(st)
    when != st = E
kfree@p2(st);

@depends on context@
position r.p1;
identifier fn;
@@

* fn@p1(...)

@depends on context@
position r.p2;
@@

* kfree@p2(...);

@script:python depends on org@
p1 << r.p1;
p2 << r.p2;
@@

coccilib.org.print_todo(p2[0], "IOVA state freed without dma_iova_free(); the reservation from line %s leaks" % p1[0].line)

@script:python depends on report@
p1 << r.p1;
p2 << r.p2;
@@

coccilib.report.print_report(p2[0], "ERROR: IOVA state freed without dma_iova_free(); the reservation from line %s leaks" % p1[0].line)
