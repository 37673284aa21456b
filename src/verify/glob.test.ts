import { describe, expect, it } from 'vitest';
import { compileExcludes } from './glob.js';

describe('compileExcludes', () => {
  const m = compileExcludes(['*.tmp', '__pycache__/**', '.DS_Store', '/top-only', 'build/', 'data/*.csv']);
  it('matches at any depth unless anchored', () => {
    expect(m.excludes('a.tmp', false)).toBe(true);
    expect(m.excludes('x/y/a.tmp', false)).toBe(true);
    expect(m.excludes('x/__pycache__/m.pyc', false)).toBe(true);
    expect(m.excludes('sub/.DS_Store', false)).toBe(true);
    expect(m.excludes('top-only', false)).toBe(true);
    expect(m.excludes('sub/top-only', false)).toBe(false);
  });
  it('reads a leading **/ as matching no folder too, as rsync does (review 43: **/*.tmp left a top-level a.tmp to rsync alone)', () => {
    const m = compileExcludes(['**/*.tmp', '/**/top.bin', '**/**/b.x']);
    for (const p of ['a.tmp', 'd/a.tmp', 'd/e/a.tmp', 'd/top.bin', 'd/b.x']) expect(m.excludes(p, false), p).toBe(true);
    // Anchored, or a second **/: a folder is needed (review 44, rsync 3.5 -n).
    for (const p of ['a.tmpx', 'top.bin', 'b.x']) expect(m.excludes(p, false), p).toBe(false);
  });
  it('keeps * inside one segment and honours folder-only patterns', () => {
    expect(m.excludes('data/a.csv', false)).toBe(true);
    expect(m.excludes('data/sub/a.csv', false)).toBe(false);
    expect(m.excludes('build', true)).toBe(true);
    expect(m.excludes('build', false)).toBe(false);
    expect(m.excludes('a.tmpx', false)).toBe(false);
  });
  it('reads [classes], [!negated] ones and \\ escapes as rsync does (checked with rsync 3.5 -n); an unclosed [ matches nothing', () => {
    const c = compileExcludes(['*.[oa]', 'foo[1]', 'bar\\[2\\]', '[!a]bc', 'v[0-9][0-9]', 'a[b', 'x[]]y', 'q[!]]r']);
    expect(['x.o', 'd/x.a', 'x.c'].map((p) => c.excludes(p, false))).toEqual([true, true, false]);
    expect(['foo1', 'foo[1]'].map((p) => c.excludes(p, false))).toEqual([true, false]);
    expect(['bar[2]', 'bar2'].map((p) => c.excludes(p, false))).toEqual([true, false]);
    expect(['xbc', 'abc', 'd/abc'].map((p) => c.excludes(p, false))).toEqual([true, false, false]);
    expect(['v07', 'v7', 'vab'].map((p) => c.excludes(p, false))).toEqual([true, false, false]);
    expect(c.excludes('a[b', false)).toBe(false);
    expect(['x]y', 'qzr', 'q]r'].map((p) => c.excludes(p, false))).toEqual([true, true, false]);
    // A class is one character of a name, never a "/".
    expect(compileExcludes(['a[!x]b']).excludes('a/b', false)).toBe(false);
  });
  it('reads POSIX classes, escapes and ranges inside a class as rsync 3.5 does (-n over the same names)', () => {
    const c = compileExcludes(['[[:digit:]]*', '[\\]]x', '[z-a]x', 'a[/]b', '[[:upper:]]b', 'p[+-,]r']);
    const names = ['1.ckpt', ']x', 'zx', 'Ab', 'p+r', 'p,r', '\\]x', 'a/b', 'ab', 'ax', 'd]x', 'q-r', 'x1'];
    expect(names.filter((p) => c.excludes(p, false))).toEqual(['1.ckpt', ']x', 'zx', 'Ab', 'p+r', 'p,r']);
    // An unknown class name matches nothing; nothing here throws.
    expect(compileExcludes(['[[:nope:]]x']).excludes('nx', false)).toBe(false);
  });
  it('compares a pattern without * ? [ as it is, backslashes included; a POSIX name is never looked up on Object\'s prototype', () => {
    expect(compileExcludes(['a\\{b']).excludes('a\\{b', false)).toBe(true);
    expect(compileExcludes(['a\\{b']).excludes('a{b', false)).toBe(false);
    expect(compileExcludes(['[[:constructor:]]x']).excludes('f }]x', false)).toBe(false);
    expect(compileExcludes(['[[:toString:]]x']).excludes('tx', false)).toBe(false);
  });
});
