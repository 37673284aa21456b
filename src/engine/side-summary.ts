// An unchanged ssh pair answered from two small files (issue 12): each side remembers its raw find
// listing's digest beside the digest of its content (tree-summary.ts, as local pairs do). When both
// sides list byte for byte as remembered, every file has the stat key it was hashed under, so each
// content digest still holds; equal digests mean equal trees, and neither hash cache is loaded.
import type { ResolvedPair } from '../types.js';
import type { Warn } from '../verify/cache-file.js';
import { sumsDigestOf } from '../verify/sums-file.js';
import { contentDigest, fingerprint, readSummary, writeSummary, type TreeSummary } from '../verify/tree-summary.js';
import { cacheDir } from './pair-tree.js';
import { dropListing, saveListing } from '../verify/listing-file.js';
import type { Side } from './sides.js';
import { mark } from '../util/trace.js';

/** The local side's summary when both sides are as remembered and hold the same content; else undefined. */
export function sameBySummary(pair: ResolvedPair, local: Side, remote: Side): TreeSummary | undefined {
  if (!local.rawDigest || !remote.rawDigest || local.missing || remote.missing) return undefined;
  const a = readSummary(cacheDir(pair), local.cacheRoot);
  // A racy file's key alone does not vouch for its content: such a tree is compared again (incremental.ts).
  if (!a || a.listing !== local.rawDigest || a.racy) return undefined;
  const b = readSummary(cacheDir(pair), remote.cacheRoot);
  if (!b || b.listing !== remote.rawDigest || b.racy) return undefined;
  // Not local.paths.length: that would parse the listing this answer exists to skip.
  return a.sha256 === b.sha256 && a.files === b.files ? a : undefined;
}

/** The raw listing a side was summed up with, for the next run's record-by-record comparison (incremental.ts). */
export async function keepListing(pair: ResolvedPair, side: Side, summed: boolean, warn: Warn): Promise<void> {
  const raw = summed ? (side.rawListing?.()?.parts ?? side.raw?.()) : undefined;
  if (raw) await saveListing(cacheDir(pair), side.cacheRoot, raw, warn);
  else dropListing(cacheDir(pair), side.cacheRoot);
}

/**
 * After a comparison found the sides equal: each side's summary, if every one of its files is in its
 * cache under its current key (none racy, none unread). A side not fully remembered keeps no summary.
 * Returns the local side's sums digest when it took one (the receipt's: the caller need not take it again).
 */
export async function rememberSummaries(pair: ResolvedPair, local: Side, remote: Side, warn: Warn, aligned = false): Promise<string | undefined> {
  if (pair.remote.type === 'local') return undefined; // local↔local pairs keep theirs through unchanged.ts (rememberSides)
  let localSums: string | undefined;
  let localContent: string | undefined;
  for (const side of [local, remote]) {
    if (!side.rawDigest || side.missing) continue;
    // `aligned`: the sides were just proved equal file by file (same paths in the same order, same sizes,
    // same sha256s). The far side's content digest (each path, size and sha256) is then the near side's,
    // once every one of its files is remembered under its listed key: not streamed again (50k files: ~40 ms).
    // A file not remembered (a copy too fresh to trust its key) leaves that side without a summary either way.
    const borrow = side === remote && aligned && localContent !== undefined;
    const summary = !borrow ? summed(side, side === local) : remembersAll(side) ? { fingerprint: fingerprint(side.paths, side.keys), sha256: localContent as string, files: side.paths.length, listing: side.rawDigest } : undefined;
    if (borrow) mark(summary ? 'far summary: the near content digest' : 'far summary: none (a file not remembered)');
    if (summary && side === local) {
      localContent = summary.sha256;
      localSums = summary.sums;
    }
    await writeSummary(cacheDir(pair), side.cacheRoot, summary, warn);
    await keepListing(pair, side, summary !== undefined, warn);
  }
  return localSums;
}

/** Every listed file has a sha256 in the side's cache under its listed key. */
function remembersAll(side: Side): boolean {
  for (let i = 0; i < side.paths.length; i++) if (side.cache.shaSlot(side.paths[i] as string, side.keys, i) < 0 && !side.cache.shaOf(side.paths[i] as string, side.keys, i)) return false;
  return true;
}

/** A side's summary from its cache (undefined: a file without a remembered sha256), with its sums digest when `sums`. */
function summed(side: Side, sums: boolean): TreeSummary | undefined {
  const files: { path: string; size: number; sha256: string }[] = [];
  for (let i = 0; i < side.paths.length; i++) {
    const sha256 = side.cache.shaOf(side.paths[i] as string, side.keys, i);
    if (!sha256) return undefined;
    files.push({ path: side.paths[i] as string, size: side.keys[i * 4] as number, sha256 });
  }
  // Hashed as the lines are made (the same bytes as the joined list), not built whole first.
  const digest = sums ? sumsDigestOf(side.paths, (i) => files[i]?.sha256) : undefined;
  return { fingerprint: fingerprint(side.paths, side.keys), sha256: contentDigest(files), files: files.length, listing: side.rawDigest as string, ...(digest ? { sums: digest } : {}) };
}
