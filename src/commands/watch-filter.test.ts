import { describe, expect, it } from 'vitest';
import { compileExcludes } from '../verify/glob.js';
import { describeChanged, nativeIgnores, pairPath } from './watch-filter.js';

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
  });
});
