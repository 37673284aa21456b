// What a pair's run is asked to do: the options every step of it reads. Kept apart from run-pair.ts
// so the steps (check-pair, plan-run, snapshots, drain, shards…) import them without importing the run.
import type { PlanContext } from '../adapters/types.js';
import type { Redactor } from '../exec/redact.js';
import type { Action, Direction, ResolvedPair } from '../types.js';
import type { Emit } from './events.js';
import type { PlanSeam } from './plan-seam.js';
import type { Shard } from './shard.js';

export interface DrainOptions {
  /** Date.now() after which no transfer may still run: the budget's end less the margin to stop and clean up. */
  readonly deadline: number;
  /** Date.now() of the budget's end: the last steps (what arrived, the marker) are stopped by then. */
  readonly end: number;
}

/** Where a shard's run writes what identifies it (shard.ts runFingerprint); read by runPair for the result. */
export interface ShardRun {
  readonly shard: Shard;
  /** The fingerprint of the run this worker belongs to, once both sides were listed; null before. */
  run: string | null;
}

export interface PairRunOptions {
  readonly action: Action;
  readonly dryRun: boolean;
  readonly verify: boolean;
  readonly waitMs: number;
  readonly command: string;
  readonly plan: PlanContext;
  readonly emit: Emit;
  readonly redact: Redactor;
  readonly signal: AbortSignal;
  /** `plan --save` / `apply`: the run stops at its plan, or carries out the given one (plan-seam.ts). */
  readonly seam?: PlanSeam;
  /** This worker's slice of the pair (shard.ts): the whole plan is computed and guarded, only the slice is moved. */
  readonly shard?: Shard;
  /** `drain`: push newest first until the deadline (drain-pair.ts). */
  readonly drain?: DrainOptions;
  /** Set by runPair for a shard: the planning paths write the run's fingerprint here. */
  readonly shardRun?: ShardRun;
}

export function directionOf(pair: ResolvedPair, action: Action): Direction {
  return action === 'push' || action === 'pull' ? action : pair.mode;
}
