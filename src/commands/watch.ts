// `labsync watch [NAME...]`: re-run push pairs when their local files change, debounced (at most 12 debounces
// after the first change); never two runs of one pair, or of two nested pairs, at once (a change during a run
// queues one more); a run that ends locked or failed is tried again, backing off; Ctrl-C stops it all cleanly.
// chokidar kept per-file state in node (3.6 s and 411 MB to be ready on 50k files). On Linux each folder
// gets an inotify watch and no file is remembered (dir-watcher.ts); elsewhere @parcel/watcher (FSEvents,
// ReadDirectoryChangesW) does the same natively. LABSYNC_WATCHER=parcel picks it on Linux too.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { selectPairs } from '../engine/select.js';
import { withFreshKey } from '../engine/ssh-keep.js';
import { runPairs } from '../engine/run.js';
import { UsageError, type ExitCode } from '../errors.js';
import type { ResolvedPair } from '../types.js';
import { subscribeDirs } from './dir-watcher.js';
import { describeChanged, isDirectory, ownOutputs, watchedTree, type WatchEventType } from './watch-filter.js';
import { FolderAsker, type Place } from './folder-asker.js';
import { openManifestToConnect, positiveInt, redactor, reporters, seconds, trapSignals, type GlobalOptions } from './context.js';
import { budgetMs, drainPairs } from './drain.js';
import { noticeIntervalMs, noticeUrl, pollNotice } from './notice.js';
import { clashAsAnswered, note, pushAtStart, retryMs, toDrain, turnOf, waitedLonger, type WatchState } from './watch-state.js';
import { awaitReturn, followFolder, type FolderLooks } from './watch-follow.js';
import { answering, answers, firstAnswer, runWhenAnswered, START_ANSWER_MS, Stopped, unanswered, whenAnswered } from './watch-start.js';

export function debounceMs(text: string | undefined): number {
  return text === undefined ? 5000 : seconds(text, '--debounce');
}

export interface WatchOptions {
  /** `--no-initial-push`: push only what changes while watch runs (by default each pair is pushed once it is watched). */
  readonly initialPush?: boolean;
  /** `--drain-budget`: the budget of the drain a SIGTERM or a notice starts. */
  readonly budget?: string;
  /** `--drain-on-notice URL`: poll this termination-notice endpoint. */
  readonly noticeUrl?: string;
}

export async function watchCommand(names: readonly string[], opts: GlobalOptions, debounce: string | undefined, drainOpts: WatchOptions = {}): Promise<ExitCode> {
  const wait = debounceMs(debounce);
  const drainBudget = budgetMs(drainOpts.budget, '--drain-budget');
  const notice = drainOpts.noticeUrl === undefined ? undefined : noticeUrl(drainOpts.noticeUrl);
  const manifest = openManifestToConnect(opts);
  // At most this many runs at once, as `labsync push` runs pairs (review 54: the start push logged N
  // pairs into one host at once, past sshd's MaxStartups, and hashed N trees on two cores).
  const slots = positiveInt(opts.concurrency, '--concurrency') ?? manifest.concurrency;
  const pairs = selectPairs(manifest, { names, ...(opts.tag ? { tag: opts.tag } : {}) }).filter((p) => p.mode === 'push');
  if (!pairs.length) throw new UsageError('nothing to watch: watch re-runs pairs whose mode is push, and none is selected');
  const native = process.platform !== 'linux' || process.env.LABSYNC_WATCHER === 'parcel';
  const parcel = native ? await import('@parcel/watcher') : undefined;
  const redact = redactor();
  const { emit, close } = await reporters(opts, manifest.root, redact);
  const controller = new AbortController();
  let interrupted = false;
  // SIGTERM (systemd's stop, Kubernetes' preStop, Slurm's --signal) and a termination notice drain
  // the watched pairs once watching has stopped; SIGINT (Ctrl-C) only stops.
  let drainFrom: number | undefined;
  const drainStop = new AbortController();
  const untrap = trapSignals(controller, (signal) => {
    // A notice already started the drain: the SIGTERM that follows it lets it go on; Ctrl-C stops it.
    if (controller.signal.aborted) {
      if (signal === 'SIGINT') drainStop.abort();
      emit({ kind: 'warning', message: signal === 'SIGINT' ? 'interrupted: stopping the drain (press Ctrl-C again to kill the transfers now)' : 'SIGTERM: draining already' });
      return;
    }
    if (signal === 'SIGTERM') drainFrom = Date.now();
    emit({ kind: 'warning', message: `stopping: finishing nothing new, stopping any running transfer${signal === 'SIGTERM' ? '; then draining' : ''}` });
  });

  // changed: the pair's paths the events named since its last run began. The engine cannot yet limit a
  // run to them, so the run is told (a step in the log and on a terminal) and pushes the whole pair.
  // since: when the first of them came; fails: runs in a row that ended locked or failed.
  const state = new Map<string, WatchState>();
  // A folder that never settles (a training log written every second) is still pushed, this long after
  // its first unsent change: a review found such a folder's checkpoint never pushed.
  const maxWait = 12 * wait;
  const running = new Set<ResolvedPair>();
  const runOnce = async (pair: ResolvedPair): Promise<void> => {
    const s = state.get(pair.name) as WatchState;
    if (s.running) return void (s.again = true);
    // None beside a pair nested in it or around it, as `labsync push` runs them (a git pair at a repo's
    // root and a dvc pair inside it both touch the index); and a nested pair that waited longer goes
    // first (a review found the inner pair starved by an outer one whose runs outlast the max wait).
    // A pair waiting for a slot goes before one that asks later, as a nested pair does: a pair whose
    // runs outlast the max wait asks again at once, and took every slot it freed (review 55). Older
    // waiters, oldest first, each hold their folder whether or not they can start now (an outer pair
    // behind two busy inner ones: review 56); those that can start take the free slots, and are woken.
    // As `labsync push` takes turns, links resolved as the folders last answered (dvc pairs of one repository too).
    const { blocked, ahead } = turnOf(pair, waitedLonger(pairs, state, pair, s), running, slots, clashAsAnswered(asker));
    if (blocked) {
      s.again = true;
      s.waitingSince ??= Date.now();
      for (const o of ahead) later(o, 0);
      return;
    }
    s.waitingSince = undefined;
    s.again = false;
    s.running = true;
    running.add(pair);
    s.since = undefined;
    const changed = [...s.changed].sort();
    const more = s.more;
    s.changed = new Set();
    s.more = 0;
    let unfinished: string | undefined;
    try {
      // Its folder asked first, briefly: a run on a dead NFS mount blocks this whole process (review 59).
      const answer = await answers(asker, pair, controller.signal);
      if (answer === 'stopped') return;
      if (answer === 'silent') unfinished = 'silent';
      else {
        s.awaiting = undefined; // its folder answers: a wait for it given up
        const step = s.initial && !changed.length ? 'watch started: pushing what changed while it was not watching' : describeChanged(changed, 5, more);
        emit({ kind: 'pair_step', pair: pair.name, step });
        const result = await runPairs({
          command: `watch ${pair.name}`, action: 'push', root: manifest.root, pairs: [withFreshKey(pair)], concurrency: 1, dryRun: Boolean(opts.dryRun),
          verify: opts.verify !== false, waitMs: 0, tty: Boolean(process.stdout.isTTY), verbose: Boolean(opts.verbose), resync: false, full: false,
        }, emit, redact, controller.signal);
        if (result.pairs.some((p) => p.status === 'interrupted')) interrupted = true;
        const ended = result.pairs.find((p) => p.status === 'locked' || p.status === 'failed')?.status;
        if (ended) unfinished = `ended ${ended}`;
      }
    } catch (error) {
      unfinished = 'ended failed';
      emit({ kind: 'warning', pair: pair.name, message: `watch could not run the pair: ${(error as Error).message}` });
    } finally {
      s.running = false;
      running.delete(pair);
    }
    if (controller.signal.aborted) return;
    // Not run: its folder has not answered. Run once it does, not after a failure's growing pause (review 60).
    if (unfinished === 'silent') runWhenAnswered(s, pair, changed, more, { asker, emit, later, signal: controller.signal });
    else if (unfinished) {
      // Its changes are still unsent (another labsync held the pair, a connection dropped): tried again,
      // later each time, not only on the next change (a review found the last save before a quiet spell lost).
      for (const c of changed) note(s, c);
      s.more += more;
      s.fails += 1;
      const ms = retryMs(wait, s.fails);
      emit({ kind: 'warning', pair: pair.name, message: `${pair.name} ${unfinished}: trying again in ${Math.round(ms / 1000)}s (or on the next change)` });
      later(pair, ms);
    } else {
      s.fails = 0;
      s.initial = false;
      if (s.again) schedule(pair);
      s.again = false;
    }
    // A pair that waited for this one (nested in it, or around it) or for a free slot runs now, the
    // longest waiting first; it keeps its `again` until it starts, so this pair's own next run sees it
    // waiting and lets it go first.
    const waiting = pairs.filter((other) => {
      const o = state.get(other.name);
      return other !== pair && o?.again && !o.running && o.waitingSince !== undefined;
    });
    const since = (p: ResolvedPair): number => state.get(p.name)?.waitingSince ?? 0;
    for (const other of waiting.sort((a, b) => since(a) - since(b))) later(other, 0);
  };
  const later = (pair: ResolvedPair, ms: number): void => {
    const s = state.get(pair.name);
    if (!s || controller.signal.aborted) return;
    if (s.timer) clearTimeout(s.timer);
    s.timer = setTimeout(() => void runOnce(pair), ms);
  };
  const schedule = (pair: ResolvedPair): void => {
    const s = state.get(pair.name);
    if (!s) return;
    const now = Date.now();
    s.since ??= now;
    later(pair, Math.max(0, Math.min(wait, s.since + maxWait - now)));
  };

  const asker = new FolderAsker((message) => emit({ kind: 'warning', message })); // folder-asker.ts: never through this process's own threads
  const looks: FolderLooks = { state, signal: controller.signal, emit, schedule, asker };
  const subscriptions = new Map<string, { unsubscribe(): Promise<void> }>();
  const outputs = ownOutputs(opts.logFile);
  // Every pair folder asked at once, under one bound: one that does not answer (a dead network mount)
  // holds up neither the other pairs nor a stop (review 57: asked in turn, 10 s each, review 58).
  const answered = new Set<ResolvedPair>();
  const asked = pairs.map((pair) => asker.ask(pair).then((p) => p, (error: Error) => error).finally(() => answered.add(pair)));
  const deadline = Date.now() + START_ANSWER_MS;
  for (const [i, pair] of pairs.entries()) {
    const st: WatchState = { running: false, again: false, changed: new Set(), more: 0, fails: 0 };
    state.set(pair.name, st);
    const { first, place } = await firstAnswer(asked[i] as Promise<Place | Error>, () => asker.ask(pair), deadline, controller.signal);
    // Stopping already: not watched, still drained (review 56), unless its folder has not answered (review 58).
    if (first === 'stopped' && !answered.has(pair)) st.late = true;
    if (first === 'stopped') continue;
    if (first instanceof Error) {
      state.delete(pair.name);
      emit({ kind: 'warning', pair: pair.name, message: `cannot watch ${pair.local}: ${first.message}` });
      continue;
    }
    let tree = first === 'late' ? unanswered(pair) : watchedTree(pair, first, outputs);
    let treeId: string | undefined;
    const onEvents = (error: Error | null, events: { path: string; type: WatchEventType }[]): void => {
      if (error) emit({ kind: 'warning', pair: pair.name, message: `watching ${pair.local}: ${error.message}` });
      const s = state.get(pair.name);
      let relevant = false;
      // The native watcher goes deaf once its folder is gone, even if it comes back: say so, once. Not only
      // on the folder's own delete event, which a loaded CI run once did not see within 30 s after the
      // folder's files' (@parcel/watcher, the tree removed whole): any deletion looks whether it is still there.
      const root = tree.top;
      const gone = events.some((e) => e.type === 'delete' && resolve(e.path) === root) || (events.some((e) => e.type === 'delete') && !existsSync(root));
      if (gone && s && !s.goneSaid) {
        s.goneSaid = true;
        emit({ kind: 'warning', pair: pair.name, message: `${pair.local} was removed: watching it again once it is back` });
        awaitReturn(looks, pair, () => subscribe());
      }
      for (const event of events) {
        if (event.type === 'delete' && resolve(event.path) === root) continue;
        const rel = tree.judge(event.path, event.type === 'delete' ? undefined : isDirectory(event.path));
        if (rel === undefined) continue;
        if (s) note(s, rel);
        relevant = true;
      }
      if (relevant) schedule(pair);
    };
    const subscribe = async (given?: Place): Promise<void> => {
      // The new top only once it is watched: a target that cannot be (a file, no permission) leaves the
      // old watch judging its own events, and is tried again (review 52). Named again (a `latest` link
      // pointed at a new run); its id taken before the watch is placed: a folder replaced in between
      // differs at the next look.
      const at = given ?? (await asker.ask(pair));
      const next = watchedTree(pair, at, outputs);
      const id = at.id;
      // Stopped meanwhile: no tree walked and no watches taken only to be closed (review 57).
      if (controller.signal.aborted) throw new Stopped();
      const sub = parcel ? await parcel.subscribe(next.top, onEvents, { ignore: [...next.ignore] }) : subscribeDirs(next.top, onEvents, next.skipDir);
      // Stopped while the native watcher subscribed: the stop has already closed the others (review 56).
      if (controller.signal.aborted) {
        await sub.unsubscribe().catch(() => undefined);
        throw new Stopped();
      }
      const old = subscriptions.get(pair.name);
      tree = next;
      treeId = id;
      subscriptions.set(pair.name, sub);
      // The new one is in place: a failing close of the old (parcel-bundler/watcher#129, after a folder moved) is said, not the re-watch failed.
      await old?.unsubscribe().catch((error: Error) => emit({ kind: 'warning', pair: pair.name, message: `closing the old watch of ${pair.local}: ${error.message}` }));
    };
    const start = async (given: Place): Promise<void> => {
      try {
        await subscribe(given);
        for (const message of tree.notes) emit({ kind: 'warning', pair: pair.name, message });
        // A link moved on (`latest` pointed at each new run, the old one kept), a folder replaced: followed.
        followFolder(looks, pair, () => subscribe(), () => ({ top: tree.top, id: treeId }));
      } catch (error) {
        if (error instanceof Stopped) return; // still drained
        state.delete(pair.name);
        emit({ kind: 'warning', pair: pair.name, message: `cannot watch ${pair.local}: ${(error as Error).message}` });
      }
    };
    if (first === 'late') whenAnswered(pair, place, { state, signal: controller.signal, emit, schedule, ask: () => asker.ask(pair) }, start, drainOpts.initialPush !== false);
    else await start(first);
  }
  const watched = pairs.filter((p) => state.has(p.name));
  if (!watched.length) {
    asker.close();
    untrap();
    close();
    return 1;
  }
  process.stderr.write(`watching ${watched.map((p) => `${p.name} (${p.local}${state.get(p.name)?.late ? ', once it answers' : ''})`).join(', ')}; changes are pushed ${wait / 1000}s after they settle (at most ${maxWait / 1000}s after the first). Ctrl-C stops.\n`);
  // What changed while no watch ran (a reboot, a restart of the service) is pushed now, once every pair is
  // watched so nothing written meanwhile is missed: watch had pushed only later changes, and a restarted
  // watch left the files of the hours before unsent without a word. A pair that ends locked or failed is
  // tried again as after a change; pairs nested in each other take turns as always.
  if (drainOpts.initialPush !== false) pushAtStart(watched, state, later);

  // Signal listeners do not keep node running: once the Linux watcher has lost its root it holds no
  // handle, node would leave on its own (exit 0, no cleanup, the log unflushed) and a Ctrl-C landing
  // in that teardown killed the process by the signal. This timer keeps watch alive until it is stopped.
  const alive = setInterval(() => undefined, 1 << 30);
  const stopPolling = notice
    ? pollNotice(notice, noticeIntervalMs(), (body) => {
        drainFrom = Date.now();
        emit({ kind: 'warning', message: `termination notice from ${notice.href} (${body.slice(0, 200)}): stopping, then draining` });
        controller.abort();
      }, (message) => emit({ kind: 'warning', message }))
    : undefined;
  // A signal during a subscription (the native watcher's is asynchronous) aborted before this listens.
  if (!controller.signal.aborted) await new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
  clearInterval(alive);
  stopPolling?.();
  for (const s of state.values()) if (s.timer) clearTimeout(s.timer);
  // One failing close (parcel-bundler/watcher#129) must not skip the drain and the log's close (review 57).
  await Promise.allSettled([...subscriptions.values()].map((w) => w.unsubscribe()));
  while ([...state.values()].some((s) => s.running)) await new Promise((r) => setTimeout(r, 50));
  try {
    if (drainFrom === undefined) return interrupted ? 130 : 0;
    const drainable = await answering(toDrain(watched, state, emit), asker, emit, drainStop.signal);
    if (drainStop.signal.aborted) return 130;
    if (!drainable.length) return interrupted ? 130 : 0;
    // The budget counts from the signal or the notice: the host's clock started then, not now.
    return await drainPairs({ manifest, pairs: drainable.map(withFreshKey), opts, startedAt: drainFrom, budgetMs: drainBudget }, emit, redact, drainStop.signal);
  } finally {
    // Its threads may wait on a dead folder: killed, so nothing of the looks outlives watch.
    asker.close();
    untrap();
    close();
  }
}
