import { describe, expect, it } from 'vitest';
import { diffListings, keysIn } from './listing-diff.js';
import { edited, expectFlagged, key, listing, rng, type Rec } from './find-records.fixture.js';
import { parseFindListing } from './find-list.js';

describe('diffListings', () => {
  const base: Rec[] = Array.from({ length: 2000 }, (_, i) => [`d${i % 7}/file number ${i}.bin`, key(i)]);

  it('finds nothing in identical listings, and a key changed in place', () => {
    expect(diffListings(listing(base), listing(base), 10)?.size).toBe(0);
    const now = base.map((r, i): Rec => (i === 1234 ? [r[0], key(99_999)] : r));
    const d = diffListings(listing(base), listing(now), 10);
    expect([...(d?.entries() ?? [])]).toEqual([[base[1234]?.[0], { before: key(1234), now: key(99_999) }]]);
  });

  it('finds insertions, deletions and renames, at the start, the middle and the end', () => {
    const now: Rec[] = [['first.bin', key(1)], ...base.slice(0, 500), ...base.slice(501, 1500), ['inserted.bin', key(2)], ...base.slice(1500, 1999)];
    const d = diffListings(listing(base), listing(now), 10);
    expect(d).toEqual(new Map([
      ['first.bin', { before: null, now: key(1) }],
      [base[500]?.[0], { before: key(500), now: null }],
      ['inserted.bin', { before: null, now: key(2) }],
      [base[1999]?.[0], { before: key(1999), now: null }],
    ]));
  });

  it('never misses a change under random edits: every path not flagged has the key it had', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = rng(seed);
      const now = edited(base, seed, r);
      // A listing in another order: flagged wholesale, or given up (the whole listings are cheaper).
      if (seed % 5 === 0) now.reverse();
      const d = diffListings(listing(base), listing(now), 5000);
      if (seed % 5 === 0 && d === undefined) continue;
      expect(d).toBeDefined();
      expectFlagged(base, now, d);
    }
  });

  it('gives up past the limit, on a listing not of find form, and leaves excluded paths out', () => {
    const now = base.map((r): Rec => [r[0], key(r[1][0] + 1)]);
    expect(diffListings(listing(base), listing(now), 100)).toBeUndefined();
    expect(diffListings(listing(base), Buffer.concat([listing(base), Buffer.from('12 1.5 1.5 3 tail')]), 100)).toBeUndefined();
    expect(diffListings(listing(base), Buffer.concat([listing(base), Buffer.from('garbage\0')]), 100)).toBeUndefined();
    const extra = listing([...base, ['cache/x.tmp', key(1)], ['keep.bin', key(2)]]);
    expect([...(diffListings(listing(base), extra, 100, (p) => p.startsWith('cache/'))?.keys() ?? [])]).toEqual(['keep.bin']);
  });

  it('reads keys exactly as the full parse does', () => {
    const now: Rec[] = [...base.slice(0, 10), ['a b/c d.bin', key(3)], ['x c d.bin', key(4)]];
    const raw = listing(now);
    const parsed = parseFindListing(raw, []);
    const k = keysIn(raw, ['c d.bin', 'a b/c d.bin', 'x c d.bin', base[3]?.[0] as string]);
    // "c d.bin" is only the tail of longer paths: not found.
    expect([...k.keys()].sort()).toEqual(['a b/c d.bin', base[3]?.[0], 'x c d.bin'].sort());
    for (const [p, v] of k) {
      const i = parsed.paths.indexOf(p);
      expect([...v]).toEqual([...parsed.keys.subarray(i * 4, i * 4 + 4)]);
    }
    // Many paths: one pass over the listing, the same answer.
    const many = [...now.map((r) => r[0]), 'c d.bin', 'absent'];
    const all = keysIn(raw, many);
    expect([...all.keys()].sort()).toEqual(now.map((r) => r[0]).sort());
    for (const [p, v] of all) {
      const i = parsed.paths.indexOf(p);
      expect([...v]).toEqual([...parsed.keys.subarray(i * 4, i * 4 + 4)]);
    }
  });
});
