// SPDX-License-Identifier: GPL-2.0-only
/// RDMA drivers must take the DMA addresses of a pinned user memory region
/// (struct ib_umem, also embedded as the umem member of ib_umem_odp and
/// ib_umem_dmabuf) through the helpers of include/rdma/ib_umem.h and
/// include/rdma/ib_verbs.h: ib_umem_find_best_pgsz(),
/// ib_umem_num_dma_blocks(), rdma_umem_for_each_dma_block() with
/// rdma_block_iter_dma_address(), ib_umem_is_contiguous(),
/// ib_umem_start_dma_addr() and ib_umem_dma_offset().  The scatterlist in
/// umem->sgt_append is an implementation detail of the core: ib_umem is
/// moving to the DMA IOVA range API and will then not build a scatterlist
/// at all.  Reading umem->sgt_append (its sgt, sgl, nents, or walking it
/// with for_each_sgtable_*()) outside the core breaks with that change.
///
// Confidence: High
// Copyright: (C) 2026 RDMA demo project
// Comments: Every access to a member called sgt_append is reported, once
//  per access, unless the type of the expression before "->" or "." is
//  known to spatch and is not struct ib_umem (a driver structure declared
//  in the same file).  With --no-includes the type of a member such as
//  mr->umem or umem_dmabuf->umem is not known; in the kernel only struct
//  ib_umem has a member of that name, so those accesses are reported too.
//  Files under drivers/infiniband/core/ and the core headers
//  include/rdma/ib_umem*.h and include/rdma/iter.h are skipped: they
//  implement the helpers.  (The test is on the absolute path: under
//  make coccicheck M=dir spatch names files relative to dir.)  Software drivers (rxe, siw, rdmavt) that walk
//  the CPU pages of a umem are reported as well; they need a page
//  iterator from the core rather than a DMA block helper.
// Options: --no-includes --include-headers
// Requires: 1.1.1
// Keywords: sgt_append

virtual context
virtual org
virtual report

@initialize:python@
@@

import os
import re

# (file, line, column) of accesses whose base has a known non-umem type
not_umem = set()

CORE = re.compile(r"(^|/)(drivers/infiniband/core/[^/]+|"
		  r"include/rdma/(ib_umem[a-z_]*|iter)\.h)$")


def pkey(p):
	return (p[0].file, p[0].line, p[0].column)


def is_umem_type(t):
	t = " ".join(t.split())
	return t in ("struct ib_umem", "struct ib_umem *")


def in_driver(p):
	return (CORE.search(os.path.abspath(p[0].file)) is None and
		pkey(p) not in not_umem)

@typed@
type T;
T E;
position p;
@@

(
E@p->sgt_append
|
E@p.sgt_append
)

@script:python@
T << typed.T;
p << typed.p;
@@

if not is_umem_type(T):
	not_umem.add(pkey(p))

@r@
expression E;
position p : script:python() { in_driver(p) };
@@

(
E@p->sgt_append
|
E@p.sgt_append
)

@depends on context@
expression r.E;
position r.p;
@@

(
* E@p->sgt_append
|
* E@p.sgt_append
)

@script:python depends on org@
E << r.E;
p << r.p;
@@

coccilib.org.print_todo(p[0],
	"ib_umem scatterlist of %s used directly; use the ib_umem DMA helpers"
	% E)

@script:python depends on report@
E << r.E;
p << r.p;
@@

coccilib.report.print_report(p[0],
	"WARNING: ib_umem scatterlist used directly (sgt_append); use "
	"rdma_umem_for_each_dma_block() or the ib_umem_*() DMA helpers")
