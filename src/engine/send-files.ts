// The transfer step of a planned run (plan-run.ts): the tool moves exactly the planned files, through
// the host's held listing session when the transfer fits it (ssh-held.ts), else the usual way, with
// the source read meanwhile for the verify (early-hash.ts). Deletions are the caller's, after this.
import type { Adapter, Command, RemoteListing, ToolOutput } from '../adapters/types.js';
import { backoffDelay, sleep } from '../exec/retry.js';
import type { ResolvedPair } from '../types.js';
import { asRerun, attempt, type AttemptContext } from './attempt.js';
import type { EarlyHash } from './early-hash.js';
import { stopped, type Body } from './outcome.js';
import type { PairRunOptions } from './pair-options.js';
import { relayTransfer, type Held, type Relayed } from './ssh-held.js';

export interface Moved { attempts: number; files: number; bytes: number; warnings: string[]; written: string[] }

/** Run `commands` with the engine's retries; a stop is the run's result, else what they moved is added to `into`. */
export async function move(adapter: Adapter, commands: readonly Command[], ctx: AttemptContext, show: (c: readonly Command[]) => void, into: Moved): Promise<Body | undefined> {
  if (!commands.length) return undefined;
  show(commands);
  const done = await attempt(commands, { ...ctx, progress: true, watchStall: true });
  if (done.kind !== 'ok') return stopped(done);
  into.attempts = Math.max(into.attempts, done.attempts);
  record(adapter, done.outputs, done.warnings, into);
  return undefined;
}

function record(adapter: Adapter, outputs: readonly ToolOutput[], warnings: readonly string[], into: Moved): void {
  into.warnings.push(...warnings);
  for (const out of outputs) {
    into.written.push(...(adapter.parseWritten?.(out) ?? []));
    const s = adapter.parseStats?.(out);
    if (s) {
      into.files += s.files;
      into.bytes += s.bytes ?? 0;
    }
  }
}

/** The transfer's progress paces the early reads (they keep near the bytes sent, in the page cache). */
export const pacedBy = (early: EarlyHash, emit: AttemptContext['emit']): AttemptContext['emit'] => (e) => {
  if (e.kind === 'pair_progress' && e.progress.bytes !== undefined) early.sent(e.progress.bytes);
  emit(e);
};

function relayOnce(pair: ResolvedPair, files: readonly Command[], held: Held, ctx: AttemptContext, show: (c: readonly Command[]) => void): Promise<Relayed> {
  show(files);
  return relayTransfer(pair, files[0] as Command, held, ctx);
}

/**
 * Send `files` (the adapter's commands for the plan): relayed through `held` when given, a failed relay
 * counting as the first attempt; `after` is the host's listing the relayed session took once rsync ended.
 * `early` is ended either way: with the transfer's success, or stopped.
 */
export async function sendFiles(pair: ResolvedPair, adapter: Adapter, o: PairRunOptions, files: readonly Command[], held: Held | undefined, early: EarlyHash | undefined, paced: AttemptContext, show: (c: readonly Command[]) => void, moved: Moved): Promise<{ stop: Body } | { after?: Promise<RemoteListing | undefined> }> {
  const stop = (body: Body): { stop: Body } => {
    early?.end(false);
    return { stop: body };
  };
  const relayed = held ? await relayOnce(pair, files, held, paced, show) : undefined;
  if (relayed && 'interrupted' in relayed) return stop({ status: 'interrupted', error: 'interrupted' });
  if (relayed && 'ok' in relayed) {
    record(adapter, [relayed.ok], relayed.warnings, moved);
    early?.end(true);
    return { after: relayed.after };
  }
  if (relayed) {
    // The relayed try was the first attempt: the usual transfer is the retry, within the pair's retries.
    const { failed, command } = relayed;
    if (failed.kind === 'fatal' || pair.retries < 1) return stop(stopped({ kind: 'failed', outcome: failed, command, attempts: 1 }));
    const delayMs = backoffDelay(1, pair.retryDelayMs);
    o.emit({ kind: 'pair_retry', pair: pair.name, attempt: 1, delayMs, reason: failed.reason });
    if (!(await sleep(delayMs, o.signal))) return stop({ status: 'interrupted', error: 'interrupted', attempts: 1 });
    const failedAgain = await move(adapter, asRerun(files, 'retry'), { ...paced, pair: { ...pair, retries: pair.retries - 1 } }, show, moved);
    early?.end(!failedAgain);
    moved.attempts += 1;
    return failedAgain ? { stop: { ...failedAgain, attempts: (failedAgain.attempts ?? 1) + 1 } } : {};
  }
  const failed = await move(adapter, files, paced, show, moved);
  early?.end(!failed);
  return failed ? { stop: failed } : {};
}
