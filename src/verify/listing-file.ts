// The raw find listing a tree was last proved with, kept beside its summary (tree-summary.ts), so the
// next run can tell which few records changed (listing-diff.ts) without parsing either listing. It is
// trusted only while it digests to the summary's `listing`: a damaged or other listing is never used.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { makeFolder } from '../state/own-folder.js';
import { writeCacheFile, type Warn } from './cache-file.js';
import { treeKey } from './cache-key.js';

/** Where the listing a tree was last proved with is kept. */
export const listingFileFor = (cacheDir: string, root: string): string => join(cacheDir, `${treeKey(root)}.listing`);
const fileFor = listingFileFor;

/** The digest a side's raw listing is known by (stat-tree.ts, adapters/rsync/remote.ts): excludes, then find's bytes. */
export const rawDigestOf = (excludes: readonly string[], raw: Buffer): string => createHash('sha256').update(JSON.stringify(excludes)).update('\0').update(raw).digest('hex');

/** The listing kept for `root` if it is the one digested as `digest` under these excludes; else undefined. */
export function readListing(cacheDir: string, root: string, digest: string, excludes: readonly string[]): Buffer | undefined {
  let raw: Buffer;
  try {
    raw = readFileSync(fileFor(cacheDir, root));
  } catch {
    return undefined;
  }
  return rawDigestOf(excludes, raw) === digest ? raw : undefined;
}

/**
 * The parts joined into pieces of about 1 MiB, each one write. find's output arrives in pipe reads of a
 * few KiB: written part by part, a 50k-file listing took 1,356 writes and 75 ms of a first push; joined
 * whole, a 1M-file one would be held twice.
 */
export function* inPieces(parts: readonly Buffer[], size = 1 << 20): Generator<Buffer> {
  let group: Buffer[] = [];
  let bytes = 0;
  for (const part of parts) {
    group.push(part);
    bytes += part.length;
    if (bytes < size) continue;
    yield group.length === 1 ? part : Buffer.concat(group, bytes);
    group = [];
    bytes = 0;
  }
  if (group.length) yield Buffer.concat(group, bytes);
}

/** `raw`: the listing, or its parts in order (listing-match.ts; written in pieces, not joined whole first). */
export async function saveListing(cacheDir: string, root: string, raw: Buffer | readonly Buffer[], warn?: Warn): Promise<void> {
  const file = fileFor(cacheDir, root);
  await writeCacheFile(file, async () => {
    await makeFolder(dirname(file));
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, Buffer.isBuffer(raw) ? raw : inPieces(raw));
      await rename(tmp, file);
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
  }, warn);
}

/** A listing whose summary went away is of no use (and a stale one is refused by its digest anyway). */
export function dropListing(cacheDir: string, root: string): void {
  try {
    rmSync(fileFor(cacheDir, root), { force: true });
  } catch {
    // unreadable folder: the digest check refuses it later
  }
}
