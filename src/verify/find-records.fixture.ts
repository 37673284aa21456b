// For the listing tests (listing-diff.test.ts, listing-match.test.ts): find's records as listScript
// and findArgv print them, built from (path, key) pairs, and a seeded generator for their random cases.
import { expect } from 'vitest';
import type { Change, Key } from './listing-diff.js';

export type Rec = [path: string, key: Key];

export const rec = ([path, k]: Rec): string => `${k[0]} ${(k[1] / 1000).toFixed(3)} ${(k[2] / 1000).toFixed(3)} ${k[3]} ${path}\0`;
export const listing = (recs: readonly Rec[]): Buffer => Buffer.from(recs.map(rec).join(''));
export const key = (n: number): Key => [n, 1_700_000_000_000 + n, 1_700_000_000_500 + n, 5000 + n];

/** A deterministic pseudo-random generator (the same cases on every run). */
export function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

/** `base` with about 0.4% of its records deleted, 0.4% changed and 0.4% inserted after others, drawn from `r`. */
export function edited(base: readonly Rec[], seed: number, r: () => number): Rec[] {
  const now: Rec[] = [];
  for (const x of base) {
    const roll = r();
    if (roll < 0.004) continue; // deleted
    if (roll < 0.008) now.push([x[0], key(Math.floor(r() * 1e6))]); // changed
    else now.push(x);
    if (r() < 0.004) now.push([`new/${seed}/${now.length}`, key(7)]); // inserted
  }
  return now;
}

/** Every path whose key differs between `base` and `now` is in `d` with both keys, and only those are. `say`: what starts a failure's message. */
export function expectFlagged(base: readonly Rec[], now: readonly Rec[], d: ReadonlyMap<string, Change> | undefined, say = ''): void {
  const before = new Map(base);
  const after = new Map(now);
  for (const p of new Set([...before.keys(), ...after.keys()])) {
    const c = d?.get(p);
    const same = before.has(p) && after.has(p) && String(before.get(p)) === String(after.get(p));
    // (Plain comparisons first: an expect per path is slow.)
    if (!c && !same) expect.fail(`${say}${p} changed, not flagged`);
    if (c && (String(c.before) !== String(before.get(p) ?? null) || String(c.now) !== String(after.get(p) ?? null))) expect(c).toEqual({ before: before.get(p) ?? null, now: after.get(p) ?? null });
  }
}
