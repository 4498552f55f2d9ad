#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Split the stack into one postable series per target tree.

  outgoing.py --base SHA --tree TREE --out DIR [--topics INI] [--verify]

TREE is a git work tree whose HEAD is the whole stack on SHA (after
take-over.sh: authored and signed off by the submitter). Every commit goes
to one topic of the INI file (config/topics.ini) by its subject. Each topic
is cherry-picked onto the base plus its deps in a scratch worktree, and
written to DIR/<topic>/ with git format-patch: the topic's subject prefix,
Message-Id/In-Reply-To threading (--thread=shallow), base-commit and, for a
topic with deps, prerequisite-patch-id; To/Cc from scripts/get_maintainer.pl
run on every patch of the topic, plus the INI's additions; a cover letter
for more than one patch. DIR/<topic>/series.mbox holds the whole thread.

--verify: b4 am of each series.mbox, applied with git am on the base plus
the topic's deps, must give the topic's tree; and all topics, applied in
the INI's order, must give the stack's tree.
"""
import argparse
import configparser
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOOLS = os.path.dirname(os.path.abspath(__file__))


def git(cwd, *args, check=True):
    r = subprocess.run(['git', '-C', cwd] + list(args), capture_output=True,
                       text=True)
    if check and r.returncode:
        sys.exit('error: git %s: %s' % (' '.join(args), r.stderr.strip()))
    return r.stdout.strip()


def die(msg):
    sys.exit('error: ' + msg)


def lines(v):
    return [x.strip() for x in (v or '').split('\n') if x.strip()]


def addrs(v):
    """'Name <a@b>  # why' lines -> (addresses, reasons)"""
    out = []
    for x in lines(v):
        addr, _, why = x.partition('#')
        out.append((addr.strip(), why.strip()))
    return out


def email_of(a):
    m = re.search(r'<([^>]+)>', a)
    return (m.group(1) if m else a).strip().lower()


def load_topics(path):
    cp = configparser.ConfigParser(interpolation=None, comment_prefixes=(';',),
                                   inline_comment_prefixes=None)
    with open(path, encoding='utf-8') as f:
        # whole-line '#' comments; '#' inside a value is a reason
        cp.read_string(''.join(l for l in f if not l.startswith('#')))
    topics = []
    for name in cp.sections():
        s = cp[name]
        topics.append({
            'name': name,
            'prefix': s.get('prefix', 'PATCH'),
            'match': [re.compile(x) for x in lines(s.get('match'))],
            'deps': s.get('deps', '').split(),
            'to': addrs(s.get('to')),
            'cc': addrs(s.get('cc')),
            'title': s.get('title', name),
            # a line of one "." separates paragraphs
            'blurb': '\n'.join('' if x == '.' else x
                               for x in lines(s.get('blurb'))),
            'commits': [],
        })
    names = {t['name'] for t in topics}
    for t in topics:
        for d in t['deps']:
            if d not in names:
                die('topic %s: unknown dep %s' % (t['name'], d))
    return topics


def closure(topics, t):
    byname = {x['name']: x for x in topics}
    seen, todo = set(), list(t['deps'])
    while todo:
        d = todo.pop()
        if d not in seen:
            seen.add(d)
            todo += byname[d]['deps']
    return [x for x in topics if x['name'] in seen]


def cherry_pick(wt, commits, what):
    if not commits:
        return
    r = subprocess.run(['git', '-C', wt, '-c', 'core.hooksPath=/dev/null',
                        'cherry-pick', '--allow-empty'] + commits,
                       capture_output=True, text=True)
    if r.returncode:
        subprocess.run(['git', '-C', wt, 'cherry-pick', '--abort'],
                       capture_output=True)
        die('%s does not apply: %s' % (what, (r.stdout + r.stderr).strip()[-600:]))


def get_maintainer(wt, patches, flags):
    cmd = ['perl', 'scripts/get_maintainer.pl', '--no-git',
           '--no-git-fallback', '--no-fixes', '--no-rolestats'] + flags + patches
    r = subprocess.run(cmd, cwd=wt, capture_output=True, text=True)
    if r.returncode:
        die('get_maintainer.pl: ' + r.stderr.strip())
    return [l.strip() for l in r.stdout.split('\n') if '@' in l]


def stack_blurb(tree):
    """The stack's cover letter text: the branch description, or the
    exported cover letter's"""
    head = git(tree, 'symbolic-ref', '-q', '--short', 'HEAD', check=False)
    desc = git(tree, 'config', 'branch.%s.description' % head,
               check=False) if head else ''
    if desc:
        return desc
    cover = os.path.join(os.path.dirname(TOOLS), 'patches',
                         '0000-cover-letter.patch')
    r = subprocess.run([os.path.join(TOOLS, 'cover.sh'), 'read', cover],
                       capture_output=True, text=True)
    return r.stdout if not r.returncode else ''


def production_note(desc):
    """The paragraph of the stack's cover letter on how it was produced"""
    for para in desc.split('\n\n'):
        if para.startswith('How this was produced'):
            return para
    return ''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--base', required=True)
    ap.add_argument('--tree', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--topics', default=os.path.join(TOOLS, 'config',
                                                     'topics.ini'))
    ap.add_argument('--verify', action='store_true')
    a = ap.parse_args()
    tree, base, out = os.path.abspath(a.tree), a.base, os.path.abspath(a.out)
    topics = load_topics(a.topics)

    # every commit of the stack to exactly one topic
    stack = git(tree, 'rev-list', '--reverse', '%s..HEAD' % base).split()
    if not stack:
        die('no commits on %s in %s' % (base, tree))
    index = {c: i for i, c in enumerate(stack)}
    for c in stack:
        subj = git(tree, 'log', '-1', '--format=%s', c)
        hit = next((t for t in topics if any(m.search(subj)
                                             for m in t['match'])), None)
        if not hit:
            die('no topic for "%s" (%s)' % (subj, a.topics))
        hit['commits'].append(c)
    topics = [t for t in topics if t['commits']]
    desc = stack_blurb(tree)
    how = production_note(desc)
    me = git(tree, 'log', '-1', '--format=%ae', 'HEAD').lower()
    # the submitter (the stack's author after take-over.sh) writes the
    # cover letters and commits the cherry-picks: their address is in the
    # Message-Ids and the cover letters' From:
    for k in ('AUTHOR', 'COMMITTER'):
        os.environ['GIT_%s_NAME' % k] = git(tree, 'log', '-1', '--format=%an', 'HEAD')
        os.environ['GIT_%s_EMAIL' % k] = git(tree, 'log', '-1', '--format=%ae', 'HEAD')

    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    scratch = tempfile.mkdtemp(prefix='outgoing.', dir=os.path.dirname(out))
    wt = os.path.join(scratch, 'wt')
    git(tree, 'worktree', 'add', '-q', '--detach', wt, base)
    try:
        # all topics in order rebuild the stack
        cherry_pick(wt, [c for t in topics for c in t['commits']],
                    'the topics in %s order' % os.path.basename(a.topics))
        if git(wt, 'rev-parse', 'HEAD^{tree}') != git(tree, 'rev-parse', 'HEAD^{tree}'):
            die('the topics in order do not rebuild the stack')
        summary = []
        for t in topics:
            deps = closure(topics, t)
            git(wt, 'checkout', '-q', '--detach', base)
            cherry_pick(wt, sorted((c for d in deps for c in d['commits']),
                                   key=index.get),
                        'the deps of %s' % t['name'])
            t['prereq'] = git(wt, 'rev-parse', 'HEAD')
            cherry_pick(wt, t['commits'], 'topic %s on its deps' % t['name'])
            t['tip'] = git(wt, 'rev-parse', 'HEAD')
            d = os.path.join(out, t['name'])
            many = len(t['commits']) > 1
            args = ['format-patch', '-q', '--thread=shallow',
                    '--subject-prefix=' + t['prefix'], '--base=' + base,
                    '-o', d]
            if many:
                args.append('--cover-letter')
            else:
                args.append('--no-numbered')
            git(wt, *args, '%s..%s' % (t['prereq'], t['tip']))
            files = sorted(os.path.join(d, f) for f in os.listdir(d))
            pfiles = [f for f in files if not f.endswith('/0000-cover-letter.patch')]
            to = get_maintainer(wt, pfiles, ['--m', '--no-r', '--no-l'])
            cc = get_maintainer(wt, pfiles, ['--no-m', '--r', '--l'])
            to += [x for x, _ in t['to']]
            cc += [x for x, _ in t['cc']]
            seen, rto, rcc = {me}, [], []
            for lst, dst in ((to, rto), (cc, rcc)):
                for x in lst:
                    if email_of(x) not in seen:
                        seen.add(email_of(x))
                        dst.append(x)
            for f in files:
                with open(f, encoding='utf-8') as fh:
                    msg = fh.read()
                hdr, sep, body = msg.partition('\n\n')
                add = ''
                if rto:
                    add += '\nTo: ' + ',\n    '.join(rto)
                if rcc:
                    add += '\nCc: ' + ',\n    '.join(rcc)
                hdr = re.sub(r'\nSubject:', add.replace('\\', r'\\') + '\nSubject:', hdr, count=1)
                if f.endswith('/0000-cover-letter.patch'):
                    hdr = hdr.replace('*** SUBJECT HERE ***', t['title'])
                    text = t['blurb']
                    if not text:
                        die('topic %s has %d patches and no blurb' % (t['name'], len(t['commits'])))
                    parts = [text]
                    if deps:
                        parts.append('It applies on top of these series, posted separately (the\n'
                                     'prerequisite-patch-id lines below name their patches):\n' +
                                     '\n'.join('  - %s' % x['title'] for x in deps))
                    extra = t['to'] + t['cc']
                    if extra:
                        parts.append('Recipients beyond get_maintainer.pl:\n' +
                                     '\n'.join('  %s: %s' % (x, why) for x, why in extra))
                    if how and how not in text:
                        parts.append(how)
                    body = body.replace('*** BLURB HERE ***', '\n\n'.join(parts))
                with open(f, 'w', encoding='utf-8') as fh:
                    fh.write(hdr + sep + body)
            with open(os.path.join(d, 'series.mbox'), 'w', encoding='utf-8') as fh:
                for f in files:
                    with open(f, encoding='utf-8') as p:
                        fh.write(p.read())
            summary.append((t, len(t['commits']), rto, rcc, [x['name'] for x in deps]))

        with open(os.path.join(out, 'SUMMARY'), 'w', encoding='utf-8') as fh:
            for t, n, rto, rcc, deps in summary:
                fh.write('%s: %d patch%s, [%s], deps: %s\n  To: %s\n  Cc: %s\n' % (
                    t['name'], n, 'es' if n > 1 else '', t['prefix'],
                    ' '.join(deps) or '-', ', '.join(rto), ', '.join(rcc)))

        if a.verify:
            for t in topics:
                d = os.path.join(out, t['name'])
                b4out = os.path.join(scratch, 'b4-' + t['name'])
                os.makedirs(b4out)
                with open(os.path.join(d, 'series.mbox'), 'rb') as mb:
                    r = subprocess.run(['b4', '--offline-mode', '--no-interactive',
                                        'am', '-C', '-m', '-', '-n', t['name'],
                                        '-o', b4out],
                                       stdin=mb, capture_output=True, cwd=wt)
                mbx = os.path.join(b4out, t['name'] + '.mbx')
                if r.returncode or not os.path.exists(mbx):
                    die('b4 am of %s: %s' % (t['name'], r.stderr.decode(errors='replace')[-800:]))
                git(wt, 'checkout', '-q', '--detach', t['prereq'])
                r = subprocess.run(['git', '-C', wt, 'am', '-q', mbx],
                                   capture_output=True, text=True)
                if r.returncode:
                    subprocess.run(['git', '-C', wt, 'am', '--abort'], capture_output=True)
                    die('git am of b4 output for %s: %s' % (t['name'], r.stderr[-600:]))
                n = len(git(wt, 'rev-list', '%s..HEAD' % t['prereq']).split())
                if n != len(t['commits']) or \
                   git(wt, 'rev-parse', 'HEAD^{tree}') != git(wt, 'rev-parse', t['tip'] + '^{tree}'):
                    die('b4 am of %s does not reproduce it' % t['name'])
                print('ok b4 am %s: %d patches reproduce the series' % (t['name'], n))
        for t, n, rto, rcc, deps in summary:
            print('%-22s %3d  %s  To: %d  Cc: %d  deps: %s' % (
                t['name'], n, t['prefix'], len(rto), len(rcc), ' '.join(deps) or '-'))
    finally:
        subprocess.run(['git', '-C', tree, 'worktree', 'remove', '--force', wt],
                       capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == '__main__':
    main()
