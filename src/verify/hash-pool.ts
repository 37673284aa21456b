// Hashes many files on worker threads (two by default: measured fastest on these 2-core machines).
// Falls back to the main thread where the worker file is absent (running from sources).
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { hashFileSync, type Digests, type HashRequest } from './hash-file.js';

export type HashResult = { readonly ok: true; readonly digests: Digests } | { readonly ok: false; readonly error: string };

const WORKER = new URL('./hash-worker.js', import.meta.url);
const BATCH = 64;

export async function hashMany(requests: readonly HashRequest[], threads = Math.min(2, availableParallelism())): Promise<HashResult[]> {
  if (!requests.length) return [];
  if (!existsSync(fileURLToPath(WORKER)) || requests.length < 32) {
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    return requests.map((r) => {
      try {
        return { ok: true, digests: hashFileSync(r, buffer) };
      } catch (error) {
        return { ok: false, error: (error as Error).message };
      }
    });
  }
  const results = new Array<HashResult>(requests.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, threads) }, () => new Worker(WORKER));
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = (): void => {
              if (next >= requests.length) return resolve();
              const start = next;
              next = Math.min(requests.length, next + BATCH);
              worker.postMessage({ id: start, requests: requests.slice(start, next) });
            };
            worker.on('message', (msg: { id: number; results: HashResult[] }) => {
              msg.results.forEach((r, i) => (results[msg.id + i] = r));
              send();
            });
            worker.on('error', reject);
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
