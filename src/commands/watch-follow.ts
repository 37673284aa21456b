// A watched pair folder looked at every 2 s for what no event tells: a link moved on, another folder
// made in its place or mounted on it, the folder back after its removal.
import { existsSync } from 'node:fs';
import type { ResolvedPair } from '../types.js';
import type { Emit } from '../engine/events.js';
import { folderId, type WatchedTree } from './watch-filter.js';
import { AGAIN, lookAgainMs, type WatchState } from './watch-state.js';

/** What the looks need of the watch: its pairs' state, its stop, its output, and a run to schedule. */
export interface FolderLooks {
  readonly state: ReadonlyMap<string, WatchState>;
  readonly signal: AbortSignal;
  readonly emit: Emit;
  schedule(pair: ResolvedPair): void;
}

/**
 * Every pair folder, looked at every 2 s: one behind a symlink is watched at its new target once the
 * link moves (review 51), and one that is another folder now (moved aside and made again, a disk
 * mounted on it: no event tells) is watched anew (review 53: both went deaf, silently), then pushed.
 */
export function followFolder(o: FolderLooks, pair: ResolvedPair, subscribe: () => Promise<void>, treeNow: () => WatchedTree, watched: () => { top: string; id: string | undefined }): void {
  let failed: string | undefined;
  let failures = 0;
  let notBefore = 0;
  let busy = false;
  const look = setInterval(() => {
    const s = o.state.get(pair.name);
    if (o.signal.aborted || !s) return void clearInterval(look);
    const now = treeNow().top;
    // A folder gone is awaitReturn's; one not there yet is looked at again.
    if (busy || s.goneSaid || Date.now() < notBefore || !existsSync(now)) return;
    const was = watched();
    const moved = now !== was.top;
    if (!moved && folderId(now) === was.id) return;
    busy = true;
    const what = moved ? `now leads to ${now}` : 'is another folder now';
    subscribe().then(() => {
      failed = undefined;
      failures = 0;
      o.emit({ kind: 'warning', pair: pair.name, message: `${pair.local} ${what}: watching it` });
      o.schedule(pair);
    }, (error: Error) => {
      // Said once per target, tried again less often each time: never deaf in silence.
      if (failed !== now) o.emit({ kind: 'warning', pair: pair.name, message: `${pair.local} ${what}, which cannot be watched (${error.message}): changes there are not seen; ${AGAIN}` });
      failed = now;
      notBefore = Date.now() + lookAgainMs(++failures);
    }).finally(() => (busy = false));
  }, 2000);
}

/**
 * A pair's folder removed (a checkpoint folder rotated, a dataset re-extracted): looked for every 2 s,
 * watched anew once it is back, and pushed then (review 49: watch had stayed alive and deaf).
 */
export function awaitReturn(o: FolderLooks, pair: ResolvedPair, subscribe: () => Promise<void>, treeNow: () => WatchedTree, failures = 0): void {
  const notBefore = Date.now() + (failures ? lookAgainMs(failures) : 0);
  const look = setInterval(() => {
    const s = o.state.get(pair.name);
    if (o.signal.aborted || !s) return void clearInterval(look);
    if (Date.now() < notBefore) return;
    // What would be watched now (a git pair's refs, a link's new target) must be there, not only the folder.
    if (!existsSync(treeNow().top)) return;
    clearInterval(look);
    subscribe().then(() => {
      s.goneSaid = false;
      o.emit({ kind: 'warning', pair: pair.name, message: `${pair.local} is back: watching it again` });
      o.schedule(pair);
    }, (error: Error) => {
      if (!failures) o.emit({ kind: 'warning', pair: pair.name, message: `cannot watch ${pair.local} again: ${error.message}; ${AGAIN}` });
      awaitReturn(o, pair, subscribe, treeNow, failures + 1);
    });
  }, 2000);
}
