// Stats and hashes files on worker threads (two by default: measured fastest on these 2-core machines).
// One pool per process, shared by every tree being scanned (both sides of a local pair). The process's
// pool boots a worker only when every one it has is busy (a worker's boot costs ~40 ms of CPU, and a
// first push's reads, paced by the transfer, keep one busy at most); `sums` boots them all at once, so
// they start while it looks for a manifest. Each batch goes to the live worker with the fewest files
// outstanding. Where the worker file is absent (running from sources), batches run on this thread.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { runBatch, type Batch, type BatchResult } from './batch.js';
import type { Digests, HashRequest } from './hash-file.js';

export type HashResult = { readonly ok: true; readonly digests: Digests } | { readonly ok: false; readonly error: string };

const WORKER = new URL('./hash-worker.js', import.meta.url);

interface Slot { readonly worker: Worker; load: number; gone: boolean }

export class HashPool {
  private readonly pending = new Map<number, { resolve: (r: BatchResult) => void; reject: (e: Error) => void; slot: Slot; size: number; root: string }>();
  private nextId = 0;
  private buffer: Buffer | undefined;

  private readonly slots: Slot[] = [];

  /** `threads`: the most workers it boots; `script`: undefined where there is none (batches run here). */
  private constructor(private readonly threads: number, private readonly script: URL | undefined) {}

  /** Boots one more worker; a worker that dies later is not replaced (its place counts as taken). */
  private boot(): Slot {
    const slot: Slot = { worker: new Worker(this.script as URL), load: 0, gone: false };
    this.slots.push(slot);
    slot.worker.on('message', (msg: { id: number; result: BatchResult }) => this.settle(msg.id, (p) => p.resolve(msg.result)));
    // A worker that dies fails its batches still out, rather than leaving the run waiting forever,
    // and gets no more: the next batches go to the others, or run here.
    slot.worker.on('error', (error) => this.lose(slot, error));
    slot.worker.on('exit', (code) => this.lose(slot, new Error(`a hash worker stopped (exit code ${code})`)));
    slot.worker.unref(); // after the listeners: adding a 'message' listener refs the worker again
    return slot;
  }

  /** Boots every worker it may have, now (so their boot overlaps what the command does next). */
  warm(): this {
    while (this.script && this.slots.length < this.threads) this.boot();
    return this;
  }

  /** Workers booted so far, live or not (tests count them). */
  get booted(): number {
    return this.slots.length;
  }

  private lose(slot: Slot, error: Error): void {
    slot.gone = true;
    // Says where: which tree's files the lost batch was reading.
    for (const [id, p] of [...this.pending]) if (p.slot === slot) this.settle(id, (q) => q.reject(new Error(`${error.message}, while reading files under ${p.root || '/'}`)));
  }

  private settle(id: number, how: (p: { resolve: (r: BatchResult) => void; reject: (e: Error) => void }) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.slot.load -= p.size;
    // An idle worker must not keep the process alive; a busy one must (a pending promise does not).
    if (p.slot.load === 0) p.slot.worker.unref();
    how(p);
  }

  /** `lazy`: workers boot as batches need them (else all now). */
  static start(threads = Math.min(2, availableParallelism()), script: URL = WORKER, lazy = false): HashPool {
    const usable = threads > 0 && existsSync(fileURLToPath(script));
    const pool = new HashPool(usable ? threads : 0, usable ? script : undefined);
    return lazy ? pool : pool.warm();
  }

  /** Runs a batch on the least-loaded live worker (a new one when all are busy and it may boot one), or on this thread without one. */
  run(batch: Batch): Promise<BatchResult> {
    let slot = this.slots.reduce<Slot | undefined>((best, s) => (!s.gone && (!best || s.load < best.load) ? s : best), undefined);
    if ((!slot || slot.load > 0) && this.script && this.slots.length < this.threads) slot = this.boot();
    if (!slot) {
      try {
        return Promise.resolve(runBatch(batch, (this.buffer ??= Buffer.allocUnsafe(1024 * 1024))));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }
    const id = this.nextId++;
    slot.load += batch.paths.length;
    slot.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot, size: batch.paths.length, root: batch.root });
      slot.worker.postMessage({ id, batch });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  /** Stops one worker, as a crash would (tests: the pool must go on without it). */
  async stopWorker(index: number): Promise<void> {
    await this.slots[index]?.worker.terminate();
  }
}

let shared: HashPool | undefined;
let inline: HashPool | undefined;

/** Runs a batch on this thread: a small tree is done before a worker would have booted. */
export const runHere = (batch: Batch): Promise<BatchResult> => (inline ??= HashPool.start(0)).run(batch);

/** The process's pool, made on first use; its workers boot as its batches need them. */
export function sharedPool(): HashPool {
  return (shared ??= HashPool.start(undefined, undefined, true));
}

/** Starts the workers now, so their boot overlaps whatever the command does next. */
export const prewarmHashPool = (): void => void sharedPool().warm();

export const isPoolStarted = (): boolean => shared !== undefined;

/** Hashes a list of files (absolute paths) in batches of 256; a handful runs on this thread. */
export async function hashMany(requests: readonly HashRequest[]): Promise<HashResult[]> {
  const out: HashResult[] = [];
  const run = requests.length < 64 && !isPoolStarted() ? runHere : (b: Batch) => sharedPool().run(b);
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < requests.length; i += 256) {
    const slice = requests.slice(i, i + 256);
    // A list may mix algorithms (a sums file of md5 and sha256 lines): a batch computes what any of its files needs.
    const cut = slice.find((r) => r.etagPartSize);
    const batch: Batch = { op: 'hash', root: '', paths: slice.map((r) => r.path), sha256: slice.some((r) => r.sha256), md5: slice.some((r) => r.md5), ...(cut?.etagPartSize ? { etagPartSize: cut.etagPartSize } : {}), ...(cut?.etagThreshold ? { etagThreshold: cut.etagThreshold } : {}) };
    const at = i;
    jobs.push(run(batch).then((r) => {
      const errors = new Map(r.errors.map(([k, , message]) => [k, message]));
      slice.forEach((_req, k) => {
        const error = errors.get(k);
        out[at + k] = error !== undefined
          ? { ok: false, error }
          : { ok: true, digests: { ...(r.sha256 ? { sha256: r.sha256[k] as string } : {}), ...(r.md5 ? { md5: r.md5[k] as string } : {}), ...(r.etag ? { etag: r.etag[k] as string } : {}) } };
      });
    }));
  }
  await Promise.all(jobs);
  return out;
}
