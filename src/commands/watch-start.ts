// A pair's folder asked (of the looks helper, folder-asker.ts) within a bound: as watch starts, before each
// run and before the drain. One on a network file system whose server stopped answering had held up every
// later pair and the stop (review 57), and its run or drain blocked the whole process (reviews 59, 60); it
// is watched, run or drained once it answers, or once its link leads to a folder that does (reviews 61, 62).
import type { Emit } from '../engine/events.js';
import type { ResolvedPair } from '../types.js';
import type { WatchedTree } from './watch-filter.js';
import { AskerClosed, type FolderAsker, type Place } from './folder-asker.js';
import { note, type WatchState } from './watch-state.js';

/** How long the start waits for a pair folder to answer before it goes on with the other pairs. */
export const START_ANSWER_MS = 10_000;

/** A subscription given up because watch is stopping (not a folder that cannot be watched). */
export class Stopped extends Error {
  constructor() {
    super('watch is stopping');
  }
}

/**
 * `work`'s value; 'late' after `ms`; 'stopped' once `signal` aborts (whichever comes first). An answer
 * already in a pipe when the time is up is read first: node runs due timers before it reads its pipes,
 * so after the loop was busy (a synchronous walk of a big tree) the bound had won over an answer
 * waiting there for milliseconds (review 60).
 */
export async function within<T>(work: Promise<T>, ms: number, signal: AbortSignal): Promise<T | 'late' | 'stopped'> {
  if (signal.aborted) return 'stopped';
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  let settled = false;
  work.then(() => (settled = true), () => (settled = true));
  try {
    return await Promise.race([
      work,
      new Promise<'late'>((resolve) => (timer = setTimeout(() => setImmediate(() => settled || resolve('late')), ms))),
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
export function whenAnswered(pair: ResolvedPair, place: Promise<Place | Error>, o: { state: ReadonlyMap<string, WatchState>; signal: AbortSignal; emit: Emit; schedule(pair: ResolvedPair): void; ask(): Promise<Place> }, start: (p: Place) => Promise<void>, push: boolean): void {
  (o.state.get(pair.name) as WatchState).late = true;
  o.emit({ kind: 'warning', pair: pair.name, message: `${pair.local} has not answered for ${START_ANSWER_MS / 1000}s (a network file system whose server is down?): the other pairs are watched meanwhile; this one once it answers` });
  // Asked again on a helper lost, never the pair given up, and its link followed (reviews 60–62: a `latest`
  // link moved off the dead mount had never been followed).
  void untilAnswered(place, o.ask, o.signal).then(async (p) => {
    if (p === undefined || o.signal.aborted) return;
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

/** How long a pair folder may take to answer before its run (it answers in microseconds when well). */
export const RUN_ANSWER_MS = 3000;

/**
 * Whether `pair`'s folder answers now: 'silent' if not within RUN_ANSWER_MS (its run, or drain, would
 * wait on it in this process), 'stopped' if the stop came first.
 */
export async function answers(asker: FolderAsker, pair: ResolvedPair, signal: AbortSignal): Promise<'yes' | 'silent' | 'stopped'> {
  // A helper lost is asked again (a new one, or here) in what is left of the bound: its loss says nothing of the folder (review 60).
  const got = await within(asker.ask(pair).catch(() => asker.ask(pair)).then(() => true, () => false), RUN_ANSWER_MS, signal);
  return got === 'stopped' ? 'stopped' : got === true ? 'yes' : 'silent';
}

/** The pairs to drain whose folders answer now (at once, each within RUN_ANSWER_MS); each other one said: its push would wait on it past the budget. */
export async function answering(pairs: readonly ResolvedPair[], asker: FolderAsker, emit: Emit, signal: AbortSignal): Promise<ResolvedPair[]> {
  const got = await Promise.all(pairs.map((p) => answers(asker, p, signal)));
  pairs.forEach((p, i) => got[i] === 'silent' && emit({ kind: 'warning', pair: p.name, message: `not drained: ${p.local} has not answered for ${RUN_ANSWER_MS / 1000}s` }));
  return pairs.filter((_, i) => got[i] === 'yes');
}

/**
 * A pair folder's first answer, asked as watch started (`asked`), by `deadline`, and the question still
 * out (`place`): the helper lost (never the folder: its questions never fail) is asked again, of a new
 * one or here, and a late pair waits on that question, not the lost one (review 60).
 */
export async function firstAnswer(asked: Promise<Place | Error>, again: () => Promise<Place>, deadline: number, signal: AbortSignal): Promise<{ first: Place | Error | 'late' | 'stopped'; place: Promise<Place | Error> }> {
  for (let place = asked; ; place = again().catch((e: Error) => e)) {
    const first = await within(place, Math.max(0, deadline - Date.now()), signal);
    if (!(first instanceof Error) || first instanceof AskerClosed) return { first, place };
    // Each helper lost (one dying as it starts, at a process limit): asked again until the bound, then
    // late, never the pair dropped (review 68: a second loss had left it unwatched for the session).
    if (Date.now() >= deadline) return { first: 'late', place };
  }
}

/**
 * A pair not run because its folder did not answer (answers): its changes kept, said once, and run as
 * soon as the folder answers (the question already out), not after a failed run's growing pause.
 */
export function runWhenAnswered(s: WatchState, pair: ResolvedPair, changed: readonly string[], more: number, o: { asker: FolderAsker; emit: Emit; later(pair: ResolvedPair, ms: number): void; signal: AbortSignal }): void {
  for (const c of changed) note(s, c);
  s.more += more;
  if (s.awaiting) return;
  // A token: a wait given up (the pair ran meanwhile: answers() cleared it) does nothing when it ends (review 61).
  const mine = {};
  s.awaiting = mine;
  o.emit({ kind: 'warning', pair: pair.name, message: `${pair.name} was not run: ${pair.local} has not answered for ${RUN_ANSWER_MS / 1000}s (a network file system whose server is down?); it runs once it answers` });
  void untilAnswered(o.asker.ask(pair), () => o.asker.ask(pair), o.signal).then((p) => {
    if (p === undefined) return;
    if (s.awaiting !== mine) return;
    s.awaiting = undefined;
    o.later(pair, 0);
  });
}

/**
 * `first`'s answer (the asker sends it again while it waits: a link moved off a dead folder is followed);
 * a helper lost, a new question a second later (of a new helper, or here). undefined once `signal` aborts
 * or the asker is closed. One wait per question: a dead folder's is not raced again every round (review 62).
 */
export async function untilAnswered(first: Promise<Place | Error>, ask: () => Promise<Place>, signal: AbortSignal): Promise<Place | undefined> {
  if (signal.aborted) return undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<'stopped'>((resolve) => {
    onAbort = () => resolve('stopped');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    // Caught here, the first question too: a helper lost had rejected it unhandled, and node ended watch (review 62).
    for (let q = first.catch((e: Error) => e); ; q = ask().catch((e: Error) => e)) {
      const got = await Promise.race([q, stopped]);
      if (got === 'stopped' || got instanceof AskerClosed) return undefined;
      if (!(got instanceof Error)) return got;
      let timer: NodeJS.Timeout | undefined;
      const paused = await Promise.race([new Promise<void>((r) => (timer = setTimeout(r, 1000))), stopped]);
      clearTimeout(timer);
      if (paused === 'stopped') return undefined;
    }
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
