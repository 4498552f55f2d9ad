// SPDX-License-Identifier: GPL-2.0-only
/// An importer that passes struct dma_buf_attach_ops to
/// dma_buf_dynamic_attach() (or to ib_umem_dmabuf_get(), which does it for
/// RDMA) creates a dynamic attachment: dma_buf_map_attachment() then no
/// longer pins the buffer, and the exporter may move or revoke the backing
/// storage at any time.  The importer learns about that only through
/// .invalidate_mappings (called move_notify before 7.3).  Ops without it,
/// in a file that never calls dma_buf_pin(), leave the device with DMA
/// addresses that can be freed under it.  Such importers should either
/// implement .invalidate_mappings or pin the attachment (for RDMA:
/// ib_umem_dmabuf_get_pinned()).
///
// Confidence: Moderate
// Copyright: (C) 2026 RDMA demo project
// Comments: Only ops defined in the same file and passed by address are
//  checked.  Any call to dma_buf_pin() in the file is taken as proof that the
//  attachments made with callback-less ops are pinned; the rule does not
//  follow which attachment is pinned.
// Options: --no-includes --include-headers
// Requires: 1.1.1
// Keywords: dma_buf_attach_ops, dma_buf_dynamic_attach, ib_umem_dmabuf_get, invalidate_mappings

virtual context
virtual org
virtual report

@has_inv@
identifier I, fn;
position pi;
@@

struct dma_buf_attach_ops I@pi = {
	...,
	.invalidate_mappings = fn,
	...
};

@ops@
identifier I;
position po != has_inv.pi;
@@

struct dma_buf_attach_ops I@po = { ... };

@pins@
@@

dma_buf_pin(...)

@call depends on !pins@
identifier ops.I;
expression E1, E2, E3;
position p;
@@

(
dma_buf_dynamic_attach@p(E1, E2, &I, E3)
|
ib_umem_dmabuf_get@p(..., &I)
)

@depends on context@
identifier ops.I;
position ops.po, call.p;
identifier fn;
@@

(
* struct dma_buf_attach_ops I@po = { ... };
|
* fn@p(...)
)

@script:python depends on org@
I << ops.I;
po << ops.po;
p << call.p;
@@

coccilib.org.print_todo(p[0], "dynamic dma-buf attachment with %s (line %s), which has no .invalidate_mappings, and the attachment is never pinned" % (I, po[0].line))

@script:python depends on report@
I << ops.I;
po << ops.po;
p << call.p;
@@

coccilib.report.print_report(p[0], "ERROR: dynamic dma-buf attachment with %s (line %s), which has no .invalidate_mappings, and the attachment is never pinned" % (I, po[0].line))
