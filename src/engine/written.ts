// What a transfer wrote, each file with the key its source had when planned: what compare-listed.ts
// takes rsync's whole-file transfer checksum to prove (Written).
import { RACY_WINDOW_MS } from '../verify/cache-key.js';
import type { Written } from './compare-listed.js';
import { keyAt, type Key, type Side } from './sides.js';

/**
 * A source key proves what rsync read only if no later change can keep it. After the listing a change
 * gets a ctime of at least the listing's clock less a kernel tick, so on a file system stamping fine
 * times a key whose ctime is older than that is proof. One stamping whole seconds (ext4 with 128-byte
 * inodes, ext3, HFS+, NFS from them) keeps the second's ctime for a rewrite of the same size within
 * it: rsync may have sent the bytes before it while the source holds the bytes after (review 48), so a
 * key whose ctime is a whole second proves only past the racy window, and else its copy is read back.
 */
const TICK_MS = 50;
const proves = (k: Key, listedMs: number): boolean => k[2] < listedMs - (k[2] % 1000 === 0 ? RACY_WINDOW_MS : TICK_MS);

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
