// Hashes remembered by (size, mtime, ctime, inode), so an unchanged tree re-verifies with stats alone.
// Times are kept as float milliseconds (sub-microsecond resolution at today's epoch) rather than
// BigInt nanoseconds: measured here, BigInt stats cost 20% more per lstat and far more in GC.
// A file changed within a second of the scan is "racy" (git's term) and is not remembered, because a
// later change within the same timestamp tick would look unchanged.
// Memory: opened with the tree's listing (sorted, as the file is), the file is streamed and merged into
// typed arrays beside the listing (~70 bytes a file: no string, object or map entry per file); rows for
// paths not listed are dropped. Without a listing, rows go into a map (small trees, other callers).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readRows, writeRows, writeCacheFile, type ReadStats, type Row, type Warn } from './cache-file.js';
import { takeOldRows } from './cache-old.js';
import { byteOrder, sortBytewise } from './walk.js';
import { work } from './work-count.js';

export type { Row, Warn } from './cache-file.js';
export { writeCacheFile } from './cache-file.js';


const RACY_WINDOW_MS = 1000;

/** Changed too close to `scanStartMs` to be remembered (a later change within the same tick would look unchanged). */
export const isRacy = (mtimeMs: number, ctimeMs: number, scanStartMs: number): boolean => mtimeMs >= scanStartMs - RACY_WINDOW_MS || ctimeMs >= scanStartMs - RACY_WINDOW_MS;

/** Whether a row was remembered for exactly the stat key at `keys[at * 4…]`. */
export const rowHasKey = (r: Row, keys: Float64Array, at: number): boolean =>
  r[1] === keys[at * 4] && r[2] === keys[at * 4 + 1] && r[3] === keys[at * 4 + 2] && r[4] === keys[at * 4 + 3];

/** A short stable name for a tree's files under the cache folder. */
export const treeKey = (root: string): string => createHash('sha256').update(root).digest('hex').slice(0, 16);

/** The tree's listing the cache lines up with: paths in byte order (the file's order too). */
export interface Listed { readonly paths: readonly string[] }

export interface OpenOptions {
  readonly listing?: Listed;
  /** Told when a damaged cache file is thrown away. */
  readonly warn?: Warn;
  /** Counts the reads of the file (tests: the file is streamed, not slurped). */
  readonly stats?: ReadStats;
}

const HAS_ROW = 1;
const HAS_SHA = 2;
const HAS_MD5 = 4;

export class HashCache {
  private dirty = false;
  private cursor = 0;
  private readonly n: number;
  private readonly paths: readonly string[];
  private readonly flags: Uint8Array;
  private readonly keys: Float64Array;
  private readonly sha: Buffer;
  private md5: Buffer | undefined;
  /** etag and its part size, for the few files that have one. */
  private readonly etags = new Map<number, [string, number]>();
  /** Rows for paths outside the listing (or all rows, when opened without one). */
  private readonly extra = new Map<string, Row>();

  private constructor(private readonly file: string | undefined, listing: Listed | undefined) {
    this.paths = listing?.paths ?? [];
    this.n = this.paths.length;
    this.flags = new Uint8Array(this.n);
    this.keys = new Float64Array(this.n * 4);
    this.sha = Buffer.alloc(this.n * 32);
  }

  /** Where the cache for the tree at `root` lives under `cacheDir`. */
  static fileFor(cacheDir: string, root: string): string {
    return join(cacheDir, `${treeKey(root)}.hashes`);
  }

  /** Whether anything is remembered for the tree at `root` (in this format or the one before). */
  static exists(cacheDir: string, root: string): boolean {
    return existsSync(HashCache.fileFor(cacheDir, root)) || existsSync(oldFile(cacheDir, root));
  }

  /** The cache for the tree at `root`, kept under `cacheDir` (none: an in-memory cache only). */
  static open(cacheDir: string | undefined, root: string, o: OpenOptions = {}): HashCache {
    if (!cacheDir) return new HashCache(undefined, o.listing);
    const file = HashCache.fileFor(cacheDir, root);
    const cache = new HashCache(file, o.listing);
    const merge = cache.merger();
    try {
      const named = readRows(file, merge, o.stats);
      if (named !== root) cache.clear(); // another tree's file under a colliding name: not this tree's hashes
    } catch (error) {
      cache.clear();
      const code = (error as NodeJS.ErrnoException).code;
      // None yet (ENOTDIR: a file where the cache folder should be, which saving will report).
      if (code === 'ENOENT' || code === 'ENOTDIR') cache.migrate(cacheDir, root);
      else {
        // Never trusted in part: a damaged line may sit among good ones. Rebuilt by this run's hashing.
        o.warn?.(`ignored the damaged hash cache ${file} (${(error as Error).message}); its files are read again and the cache rebuilt`);
        cache.dirty = true;
      }
    }
    cache.cursor = 0;
    return cache;
  }

  /**
   * This cache lined up with a new listing of the same tree (the listing after a transfer), as if it
   * were saved and opened again with it, without reading or parsing the file: rows are copied by
   * path; a row whose path is no longer listed is dropped, and the next save writes the change.
   */
  realign(listing: Listed): HashCache {
    const next = new HashCache(this.file, listing);
    next.dirty = this.dirty;
    for (let i = 0; i < this.n; i++) {
      const f = this.flags[i] as number;
      if (!f) continue;
      const j = next.indexOf(this.paths[i] as string);
      if (j < 0) {
        next.dirty = true;
        continue;
      }
      next.keys.set(this.keys.subarray(i * 4, i * 4 + 4), j * 4);
      this.sha.copy(next.sha, j * 32, i * 32, i * 32 + 32);
      if (f & HAS_MD5 && this.md5) this.md5.copy((next.md5 ??= Buffer.alloc(next.n * 16)), j * 16, i * 16, i * 16 + 16);
      const e = this.etags.get(i);
      if (e) next.etags.set(j, e);
      next.flags[j] = f;
    }
    for (const r of this.extra.values()) {
      const j = next.n ? next.indexOf(r[0]) : -1;
      if (j >= 0) next.set(j, r);
      else if (next.n) next.dirty = true;
      else next.extra.set(r[0], r);
    }
    next.cursor = 0;
    return next;
  }

  /** Takes rows in file order, lining them up with the listing as both go (both are in byte order). */
  private merger(): (r: Row) => void {
    let at = 0;
    return (r) => {
      work.cacheRows++;
      if (!this.n) return void this.extra.set(r[0], r);
      // A row out of order (a file not written by labsync) is looked up, never misplaced. UTF-16 order
      // (plain <) differs from byte order only past U+D7FF: there a row may be missed (a re-hash),
      // never attached to another path, since the paths must be equal.
      if (at > 0 && at <= this.n && (this.paths[at - 1] as string) >= r[0]) at = 0;
      while (at < this.n && (this.paths[at] as string) < r[0]) at++;
      if (at < this.n && this.paths[at] === r[0]) this.set(at++, r);
      else this.dirty = true; // a file no longer listed: forgotten on the next save
    };
  }

  /** The format before 3: one JSON document. Read once so an upgrade costs no re-hash, then replaced. */
  private migrate(cacheDir: string, root: string): void {
    const old = oldFile(cacheDir, root);
    if (!existsSync(old)) return;
    const rows = takeOldRows(old, root);
    if (rows === undefined) this.clear(); // damaged: a re-hash, never a wrong answer
    else {
      const merge = this.merger();
      for (const r of rows) merge(r);
    }
    this.dirty = true;
  }

  private clear(): void {
    this.flags.fill(0);
    this.extra.clear();
    this.etags.clear();
    this.md5 = undefined;
  }

  private set(i: number, r: Row): void {
    this.keys[i * 4] = r[1];
    this.keys[i * 4 + 1] = r[2];
    this.keys[i * 4 + 2] = r[3];
    this.keys[i * 4 + 3] = r[4];
    let f = HAS_ROW;
    if (r[5]) {
      this.sha.write(r[5], i * 32, 'hex');
      f |= HAS_SHA;
    }
    if (r[6]) {
      (this.md5 ??= Buffer.alloc(this.n * 16)).write(r[6], i * 16, 'hex');
      f |= HAS_MD5;
    }
    if (r[7]) this.etags.set(i, [r[7], r[8]]);
    else this.etags.delete(i);
    this.flags[i] = f;
  }

  private rowAt(i: number): Row {
    const f = this.flags[i] as number;
    const e = this.etags.get(i);
    return [
      this.paths[i] as string, this.keys[i * 4] as number, this.keys[i * 4 + 1] as number, this.keys[i * 4 + 2] as number, this.keys[i * 4 + 3] as number,
      f & HAS_SHA ? this.sha.toString('hex', i * 32, i * 32 + 32) : '', f & HAS_MD5 && this.md5 ? this.md5.toString('hex', i * 16, i * 16 + 16) : '',
      e?.[0] ?? '', e?.[1] ?? 0,
    ];
  }

  /** The listing's index of `path`: lookups come in listing order, so the next slot is tried before a search. */
  private indexOf(path: string): number {
    if (!this.n) return -1;
    if (this.paths[this.cursor] === path) return this.cursor;
    if (this.paths[this.cursor + 1] === path) return ++this.cursor;
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = byteOrder(this.paths[mid] as string, path);
      if (c === 0) return (this.cursor = mid);
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The row whose key matches `keys[at * 4…]` ([size, mtimeMs, ctimeMs, ino]). */
  lookup(path: string, keys: Float64Array, at: number): Row | undefined {
    const i = this.indexOf(path);
    if (i < 0) {
      const r = this.extra.get(path);
      return r && rowHasKey(r, keys, at) ? r : undefined;
    }
    const k = this.keys;
    if (!((this.flags[i] as number) & HAS_ROW) || k[i * 4] !== keys[at * 4] || k[i * 4 + 1] !== keys[at * 4 + 1] || k[i * 4 + 2] !== keys[at * 4 + 2] || k[i * 4 + 3] !== keys[at * 4 + 3]) return undefined;
    return this.rowAt(i);
  }

  /** lookup's sha256 alone ('' when the row has none): no row is built (10k lookups built 10k rows to drop). */
  shaOf(path: string, keys: Float64Array, at: number): string | undefined {
    const i = this.indexOf(path);
    if (i < 0) return this.lookup(path, keys, at)?.[5];
    const k = this.keys;
    if (!((this.flags[i] as number) & HAS_ROW) || k[i * 4] !== keys[at * 4] || k[i * 4 + 1] !== keys[at * 4 + 1] || k[i * 4 + 2] !== keys[at * 4 + 2] || k[i * 4 + 3] !== keys[at * 4 + 3]) return undefined;
    return (this.flags[i] as number) & HAS_SHA ? this.sha.toString('hex', i * 32, i * 32 + 32) : '';
  }

  /** The slot holding a sha256 taken under exactly the key at `keys[at * 4…]`, else -1 (rows off the listing too: shaOf answers those). */
  shaSlot(path: string, keys: Float64Array, at: number): number {
    const i = this.indexOf(path);
    const k = this.keys;
    return i >= 0 && (this.flags[i] as number) & HAS_SHA && k[i * 4] === keys[at * 4] && k[i * 4 + 1] === keys[at * 4 + 1] && k[i * 4 + 2] === keys[at * 4 + 2] && k[i * 4 + 3] === keys[at * 4 + 3] ? i : -1;
  }

  /** put() of a sha256-only row from bytes (`digests[from…from + 32]`), keyed by `keys[at * 4…]`: no row or hex string built. */
  putSha(path: string, keys: Float64Array, at: number, digests: Uint8Array, from: number, scanStartMs: number): boolean {
    const i = this.indexOf(path);
    if (i < 0 || isRacy(keys[at * 4 + 1] as number, keys[at * 4 + 2] as number, scanStartMs)) {
      const hex = Buffer.from(digests.buffer, digests.byteOffset + from, 32).toString('hex');
      return this.put([path, keys[at * 4] as number, keys[at * 4 + 1] as number, keys[at * 4 + 2] as number, keys[at * 4 + 3] as number, hex, '', '', 0], scanStartMs);
    }
    // Element by element: a subarray per file (a Buffer's especially) cost more than the copy.
    for (let k = 0; k < 4; k++) this.keys[i * 4 + k] = keys[at * 4 + k] as number;
    for (let b = 0; b < 32; b++) this.sha[i * 32 + b] = digests[from + b] as number;
    if (this.etags.size) this.etags.delete(i);
    this.flags[i] = HAS_ROW | HAS_SHA;
    this.dirty = true;
    return true;
  }

  /** putSha into `to` of this cache's digest at `slot` (a destination file proved to hold the source's bytes). */
  copySha(slot: number, to: HashCache, path: string, keys: Float64Array, at: number, scanStartMs: number): boolean {
    return to.putSha(path, keys, at, this.sha, slot * 32, scanStartMs);
  }

  /** Remembers a row, unless its file changed too close to the scan to be trusted; says whether it did. */
  put(row: Row, scanStartMs: number): boolean {
    const i = this.indexOf(row[0]);
    if (isRacy(row[2], row[3], scanStartMs)) {
      if (i >= 0 && this.flags[i]) {
        this.flags[i] = 0;
        this.etags.delete(i);
        this.dirty = true;
      }
      if (this.extra.delete(row[0])) this.dirty = true;
      return false;
    }
    if (i >= 0) this.set(i, row);
    else this.extra.set(row[0], row);
    this.dirty = true;
    return true;
  }

  /** Forget paths no longer in the tree. */
  retain(files: readonly { readonly path: string }[]): void {
    let rows = this.extra.size;
    for (let i = 0; i < this.n; i++) if (this.flags[i]) rows++;
    if (files.length >= rows) {
      // Every row may still be a listed file: only rows outside the files need a look.
      if (!this.extra.size) return;
    }
    const paths = new Set(files.map((f) => f.path));
    for (const p of this.extra.keys()) {
      if (!paths.has(p)) {
        this.extra.delete(p);
        this.dirty = true;
      }
    }
    if (files.length >= this.n) return;
    for (let i = 0; i < this.n; i++) {
      if (this.flags[i] && !paths.has(this.paths[i] as string)) {
        this.flags[i] = 0;
        this.dirty = true;
      }
    }
  }

  /** Every row, in byte order of path (the listing's rows and the others merged). */
  private *rows(): Generator<Row> {
    const others = sortBytewise([...this.extra.keys()]);
    let o = 0;
    for (let i = 0; i < this.n; i++) {
      if (!this.flags[i]) continue;
      while (o < others.length && byteOrder(others[o] as string, this.paths[i] as string) < 0) yield this.extra.get(others[o++] as string) as Row;
      yield this.rowAt(i);
    }
    while (o < others.length) yield this.extra.get(others[o++] as string) as Row;
  }

  async save(root: string, warn?: Warn): Promise<void> {
    if (!this.file || !this.dirty) return;
    const file = this.file;
    await writeCacheFile(file, () => writeRows(file, root, this.rows()), warn);
    this.dirty = false;
  }
}

const oldFile = (cacheDir: string, root: string): string => join(cacheDir, `${treeKey(root)}.json`);
