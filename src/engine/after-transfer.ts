// After a transfer (or a run that found nothing to send): verify what the destination holds, and
// repair once the files that differ in content though size and time matched.
import type { Adapter, Changes, Command } from '../adapters/types.js';
import type { Direction, ResolvedPair } from '../types.js';
import { attempt, type AttemptContext } from './attempt.js';
import { describeDrift, sayUnproven, verifyPair } from './compare-pair.js';
import type { VerifyResult } from './events.js';
import { stopped, type Body } from './outcome.js';
import type { PairRunOptions } from './pair-options.js';

export interface Moved { attempts: number; changes: Changes; warnings: string[]; files: number; bytes: number }

/** How a transfer's result is compared; the pair's own verifier unless a caller knows better (snapshots). */
export type Compare = () => Promise<VerifyResult | { stop: Body }>;

/** Verify (and repair once) what the transfer left, or what a run with nothing to send found. */
export async function afterTransfer(pair: ResolvedPair, adapter: Adapter, o: PairRunOptions, ctx: AttemptContext, show: (list: readonly Command[]) => void, base: Moved, direction: Direction, compare?: Compare): Promise<Body> {
  if (!o.verify) return { status: 'ok', ...base };
  const check: Compare = compare ?? (() => verifyPair(adapter, pair, direction, ctx, o.plan));
  let verified = await check();
  if ('stop' in verified) return { ...base, ...verified.stop };
  // Files the transfer skipped as equal (same size and time) yet differing in content: send them
  // again comparing content, once, then verify again. Never reported as verified while they differ.
  if (verified.status === 'drift' && verified.changed.length && adapter.repair && direction !== 'bisync') {
    const changed = [...verified.changed];
    o.emit({ kind: 'pair_step', pair: pair.name, step: `repairing ${changed.length} changed file${changed.length === 1 ? '' : 's'}` });
    const repair = adapter.repair(pair, direction, changed, o.plan);
    show(repair);
    const fixed = await attempt(repair, { ...ctx, watchStall: true });
    if (fixed.kind !== 'ok') return { ...base, ...stopped(fixed) };
    verified = await check();
    if ('stop' in verified) return { ...base, ...verified.stop };
    if (verified.status === 'in_sync') base.warnings.push(`repaired ${changed.length} file${changed.length === 1 ? '' : 's'} that differed in content though size and time matched: ${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ', …' : ''}`);
  }
  base.warnings.push(...sayUnproven(verified, pair, o.emit));
  if (verified.status === 'drift') {
    return { status: 'drift', error: `verify found the destination differs after the transfer: ${describeDrift(verified, pair, direction)}`, verify: verified, ...base };
  }
  return { status: 'ok', verify: verified, ...base };
}
