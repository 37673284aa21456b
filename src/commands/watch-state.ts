// What watch keeps per pair between its runs, how long a pair that keeps failing waits, which pair runs
// next, and which are drained.
import type { Emit } from '../engine/events.js';
import { drains } from '../manifest/rules.js';
import type { ResolvedPair } from '../types.js';
import { takeTurns, UNKNOWN_REPO } from '../engine/run.js';
import type { FolderAsker } from './folder-asker.js';

/** since: when the first unsent change came; fails: runs in a row that ended locked or failed; initial: the push at the start is still to go through; late: its folder did not answer as watch started, watched once it does. */
export interface WatchState { timer?: NodeJS.Timeout; initial?: boolean; late?: boolean; awaiting?: object; running: boolean; again: boolean; changed: Set<string>; more: number; goneSaid?: boolean; since?: number; fails: number; waitingSince?: number }

/**
 * The changed paths a pair keeps for its next run's step line; past this only counted (review 49: a
 * pair failing all day while a job wrote new names grew without bound). The run pushes the whole pair.
 */
const KEPT_PATHS = 10_000;

/** The longest pause before a pair that keeps ending locked or failed is tried again. */
const RETRY_MAX_MS = 15 * 60_000;

/** The pause before a pair that ended locked or failed `fails` times in a row is tried again: its own bound, not the max wait (0 with --debounce 0: a failing pair was retried without pause). */
export function retryMs(wait: number, fails: number): number {
  return Math.min(RETRY_MAX_MS, Math.max(wait, 2000) * 2 ** (fails - 1));
}

/** A changed path kept for the step line, or counted once KEPT_PATHS are kept. */
export function note(s: WatchState, path: string): void {
  if (s.changed.size < KEPT_PATHS || s.changed.has(path)) s.changed.add(path);
  else s.more += 1;
}

/**
 * The pause before a folder that could not be watched `failures` times in a row is tried again: each
 * try walks the whole tree and, out of inotify watches, takes them all before it fails (review 53:
 * every 2 s all day, and other programs' watches failed meanwhile).
 */
export function lookAgainMs(failures: number): number {
  return Math.min(60_000, 2000 * 2 ** Math.max(0, failures - 1));
}
export const AGAIN = 'trying again after 2s, then less often (at most a minute apart)';

/**
 * Whether `pair` may run now, and which older waiters (`older`, oldest first) may start before it:
 * each older waiter holds its folder whether or not it can start (review 56: an outer pair behind two
 * busy inner ones waited for good), those not clashing with a running or holding pair take the free
 * slots, and `pair` is blocked by a clash or by no slot left.
 */
/**
 * Two pairs that must not run at once, as `labsync push` judges it (run.ts takeTurns), from what their
 * folders last answered (links resolved, a dvc pair's repository): watch stats nothing itself, where a
 * dead folder would hold its event loop (review 71). A dvc pair not answered yet takes turns with every other.
 */
export const clashAsAnswered = (asker: Pick<FolderAsker, 'lastAnswer'>) => (a: ResolvedPair, b: ResolvedPair): boolean =>
  takeTurns(a, b, (p) => asker.lastAnswer(p)?.local ?? p.local, (p) => {
    const at = asker.lastAnswer(p);
    return at ? at.repo : UNKNOWN_REPO;
  });

export function turnOf<P>(pair: P, older: readonly P[], running: ReadonlySet<P>, slots: number, clash: (a: P, b: P) => boolean): { blocked: boolean; ahead: P[] } {
  const held: P[] = [...running];
  let free = slots - running.size;
  const ahead: P[] = [];
  for (const o of older) {
    const clashes = held.some((h) => clash(h, o));
    held.push(o);
    if (!clashes && free > 0) {
      free -= 1;
      ahead.push(o);
    }
  }
  return { blocked: held.some((h) => clash(h, pair)) || free <= 0, ahead };
}

/**
 * The watched pairs a SIGTERM drains, each one left out said: not one no longer watched, nor one drain
 * cannot push. Whether each folder answers is asked next (answering).
 */
export function toDrain(watched: readonly ResolvedPair[], state: ReadonlyMap<string, WatchState>, emit: Emit): ResolvedPair[] {
  const out: ResolvedPair[] = [];
  for (const p of watched) {
    const s = state.get(p.name);
    // A late pair is asked with the others just before the drain (answering): one that answers by then is drained (review 61).
    const why = !s ? `${p.local} is not watched` : !drains(p.tool, p.remote.type, p.mode) || p.snapshots ? 'drain pushes rsync pairs to a local or ssh remote' : undefined;
    if (why) emit({ kind: 'warning', pair: p.name, message: `not drained: ${why}` });
    else out.push(p);
  }
  return out;
}

/** The pairs that have waited for their turn longer than `pair` (first come, first served), oldest first. */
export function waitedLonger(pairs: readonly ResolvedPair[], state: ReadonlyMap<string, WatchState>, pair: ResolvedPair, s: WatchState): ResolvedPair[] {
  const since = (p: ResolvedPair): number => state.get(p.name)?.waitingSince ?? 0;
  return pairs.filter((o) => {
    const w = state.get(o.name);
    return o !== pair && w?.again && !w.running && w.waitingSince !== undefined && (s.waitingSince === undefined || w.waitingSince < s.waitingSince);
  }).sort((a, b) => since(a) - since(b));
}

/** The push at the start of every watched pair, not one whose folder has not answered (its run would wait on it too; pushed once it answers). */
export function pushAtStart(watched: readonly ResolvedPair[], state: ReadonlyMap<string, WatchState>, later: (pair: ResolvedPair, ms: number) => void): void {
  for (const pair of watched) {
    const s = state.get(pair.name) as WatchState;
    if (s.late) continue;
    s.initial = true;
    later(pair, 0);
  }
}
