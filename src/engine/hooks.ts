// A pair's hooks (argv arrays, never a shell) and its dead-man's-switch pings (SPEC §3, issue 6).
import type { Command } from '../adapters/types.js';
import { backoffDelay, sleep } from '../exec/retry.js';
import type { Redactor } from '../exec/redact.js';
import { run } from '../exec/run.js';
import type { PairStatus, ResolvedPair } from '../types.js';
import type { Emit, PairResult } from './events.js';
import type { Body } from './outcome.js';
import type { PairRunOptions } from './pair-options.js';
import { killUnused } from '../exec/early.js';

export interface HookFacts { readonly status: PairStatus | 'running'; readonly files: number; readonly bytes: number; readonly error?: string | null; readonly action: string }

function hookEnv(pair: ResolvedPair, facts: HookFacts): Record<string, string> {
  return {
    LABSYNC_PAIR: pair.name,
    LABSYNC_CATEGORY: pair.category,
    LABSYNC_ACTION: facts.action,
    LABSYNC_STATUS: facts.status,
    LABSYNC_FILES: String(facts.files),
    LABSYNC_BYTES: String(facts.bytes),
    ...(facts.error ? { LABSYNC_ERROR: facts.error } : {}),
  };
}

/** Runs one hook; undefined when it succeeded, else what went wrong in the user's words. */
export async function runHook(kind: 'before' | 'after' | 'on_failure', argv: readonly string[], pair: ResolvedPair, facts: HookFacts, redact: Redactor, signal: AbortSignal): Promise<string | undefined> {
  const [program, ...args] = argv as [string, ...string[]];
  const command: Command = { tool: program, args, cwd: pair.root, env: hookEnv(pair, facts), mutates: true, label: `${kind} hook of ${pair.name}`, pair: pair.name };
  const out = await run(command, { redact, signal, timeoutMs: pair.timeoutMs });
  if (out.spawnError) return `${kind} hook ${program}: cannot start (${out.spawnError === 'ENOENT' ? 'not found' : out.spawnError})`;
  if (out.timedOut) return `${kind} hook ${program}: timed out`;
  if (out.exitCode !== 0) {
    const said = out.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300);
    return `${kind} hook ${program} exited ${out.exitCode}${said ? `: ${said}` : ''}`;
  }
  return undefined;
}

/** A ping URL as it may be shown: the path of a health-check URL is its secret. */
export function showUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return 'an invalid URL';
  }
}

const PING_TIMEOUT_MS = 10_000;
const PING_ATTEMPTS = 3;
/** How long past a drain's budget a ping may still try once (one window for every pair of the run). */
const LATE_PING_MS = 2000;
/** The least a late try is given, past the shared window too (a pair whose tool took its kill grace). */
const LATE_PING_MIN_MS = 500;

/** GET with a short timeout and a few retries; a ping that cannot be sent is a warning, never a failed sync. */
/** A drain's budget: no attempt once it ended but one short try before `lateUntil` (Date.now()), shared by every ping of the run. */
export interface PingBudget { readonly ended: AbortSignal; readonly lateUntil: number }

/** `budget`: a drain's (the ping then warns as failed past it). */
export async function ping(url: string, emit: Emit, pair: string, retryBaseMs = 1000, budget?: PingBudget): Promise<void> {
  let last = '';
  let triedLate = false;
  const ends = budget?.ended;
  for (let attempt = 1; attempt <= PING_ATTEMPTS; attempt++) {
    // Past the end, one short try still: a drain's failure ping is the one that matters most.
    const late = ends?.aborted === true;
    if (late && triedLate) break;
    triedLate ||= late;
    try {
      // The late window is shared by every pair of the run; each still gets a short try.
      const timeout = AbortSignal.timeout(late ? Math.max(LATE_PING_MIN_MS, (budget as PingBudget).lateUntil - Date.now()) : PING_TIMEOUT_MS);
      const r = await fetch(url, { signal: ends && !late ? AbortSignal.any([timeout, ends]) : timeout, redirect: 'follow' });
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (error) {
      // fetch says only "fetch failed"; what happened is in its cause (ECONNREFUSED, "bad port", …).
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      last = (error as Error).name === 'TimeoutError' ? 'timed out' : (cause?.code ?? cause?.message ?? (error as Error).message);
    }
    if (attempt < PING_ATTEMPTS) await sleep(backoffDelay(attempt, retryBaseMs), ends);
  }
  if (ends?.aborted) last = "not answered before the drain's budget ended";
  emit({ kind: 'warning', pair, message: `health ping to ${showUrl(url)} failed (${last}); the sync itself is unaffected` });
}

export const failedStatuses: ReadonlySet<PairStatus> = new Set(['failed', 'refused', 'drift', 'interrupted', 'partial']);

export function factsOf(r: PairResult): HookFacts {
  return { status: r.status, files: r.files, bytes: r.bytes, error: r.error, action: r.action };
}

/** A real run wrapped in its pings and hooks: a failing `before` hook skips the pair; the others only warn. */
export async function withHooks(pair: ResolvedPair, o: PairRunOptions, run: () => Promise<Body>): Promise<Body> {
  // A drain's hooks and pings stop at its budget's end: a spot host is gone then, and the run's
  // receipt is written after them (a review saw an on_failure hook carry a 4 s drain to 10.6 s).
  const budget = o.drain ? AbortSignal.timeout(Math.max(0, o.drain.end - Date.now())) : undefined;
  const pingBudget = o.drain && budget ? { ended: budget, lateUntil: o.drain.end + LATE_PING_MS } : undefined;
  const hookSignal = budget ? AbortSignal.any([o.signal, budget]) : o.signal;
  const pings: Promise<void>[] = [];
  if (pair.notify.start) pings.push(ping(pair.notify.start, o.emit, pair.name, undefined, pingBudget));
  // A before hook may change what a login meets (wake the host, open a tunnel, mount the folder): a
  // session bin/labsync.js started before it is not used, the run logs in after the hook.
  if (pair.hooks.before) killUnused();
  const before = pair.hooks.before
    ? await runHook('before', pair.hooks.before, pair, { status: 'running', files: 0, bytes: 0, action: o.action }, o.redact, hookSignal)
    : undefined;
  // A hook stopped by Ctrl-C/SIGTERM is an interruption (exit 130), not the hook's failure.
  const b: Body = before
    ? o.signal.aborted ? { status: 'interrupted', error: 'interrupted' }
      : budget?.aborted ? { status: 'failed', error: 'the drain\'s budget ended during the before hook; nothing was sent' }
        : { status: 'failed', error: `${before}; the pair was skipped` }
    : await run();
  const facts = { status: b.status, files: b.files ?? 0, bytes: b.bytes ?? 0, error: b.error ?? null, action: o.action };
  const ok = b.status === 'ok' || b.status === 'in_sync';
  const warnings = [...(b.warnings ?? [])];
  const after = ok ? pair.hooks.after : failedStatuses.has(b.status) ? pair.hooks.onFailure : undefined;
  if (after && !o.signal.aborted) {
    const problem = await runHook(ok ? 'after' : 'on_failure', after, pair, facts, o.redact, hookSignal);
    if (problem) warnings.push(budget?.aborted ? `${ok ? 'after' : 'on_failure'} hook stopped at the end of the drain's budget` : problem);
  }
  const url = ok ? pair.notify.success : failedStatuses.has(b.status) ? pair.notify.failure : undefined;
  if (url) pings.push(ping(url, o.emit, pair.name, undefined, pingBudget));
  await Promise.all(pings);
  return { ...b, warnings };
}
