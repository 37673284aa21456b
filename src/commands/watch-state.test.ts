import { describe, expect, it } from 'vitest';
import type { ResolvedPair } from '../types.js';
import type { Place } from './folder-places.js';
import { clashAsAnswered, turnOf } from './watch-state.js';

// Pairs as folders; two clash when one holds the other.
const clash = (a: string, b: string): boolean => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);

describe('turnOf', () => {
  it('runs a pair when a slot is free and nothing running or waiting longer holds its folder', () => {
    expect(turnOf('b', [], new Set(['a']), 2, clash)).toEqual({ blocked: false, ahead: [] });
    expect(turnOf('b', [], new Set(['a', 'c']), 2, clash)).toEqual({ blocked: true, ahead: [] });
  });

  it('lets older waiters that can start take the slots first, and blocks the pair when none is left', () => {
    expect(turnOf('c', ['b'], new Set(['a']), 2, clash)).toEqual({ blocked: true, ahead: ['b'] });
    expect(turnOf('d', ['b'], new Set(['a']), 3, clash)).toEqual({ blocked: false, ahead: ['b'] });
  });

  it('keeps an older waiter that cannot start holding its folder: an outer pair behind busy inner ones is not passed by a pair inside it (review 56)', () => {
    // data/x and data/y run; data waits (it holds both); data/z, newer, must not run inside it.
    expect(turnOf('data/z', ['data'], new Set(['data/x', 'data/y']), 4, clash)).toEqual({ blocked: true, ahead: [] });
    // Elsewhere, a pair still starts.
    expect(turnOf('models', ['data'], new Set(['data/x', 'data/y']), 4, clash)).toEqual({ blocked: false, ahead: [] });
  });
});

describe('clashAsAnswered', () => {
  const pair = (name: string, local: string, tool: ResolvedPair['tool'] = 'rsync'): ResolvedPair => ({ name, local, tool } as ResolvedPair);
  const asker = (answers: Record<string, Partial<Place>>) => ({ lastAnswer: (p: Pick<ResolvedPair, 'local'>): Place | undefined => (answers[p.local] ? { local: p.local, top: p.local, id: undefined, ...answers[p.local] } : undefined) });

  it('takes turns for folders nested as written or as their links last answered, never by a stat of its own', () => {
    const raw = pair('raw', '/lab/raw');
    const ckpt = pair('ckpt', '/lab/latest');
    expect(clashAsAnswered(asker({}))(raw, ckpt)).toBe(false);
    expect(clashAsAnswered(asker({ '/lab/latest': { local: '/lab/raw/ckpt' } }))(raw, ckpt)).toBe(true);
    expect(clashAsAnswered(asker({}))(raw, pair('inner', '/lab/raw/inner'))).toBe(true);
  });

  it('has two dvc pairs take turns when their folders answered one repository, or either has not answered yet (review 71)', () => {
    const a = pair('a', '/repo/data/a', 'dvc');
    const b = pair('b', '/repo/data/b', 'dvc');
    expect(clashAsAnswered(asker({}))(a, b)).toBe(true);
    expect(clashAsAnswered(asker({ '/repo/data/a': { repo: '/repo' } }))(a, b)).toBe(true);
    expect(clashAsAnswered(asker({ '/repo/data/a': { repo: '/repo' }, '/repo/data/b': { repo: '/repo' } }))(a, b)).toBe(true);
    expect(clashAsAnswered(asker({ '/repo/data/a': { repo: '/repo' }, '/repo/data/b': { repo: '/other' } }))(a, b)).toBe(false);
    // Not dvc: a repository says nothing.
    expect(clashAsAnswered(asker({}))(pair('x', '/x'), pair('y', '/y'))).toBe(false);
  });
});
