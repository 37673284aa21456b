// For the listing tests (listing-diff.test.ts, listing-match.test.ts): find's records as listScript
// and findArgv print them, built from (path, key) pairs, and a seeded generator for their random cases.
import type { Key } from './listing-diff.js';

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
