// A local tree's files with their digests: walked by lstat, cached, hashed in parallel where needed.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileExcludes } from './glob.js';
import { HashCache, type CacheEntry } from './hash-cache.js';
import type { Digests } from './hash-file.js';
import { hashMany } from './hash-pool.js';

export interface HashedFile extends Digests { readonly path: string; readonly size: number }

export interface HashTreeOptions {
  readonly excludes?: readonly string[];
  readonly sha256?: boolean;
  readonly md5?: boolean;
  readonly etagPartSize?: number;
  /** Where hashes are remembered between runs; none: hash everything. */
  readonly cacheDir?: string;
}

export interface TreeFile { readonly path: string; readonly size: number; readonly mtimeNs: string; readonly ctimeNs: string; readonly ino: string }

/** Regular files only, by lstat: symlinks are never followed, so no loop and nothing outside the tree. */
export function walkTree(root: string, excludes: readonly string[] = []): TreeFile[] {
  const matcher = compileExcludes(excludes);
  const out: TreeFile[] = [];
  const visit = (dir: string, rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && rel === '') return;
      throw error;
    }
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const s = lstatSync(join(dir, name), { bigint: true });
      if (s.isDirectory()) {
        if (!matcher.excludes(path, true)) visit(join(dir, name), path);
      } else if (s.isFile() && !matcher.excludes(path, false)) {
        out.push({ path, size: Number(s.size), mtimeNs: s.mtimeNs.toString(), ctimeNs: s.ctimeNs.toString(), ino: s.ino.toString() });
      }
    }
  };
  visit(root, '');
  return out.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

function covers(entry: CacheEntry, o: HashTreeOptions): boolean {
  return (!o.sha256 || Boolean(entry.sha256)) && (!o.md5 || Boolean(entry.md5)) && (!o.etagPartSize || (Boolean(entry.etag) && entry.etagPartSize === o.etagPartSize));
}

export async function hashTree(root: string, options: HashTreeOptions): Promise<HashedFile[]> {
  const scanStartNs = BigInt(Date.now()) * 1_000_000n;
  const files = walkTree(root, options.excludes);
  const cache = HashCache.open(options.cacheDir, root);
  const out: HashedFile[] = new Array(files.length);
  const todo: number[] = [];
  const hits = files.map((f) => cache.get(f.path, f));
  files.forEach((f, i) => {
    const hit = hits[i];
    if (hit && covers(hit, options)) out[i] = { path: f.path, size: f.size, ...pick(hit) };
    else todo.push(i);
  });
  const results = await hashMany(todo.map((i) => ({
    path: join(root, (files[i] as TreeFile).path),
    sha256: Boolean(options.sha256),
    md5: Boolean(options.md5),
    ...(options.etagPartSize ? { etagPartSize: options.etagPartSize } : {}),
  })));
  results.forEach((r, j) => {
    const i = todo[j] as number;
    const f = files[i] as TreeFile;
    if (!r.ok) throw new Error(`cannot read ${join(root, f.path)}: ${r.error}`);
    out[i] = { path: f.path, size: f.size, ...r.digests };
    const { path: _p, ...key } = f;
    // Keep what was already known (sha256 from an earlier run) beside what was just computed (md5).
    const known = hits[i] ? pick(hits[i] as CacheEntry) : {};
    cache.set(f.path, { ...key, ...known, ...r.digests, ...(options.etagPartSize ? { etagPartSize: options.etagPartSize } : {}) }, scanStartNs);
  });
  cache.retain(new Set(files.map((f) => f.path)));
  await cache.save(root);
  return out;
}

function pick(e: CacheEntry): Digests {
  return { ...(e.sha256 ? { sha256: e.sha256 } : {}), ...(e.md5 ? { md5: e.md5 } : {}), ...(e.etag ? { etag: e.etag } : {}) };
}
