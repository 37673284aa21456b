// `full_check: 7d`: now and then, verify reads every byte it can on its own (bit rot under unchanged
// stat keys): both sides of a local or ssh pair; on an S3 or Hub remote the local bytes, against the
// checksums the store recorded; what `check --full` does for the rest (rclone, mlflow: a download).
// When the last one ran is kept beside the hash caches.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { whyNoFullCheck } from '../manifest/full-check-kinds.js';
import type { ResolvedPair } from '../types.js';
import { writeCacheFile, type Warn } from '../verify/cache-file.js';
import { cacheDir, ownRecord, pairEnds } from './pair-tree.js';

/** Where the time of the pair's last full check is kept. */
export const fullCheckFile = (pair: ResolvedPair): string => join(cacheDir(pair), `full-check-${pair.name}.json`);

/** Whether this run's verify must read everything: asked for (check --full), or due. */
export function fullCheckDue(pair: ResolvedPair, asked: boolean, nowMs = Date.now()): boolean {
  if (asked) return true;
  // git and dvc: nothing to re-read (validate says so where the pair sets it). A pair verified by size
  // reads no bytes (a full_check from `defaults` reaches it too): never due, so never claimed (a review
  // found every run of such a pair "full", with nothing read, and its no-op shortcut lost).
  if (pair.fullCheckMs === undefined || pair.verify !== 'checksum' || whyNoFullCheck(pair.tool)) return false;
  try {
    const last = JSON.parse(readFileSync(fullCheckFile(pair), 'utf8')) as { at: number; of?: string };
    // A check of another folder or remote under this pair's name (the manifest changed since) is not
    // this one's; one dated after now (the clock was set back since) proves no age.
    // A record from before `of` was kept, or kept in an earlier form, is taken as this pair's (else every pair re-read all on upgrade).
    if ((last.of !== undefined && !ownRecord(last.of, pair)) || !(last.at <= nowMs)) return true;
    return !(nowMs - last.at < pair.fullCheckMs);
  } catch {
    return true; // never ran (or unreadable): due
  }
}


export async function recordFullCheck(pair: ResolvedPair, warn: Warn, nowMs = Date.now()): Promise<void> {
  await writeCacheFile(fullCheckFile(pair), JSON.stringify({ at: nowMs, of: pairEnds(pair) }), warn);
}
