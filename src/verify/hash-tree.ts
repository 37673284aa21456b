// A local tree's files with their digests: walked (lstat only where the cache needs it), remembered
// hashes reused, the rest hashed on worker threads while the walk goes on.
import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { compileExcludes } from './glob.js';
import { HashCache, type CacheEntry } from './hash-cache.js';
import type { Digests } from './hash-file.js';
import { HashPool, type HashResult } from './hash-pool.js';

export interface HashedFile extends Digests { readonly path: string; readonly size: number }

export interface HashTreeOptions {
  readonly excludes?: readonly string[];
  readonly sha256?: boolean;
  readonly md5?: boolean;
  readonly etagPartSize?: number;
  /** Where hashes are remembered between runs; none: hash everything (and skip the lstat calls). */
  readonly cacheDir?: string;
  /** Only stat, hash nothing (verify: size). */
  readonly statOnly?: boolean;
}

export interface TreeFile { readonly path: string; readonly size: number; readonly mtimeMs: number; readonly ctimeMs: number; readonly ino: number }

const SURROGATE_OR_HIGH = /[\uD800-\uFFFF]/;
/** Byte order of UTF-8, as `LC_ALL=C sort` and coreutils list files (UTF-16 order differs only past U+D7FF). */
export function byteOrder(a: string, b: string): number {
  if (SURROGATE_OR_HIGH.test(a) || SURROGATE_OR_HIGH.test(b)) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts by path in byte order, testing each path once rather than at every comparison. */
export function sortByPath<T extends { readonly path: string }>(items: T[]): T[] {
  if (!items.some((i) => SURROGATE_OR_HIGH.test(i.path))) return items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return items.sort((a, b) => byteOrder(a.path, b.path));
}

/**
 * Visits regular files folder by folder. Symlinks are never followed (so no loop, nothing outside the
 * tree); with `stat`, each file is lstat-ed for the cache key, else the folder listing's types suffice.
 */
function walk(root: string, excludes: readonly string[], stat: boolean, onFolder: (files: TreeFile[]) => void): void {
  const matcher = compileExcludes(excludes);
  const visit = (dir: string, rel: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && rel === '') return;
      throw error;
    }
    const files: TreeFile[] = [];
    const folders: [string, string][] = [];
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!matcher.excludes(path, true)) folders.push([join(dir, e.name), path]);
      } else if (e.isFile() && !matcher.excludes(path, false)) {
        if (!stat) files.push({ path, size: -1, mtimeMs: 0, ctimeMs: 0, ino: 0 });
        else {
          const s = lstatSync(join(dir, e.name));
          files.push({ path, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino });
        }
      }
    }
    if (files.length) onFolder(files);
    for (const [abs, path] of folders) visit(abs, path);
  };
  visit(root, '');
}

/** Every regular file under `root` with its stat key, in byte order. */
export function walkTree(root: string, excludes: readonly string[] = []): TreeFile[] {
  const out: TreeFile[] = [];
  walk(root, excludes, true, (files) => out.push(...files));
  return sortByPath(out);
}

function covers(e: CacheEntry, o: HashTreeOptions): boolean {
  return (!o.sha256 || Boolean(e.sha256)) && (!o.md5 || Boolean(e.md5)) && (!o.etagPartSize || (Boolean(e.etag) && e.etagPartSize === o.etagPartSize));
}

function digestsOf(e: CacheEntry): Digests {
  return { ...(e.sha256 ? { sha256: e.sha256 } : {}), ...(e.md5 ? { md5: e.md5 } : {}), ...(e.etag ? { etag: e.etag } : {}) };
}

export async function hashTree(root: string, o: HashTreeOptions): Promise<HashedFile[]> {
  if (o.statOnly) return walkTree(root, o.excludes).map((f) => ({ path: f.path, size: f.size }));
  const scanStartMs = Date.now();
  const cache = HashCache.open(o.cacheDir, root);
  // Started at the first file that needs hashing: a warm re-check never pays for booting workers.
  let pool: HashPool | undefined;
  const out: HashedFile[] = [];
  const work: Promise<void>[] = [];
  const seen = new Set<string>();
  try {
    walk(root, o.excludes ?? [], Boolean(o.cacheDir), (files) => {
      const misses: { file: TreeFile; known?: CacheEntry }[] = [];
      const shaOnly = o.sha256 && !o.md5 && !o.etagPartSize;
      for (const file of files) {
        seen.add(file.path);
        const sha = shaOnly && o.cacheDir ? cache.sha256(file.path, file) : undefined;
        if (sha) {
          out.push({ path: file.path, size: file.size, sha256: sha });
          continue;
        }
        const hit = o.cacheDir ? cache.get(file.path, file) : undefined;
        if (hit && covers(hit, o)) out.push({ path: file.path, size: file.size, ...digestsOf(hit) });
        else misses.push({ file, ...(hit ? { known: hit } : {}) });
      }
      if (!misses.length) return;
      const requests = misses.map(({ file }) => ({
        path: join(root, file.path), sha256: Boolean(o.sha256), md5: Boolean(o.md5), ...(o.etagPartSize ? { etagPartSize: o.etagPartSize } : {}),
      }));
      pool ??= HashPool.start();
      work.push(pool.hash(requests).then((results: HashResult[]) => {
        results.forEach((r, i) => {
          const { file, known } = misses[i] as { file: TreeFile; known?: CacheEntry };
          if (!r.ok) throw new Error(`cannot read ${join(root, file.path)}: ${r.error}`);
          out.push({ path: file.path, size: file.size, ...r.digests });
          if (!o.cacheDir) return;
          // Keep what was already known (sha256 from an earlier run) beside what was just computed (md5).
          const { path: _p, ...key } = file;
          cache.set(file.path, { ...key, ...(known ? digestsOf(known) : {}), ...r.digests, ...(o.etagPartSize ? { etagPartSize: o.etagPartSize } : {}) }, scanStartMs);
        });
      }));
    });
    await Promise.all(work);
  } finally {
    await pool?.close();
  }
  cache.retain(seen);
  await cache.save(root);
  return sortByPath(out);
}
