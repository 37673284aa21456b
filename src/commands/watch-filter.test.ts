import { describe, expect, it } from 'vitest';
import { compileExcludes } from '../verify/glob.js';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeChanged, gitRefFolder, gitRefPath, gitRefsDir, nativeIgnores, pairPath, placeOf, watchedTree } from './watch-filter.js';

const LOCAL = '/lab/raw data';
const PATTERNS = ['*.tmp', 'cache/', '/top.log', 'data/*.csv', '/.git/'];
const matcher = compileExcludes(PATTERNS);

describe('pairPath', () => {
  it('gives the path relative to the pair, or nothing for what the pair would not send', () => {
    expect(pairPath(LOCAL, matcher, '/lab/raw data/sub/a.bin', false)).toBe('sub/a.bin');
    expect(pairPath(LOCAL, matcher, '/lab/raw data/sub/a.tmp', false)).toBeUndefined();
    expect(pairPath(LOCAL, matcher, '/lab/raw data/top.log', false)).toBeUndefined();
    expect(pairPath(LOCAL, matcher, '/lab/raw data/sub/top.log', false)).toBe('sub/top.log');
    expect(pairPath(LOCAL, matcher, '/lab/raw data', true)).toBeUndefined();
    expect(pairPath(LOCAL, matcher, '/lab/other/a.bin', false)).toBeUndefined();
  });

  it('drops anything inside an excluded folder, however deep', () => {
    expect(pairPath(LOCAL, matcher, '/lab/raw data/x/cache/deep/er/a.bin', false)).toBeUndefined();
    expect(pairPath(LOCAL, matcher, '/lab/raw data/.git/objects/ab', false)).toBeUndefined();
    expect(pairPath(LOCAL, matcher, '/lab/raw data/x/.git/config', false)).toBe('x/.git/config');
  });

  it('judges a deleted path (kind unknown) as a file, so a folder-only pattern does not hide it', () => {
    expect(pairPath(LOCAL, matcher, '/lab/raw data/cache', undefined)).toBe('cache');
    expect(pairPath(LOCAL, matcher, '/lab/raw data/cache', true)).toBeUndefined();
  });
});

describe('nativeIgnores', () => {
  it('hands over only anchored patterns without wildcards, as absolute paths; globs stay with the matcher', () => {
    expect(nativeIgnores(LOCAL, [...PATTERNS, '/.dvc/cache/', '/ckpt-*/'])).toEqual(['/lab/raw data/top.log', '/lab/raw data/.git', '/lab/raw data/.dvc/cache']);
  });
});

describe('describeChanged', () => {
  it('names the first few paths and counts the rest', () => {
    expect(describeChanged(['a'])).toBe('1 changed path: a');
    expect(describeChanged(['a', 'b', 'c'], 2)).toBe('3 changed paths: a, b and 1 more');
    // Past the paths a watch keeps, the rest only counted (some may repeat a kept path: "+").
    expect(describeChanged(['a', 'b'], 5, 3)).toBe('5+ changed paths: a, b and 3 more');
  });
});

describe('a git pair\'s watch: branch refs only (review 49)', () => {
  it('names a moved branch ref or packed refs; not HEAD (a checkout moves it), a ref being written, objects, the index or the tree', () => {
    expect(gitRefPath('/r/.git', '/r/.git/refs/heads/main')).toBe('.git/refs/heads/main');
    expect(gitRefPath('/r/.git', '/r/.git/refs/heads/team/x')).toBe('.git/refs/heads/team/x');
    expect(gitRefPath('/r/.git', '/r/.git/packed-refs')).toBe('.git/packed-refs');
    expect(gitRefPath('/r/.git', '/r/.git/reftable/tables.list')).toBe('.git/reftable/tables.list');
    expect(gitRefPath('/r/.git', '/r/.git/reftable/tables.list.lock')).toBeUndefined();
    for (const p of ['/r/.git/HEAD', '/r/.git/refs/heads/main.lock', '/r/.git/index', '/r/.git/objects/ab/cdef', '/r/.git/refs/tags/v1', '/r/train.py']) expect(gitRefPath('/r/.git', p), p).toBeUndefined();
  });

  it('watches the folders that hold branch refs and nothing else', () => {
    for (const d of ['/r/.git', '/r/.git/refs', '/r/.git/refs/heads', '/r/.git/refs/heads/team', '/r/.git/reftable']) expect(gitRefFolder('/r/.git', d), d).toBe(true);
    for (const d of ['/r/.git/objects', '/r/.git/refs/tags', '/r/.git/logs/refs/heads']) expect(gitRefFolder('/r/.git', d), d).toBe(false);
  });
});

describe('watchedTree', () => {
  it('leaves the watch\'s own output files in the folder out of what starts a run, with a note; glob characters in their names taken literally', () => {
    const t = watchedTree({ local: '/lab/raw', root: '/lab', tool: 'rsync', exclude: [] }, { local: '/lab/raw', top: '/lab/raw' }, ['/lab/raw/out[1].log', '/elsewhere/x.log']);
    expect(t.judge('/lab/raw/out[1].log', false)).toBeUndefined();
    expect(t.judge('/lab/raw/out1.log', false)).toBe('out1.log');
    expect(t.notes).toEqual(["out[1].log is this watch's own output: its changes start no run (a run still pushes it)"]);
  });
});

describe('gitRefsDir (reviews 50, 51)', () => {
  it('finds the branch refs in .git, through a .git file (a worktree: gitdir, then commondir) and through a .git link', async () => {
    const top = realpathSync(mkdtempSync(join(tmpdir(), 'labsync-gitdir-')));
    try {
      mkdirSync(join(top, 'repo/.git/worktrees/wt'), { recursive: true });
      writeFileSync(join(top, 'repo/.git/worktrees/wt/commondir'), '../..\n');
      mkdirSync(join(top, 'wt'));
      writeFileSync(join(top, 'wt/.git'), `gitdir: ${join(top, 'repo/.git/worktrees/wt')}\n`);
      mkdirSync(join(top, 'linked'));
      symlinkSync(join(top, 'repo/.git'), join(top, 'linked/.git'));
      expect(await gitRefsDir(join(top, 'repo'))).toBe(join(top, 'repo/.git'));
      expect(await gitRefsDir(join(top, 'wt'))).toBe(join(top, 'repo/.git'));
      expect(await gitRefsDir(join(top, 'linked'))).toBe(join(top, 'repo/.git'));
      expect(await gitRefsDir(join(top, 'none'))).toBe(join(top, 'none/.git'));
    } finally {
      rmSync(top, { recursive: true, force: true });
    }
  });
});

describe('placeOf a dvc pair', () => {
  it('names the repository its .dvc/ is in (the nearest above the folder as written, as push finds it), which watch\'s turns compare; none for other tools or outside a repository', async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'labsync-dvc-place-')));
    mkdirSync(join(root, 'repo/.dvc'), { recursive: true });
    mkdirSync(join(root, 'repo/data/a'), { recursive: true });
    mkdirSync(join(root, 'loose/b'), { recursive: true });
    symlinkSync(join(root, 'repo/data/a'), join(root, 'link'));
    try {
      expect((await placeOf({ local: join(root, 'repo/data/a'), tool: 'dvc' })).repo).toBe(join(root, 'repo'));
      // A walk that resolved the link: the repository is still looked for above the folder as written (review 72).
      expect((await placeOf({ local: join(root, 'repo/data/a'), tool: 'dvc', written: join(root, 'link') })).repo).toBeUndefined();
      symlinkSync(join(root, 'loose/b'), join(root, 'repo/data/c'));
      expect((await placeOf({ local: join(root, 'loose/b'), tool: 'dvc', written: join(root, 'repo/data/c') })).repo).toBe(join(root, 'repo'));
      expect((await placeOf({ local: join(root, 'repo/data/a'), tool: 'rsync' })).repo).toBeUndefined();
      expect((await placeOf({ local: join(root, 'loose/b'), tool: 'dvc' })).repo).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
