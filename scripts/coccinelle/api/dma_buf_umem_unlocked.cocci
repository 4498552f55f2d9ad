// SPDX-License-Identifier: GPL-2.0-only
/// dma_buf_map_attachment() and dma_buf_unmap_attachment() must be called
/// with the dma-buf's reservation lock held (they dma_resv_assert_held()
/// it): the lock is what keeps a mapping from being created or torn down
/// while the exporter moves the buffer and calls .invalidate_mappings.
/// The same holds for dma_buf_pin() and dma_buf_unpin(), with which an
/// importer keeps a dynamic exporter from moving the buffer, and for the
/// RDMA wrappers ib_umem_dmabuf_map_pages() and
/// ib_umem_dmabuf_unmap_pages().  Code that does not hold the lock must
/// take it (dma_resv_lock(), ib_umem_dmabuf_revoke_lock()) or use
/// dma_buf_map_attachment_unlocked() / dma_buf_unmap_attachment_unlocked().
/// Find such calls in functions that neither take the lock on the way to
/// the call nor assert that it is held.
///
// Confidence: Moderate
// Copyright: (C) 2026 RDMA demo project
// Comments: The lock counts as taken when every path from the start of the
//  function to the call passes a dma_resv or ww_mutex lock function or a
//  known helper that returns with it held (ib_umem_dmabuf_revoke_lock,
//  ib_umem_dmabuf_get_pinned_revocable_and_lock, ttm_bo_reserve,
//  amdgpu_bo_reserve, xe_bo_lock, i915_gem_object_lock, drm_exec_lock_obj,
//  drm_gem_lock and the like), and no unlock comes after it.  A function
//  of the same file that can return with a dma_resv lock it took still
//  held is a lock helper too, but for it one path through it suffices.
//  The locked object is not compared with the call's dma-buf: any
//  reservation lock counts.  A function that asserts the lock before the
//  call (dma_resv_assert_held, lockdep_assert_held on a ww_mutex base,
//  dma_resv_held, i915's assert_object_held, xe_bo_assert_held, and
//  ttm_bo_pin()/ttm_bo_unpin(), which assert the lock themselves) is
//  trusted.  Callbacks that their framework calls with the reservation
//  held are not checked: dma_buf_attach_ops.invalidate_mappings (the
//  dma-buf core holds the lock), ttm_device_funcs.move and
//  .delete_mem_notify, drm_i915_gem_object_ops.get_pages and .put_pages,
//  when named in an initializer of that structure in the same file; nor
//  is a static function all of whose callers in the file are such
//  callbacks (one level only).  Other callbacks (file operations, TTM's
//  ttm_tt_unpopulate, functions passed as arguments) are checked like any
//  function.  A helper that relies on its callers' lock without asserting
//  it is reported: annotate it with dma_resv_assert_held().
// Options: --no-includes --include-headers
// Requires: 1.1.1
// Keywords: ib_umem_dmabuf_map_pages, ib_umem_dmabuf_unmap_pages
// Keywords: dma_buf_map_attachment, dma_buf_unmap_attachment
// Keywords: dma_buf_pin, dma_buf_unpin

virtual context
virtual org
virtual report

@initialize:python@
@@

# (file, function) pairs: locked callbacks, static functions; callers
cbs = set()
statics = set()
callers = {}

def silent(file, fn):
	if (file, fn) in cbs:
		return True
	cs = callers.get((file, fn))
	if not cs or (file, fn) not in statics:
		return False
	return all((file, c) in cbs for c in cs)

// Functions of this file that can return with a reservation lock held.
@wrap exists@
identifier w;
expression L;
@@

w(...) {
... when any
(
dma_resv_lock(L, ...)
|
dma_resv_lock_interruptible(L, ...)
|
dma_resv_trylock(L)
)
... when != dma_resv_unlock(L)
}

@wrapped exists@
identifier wrap.w;
identifier F = {ib_umem_dmabuf_map_pages, ib_umem_dmabuf_unmap_pages,
		dma_buf_map_attachment, dma_buf_unmap_attachment,
		dma_buf_pin, dma_buf_unpin};
position p;
@@

w(...)
... when != dma_resv_unlock(...)
    when any
F@p(...)

// Reached from the function entry without a lock or an assertion, or after
// an unlock without a new lock.
@r1 exists@
identifier fn;
identifier F = {ib_umem_dmabuf_map_pages, ib_umem_dmabuf_unmap_pages,
		dma_buf_map_attachment, dma_buf_unmap_attachment,
		dma_buf_pin, dma_buf_unpin};
identifier LK = {dma_resv_lock, dma_resv_lock_interruptible,
		 dma_resv_trylock, dma_resv_lock_slow,
		 dma_resv_lock_slow_interruptible, ww_mutex_lock,
		 ww_mutex_lock_interruptible, ww_mutex_trylock,
		 ww_mutex_lock_slow, ww_mutex_lock_slow_interruptible,
		 ib_umem_dmabuf_revoke_lock,
		 ib_umem_dmabuf_get_pinned_revocable_and_lock,
		 ttm_bo_reserve, ttm_bo_reserve_slowpath, amdgpu_bo_reserve,
		 xe_bo_lock, i915_gem_object_lock,
		 i915_gem_object_lock_interruptible, i915_gem_object_trylock,
		 drm_exec_lock_obj, drm_exec_prepare_obj, drm_gem_lock};
identifier AS = {dma_resv_assert_held, dma_resv_held, assert_object_held,
		 xe_bo_assert_held, ttm_bo_pin, ttm_bo_unpin};
expression E;
position p != wrapped.p;
@@

fn(...) {
... when != LK(...)
    when != AS(...)
    when != lockdep_assert_held(&E->lock.base)
    when != lockdep_assert_held(&E.lock.base)
    when any
F@p(...)
... when any
}

@r2 exists@
identifier fn;
identifier F = {ib_umem_dmabuf_map_pages, ib_umem_dmabuf_unmap_pages,
		dma_buf_map_attachment, dma_buf_unmap_attachment,
		dma_buf_pin, dma_buf_unpin};
identifier LK = {dma_resv_lock, dma_resv_lock_interruptible,
		 dma_resv_trylock, dma_resv_lock_slow,
		 dma_resv_lock_slow_interruptible, ww_mutex_lock,
		 ww_mutex_lock_interruptible, ww_mutex_trylock,
		 ww_mutex_lock_slow, ww_mutex_lock_slow_interruptible,
		 ib_umem_dmabuf_revoke_lock,
		 ib_umem_dmabuf_get_pinned_revocable_and_lock,
		 ttm_bo_reserve, ttm_bo_reserve_slowpath, amdgpu_bo_reserve,
		 xe_bo_lock, i915_gem_object_lock,
		 i915_gem_object_lock_interruptible, i915_gem_object_trylock,
		 drm_exec_lock_obj, drm_exec_prepare_obj, drm_gem_lock};
identifier UL = {dma_resv_unlock, ww_mutex_unlock,
		 ib_umem_dmabuf_revoke_unlock, ttm_bo_unreserve,
		 amdgpu_bo_unreserve, xe_bo_unlock, i915_gem_object_unlock,
		 drm_gem_unlock};
position p != {wrapped.p, r1.p};
@@

fn(...) {
... when any
UL(...);
... when != LK(...)
    when any
F@p(...)
... when any
}

// Callback and caller analysis for the functions that hold such calls.
@encl@
identifier fn;
identifier F = {ib_umem_dmabuf_map_pages, ib_umem_dmabuf_unmap_pages,
		dma_buf_map_attachment, dma_buf_unmap_attachment,
		dma_buf_pin, dma_buf_unpin};
@@

fn(...) { <+... F(...) ...+> }

@st@
identifier encl.fn;
type T;
position q;
@@

static T fn@q(...) { ... }

@script:python@
fn << encl.fn;
q << st.q;
@@

statics.add((q[0].file, fn))

@hcaller@
identifier encl.fn, c;
position q;
@@

c(...) { <+... fn@q(...) ...+> }

@script:python@
fn << encl.fn;
c << hcaller.c;
q << hcaller.q;
@@

callers.setdefault((q[0].file, fn), set()).add(c)

// Callbacks that their framework calls with the object's reservation held.
@lcb@
identifier I, fn;
position q;
@@

(
struct dma_buf_attach_ops I = {
	..., .invalidate_mappings = \(fn@q\|&fn@q\), ...
};
|
struct dma_buf_attach_ops I = {
	..., .move_notify = \(fn@q\|&fn@q\), ...
};
|
struct ttm_device_funcs I = {
	..., .move = \(fn@q\|&fn@q\), ...
};
|
struct ttm_device_funcs I = {
	..., .delete_mem_notify = \(fn@q\|&fn@q\), ...
};
|
struct drm_i915_gem_object_ops I = {
	..., .get_pages = \(fn@q\|&fn@q\), ...
};
|
struct drm_i915_gem_object_ops I = {
	..., .put_pages = \(fn@q\|&fn@q\), ...
};
)

@script:python@
fn << lcb.fn;
q << lcb.q;
@@

cbs.add((q[0].file, fn))

@script:python@
fn << r1.fn;
p << r1.p;
@@

if silent(p[0].file, fn):
	cocci.include_match(False)

@script:python@
fn << r2.fn;
p << r2.p;
@@

if silent(p[0].file, fn):
	cocci.include_match(False)

@depends on context@
identifier r1.F;
position r1.p;
@@

* F@p(...)

@depends on context@
identifier r2.F;
position r2.p;
@@

* F@p(...)

@script:python depends on org@
F << r1.F;
p << r1.p;
@@

coccilib.org.print_todo(p[0],
	"%s() without the dma-buf reservation lock held" % F)

@script:python depends on org@
F << r2.F;
p << r2.p;
@@

coccilib.org.print_todo(p[0],
	"%s() after the dma-buf reservation lock was dropped" % F)

@script:python depends on report@
F << r1.F;
p << r1.p;
@@

coccilib.report.print_report(p[0],
	"WARNING: %s() without the dma-buf reservation lock held or asserted"
	% F)

@script:python depends on report@
F << r2.F;
p << r2.p;
@@

coccilib.report.print_report(p[0],
	"WARNING: %s() after the dma-buf reservation lock was dropped" % F)
