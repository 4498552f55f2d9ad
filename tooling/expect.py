#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""What one VM mode's tests did, against what they are expected to do.

Every test case a mode runs has one line in tooling/expect/MODE.txt:

    pass  PROGRAM: CASE
    skip  PROGRAM: CASE: REASON

PROGRAM is a kselftest program ("demo_mr"), "kunit" or "rdma-core"; CASE
is the harness case ("demo_mr.pci.one_page"), the KUnit path
("demo_rdma_data_path.demo_test_send_recv.1 bytes") or rdma-core's test
name; a kselftest program has a line of its own too (CASE "(program)"),
so one that crashed after its cases passed, or that did not run at all,
is a difference. The lines are sorted; a failure is never expected.

  expect.py check MODE RESULTS EXPECT_DIR [N]
      one TAP line "ok/not ok N vm: MODE: every test case as expected",
      with the differences as comments under it; exit 1 on a difference
  expect.py write MODE RESULTS EXPECT_DIR
      write EXPECT_DIR/MODE.txt from RESULTS (review it before committing)

RESULTS holds MODE.tap (kselftest runner output; rdma-core's TAP in mode
rdma-core) and MODE.ktap (KUnit).
"""
import collections
import os
import re
import sys

SUB = re.compile(r'^# (ok|not ok) \d+ (.*?)(?: # (SKIP|skip)\b\s*(.*))?$')
PROG = re.compile(r'^(ok|not ok) \d+ selftests: \w+: (\S+)(?: # (SKIP|skip)\b\s*(.*))?')
FLAT = re.compile(r'^(ok|not ok) \d+ (.*?)(?: # (SKIP|skip)\b\s*(.*))?$')
KRES = re.compile(r'^( *)(ok|not ok) \d+ (.*?)(?: # (SKIP|skip)\b\s*(.*))?$')
KSUB = re.compile(r'^( *)# Subtest: (.*)$')


def verdict(ok, skip, reason):
    if ok != 'ok':
        return 'fail'
    if skip:
        return 'skip', reason.strip()
    return 'pass'


def line(prog, case, v):
    if isinstance(v, tuple):
        return f'skip  {prog}: {case}: {v[1]}'
    return f'{v:<5} {prog}: {case}'


def kselftest(path):
    out, cases = [], []
    with open(path, errors='replace') as f:
        for raw in f:
            raw = raw.rstrip('\n')
            m = PROG.match(raw)
            if m:
                prog = m.group(2)
                out += [line(prog, c, v) for c, v in cases]
                out.append(line(prog, '(program)',
                                verdict(m.group(1), m.group(3), m.group(4) or '')))
                cases = []
                continue
            m = SUB.match(raw)
            if m:
                cases.append((m.group(2), verdict(m.group(1), m.group(3),
                                                  m.group(4) or '')))
    # cases after the last program line: a runner that died mid-program
    out += [line('(no program line)', c, v) for c, v in cases]
    return out


def flat(path, prog):
    out = []
    with open(path, errors='replace') as f:
        for raw in f:
            m = FLAT.match(raw.rstrip('\n'))
            if m:
                out.append(line(prog, m.group(2),
                                verdict(m.group(1), m.group(3), m.group(4) or '')))
    return out


def ktap(path):
    """KTAP leaves and parents, named by their path of subtests."""
    out, heads = [], {}
    with open(path, errors='replace') as f:
        for raw in f:
            raw = raw.rstrip('\n')
            m = KSUB.match(raw)
            if m:
                heads[len(m.group(1))] = m.group(2)
                continue
            m = KRES.match(raw)
            if not m:
                continue
            d, name = len(m.group(1)), m.group(3)
            for k in [k for k in heads if k > d]:
                del heads[k]
            if heads.get(d) == name:
                path_ = [heads[k] for k in sorted(heads) if k < d]
                del heads[d]
            else:
                path_ = [heads[k] for k in sorted(heads) if k <= d]
            out.append(line('kunit', '.'.join(path_ + [name]),
                            verdict(m.group(2), m.group(4), m.group(5) or '')))
    return out


def results(mode, res):
    out = []
    tap = os.path.join(res, mode + '.tap')
    if os.path.exists(tap):
        out += flat(tap, 'rdma-core') if mode == 'rdma-core' else kselftest(tap)
    k = os.path.join(res, mode + '.ktap')
    if os.path.exists(k):
        out += ktap(k)
    return sorted(out)


def main():
    what, mode, res, exp = sys.argv[1:5]
    n = sys.argv[5] if len(sys.argv) > 5 else '4'
    got = results(mode, res)
    path = os.path.join(exp, mode + '.txt')
    if what == 'write':
        with open(path, 'w') as f:
            f.write('\n'.join(got) + '\n')
        c = collections.Counter(x.split()[0] for x in got)
        print(f'{path}: {len(got)} cases: {dict(c)}')
        return 0
    title = f'vm: {mode}: every test case as expected ({os.path.relpath(path)})'
    if not os.path.exists(path):
        print(f'not ok {n} {title}\n# no expectation file {path}')
        return 1
    with open(path) as f:
        want = [x.rstrip('\n') for x in f if x.strip() and not x.startswith('#')]
    g, w = collections.Counter(got), collections.Counter(want)
    missing, extra = sorted((w - g).elements()), sorted((g - w).elements())
    if not missing and not extra:
        c = collections.Counter(x.split()[0] for x in got)
        print(f'ok {n} {title}: {c["pass"]} pass, {c["skip"]} skip')
        return 0
    print(f'not ok {n} {title}: {len(missing)} expected, not seen; {len(extra)} seen, not expected')
    for x in missing[:60]:
        print(f'# - {x}')
    for x in extra[:60]:
        print(f'# + {x}')
    return 1


if __name__ == '__main__':
    sys.exit(main())
