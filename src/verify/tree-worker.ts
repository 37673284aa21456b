// Worker thread: hashes (or stat-checks against the cache) one whole tree, so a local↔local check
// scans both sides at once on a 2-core machine.
import { parentPort } from 'node:worker_threads';
import { hashTree, type HashTreeOptions } from './hash-tree.js';

parentPort?.once('message', async ({ root, options }: { root: string; options: HashTreeOptions }) => {
  try {
    parentPort?.postMessage({ ok: true, files: await hashTree(root, options) });
  } catch (error) {
    parentPort?.postMessage({ ok: false, error: (error as Error).message });
  }
});
