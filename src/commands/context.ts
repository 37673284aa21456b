// What every command shares: global options → manifest, redactor, reporters, signals.
import { loadManifest } from '../manifest/load.js';
import { loadManifestCached } from '../manifest/cache.js';
import { findManifest } from '../manifest/find.js';
import { UsageError } from '../errors.js';
import type { Emit } from '../engine/events.js';
import { makeRedactor, type Redactor } from '../exec/redact.js';
import { killAllChildren } from '../exec/run.js';
import { releaseAllLocksSync } from '../state/lock.js';
import { defaultLogFile, logSink } from '../log/logger.js';
import type { Manifest } from '../types.js';
import { fanOut, processOutput, toEmit, type Output } from '../ui/handlers.js';
import { githubReporter } from '../ui/github.js';
import { jsonReporter } from '../ui/json.js';
import { plainReporter, quietReporter } from '../ui/plain.js';
import { heartbeatMs } from '../ui/heartbeat.js';
import { noteManifest } from '../exec/early.js';
import { keepConnections } from '../engine/ssh-keep.js';

export interface GlobalOptions {
  readonly config?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
  readonly logFile?: string;
  readonly concurrency?: string;
  readonly tag?: string;
  readonly verify?: boolean;
  readonly color?: boolean;
  readonly wait?: string;
}

export function useColor(opts: GlobalOptions, env = process.env): boolean {
  return opts.color !== false && !('NO_COLOR' in env && env.NO_COLOR !== '') && Boolean(process.stdout.isTTY);
}

/** chalk is loaded only by the commands that colour something. */
export async function chalkFor(opts: GlobalOptions): Promise<import('chalk').ChalkInstance> {
  const { Chalk } = await import('chalk');
  return new Chalk({ level: useColor(opts) ? 1 : 0 });
}

/**
 * The manifest for a command that opens no ssh connection (status, receipts, schedule, validate).
 * `fresh`: parse and check the manifest itself (validate), not the resolved copy remembered from the last run (manifest/cache.ts).
 */
export function openManifest(opts: GlobalOptions, cwd = process.cwd(), fresh = false): Manifest {
  const file = findManifest(opts.config, cwd);
  // Sessions started early are trusted for the next run only while this file is unchanged (exec/early.ts).
  noteManifest(file);
  return fresh ? loadManifest(file) : loadManifestCached(file, { cwd });
}

/**
 * The manifest for a command that opens ssh connections (the pair-running verbs, plan, apply, watch,
 * drain, unlock, doctor), with its kept connections decided: only these make the socket folder and
 * scan the ssh config for Control* (engine/ssh-keep.ts). Outside resolution (and its cache): whether
 * ssh connections are kept depends on this run's environment and the socket folder as it is now.
 */
export function openManifestToConnect(opts: GlobalOptions, cwd = process.cwd()): Manifest {
  const kept = keepConnections(openManifest(opts, cwd));
  if (opts.verbose) for (const note of kept.notes) process.stderr.write(`labsync: ${note}\n`);
  return kept.manifest;
}

export function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${flag} needs a whole number of at least 1, got '${text}'`);
  return Number(text);
}

export function seconds(text: string | undefined, flag: string): number {
  if (text === undefined) return 0;
  if (!/^\d+(\.\d+)?$/.test(text)) throw new UsageError(`${flag} needs a number of seconds, got '${text}'`);
  return Number(text) * 1000;
}

export const redactor = (): Redactor => makeRedactor(process.env);

/**
 * A spinner needs a terminal on both streams that reports its width: some CI pseudo-terminals
 * report 0 columns, and redrawing in a zero-width terminal never stops growing.
 */
export function interactive(): boolean {
  return Boolean(process.stdout.isTTY && process.stderr.isTTY && (process.stderr.columns ?? 0) > 0);
}

/** The reporters for this run, by mode, plus the log file. */
export async function reporters(opts: GlobalOptions, root: string, redact: Redactor, output: Output = processOutput): Promise<{ emit: Emit; close: () => void }> {
  // The terminal reporter (ora, chalk) is loaded only for a terminal.
  const ui = opts.json
    ? jsonReporter(output, redact, heartbeatMs())
    : opts.quiet
      ? quietReporter(output)
      : interactive()
        ? (await import('../ui/tty.js')).ttyReporter(output, await chalkFor(opts), Boolean(opts.verbose))
        : plainReporter(output, heartbeatMs(), Boolean(opts.verbose));
  const log = openLog(opts, root, redact);
  const ci = githubReporter(output, process.env);
  const emit = fanOut(toEmit(ui), log.emit, ...(ci ? [toEmit(ci)] : []));
  if (log.problem) emit({ kind: 'warning', message: `no log file this run: ${log.problem}` });
  return { emit, close: log.flush };
}

/**
 * A --log-file that cannot be written is a usage error: nothing runs. The default log folder that
 * cannot be written (a read-only checkout) only warns: the run matters more than its log.
 */
function openLog(opts: GlobalOptions, root: string, redact: Redactor): { emit: Emit; flush: () => void; problem?: string } {
  try {
    return logSink(opts.logFile ?? (() => defaultLogFile(root)), redact, Boolean(opts.verbose));
  } catch (error) {
    if (opts.logFile) throw new UsageError(`--log-file ${opts.logFile}: cannot write there (${(error as Error).message})`);
    return { emit: () => undefined, flush: () => undefined, problem: (error as Error).message };
  }
}

/**
 * First SIGINT/SIGTERM/SIGHUP: stop children gracefully and record. Second: kill everything now. `endure`: the
 * first signal of that kind is only told (`onEndured`), not a stop (drain: SIGTERM is the host's end it runs for).
 */
export function trapSignals(controller: AbortController, onFirst: (signal: NodeJS.Signals) => void, o: { endure?: NodeJS.Signals; onEndured?: () => void } = {}): () => void {
  let count = 0;
  let endured = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (signal === o.endure && !endured) {
      endured = true;
      o.onEndured?.();
      return;
    }
    count++;
    if (count === 1) {
      onFirst(signal);
      controller.abort();
      return;
    }
    killAllChildren();
    // The exit below runs no release: the pairs' locks would stay behind, each next run's to take over.
    releaseAllLocksSync();
    process.exit(130);
  };
  // SIGHUP too: a run from a terminal that closed (an ssh session dropped, tmux killed) had died with its
  // children left running (review 42).
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}
