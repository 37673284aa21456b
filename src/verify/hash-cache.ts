// Hashes remembered by (size, mtime, ctime, inode), so an unchanged tree re-verifies with stats alone.
// Times are kept as float milliseconds (sub-microsecond resolution at today's epoch) rather than
// BigInt nanoseconds: measured here, BigInt stats cost 20% more per lstat and far more in GC.
// A file changed within a second of the scan is "racy" (git's term) and is not remembered, because a
// later change within the same timestamp tick would look unchanged.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/atomic.js';
import type { Digests } from './hash-file.js';

export interface StatKey { readonly size: number; readonly mtimeMs: number; readonly ctimeMs: number; readonly ino: number }
export interface CacheEntry extends StatKey, Digests { readonly etagPartSize?: number }

/** One row per file, compact to parse: [path, size, mtimeMs, ctimeMs, ino, sha256, md5, etag, etagPartSize]. */
type Row = [string, number, number, number, number, string, string, string, number];

const VERSION = 2;
const RACY_WINDOW_MS = 1000;

function toEntry(r: Row): CacheEntry {
  return {
    size: r[1], mtimeMs: r[2], ctimeMs: r[3], ino: r[4],
    ...(r[5] ? { sha256: r[5] } : {}), ...(r[6] ? { md5: r[6] } : {}), ...(r[7] ? { etag: r[7] } : {}), ...(r[8] ? { etagPartSize: r[8] } : {}),
  };
}

export class HashCache {
  private dirty = false;

  private constructor(private readonly file: string | undefined, private readonly rows: Map<string, Row>) {}

  /** The cache for the tree at `root`, kept under `cacheDir` (none: an in-memory cache only). */
  static open(cacheDir: string | undefined, root: string): HashCache {
    if (!cacheDir) return new HashCache(undefined, new Map());
    const file = join(cacheDir, `${createHash('sha256').update(root).digest('hex').slice(0, 16)}.json`);
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { version: number; root: string; rows: Row[] };
      if (doc.version === VERSION && doc.root === root && Array.isArray(doc.rows)) return new HashCache(file, new Map(doc.rows.map((r) => [r[0], r])));
    } catch {
      // absent or damaged: start empty (a damaged cache costs a re-hash, never a wrong answer)
    }
    return new HashCache(file, new Map());
  }

  /** The remembered digests, only if every part of the key still matches. */
  get(path: string, key: StatKey): CacheEntry | undefined {
    const r = this.rows.get(path);
    return r && r[1] === key.size && r[2] === key.mtimeMs && r[3] === key.ctimeMs && r[4] === key.ino ? toEntry(r) : undefined;
  }

  /** The remembered sha256 alone, if the key matches: the warm path, with no object built per file. */
  sha256(path: string, key: StatKey): string | undefined {
    const r = this.rows.get(path);
    return r && r[5] && r[1] === key.size && r[2] === key.mtimeMs && r[3] === key.ctimeMs && r[4] === key.ino ? r[5] : undefined;
  }

  set(path: string, e: CacheEntry, scanStartMs: number): void {
    if (e.mtimeMs >= scanStartMs - RACY_WINDOW_MS || e.ctimeMs >= scanStartMs - RACY_WINDOW_MS) {
      if (this.rows.delete(path)) this.dirty = true;
      return;
    }
    this.rows.set(path, [path, e.size, e.mtimeMs, e.ctimeMs, e.ino, e.sha256 ?? '', e.md5 ?? '', e.etag ?? '', e.etagPartSize ?? 0]);
    this.dirty = true;
  }

  /** Forget paths no longer in the tree. */
  retain(paths: ReadonlySet<string>): void {
    if (paths.size === this.rows.size) return;
    for (const p of this.rows.keys()) {
      if (!paths.has(p)) {
        this.rows.delete(p);
        this.dirty = true;
      }
    }
  }

  async save(root: string): Promise<void> {
    if (!this.file || !this.dirty) return;
    await writeFileAtomic(this.file, JSON.stringify({ version: VERSION, root, rows: [...this.rows.values()] }));
    this.dirty = false;
  }
}
