// A worker's slice of a whole-pair plan and of a verify result (issue 16 §3). The guard has already
// judged the whole plan; these only narrow what this worker moves, deletes and answers for.
import type { VerifyReport } from '../adapters/types.js';
import type { PairPlan } from '../plan/types.js';
import type { Direction, ResolvedPair } from '../types.js';
import { driftOf } from './compare-pair.js';
import { inSlice, type Shard } from './shard.js';

/** Where a shard's run writes what identifies it (shard.ts runFingerprint); read by runPair for the result. */
export interface ShardRun {
  readonly shard: Shard;
  /** The fingerprint of the run this worker belongs to, once both sides were listed; null before. */
  run: string | null;
}

/** The plan's files in this slice. The listings' counts and digests stay the whole pair's. */
export function slicePlan(plan: PairPlan, shard: Shard): PairPlan {
  const mine = <T extends { readonly path: string }>(list: readonly T[]): T[] => list.filter((f) => inSlice(f.path, shard));
  return { ...plan, send: mine(plan.send), replace: mine(plan.replace), delete: mine(plan.delete) };
}

/**
 * What to name to delete, for this slice: the whole plan's targets (a file, or a folder the source
 * lacks entirely, plan/changes.ts deletionTargets) that fall in the slice by their own path. A
 * folder target goes whole to one worker, so no two workers delete the same thing.
 */
export function sliceTargets(targets: readonly string[], shard: Shard): string[] {
  return targets.filter((t) => inSlice(t, shard));
}

/** A verify result narrowed to this slice: drift in another worker's files is that worker's to fix. */
export function sliceVerify<T extends VerifyReport & { readonly status: 'in_sync' | 'drift' | 'skipped' }>(v: T, shard: Shard, pair: ResolvedPair, direction: Direction): T {
  if (v.status === 'skipped') return v;
  const mine = (list: readonly string[] | undefined): string[] => (list ?? []).filter((p) => inSlice(p, shard));
  const sliced = { ...v, missing: mine(v.missing), extra: mine(v.extra), changed: mine(v.changed), ...(v.unproven ? { unproven: mine(v.unproven) } : {}) };
  const d = driftOf(sliced, pair, direction);
  return { ...sliced, status: d.missing.length + d.extra.length + d.changed.length ? 'drift' : 'in_sync' };
}
