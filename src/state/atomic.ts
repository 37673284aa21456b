import { randomBytes } from 'node:crypto';
import { closeSync, fsync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeFolder, makeFolderSync } from './own-folder.js';

/**
 * Up to this size a file is written with synchronous calls (microseconds each), only its fsync going to
 * the thread pool, so a run's state and receipt still wait on one round of fsyncs together. Each
 * asynchronous call was a round trip through the thread pool and the event loop: the ~15 of a no-op
 * run's end cost its wall clock a few ms, and more under load. Larger files (caches) stay asynchronous,
 * so a long write never stalls the event loop.
 */
const SMALL = 256 * 1024;

/**
 * Write then rename: a reader sees the old file or the new one, never half of one. `durable: false`
 * skips the fsync, for caches: after a crash one may come back empty, which costs a re-hash, while
 * syncing a large cache cost more than the warm check it speeds up.
 */
export async function writeFileAtomic(path: string, data: string, { durable = true }: { durable?: boolean } = {}): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  if (data.length <= SMALL) return writeSmall(path, tmp, Buffer.from(data), durable);
  await makeFolder(dirname(path));
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

async function writeSmall(path: string, tmp: string, bytes: Buffer, durable: boolean): Promise<void> {
  makeFolderSync(dirname(path));
  const fd = openSync(tmp, 'w', 0o644);
  try {
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
    if (durable) await new Promise<void>((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (error) {
    try {
      unlinkSync(tmp);
    } catch {
      // gone already
    }
    throw error;
  }
}
