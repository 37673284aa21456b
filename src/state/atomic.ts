import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeFolder } from './own-folder.js';

/**
 * Write then rename: a reader sees the old file or the new one, never half of one. `durable: false`
 * skips the fsync, for caches: after a crash one may come back empty, which costs a re-hash, while
 * syncing a large cache cost more than the warm check it speeds up.
 */
export async function writeFileAtomic(path: string, data: string, { durable = true }: { durable?: boolean } = {}): Promise<void> {
  await makeFolder(dirname(path));
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w', 0o644);
  try {
    await handle.writeFile(data);
    if (durable) await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
}
