// The stall watchdog's rule: what counts as a running tool making progress (README: stall_timeout).
// A dead or silent server leaves a tool alive and printing the same stats forever (rclone 1.60 keeps
// reconnecting); only movement counts, never a heartbeat that repeats itself.
import { readdirSync, readFileSync } from 'node:fs';
import type { Progress } from '../adapters/types.js';

/** Read this much since the last sign of life and a tool that reports no progress counts as alive. */
export const READ_ACTIVITY_BYTES = 64 * 1024;

export type ParseProgress = (line: string) => Progress | undefined;

/**
 * Activity, in order of trust:
 * 1. the tool's own progress report (the adapter's parseProgress) moving: more bytes, files or checks
 *    than ever before in this run. The same report again is not progress.
 * 2. until the tool's first report (git, dvc and aws listings never report): its processes reading
 *    (sockets, pipes, files) at least READ_ACTIVITY_BYTES since the last sign of life. Once a tool
 *    reports, its report alone decides: a tool in a retry loop reads and logs without moving anything.
 * Output lines alone are not activity: a tool failing over and over prints a line per failure.
 * Where reads cannot be seen (no /proc) a tool that never reported is never called stalled.
 */
export class StallWatch {
  private last: number;
  private best = { bytes: -1, files: -1, checks: -1 };
  private reported = false;
  private readsSeen = false;
  private readSince = 0;
  /** The last line that was not a progress report: what the tool said before it went quiet. */
  lastLine: string | undefined;

  constructor(
    readonly ms: number,
    private readonly parse: ParseProgress | undefined,
    now: number,
  ) {
    this.last = now;
  }

  line(text: string, now: number): void {
    const p = this.parse?.(text);
    if (!p) {
      this.lastLine = text;
      return;
    }
    this.reported = true;
    let moved = false;
    for (const key of ['bytes', 'files', 'checks'] as const) {
      const value = p[key];
      if (value !== undefined && value > this.best[key]) {
        this.best[key] = value;
        moved = true;
      }
    }
    if (moved) this.alive(now);
  }

  /** Bytes the child's processes read since the last call. */
  read(bytes: number, now: number): void {
    this.readsSeen = true;
    if (this.reported) return;
    this.readSince += bytes;
    if (this.readSince >= READ_ACTIVITY_BYTES) this.alive(now);
  }

  /** Whether reads still matter: the poller can stop reading /proc once the tool reports. */
  get watchesReads(): boolean {
    return !this.reported;
  }

  stalled(now: number): boolean {
    return (this.reported || this.readsSeen) && now - this.last >= this.ms;
  }

  private alive(now: number): void {
    this.last = now;
    this.readSince = 0;
  }
}

/** What a stalled tool last said, readable: rclone's JSON log lines become their message. */
export function readableLine(line: string): string {
  const text = line.trim();
  if (text.startsWith('{')) {
    try {
      const msg = (JSON.parse(text) as { msg?: unknown }).msg;
      if (typeof msg === 'string' && msg.trim()) return msg.trim().split('\n')[0] as string;
    } catch {
      // not JSON after all
    }
  }
  return text;
}

/**
 * Bytes read so far (rchar: sockets, pipes and files) by process `pid` and its descendants, from
 * Linux's /proc; undefined where there is no /proc to read. Walks the child lists (a handful of
 * files) rather than every process on the machine.
 */
export function groupReads(pid: number): Map<number, number> | undefined {
  const out = new Map<number, number>();
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    try {
      const rchar = /^rchar: (\d+)$/m.exec(readFileSync(`/proc/${next}/io`, 'utf8'));
      if (rchar) out.set(next, Number(rchar[1]));
      for (const task of readdirSync(`/proc/${next}/task`)) {
        for (const child of readFileSync(`/proc/${next}/task/${task}/children`, 'utf8').split(' ')) {
          if (child.trim()) pending.push(Number(child));
        }
      }
    } catch {
      // gone meanwhile, not ours to read, or no /proc at all
      if (next === pid && !out.size) return undefined;
    }
  }
  return out;
}

/** Sum of what each process read between two snapshots; processes new in `now` start from zero next time. */
export function readSince(before: ReadonlyMap<number, number>, now: ReadonlyMap<number, number>): number {
  let sum = 0;
  for (const [pid, bytes] of now) {
    const was = before.get(pid);
    if (was !== undefined && bytes > was) sum += bytes - was;
  }
  return sum;
}
