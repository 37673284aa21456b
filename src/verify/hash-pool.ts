// Hashes files on worker threads (two by default: measured fastest on these 2-core machines). Started
// before a tree is walked so the workers boot while the walk runs, and fed folder by folder.
// Falls back to the main thread where the worker file is absent (running from sources).
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { hashFileSync, type Digests, type HashRequest } from './hash-file.js';

export type HashResult = { readonly ok: true; readonly digests: Digests } | { readonly ok: false; readonly error: string };

const WORKER = new URL('./hash-worker.js', import.meta.url);

function hashHere(requests: readonly HashRequest[], buffer: Buffer): HashResult[] {
  return requests.map((r) => {
    try {
      return { ok: true, digests: hashFileSync(r, buffer) };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  });
}

export class HashPool {
  private readonly pending = new Map<number, { resolve: (results: HashResult[]) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private turn = 0;
  private readonly buffer = Buffer.allocUnsafe(1024 * 1024);

  private constructor(private readonly workers: readonly Worker[]) {
    for (const w of workers) {
      w.on('message', (msg: { id: number; results: HashResult[] }) => {
        this.pending.get(msg.id)?.resolve(msg.results);
        this.pending.delete(msg.id);
      });
      // A worker that dies fails every batch still out, rather than leaving the run waiting forever.
      w.on('error', (error) => {
        for (const p of this.pending.values()) p.reject(error);
        this.pending.clear();
      });
    }
  }

  /** `threads` 0 hashes on this thread: a handful of files is not worth a worker's boot. */
  static start(threads = Math.min(2, availableParallelism())): HashPool {
    const usable = threads > 0 && existsSync(fileURLToPath(WORKER));
    return new HashPool(usable ? Array.from({ length: threads }, () => new Worker(WORKER)) : []);
  }

  /** Hashes a batch on the next worker (or here, without workers). */
  hash(requests: readonly HashRequest[]): Promise<HashResult[]> {
    if (!requests.length) return Promise.resolve([]);
    const worker = this.workers[this.turn++ % Math.max(1, this.workers.length)];
    if (!worker) return Promise.resolve(hashHere(requests, this.buffer));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, requests });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Hashes a list in batches of 256 across the pool. */
export async function hashMany(requests: readonly HashRequest[]): Promise<HashResult[]> {
  const pool = HashPool.start(requests.length < 64 ? 0 : undefined);
  try {
    const batches: Promise<HashResult[]>[] = [];
    for (let i = 0; i < requests.length; i += 256) batches.push(pool.hash(requests.slice(i, i + 256)));
    return (await Promise.all(batches)).flat();
  } finally {
    await pool.close();
  }
}
