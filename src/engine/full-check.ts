// `full_check: 7d`: now and then, verify reads every byte on both sides (bit rot under unchanged stat
// keys), on its own. When the last one ran is kept beside the hash caches.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedPair } from '../types.js';
import { writeCacheFile, type Warn } from '../verify/cache-file.js';
import { cacheDir } from './pair-tree.js';

const fileOf = (pair: ResolvedPair): string => join(cacheDir(pair), `full-check-${pair.name}.json`);

/** Whether this run's verify must read everything: asked for (check --full), or due. */
export function fullCheckDue(pair: ResolvedPair, asked: boolean, nowMs = Date.now()): boolean {
  if (asked) return true;
  if (pair.fullCheckMs === undefined) return false;
  try {
    const last = (JSON.parse(readFileSync(fileOf(pair), 'utf8')) as { at: number }).at;
    return !(nowMs - last < pair.fullCheckMs);
  } catch {
    return true; // never ran (or unreadable): due
  }
}

export async function recordFullCheck(pair: ResolvedPair, warn: Warn, nowMs = Date.now()): Promise<void> {
  await writeCacheFile(fileOf(pair), JSON.stringify({ at: nowMs }), warn);
}
