// Where a run meets a saved plan (`plan --save`, `apply`): both planning paths (plan-run.ts for
// rsync, plan-pair.ts for aws and rclone) call atPlan once, after the plan and the guard's verdict
// are known and before anything is moved. The seam is the only place that knows about plan files'
// rules; the paths themselves stay as they are.
import type { PairPlan } from '../plan/types.js';
import { staleness } from '../plan/saved.js';
import type { ResolvedPair } from '../types.js';
import type { Body } from './outcome.js';

export type PlanSeam =
  /** `plan --save`: hand the plan and the guard's verdict over, then stop. */
  | { readonly kind: 'save'; keep(plan: PairPlan, refusal: string | undefined): void }
  /** `apply`: go on only when the sides still list as they did, and the guard allowed the plan then. */
  | { readonly kind: 'apply'; readonly plan: PairPlan; readonly refused?: string };

/** A result that ends the pair here, or undefined: run on as a normal run would. */
export function atPlan(seam: PlanSeam | undefined, pair: ResolvedPair, direction: 'push' | 'pull', plan: PairPlan, refusal: string | undefined): Body | undefined {
  if (!seam) return undefined;
  if (seam.kind === 'save') {
    seam.keep(plan, refusal);
    return refusal ? { status: 'refused', error: refusal } : { status: 'planned' };
  }
  const [source, dest] = direction === 'push' ? [pair.local, pair.remoteLabel] : [pair.remoteLabel, pair.local];
  const stale = staleness(seam.plan, plan, { source, dest });
  if (stale) return { status: 'refused', error: stale };
  // The manifest is the one the plan was made with (apply checks it first), so max_delete is the
  // same: the verdict given then stands, and the only override is a new plan under a changed manifest.
  if (seam.refused) return { status: 'refused', error: `the guard refused this plan when it was made (${seam.refused}); it cannot be applied. Make a new plan` };
  return undefined;
}

/** A pair whose run did not reach a plan (its tool compares by itself): a saved plan cannot carry it. */
export function unplannable(pair: ResolvedPair, seam: PlanSeam): Body {
  return {
    status: 'refused',
    error: `${pair.category}.${pair.name} cannot be planned ahead: ${pair.tool} compares ${pair.remoteLabel} by itself here (its listing is not one labsync can plan from); nothing was ${seam.kind === 'save' ? 'saved' : 'changed'}`,
  };
}
