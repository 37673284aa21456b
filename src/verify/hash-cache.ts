// Hashes remembered by (size, mtime, ctime, inode), so an unchanged tree re-verifies with stats alone.
// Times are kept as float milliseconds (sub-microsecond resolution at today's epoch) rather than
// BigInt nanoseconds: measured here, BigInt stats cost 20% more per lstat and far more in GC.
// What a row is keyed by, and when it is too fresh to keep: cache-key.ts.
// Memory: opened with the tree's listing (sorted, as the file is), the file is streamed and merged into
// typed arrays beside the listing (cache-slots.ts); rows for paths not listed are dropped. Without a
// listing, rows go into a map (small trees, other callers).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readRows, writeRows, writeCacheFile, type ReadStats, type Row, type Warn } from './cache-file.js';
import { isRacy, rowHasKey, treeKey } from './cache-key.js';
import { treeMounts, unkeptChangeTimes } from './mount-types.js';
import { takeOldRows } from './cache-old.js';
import { ListedRows, type Listed } from './cache-slots.js';
import { byteOrder, sortBytewise } from './walk.js';
import { work } from './work-count.js';

export interface OpenOptions {
  readonly listing?: Listed;
  /** Told when a damaged cache file is thrown away. */
  readonly warn?: Warn;
  /** Counts the reads of the file (tests: the file is streamed, not slurped). */
  readonly stats?: ReadStats;
}

export class HashCache {
  private dirty = false;
  private readonly slots: ListedRows;
  /** Rows for paths outside the listing (or all rows, when opened without one). */
  private readonly extra = new Map<string, Row>();

  private constructor(private readonly file: string | undefined, listing: Listed | undefined) {
    this.slots = new ListedRows(listing);
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
    const unkept = unkeptOnce(root, o.warn);
    // Where change times prove nothing, a remembered hash is never trusted: the run hashes what it
    // needs, in memory only (and a cache left by an earlier labsync is not read).
    if (unkept) return new HashCache(undefined, o.listing);
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
    cache.slots.rewind();
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
    const from = this.slots;
    const to = next.slots;
    for (let i = 0; i < from.n; i++) {
      if (!from.has(i)) continue;
      const j = to.indexOf(from.paths[i] as string);
      if (j < 0) {
        next.dirty = true;
        continue;
      }
      to.copy(from, i, j);
    }
    for (const r of this.extra.values()) {
      const j = to.n ? to.indexOf(r[0]) : -1;
      if (j >= 0) to.set(j, r);
      else if (to.n) next.dirty = true;
      else next.extra.set(r[0], r);
    }
    to.rewind();
    return next;
  }

  /** Takes rows in file order, lining them up with the listing as both go (both are in byte order). */
  private merger(): (r: Row) => void {
    let at = 0;
    const { n, paths } = this.slots;
    return (r) => {
      work.cacheRows++;
      if (!n) return void this.extra.set(r[0], r);
      // A row out of order (a file not written by labsync) is looked up, never misplaced. UTF-16 order
      // (plain <) differs from byte order only past U+D7FF: there a row may be missed (a re-hash),
      // never attached to another path, since the paths must be equal.
      if (at > 0 && at <= n && (paths[at - 1] as string) >= r[0]) at = 0;
      while (at < n && (paths[at] as string) < r[0]) at++;
      if (at < n && paths[at] === r[0]) this.slots.set(at++, r);
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
    this.slots.clear();
    this.extra.clear();
  }

  /** The row whose key matches `keys[at * 4…]` ([size, mtimeMs, ctimeMs, ino]). */
  lookup(path: string, keys: Float64Array, at: number): Row | undefined {
    const i = this.slots.indexOf(path);
    if (i < 0) {
      const r = this.extra.get(path);
      return r && rowHasKey(r, keys, at) ? r : undefined;
    }
    return this.slots.matches(i, keys, at) ? this.slots.rowAt(i) : undefined;
  }

  /** lookup's sha256 alone ('' when the row has none): no row is built (10k lookups built 10k rows to drop). */
  shaOf(path: string, keys: Float64Array, at: number): string | undefined {
    const i = this.slots.indexOf(path);
    if (i < 0) return this.lookup(path, keys, at)?.[5];
    return this.slots.matches(i, keys, at) ? this.slots.shaAt(i) : undefined;
  }

  /** The slot holding a sha256 taken under exactly the key at `keys[at * 4…]`, else -1 (rows off the listing too: shaOf answers those). */
  shaSlot(path: string, keys: Float64Array, at: number): number {
    const i = this.slots.indexOf(path);
    return i >= 0 && this.slots.hasShaFor(i, keys, at) ? i : -1;
  }

  /** put() of a sha256-only row from bytes (`digests[from…from + 32]`), keyed by `keys[at * 4…]`: no row or hex string built. */
  putSha(path: string, keys: Float64Array, at: number, digests: Uint8Array, from: number, scanStartMs: number): boolean {
    const i = this.slots.indexOf(path);
    // Too fresh to trust (every copy a first push just wrote): forgotten as put() would, without the
    // hex string and row put() would only drop (50k of each in a 50k-file first push's verify).
    if (isRacy(keys[at * 4 + 1] as number, keys[at * 4 + 2] as number, scanStartMs)) return this.dropRacy(path, i);
    if (i < 0) {
      const hex = Buffer.from(digests.buffer, digests.byteOffset + from, 32).toString('hex');
      return this.put([path, keys[at * 4] as number, keys[at * 4 + 1] as number, keys[at * 4 + 2] as number, keys[at * 4 + 3] as number, hex, '', '', 0], scanStartMs);
    }
    this.slots.setSha(i, keys, at, digests, from);
    this.dirty = true;
    return true;
  }

  /** putSha into `to` of this cache's digest at `slot` (a destination file proved to hold the source's bytes). */
  copySha(slot: number, to: HashCache, path: string, keys: Float64Array, at: number, scanStartMs: number): boolean {
    return to.putSha(path, keys, at, this.slots.shaBytes(), slot * 32, scanStartMs);
  }

  /** Remembers a row, unless its file changed too close to the scan to be trusted; says whether it did. */
  put(row: Row, scanStartMs: number): boolean {
    const i = this.slots.indexOf(row[0]);
    if (isRacy(row[2], row[3], scanStartMs)) return this.dropRacy(row[0], i);
    if (i >= 0) this.slots.set(i, row);
    else this.extra.set(row[0], row);
    this.dirty = true;
    return true;
  }

  /** What a racy file leaves: no row for it (its slot `i`, or among the others); false: nothing remembered. */
  private dropRacy(path: string, i: number): false {
    if (i >= 0 && this.slots.has(i)) {
      this.slots.forget(i);
      this.dirty = true;
    }
    if (this.extra.delete(path)) this.dirty = true;
    return false;
  }

  /** Forget paths no longer in the tree. */
  retain(files: readonly { readonly path: string }[]): void {
    this.retainPaths(files.map((f) => f.path));
  }

  /** retain() by the paths alone (a listing's own array: no object per file). */
  retainPaths(files: readonly string[]): void {
    const rows = this.extra.size + this.slots.count();
    if (files.length >= rows) {
      // Every row may still be a listed file: only rows outside the files need a look.
      if (!this.extra.size) return;
    }
    const paths = new Set(files);
    for (const p of this.extra.keys()) {
      if (!paths.has(p)) {
        this.extra.delete(p);
        this.dirty = true;
      }
    }
    const s = this.slots;
    if (files.length >= s.n) return;
    for (let i = 0; i < s.n; i++) {
      if (s.has(i) && !paths.has(s.paths[i] as string)) {
        s.forget(i);
        this.dirty = true;
      }
    }
  }

  /** Every row, in byte order of path (the listing's rows and the others merged). */
  private *rows(): Generator<Row> {
    const others = sortBytewise([...this.extra.keys()]);
    const s = this.slots;
    let o = 0;
    for (let i = 0; i < s.n; i++) {
      if (!s.has(i)) continue;
      while (o < others.length && byteOrder(others[o] as string, s.paths[i] as string) < 0) yield this.extra.get(others[o++] as string) as Row;
      yield s.rowAt(i);
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

const unkeptSaid = new Set<string>();

/**
 * The file system type under `root` that keeps no change times, asked at each open: a watch lives for
 * days, and its `latest` link may move to an sshfs or exFAT folder, or a disk be mounted on the folder
 * (review 53: a verdict kept per root string went on trusting the cache there). Said once per root and mounts.
 */
function unkeptOnce(root: string, warn: Warn | undefined): string | undefined {
  const mounts = treeMounts(root);
  const type = unkeptChangeTimes(mounts);
  const said = `${root}\n${mounts ?? ''}`;
  if (type && !unkeptSaid.has(said)) {
    unkeptSaid.add(said);
    warn?.(`${root} is on ${type}, where a rewrite that keeps a file's size and mtime (cp -p, rsync -a, a restore) leaves its stat key as it was: no hash is remembered for it, so each checksum verify reads it whole (verify: size compares sizes and times only, as rsync does)`);
  }
  return type;
}
