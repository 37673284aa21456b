// A worker's slice of a whole-pair plan and of a verify result (issue 16 §3). The guard has already
// judged the whole plan; these only narrow what this worker moves, deletes and answers for.
import type { VerifyReport } from '../adapters/types.js';
import type { PairPlan } from '../plan/types.js';
import type { Direction, ResolvedPair } from '../types.js';
import { driftOf } from './compare-pair.js';
import type { PairResult } from './events.js';
import type { PairRunOptions, ShardRun } from './pair-options.js';
import { inSlice, shardRefusal, shardSuffix, type Shard } from './shard.js';


/** A shard's run options (its ShardRun, a stamp of its own), and why the pair cannot be split, if it cannot. */
export function asShard(pair: ResolvedPair, o: PairRunOptions, direction: Direction): { o: PairRunOptions; refused?: string } {
  if (!o.shard) return { o };
  const refused = shardRefusal(pair, direction) ?? (o.seam ? 'a saved plan is carried out whole; --shard does not apply to plan --save or apply' : undefined);
  // What a run names by its stamp (aws's staging folder, rclone's backup folder) is not shared by two shards started in one millisecond.
  const plan = { ...o.plan, stamp: `${o.plan.stamp}.${shardSuffix(o.shard)}` };
  return { o: { ...o, plan, shardRun: { shard: o.shard, run: null } }, ...(refused ? { refused } : {}) };
}

/** The result's `shard` field. */
export const shardFacts = (r: ShardRun | undefined): Pick<PairResult, 'shard'> => (r ? { shard: { index: r.shard.index, count: r.shard.count, run: r.run } } : {});

/**
 * The plan's files in this slice. A deletion falls in the slice of what is named to delete it
 * (`deleteKey`: for rsync, the topmost folder the source lacks entirely, plan/changes.ts
 * deletionTargets), so a folder goes whole to one worker and no two workers delete the same thing.
 * The listings' counts and digests stay the whole pair's.
 */
export function slicePlan(plan: PairPlan, shard: Shard, deleteKey: (path: string) => string = (p) => p): PairPlan {
  const mine = <T extends { readonly path: string }>(list: readonly T[], key: (path: string) => string = (p) => p): T[] => list.filter((f) => inSlice(key(f.path), shard));
  return { ...plan, send: mine(plan.send), replace: mine(plan.replace), delete: mine(plan.delete, deleteKey) };
}

/** What names a deleted path's deletion: its topmost folder that holds no source file, else the path itself. */
export function deletionKey(sourcePaths: readonly string[]): (path: string) => string {
  const sourceDirs = new Set<string>();
  for (const p of sourcePaths) {
    for (let at = p.indexOf('/'); at >= 0; at = p.indexOf('/', at + 1)) sourceDirs.add(p.slice(0, at));
  }
  return (path) => {
    for (let at = path.indexOf('/'); at >= 0; at = path.indexOf('/', at + 1)) {
      const dir = path.slice(0, at);
      if (!sourceDirs.has(dir)) return dir;
    }
    return path;
  };
}

/**
 * A verify result narrowed to this slice: drift in another worker's files is that worker's to fix. A
 * file only the destination has is the slice's of what deletes it (`deleteKey`, as slicePlan): a
 * folder the source lacks goes whole to one worker, and another's files in it are not its drift.
 */
export function sliceVerify<T extends VerifyReport & { readonly status: 'in_sync' | 'drift' | 'skipped' }>(v: T, shard: Shard, pair: ResolvedPair, direction: Direction, deleteKey: (path: string) => string = (p) => p): T {
  if (v.status === 'skipped') return v;
  const mine = (list: readonly string[] | undefined, key: (path: string) => string = (p) => p): string[] => (list ?? []).filter((p) => inSlice(key(p), shard));
  // The report's `extra` is what only the remote has, `missing` what only the local side has.
  const [extraKey, missingKey] = direction === 'pull' ? [undefined, deleteKey] : [deleteKey, undefined];
  const sliced = { ...v, missing: mine(v.missing, missingKey), extra: mine(v.extra, extraKey), changed: mine(v.changed), ...(v.unproven ? { unproven: mine(v.unproven) } : {}) };
  const d = driftOf(sliced, pair, direction);
  return { ...sliced, status: d.missing.length + d.extra.length + d.changed.length ? 'drift' : 'in_sync' };
}
