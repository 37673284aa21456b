// `labsync watch` in a test: started with its own log file, read back as events, stopped with Ctrl-C.
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { Lab } from './lab.js';
import { processesMentioning } from './processes.js';
import { until } from './wait.js';

// `initialPush`: off unless asked, so a test counts the runs its own changes start.
export interface WatchStart { readonly env?: Record<string, string>; readonly cwd?: string; readonly names?: readonly string[]; readonly ready?: string; readonly initialPush?: boolean }

/** Starts watch; resolves once it says it is watching (its subscriptions are in place). */
// Wrapped: the execa process is itself a promise, which an async function would wait for to the end.
export async function startWatch(lab: Lab, debounce: string, o: WatchStart = {}): Promise<{ run: ReturnType<Lab['spawn']> }> {
  const run = lab.spawn(['watch', ...(o.names ?? []), '--debounce', debounce, ...(o.initialPush ? [] : ['--no-initial-push']), '--log-file', lab.outside('watch.log')], { env: o.env ?? {}, ...(o.cwd ? { cwd: o.cwd } : {}) });
  let stderr = '';
  run.stderr?.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  await until('watch to be ready', () => stderr.includes(o.ready ?? 'watching raw'), 30_000);
  return { run };
}

export interface LogEvent { kind: string; step?: string; message?: string; pair?: string; result?: { name: string; status: string; changes?: { transfer: string[]; delete: string[] } } }

/** The log's events so far; a line still being written is left for the next look. */
export function logEvents(lab: Lab): LogEvent[] {
  if (!existsSync(lab.outside('watch.log'))) return [];
  return readFileSync(lab.outside('watch.log'), 'utf8').split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as LogEvent];
    } catch {
      return [];
    }
  });
}

export const finishedRuns = (lab: Lab): number => logEvents(lab).filter((e) => e.kind === 'run_end').length;

/** The pair_end results in the watch log, in order. */
export const watchResults = (lab: Lab): NonNullable<LogEvent['result']>[] => logEvents(lab).filter((e) => e.kind === 'pair_end').map((e) => e.result as NonNullable<LogEvent['result']>);

/** Ctrl-C: watch ends with 0 and leaves no process of the lab behind. */
export async function stopWatch(lab: Lab, run: ReturnType<Lab['spawn']>): Promise<void> {
  run.kill('SIGINT');
  const done = await run;
  expect(done.exitCode, String(done.stderr)).toBe(0);
  expect(processesMentioning(lab.root)).toEqual([]);
}

/** A before hook that logs each run of `name` to `runs` as `start name`, a second's wait, `end name`: for turnsTaken. */
export const loggedRunHook = (runs: string, name: string): string => `    hooks:\n      before: ["sh", "-c", "echo start ${name} >> ${runs}; sleep 1; echo end ${name} >> ${runs}"]\n`;

/** With every pair's runs logged by loggedRunHook: `count` runs, each start followed by its own end (none began while another was on). */
export function expectTurnsTaken(runs: string, count: number): void {
  const lines = readFileSync(runs, 'utf8').trim().split('\n');
  expect(lines).toHaveLength(2 * count);
  for (let i = 0; i < lines.length; i += 2) expect(lines[i + 1]).toBe(lines[i]?.replace('start', 'end'));
}
