import { describe, expect, it } from 'vitest';
import { matchListings } from './compare-listed.js';
import { HashedFiles } from './hashed-files.js';

const SHA = (n: number): string => n.toString(16).padStart(64, '0');

describe('HashedFiles', () => {
  it('answers by path as the maps did: read files, gone ones, unasked ones, a read without a digest', () => {
    const h = new HashedFiles(['a', 'b/c', 'b/d', 'e']);
    h.set(0, [1, 2, 3, 4], SHA(1));
    h.set(2, [5, 6, 7, 8], '');
    h.setBytes(3, Float64Array.from([0, 0, 0, 0, 9, 10, 11, 12]), 1, Buffer.from(SHA(0) + SHA(3), 'hex'));
    expect(h.sha('a')).toBe(SHA(1));
    expect(h.key('a')).toEqual([1, 2, 3, 4]);
    expect(h.sha('b/c')).toBeUndefined(); // asked, gone meanwhile
    expect(h.key('b/c')).toBeUndefined();
    expect(h.sha('b/d')).toBe('');
    expect(h.sha('e')).toBe(SHA(3));
    expect(h.key('e')).toEqual([9, 10, 11, 12]);
    expect(h.sha('zz')).toBeUndefined(); // never asked
    expect(h.sha('a')).toBe(SHA(1)); // backwards after a search
    expect([...h.entries()]).toEqual([['a', [1, 2, 3, 4], SHA(1)], ['b/d', [5, 6, 7, 8], ''], ['e', [9, 10, 11, 12], SHA(3)]]);
  });

  it('finds paths asked in any order (not sorted: through a map)', () => {
    const paths = ['z', 'a', 'm'];
    const h = new HashedFiles(paths);
    paths.forEach((_, i) => h.set(i, [i, 0, 0, 0], SHA(i)));
    expect(['m', 'z', 'a', 'q'].map((p) => h.sha(p))).toEqual([SHA(2), SHA(0), SHA(1), undefined]);
  });
});

describe('matchListings', () => {
  const naive = (here: string[], there: string[]): { at: number[]; seen: number[] } => ({
    at: here.map((p) => there.indexOf(p)),
    seen: there.map((p) => (here.includes(p) ? 1 : 0)),
  });
  it('pairs the same paths whether both listings are sorted (walked side by side) or not (a map)', () => {
    const cases: [string[], string[]][] = [
      [['a', 'b', 'c', 'e'], ['b', 'c', 'd', 'f']],
      [[], ['a']],
      [['a'], []],
      [['a/b', 'a/c', 'b'], ['a', 'a/b', 'a/c', 'b']],
      [['c', 'a', 'b'], ['b', 'x', 'c']],
      [['a', 'b'], ['b', 'a']],
      // Byte order past U+FFFF differs from UTF-16 order: such listings fall back to the map.
      [['\u{1F600}', '\uFF61'], ['\uFF61', '\u{1F600}']],
    ];
    for (const [here, there] of cases) {
      const got = matchListings(here, there);
      expect({ at: [...got.at], seen: [...got.seen] }).toEqual(naive(here, there));
    }
  });
});
