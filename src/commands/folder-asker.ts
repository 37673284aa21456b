// Where a pair's watch looks, asked of a child process (folder-answers.ts) rather than through this
// process's own file-access threads: libuv has four, a look at a folder whose network file system stopped
// answering holds one until the server answers, and node's exit waits for every one of them (review 58:
// four such pairs stalled the whole watch, and a stop with one look out never ended). The child is started
// with many threads and killed when watch stops; one question per pair folder is out, shared by every
// caller, and sent again every STALE_MS while it waits (folder-places.ts). Where it cannot be started
// (the file missing, as when the sources run directly) or keeps dying, the questions are answered here, as
// before it (review 59).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FolderPlaces, type PairFolder, type Place } from './folder-places.js';

export type { Place } from './folder-places.js';

const CHILD = fileURLToPath(new URL('./folder-answers.js', import.meta.url));

/** The child's threads: as many folders that do not answer before healthy ones wait behind them. */
const CHILD_THREADS = 64;
/** Deaths of the child not asked for, each within a minute of its start, after which the questions are answered in this process. */
const DEATHS_MAX = 3;
/** A child that lived this long clears the deaths before it (a watch runs for days). */
const LIVED_MS = 60_000;
/** A question out this long is sent again: it then looks whether the pair folder's link moved (folder-places.ts). */
const STALE_MS = 10_000;

/** Asked of a closed asker (watch stopping): no answer will come. */
export class AskerClosed extends Error {
  constructor() {
    super('watch is stopping');
  }
}

type Child = { process: ChildProcess };
/** One question out per pair folder, shared by every caller until it is answered; `via`: the child it went to (undefined: this process). */
type Question = { n: number; pair: PairFolder; key: string; sent: number; via: Child | undefined; promise: Promise<Place>; resolve(p: Place): void; reject(e: Error): void };

export class FolderAsker {
  private child: Child | undefined;
  private n = 0;
  private deaths = 0;
  private retryAt = 0;
  private closed = false;
  private readonly byKey = new Map<string, Question>();
  private readonly byN = new Map<number, Question>();
  private here: FolderPlaces | undefined;
  private resend: NodeJS.Timeout | undefined;
  private readonly lastAt = new Map<string, Place>();

  /** `say`: told once if the questions move into this process (the helper keeps dying). `staleMs`: STALE_MS. */
  constructor(private readonly say: (message: string) => void = () => undefined, private readonly staleMs = STALE_MS) {}

  /** Where `pair`'s watch looks now; settles when it is answered (a dead folder: once it answers, or its link moves), rejects if the child is lost or the asker closed. */
  ask(pair: PairFolder): Promise<Place> {
    const key = `${pair.tool}\0${pair.local}`;
    const was = this.byKey.get(key);
    if (was) return was.promise;
    if (this.closed) return Promise.reject(new AskerClosed());
    let resolve!: (p: Place) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<Place>((ok, fail) => ((resolve = ok), (reject = fail)));
    const q: Question = { n: ++this.n, pair: { local: pair.local, tool: pair.tool }, key, sent: 0, via: undefined, promise, resolve, reject };
    this.byKey.set(key, q);
    this.byN.set(q.n, q);
    this.send(q);
    // Sent again while out (a link moved off a dead mount meanwhile is then followed); never what keeps watch alive.
    this.resend ??= setInterval(() => {
      for (const o of this.byN.values()) if (performance.now() - o.sent >= this.staleMs) this.send(o);
    }, Math.max(50, this.staleMs / 2)).unref();
    return promise;
  }

  private send(q: Question): void {
    q.sent = performance.now();
    const child = q.via ?? this.started();
    if (child) {
      q.via = child;
      child.process.stdin?.write(`${JSON.stringify({ n: q.n, pair: q.pair })}\n`);
      return;
    }
    // A helper that could not start this once (EMFILE) is tried again within a few seconds, the question
    // not answered here meanwhile, where a dead folder would hold one of watch's own threads (review 64).
    if (this.deaths < DEATHS_MAX) {
      q.sent -= this.staleMs - 1000;
      return;
    }
    if (!this.here) this.say('the helper that asks the pair folders for watch cannot run here or keeps dying: they are asked in watch\'s own process, where a folder that stops answering (a network file system whose server is down) can stall watch and its stop');
    // Two walks per pair at most: this process has four file-access threads (review 65).
    // Answers only a question still its own: one sent on to a helper started since waits for that one's
    // answer, as this process hears of no later move of its links (review 67).
    this.here ??= new FolderPlaces((n, place) => this.byN.get(n)?.via === undefined && this.answered(n, place), 2);
    this.here.ask(q.n, q.pair);
  }

  /** `pair`'s last answer (its folder with links resolved, a dvc pair's repository), for watch's turns; undefined: none yet. */
  lastAnswer(pair: PairFolder): Place | undefined {
    return this.lastAt.get(`${pair.tool}\0${pair.local}`);
  }

  private answered(n: number, place: Place): void {
    const q = this.byN.get(n);
    if (!q) return;
    this.lastAt.set(q.key, place);
    this.drop(q);
    q.resolve(place);
  }

  private drop(q: Question): void {
    this.byN.delete(q.n);
    if (this.byKey.get(q.key) === q) this.byKey.delete(q.key);
  }

  /** The questions sent to `child` fail: it is gone (asked again, they go to a new one or here). */
  private lost(child: Child, error: Error): void {
    for (const q of [...this.byN.values()]) {
      if (q.via !== child) continue;
      this.drop(q);
      q.reject(error);
    }
  }

  /**
   * Kills the child; what is out rejects. A thread of it waiting on a dead folder usually dies with it (NFS
   * and most FUSE waits are killable; one a FUSE daemon already read may not be): watch does not wait for it.
   */
  close(): void {
    this.closed = true;
    clearInterval(this.resend);
    const c = this.child;
    this.child = undefined;
    c?.process.kill('SIGKILL');
    for (const q of [...this.byN.values()]) {
      this.drop(q);
      q.reject(new AskerClosed());
    }
  }

  private started(): Child | undefined {
    if (this.child) return this.child;
    // A start that failed (EMFILE) is tried again a second later, not once per question of the same moment,
    // each counted a death (review 65: three pairs asked at once had sent all to this process for good).
    if (performance.now() < this.retryAt) return undefined;
    if (!existsSync(CHILD)) {
      this.deaths = DEATHS_MAX;
      this.retryAt = Infinity;
      return undefined;
    }
    let process_: ChildProcess;
    try {
      process_ = spawn(process.execPath, [CHILD], { stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, UV_THREADPOOL_SIZE: String(CHILD_THREADS) } });
    } catch {
      this.deaths++;
      this.retryAt = performance.now() + (this.deaths >= DEATHS_MAX ? LIVED_MS : 1000);
      return undefined;
    }
    const c: Child = { process: process_ };
    // First, so a spawn that fails (EMFILE: no stdio at all) is an event handled here, not a crash.
    let gone = false;
    const lost = (why: string): void => {
      if (gone) return;
      gone = true;
      if (this.child === c) this.child = undefined;
      // Started again a second later, or a minute once it keeps dying (a process limit passes: review 66 found
      // watch answering in its own process for good after three failed starts, EAGAIN on a login node).
      if (!this.closed) {
        this.deaths = Date.now() - began > LIVED_MS ? 1 : this.deaths + 1;
        this.retryAt = performance.now() + (this.deaths >= DEATHS_MAX ? LIVED_MS : 1000);
      }
      // Only this child's questions: one started since has its own (review 59).
      this.lost(c, new Error(`the folder looks' helper ended (${why})`));
    };
    process_.once('error', (error) => lost(error.message));
    // 'close': after the last of its output is read, so an answer written before it ended still counts.
    process_.once('close', (code, signal) => lost(signal ?? `exit ${code}`));
    const began = Date.now();
    // No pid: the start failed (EAGAIN, ENOENT), said by 'error' on the next tick; its pipes exist all the
    // same, and a question sent down them was rejected, each pair asked at the start dropped (review 67).
    if (!process_.stdin || !process_.stdout || process_.pid === undefined) {
      this.retryAt = performance.now() + 1000;
      return undefined;
    }
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
          const a = JSON.parse(line) as { n: number; local: string; top: string; id: string | null; repo?: string | null };
          if (this.byN.get(a.n)?.via === c) this.answered(a.n, { local: a.local, top: a.top, id: a.id ?? undefined, ...(a.repo ? { repo: a.repo } : {}) });
        } catch {
          // not a line of ours
        }
      }
    });
    return c;
  }
}
