// Where a pair's watch looks, asked of a child process (folder-answers.ts) rather than through this
// process's own file-access threads: libuv has four, a look at a folder whose network file system stopped
// answering holds one until the server answers, and node's exit waits for every one of them (review 58:
// four such pairs stalled the whole watch, and a stop with one out never ended). The child is started
// with many threads, asked each question at once, and killed when watch stops.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ResolvedPair } from '../types.js';

const CHILD = fileURLToPath(new URL('./folder-answers.js', import.meta.url));

/** The child's threads: as many folders that do not answer before healthy ones wait behind them. */
const CHILD_THREADS = 64;

/** `local`: the pair's folder, links resolved; `top`: the folder subscribed to; `id`: which folder is there (undefined: none). */
export interface Place {
  readonly local: string;
  readonly top: string;
  readonly id: string | undefined;
}

export class FolderAsker {
  private child: ChildProcess | undefined;
  private n = 0;
  private readonly out = new Map<number, { resolve(p: Place): void; reject(e: Error): void }>();
  private closed = false;

  /** Where `pair`'s watch looks now; settles when the child answers (a dead folder: when it answers), rejects if the child is lost or closed. */
  ask(pair: Pick<ResolvedPair, 'local' | 'tool'>): Promise<Place> {
    if (this.closed) return Promise.reject(new Error('watch is stopping'));
    const child = this.started();
    const n = ++this.n;
    return new Promise<Place>((resolve, reject) => {
      this.out.set(n, { resolve, reject });
      child.stdin?.write(`${JSON.stringify({ n, pair: { local: pair.local, tool: pair.tool } })}\n`);
    });
  }

  /** Kills the child (a thread of it may wait on a dead folder: killable, as NFS and FUSE waits are); what is out rejects. */
  close(): void {
    this.closed = true;
    this.child?.kill('SIGKILL');
    this.lost(new Error('watch is stopping'));
  }

  private started(): ChildProcess {
    if (this.child) return this.child;
    const child = spawn(process.execPath, [CHILD], { stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, UV_THREADPOOL_SIZE: String(CHILD_THREADS) } });
    this.child = child;
    // Never what keeps watch alive, nor its pipes.
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    child.stdin?.on('error', () => undefined); // gone: 'exit' says so
    let buf = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      for (let at = buf.indexOf('\n'); at >= 0; at = buf.indexOf('\n')) {
        const line = buf.slice(0, at);
        buf = buf.slice(at + 1);
        try {
          const a = JSON.parse(line) as { n: number; local: string; top: string; id: string | null };
          const waiting = this.out.get(a.n);
          this.out.delete(a.n);
          waiting?.resolve({ local: a.local, top: a.top, id: a.id ?? undefined });
        } catch {
          // not a line of ours
        }
      }
    });
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      // Started again at the next question (a crash; the stop closed it for good).
      this.lost(new Error(`the folder looks' helper ended (${signal ?? `exit ${code}`})`));
    });
    child.once('error', (error) => {
      if (this.child === child) this.child = undefined;
      this.lost(error);
    });
    return child;
  }

  private lost(error: Error): void {
    for (const w of this.out.values()) w.reject(error);
    this.out.clear();
  }
}
