// Off a terminal a long transfer must still say it is alive (SPEC §5: a line at least every 60 s); CI
// systems stop a job that prints nothing for some minutes. Plain output and --json (on stderr) share it.
import type { Progress } from '../adapters/types.js';
import { describeProgress } from './describe.js';

export interface Heartbeat {
  start(): void;
  started(pair: string): void;
  step(pair: string, step: string): void;
  progress(pair: string, progress: Progress): void;
  ended(pair: string): void;
  stop(): void;
}

/** `line` gets one "still running" line per running pair every `everyMs`. */
export function heartbeat(line: (text: string) => void, everyMs: number): Heartbeat {
  const running = new Map<string, { progress?: Progress; step?: string }>();
  let timer: NodeJS.Timeout | undefined;
  // Runs may overlap (a watch runs pairs that are not nested at once): one timer while any is on (review 50).
  let runs = 0;
  return {
    start: () => {
      runs += 1;
      if (timer) return;
      timer = setInterval(() => {
        for (const [name, s] of running) line(`${name}: still running${s.step ? ` (${s.step})` : ''}${s.progress ? ` ${describeProgress(s.progress)}` : ''}`);
      }, everyMs);
      timer.unref();
    },
    started: (pair) => void running.set(pair, {}),
    step: (pair, step) => {
      const s = running.get(pair);
      if (s) s.step = step;
    },
    progress: (pair, progress) => {
      const s = running.get(pair);
      if (s) s.progress = progress;
    },
    ended: (pair) => void running.delete(pair),
    stop: () => {
      runs = Math.max(0, runs - 1);
      if (runs || !timer) return;
      clearInterval(timer);
      timer = undefined;
    },
  };
}

/** LABSYNC_HEARTBEAT_SECONDS moves the 60 s (tests, and CI systems with a shorter silence limit). */
export const heartbeatMs = (): number => {
  const s = Number(process.env.LABSYNC_HEARTBEAT_SECONDS);
  return process.env.LABSYNC_HEARTBEAT_SECONDS && Number.isFinite(s) && s > 0 ? s * 1000 : 60_000;
};

/** The time stamp plain lines begin with: the second, in UTC. */
export const stamp = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
