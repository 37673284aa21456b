// What a transfer wrote, each file with the key its source had when planned: what compare-listed.ts
// takes rsync's whole-file transfer checksum to prove (Written).
import type { Written } from './compare-listed.js';
import { keyAt, type Key, type Side } from './sides.js';

/** From an incremental plan's source keys of what it sent (no parse of the whole source listing). */
export function writtenIn(sourceKeys: ReadonlyMap<string, Key>, direction: 'push' | 'pull', paths: readonly string[]): Written | undefined {
  const keys = new Map<string, Key>();
  for (const p of paths) {
    const k = sourceKeys.get(p);
    if (k) keys.set(p, k);
  }
  return keys.size ? { from: direction === 'push' ? 'local' : 'remote', keys } : undefined;
}

/** The files the tool says it wrote and checked, each with the key its source had when planned (`source`: the listing before the transfer). */
export function writtenFrom(source: Side, direction: 'push' | 'pull', paths: readonly string[]): Written | undefined {
  if (!paths.length) return undefined;
  const wanted = new Set(paths);
  const keys = new Map<string, Key>();
  source.paths.forEach((p, i) => {
    if (wanted.has(p)) keys.set(p, keyAt(source, i));
  });
  return { from: direction === 'push' ? 'local' : 'remote', keys };
}
