// Where a pair's watch looks, asked of a child process (folder-answers.ts) rather than through this
// process's own file-access threads: libuv has four, a look at a folder whose network file system stopped
// answering holds one until the server answers, and node's exit waits for every one of them (review 58:
// four such pairs stalled the whole watch, and a stop with one look out never ended). The child is started
// with many threads, asked each question at once, and killed when watch stops. Where it cannot be started
// (the file missing, as when the sources run directly) or keeps dying, the questions are answered here, as
// before it (review 59).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ResolvedPair } from '../types.js';
import { placeOf } from './watch-filter.js';

const CHILD = fileURLToPath(new URL('./folder-answers.js', import.meta.url));

/** The child's threads: as many folders that do not answer before healthy ones wait behind them. */
const CHILD_THREADS = 64;
/** Deaths of the child not asked for, each within a minute of its start, after which the questions are answered in this process. */
const DEATHS_MAX = 3;
/** A child that lived this long clears the deaths before it (a watch runs for days). */
const LIVED_MS = 60_000;
/** A question still out this long is asked anew for a new caller (a link moved off a dead mount meanwhile), up to OUT_MAX at once per pair. */
export const STALE_MS = 10_000;
const OUT_MAX = 3;

/** `local`: the pair's folder, links resolved; `top`: the folder subscribed to; `id`: which folder is there (undefined: none). */
export interface Place {
  readonly local: string;
  readonly top: string;
  readonly id: string | undefined;
}

type Waiter = { resolve(p: Place): void; reject(e: Error): void };

export class FolderAsker {
  private child: { process: ChildProcess; out: Map<number, Waiter> } | undefined;
  private n = 0;
  private deaths = 0;
  private closed = false;
  /** The newest question out per pair, and how many are out: a dead folder's questions each hold a thread of the child. */
  private readonly pending = new Map<string, { asked: Promise<Place>; at: number }>();
  /** Questions out per pair, counted apart from the newest (review 61: dropped with it, the cap undercounted). */
  private readonly outFor = new Map<string, number>();
  private saidHere = false;

  /** `say`: told once if the questions move into this process (the helper keeps dying). */
  constructor(private readonly say: (message: string) => void = () => undefined) {}

  /** Where `pair`'s watch looks now; settles when the child answers (a dead folder: when it answers), rejects if the child is lost or closed. */
  ask(pair: Pick<ResolvedPair, 'local' | 'tool'>): Promise<Place> {
    const key = `${pair.tool}\0${pair.local}`;
    const was = this.pending.get(key);
    if (was && (Date.now() - was.at < STALE_MS || (this.outFor.get(key) ?? 0) >= OUT_MAX)) return was.asked;
    const asked = this.asked(pair);
    this.pending.set(key, { asked, at: Date.now() });
    this.outFor.set(key, (this.outFor.get(key) ?? 0) + 1);
    const done = (): void => {
      if (this.pending.get(key)?.asked === asked) this.pending.delete(key);
      const n = (this.outFor.get(key) ?? 1) - 1;
      if (n > 0) this.outFor.set(key, n);
      else this.outFor.delete(key);
    };
    asked.then(done, done);
    return asked;
  }

  private asked(pair: Pick<ResolvedPair, 'local' | 'tool'>): Promise<Place> {
    if (this.closed) return Promise.reject(new Error('watch is stopping'));
    const child = this.deaths >= DEATHS_MAX ? undefined : this.started();
    if (!child) {
      if (!this.saidHere) this.say('the helper that asks the pair folders for watch cannot run here or keeps dying: they are asked in watch\'s own process, where a folder that stops answering (a network file system whose server is down) can stall watch and its stop');
      this.saidHere = true;
      return placeOf(pair);
    }
    const n = ++this.n;
    return new Promise<Place>((resolve, reject) => {
      child.out.set(n, { resolve, reject });
      child.process.stdin?.write(`${JSON.stringify({ n, pair: { local: pair.local, tool: pair.tool } })}\n`);
    });
  }

  /**
   * Kills the child; what is out rejects. A thread of it waiting on a dead folder usually dies with it (NFS
   * and most FUSE waits are killable; one a FUSE daemon already read may not be): watch does not wait for it.
   */
  close(): void {
    this.closed = true;
    const c = this.child;
    this.child = undefined;
    c?.process.kill('SIGKILL');
    if (c) settle(c.out, new Error('watch is stopping'));
  }

  private started(): { process: ChildProcess; out: Map<number, Waiter> } | undefined {
    if (this.child) return this.child;
    if (!existsSync(CHILD)) {
      this.deaths = DEATHS_MAX;
      return undefined;
    }
    const out = new Map<number, Waiter>();
    let process_: ChildProcess;
    try {
      process_ = spawn(process.execPath, [CHILD], { stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, UV_THREADPOOL_SIZE: String(CHILD_THREADS) } });
    } catch {
      this.deaths++;
      return undefined;
    }
    const c = { process: process_, out };
    // First, so a spawn that fails (EMFILE: no stdio at all) is an event handled here, not a crash.
    let gone = false;
    const lost = (why: string): void => {
      if (gone) return;
      gone = true;
      if (this.child === c) this.child = undefined;
      if (!this.closed) this.deaths = Date.now() - began > LIVED_MS ? 1 : this.deaths + 1;
      // Only this child's questions: one started since has its own (review 59).
      settle(out, new Error(`the folder looks' helper ended (${why})`));
    };
    process_.once('error', (error) => lost(error.message));
    // 'close': after the last of its output is read, so an answer written before it ended still counts.
    process_.once('close', (code, signal) => lost(signal ?? `exit ${code}`));
    const began = Date.now();
    if (!process_.stdin || !process_.stdout) return undefined;
    this.child = c;
    // Never what keeps watch alive, nor its pipes.
    process_.unref();
    (process_.stdout as unknown as { unref?: () => void }).unref?.();
    (process_.stdin as unknown as { unref?: () => void }).unref?.();
    process_.stdin.on('error', () => undefined); // gone: 'close' says so
    // Decoded as a stream: a long line split mid-character is joined whole (review 59).
    process_.stdout.setEncoding('utf8');
    let buf = '';
    process_.stdout.on('data', (chunk: string) => {
      buf += chunk;
      for (let at = buf.indexOf('\n'); at >= 0; at = buf.indexOf('\n')) {
        const line = buf.slice(0, at);
        buf = buf.slice(at + 1);
        try {
          const a = JSON.parse(line) as { n: number; local: string; top: string; id: string | null };
          const waiting = out.get(a.n);
          out.delete(a.n);
          waiting?.resolve({ local: a.local, top: a.top, id: a.id ?? undefined });
        } catch {
          // not a line of ours
        }
      }
    });
    return c;
  }
}

function settle(out: Map<number, Waiter>, error: Error): void {
  for (const w of out.values()) w.reject(error);
  out.clear();
}
