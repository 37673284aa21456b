import { describe, expect, it } from 'vitest';
import { turnOf } from './watch-state.js';

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
