// After a transfer the verify found the destination differs (plan-run.ts): those files are sent once
// more, comparing content, and both sides compared again. Under `apply` only files the plan lists go
// again; anything that changed beside them (a file edited in place under the same size and mtime, one
// added meanwhile) is reported, never sent unreviewed. What the rerun moves aside is named `.repair`.
import type { Adapter, Command } from '../adapters/types.js';
import { filesPlan } from '../plan/changes.js';
import type { ResolvedPair } from '../types.js';
import { asRerun, type AttemptContext } from './attempt.js';
import { driftOf } from './compare-pair.js';
import type { VerifyResult } from './events.js';
import type { Body } from './outcome.js';
import type { PairRunOptions } from './pair-options.js';
import { move, type Moved } from './send-files.js';

export interface Repair {
  readonly pair: ResolvedPair;
  readonly adapter: Adapter;
  readonly direction: 'push' | 'pull';
  readonly o: PairRunOptions;
  readonly ctx: AttemptContext;
  readonly show: (c: readonly Command[]) => void;
  readonly moved: Moved;
  /** The paths the plan sent or replaced (what an applied plan may send again). */
  readonly sending: readonly string[];
  /** Lists both sides again (the repaired paths as touched) and compares them. */
  readonly verifyAgain: (repaired: readonly string[]) => Promise<VerifyResult | { stop: Body }>;
  /** Where a successful repair is said. */
  readonly warnings: string[];
}

/** `verified` (drift) after one repair; as it was when nothing may be sent again. */
export async function repairOnce(r: Repair, verified: VerifyResult): Promise<VerifyResult | { stop: Body }> {
  const { pair, direction, o } = r;
  const d = driftOf(verified, pair, direction);
  const differing = direction === 'push' ? [...d.changed, ...d.missing] : [...d.changed, ...d.extra];
  const approved = o.seam?.kind === 'apply' ? new Set(r.sending) : undefined;
  const again = approved ? differing.filter((p) => approved.has(p)) : differing;
  if (!again.length) return verified;
  o.emit({ kind: 'pair_step', pair: pair.name, step: `repairing ${again.length} file${again.length === 1 ? '' : 's'}` });
  const stop = await move(r.adapter, asRerun(r.adapter.files?.transfer(pair, direction, filesPlan(again, 'content'), o.plan, { repair: true }).send ?? [], 'repair'), r.ctx, r.show, r.moved);
  if (stop) return { stop };
  const after = await r.verifyAgain(again);
  if (!('stop' in after) && after.status === 'in_sync') r.warnings.push(`repaired ${again.length} file${again.length === 1 ? '' : 's'} that differed after the transfer: ${again.slice(0, 3).join(', ')}${again.length > 3 ? ', …' : ''}`);
  return after;
}
