// A local↔local pair nothing touched since it was last proved equal is answered from two find
// listings and two small summaries: no listing parsed, no hash cache loaded, nothing planned or read
// (issue 12, "cost grows with the change"). A summary vouches for a tree only while find's raw
// output is byte for byte the one it was written with (same paths, sizes, mtimes, ctimes, inodes),
// and two trees whose content digests match hold the same bytes (tree-summary.ts).
import type { Changes } from '../adapters/types.js';
import type { ResolvedPair } from '../types.js';
import { listingFileFor } from '../verify/listing-file.js';
import { treeStats, type TreeStats } from '../verify/stat-tree.js';
import { hasSummary, readSummary, recognise, summarise, writeSummary } from '../verify/tree-summary.js';
import type { AttemptContext } from './attempt.js';
import { cacheDir, treeExcludes } from './pair-tree.js';
import type { Body } from './outcome.js';
import { rememberSumsDigest } from './receipt.js';
import type { PairRunOptions } from './pair-options.js';
import { holdsLinks, type Side } from './sides.js';
import { keepListing } from './side-summary.js';

/** same: both trees recognised and equal; else the find listings already taken (for the full run to reuse). */
export type Recognised = { same: { files: number; sums?: string } } | { stats?: { local: TreeStats; remote: TreeStats } };

const warnOf = (pair: ResolvedPair, ctx: Pick<AttemptContext, 'emit'>) => (message: string): void => ctx.emit({ kind: 'warning', pair: pair.name, message });

/** Both trees of a local↔local pair against their summaries; `full`: every byte must be read, so never. */
export async function recognisePair(pair: ResolvedPair, ctx: Pick<AttemptContext, 'emit'>, full: boolean): Promise<Recognised> {
  if (pair.remote.type !== 'local' || full) return {};
  const dir = cacheDir(pair);
  const there = pair.remote.path;
  if (!hasSummary(dir, pair.local) || !hasSummary(dir, there)) return {};
  const excludes = treeExcludes(pair);
  // Symlinks are not in find's listing of files: a tree holding any goes the way it always went.
  // Each kept over the listing it was last proved with (listing-match.ts): a no-op holds one copy of each.
  const [local, remote] = await Promise.all([treeStats(pair.local, excludes, listingFileFor(dir, pair.local)), treeStats(there, excludes, listingFileFor(dir, there))]);
  const warn = warnOf(pair, ctx);
  const [a, b] = await Promise.all([recognise(local, dir, warn), recognise(remote, dir, warn)]);
  if (!a || !b || a.files !== b.files || a.sha256 !== b.sha256) return { stats: { local, remote } };
  // find counts them in the same walk; without find, one more walk each asks.
  const links = await Promise.all([local, remote].map((t) => (t.links === undefined ? holdsLinks(t.root) : t.links > 0)));
  if (!links.some(Boolean)) return { same: { files: a.files, ...(a.sums ? { sums: a.sums } : {}) } };
  return { stats: { local, remote } };
}

/** The run of a recognised pair: nothing to send or delete, verified from the summaries. */
export function unchangedBody(pair: ResolvedPair, o: PairRunOptions, same: { files: number; sums?: string }): Body {
  const changes: Changes = { transfer: [], replace: [], delete: [], sourceFiles: same.files, destFiles: same.files };
  if (o.action === 'status') return { status: 'in_sync', changes };
  if (o.dryRun) return { status: 'planned', changes };
  if (o.signal.aborted) return { status: 'interrupted', error: 'interrupted', changes };
  const base = { attempts: 1, files: 0, bytes: 0, warnings: [], changes };
  if (!o.verify || pair.verify === 'none') return { status: 'ok', ...base };
  o.emit({ kind: 'pair_step', pair: pair.name, step: `verified: both trees unchanged since they were last proved equal (${same.files} files, nothing read)` });
  if (same.sums) rememberSumsDigest(pair, same.sums, same.files);
  const verify = { status: 'in_sync' as const, checked: same.files, missing: [], extra: [], changed: [], mode: pair.verify, proof: 'cached' as const, bytesHashed: { local: 0, remote: 0 } };
  return { status: 'ok', verify, ...base };
}

/**
 * After a local↔local verify found the sides equal: each tree's summary, from the hashes its cache now
 * holds for exactly the listed keys. Skipped when the summary on disk already names this listing.
 */
export async function rememberSides(pair: ResolvedPair, sides: readonly Side[], ctx: Pick<AttemptContext, 'emit'>): Promise<void> {
  if (pair.remote.type !== 'local') return;
  const dir = cacheDir(pair);
  const warn = warnOf(pair, ctx);
  for (const side of sides) {
    if (side.where !== 'local' || side.missing) continue;
    if (side.rawDigest && readSummary(dir, side.path)?.listing === side.rawDigest) continue;
    const shaAt = (i: number): string | undefined => side.cache.shaOf(side.paths[i] as string, side.keys, i) || undefined;
    const summary = summarise(side.paths, side.keys, shaAt, side.rawDigest);
    await writeSummary(dir, side.path, summary, warn);
    await keepListing(pair, side, summary !== undefined, warn);
  }
}
