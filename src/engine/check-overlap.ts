// A check compares two listings; a push or pull of the same pair that moves files meanwhile makes the
// copy look half made. Such a check's drift is not the copy's state, so it is told as `locked` (exit 75:
// try again) rather than drift (exit 4, which pages someone for a transfer that is going well).
import type { LockInfo } from '../state/lock.js';
import type { PairRecord } from '../state/store.js';

const MOVED = new Set(['ok', 'failed', 'interrupted', 'drift', 'partial']);

/**
 * Why a check that began at `from` (ms) and found drift at `now` overlapped a run of its pair:
 * 'began' (a run holds the pair's lock now), a sentence naming a run recorded as ended in between,
 * or undefined (no run overlapped: the drift stands). A record stamped after `now` (a clock set back
 * since) is not taken as one: it would hide every later drift until the next run.
 */
export function overlapOf(live: LockInfo | undefined, last: PairRecord | undefined, from: number, now: number): 'began' | string | undefined {
  if (live) return 'began';
  // Only a run that can have moved files: a refused, locked or in-sync one changed nothing here.
  if (!last || last.action === 'check' || last.action === 'status' || !MOVED.has(last.status)) return undefined;
  const ended = Date.parse(last.finishedAt);
  return Number.isFinite(ended) && ended >= from && ended <= now ? `a ${last.action} of this pair ended while it was checked (at ${last.finishedAt})` : undefined;
}
