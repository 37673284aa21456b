// A watched pair folder looked at every 2 s for what no event tells: a link moved on, another folder
// made in its place or mounted on it, the folder back after its removal. Each look is asked of a child
// process (folder-asker.ts): a network folder whose server stopped answering holds one of its threads,
// not this process's (review 54: the event loop; review 58: libuv's four threads, and node's exit), and
// a look still waiting is not doubled. One out 10 s is said, and said again once it answers.
import type { ResolvedPair } from '../types.js';
import type { Emit } from '../engine/events.js';
import type { FolderAsker } from './folder-asker.js';
import { AGAIN, lookAgainMs, type WatchState } from './watch-state.js';

/** A look out this long is said, once: its folder does not answer. */
export const SLOW_LOOK_MS = 10_000;

/** What the looks need of the watch: its pairs' state, its stop, its output, a run to schedule, and who answers the looks. */
export interface FolderLooks {
  readonly state: ReadonlyMap<string, WatchState>;
  readonly signal: AbortSignal;
  readonly emit: Emit;
  schedule(pair: ResolvedPair): void;
  readonly asker: FolderAsker;
}

/** Every 2 s, `look` unless the last one is still going or the watch stopped. */
function every2s(o: FolderLooks, pair: ResolvedPair, look: (s: WatchState) => Promise<boolean | void>): void {
  let busy = false;
  // When the look out now began, and whether its slowness was said.
  let began = 0;
  let slowSaid = false;
  const timer = setInterval(() => {
    const s = o.state.get(pair.name);
    if (o.signal.aborted || !s) return void clearInterval(timer);
    if (busy) {
      if (!slowSaid && Date.now() - began > SLOW_LOOK_MS) {
        slowSaid = true;
        o.emit({ kind: 'warning', pair: pair.name, message: `${pair.local} has not answered for ${SLOW_LOOK_MS / 1000}s (a network file system whose server is down?): a link moved or folder replaced there is not seen meanwhile; the other pairs are watched and pushed as before` });
      }
      return;
    }
    busy = true;
    began = Date.now();
    // Answered, not the look's helper lost (review 59: that had been said as the folder answering).
    let answered = false;
    look(s).then((done) => {
      answered = true;
      if (done === true) clearInterval(timer);
    }, () => undefined).finally(() => {
      busy = false;
      if (slowSaid && answered && !o.signal.aborted) o.emit({ kind: 'warning', pair: pair.name, message: `${pair.local} answers again` });
      slowSaid = false;
    });
  }, 2000);
}

/**
 * Every pair folder: one behind a symlink is watched at its new target once the link moves (review 51),
 * and one that is another folder now (moved aside and made again, a disk mounted on it: no event tells)
 * is watched anew (review 53: both went deaf, silently), then pushed.
 */
export function followFolder(o: FolderLooks, pair: ResolvedPair, subscribe: () => Promise<void>, watched: () => { top: string; id: string | undefined }): void {
  // The target and folder that last failed to be watched, how often in a row, and when to try it again.
  let failed: string | undefined;
  let failures = 0;
  let notBefore = 0;
  every2s(o, pair, async (s) => {
    // A folder gone is awaitReturn's.
    if (s.goneSaid) return;
    const { top: now, id } = await o.asker.ask(pair);
    // Stopped meanwhile: nothing subscribed after the watch closed its subscriptions (review 55).
    if (o.signal.aborted) return true;
    if (id === undefined || s.goneSaid) return; // not there yet: looked at again
    const was = watched();
    const moved = now !== was.top;
    if (!moved && id === was.id) {
      // As watched (a link moved back): a later failure there is said again (review 54).
      failed = undefined;
      failures = 0;
      return;
    }
    const target = `${now}\n${id}`;
    // Another target than the one failing gets its own first try now, not that one's pause.
    if (target === failed && Date.now() < notBefore) return;
    if (target !== failed) failures = 0;
    const what = moved ? `now leads to ${now}` : 'is another folder now';
    try {
      await subscribe();
      failed = undefined;
      failures = 0;
      o.emit({ kind: 'warning', pair: pair.name, message: `${pair.local} ${what}: watching it` });
      o.schedule(pair);
    } catch (error) {
      if (o.signal.aborted) return true; // given up for the stop: nothing to say
      // Said once per target, tried again less often each time: never deaf in silence.
      if (failed !== target) o.emit({ kind: 'warning', pair: pair.name, message: `${pair.local} ${what}, which cannot be watched (${(error as Error).message}): changes there are not seen; ${AGAIN}` });
      failed = target;
      notBefore = Date.now() + lookAgainMs(++failures);
    }
  });
}

/**
 * A pair's folder removed (a checkpoint folder rotated, a dataset re-extracted): looked for every 2 s,
 * watched anew once it is back, and pushed then (review 49: watch had stayed alive and deaf).
 */
export function awaitReturn(o: FolderLooks, pair: ResolvedPair, subscribe: () => Promise<void>): void {
  let failures = 0;
  let notBefore = 0;
  every2s(o, pair, async (s) => {
    if (Date.now() < notBefore) return false;
    // What would be watched now (a git pair's refs, a link's new target) must be there, not only the folder.
    const there = (await o.asker.ask(pair)).id !== undefined;
    if (o.signal.aborted) return true;
    if (!there) return false;
    try {
      await subscribe();
    } catch (error) {
      if (o.signal.aborted) return true;
      if (!failures) o.emit({ kind: 'warning', pair: pair.name, message: `cannot watch ${pair.local} again: ${(error as Error).message}; ${AGAIN}` });
      notBefore = Date.now() + lookAgainMs(++failures);
      return false;
    }
    s.goneSaid = false;
    o.emit({ kind: 'warning', pair: pair.name, message: `${pair.local} is back: watching it again` });
    o.schedule(pair);
    return true;
  });
}
