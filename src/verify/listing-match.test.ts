import { describe, expect, it } from 'vitest';
import { diffRaw, keysInParts } from './listing-diff.js';
import { edited, expectFlagged, key, listing, rec, rng, type Rec } from './find-records.fixture.js';
import { joinRaw, ListingMatcher, type RawListing } from './listing-match.js';

/** `now` fed to a matcher over `ref` in pieces of random sizes (as a pipe gives them). */
function matched(ref: Buffer | undefined, now: Buffer, r: () => number): RawListing {
  const m = new ListingMatcher(ref);
  for (let at = 0; at < now.length; ) {
    const n = 1 + Math.floor(r() * (r() < 0.5 ? 40 : 5000));
    m.push(now.subarray(at, at + n));
    at += n;
  }
  return m.finish();
}

/** Bytes of the listing held outside the reference. */
const ownBytes = (raw: RawListing): number => raw.own.reduce((n, b) => n + b.length, 0);

describe('ListingMatcher', () => {
  const base: Rec[] = Array.from({ length: 3000 }, (_, i) => [`d${i % 7}/file number ${i}.bin`, key(i)]);
  const ref = listing(base);

  it('keeps an identical listing as the reference itself, and one changed record as its own bytes', () => {
    const same = matched(ref, ref, rng(1));
    expect(same.parts).toHaveLength(1);
    expect(same.parts[0]?.buffer === ref.buffer).toBe(true);
    expect(same.own).toHaveLength(0);
    expect(same.gaps).toHaveLength(0);
    expect(diffRaw(same, 10)?.size).toBe(0);
    const now = listing(base.map((x, i): Rec => (i === 1500 ? [x[0], key(99_999)] : x)));
    const one = matched(ref, now, rng(2));
    expect(joinRaw(one).equals(now)).toBe(true);
    expect(ownBytes(one)).toBe(rec([base[1500]?.[0] as string, key(99_999)]).length);
    expect([...(diffRaw(one, 10)?.entries() ?? [])]).toEqual([[base[1500]?.[0], { before: key(1500), now: key(99_999) }]]);
  });

  it('joins to find output exactly and never misses a change under random edits and random pieces', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const r = rng(seed);
      const now = edited(base, seed, r);
      if (seed % 10 === 0) now.splice(100, 400); // a run longer than the search window gone
      if (seed % 7 === 0) now.reverse(); // another order: kept whole, still exact
      const bytes = listing(now);
      const raw = matched(ref, bytes, r);
      expect(joinRaw(raw).equals(bytes)).toBe(true);
      if (raw.unlined) {
        // Given up lining up (another order): kept whole, the reference let go.
        expect(seed % 7 === 0 || seed % 10 === 0).toBe(true);
        expect(raw.reference).toBeUndefined();
        expect(raw.parts.some((b) => b.buffer === ref.buffer)).toBe(false);
        continue;
      }
      const d = diffRaw(raw, 10_000);
      expect(d).toBeDefined();
      expectFlagged(base, now, d, `seed ${seed}: `);
      // Lined up again after each edit: what is held apart stays small (but for another order).
      if (seed % 7 && seed % 10) expect(ownBytes(raw)).toBeLessThan(bytes.length / 10);
      const k = keysInParts(raw.parts, [now[5]?.[0] as string, now[now.length - 1]?.[0] as string]);
      expect(k.get(now[5]?.[0] as string)).toEqual(now[5]?.[1]);
    }
  });

  it('keeps a listing whole without a reference, and gives up past the limit or on a listing not of find form', () => {
    const none = matched(undefined, ref, rng(3));
    expect(joinRaw(none).equals(ref)).toBe(true);
    expect(none.reference).toBeUndefined();
    expect(diffRaw(none, 5000)?.size).toBe(base.length); // every record new: nothing to vouch for it
    const touched = listing(base.map((x): Rec => [x[0], key(x[1][0] + 1)]));
    expect(joinRaw(matched(ref, touched, rng(4))).equals(touched)).toBe(true);
    expect(diffRaw(matched(ref, touched, rng(4)), 100)).toBeUndefined();
    const cut = ref.subarray(0, ref.length - 5); // ended inside a record
    const short = matched(ref, cut, rng(5));
    expect(joinRaw(short).equals(cut)).toBe(true);
    expect(diffRaw(short, 100)).toBeUndefined();
    const extra = Buffer.concat([ref, listing([['cache/x.tmp', key(1)], ['keep.bin', key(2)]])]);
    expect([...(diffRaw(matched(ref, extra, rng(6)), 100, (p) => p.startsWith('cache/'))?.keys() ?? [])]).toEqual(['keep.bin']);
    expect(matched(Buffer.alloc(0), ref, rng(7)).own.length).toBeGreaterThan(0);
  });
});

describe('treeStats over a remembered listing', () => {
  it('gives find output exactly, held over the reference; a missing reference file keeps it whole', async () => {
    const { mkdtempSync, writeFileSync, mkdirSync, utimesSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { treeStats } = await import('./stat-tree.js');
    const root = mkdtempSync(join(tmpdir(), 'labsync-match-'));
    for (let d = 0; d < 5; d++) {
      mkdirSync(join(root, `d${d}`));
      for (let f = 0; f < 200; f++) writeFileSync(join(root, `d${d}`, `f${f}.bin`), `${d}/${f}`);
    }
    const first = await treeStats(root, []);
    const remembered = join(root, '..', `${root.split('/').pop()}.listing`);
    writeFileSync(remembered, first.raw?.() as Buffer);
    const same = await treeStats(root, [], remembered);
    expect(same.rawDigest).toBe(first.rawDigest);
    expect(same.rawListing?.().own).toHaveLength(0);
    writeFileSync(join(root, 'd3', 'f7.bin'), 'changed, longer');
    utimesSync(join(root, 'd3', 'f7.bin'), 1_700_000_000, 1_700_000_000);
    const changed = await treeStats(root, [], remembered);
    const plain = await treeStats(root, []);
    expect(changed.rawDigest).toBe(plain.rawDigest);
    expect(changed.raw?.().equals(plain.raw?.() as Buffer)).toBe(true);
    const kept = changed.rawListing?.() as RawListing;
    expect([...(diffRaw(kept, 10)?.keys() ?? [])]).toEqual(['d3/f7.bin']);
    expect(ownBytes(kept)).toBeLessThan(100);
    // No file to match against: kept whole, as it comes.
    const none = await treeStats(root, [], join(root, 'no-such.listing'));
    expect(none.rawListing?.().reference).toBeUndefined();
    expect(none.raw?.().equals(plain.raw?.() as Buffer)).toBe(true);
    rmSync(root, { recursive: true, force: true });
    rmSync(remembered, { force: true });
  });
});

describe('parseFindListing over parts', () => {
  it('parses a listing held in parts as it parses the joined listing', async () => {
    const { parseFindListing } = await import('./find-list.js');
    const base: Rec[] = Array.from({ length: 500 }, (_, i) => [`d${i % 3}/f ${i}.bin`, key(i)]);
    const ref = listing(base);
    const now = listing(base.map((x, i): Rec => (i % 97 === 0 ? [x[0], key(i + 50_000)] : x)));
    const raw = matched(ref, now, rng(9));
    expect(raw.parts.length).toBeGreaterThan(1);
    expect(parseFindListing(raw.parts, ['d2/'])).toEqual(parseFindListing(now, ['d2/']));
  });
});
