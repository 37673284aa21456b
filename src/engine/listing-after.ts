// The destination's listing after a transfer, when it is a local side (the folder on a pull, a file://
// remote on a push) (issue 12, item 6: a change costs what the change costs). It is not listed again
// whole: each path the transfer touched there (the plan's sends, replacements and deletions, what the
// tool says it wrote) gets the record find would print for it now, from one lstat, in its place in the
// listing before; a path new there lists its folder again by find (verify/listing-patch.ts). The
// transfer is the one writer there: the pair's lock keeps other labsync runs out. What the patch does
// not look for is a file someone else writes into the destination during the run: the next run sees it.
// The source is listed whole again, as the user's live data can change anywhere while a run goes: a
// file changed there meanwhile, planned or not, shows a key other than the one planned and is compared
// (and sent again), so it is never reported verified while the sides differ. A host's listing after
// (ssh, a push over its held session) is patched from what the host answers there (host-after.ts).
// LABSYNC_AFTER=whole: the destination listed whole again too (to measure what this saves).
import { existsSync } from 'node:fs';
import type { PairPlan } from '../plan/types.js';
import type { ResolvedPair } from '../types.js';
import { joinRaw } from '../verify/listing-match.js';
import { listingFileFor } from '../verify/listing-file.js';
import { patchedStats } from '../verify/listing-patch.js';
import type { TreeStats } from '../verify/stat-tree.js';
import { cacheDir, treeExcludes } from './pair-tree.js';
import type { Side } from './sides.js';

/** What a transfer touched at the destination: what it sends and deletes, and what the tool says it wrote. */
export function touchedBy(plan: Pick<PairPlan, 'send' | 'replace' | 'delete'>, wrote: readonly string[] = []): string[] {
  return [...plan.send, ...plan.replace, ...plan.delete].map((f) => f.path).concat(wrote);
}

type Stats = Promise<TreeStats | undefined> | undefined;

/** The destination's stats after the transfer, built from its listing before, when local (undefined: that side is listed whole). */
export function statsAfter(pair: ResolvedPair, direction: 'push' | 'pull', before: { local: Side; remote: Side }, touched: readonly string[]): { local?: Stats; remote?: Stats } {
  if (process.env.LABSYNC_AFTER === 'whole') return {};
  return direction === 'push' ? { remote: sideAfter(pair, before.remote, touched) } : { local: sideAfter(pair, before.local, touched) };
}

/** The side's clock is the listing before's: its records not listed again were read then (the racy window judged by the older clock). */
function sideAfter(pair: ResolvedPair, side: Side, paths: readonly string[]): Stats {
  const raw = side.where === 'local' && !side.missing && side.rawDigest ? side.rawListing?.() : undefined;
  // A side gone meanwhile is listed (as missing) whole; so is one holding symlinks: their markers in
  // find's listing name no path, so a patch could not tell which to drop.
  if (!raw || side.links || !existsSync(side.path)) return undefined;
  // The same listing again, its paths and keys already read (the unchanged side of plan-run.ts).
  const same = (): TreeStats => ({
    root: side.path, rawDigest: side.rawDigest as string, nowMs: side.nowMs, ...(side.links === undefined ? {} : { links: side.links }),
    listing: () => ({ root: side.path, paths: side.paths, keys: side.keys }), raw: () => joinRaw(raw), rawListing: () => raw,
  });
  if (!paths.length) return Promise.resolve(same());
  const reference = raw.reference ?? listingFileFor(cacheDir(pair), side.path);
  return patchedStats(side.path, treeExcludes(pair), raw, paths, reference).then((got) => (got === 'same' ? same() : got && { ...got, nowMs: side.nowMs }));
}
