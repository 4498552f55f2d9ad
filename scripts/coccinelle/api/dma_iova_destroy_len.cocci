// SPDX-License-Identifier: GPL-2.0-only
/// dma_iova_destroy(dev, state, mapped_len, dir, attrs) unlinks
/// [0, mapped_len) and then frees the whole IOVA reservation.  mapped_len
/// must be the number of bytes that were actually linked, not the size that
/// was passed to dma_iova_try_alloc().  On an unwind after a failed
/// dma_iova_link() the two differ: unlinking the unmapped tail triggers the
/// WARN_ON(unmapped != size) in dma_iova_unlink(), and for non-coherent or
/// swiotlb-using devices the slow path looks up physical addresses that do
/// not exist.
/// Also find dma_iova_destroy() with a non-zero length after the same range
/// has already been unlinked with dma_iova_unlink(); once the range is
/// unlinked only dma_iova_free() is left to do.
///
// Confidence: High
// Copyright: (C) 2026 RDMA demo project
// Comments: The first check reports dma_iova_destroy() whose length is the
//  same expression as the size given to dma_iova_try_alloc() on the same
//  state, when it can be reached from a dma_iova_link() of that state
//  without an intervening dma_iova_sync().  Once the sync has been reached
//  every link has succeeded, so destroying the full size is then correct.
//  A length variable that is reassigned between the reservation and the
//  destroy is not reported.  Only one function is examined.
// Options: --no-includes --include-headers
// Requires: 1.1.1
// Keywords: dma_iova_destroy, dma_iova_unlink, dma_iova_try_alloc

virtual context
virtual org
virtual report

@r exists@
expression dev, dev1, dev2, dev3, st, phys, size, E;
position p1, p2;
@@

dma_iova_try_alloc@p1(dev, st, phys, size)
... when != size = E
dma_iova_link(dev1, st, ...)
... when != dma_iova_sync(dev2, st, ...)
    when != size = E
dma_iova_destroy@p2(dev3, st, size, ...)

@u exists@
expression dev, dev2, st, off, len, len2;
position p1, p2;
@@

dma_iova_unlink@p1(dev, st, off, len, ...);
... when != dma_iova_link(dev2, st, ...)
dma_iova_destroy@p2(dev2, st, len2, ...)

@script:python u_nonzero@
len2 << u.len2;
@@

if len2.strip() in ("0", "0UL", "0ULL", "0U"):
	cocci.include_match(False)

@depends on context@
position r.p1, r.p2;
@@

(
* dma_iova_try_alloc@p1(...)
|
* dma_iova_destroy@p2(...)
)

@depends on context@
position u.p1, u.p2;
@@

(
* dma_iova_unlink@p1(...)
|
* dma_iova_destroy@p2(...)
)

@script:python depends on org@
p1 << r.p1;
p2 << r.p2;
@@

coccilib.org.print_todo(p2[0],
	"dma_iova_destroy() after a failed link is given the reserved size from line %s, not the linked length" % p1[0].line)

@script:python depends on org@
p1 << u.p1;
p2 << u.p2;
@@

coccilib.org.print_todo(p2[0],
	"dma_iova_destroy() unlinks again the range unlinked on line %s" % p1[0].line)

@script:python depends on report@
p1 << r.p1;
p2 << r.p2;
@@

coccilib.report.print_report(p2[0],
	"ERROR: dma_iova_destroy() after a failed link is given the reserved size from line %s, not the linked length" % p1[0].line)

@script:python depends on report@
p1 << u.p1;
p2 << u.p2;
@@

coccilib.report.print_report(p2[0],
	"ERROR: dma_iova_destroy() unlinks again the range unlinked on line %s; use dma_iova_free()" % p1[0].line)
