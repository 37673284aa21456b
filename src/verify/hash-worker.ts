// Worker thread: runs the batches it is sent (stat or hash), one reused 1 MiB read buffer per worker.
import { parentPort } from 'node:worker_threads';
import { runBatch, type Batch } from './batch.js';

const buffer = Buffer.allocUnsafe(1024 * 1024);
parentPort?.on('message', ({ id, batch }: { id: number; batch: Batch }) => {
  const result = runBatch(batch, buffer);
  parentPort?.postMessage({ id, result }, result.shaBytes ? [result.keys.buffer as ArrayBuffer, result.shaBytes.buffer as ArrayBuffer] : [result.keys.buffer as ArrayBuffer]);
});
