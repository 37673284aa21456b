import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { hashTree, type HashedFile, type HashTreeOptions } from './hash-tree.js';

const WORKER = new URL('./tree-worker.js', import.meta.url);
let warm: Worker | undefined;

/** Starts the tree worker now, so its boot overlaps loading the manifest (`labsync check`). */
export function prewarmTreeWorker(): void {
  if (!warm && existsSync(fileURLToPath(WORKER))) {
    warm = new Worker(WORKER);
    warm.unref();
  }
}

/** hashTree on a worker thread (the main thread stays free for the other side), or here without one. */
export async function hashTreeOffThread(root: string, options: HashTreeOptions): Promise<HashedFile[]> {
  if (!existsSync(fileURLToPath(WORKER))) return hashTree(root, options);
  const worker = warm ?? new Worker(WORKER);
  warm = undefined;
  worker.ref();
  try {
    const reply = await new Promise<{ ok: true; files: HashedFile[] } | { ok: false; error: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage({ root, options });
    });
    if (!reply.ok) throw new Error(reply.error);
    return reply.files;
  } finally {
    await worker.terminate();
  }
}
