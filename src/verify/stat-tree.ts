// A tree's regular files with their stat keys, without reading content: from GNU find where it works
// (find-list.ts), else from lstat calls on the hash workers while this thread walks.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { vanished, type Batch, type BatchError, type BatchResult } from './batch.js';
import { findArgv, LinkCounter, parseFindListing } from './find-list.js';
import { joinRaw, ListingMatcher, type RawListing } from './listing-match.js';
import { runHere, sharedPool } from './hash-pool.js';
import { assertAddressable, walkFiles } from './walk.js';
import { treeMounts } from './mount-types.js';
import { mark } from '../util/trace.js';

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
  /** The clock when its oldest record was listed (a listing built from an earlier one: listing-patch.ts); undefined: when asked for. */
  readonly nowMs?: number;
  /** performance.now() at the same moment (a wall clock stepped back since shows against it: listing-after.ts). */
  readonly monoMs?: number;
  /** The mounts the tree lay on when listed (mount-types.ts treeMounts); undefined: not known. */
  readonly mounts?: string;
  /** Symlinks in the tree (those find saw: not in folders pruned by an exclude); undefined: not known (no find). */
  readonly links?: number;
  /** The listing, parsed on first use. */
  listing(): StatListing;
  /** find's raw output (what rawDigest digests after the excludes); undefined without find. */
  raw?(): Buffer;
  /** The same output as parts over the reference it was matched against (listing-match.ts). */
  rawListing?(): RawListing;
}

/** find's raw listing, hashed as it came (with the excludes first), its symlink markers counted. */
interface Raw { readonly digest: string; readonly listing: RawListing; readonly links: number }

/** The listing find's new output is matched against: the remembered one in memory, or its file (read beside find). */
export type Reference = Buffer | string;

async function referenceOf(ref: Reference | undefined): Promise<Buffer | undefined> {
  if (ref === undefined || Buffer.isBuffer(ref)) return ref;
  try {
    return await readFile(ref);
  } catch {
    return undefined; // none kept yet (or unreadable): find's output is kept whole, as it comes
  }
}

/**
 * find's output as it comes, each piece hashed on arrival (after the excludes), its symlink markers
 * counted, and kept as slices of `reference` where byte for byte the same (listing-match.ts). Pieces
 * that come before the reference is read wait for it (read on the thread pool, beside find).
 */
export class RawSink {
  private readonly hash;
  private readonly links = new LinkCounter();
  private matcher: ListingMatcher | undefined;
  private readonly early: Buffer[] = [];
  private readonly ready: Promise<void>;

  constructor(excludes: readonly string[], reference?: Reference) {
    this.hash = createHash('sha256').update(JSON.stringify(excludes)).update('\0');
    this.ready = referenceOf(reference).then((ref) => {
      this.matcher = new ListingMatcher(ref);
      for (const b of this.early.splice(0)) this.matcher.push(b);
    });
  }

  push(b: Buffer): void {
    this.hash.update(b);
    this.links.push(b);
    if (this.matcher) this.matcher.push(b);
    else this.early.push(b);
  }

  async finish(): Promise<Raw> {
    await this.ready;
    return { digest: this.hash.digest('hex'), listing: (this.matcher as ListingMatcher).finish(), links: this.links.count };
  }
}

/**
 * find's listing through a pipe into a RawSink: no temporary file written, read back and freed (on a
 * 1M-file tree that cost more than the hashing), and nothing parsed unless asked. undefined where find
 * cannot give it (not GNU find, or a failure it reports).
 */
function findRaw(root: string, excludes: readonly string[], reference?: Reference): Promise<Raw | undefined> {
  if (!existsSync(root)) return Promise.resolve({ digest: createHash('sha256').update(JSON.stringify(excludes)).update('\0').digest('hex'), listing: new ListingMatcher().finish(), links: 0 });
  const [cmd, ...args] = findArgv(excludes, { links: true });
  return new Promise((resolve) => {
    // In labsync's process group, so a terminal's Ctrl-C stops it too; LC_ALL=C: its messages in English.
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    mark('find spawned');
    const sink = new RawSink(excludes, reference);
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => sink.push(b));
    child.stderr.on('data', (b: Buffer) => void (stderr += b.toString('utf8')));
    let settled = false;
    const done = (exitCode: number): void => {
      if (settled) return;
      settled = true;
      mark('find done');
      if (exitCode === 0) return void sink.finish().then(resolve);
      // No find, or one without -printf (BSD, busybox): not worth asking again in this process.
      if (exitCode === 127 || /printf/.test(stderr)) findWorks = false;
      resolve(undefined);
    };
    child.on('error', (error: NodeJS.ErrnoException) => done(error.code === 'ENOENT' ? 127 : 126));
    child.on('close', (code) => done(code ?? 128));
  });
}

/** A tree's stats from find's raw listing (or one built as find would print it: listing-patch.ts). */
export function statsOfRaw(root: string, excludes: readonly string[], raw: Raw): TreeStats {
  let parsed: StatListing | undefined;
  const parse = (): StatListing => {
    const listed = parseFindListing(raw.listing.parts, excludes);
    for (const path of listed.paths) assertAddressable(root, path);
    return { root, ...listed };
  };
  // Joined on each call, not kept: a listing over its reference costs no second copy unless asked.
  return { root, rawDigest: raw.digest, links: raw.links, listing: () => (parsed ??= parse()), raw: () => joinRaw(raw.listing), rawListing: () => raw.listing };
}

/**
 * Every file's stat key without reading any content or any cache: from find, else from the workers.
 * `reference`: the listing the tree was last proved with (or its file), which find's output is kept over.
 */
export async function treeStats(root: string, excludes: readonly string[] = [], reference?: Reference): Promise<TreeStats> {
  // Taken before the walk: a file changed during it is past this clock (the source's listing after a
  // transfer looks for changes since it, changed-since.ts), whenever the side is made of these stats.
  const clock = { nowMs: Date.now(), monoMs: performance.now() };
  const mounts = treeMounts(root);
  const at = mounts === undefined ? clock : { ...clock, mounts };
  const raw = findWorks ? await findRaw(root, excludes, reference) : undefined;
  if (raw) return { ...statsOfRaw(root, excludes, raw), ...at };
  const listed = await poolStatTree(root, excludes);
  return { root, ...at, listing: () => listed };
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
