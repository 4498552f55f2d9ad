// SPDX-License-Identifier: GPL-2.0-only
/// struct dma_iova_state is filled in by dma_iova_try_alloc() and then
/// owned by the IOVA API.  __size carries the reserved length together
/// with the private DMA_IOVA_USE_SWIOTLB flag that dma_iova_link() sets
/// and dma_iova_unlink() relies on; users ask dma_use_iova() whether the
/// IOVA path was taken and dma_iova_size() for the length.  Reading
/// __size directly sees the flag in bit 63; writing either field
/// desynchronises the state from the IOMMU reservation, so that
/// dma_iova_unlink()/dma_iova_free() unmap or free the wrong IOVA range.
/// Find accesses to __size and writes to addr outside the implementation.
///
// Confidence: High
// Copyright: (C) 2026 RDMA demo project
// Comments: Reading addr is not reported: in v7.3 there is no accessor for
//  the base of the reserved range, the field has no "__" prefix, and the
//  API's own users (mm/hmm.c, block/blk-mq-dma.c, drivers/infiniband/core/
//  rw.c, drivers/dma-buf/dma-buf-mapping.c, net/core/tso.c) read
//  state->addr to build the single DMA address they hand to the device.
//  Clearing the whole state (memset, "= (struct dma_iova_state){}") after
//  dma_iova_destroy() is the in-tree idiom and is not reported either.
//  __size has no other user in the tree and is matched by name.  For a
//  write to addr the state must be recognised: by its declared type when
//  spatch can infer it (locals, parameters, members of structures defined
//  in the file), or because the same expression is passed to a dma_iova_*
//  function or dma_use_iova() in the same file.  The implementation is
//  excluded by file name: kernel/dma/, drivers/iommu/dma-iommu.c (which
//  sets both fields in dma_iova_try_alloc() and the flag in
//  dma_iova_link()) and include/linux/dma-mapping.h (dma_iova_size() and
//  dma_use_iova()).  Prefix ++ and -- on addr are not matched (spatch
//  cannot put a position there), postfix ones are.
// Options: --no-includes --include-headers
// Requires: 1.1.1
// Keywords: dma_iova_state, dma_iova_try_alloc, dma_use_iova, __size

virtual context
virtual org
virtual report

@initialize:python@
@@

import re

IMPL = re.compile(r"(^|/)(kernel/dma/[^/]*|drivers/iommu/dma-iommu\.c|"
		  r"include/linux/dma-mapping\.h)$")

WRITE_MSG = ("addr of struct dma_iova_state written; only"
	     " dma_iova_try_alloc() may set it")

seen = set()

def user(p):
	return IMPL.search(p[0].file) is None

def plain(e):
	return re.match(r"^\w+$", e.strip()) is not None

def first(p):
	"""Report a write matched by several rules once."""
	key = (p[0].file, p[0].line, p[0].column)
	if key in seen:
		return False
	seen.add(key)
	return True

@size@
expression E;
position p : script:python () { user(p) };
@@

(
E@p->__size
|
E@p.__size
)

// States recognised by their type.
@wtype@
struct dma_iova_state *sp;
struct dma_iova_state s;
assignment operator aop;
expression E;
position p : script:python () { user(p) };
@@

(
sp@p->addr aop E
|
sp@p->addr++
|
sp@p->addr--
|
s@p.addr aop E
|
s@p.addr++
|
s@p.addr--
)

// States recognised by their use with the API: "&X" or a pointer that is
// not a plain identifier (those are typed above when they are locals or
// parameters).
@used_amp@
expression d, X;
identifier api = {dma_iova_try_alloc, dma_iova_link, dma_iova_sync,
		  dma_iova_unlink, dma_iova_destroy, dma_iova_free};
identifier chk = {dma_use_iova, dma_iova_size};
@@

(
api(d, &X, ...)
|
chk(&X)
)

@wamp@
expression used_amp.X, E;
assignment operator aop;
position p : script:python () { user(p) };
@@

(
X@p.addr aop E
|
X@p.addr++
|
X@p.addr--
)

@used_ptr@
expression d;
expression S : script:python () { not plain(S) };
identifier api = {dma_iova_try_alloc, dma_iova_link, dma_iova_sync,
		  dma_iova_unlink, dma_iova_destroy, dma_iova_free};
identifier chk = {dma_use_iova, dma_iova_size};
@@

(
api(d, S, ...)
|
chk(S)
)

@wptr@
expression used_ptr.S, E;
assignment operator aop;
position p : script:python () { user(p) };
@@

(
S@p->addr aop E
|
S@p->addr++
|
S@p->addr--
)

@depends on context@
expression E;
position p = {size.p};
@@

(
* E@p->__size
|
* E@p.__size
)

@depends on context@
expression E;
position p = {wtype.p, wamp.p, wptr.p};
@@

(
* E@p->addr
|
* E@p.addr
)

@script:python depends on org@
p << size.p;
@@

coccilib.org.print_todo(p[0], "__size of struct dma_iova_state accessed;"
			" use dma_use_iova() or dma_iova_size()")

@script:python depends on org@
p << wtype.p;
@@

if first(p):
	coccilib.org.print_todo(p[0], WRITE_MSG)

@script:python depends on org@
p << wamp.p;
@@

if first(p):
	coccilib.org.print_todo(p[0], WRITE_MSG)

@script:python depends on org@
p << wptr.p;
@@

if first(p):
	coccilib.org.print_todo(p[0], WRITE_MSG)

@script:python depends on report@
p << size.p;
@@

coccilib.report.print_report(p[0], "ERROR: __size of struct dma_iova_state"
			     " accessed; use dma_use_iova() or"
			     " dma_iova_size()")

@script:python depends on report@
p << wtype.p;
@@

if first(p):
	coccilib.report.print_report(p[0], "ERROR: " + WRITE_MSG)

@script:python depends on report@
p << wamp.p;
@@

if first(p):
	coccilib.report.print_report(p[0], "ERROR: " + WRITE_MSG)

@script:python depends on report@
p << wptr.p;
@@

if first(p):
	coccilib.report.print_report(p[0], "ERROR: " + WRITE_MSG)
