// SPDX-License-Identifier: GPL-2.0-only
/// ib_umem_find_best_pgsz() and ib_umem_find_best_pgoff() return 0 when no
/// page size in the bitmap can describe the DMA layout of the umem.  This
/// happens even for drivers that support PAGE_SIZE: for example when the
/// user supplied IOVA plus the length overflows, or when the bitmap lacks
/// the bits needed for the in-page offset.  A result of 0 used as a page
/// size makes ib_umem_num_dma_blocks() divide by zero and turns
/// "pgsz - 1" masks into all ones, so it must be tested before use.
///
// Confidence: High
// Copyright: (C) 2026 RDMA demo project
// Comments: The result is considered checked when it is tested against zero
//  (!x, x == 0, x != 0, or used alone as an if condition) after the call,
//  or returned directly to the caller.  The check is limited to one
//  function.
// Options: --no-includes --include-headers
// Requires: 1.1.1
// Keywords: ib_umem_find_best_pgsz, ib_umem_find_best_pgoff

virtual context
virtual org
virtual report

@ok exists@
expression A, E;
identifier fn = {ib_umem_find_best_pgsz, ib_umem_find_best_pgoff};
position p;
@@

A = fn@p(...)
... when != A = E
    when any
(
!A
|
A == 0
|
A != 0
|
0 == A
)

@okif exists@
expression A, E;
identifier fn = {ib_umem_find_best_pgsz, ib_umem_find_best_pgoff};
statement S1, S2;
position p;
@@

A = fn@p(...);
... when != A = E
    when any
(
if (A) S1 else S2
|
if (A) S1
|
return A;
)

@bad@
expression A;
identifier fn = {ib_umem_find_best_pgsz, ib_umem_find_best_pgoff};
position p != {ok.p, okif.p};
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

coccilib.org.print_todo(p[0], "result of %s() is used without testing it for 0" % fn)

@script:python depends on report@
fn << bad.fn;
p << bad.p;
@@

coccilib.report.print_report(p[0], "ERROR: result of %s() is used without testing it for 0" % fn)
