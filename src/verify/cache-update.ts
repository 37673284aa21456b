// A hash cache brought up to date for a few files without being loaded (issue 12, "cost grows with the
// change"): the file is streamed line by line and copied, the few rows that changed put in their
// places, and while it streams the tree's digests are computed from it: the content digest the tree
// had before (which must be its summary's, else the cache is not the tree the summary vouched for),
// the content digest it has now, and its `labsync sums` digest. A line is cut at its tabs, never
// parsed into a row; only the changed rows are made.
import { closeSync, fstatSync, openSync, readSync, statSync, writeSync, type Stats } from 'node:fs';
import { bulkLines, countLines, Digest, firstAtOrAfter } from './cache-digest.js';
import { CHUNK, headerLine, rowLine, tempFor, type Row } from './cache-file.js';
import { sumsLine } from './sums-file.js';
import { byteOrder, sortBytewise } from './walk.js';

/** A file listed but not in the cache (hashed within the racy window), remembered by its summary instead. */
export interface RacyRow { readonly path: string; readonly size: number; readonly sha256: string }

export interface CacheUpdate {
  /** path → its row now, or null: no row (gone from the tree, or too fresh to remember). */
  readonly rows: ReadonlyMap<string, Row | null>;
  /** Listed files outside the cache as the summary being replaced vouched for them. */
  readonly racyBefore: readonly RacyRow[];
  /** Listed files outside the cache now, with the sha256 this run read. */
  readonly racyNow: readonly RacyRow[];
  /** The file's stat key when it was written with the summary: while it has it, `before` is not computed. */
  readonly cacheKey?: readonly number[];
  /** Compute the `labsync sums` digest (the local side's, for the receipt). */
  readonly sums: boolean;
  /**
   * false: only put the rows in, no digest (the caller knows the tree's content another way). Taken only
   * for a file that still has `cacheKey` and without `sums`; the lines after the last changed one are
   * then copied without being cut at all.
   */
  readonly digests?: false;
}

export interface Rewritten {
  /**
   * Content digest (tree-summary.ts contentDigest) of the tree as the cache and racyBefore held it;
   * undefined when the file still had `cacheKey` (it is the file written with the summary).
   */
  readonly before?: string;
  readonly beforeFiles: number;
  /** The new file's stat key, for the summary written with it. */
  readonly cacheKey: readonly number[];
  /** Content and sums digests of the tree now; undefined when a file has no sha256. */
  readonly content?: string;
  readonly sums?: string;
  readonly files: number;
  /** Lines read (cut at their tabs unless spliced), and rows made (the changed ones only). */
  readonly lines: number;
  /** The rows were put in without digests (`digests: false` taken): `content` is the caller's to know. */
  readonly spliced?: true;
}

function unescapeField(s: string): string {
  return s.includes('\\') ? s.replace(/\\(.)/g, (_m, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c)) : s;
}

const TAB = 9;
const NL = 10;
const BACKSLASH = 0x5c;

/**
 * Rewrites `file` (the cache of the tree at `root`) with `update` applied, through a temp file and a
 * rename. Throws for a file that is not this tree's cache or a damaged line (nothing is replaced then).
 * The file is read and copied in pieces of bytes: an unchanged line is cut at its tabs and its fields
 * copied into the digests, never decoded (a run after one changed file streams the whole cache).
 */
export async function rewriteCache(file: string, root: string, update: CacheUpdate): Promise<Rewritten> {
  return (await prepareRewrite(file, root, update)).commit(false) as Promise<Rewritten>;
}

/** A rewrite made in a temp file beside the cache, not yet put in its place (rewriteCache's first half). */
export interface PreparedRewrite {
  readonly file: string;
  readonly update: CacheUpdate;
  /**
   * Renames the temp file over the cache and answers what rewriteCache would have. `ifUnchanged`: only
   * while the cache still has the stat key it was read with (else nothing is replaced: undefined).
   */
  commit(ifUnchanged?: boolean): Promise<Rewritten | undefined>;
  /** Removes the temp file (nothing after a commit). */
  discard(): Promise<void>;
}

/**
 * rewriteCache up to the rename: the temp file written and the digests taken; the caller commits or
 * discards. `yieldEach`: let other I/O in between pieces (a rewrite made while a child's output streams
 * in, as a listing's find: 1 MiB pieces, the whole file at 50k rows ~50 ms of CPU, over which the
 * child would otherwise stop on a full pipe).
 */
export async function prepareRewrite(file: string, root: string, update: CacheUpdate, yieldEach = false): Promise<PreparedRewrite> {
  const before = new Digest();
  const after = new Digest();
  const sums = new Digest();
  let beforeFiles = 0;
  let files = 0;
  let lines = 0;
  let unknown = false;
  const trusted = update.cacheKey !== undefined && sameStat(file, update.cacheKey);
  const splice = update.digests === false && trusted && !update.sums;
  const racyBefore = new Map(update.racyBefore.map((r) => [r.path, r]));
  const racyNow = new Map(update.racyNow.map((r) => [r.path, r]));
  const special = sortBytewise([...new Set([...update.rows.keys(), ...racyBefore.keys(), ...racyNow.keys()])]);
  const specialBytes = special.map((p) => Buffer.from(p));
  let k = 0;
  const temp = await tempFor(file);
  const { fd } = temp.handle;
  let out = headerLine(root);
  const put = (b: Buffer, from: number, to: number): void => {
    if (out) {
      writeAll(fd, Buffer.from(out));
      out = '';
    }
    if (to > from) writeAll(fd, b.subarray(from, to));
  };
  const countBefore = (path: string, size: string | number, sha: string): void => {
    if (!trusted) before.text(`${path}\0${size}\0${sha}\n`);
    beforeFiles++;
  };
  const countNow = (path: string, size: string | number, sha: string): void => {
    if (!splice) after.text(`${path}\0${size}\0${sha}\n`);
    if (!sha) unknown = true;
    else if (update.sums) sums.text(`${sumsLine(sha, path)}\n`);
    files++;
  };
  /** An unchanged line whose name holds no escape: its fields go into the digests as the bytes they are. */
  const countLine = (b: Buffer, s: number, t1: number, t2: number, t5: number, t6: number): void => {
    beforeFiles++;
    files++;
    if (t6 === t5 + 1) unknown = true;
    if (splice) return;
    if (!trusted) before.line(b, s, t1, t2, t5, t6);
    after.line(b, s, t1, t2, t5, t6);
    if (t6 !== t5 + 1 && update.sums) sums.sumsLine(b, s, t1, t5, t6);
  };
  /** Lines [from, to) of unchanged rows in one pass each (cache-digest.ts); false: not all plain rows. */
  const bulk = (b: Buffer, from: number, to: number): boolean => {
    let n: number;
    if (splice) {
      if (k < special.length) return false; // before the last changed name, each line is still judged
      n = countLines(b, from, to);
    } else {
      const got = bulkLines(b, from, to, update.sums);
      if (!got) return false;
      n = got.lines;
      if (!trusted) before.latin1(got.content);
      after.latin1(got.content);
      if (got.sums !== undefined) sums.latin1(got.sums);
    }
    lines += n;
    beforeFiles += n;
    files += n;
    return true;
  };
  /** A changed or racy path, with the cache's line for it if it has one ([size, sha256, the line]). */
  const special1 = (path: string, line?: [string, string, string]): void => {
    const rb = racyBefore.get(path);
    if (rb) countBefore(path, rb.size, rb.sha256);
    else if (line) countBefore(path, line[0], line[1]);
    const rn = racyNow.get(path);
    const row = update.rows.has(path) ? update.rows.get(path) : undefined;
    if (row) out += rowLine(row);
    else if (row === undefined && line) out += `${line[2]}\n`;
    if (rn) countNow(path, rn.size, rn.sha256);
    else if (row) countNow(path, row[1], row[5]);
    else if (row === undefined && line) countNow(path, line[0], line[1]);
  };
  let read: number[] | undefined;
  try {
    const rfd = openSync(file, 'r');
    try {
      read = keyOf(fstatSync(rfd));
      const chunk = Buffer.allocUnsafe(CHUNK);
      let carry = Buffer.alloc(0);
      let header = true;
      for (;;) {
        const n = readSync(rfd, chunk, 0, CHUNK, null);
        if (n === 0) break;
        const last = chunk.lastIndexOf(NL, n - 1);
        if (last < 0) {
          carry = Buffer.concat([carry, chunk.subarray(0, n)]);
          continue;
        }
        // The piece's whole lines, after what the last piece left of a line.
        const b = carry.length ? Buffer.concat([carry, chunk.subarray(0, last + 1)]) : chunk.subarray(0, last + 1);
        carry = Buffer.from(chunk.subarray(last + 1, n));
        // [kept, s): lines copied to the new file as they are, written at the next change or the piece's end.
        let kept = 0;
        // A piece without a backslash holds no escaped name: its lines are in byte order as they lie, so
        // the run of lines before the next changed name is found by bisecting and digested in bulk.
        let bulkFrom = header || b.indexOf(BACKSLASH) >= 0 ? b.length : 0;
        for (let s = 0; s < b.length; ) {
          if (s >= bulkFrom) {
            const stop = k < special.length ? firstAtOrAfter(b, s, specialBytes[k] as Buffer) : b.length;
            const done = stop > s ? bulk(b, s, stop) : true;
            // A line that is not a plain row with a sha256: these lines go one by one (which judges them).
            bulkFrom = done ? stop + 1 : stop;
            if (done) s = stop;
            if (s >= b.length) break;
          }
          const e = b.indexOf(NL, s);
          if (header) {
            if (`${b.toString('utf8', s, e)}\n` !== headerLine(root)) throw new Error(`not the hash cache of ${root}`);
            header = false;
            s = kept = e + 1;
            if (b.indexOf(BACKSLASH, s) < 0) bulkFrom = s;
            continue;
          }
          lines++;
          if (splice && k === special.length) {
            // Past the last changed name, a spliced file's lines are only counted and copied.
            beforeFiles++;
            files++;
            s = e + 1;
            continue;
          }
          const t1 = b.indexOf(TAB, s);
          const t2 = t1 < 0 || t1 > e ? -1 : b.indexOf(TAB, t1 + 1);
          let t = t2;
          for (let f = 2; f < 5 && t >= 0 && t < e; f++) t = b.indexOf(TAB, t + 1);
          const t6 = t < 0 || t > e ? -1 : b.indexOf(TAB, t + 1);
          if (t1 <= s || t1 > e || t6 < 0 || t6 > e) throw new Error(`line ${lines + 1}: not a cache row`);
          // A line copied whole into a digest's buffer fits it (4096 bytes of slack past CHUNK).
          let plain = t6 - s < 4000;
          for (let i = s; i < t1 && plain; i++) plain = b[i] !== BACKSLASH;
          const order = k < special.length ? (plain ? (specialBytes[k] as Buffer).compare(b, s, t1) : -2) : 1;
          if (order > 0) {
            countLine(b, s, t1, t2, t, t6);
            s = e + 1;
            continue;
          }
          // A changed name comes at or before this line (or the name is escaped): the line as text.
          const path = unescapeField(b.toString('utf8', s, t1));
          const size = b.toString('latin1', t1 + 1, t2);
          const sha = b.toString('latin1', t + 1, t6);
          const line = b.toString('utf8', s, e);
          put(b, kept, s);
          while (k < special.length && byteOrder(special[k] as string, path) < 0) special1(special[k++] as string);
          if (k < special.length && special[k] === path) special1(special[k++] as string, [size, sha, line]);
          else {
            countBefore(path, size, sha);
            countNow(path, size, sha);
            out += `${line}\n`;
          }
          s = kept = e + 1;
        }
        put(b, kept, b.length);
        if (yieldEach) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (carry.length || header) throw new Error(header ? 'no header' : 'its last line is cut short');
    } finally {
      closeSync(rfd);
    }
    while (k < special.length) special1(special[k++] as string);
    put(Buffer.alloc(0), 0, 0);
  } catch (error) {
    await temp.discard();
    throw error;
  }
  const made: Omit<Rewritten, 'cacheKey'> = {
    ...(trusted ? {} : { before: before.done() }), beforeFiles, files, lines,
    ...(splice ? { spliced: true as const } : unknown ? {} : { content: after.done(), ...(update.sums ? { sums: sums.done() } : {}) }),
  };
  let settled = false;
  return {
    file,
    update,
    async commit(ifUnchanged = true) {
      if (settled) throw new Error('a prepared cache rewrite is committed or discarded once');
      settled = true;
      if (ifUnchanged && !sameStat(file, read as number[])) {
        await temp.discard();
        return undefined;
      }
      await temp.commit();
      return { ...made, cacheKey: statKey(file) };
    },
    async discard() {
      if (settled) return;
      settled = true;
      await temp.discard();
    },
  };
}

function writeAll(fd: number, b: Buffer): void {
  for (let at = 0; at < b.length; ) at += writeSync(fd, b, at, b.length - at);
}

const keyOf = (s: Stats): number[] => [s.size, s.mtimeMs, s.ctimeMs, s.ino];
const statKey = (file: string): number[] => keyOf(statSync(file));

function sameStat(file: string, key: readonly number[]): boolean {
  try {
    return statKey(file).every((v, i) => v === key[i]);
  } catch {
    return false;
  }
}
