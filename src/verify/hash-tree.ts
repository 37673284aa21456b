// A local tree's files with their digests, in byte order. Where a cache may answer, the tree is listed
// with stat keys first (stat-tree.ts), looked up, and only the rest hashed; where none can, the walk
// hands batches of 256 files to the pool's workers as it goes. Either way the per-file system calls
// run on two cores while this thread walks, looks up and takes results in.
import type { BatchError, BatchResult } from './batch.js';
import type { Row, Warn } from './cache-file.js';
import { rowHasKey } from './cache-key.js';
import { HashCache } from './hash-cache.js';
import type { Digests } from './hash-file.js';
import { BATCH, dispatch, failWith, statTree, walkInBatches, type StatListing } from './stat-tree.js';
import { sumsDigestOf } from './sums-file.js';
import { contentDigest, fingerprint, writeSummary } from './tree-summary.js';
import { etagKey } from './etag.js';

export { statTree, treeStats, walkTree, type StatListing, type TreeFile, type TreeStats } from './stat-tree.js';

/** Adds the bytes of content a batch read (its files' sizes) to `counter`. */
function count(r: BatchResult, counter: { bytes: number } | undefined): BatchResult {
  if (counter) for (let k = 0; k < r.keys.length; k += 4) if (!Number.isNaN(r.keys[k])) counter.bytes += r.keys[k] as number;
  return r;
}

export interface HashedFile extends Digests { readonly path: string; readonly size: number; readonly mtimeMs?: number }

export interface HashTreeOptions {
  readonly excludes?: readonly string[];
  readonly sha256?: boolean;
  readonly md5?: boolean;
  readonly etagPartSize?: number;
  /** aws-cli's multipart_threshold where it is not the part size. */
  readonly etagThreshold?: number;
  /** Each file's mtime (ms) beside its digests. */
  readonly mtime?: boolean;
  /** Where hashes are remembered between runs; none: hash everything. */
  readonly cacheDir?: string;
  /** Only stat, hash nothing (verify: size). */
  readonly statOnly?: boolean;
  /** Also remember the whole tree's digests (tree-summary.ts), so an unchanged pair compares in one step. */
  readonly summary?: boolean;
  /** Counts the bytes of content read (a cache that answers reads none): `check -v` shows it. */
  readonly hashed?: { bytes: number };
  /** Told when a cache cannot be saved (the scan's answer stands; the next scan costs more). */
  readonly warn?: Warn;
  /** A full check (bit rot): every file read again, the cache answering none; what is read is remembered. */
  readonly fresh?: boolean;
}

/** One batch's worth of files as they come back: keys and digests by index. */
interface Chunk {
  readonly paths: readonly string[];
  readonly keys: Float64Array;
  readonly sha256: string[];
  readonly md5: string[];
  readonly etag: string[];
  readonly errors: BatchError[];
  /** 1 for each file hashed in this run (to remember); all of them when no cache could answer. */
  readonly fresh: Uint8Array | 'all';
  /** What the cache already knew of a file hashed again for a digest it lacked (kept beside the new one). */
  readonly known: Map<number, Row>;
}

function covers(r: Row, o: HashTreeOptions): boolean {
  return (!o.sha256 || Boolean(r[5])) && (!o.md5 || Boolean(r[6])) && (!o.etagPartSize || (Boolean(r[7]) && r[8] === etagKey(r[1], o.etagPartSize, o.etagThreshold)));
}

export async function hashTree(root: string, o: HashTreeOptions, listed?: StatListing): Promise<HashedFile[]> {
  if (o.statOnly) {
    const l = listed ?? (await statTree(root, o.excludes ?? []));
    return l.paths.map((path, i) => ({ path, size: l.keys[i * 4] as number }));
  }
  const scanStartMs = Date.now();
  const want = { sha256: Boolean(o.sha256), md5: Boolean(o.md5), ...(o.etagPartSize ? { etagPartSize: o.etagPartSize } : {}), ...(o.etagThreshold ? { etagThreshold: o.etagThreshold } : {}) };
  const hash = (paths: string[], only: boolean): Promise<BatchResult> => dispatch({ op: 'hash', root, paths, ...want }, only).then((r) => count(r, o.hashed));
  let cache: HashCache | undefined;
  let list = listed;
  // Opened once the listing is known: the file is merged into it as it streams in (hash-cache.ts).
  const cached = (): HashCache => (cache ??= HashCache.open(o.cacheDir, root, { ...(list ? { listing: list } : {}), ...(o.warn ? { warn: o.warn } : {}) }));

  // Looks up a listed chunk in the cache; the files it cannot answer for are hashed next.
  const lookupThenHash = async (paths: readonly string[], keys: Float64Array, only: boolean): Promise<Chunk> => {
    const chunk: Chunk = { paths, keys, sha256: [], md5: [], etag: [], errors: [], fresh: new Uint8Array(paths.length), known: new Map() };
    const misses: number[] = [];
    paths.forEach((path, i) => {
      const row = cached().lookup(path, keys, i);
      if (row && covers(row, o) && !o.fresh) {
        chunk.sha256[i] = row[5];
        chunk.md5[i] = row[6];
        chunk.etag[i] = row[7];
        return;
      }
      misses.push(i);
      if (row) chunk.known.set(i, row);
    });
    if (!misses.length) return chunk;
    const r = await hash(misses.map((i) => paths[i] as string), only);
    misses.forEach((i, k) => {
      keys.set(r.keys.subarray(k * 4, k * 4 + 4), i * 4); // as read: a file changed since the listing is remembered as it is now
      chunk.sha256[i] = r.sha256?.[k] ?? '';
      chunk.md5[i] = r.md5?.[k] ?? '';
      chunk.etag[i] = r.etag?.[k] ?? '';
      (chunk.fresh as Uint8Array)[i] = 1;
    });
    for (const [k, code, message] of r.errors) chunk.errors.push([misses[k] as number, code, message]);
    return chunk;
  };

  // A cache that may answer: list with stat keys first (find, or the workers), then look up, then hash the rest.
  if (!list && o.cacheDir && HashCache.exists(o.cacheDir, root)) list = await statTree(root, o.excludes);
  let pending: Promise<Chunk>[];
  if (list) {
    pending = [];
    for (let at = 0; at < list.paths.length; at += BATCH) {
      const end = Math.min(at + BATCH, list.paths.length);
      pending.push(lookupThenHash(list.paths.slice(at, end), list.keys.slice(at * 4, end * 4), list.paths.length <= BATCH));
    }
  } else {
    // Nothing to look up: hash as the walk goes, each file's key read from the descriptor it was hashed from.
    pending = walkInBatches(root, o.excludes ?? [], (paths, only) =>
      hash(paths, only).then((r): Chunk => ({ paths, keys: r.keys, sha256: r.sha256 ?? [], md5: r.md5 ?? [], etag: r.etag ?? [], errors: r.errors, fresh: 'all', known: new Map() })));
  }
  cached(); // parsed while the workers are busy with the batches just handed out (before any lookup runs)
  const shaOnly = Boolean(o.sha256) && !o.md5 && !o.etagPartSize && !o.mtime;
  // Each chunk is taken in as it comes back, while the workers go on with the next ones.
  const parts = await Promise.all(pending.map((p) => p.then((chunk) => absorb(root, o, chunk, cached(), scanStartMs, shaOnly))));
  const out = parts.length === 1 ? (parts[0] as Absorbed).files : parts.flatMap((p) => p.files);
  if (o.cacheDir) {
    const c = cached();
    c.retain(out);
    await c.save(root, o.warn);
    if (o.summary && o.sha256) {
      const remembered = parts.every((p) => p.remembered);
      const keys = Float64Array.from(parts.flatMap((p) => p.keys));
      const paths = out.map((f) => f.path);
      // The sums digest too: a push that later recognises the tree writes its receipt without loading a cache.
      const sums = sumsDigestOf(paths, (i) => out[i]?.sha256);
      await writeSummary(o.cacheDir, root, remembered ? { fingerprint: fingerprint(paths, keys), sha256: contentDigest(out), files: out.length, ...(sums ? { sums } : {}) } : undefined, o.warn);
    }
  }
  return out;
}

interface Absorbed { readonly files: HashedFile[]; readonly keys: number[]; readonly remembered: boolean }

/** One chunk's files as the caller sees them; what was hashed is remembered (unless racy). */
function absorb(root: string, o: HashTreeOptions, c: Chunk, cache: HashCache, scanStartMs: number, shaOnly: boolean): Absorbed {
  failWith(root, c.paths, c.errors);
  const files: HashedFile[] = [];
  const keys: number[] = [];
  let remembered = c.errors.length === 0; // else files vanished during the scan
  const k = c.keys;
  c.paths.forEach((path, i) => {
    const size = k[i * 4] as number;
    if (Number.isNaN(size)) return;
    const sha256 = c.sha256[i] as string;
    // One object shape per kind of run: building each from spreads cost more than hashing a small file.
    files.push(shaOnly ? { path, size, sha256 } : {
      path, size, ...(o.mtime ? { mtimeMs: k[i * 4 + 1] as number } : {}), ...(o.sha256 ? { sha256 } : {}), ...(o.md5 ? { md5: c.md5[i] as string } : {}), ...(o.etagPartSize ? { etag: c.etag[i] as string } : {}),
    });
    if (o.summary) keys.push(size, k[i * 4 + 1] as number, k[i * 4 + 2] as number, k[i * 4 + 3] as number);
    if (!o.cacheDir || (c.fresh !== 'all' && !c.fresh[i])) return;
    // Keep what was already known of the very same file (sha256 from an earlier run) beside what was just computed.
    const was = c.known.get(i);
    const same = was !== undefined && rowHasKey(was, k, i);
    const row: Row = [
      path, size, k[i * 4 + 1] as number, k[i * 4 + 2] as number, k[i * 4 + 3] as number,
      sha256 || (same ? was[5] : ''), c.md5[i] || (same ? was[6] : ''), c.etag[i] || (same ? was[7] : ''), o.etagPartSize ? etagKey(size, o.etagPartSize, o.etagThreshold) : same ? was[8] : 0,
    ];
    if (!cache.put(row, scanStartMs)) remembered = false;
  });
  return { files, keys, remembered };
}
