#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Run rdma-core's pyverbs suite (tests/, what run_tests.py runs) on one
device and print one TAP line per test, numbered from FIRST.

A skip passes only when its reason matches a pattern of SKIPS (rdma-core/
pyverbs-skips.txt: "<regex><TAB><why that is acceptable for demo>"); any
other skip is a failure ("unexplained skip"), so a test that starts to skip
for a new reason cannot hide.  Counts per accepted reason go to stderr.

  pyverbs-tap.py RDMA_CORE_SRC RDMA_CORE_BUILD SKIPS FIRST --dev DEV
"""
import collections
import os
import re
import sys
import traceback
import unittest

src, build, skips_file, first = sys.argv[1:5]
sys.argv[1:] = sys.argv[5:]
sys.path[:0] = [os.path.join(build, 'python'), src, os.path.join(src, 'tests')]

# Every accepted skip says why: a pattern without its reason is refused.
accepted = []
with open(skips_file) as f:
    for num, line in enumerate(f, 1):
        if line.strip() and not line.startswith('#'):
            pat, _, why = line.rstrip('\n').partition('\t')
            if not why.strip():
                print(f'not ok {first} pyverbs: {skips_file}:{num}: no reason after the pattern')
                sys.exit(1)
            accepted.append(re.compile(pat))

from args_parser import parser  # noqa: E402  (rdma-core's, on sys.path)

parser.parse_args()
import tests  # noqa: E402


class TapResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.n = int(first) - 1
        self.why = collections.Counter()
        self.unexplained = 0
        self.passed = 0
        self.failed_n = 0

    def line(self, ok, test, extra='', detail=None):
        self.n += 1
        print(f"{'ok' if ok else 'not ok'} {self.n} pyverbs: {test.id()}{extra}", flush=True)
        for d in (detail or '').splitlines():
            print(f'# {d}')

    def addSuccess(self, test):
        self.passed += 1
        self.line(True, test)

    def addFailure(self, test, err):
        self.failed_n += 1
        self.line(False, test, detail=''.join(traceback.format_exception(*err)))

    addError = addFailure

    def addSkip(self, test, reason):
        reason = ' '.join(str(reason).split())
        for pat in accepted:
            if pat.search(reason):
                self.why[pat.pattern] += 1
                self.line(True, test, f' # SKIP {reason}')
                return
        self.unexplained += 1
        self.line(False, test, f' # unexplained skip: {reason}')

    def addExpectedFailure(self, test, err):
        self.addFailure(test, err)

    def addUnexpectedSuccess(self, test):
        self.passed += 1
        self.line(True, test)


loader = unittest.TestLoader()
suite = loader.loadTestsFromModule(tests)
result = TapResult()
suite.run(result)
print(f'pyverbs: {result.n - int(first) + 1} tests, {result.passed} passed, '
      f'{sum(result.why.values())} skipped for an accepted reason, '
      f'{result.unexplained} skipped for another, {result.failed_n} failed',
      file=sys.stderr)
for pat in accepted:
    print(f'{result.why[pat.pattern]:4d}  {pat.pattern}', file=sys.stderr)
sys.exit(1 if result.failed_n or result.unexplained else 0)
