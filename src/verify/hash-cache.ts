// Hashes remembered by (size, mtime, ctime, inode), so an unchanged tree re-verifies with stats alone.
// Times are kept as float milliseconds (sub-microsecond resolution at today's epoch) rather than
// BigInt nanoseconds: measured here, BigInt stats cost 20% more per lstat and far more in GC.
// A file changed within a second of the scan is "racy" (git's term) and is not remembered, because a
// later change within the same timestamp tick would look unchanged.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../state/atomic.js';

/** One row per file, compact to parse: [path, size, mtimeMs, ctimeMs, ino, sha256, md5, etag, etagPartSize]. */
export type Row = [string, number, number, number, number, string, string, string, number];

/** Where a problem that costs speed, not correctness, is told (a pair's warnings, or stderr). */
export type Warn = (message: string) => void;

const VERSION = 2;
const RACY_WINDOW_MS = 1000;

/** Whether a row was remembered for exactly the stat key at `keys[at * 4…]`. */
export const rowHasKey = (r: Row, keys: Float64Array, at: number): boolean =>
  r[1] === keys[at * 4] && r[2] === keys[at * 4 + 1] && r[3] === keys[at * 4 + 2] && r[4] === keys[at * 4 + 3];

const warnedAbout = new Set<string>();

/**
 * Writes a cache file (atomically, without fsync). The caches only save time, so one that cannot be
 * written (a read-only checkout, a full disk, a file where the folder should be) is a warning, never a
 * failed scan: the answer already computed stands, and the next scan reads the files again. Said once
 * per cache folder and process, not once per tree.
 */
export async function writeCacheFile(path: string, data: string, warn: Warn | undefined): Promise<void> {
  try {
    await writeFileAtomic(path, data, { durable: false });
  } catch (error) {
    if (!warn || warnedAbout.has(dirname(path))) return;
    warnedAbout.add(dirname(path));
    warn(`could not save hashes under ${dirname(path)} (${(error as Error).message}); the next scan reads these files again`);
  }
}

/** A short stable name for a tree's files under the cache folder. */
export const treeKey = (root: string): string => createHash('sha256').update(root).digest('hex').slice(0, 16);

export class HashCache {
  private dirty = false;

  private loaded: Map<string, Row> | undefined;

  // The file is read on first use: a run answered from tree summaries never parses it.
  private constructor(private readonly file: string | undefined, private readonly root: string) {}

  private get rows(): Map<string, Row> {
    this.loaded ??= this.file ? HashCache.read(this.file, this.root) : new Map();
    return this.loaded;
  }

  private static read(file: string, root: string): Map<string, Row> {
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { version: number; root: string; rows: Row[] };
      if (doc.version === VERSION && doc.root === root && Array.isArray(doc.rows)) return new Map(doc.rows.map((r) => [r[0], r]));
    } catch {
      // absent or damaged: start empty (a damaged cache costs a re-hash, never a wrong answer)
    }
    return new Map();
  }

  /** Where the cache for the tree at `root` lives under `cacheDir`. */
  static fileFor(cacheDir: string, root: string): string {
    return join(cacheDir, `${treeKey(root)}.json`);
  }

  /** The cache for the tree at `root`, kept under `cacheDir` (none: an in-memory cache only). */
  static open(cacheDir: string | undefined, root: string): HashCache {
    return new HashCache(cacheDir ? HashCache.fileFor(cacheDir, root) : undefined, root);
  }

  /** The row whose key matches `keys[at * 4…]` ([size, mtimeMs, ctimeMs, ino]): the warm path, no object built per file. */
  lookup(path: string, keys: Float64Array, at: number): Row | undefined {
    const r = this.rows.get(path);
    return r && rowHasKey(r, keys, at) ? r : undefined;
  }

  /** Remembers a row, unless its file changed too close to the scan to be trusted; says whether it did. */
  put(row: Row, scanStartMs: number): boolean {
    if (row[2] >= scanStartMs - RACY_WINDOW_MS || row[3] >= scanStartMs - RACY_WINDOW_MS) {
      if (this.rows.delete(row[0])) this.dirty = true;
      return false;
    }
    this.rows.set(row[0], row);
    this.dirty = true;
    return true;
  }

  /** Forget paths no longer in the tree. */
  retain(files: readonly { readonly path: string }[]): void {
    if (files.length === this.rows.size) return;
    const paths = new Set(files.map((f) => f.path));
    for (const p of this.rows.keys()) {
      if (!paths.has(p)) {
        this.rows.delete(p);
        this.dirty = true;
      }
    }
  }

  async save(root: string, warn?: Warn): Promise<void> {
    if (!this.file || !this.dirty || !this.loaded) return;
    await writeCacheFile(this.file, JSON.stringify({ version: VERSION, root, rows: [...this.rows.values()] }), warn);
    this.dirty = false;
  }
}
