// `labsync drain [NAME...] --budget D`: push pairs newest files first and stop cleanly before the budget
import { NOT_STARTED, stoppedBefore } from '../engine/run-pair.js';
// ends (a spot host's termination notice). Also what `watch` runs on SIGTERM or a notice.
import { selectPairs } from '../engine/select.js';
import { runPairs } from '../engine/run.js';
import type { Emit } from '../engine/events.js';
import { exitCodeFor, InterruptedError, UsageError, type ExitCode } from '../errors.js';
import type { Redactor } from '../exec/redact.js';
import type { Manifest, ResolvedPair } from '../types.js';
import { parseDuration } from '../util/duration.js';
import { openManifestToConnect, positiveInt, redactor, reporters, trapSignals, type GlobalOptions } from './context.js';

/**
 * 25 s: inside the shortest notice labsync is written for, GCP's 30 s preemption notice and Kubernetes'
 * default 30 s grace. AWS gives 2 minutes and systemd 90 s by default: pass more there.
 */
export const DEFAULT_BUDGET = '25s';
/** The pairs `drain` takes when none is named. */
export const DRAIN_TAG = 'drain';

export function budgetMs(text: string | undefined, flag: string): number {
  const ms = parseDuration(text ?? DEFAULT_BUDGET);
  if (ms === undefined || ms < 4000) throw new UsageError(`${flag} needs a duration of at least 4s, like 25s, 90s or 2m; got '${text}'`);
  return ms;
}

/**
 * Transfers stop this long before the budget ends: time for the tool to remove its temp file on
 * SIGTERM, for labsync to list what arrived (over ssh: a connection, which took over 1 s on a loaded
 * machine), record the run, and exit. A tenth of the budget, 2–10 s.
 */
export function stopMargin(budget: number): number {
  return Math.min(10_000, Math.max(2000, Math.round(budget / 10)));
}

export interface DrainRun {
  readonly manifest: Manifest;
  readonly pairs: readonly ResolvedPair[];
  readonly opts: GlobalOptions;
  /** When the budget began (a notice's arrival, a SIGTERM), and how long it is. */
  readonly startedAt: number;
  readonly budgetMs: number;
}

export async function drainPairs(d: DrainRun, emit: Emit, redact: Redactor, signal: AbortSignal): Promise<ExitCode> {
  const result = await runPairs({
    command: 'drain', action: 'push', root: d.manifest.root, pairs: d.pairs,
    concurrency: positiveInt(d.opts.concurrency, '--concurrency') ?? d.manifest.concurrency,
    dryRun: Boolean(d.opts.dryRun), verify: true, waitMs: 0, tty: Boolean(process.stdout.isTTY), verbose: Boolean(d.opts.verbose),
    resync: false, full: false, drain: { deadline: d.startedAt + d.budgetMs - stopMargin(d.budgetMs), end: d.startedAt + d.budgetMs },
  }, emit, redact, signal);
  return exitCodeFor(result.pairs.map((p) => p.status), stoppedBefore(result.pairs) ? new InterruptedError(NOT_STARTED) : undefined);
}

export async function drainCommand(names: readonly string[], opts: GlobalOptions, budget: string | undefined): Promise<ExitCode> {
  // The budget counts from the process's start (what the caller's clock knows), not from here: node's
  // start and loading the modules took 0.3–0.5 s of a 4 s budget on a loaded machine.
  const startedAt = Math.floor(performance.timeOrigin);
  const ms = budgetMs(budget, '--budget');
  const manifest = openManifestToConnect(opts);
  // The drain tag is a default, not the user's --tag: none carrying it is said below, as what to do.
  const byDefault = opts.tag === undefined && !names.length;
  const pairs = selectPairs(manifest, { names, ...(opts.tag ? { tag: opts.tag } : {}) }).filter((p) => !byDefault || p.tags.includes(DRAIN_TAG));
  if (!pairs.length) {
    throw new UsageError(names.length || opts.tag ? 'no pair selected to drain' : `no pair to drain: name them, or tag them "${DRAIN_TAG}" in the manifest (tags: [${DRAIN_TAG}])`);
  }
  const redact = redactor();
  const { emit, close } = await reporters(opts, manifest.root, redact);
  const controller = new AbortController();
  // The host's SIGTERM (a spot reclaim, a pod's end) is what a drain runs for: it goes on to its budget.
  const untrap = trapSignals(controller, () => emit({ kind: 'warning', message: 'interrupted: stopping the drain (press Ctrl-C again to kill the transfers now)' }), {
    endure: 'SIGTERM', onEndured: () => emit({ kind: 'warning', message: 'SIGTERM: the drain goes on until its budget ends (Ctrl-C, or another SIGTERM, stops it)' }),
  });
  try {
    return await drainPairs({ manifest, pairs, opts, startedAt, budgetMs: ms }, emit, redact, controller.signal);
  } finally {
    untrap();
    close();
  }
}
