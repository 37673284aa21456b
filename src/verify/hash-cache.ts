// Hashes remembered by (size, mtime ns, ctime ns, inode), so an unchanged tree re-verifies by stat alone.
// A file changed within a second of the scan is "racy" (git's term): its hash is not remembered,
// because a later change in the same timestamp tick would look unchanged.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/atomic.js';
import type { Digests } from './hash-file.js';

export interface StatKey { readonly size: number; readonly mtimeNs: string; readonly ctimeNs: string; readonly ino: string }
export interface CacheEntry extends StatKey, Digests { readonly etagPartSize?: number }

const VERSION = 1;
const RACY_WINDOW_NS = 1_000_000_000n;

export class HashCache {
  private readonly entries: Map<string, CacheEntry>;
  private dirty = false;

  private constructor(private readonly file: string | undefined, entries: Map<string, CacheEntry>) {
    this.entries = entries;
  }

  /** The cache for the tree at `root`, kept under `cacheDir` (none: an in-memory cache only). */
  static open(cacheDir: string | undefined, root: string): HashCache {
    if (!cacheDir) return new HashCache(undefined, new Map());
    const file = join(cacheDir, `${createHash('sha256').update(root).digest('hex').slice(0, 16)}.json`);
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { version: number; root: string; entries: Record<string, CacheEntry> };
      if (doc.version === VERSION && doc.root === root) return new HashCache(file, new Map(Object.entries(doc.entries)));
    } catch {
      // absent or damaged: start empty (a damaged cache costs a re-hash, never a wrong answer)
    }
    return new HashCache(file, new Map());
  }

  /** The remembered digests, only if every part of the key still matches. */
  get(path: string, key: StatKey): CacheEntry | undefined {
    const e = this.entries.get(path);
    return e && e.size === key.size && e.mtimeNs === key.mtimeNs && e.ctimeNs === key.ctimeNs && e.ino === key.ino ? e : undefined;
  }

  set(path: string, entry: CacheEntry, scanStartNs: bigint): void {
    if (BigInt(entry.mtimeNs) >= scanStartNs - RACY_WINDOW_NS || BigInt(entry.ctimeNs) >= scanStartNs - RACY_WINDOW_NS) {
      if (this.entries.delete(path)) this.dirty = true;
      return;
    }
    this.entries.set(path, entry);
    this.dirty = true;
  }

  /** Forget paths no longer in the tree. */
  retain(paths: ReadonlySet<string>): void {
    for (const p of this.entries.keys()) {
      if (!paths.has(p)) {
        this.entries.delete(p);
        this.dirty = true;
      }
    }
  }

  async save(root: string): Promise<void> {
    if (!this.file || !this.dirty) return;
    await writeFileAtomic(this.file, JSON.stringify({ version: VERSION, root, entries: Object.fromEntries(this.entries) }));
    this.dirty = false;
  }
}
