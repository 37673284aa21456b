// A hash cache brought up to date for a few files without being loaded (issue 12, "cost grows with the
// change"): the file is streamed line by line and copied, the few rows that changed put in their
// places, and while it streams the tree's digests are computed from it: the content digest the tree
// had before (which must be its summary's, else the cache is not the tree the summary vouched for),
// the content digest it has now, and its `labsync sums` digest. A line is cut at its tabs, never
// parsed into a row; only the changed rows are made.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { headerLine, rowLine, tempFor, type Row } from './cache-file.js';
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
  /** Lines cut at their tabs, and rows made (the changed ones only). */
  readonly lines: number;
}

/**
 * How much of the file is read, and how much text gathered before it is hashed or written, at a time:
 * small enough that the lines' strings (slices of what was read) die young. At 1 MiB (cache-file.ts
 * CHUNK) they outlived the young generation and the old one swung by ~100 MB while a 1M-line cache
 * streamed; gathering 64 KiB took a 1M-file change run 0.3–1.2 s of CPU and 32–46 MB of peak RSS
 * lower, reading 64 KiB another ~40 MB (docs/speed-notes.md, "The 1M-file tree again").
 */
const PIECE = 1 << 16;

/** A sha256 fed in pieces of about PIECE characters. */
class Digest {
  private readonly h = createHash('sha256');
  private text = '';
  add(s: string): void {
    this.text += s;
    if (this.text.length > PIECE) {
      this.h.update(this.text);
      this.text = '';
    }
  }
  done(): string {
    return this.h.update(this.text).digest('hex');
  }
}

function unescapeField(s: string): string {
  return s.includes('\\') ? s.replace(/\\(.)/g, (_m, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c)) : s;
}

/**
 * Rewrites `file` (the cache of the tree at `root`) with `update` applied, through a temp file and a
 * rename. Throws for a file that is not this tree's cache or a damaged line (nothing is replaced then).
 */
export async function rewriteCache(file: string, root: string, update: CacheUpdate): Promise<Rewritten> {
  const before = new Digest();
  const after = new Digest();
  const sums = new Digest();
  let beforeFiles = 0;
  let files = 0;
  let lines = 0;
  let unknown = false;
  const trusted = update.cacheKey !== undefined && sameStat(file, update.cacheKey);
  const racyBefore = new Map(update.racyBefore.map((r) => [r.path, r]));
  const racyNow = new Map(update.racyNow.map((r) => [r.path, r]));
  const special = sortBytewise([...new Set([...update.rows.keys(), ...racyBefore.keys(), ...racyNow.keys()])]);
  let k = 0;
  let out = headerLine(root);
  const temp = await tempFor(file);
  const { handle } = temp;
  const flush = async (): Promise<void> => {
    if (out.length < PIECE) return;
    await handle.write(out);
    out = '';
  };
  const countBefore = (path: string, size: string | number, sha: string): void => {
    if (!trusted) before.add(`${path}\0${size}\0${sha}\n`);
    beforeFiles++;
  };
  const countNow = (path: string, size: string | number, sha: string): void => {
    after.add(`${path}\0${size}\0${sha}\n`);
    if (!sha) unknown = true;
    else if (update.sums) sums.add(`${sumsLine(sha, path)}\n`);
    files++;
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
  try {
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(PIECE);
      let carry = '';
      let header = true;
      for (;;) {
        const n = readSync(fd, buf, 0, PIECE, null);
        if (n === 0) break;
        // A piece may end inside a character: cut at its last newline (a byte that is never inside one).
        const last = buf.lastIndexOf(10, n - 1);
        if (last < 0) {
          carry += buf.toString('utf8', 0, n);
          continue;
        }
        const text = carry + buf.toString('utf8', 0, last);
        carry = buf.toString('utf8', last + 1, n);
        for (let from = 0; from <= text.length; ) {
          let nl = text.indexOf('\n', from);
          if (nl < 0) nl = text.length;
          const line = text.slice(from, nl);
          from = nl + 1;
          if (header) {
            if (`${line}\n` !== headerLine(root)) throw new Error(`not the hash cache of ${root}`);
            header = false;
            continue;
          }
          lines++;
          const t1 = line.indexOf('\t');
          let t = t1;
          for (let f = 1; f < 5 && t >= 0; f++) t = line.indexOf('\t', t + 1);
          const t6 = t < 0 ? -1 : line.indexOf('\t', t + 1);
          if (t1 <= 0 || t6 < 0) throw new Error(`line ${lines + 1}: not a cache row`);
          const path = unescapeField(line.slice(0, t1));
          const size = line.slice(t1 + 1, line.indexOf('\t', t1 + 1));
          const sha = line.slice(t + 1, t6);
          while (k < special.length && byteOrder(special[k] as string, path) < 0) special1(special[k++] as string);
          if (k < special.length && special[k] === path) {
            special1(special[k++] as string, [size, sha, line]);
          } else {
            countBefore(path, size, sha);
            countNow(path, size, sha);
            out += `${line}\n`;
          }
          await flush();
        }
      }
      if (carry || header) throw new Error(header ? 'no header' : 'its last line is cut short');
    } finally {
      closeSync(fd);
    }
    while (k < special.length) special1(special[k++] as string);
    await handle.write(out);
  } catch (error) {
    await temp.discard();
    throw error;
  }
  await temp.commit();
  return {
    ...(trusted ? {} : { before: before.done() }), beforeFiles, files, lines, cacheKey: statKey(file),
    ...(unknown ? {} : { content: after.done(), ...(update.sums ? { sums: sums.done() } : {}) }),
  };
}

const statKey = (file: string): number[] => {
  const s = statSync(file);
  return [s.size, s.mtimeMs, s.ctimeMs, s.ino];
};

function sameStat(file: string, key: readonly number[]): boolean {
  try {
    return statKey(file).every((v, i) => v === key[i]);
  } catch {
    return false;
  }
}
