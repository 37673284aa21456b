// Worker thread: hashes the files it is sent, one reused 1 MiB buffer per worker.
import { parentPort } from 'node:worker_threads';
import { hashFileSync, type HashRequest } from './hash-file.js';

const buffer = Buffer.allocUnsafe(1024 * 1024);
parentPort?.on('message', (job: { id: number; requests: HashRequest[] }) => {
  const results = job.requests.map((r) => {
    try {
      return { ok: true as const, digests: hashFileSync(r, buffer) };
    } catch (error) {
      return { ok: false as const, error: (error as Error).message };
    }
  });
  parentPort?.postMessage({ id: job.id, results });
});
