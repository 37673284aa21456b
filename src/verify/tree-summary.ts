// A whole tree remembered as two digests: a fingerprint of every file's path and stat key, and a
// digest of every file's path, size and sha256. When a re-scan's fingerprint is the remembered one,
// every file has the key it had when it was hashed, so (by the same rule the per-file cache trusts)
// the content digest still holds, and two trees whose content digests match hold the same bytes,
// without loading either cache. Only written when every file was remembered (none racy, none unreadable).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeCacheFile, type Warn } from './cache-file.js';
import { treeKey } from './cache-key.js';
import type { TreeStats } from './stat-tree.js';
import { sumsDigestOf } from './sums-file.js';
import type { RacyRow } from './cache-update.js';
import { unkeptChangeTimes } from './mount-types.js';

const VERSION = 1;

export interface TreeSummary {
  readonly fingerprint: string;
  readonly sha256: string;
  readonly files: number;
  /** The raw digest of a find listing already seen to match `fingerprint` (stat-tree.ts TreeStats.rawDigest). */
  readonly listing?: string;
  /** The digest of the tree's `labsync sums` list (a receipt's sumsDigest), so a recognised tree needs no hashes loaded. */
  readonly sums?: string;
  /**
   * Listed files hashed too soon after they changed to be kept in the hash cache, with the sha256 read:
   * in the digests above, and compared again by the next run (listing-file.ts, engine/incremental.ts).
   */
  readonly racy?: readonly RacyRow[];
  /**
   * The stat key [size, mtimeMs, ctimeMs, ino] of the hash cache file written with this summary: while
   * the file has it, it holds exactly the rows summed up, and is not checked against `sha256` again.
   */
  readonly cacheKey?: readonly number[];
}

/** Hash of the file list and their [size, mtimeMs, ctimeMs, ino] keys, in list order. */
export function fingerprint(paths: readonly string[], keys: Float64Array): string {
  return createHash('sha256').update(paths.join('\0')).update(new Uint8Array(keys.buffer, keys.byteOffset, keys.byteLength)).digest('hex');
}

/** Hash of what a checksum comparison looks at: each file's path, size and sha256, in list order. */
export function contentDigest(files: readonly { readonly path: string; readonly size: number; readonly sha256?: string }[]): string {
  const h = createHash('sha256');
  let text = '';
  for (const f of files) {
    text += `${f.path}\0${f.size}\0${f.sha256 ?? ''}\n`;
    if (text.length > 1 << 20) {
      h.update(text);
      text = '';
    }
  }
  return h.update(text).digest('hex');
}

/**
 * A listed tree's summary from each file's sha256 as remembered for its listed key (`shaAt`); undefined
 * when any file has none (racy, or not hashed), since a summary must vouch for every file.
 */
export function summarise(paths: readonly string[], keys: Float64Array, shaAt: (i: number) => string | undefined, listing?: string): TreeSummary | undefined {
  const content = createHash('sha256');
  let text = '';
  for (let i = 0; i < paths.length; i++) {
    const sha = shaAt(i);
    if (!sha) return undefined;
    text += `${paths[i]}\0${keys[i * 4]}\0${sha}\n`;
    if (text.length > 1 << 20) {
      content.update(text);
      text = '';
    }
  }
  const sums = sumsDigestOf(paths, shaAt) as string;
  return { fingerprint: fingerprint(paths, keys), sha256: content.update(text).digest('hex'), files: paths.length, ...(listing ? { listing } : {}), sums };
}

const racyRow = (r: unknown): r is RacyRow => {
  const x = r as Partial<RacyRow> | null;
  return typeof x?.path === 'string' && typeof x.size === 'number' && typeof x.sha256 === 'string';
};

const fileFor = (cacheDir: string, root: string): string => join(cacheDir, `${treeKey(root)}.tree.json`);

export const hasSummary = (cacheDir: string, root: string): boolean => existsSync(fileFor(cacheDir, root));

export function readSummary(cacheDir: string, root: string): TreeSummary | undefined {
  try {
    const doc = JSON.parse(readFileSync(fileFor(cacheDir, root), 'utf8')) as Partial<TreeSummary> & { version?: number; root?: string };
    if (doc.version !== VERSION || doc.root !== root || typeof doc.fingerprint !== 'string' || typeof doc.sha256 !== 'string' || typeof doc.files !== 'number') return undefined;
    return {
      fingerprint: doc.fingerprint, sha256: doc.sha256, files: doc.files,
      ...(typeof doc.listing === 'string' ? { listing: doc.listing } : {}), ...(typeof doc.sums === 'string' ? { sums: doc.sums } : {}),
      ...(Array.isArray(doc.racy) && doc.racy.length ? { racy: doc.racy.filter(racyRow) } : {}),
      ...(Array.isArray(doc.cacheKey) && doc.cacheKey.length === 4 && doc.cacheKey.every((n) => typeof n === 'number') ? { cacheKey: doc.cacheKey } : {}),
    };
  } catch {
    return undefined; // absent or damaged: the full comparison runs
  }
}

export async function writeSummary(cacheDir: string, root: string, s: TreeSummary | undefined, warn?: Warn): Promise<void> {
  const file = fileFor(cacheDir, root);
  if (s) return writeCacheFile(file, JSON.stringify({ version: VERSION, root, ...s }), warn);
  // A tree that could not be summed up must not answer with an old summary. One that cannot be removed
  // is still safe: its fingerprint holds the old stat keys, which the changed tree no longer has.
  try {
    rmSync(file, { force: true });
  } catch (error) {
    // ENOTDIR: no cache folder, so no summary in it to remove.
    if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') warn?.(`could not remove the tree summary ${file} (${(error as Error).message})`);
  }
}

/**
 * The remembered summary of a tree whose every file has the stat key it had when the tree was
 * summed up; undefined when anything differs. A find listing byte-identical to one already recognised
 * answers without being parsed; one recognised by its parsed keys is remembered for next time.
 */
export async function recognise(stats: TreeStats, cacheDir: string, warn?: Warn): Promise<TreeSummary | undefined> {
  // Where change times prove nothing, the same keys do not mean the same content (mount-types.ts).
  if (unkeptChangeTimes(stats.mounts)) return undefined;
  const s = readSummary(cacheDir, stats.root);
  // Racy files are compared again before the tree counts as unchanged (engine/incremental.ts).
  if (!s || s.racy) return undefined;
  if (stats.rawDigest && s.listing === stats.rawDigest) return s;
  // Listed by find, and not as then: the records that changed are found without parsing (engine/incremental.ts).
  // (Parsing here only recognised a tree whose excluded files or listing order alone changed.)
  if (stats.rawDigest && s.listing) return undefined;
  const l = stats.listing();
  if (s.files !== l.paths.length || s.fingerprint !== fingerprint(l.paths, l.keys)) return undefined;
  if (stats.rawDigest) await writeSummary(cacheDir, stats.root, { ...s, listing: stats.rawDigest }, warn);
  return s;
}
