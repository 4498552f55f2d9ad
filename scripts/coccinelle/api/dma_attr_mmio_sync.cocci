// SPDX-License-Identifier: GPL-2.0-only
/// A mapping made with DMA_ATTR_MMIO (dma_map_phys() or dma_iova_link()
/// with the attribute, or dma_map_resource(), which always adds it)
/// describes memory that is not normal RAM: a PCI BAR or other MMIO used
/// for peer-to-peer DMA.  Such an address must never be mapped cacheable
/// and is never bounced through swiotlb, so it must not be given to the
/// CPU cache sync calls.  dma_sync_single_for_cpu()/_for_device(), their
/// _range_ variants and ib_dma_sync_single_for_*() translate the DMA
/// address back to a physical address and, on a non-coherent device, run
/// arch cache maintenance on it through the kernel linear map, which does
/// not cover MMIO.  dma_iova_sync() is an IOTLB sync, not a cache sync,
/// and is fine after linking MMIO.
///
// Confidence: Moderate
// Copyright: (C) 2026 RDMA demo project
// Comments: The check is limited to one function.  A mapping counts as
//  MMIO when the attrs argument contains DMA_ATTR_MMIO (also inside a
//  "c ? DMA_ATTR_MMIO : 0" expression), when it is a variable that was
//  given DMA_ATTR_MMIO on some path before the call and not reassigned,
//  or when it is dma_map_resource().  The synced address must contain the
//  expression the mapping was assigned to (so "addr + off" and a struct
//  member such as "buf->dma" are followed), or a variable or member that
//  was assigned from it; for dma_iova_link() it must contain state->addr
//  (or state.addr for "&state").  Run-time choices: a sync is reported
//  when some path from the MMIO mapping reaches it, except (a) when that
//  path passes a statement that mentions DMA_ATTR_MMIO, such as
//  "if (attrs & DMA_ATTR_MMIO) return 0;" (the polarity of that test is
//  not checked), or (b) when the sync sits in an if branch whose test
//  contradicts the test that chose MMIO in the same function, as in
//  "if (p2p) attrs |= DMA_ATTR_MMIO; ... if (!p2p) dma_sync_...()".
//  Tests are compared as text, split at top-level && and ||, with
//  "!x", "x == 0" and "x != 0" understood; "if (p2p) return;" before the
//  sync is not understood and is reported.  Scatterlist syncs are not
//  checked: DMA_ATTR_MMIO cannot be given to the scatterlist map calls
//  (see dma_attr_mmio_page.cocci) and a table filled from dma_map_phys()
//  is synced in other functions.
// Options: --no-includes --include-headers
// Requires: 1.1.1
// Keywords: DMA_ATTR_MMIO, dma_map_resource

virtual context
virtual org
virtual report

@initialize:python@
@@

import re

# (file, function) -> list of (line, col) of MMIO choices
mmio_at = {}
# (file, function) -> set of (condition, if position, side, branch span)
branches = {}
# (file, function) -> list of (condition, side) of "c ? MMIO : x"
tern = {}
# (file, line, col) of map calls that produce an MMIO mapping
mmio_maps = set()


def fkey(p):
	return (p[0].file, p[0].current_element)


def pkey(p):
	return (p[0].file, p[0].line, p[0].column)


def span(p):
	return (int(p[0].line), int(p[0].column),
		int(p[0].line_end), int(p[0].column_end))


def within(lc, s):
	return (s[0], s[1]) <= lc <= (s[2], s[3])


def strip(e):
	e = re.sub(r"\s+", "", e)
	while e.startswith("(") and e.endswith(")"):
		d = 0
		for i, ch in enumerate(e):
			d += ch == "("
			d -= ch == ")"
			if d == 0 and i < len(e) - 1:
				return e
		e = e[1:-1]
	return e


def split_top(e, op):
	parts, d, last, i = [], 0, 0, 0
	while i < len(e):
		if e[i] in "([":
			d += 1
		elif e[i] in ")]":
			d -= 1
		elif d == 0 and e.startswith(op, i):
			parts.append(e[last:i])
			last = i + len(op)
			i = last
			continue
		i += 1
	parts.append(e[last:])
	return parts


def lit(x):
	x = strip(x)
	if x.startswith("!") and not x.startswith("!="):
		return (strip(x[1:]), False)
	m = re.fullmatch(r"(.+)(==|!=)(0|NULL|false)", x)
	if m:
		return (strip(m.group(1)), m.group(2) == "!=")
	return (x, True)


def lits(cond, side):
	"""Facts known to hold inside the given branch of "if (cond)"."""
	e = strip(cond)
	if side == "then":
		return set(lit(x) for x in split_top(e, "&&"))
	return set((x, not b) for (x, b) in
		   (lit(y) for y in split_top(e, "||")))


def is_mmio_map(p):
	return pkey(p) in mmio_maps


def guarded(p):
	k = fkey(p)
	lc = (int(p[0].line), int(p[0].column))
	marks = mmio_at.get(k, [])
	brs = branches.get(k, set())
	# Facts that hold where an MMIO choice is made: the test of an if
	# of which exactly one branch (a missing else counts) makes an MMIO
	# choice, or of a "c ? DMA_ATTR_MMIO : x" expression.
	sides = {}
	for (c, i, side, s) in brs:
		has = any(within(m, s) for m in marks)
		sides.setdefault((c, i), {})[side] = has
	need = set()
	for ((c, i), hs) in sides.items():
		t, e = hs.get("then", False), hs.get("else", False)
		if t != e:
			need |= lits(c, "then" if t else "else")
	for (c, side) in tern.get(k, []):
		need |= lits(c, side)
	# The sync is guarded when a branch around it contradicts one.
	for (c, i, side, s) in brs:
		if not within(lc, s):
			continue
		if any(within(m, s) for m in marks):
			continue
		if any((x, not b) in need for (x, b) in lits(c, side)):
			return True
	return False

// Where the MMIO choices are (not the unmap calls that repeat the
// attribute), and the if branches around them.

@mark@
identifier fn = {dma_map_phys, dma_iova_link};
expression a;
position p;
@@

(
a |= <+... DMA_ATTR_MMIO@p ...+>
|
a = <+... DMA_ATTR_MMIO@p ...+>
|
fn(..., <+... DMA_ATTR_MMIO@p ...+>)
|
dma_map_resource@p(...)
)

@script:python@
p << mark.p;
@@

mmio_at.setdefault(fkey(p), []).append((int(p[0].line), int(p[0].column)))

@br1 disable neg_if, ne_if@
expression C;
statement S1, S2;
position pi, ps;
@@

if@pi (C) S1@ps else S2

@script:python@
C << br1.C;
pi << br1.pi;
ps << br1.ps;
@@

branches.setdefault(fkey(ps), set()).add((C, pkey(pi), "then", span(ps)))

@br2 disable neg_if, ne_if@
expression C;
statement S1, S2;
position pi, ps;
@@

if@pi (C) S1 else S2@ps

@script:python@
C << br2.C;
pi << br2.pi;
ps << br2.ps;
@@

branches.setdefault(fkey(ps), set()).add((C, pkey(pi), "else", span(ps)))

@br3 disable neg_if, ne_if@
expression C;
statement S1;
position pi, ps;
@@

if@pi (C) S1@ps

@script:python@
C << br3.C;
pi << br3.pi;
ps << br3.ps;
@@

branches.setdefault(fkey(ps), set()).add((C, pkey(pi), "then", span(ps)))

@te disable neg_if_exp@
expression C, E1, E2;
position p;
@@

C ?@p E1 : E2

@script:python@
C << te.C;
E1 << te.E1;
E2 << te.E2;
p << te.p;
@@

mm = re.compile(r"\bDMA_ATTR_MMIO\b")
if mm.search(E1) and not mm.search(E2):
	tern.setdefault(fkey(p), []).append((C, "then"))
elif mm.search(E2) and not mm.search(E1):
	tern.setdefault(fkey(p), []).append((C, "else"))

// The map calls that produce an MMIO mapping.

@mc@
identifier fn = {dma_map_phys, dma_iova_link};
position p;
@@

(
fn@p(..., <+... DMA_ATTR_MMIO ...+>)
|
dma_map_resource@p(...)
)

@script:python@
p << mc.p;
@@

mmio_maps.add(pkey(p))

@mv exists@
identifier fn = {dma_map_phys, dma_iova_link};
expression a, E;
position p;
@@

(
a |= <+... DMA_ATTR_MMIO ...+>
|
a = <+... DMA_ATTR_MMIO ...+>
)
... when != a = E
fn@p(..., a)

@script:python@
p << mv.p;
@@

mmio_maps.add(pkey(p))

// A sync on an address produced by one of them.

@s1 exists@
identifier fn = {dma_map_phys, dma_map_resource};
identifier sync = {dma_sync_single_for_cpu, dma_sync_single_for_device,
	dma_sync_single_range_for_cpu, dma_sync_single_range_for_device,
	ib_dma_sync_single_for_cpu, ib_dma_sync_single_for_device};
expression A, D, E;
position pm : script:python() { is_mmio_map(pm) };
position ps : script:python() { not guarded(ps) };
@@

A = fn@pm(...)
... when != A = E
    when != DMA_ATTR_MMIO
sync@ps(D, <+... A ...+>, ...)

@s3 exists@
identifier fn = {dma_map_phys, dma_map_resource};
identifier sync = {dma_sync_single_for_cpu, dma_sync_single_for_device,
	dma_sync_single_range_for_cpu, dma_sync_single_range_for_device,
	ib_dma_sync_single_for_cpu, ib_dma_sync_single_for_device};
expression A, B, D, E, F;
position pm : script:python() { is_mmio_map(pm) };
position ps : script:python() { not guarded(ps) };
@@

A = fn@pm(...)
... when != A = E
    when != DMA_ATTR_MMIO
B = A
... when != B = F
    when != A = E
    when != DMA_ATTR_MMIO
sync@ps(D, <+... B ...+>, ...)

@s2 exists@
identifier sync = {dma_sync_single_for_cpu, dma_sync_single_for_device,
	dma_sync_single_range_for_cpu, dma_sync_single_range_for_device,
	ib_dma_sync_single_for_cpu, ib_dma_sync_single_for_device};
expression X, D, D0;
identifier fn = dma_iova_link;
position pm : script:python() { is_mmio_map(pm) };
position ps : script:python() { not guarded(ps) };
@@

fn@pm(D0, &X, ...)
... when != DMA_ATTR_MMIO
sync@ps(D, <+... X.addr ...+>, ...)

@s4 exists@
identifier sync = {dma_sync_single_for_cpu, dma_sync_single_for_device,
	dma_sync_single_range_for_cpu, dma_sync_single_range_for_device,
	ib_dma_sync_single_for_cpu, ib_dma_sync_single_for_device};
expression S, D, D0;
identifier fn = dma_iova_link;
position pm : script:python() { is_mmio_map(pm) };
position ps : script:python() { not guarded(ps) };
@@

fn@pm(D0, S, ...)
... when != DMA_ATTR_MMIO
sync@ps(D, <+... S->addr ...+>, ...)

@depends on context@
identifier s1.fn, s1.sync;
position s1.pm, s1.ps;
@@

(
* fn@pm(...)
|
* sync@ps(...)
)

@depends on context@
identifier s3.fn, s3.sync;
position s3.pm, s3.ps;
@@

(
* fn@pm(...)
|
* sync@ps(...)
)

@depends on context@
identifier s2.fn, s2.sync;
position s2.pm, s2.ps;
@@

(
* fn@pm(...)
|
* sync@ps(...)
)

@depends on context@
identifier s4.fn, s4.sync;
position s4.pm, s4.ps;
@@

(
* fn@pm(...)
|
* sync@ps(...)
)

@script:python depends on org@
fn << s1.fn;
sync << s1.sync;
pm << s1.pm;
ps << s1.ps;
@@

coccilib.org.print_todo(ps[0],
	"%s() on a DMA_ATTR_MMIO mapping (%s() on line %s)" %
	(sync, fn, pm[0].line))

@script:python depends on org@
fn << s3.fn;
sync << s3.sync;
pm << s3.pm;
ps << s3.ps;
@@

coccilib.org.print_todo(ps[0],
	"%s() on a DMA_ATTR_MMIO mapping (%s() on line %s)" %
	(sync, fn, pm[0].line))

@script:python depends on org@
fn << s2.fn;
sync << s2.sync;
pm << s2.pm;
ps << s2.ps;
@@

coccilib.org.print_todo(ps[0],
	"%s() on a DMA_ATTR_MMIO mapping (%s() on line %s)" %
	(sync, fn, pm[0].line))

@script:python depends on org@
fn << s4.fn;
sync << s4.sync;
pm << s4.pm;
ps << s4.ps;
@@

coccilib.org.print_todo(ps[0],
	"%s() on a DMA_ATTR_MMIO mapping (%s() on line %s)" %
	(sync, fn, pm[0].line))

@script:python depends on report@
fn << s1.fn;
sync << s1.sync;
pm << s1.pm;
ps << s1.ps;
@@

coccilib.report.print_report(ps[0],
	"ERROR: %s() on a DMA_ATTR_MMIO mapping (%s() on line %s); "
	"MMIO is neither cached nor bounced, do not sync it" %
	(sync, fn, pm[0].line))

@script:python depends on report@
fn << s3.fn;
sync << s3.sync;
pm << s3.pm;
ps << s3.ps;
@@

coccilib.report.print_report(ps[0],
	"ERROR: %s() on a DMA_ATTR_MMIO mapping (%s() on line %s); "
	"MMIO is neither cached nor bounced, do not sync it" %
	(sync, fn, pm[0].line))

@script:python depends on report@
fn << s2.fn;
sync << s2.sync;
pm << s2.pm;
ps << s2.ps;
@@

coccilib.report.print_report(ps[0],
	"ERROR: %s() on a DMA_ATTR_MMIO mapping (%s() on line %s); "
	"MMIO is neither cached nor bounced, do not sync it" %
	(sync, fn, pm[0].line))

@script:python depends on report@
fn << s4.fn;
sync << s4.sync;
pm << s4.pm;
ps << s4.ps;
@@

coccilib.report.print_report(ps[0],
	"ERROR: %s() on a DMA_ATTR_MMIO mapping (%s() on line %s); "
	"MMIO is neither cached nor bounced, do not sync it" %
	(sync, fn, pm[0].line))
