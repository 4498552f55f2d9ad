// SPDX-License-Identifier: GPL-2.0-only
/// When the exporter calls an importer's
/// dma_buf_attach_ops.invalidate_mappings, the importer's device may still
/// be using the mapping: the importer must first make the device stop
/// (zap the translation in the device, evict, wait for its fences) and
/// only then give the mapping back with dma_buf_unmap_attachment() or
/// ib_umem_dmabuf_unmap_pages().  Unmapping first leaves the device with
/// DMA addresses that the exporter may already have freed, moved or
/// handed out again.  Find invalidate_mappings callbacks whose first
/// effectful call is the unmap.
///
// Confidence: Low
// Copyright: (C) 2026 RDMA demo project
// Comments: Only callbacks named in a struct dma_buf_attach_ops initializer
//  of the same file are checked, and only their own body: an unmap done
//  by a helper the callback calls is not seen.  Any call before the unmap
//  on some path counts as a step that could stop the device, except lock
//  assertions (dma_resv_assert_held, lockdep_assert_*, might_sleep),
//  accessors (container_of, to_*, x_to_*), READ_ONCE, likely/unlikely,
//  IS_ERR*/PTR_ERR and WARN*/BUG_ON, and other unmaps.  Any other call,
//  even a lock or a predicate in an early-return test, or a call through a
//  function pointer, silences the rule; whether it really stops the device
//  is not checked.  Conversely a callback whose device cannot be using the
//  mapping (e.g. it only maps around synchronous CPU work) is reported.
//  An importer that sets fences for all its accesses and lets the exporter
//  wait for them still must not unmap before they signal.
// Options: --no-includes --include-headers
// Requires: 1.1.1
// Keywords: invalidate_mappings, move_notify

virtual context
virtual org
virtual report

@initialize:python@
@@

import re

# Calls that cannot stop the device: assertions, accessors, pure helpers,
# and the unmaps themselves.
harmless = re.compile(r"^(dma_resv_assert_held|lockdep_assert_[a-z_]*|"
	r"might_sleep|container_of|container_of_const|to_[a-z0-9_]+|"
	r"[a-z0-9]+_to_[a-z0-9_]+|READ_ONCE|likely|unlikely|"
	r"IS_ERR|IS_ERR_OR_NULL|PTR_ERR|WARN|WARN_ON|WARN_ONCE|WARN_ON_ONCE|"
	r"drm_WARN_ON|drm_WARN_ON_ONCE|BUG_ON|"
	r"ib_umem_dmabuf_unmap_pages|dma_buf_unmap_attachment|"
	r"dma_buf_unmap_attachment_unlocked|dma_unmap_sgtable|dma_unmap_sg|"
	r"dma_unmap_sg_attrs|dma_unmap_page|dma_unmap_page_attrs|"
	r"dma_unmap_phys|dma_unmap_resource|dma_iova_unlink|"
	r"dma_iova_destroy)$")

def may_stop(g):
	return not harmless.match(g)

@cb@
identifier I, fn;
@@

(
struct dma_buf_attach_ops I = { ..., .invalidate_mappings = \(fn\|&fn\), ... };
|
struct dma_buf_attach_ops I = { ..., .move_notify = \(fn\|&fn\), ... };
)

// An unmap that some path reaches after a call that may stop the device.
@stop exists@
identifier cb.fn;
identifier U = {ib_umem_dmabuf_unmap_pages, dma_buf_unmap_attachment,
		dma_buf_unmap_attachment_unlocked, dma_unmap_sgtable,
		dma_unmap_sg, dma_unmap_sg_attrs, dma_unmap_page,
		dma_unmap_page_attrs, dma_unmap_phys, dma_unmap_resource,
		dma_iova_unlink, dma_iova_destroy};
identifier g : script:python () { may_stop(g) };
expression E;
identifier fld;
position p;
@@

fn(...) {
... when any
(
g(...)
|
E->fld(...)
|
E.fld(...)
)
... when any
U@p(...)
... when any
}

@r@
identifier cb.fn;
identifier U = {ib_umem_dmabuf_unmap_pages, dma_buf_unmap_attachment,
		dma_buf_unmap_attachment_unlocked, dma_unmap_sgtable,
		dma_unmap_sg, dma_unmap_sg_attrs, dma_unmap_page,
		dma_unmap_page_attrs, dma_unmap_phys, dma_unmap_resource,
		dma_iova_unlink, dma_iova_destroy};
position p != stop.p;
@@

fn(...) { <+... U@p(...) ...+> }

@depends on context@
identifier r.U;
position r.p;
@@

* U@p(...)

@script:python depends on org@
fn << cb.fn;
U << r.U;
p << r.p;
@@

coccilib.org.print_todo(p[0],
	"%s() in invalidate_mappings callback %s() before the device is stopped"
	% (U, fn))

@script:python depends on report@
fn << cb.fn;
U << r.U;
p << r.p;
@@

coccilib.report.print_report(p[0],
	"WARNING: %s() in invalidate_mappings callback %s() before "
	"anything that could stop the device" % (U, fn))
