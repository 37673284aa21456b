// The local sides' listings after a transfer (issue 12, item 6: a change costs what the change costs).
// A local side (the folder, or a file:// remote) is not listed again whole: each path the transfer
// touched (the plan's sends, replacements and deletions, what the tool says it wrote) gets the record
// find would print for it now, from one lstat, in its place in the listing before; a path new there
// lists its folder again by find (verify/listing-patch.ts). Byte for byte what find of the whole tree
// would print. A planned file changed at the source
// during the transfer so shows a key other than the one planned and is compared, as before.
// A file NOT planned that changes during the run (outside those folders) keeps its record from the
// listing at the run's start, which is what this run proves and remembers: the run's proof is of the
// listing moment, as a no-op's is, and the next run sees the file's stat key differ from the one
// remembered and plans it. A host's listing after (ssh) is taken as before, in the same session.
// LABSYNC_AFTER=whole: every side listed whole again, as before (to measure what this saves).
import { existsSync } from 'node:fs';
import type { PairPlan } from '../plan/types.js';
import type { ResolvedPair } from '../types.js';
import { joinRaw } from '../verify/listing-match.js';
import { listingFileFor } from '../verify/listing-file.js';
import { patchedStats } from '../verify/listing-patch.js';
import type { TreeStats } from '../verify/stat-tree.js';
import { cacheDir, treeExcludes } from './pair-tree.js';
import type { Side } from './sides.js';

/** What a transfer touched on each side: the source's planned files; at the destination also what it deletes and what the tool wrote. */
export interface Touched { readonly source: readonly string[]; readonly dest: readonly string[] }

export function touchedBy(plan: Pick<PairPlan, 'send' | 'replace' | 'delete'>, wrote: readonly string[] = []): Touched {
  const source = [...plan.send, ...plan.replace].map((f) => f.path);
  return { source, dest: [...source, ...plan.delete.map((f) => f.path), ...wrote] };
}

type Stats = Promise<TreeStats | undefined> | undefined;

/** Each local side's stats after the transfer, built from its listing before (undefined: that side is listed whole). */
export function statsAfter(pair: ResolvedPair, direction: 'push' | 'pull', before: { local: Side; remote: Side }, touched: Touched): { local?: Stats; remote?: Stats } {
  if (process.env.LABSYNC_AFTER === 'whole') return {};
  const [here, there] = direction === 'push' ? [touched.source, touched.dest] : [touched.dest, touched.source];
  return { local: sideAfter(pair, before.local, here), remote: sideAfter(pair, before.remote, there) };
}

/** The side's clock is the listing before's: its records not listed again were read then (the racy window judged by the older clock). */
function sideAfter(pair: ResolvedPair, side: Side, paths: readonly string[]): Stats {
  const raw = side.where === 'local' && !side.missing && side.rawDigest ? side.rawListing?.() : undefined;
  // A side gone meanwhile is listed (as missing) whole.
  if (!raw || !existsSync(side.path)) return undefined;
  // The same listing again, its paths and keys already read (the unchanged side of plan-run.ts).
  const same = (): TreeStats => ({
    root: side.path, rawDigest: side.rawDigest as string, nowMs: side.nowMs, ...(side.links === undefined ? {} : { links: side.links }),
    listing: () => ({ root: side.path, paths: side.paths, keys: side.keys }), raw: () => joinRaw(raw), rawListing: () => raw,
  });
  if (!paths.length) return Promise.resolve(same());
  const reference = raw.reference ?? listingFileFor(cacheDir(pair), side.path);
  return patchedStats(side.path, treeExcludes(pair), raw, paths, reference).then((got) => (got === 'same' ? same() : got && { ...got, nowMs: side.nowMs }));
}
