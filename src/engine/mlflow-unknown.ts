// An MLflow version registered by another client carries no SHA256SUMS: its files are known by size
// alone, and retrained weights of one architecture keep their sizes (a review: a pull said in sync and
// moved nothing while the alias pointed at new weights). Such files count as changed, unless this folder
// last pulled that very version (a registered version's files do not change; a tampered one is the
// verify's to catch). A push registers the folder (once: its version then has its SHA256SUMS) rather
// than take equal sizes for equal bytes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Listing } from '../plan/types.js';
import type { ResolvedPair } from '../types.js';
import { writeCacheFile, type Warn } from '../verify/cache-file.js';
import { cacheDir, ownRecord, pairEnds } from './pair-tree.js';

const recordFile = (pair: ResolvedPair): string => join(cacheDir(pair), `mlflow-pulled-${pair.name}.json`);

/** The version this folder last pulled whole, if recorded for these ends. */
export function lastPulled(pair: ResolvedPair): number | undefined {
  try {
    const r = JSON.parse(readFileSync(recordFile(pair), 'utf8')) as { version?: unknown; of?: unknown };
    return ownRecord(r.of, pair) && typeof r.version === 'number' ? r.version : undefined;
  } catch {
    return undefined;
  }
}

export async function rememberPulled(pair: ResolvedPair, version: unknown, warn: Warn): Promise<void> {
  if (typeof version === 'number') await writeCacheFile(recordFile(pair), JSON.stringify({ version, of: pairEnds(pair) }), warn);
}

/** The remote listing as the plan must read it: files without a listed sha256 marked as of unknown content where that matters. */
export function unknownAsChanged(pair: ResolvedPair, direction: 'push' | 'pull', remote: Listing, version: unknown): Listing {
  if (pair.tool !== 'mlflow' || !remote.entries.some((e) => !e.sha256)) return remote;
  if (direction === 'pull' && typeof version === 'number' && lastPulled(pair) === version) return remote;
  // No sha256 is this string: the plan counts each such file as changed (its digest leaves sha256s out).
  const unknown = `unknown content (version ${String(version ?? 'none')} has no SHA256SUMS entry)`;
  return { ...remote, entries: remote.entries.map((e) => (e.sha256 ? e : { ...e, sha256: unknown })) };
}
