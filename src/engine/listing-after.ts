// The sides' listings after a transfer, when local (issue 12, item 6: a change costs what the change
// costs). Neither is listed again whole.
// The destination (the folder on a pull, a file:// remote on a push): each path the transfer touched
// there (the plan's sends, replacements and deletions, what the tool says it wrote) gets the record find
// would print for it now, from one lstat, in its place in the listing before; a path new there lists its
// folder again by find (verify/listing-patch.ts). The transfer is the one writer there: the pair's lock
// keeps other labsync runs out. What the patch does not look for is a file someone else writes into the
// destination during the run: the next run sees it.
// The source (the folder on a push, a local remote on a pull) is the user's live data, which can change
// anywhere while a run goes: one find names every file and folder whose ctime moved since two seconds
// before its listing began (verify/changed-since.ts), and the same patch takes those; a file changed
// meanwhile, planned or not, so shows a key other than the one planned and is compared (and sent again),
// never reported verified while the sides differ. Where that cannot be trusted it is listed whole
// (wholeWhy): ctime not stamped by this machine's clock (a network file system: verify/mount-types.ts),
// a mount inside the tree made or removed since, the wall clock stepped back since, the root changed.
// A host's listing after (ssh, a push over its held session) is patched from what the host answers there
// (host-after.ts).
// LABSYNC_AFTER=whole: both sides listed whole again (to measure what this saves); LABSYNC_SOURCE_AFTER=whole: the source only.
import { existsSync } from 'node:fs';
import type { PairPlan } from '../plan/types.js';
import type { ResolvedPair } from '../types.js';
import { joinRaw } from '../verify/listing-match.js';
import { listingFileFor } from '../verify/listing-file.js';
import { patchedStats } from '../verify/listing-patch.js';
import type { TreeStats } from '../verify/stat-tree.js';
import { mark } from '../util/trace.js';
import { cacheDir, treeExcludes } from './pair-tree.js';
import type { Side } from './sides.js';
import { changedAfter } from './source-after.js';

/** What a transfer touched at the destination: what it sends and deletes, and what the tool says it wrote. */
export function touchedBy(plan: Pick<PairPlan, 'send' | 'replace' | 'delete'>, wrote: readonly string[] = []): string[] {
  return [...plan.send, ...plan.replace, ...plan.delete].map((f) => f.path).concat(wrote);
}

type Stats = Promise<TreeStats | undefined> | undefined;

/** Each side's stats after the transfer, built from its listing before, when local (undefined: that side is listed whole). */
export function statsAfter(pair: ResolvedPair, direction: 'push' | 'pull', before: { local: Side; remote: Side }, touched: readonly string[]): { local?: Stats; remote?: Stats } {
  if (process.env.LABSYNC_AFTER === 'whole') return {};
  return direction === 'push'
    ? { local: sourceAfter(pair, before.local), remote: sideAfter(pair, before.remote, touched) }
    : { local: sideAfter(pair, before.local, touched), remote: sourceAfter(pair, before.remote) };
}

/** The source's stats now: its listing before, patched where ctime moved since (source-after.ts; undefined: listed whole). */
function sourceAfter(pair: ResolvedPair, side: Side): Stats {
  if (!patchable(side)) return void mark('source listed whole: not listed by find here');
  return changedAfter(pair, side)?.then((changed) => changed && patched(pair, side, changed.files, changed.folders));
}

/** Whether the side is local and was listed by find (its raw records held), with no symlinks, and is still there. */
function patchable(side: Side): boolean {
  // A side gone meanwhile is listed (as missing) whole; so is one holding symlinks: their markers in
  // find's listing name no path, so a patch could not tell which to drop.
  return side.where === 'local' && !side.missing && !!side.rawDigest && !!side.rawListing?.() && !side.links && existsSync(side.path);
}

/** The destination's stats now, from the paths the transfer touched there. */
const sideAfter = (pair: ResolvedPair, side: Side, paths: readonly string[]): Stats => (patchable(side) ? patched(pair, side, paths) : undefined);

/** The listing before's clock and mounts, which a patched listing keeps (its records not listed again were read then). */
const clockOf = (side: Side): Pick<TreeStats, 'nowMs' | 'monoMs' | 'mounts'> => ({ nowMs: side.nowMs, ...(side.monoMs === undefined ? {} : { monoMs: side.monoMs }), ...(side.mounts === undefined ? {} : { mounts: side.mounts }) });

/** The side's clock is the listing before's: its records not listed again were read then (the racy window judged by the older clock). */
function patched(pair: ResolvedPair, side: Side, paths: readonly string[], folders: readonly string[] = []): Promise<TreeStats | undefined> {
  const raw = side.rawListing?.() as NonNullable<ReturnType<NonNullable<Side['rawListing']>>>;
  // The same listing again, its paths and keys already read (the unchanged side of plan-run.ts).
  const same = (): TreeStats => ({
    root: side.path, rawDigest: side.rawDigest as string, ...clockOf(side), ...(side.links === undefined ? {} : { links: side.links }),
    listing: () => ({ root: side.path, paths: side.paths, keys: side.keys }), raw: () => joinRaw(raw), rawListing: () => raw,
  });
  if (!paths.length && !folders.length) return Promise.resolve(same());
  const reference = raw.reference ?? listingFileFor(cacheDir(pair), side.path);
  return patchedStats(side.path, treeExcludes(pair), raw, paths, reference, folders).then((got) => {
    if (!got) mark(`listed whole: the patch of ${side.path} would list too much, or find failed`);
    return got === 'same' ? same() : got && { ...got, ...clockOf(side) };
  });
}
