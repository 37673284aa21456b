// What a transfer wrote, each file with the key its source had when planned: what compare-listed.ts
// takes rsync's whole-file transfer checksum to prove (Written).
import { settledAt } from '../verify/cache-key.js';
import type { Written } from './compare-listed.js';
import { keyAt, type Key, type Side } from './sides.js';

/** The source's key proves what rsync read only where no rewrite since its listing can have kept it (cache-key.ts settledAt). */
const proves = (k: Key, listedMs: number): boolean => settledAt(k[2], listedMs);

/** From an incremental plan's source keys of what it sent (no parse of the whole source listing); `listedMs`: the source listing's clock. */
export function writtenIn(sourceKeys: ReadonlyMap<string, Key>, direction: 'push' | 'pull', paths: readonly string[], listedMs: number): Written | undefined {
  const keys = new Map<string, Key>();
  for (const p of paths) {
    const k = sourceKeys.get(p);
    if (k && proves(k, listedMs)) keys.set(p, k);
  }
  return keys.size ? { from: direction === 'push' ? 'local' : 'remote', keys } : undefined;
}

/** The files the tool says it wrote and checked, each with the key its source had when planned (`source`: the listing before the transfer), but for those changed just before it. */
export function writtenFrom(source: Side, direction: 'push' | 'pull', paths: readonly string[]): Written | undefined {
  if (!paths.length) return undefined;
  const wanted = new Set(paths);
  const keys = new Map<string, Key>();
  source.paths.forEach((p, i) => {
    if (!wanted.has(p)) return;
    const k = keyAt(source, i);
    if (proves(k, source.nowMs)) keys.set(p, k);
  });
  return { from: direction === 'push' ? 'local' : 'remote', keys };
}

/**
 * Nothing is proved by the transfer where the source's change times prove nothing (FUSE, FAT: a rewrite
 * can keep the whole key, mount-types.ts): each copy is read back (review 50).
 */
export const provedBy = (written: Written | undefined, source: Pick<Side, 'unkept'>): Written | undefined => (source.unkept ? undefined : written);
