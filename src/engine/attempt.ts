// The one retry loop: every tool's commands run here, classified by their adapter.
import { programOf } from '../exec/program.js';
import type { Adapter, Command, Outcome, ToolOutput } from '../adapters/types.js';
import { backoffDelay, sleep } from '../exec/retry.js';
import { formatCommand } from '../exec/format.js';
import type { Redactor } from '../exec/redact.js';
import { run } from '../exec/run.js';
import { readableLine } from '../exec/stall.js';
import { shortDuration } from '../util/duration.js';
import type { ResolvedPair } from '../types.js';
import type { Emit } from './events.js';

export interface AttemptContext {
  readonly adapter: Adapter;
  readonly pair: ResolvedPair;
  readonly emit: Emit;
  readonly redact: Redactor;
  readonly signal: AbortSignal;
  /** Progress lines go to the reporter only where they matter (transfers). */
  readonly progress: boolean;
  /**
   * Transfers run under the stall watchdog (pair.stallTimeoutMs). Probes do not: a comparison may
   * rightly sit silent while the far side checksums a large tree.
   */
  readonly watchStall?: boolean;
}

export type Attempted =
  | { readonly kind: 'ok'; readonly outputs: readonly ToolOutput[]; readonly attempts: number; readonly warnings: readonly string[] }
  | { readonly kind: 'failed'; readonly outcome: Extract<Outcome, { kind: 'fatal' | 'retry' }>; readonly command: string; readonly attempts: number }
  | { readonly kind: 'interrupted'; readonly attempts: number };

/** The command said in advance that this non-zero exit is an answer (see Command.answers). */
export function answered(output: ToolOutput, command: Command): boolean {
  return output.exitCode !== 0 && !output.timedOut && !output.stalled && !output.spawnError && Boolean(command.answers?.test(`${output.stderr}\n${output.stdout}`));
}

function spawnFailure(output: ToolOutput, command: Command, adapter: Adapter): Outcome | undefined {
  if (!output.spawnError) return undefined;
  const chosen = programOf(command.tool);
  if (output.spawnError === 'ENOENT' && chosen !== command.tool) {
    return { kind: 'fatal', reason: `${command.tool} not found at ${chosen} (LABSYNC_${command.tool.toUpperCase()})`, hint: `point LABSYNC_${command.tool.toUpperCase()} at an rclone binary, or unset it to use the one on PATH` };
  }
  if (output.spawnError === 'ENOENT') {
    const install = adapter.install.apt ?? adapter.install.pipx ?? adapter.install.url;
    return { kind: 'fatal', reason: `${command.tool} is not installed (or not on PATH)`, hint: install };
  }
  return { kind: 'fatal', reason: `cannot start ${command.tool}: ${output.spawnError}` };
}

/** labsync stopped the child itself: the pair's timeout or the stall watchdog. Both are worth another try. */
function stopFailure(output: ToolOutput, pair: ResolvedPair): Extract<Outcome, { kind: 'retry' }> | undefined {
  if (output.timedOut) return { kind: 'retry', reason: `timed out after ${Math.round(pair.timeoutMs / 1000)}s` };
  if (!output.stalled) return undefined;
  const said = output.stalled.lastLine ? `: ${readableLine(output.stalled.lastLine)}` : '';
  return { kind: 'retry', reason: `no progress for ${shortDuration(output.stalled.ms)}${said}` };
}

/** What one run of `command` came to, as the loop below judges it (a held session's relayed rsync too). */
export function judge(output: ToolOutput, command: Command, adapter: Adapter, pair: ResolvedPair): Outcome {
  const outcome: Outcome = answered(output, command) ? { kind: 'ok' } : (spawnFailure(output, command, adapter) ?? adapter.classify(output, command));
  return outcome.kind === 'ok' ? outcome : (stopFailure(output, pair) ?? outcome);
}

/** The pair's progress events from a tool's output lines; undefined where its adapter reads none from them. */
export function progressLines({ adapter, pair, emit }: Pick<AttemptContext, 'adapter' | 'pair' | 'emit'>): ((line: string) => void) | undefined {
  return adapter.parseProgress
    ? (line: string): void => {
        const progress = adapter.parseProgress?.(line);
        if (progress) emit({ kind: 'pair_progress', pair: pair.name, progress });
      }
    : undefined;
}

/** A transfer's stdout (its progress and the files it names) is read this often, not at each of its writes (exec/run.ts). */
const STDOUT_EVERY_MS = 25;

/**
 * Runs `commands` in order; a transient failure runs again, after a backoff and up to the pair's
 * retries, from the command that failed: the ones before it succeeded and are not repeated (a backup
 * copy taken again after the object was replaced would hold the new content, the old one lost).
 */
export async function attempt(commands: readonly Command[], ctx: AttemptContext): Promise<Attempted> {
  const { adapter, pair, emit, redact, signal } = ctx;
  const onLine = ctx.progress ? progressLines(ctx) : undefined;
  // The outputs of the commands that succeeded, in order: the next one to run is at outputs.length.
  const outputs: ToolOutput[] = [];
  const warnings: string[] = [];
  const ran = new Set<number>();
  for (let n = 1; ; n++) {
    let failure: { outcome: Extract<Outcome, { kind: 'fatal' | 'retry' }>; command: Command } | undefined;
    for (let i = outputs.length; i < commands.length; i++) {
      const given = commands[i] as Command;
      // The first run of this command (not of the attempt) takes its own argv; a rerun, what it says a rerun needs.
      const command = n > 1 && given.retryArgs && ran.has(i) ? { ...given, args: given.retryArgs(`attempt${n}`) } : given;
      ran.add(i);
      const output = await run(command, {
        signal, timeoutMs: pair.timeoutMs, redact, ...(onLine ? { onLine } : {}), ...(ctx.progress ? { stdoutEveryMs: STDOUT_EVERY_MS } : {}),
        ...(ctx.watchStall ? { stall: { ms: pair.stallTimeoutMs, ...(adapter.parseProgress ? { progress: adapter.parseProgress } : {}) } } : {}),
      });
      if (output.aborted) return { kind: 'interrupted', attempts: n };
      const outcome: Outcome = answered(output, command) ? { kind: 'ok' } : (spawnFailure(output, command, adapter) ?? adapter.classify(output, command));
      if (outcome.kind === 'ok') {
        outputs.push(output);
        if (outcome.warning) warnings.push(outcome.warning);
        if (command.notice) warnings.push(command.notice);
        continue;
      }
      failure = { outcome: stopFailure(output, pair) ?? outcome, command };
      break;
    }
    if (!failure) return { kind: 'ok', outputs, attempts: n, warnings };
    const shown = formatCommand(failure.command, redact);
    if (failure.outcome.kind === 'fatal' || n > pair.retries) {
      return { kind: 'failed', outcome: failure.outcome, command: shown, attempts: n };
    }
    const delayMs = backoffDelay(n, pair.retryDelayMs);
    emit({ kind: 'pair_retry', pair: pair.name, attempt: n, delayMs, reason: failure.outcome.reason });
    if (!(await sleep(delayMs, signal))) return { kind: 'interrupted', attempts: n };
  }
}

/**
 * `commands` run again as a whole (after a relayed try failed, as a repair): each with the argv its
 * rerun needs (Command.retryArgs) under `label`, and its own retries named after that.
 */
export function asRerun(commands: readonly Command[], label: string): Command[] {
  return commands.map((c) => {
    const again = c.retryArgs;
    return again ? { ...c, args: again(label), retryArgs: (rerun: string) => again(`${label}-${rerun}`) } : c;
  });
}
