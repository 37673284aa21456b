// Turning attempts at commands into a pair's result.
import type { Probe, ToolOutput } from '../adapters/types.js';
import type { PairStatus } from '../types.js';
import { attempt, type Attempted, type AttemptContext } from './attempt.js';
import type { PairResult } from './events.js';

/** What a step of a pair decided: the result fields it knows. */
export type Body = Partial<Omit<PairResult, 'name' | 'category' | 'tool' | 'action' | 'startedAt' | 'durationMs'>> & { status: PairStatus };

/** A run of commands that did not succeed, as a pair result: a safety stop is `refused` (exit 3), not `failed`. */
export function stopped(done: Exclude<Attempted, { kind: 'ok' }>): Body {
  if (done.kind === 'interrupted') return { status: 'interrupted', error: 'interrupted', attempts: done.attempts };
  const { outcome } = done;
  const fatal = outcome.kind === 'fatal' ? outcome : undefined;
  return {
    status: fatal?.locked ? 'locked' : fatal?.safety ? 'refused' : 'failed',
    error: `${outcome.reason} — ${done.command}`,
    ...(fatal?.hint ? { hint: fatal.hint } : {}),
    attempts: done.attempts,
  };
}

/** Runs a non-mutating probe and reads its output, or says why it could not. */
export async function probe<T>(p: Probe<T>, ctx: AttemptContext): Promise<{ value: T; outputs: readonly ToolOutput[] } | { stop: Body }> {
  const done = await attempt(p.commands, ctx);
  if (done.kind !== 'ok') return { stop: stopped(done) };
  for (const message of done.warnings) ctx.emit({ kind: 'warning', pair: ctx.pair.name, message });
  try {
    return { value: p.parse(done.outputs), outputs: done.outputs };
  } catch (error) {
    return { stop: { status: 'failed', error: `cannot read ${ctx.adapter.tool}'s output: ${(error as Error).message}` } };
  }
}
