// A pair's folder asked where it lies as watch starts, within a bound: one on a network file system whose
// server stopped answering had held up every later pair, and a stop never reached the drain (review 57).
import type { Emit } from '../engine/events.js';
import type { ResolvedPair } from '../types.js';
import type { WatchedTree } from './watch-filter.js';
import type { Place } from './folder-asker.js';
import type { WatchState } from './watch-state.js';

/** How long the start waits for a pair folder to answer before it goes on with the other pairs. */
export const START_ANSWER_MS = 10_000;

/** A subscription given up because watch is stopping (not a folder that cannot be watched). */
export class Stopped extends Error {
  constructor() {
    super('watch is stopping');
  }
}

/** `work`'s value; 'late' after `ms`; 'stopped' once `signal` aborts (whichever comes first). */
export async function within<T>(work: Promise<T>, ms: number, signal: AbortSignal): Promise<T | 'late' | 'stopped'> {
  if (signal.aborted) return 'stopped';
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms))),
      new Promise<'stopped'>((resolve) => {
        onAbort = () => resolve('stopped');
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** The tree of a pair not yet watched: it judges no event (none come before it is watched). */
export function unanswered(pair: ResolvedPair): WatchedTree {
  return { top: pair.local, notes: [], ignore: [], judge: () => undefined, skipDir: () => false };
}

/**
 * A pair whose folder did not answer within START_ANSWER_MS: said, left out of the start push (its run
 * would wait on the folder too), then watched (`start`) once the question already asked is answered (no
 * second question waits on the same folder), and pushed then if watch pushes at its start (`push`).
 */
export function whenAnswered(pair: ResolvedPair, place: Promise<Place | Error>, o: { state: ReadonlyMap<string, WatchState>; signal: AbortSignal; emit: Emit; schedule(pair: ResolvedPair): void }, start: (p: Place) => Promise<void>, push: boolean): void {
  (o.state.get(pair.name) as WatchState).late = true;
  o.emit({ kind: 'warning', pair: pair.name, message: `${pair.local} has not answered for ${START_ANSWER_MS / 1000}s (a network file system whose server is down?): the other pairs are watched meanwhile; this one once it answers` });
  void place.then(async (p) => {
    if (o.signal.aborted) return;
    if (p instanceof Error) return void o.emit({ kind: 'warning', pair: pair.name, message: `cannot watch ${pair.local}: ${p.message}` });
    await start(p);
    const s = o.state.get(pair.name);
    // Not watched after all (start said why), or stopping.
    if (!s || o.signal.aborted) return;
    s.late = false;
    o.emit({ kind: 'warning', pair: pair.name, message: `${pair.local} answers: watching it` });
    if (!push) return;
    s.initial = true;
    o.schedule(pair);
  });
}
