// A few rows of a hash cache, found without loading it (issue 12, "cost grows with the change"): after a
// small change the side where a path did not change still has the row its hash was taken under, and
// reading that row costs a few small reads of the cache file, where reading the file itself costs its
// size. The file is sorted by path in byte order (cache-file.ts), so a row is found by a binary search
// on byte offsets; many paths are picked out of one pass instead. Anything unexpected answers "not
// found" (the caller then reads the file), never a row that was not there whole.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { headerLine, parseRow, type Row } from './cache-file.js';
import { byteOrder } from './walk.js';

/** Past this many paths, one pass over the file costs less than a search per path. */
const SEARCHES = 64;
/** A range this small is read line by line rather than halved again. */
const SCAN = 1 << 14;
/** The first read for a line; doubled until the line's end is in it. */
const PIECE = 1 << 10;

/** A cache line's first field as the path it names (cache-file.ts escapes tabs, newlines and backslashes). */
export const unescapeField = (s: string): string =>
  s.includes('\\') ? s.replace(/\\(.)/g, (_m, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c)) : s;

const pathOf = (line: string): string => unescapeField(line.slice(0, Math.max(0, line.indexOf('\t'))));

interface Line { readonly start: number; readonly text: string; readonly next: number }

class File {
  constructor(readonly fd: number, readonly size: number) {}

  /** The first whole line that starts at or after `pos` (pos ≥ 1, past the header); undefined: none (or one cut short). */
  lineFrom(pos: number): Line | undefined {
    for (let len = PIECE; ; len *= 2) {
      const buf = Buffer.allocUnsafe(Math.min(len, this.size - (pos - 1)));
      const n = readSync(this.fd, buf, 0, buf.length, pos - 1);
      const nl = buf.subarray(0, n).indexOf(10);
      if (nl >= 0) {
        const end = buf.subarray(0, n).indexOf(10, nl + 1);
        if (end >= 0) return { start: pos + nl, text: buf.toString('utf8', nl + 1, end), next: pos + end };
      }
      if (pos - 1 + n >= this.size) return undefined;
    }
  }
}

/** The row of `path` in the lines starting in [lo, hi) (lo at a line's start), by halving the range. */
function search(f: File, lo: number, hi: number, path: string): string | undefined {
  while (hi - lo > SCAN) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const line = f.lineFrom(mid);
    if (!line || line.start >= hi) {
      hi = mid;
      continue;
    }
    const c = byteOrder(pathOf(line.text), path);
    if (c === 0) return line.text;
    if (c < 0) lo = line.next;
    else hi = line.start;
  }
  for (let at = lo; at < hi; ) {
    const line = f.lineFrom(at);
    if (!line) return undefined;
    const c = byteOrder(pathOf(line.text), path);
    if (c === 0) return line.text;
    if (c > 0) return undefined;
    at = line.next;
  }
  return undefined;
}

/** The rows of `paths` in one pass over the file (rows made only for the paths sought). */
function pass(f: File, from: number, paths: ReadonlySet<string>, out: Map<string, Row>): void {
  const buf = Buffer.allocUnsafe(1 << 20);
  let carry = '';
  for (let pos = from; pos < f.size; ) {
    const n = readSync(f.fd, buf, 0, buf.length, pos);
    if (n <= 0) break;
    pos += n;
    const last = buf.subarray(0, n).lastIndexOf(10);
    if (last < 0) {
      carry += buf.toString('utf8', 0, n);
      continue;
    }
    const text = carry + buf.toString('utf8', 0, last);
    carry = buf.toString('utf8', last + 1, n);
    for (let at = 0; at < text.length; ) {
      let nl = text.indexOf('\n', at);
      if (nl < 0) nl = text.length;
      const line = text.slice(at, nl);
      at = nl + 1;
      const p = pathOf(line);
      if (paths.has(p)) take(line, p, out);
    }
  }
}

function take(line: string, path: string, out: Map<string, Row>): void {
  try {
    const row = parseRow(line);
    if (row[0] === path && row[5]) out.set(path, row);
  } catch {
    // A damaged row: not found, so its file is read.
  }
}

/**
 * The rows `file` (the hash cache of the tree at `root`) holds for `paths`; a path without a whole,
 * well-formed row is left out. Never throws: a missing, foreign or damaged file finds nothing.
 */
export function lookupRows(file: string, root: string, paths: readonly string[]): Map<string, Row> {
  const out = new Map<string, Row>();
  if (!paths.length) return out;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return out;
  }
  try {
    const f = new File(fd, fstatSync(fd).size);
    const header = Buffer.from(headerLine(root));
    const head = Buffer.alloc(header.length);
    if (readSync(fd, head, 0, head.length, 0) !== head.length || !head.equals(header)) return out;
    if (paths.length > SEARCHES) pass(f, header.length, new Set(paths), out);
    else {
      for (const p of paths) {
        const line = search(f, header.length, f.size, p);
        if (line !== undefined) take(line, p, out);
      }
    }
  } catch {
    out.clear(); // a read that failed part way: the caller reads every file instead
  } finally {
    closeSync(fd);
  }
  return out;
}
