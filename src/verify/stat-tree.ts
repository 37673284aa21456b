// A tree's regular files with their stat keys, without reading content: from GNU find where it works
// (find-list.ts), else from lstat calls on the hash workers while this thread walks.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync } from 'node:fs';
import { readOutput } from '../exec/run.js';
import { vanished, type Batch, type BatchError, type BatchResult } from './batch.js';
import { countLinks, findArgv, parseFindListing } from './find-list.js';
import { runHere, sharedPool } from './hash-pool.js';
import { assertAddressable, walkFiles } from './walk.js';

/** A tree's files in byte order with their [size, mtimeMs, ctimeMs, ino] keys. */
export interface StatListing { readonly root: string; readonly paths: readonly string[]; readonly keys: Float64Array }

export interface TreeFile { readonly path: string; readonly size: number; readonly mtimeMs: number; readonly ctimeMs: number; readonly ino: number }

export const BATCH = 256;

/** A tree of one small batch is done here before a worker could take it (they may still be booting). */
export const dispatch = (batch: Batch, only: boolean): Promise<BatchResult> => (only ? runHere(batch) : sharedPool().run(batch));

/** Walks `root`, calling `send` per batch of paths while the walk goes on. */
export function walkInBatches<T>(root: string, excludes: readonly string[], send: (paths: string[], only: boolean) => T): T[] {
  const out: T[] = [];
  let batch: string[] = [];
  walkFiles(root, excludes, (path) => {
    batch.push(path);
    if (batch.length === BATCH) {
      out.push(send(batch, false));
      batch = [];
    }
  });
  if (batch.length) out.push(send(batch, out.length === 0));
  return out;
}

/** Throws for the first file that is there but could not be read (a file gone meanwhile is not an error). */
export function failWith(root: string, paths: readonly string[], errors: readonly BatchError[]): void {
  const e = errors.find((x) => !vanished(x));
  if (e) throw new Error(`cannot read ${root}/${paths[e[0]]}: ${e[2]}`);
}

/** The listing from lstat calls on the workers (find's fallback, and the reference it is tested against). */
export async function poolStatTree(root: string, excludes: readonly string[] = []): Promise<StatListing> {
  const parts = await Promise.all(walkInBatches(root, excludes, (paths, only) => dispatch({ op: 'stat', root, paths }, only).then((r) => ({ paths, r }))));
  const paths: string[] = [];
  const keys: number[] = [];
  for (const { paths: batch, r } of parts) {
    failWith(root, batch, r.errors);
    batch.forEach((p, i) => {
      if (Number.isNaN(r.keys[i * 4])) return; // gone since the listing
      paths.push(p);
      for (let k = 0; k < 4; k++) keys.push(r.keys[i * 4 + k] as number);
    });
  }
  return { root, paths, keys: Float64Array.from(keys) };
}

let findWorks = process.env.LABSYNC_FIND !== '0';

/** A tree's stat keys as found; from find, also a digest of its raw listing (which a summary can recognise unparsed). */
export interface TreeStats {
  readonly root: string;
  /** sha256 of the excludes and find's raw output: the same digest means the same files with the same keys. */
  readonly rawDigest?: string;
  /** Symlinks in the tree (those find saw: not in folders pruned by an exclude); undefined: not known (no find). */
  readonly links?: number;
  /** The listing, parsed on first use. */
  listing(): StatListing;
}

/** find's raw listing, or undefined where find cannot give it (not GNU find, or a failure it reports). */
async function findRaw(root: string, excludes: readonly string[]): Promise<Buffer | undefined> {
  if (!existsSync(root)) return Buffer.alloc(0);
  let r: Awaited<ReturnType<typeof readOutput>>;
  try {
    r = await readOutput(findArgv(excludes, { links: true }), root);
  } catch {
    return undefined; // no room for find's listing (an unwritable TMPDIR): the workers list the tree instead
  }
  if (r.exitCode === 0) return r.stdout;
  // No find, or one without -printf (BSD, busybox): not worth asking again in this process.
  if (r.exitCode === 127 || /printf/.test(r.stderr)) findWorks = false;
  return undefined;
}

/** Every file's stat key without reading any content or any cache: from find, else from the workers. */
export async function treeStats(root: string, excludes: readonly string[] = []): Promise<TreeStats> {
  const raw = findWorks ? await findRaw(root, excludes) : undefined;
  if (raw) {
    let parsed: StatListing | undefined;
    const rawDigest = createHash('sha256').update(JSON.stringify(excludes)).update('\0').update(raw).digest('hex');
    const parse = (): StatListing => {
      const listed = parseFindListing(raw, excludes);
      for (const path of listed.paths) assertAddressable(root, path);
      return { root, ...listed };
    };
    return { root, rawDigest, links: countLinks(raw), listing: () => (parsed ??= parse()) };
  }
  const listed = await poolStatTree(root, excludes);
  return { root, listing: () => listed };
}

export async function statTree(root: string, excludes: readonly string[] = []): Promise<StatListing> {
  return (await treeStats(root, excludes)).listing();
}

/** Every regular file with its stat key, on this thread (for counting a destination). */
export function walkTree(root: string, excludes: readonly string[] = []): TreeFile[] {
  const out: TreeFile[] = [];
  walkFiles(root, excludes, (path) => {
    const s = lstatSync(`${root}/${path}`, { throwIfNoEntry: false });
    if (s?.isFile()) out.push({ path, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino });
  });
  return out;
}
