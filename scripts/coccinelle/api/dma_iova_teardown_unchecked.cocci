// SPDX-License-Identifier: GPL-2.0-only
/// dma_iova_try_alloc() may decline (no IOMMU DMA domain, dma-direct,
/// swiotlb, a zero or oversized length).  It then zeroes the state and
/// the caller maps each range with dma_map_phys() instead.  The teardown
/// must therefore branch on dma_use_iova(): dma_iova_destroy(),
/// dma_iova_unlink() and dma_iova_free() on a state that is not in use
/// look up the device's IOMMU DMA domain, which a dma-direct device does
/// not have (NULL dereference), or unmap and free IOVA 0 of an identity
/// or foreign domain, while the per-range mappings made by dma_map_phys()
/// are never unmapped.  Find such calls that can be reached without a
/// dma_use_iova() test of the state and without a successful
/// dma_iova_try_alloc() of it on the way.
///
// Confidence: Moderate
// Copyright: (C) 2026 RDMA demo project
// Comments: Three kinds of paths are searched, all inside one function:
//  (1) from the start of the function, for a state that is neither
//  reserved there nor tested; (2) from a goto in the branch taken when
//  dma_iova_try_alloc() returned false; (3) past a dma_iova_try_alloc()
//  whose failure branch falls through, whose result is ignored, or whose
//  result is kept in a variable that is not tested later.  A path is not
//  followed past dma_use_iova() or dma_iova_size() of the same state
//  (compared as text, so a local pointer to &obj->state is another
//  state), a dma_iova_try_alloc(), dma_iova_link() or dma_iova_sync() of
//  it (code that links the state already relies on it being in use; an
//  unchecked link is reported by dma_iova_unchecked), an earlier
//  teardown call on it, or any mention of a flag that records the path,
//  recognised by its name: use_iova, has_iova, iova_used and the like,
//  or an upper case constant containing _IOVA such as RDMA_RW_IOVA.
//  Conditions are not evaluated.  A function of path (1) that is called
//  in the same file, and only from places that come after such a test or
//  a dma_iova_try_alloc() (a teardown helper of a checking caller), is
//  not reported; a function without callers in the file (an exported or
//  ops function) is.  Unmapping ranges with dma_unmap_phys() or
//  dma_unmap_page() when the IOVA path was taken is not checked, since
//  the ranges cannot be tied to the state.
// Options: --no-includes --include-headers
// Requires: 1.1.1
// Keywords: dma_iova_destroy, dma_iova_unlink, dma_iova_free

virtual context
virtual org
virtual report

@initialize:python@
@@

import re

# (file, function) pairs: functions with a call in the file, and
# functions with a call that is reached without a test of the IOVA path.
called = set()
unguarded = set()

def jumps(s):
	"""True if statement s always leaves through return or goto."""
	s = s.strip()
	while s.endswith("}"):
		s = s[:-1].rstrip()
	last = re.split(r"[;{}]", s.rstrip(";"))[-1].strip()
	return re.match(r"(return|goto)\b", last) is not None

# A variable, member or constant that records which path was taken:
# use_iova, has_iova, iova_used, ..., or RDMA_RW_IOVA and the like.
FLAG = re.compile(r"^(?i:(use|using|has|is)_?iova|"
		  r"iova_?(used|mapped|valid|in_?use))$|"
		  r"^[A-Z0-9_]*_IOVA(_[A-Z0-9_]*)?$")

def is_flag(i):
	return FLAG.match(i) is not None

# The API itself: dma_iova_destroy() unlinks and frees.
API = ("dma_iova_destroy", "dma_iova_unlink", "dma_iova_free",
       "dma_iova_try_alloc", "dma_iova_link", "dma_iova_sync")

def in_api(p):
	return p[0].current_element in API

def helper_of_checker(p):
	key = (p[0].file, p[0].current_element)
	return in_api(p) or (key in called and key not in unguarded)

@td@
identifier fn;
identifier teardown = {dma_iova_destroy, dma_iova_unlink, dma_iova_free};
@@

fn(...) {
<+...
teardown(...)
...+>
}

@call@
identifier td.fn;
position pc;
@@

fn@pc(...)

@script:python@
pc << call.pc;
fn << td.fn;
@@

called.add((pc[0].file, fn))

@uc exists@
identifier td.fn;
expression st, d1;
expression fe;
identifier flag : script:python () { is_flag(flag) };
position pc;
@@

... when != dma_use_iova(st)
    when != dma_iova_size(st)
    when != dma_iova_try_alloc(d1, st, ...)
    when != dma_iova_link(d1, st, ...)
    when != flag
    when != fe->flag
    when != fe.flag
fn@pc(...)

@script:python@
pc << uc.pc;
fn << td.fn;
@@

unguarded.add((pc[0].file, fn))

// (1) from the start of the function
@entry exists@
expression d, d1, st;
expression fe;
identifier flag : script:python () { is_flag(flag) };
identifier teardown = {dma_iova_destroy, dma_iova_unlink, dma_iova_free};
position p : script:python () { not helper_of_checker(p) };
@@

... when != dma_use_iova(st)
    when != dma_iova_size(st)
    when != dma_iova_try_alloc(d1, st, ...)
    when != dma_iova_link(d1, st, ...)
    when != dma_iova_sync(d1, st, ...)
    when != dma_iova_destroy(d1, st, ...)
    when != dma_iova_unlink(d1, st, ...)
    when != flag
    when != fe->flag
    when != fe.flag
teardown@p(d, st, ...)

// (2) the failure branch jumps to shared unwind code
@fail_goto exists@
expression d, st;
identifier l;
statement S;
position pa, pg;
@@

(
if (!dma_iova_try_alloc@pa(d, st, ...)) { <+... goto@pg l; ...+> }
|
if (!dma_iova_try_alloc@pa(d, st, ...)) { <+... goto@pg l; ...+> } else S
|
if (dma_iova_try_alloc@pa(d, st, ...)) S else { <+... goto@pg l; ...+> }
)

@goto_bad exists@
expression fail_goto.st, d, d1;
identifier fail_goto.l;
expression fe;
identifier flag : script:python () { is_flag(flag) };
identifier teardown = {dma_iova_destroy, dma_iova_unlink, dma_iova_free};
position fail_goto.pg;
position p : script:python () { not in_api(p) };
@@

goto@pg l;
... when != dma_use_iova(st)
    when != dma_iova_size(st)
    when != dma_iova_try_alloc(d1, st, ...)
    when != dma_iova_link(d1, st, ...)
    when != dma_iova_sync(d1, st, ...)
    when != dma_iova_destroy(d1, st, ...)
    when != dma_iova_unlink(d1, st, ...)
    when != flag
    when != fe->flag
    when != fe.flag
teardown@p(d, st, ...)

// (3) the failure path falls through to the code after the reservation
@fall exists@
expression d, d1, d2, st;
expression fe;
identifier flag : script:python () { is_flag(flag) };
identifier teardown = {dma_iova_destroy, dma_iova_unlink, dma_iova_free};
statement S1;
// the failure branch: if it always leaves, the code after the "if" only
// runs after a successful reservation
statement S : script:python () { not jumps(S) };
position pa;
position p : script:python () { not in_api(p) };
@@

(
dma_iova_try_alloc@pa(d, st, ...);
|
if (!dma_iova_try_alloc@pa(d, st, ...)) S
|
if (!dma_iova_try_alloc@pa(d, st, ...)) S else S1
|
if (dma_iova_try_alloc@pa(d, st, ...)) S1
|
if (dma_iova_try_alloc@pa(d, st, ...)) S1 else S
)
... when != dma_use_iova(st)
    when != dma_iova_size(st)
    when != dma_iova_try_alloc(d1, st, ...)
    when != dma_iova_link(d1, st, ...)
    when != dma_iova_sync(d1, st, ...)
    when != dma_iova_destroy(d1, st, ...)
    when != dma_iova_unlink(d1, st, ...)
    when != flag
    when != fe->flag
    when != fe.flag
teardown@p(d2, st, ...)

@fall_var exists@
expression d, d1, d2, st, x;
expression fe;
identifier flag : script:python () { is_flag(flag) };
identifier teardown = {dma_iova_destroy, dma_iova_unlink, dma_iova_free};
position pa;
position p : script:python () { not in_api(p) };
@@

x = dma_iova_try_alloc@pa(d, st, ...)
... when != x
    when != dma_use_iova(st)
    when != dma_iova_size(st)
    when != dma_iova_try_alloc(d1, st, ...)
    when != dma_iova_link(d1, st, ...)
    when != dma_iova_sync(d1, st, ...)
    when != dma_iova_destroy(d1, st, ...)
    when != dma_iova_unlink(d1, st, ...)
    when != flag
    when != fe->flag
    when != fe.flag
teardown@p(d2, st, ...)

@depends on context@
identifier teardown;
position p = {entry.p, goto_bad.p, fall.p, fall_var.p};
@@

* teardown@p(...)

@script:python depends on org@
fn << entry.teardown;
p << entry.p;
@@

coccilib.org.print_todo(p[0],
	"%s() on a state not tested with dma_use_iova()" % fn)

@script:python depends on org@
fn << goto_bad.teardown;
pa << fail_goto.pa;
p << goto_bad.p;
@@

coccilib.org.print_todo(p[0],
	"%s() reached when dma_iova_try_alloc() on line %s failed"
	% (fn, pa[0].line))

@script:python depends on org@
fn << fall.teardown;
pa << fall.pa;
p << fall.p;
@@

coccilib.org.print_todo(p[0],
	"%s() reached when dma_iova_try_alloc() on line %s failed"
	% (fn, pa[0].line))

@script:python depends on org@
fn << fall_var.teardown;
pa << fall_var.pa;
p << fall_var.p;
@@

coccilib.org.print_todo(p[0],
	"%s() reached when dma_iova_try_alloc() on line %s failed"
	% (fn, pa[0].line))

@script:python depends on report@
fn << entry.teardown;
p << entry.p;
@@

coccilib.report.print_report(p[0],
	"WARNING: %s() on a state not tested with dma_use_iova()" % fn)

@script:python depends on report@
fn << goto_bad.teardown;
pa << fail_goto.pa;
p << goto_bad.p;
@@

coccilib.report.print_report(p[0],
	"WARNING: %s() reached when dma_iova_try_alloc() on line %s failed"
	% (fn, pa[0].line))

@script:python depends on report@
fn << fall.teardown;
pa << fall.pa;
p << fall.p;
@@

coccilib.report.print_report(p[0],
	"WARNING: %s() reached when dma_iova_try_alloc() on line %s failed"
	% (fn, pa[0].line))

@script:python depends on report@
fn << fall_var.teardown;
pa << fall_var.pa;
p << fall_var.p;
@@

coccilib.report.print_report(p[0],
	"WARNING: %s() reached when dma_iova_try_alloc() on line %s failed"
	% (fn, pa[0].line))
