// `full_check: 7d`: now and then, verify reads every byte it can on its own (bit rot under unchanged
// stat keys): both sides of a local or ssh pair; on an S3 or Hub remote the local bytes, against the
// checksums the store recorded; what `check --full` does for the rest (rclone, mlflow: a download).
// When the last one ran is kept beside the hash caches.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { whyNoFullCheck } from '../manifest/full-check-kinds.js';
import type { ResolvedPair } from '../types.js';
import { writeCacheFile, type Warn } from '../verify/cache-file.js';
import { cacheDir } from './pair-tree.js';

/** Where the time of the pair's last full check is kept. */
export const fullCheckFile = (pair: ResolvedPair): string => join(cacheDir(pair), `full-check-${pair.name}.json`);

/** Whether this run's verify must read everything: asked for (check --full), or due. */
export function fullCheckDue(pair: ResolvedPair, asked: boolean, nowMs = Date.now()): boolean {
  if (asked) return true;
  // git and dvc: nothing to re-read (validate says so where the pair sets it).
  if (pair.fullCheckMs === undefined || whyNoFullCheck(pair.tool)) return false;
  try {
    const last = (JSON.parse(readFileSync(fullCheckFile(pair), 'utf8')) as { at: number }).at;
    return !(nowMs - last < pair.fullCheckMs);
  } catch {
    return true; // never ran (or unreadable): due
  }
}

export async function recordFullCheck(pair: ResolvedPair, warn: Warn, nowMs = Date.now()): Promise<void> {
  await writeCacheFile(fullCheckFile(pair), JSON.stringify({ at: nowMs }), warn);
}
