// SPDX-License-Identifier: GPL-2.0-only
/// The unmap side of the phys and IOVA DMA APIs must be given the same
/// direction and the same DMA_ATTR_MMIO setting as the map side:
///  - dma_map_phys() -> dma_unmap_phys()
///  - dma_iova_link() -> dma_iova_unlink() / dma_iova_destroy()
/// DMA_ATTR_MMIO tells the unmap path that there is no struct page and no
/// cacheable memory behind the address.  Without it, dma_unmap_phys() and
/// dma_iova_unlink() may perform CPU cache maintenance or a swiotlb bounce
/// lookup on MMIO (peer-to-peer) addresses; with it on a RAM mapping they
/// skip the cache maintenance that a non-coherent device needs.  A
/// different direction makes the unmap sync the wrong way and is reported
/// by CONFIG_DMA_API_DEBUG for the phys API.
///
// Confidence: High
// Copyright: (C) 2026 RDMA demo project
// Comments: The arguments are compared as text within one function.  For
//  DMA_ATTR_MMIO a difference is only reported when the side without the
//  attribute is made of constants only (0 and DMA_ATTR_* flags), so an
//  attrs variable that may carry DMA_ATTR_MMIO is trusted.  Directions are
//  only compared when both sides are DMA_TO_DEVICE, DMA_FROM_DEVICE or
//  DMA_BIDIRECTIONAL.  Other attributes such as DMA_ATTR_SKIP_CPU_SYNC may
//  legitimately differ between map and unmap and are not compared.  In
//  patch mode the unmap call is changed to use the direction and the
//  DMA_ATTR_MMIO setting of the map call; for dma_iova_unlink() and
//  dma_iova_destroy() the call is found again by its arguments, so an
//  identical call elsewhere in the same file is changed as well.
// Options: --no-includes --include-headers
// Requires: 1.1.1
// Keywords: dma_map_phys, dma_unmap_phys, dma_iova_link, dma_iova_unlink, dma_iova_destroy

virtual patch
virtual context
virtual org
virtual report

@phys exists@
expression D, D2, P, L, L2, A, E, dir, dir2, attrs, attrs2;
position p1, p2;
@@

A = dma_map_phys@p1(D, P, L, dir, attrs)
... when != A = E
dma_unmap_phys@p2(D2, A, L2, dir2, attrs2)

@iova exists@
expression D, D2, S, P, O, L, dir, dir2, attrs, attrs2;
identifier fn = {dma_iova_unlink, dma_iova_destroy};
position p1, p2;
@@

dma_iova_link@p1(D, S, P, O, L, dir, attrs)
...
fn@p2(D2, S, ..., dir2, attrs2)

@initialize:python@
@@

import re

DIRS = ("DMA_TO_DEVICE", "DMA_FROM_DEVICE", "DMA_BIDIRECTIONAL")

def norm(e):
	return " ".join(e.split())

def consts_only(e):
	# 0, DMA_ATTR_* flags, "|" and parentheses only
	rest = re.sub(r"\bDMA_ATTR_[A-Z0-9_]+\b", "", e)
	return re.fullmatch(r"[\s()|0-9xXuUlL]*", rest) is not None

def has_mmio(e):
	return re.search(r"\bDMA_ATTR_MMIO\b", e) is not None

def check(dir1, dir2, attrs1, attrs2):
	"""Return (message, new_dir, new_attrs) or None."""
	dir1, dir2 = norm(dir1), norm(dir2)
	attrs1, attrs2 = norm(attrs1), norm(attrs2)
	msgs = []
	new_dir, new_attrs = dir2, attrs2
	if dir1 in DIRS and dir2 in DIRS and dir1 != dir2:
		msgs.append("direction %s differs from %s used for the mapping" % (dir2, dir1))
		new_dir = dir1
	m1, m2 = has_mmio(attrs1), has_mmio(attrs2)
	if m1 and not m2 and consts_only(attrs2):
		msgs.append("DMA_ATTR_MMIO is missing")
		if consts_only(attrs1):
			new_attrs = attrs1
		elif attrs2 in ("0", "0UL"):
			new_attrs = "DMA_ATTR_MMIO"
		else:
			new_attrs = attrs2 + " | DMA_ATTR_MMIO"
	elif m2 and not m1 and consts_only(attrs1):
		msgs.append("DMA_ATTR_MMIO is set but the mapping did not use it")
		rest = re.sub(r"\s*\|\s*DMA_ATTR_MMIO\b|\bDMA_ATTR_MMIO\s*\|\s*", "", attrs2)
		if rest == "DMA_ATTR_MMIO":
			new_attrs = "0"
		elif not has_mmio(rest):
			new_attrs = rest
		else:
			new_attrs = attrs1
	if not msgs:
		return None
	return (", ".join(msgs), new_dir, new_attrs)


@script:python phys_chk@
dir << phys.dir;
dir2 << phys.dir2;
attrs << phys.attrs;
attrs2 << phys.attrs2;
ndir;
nattrs;
@@

res = check(dir, dir2, attrs, attrs2)
if res is None:
	cocci.include_match(False)
else:
	coccinelle.ndir = cocci.make_expr(res[1])
	coccinelle.nattrs = cocci.make_expr(res[2])

@script:python iova_chk@
dir << iova.dir;
dir2 << iova.dir2;
attrs << iova.attrs;
attrs2 << iova.attrs2;
ndir;
nattrs;
@@

res = check(dir, dir2, attrs, attrs2)
if res is None:
	cocci.include_match(False)
else:
	coccinelle.ndir = cocci.make_expr(res[1])
	coccinelle.nattrs = cocci.make_expr(res[2])

// The second patch rule cannot inherit a position over the changes made
// by the first one, so it matches the call again by its arguments.
@depends on patch@
expression phys.dir2, phys.attrs2;
expression phys_chk.ndir, phys_chk.nattrs;
position phys.p2;
@@

dma_unmap_phys@p2(...,
-	dir2, attrs2
+	ndir, nattrs
 )

@depends on patch@
expression iova.D2, iova.S, iova.dir2, iova.attrs2;
expression iova_chk.ndir, iova_chk.nattrs;
identifier iova.fn;
@@

fn(D2, S, ...,
-	dir2, attrs2
+	ndir, nattrs
 )

@depends on context && !patch@
position phys.p1, phys.p2;
@@

(
* dma_map_phys@p1(...)
|
* dma_unmap_phys@p2(...)
)

@depends on context && !patch@
identifier iova.fn;
position iova.p1, iova.p2;
@@

(
* dma_iova_link@p1(...)
|
* fn@p2(...)
)

@script:python depends on org@
p1 << phys.p1;
p2 << phys.p2;
dir << phys.dir;
dir2 << phys.dir2;
attrs << phys.attrs;
attrs2 << phys.attrs2;
@@

res = check(dir, dir2, attrs, attrs2)
coccilib.org.print_todo(p2[0], "dma_unmap_phys() does not match dma_map_phys() on line %s: %s" %
	(p1[0].line, res[0]))

@script:python depends on org@
fn << iova.fn;
p1 << iova.p1;
p2 << iova.p2;
dir << iova.dir;
dir2 << iova.dir2;
attrs << iova.attrs;
attrs2 << iova.attrs2;
@@

res = check(dir, dir2, attrs, attrs2)
coccilib.org.print_todo(p2[0], "%s() does not match dma_iova_link() on line %s: %s" %
	(fn, p1[0].line, res[0]))

@script:python depends on report@
p1 << phys.p1;
p2 << phys.p2;
dir << phys.dir;
dir2 << phys.dir2;
attrs << phys.attrs;
attrs2 << phys.attrs2;
@@

res = check(dir, dir2, attrs, attrs2)
coccilib.report.print_report(p2[0], "ERROR: " + "dma_unmap_phys() does not match dma_map_phys() on line %s: %s" %
	(p1[0].line, res[0]))

@script:python depends on report@
fn << iova.fn;
p1 << iova.p1;
p2 << iova.p2;
dir << iova.dir;
dir2 << iova.dir2;
attrs << iova.attrs;
attrs2 << iova.attrs2;
@@

res = check(dir, dir2, attrs, attrs2)
coccilib.report.print_report(p2[0], "ERROR: " + "%s() does not match dma_iova_link() on line %s: %s" %
	(fn, p1[0].line, res[0]))
