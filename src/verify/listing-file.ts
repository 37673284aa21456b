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

/** `raw`: the listing, or its parts in order (listing-match.ts; written as they are, not joined first). */
export async function saveListing(cacheDir: string, root: string, raw: Buffer | readonly Buffer[], warn?: Warn): Promise<void> {
  const file = fileFor(cacheDir, root);
  await writeCacheFile(file, async () => {
    await makeFolder(dirname(file));
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, raw);
      await rename(tmp, file);
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
  }, warn);
}

/**
 * A listing written ahead into a temp file beside its place (while the run still waits on another
 * listing), known by its digest: `commit` renames it into place (false: it could not, nothing replaced).
 */
export interface PreparedListing {
  readonly root: string;
  readonly digest: string;
  commit(): Promise<boolean>;
  discard(): Promise<void>;
}

/** saveListing up to the rename; undefined where the temp file could not be written (the usual save then runs). */
export async function prepareListing(cacheDir: string, root: string, digest: string, raw: Buffer | readonly Buffer[]): Promise<PreparedListing | undefined> {
  const file = fileFor(cacheDir, root);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await makeFolder(dirname(file));
    await writeFile(tmp, raw);
  } catch {
    await unlink(tmp).catch(() => undefined);
    return undefined;
  }
  let settled = false;
  const discard = async (): Promise<void> => {
    if (settled) return;
    settled = true;
    await unlink(tmp).catch(() => undefined);
  };
  return {
    root,
    digest,
    async commit() {
      if (settled) return false;
      settled = true;
      try {
        await rename(tmp, file);
        return true;
      } catch {
        await unlink(tmp).catch(() => undefined);
        return false;
      }
    },
    discard,
  };
}

/** A listing whose summary went away is of no use (and a stale one is refused by its digest anyway). */
export function dropListing(cacheDir: string, root: string): void {
  try {
    rmSync(fileFor(cacheDir, root), { force: true });
  } catch {
    // unreadable folder: the digest check refuses it later
  }
}
