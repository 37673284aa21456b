// Safety stops before anything destructive (SPEC §4). Pure: facts in, a refusal reason or nothing out.
import type { Changes } from '../adapters/types.js';
import type { Direction, MaxDelete } from '../types.js';
import type { PairPlan } from '../plan/types.js';

export function deleteLimit(max: MaxDelete, destFiles: number): number {
  return 'count' in max ? max.count : Math.floor((destFiles * max.percent) / 100);
}

function describeLimit(max: MaxDelete): string {
  return 'count' in max ? `max_delete ${max.count}` : `max_delete ${max.percent}%`;
}

export interface GuardInput {
  readonly direction: Direction;
  readonly mirror: boolean;
  readonly maxDelete: MaxDelete;
  readonly changes: Changes;
}

/** Why a run must not go ahead, or undefined. */
export function guardChanges({ direction, mirror, maxDelete, changes }: GuardInput): string | undefined {
  if (changes.sourceFiles === 0 && (direction === 'push' || mirror)) {
    return `the source is empty; refusing to ${mirror ? 'mirror it (that would delete everything at the destination)' : 'push nothing'}`;
  }
  if (!mirror) return undefined;
  const deletions = changes.delete.length;
  // A percentage needs the destination's size (a bisync's: what both sides held after the last sync,
  // bisync-listings.ts); without it, the tool's own limit applies instead.
  if (changes.destFiles === undefined && 'percent' in maxDelete) return undefined;
  const dest = changes.destFiles ?? deletions;
  const limit = deleteLimit(maxDelete, dest);
  if (deletions > limit) {
    const pct = dest ? ` (${Math.round((deletions / dest) * 100)}%)` : '';
    const held = changes.destFiles === undefined ? '' : `, of the ${dest} they held after the last sync${pct}`;
    if (direction === 'bisync') return `would delete ${deletions} files on the two sides${held}, over ${describeLimit(maxDelete)}; nothing was deleted. Check both sides, or raise max_delete for this pair`;
    return `would delete ${deletions} of ${dest} files at the destination${pct}, over ${describeLimit(maxDelete)}; nothing was deleted. Check the source, or raise max_delete for this pair`;
  }
  return undefined;
}

/**
 * A path that is a file on one side and a folder on the other, in a pair that deletes nothing: the tool
 * would remove the destination's file (or folder) to make room, a deletion no guard counted.
 */
export function kindClashRefusal(plan: Pick<PairPlan, 'kindClashes'>): string | undefined {
  const c = plan.kindClashes;
  if (!c?.length) return undefined;
  return `${c.slice(0, 3).join(', ')}${c.length > 3 ? ` and ${c.length - 3} more` : ''} ${c.length === 1 ? 'is' : 'are'} a file on one side and a folder on the other; this pair deletes nothing (delete: false), so labsync will not replace ${c.length === 1 ? 'it' : 'them'}. Move ${c.length === 1 ? 'it' : 'them'} aside at the destination, or set delete: true (a mirror counts it against max_delete); nothing was changed`;
}
