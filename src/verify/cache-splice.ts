// A few rows put into a hash cache whose content is already known (issue 12, "cost grows with the
// change"): the file is read whole into memory, each row's place found by a binary search on byte
// offsets (the file is sorted by path in byte order, cache-file.ts), and the pieces between written out
// around the new lines. No line but the ~15 probed per row is looked at, where streaming the file cuts
// every line in JavaScript (~10 ms for 10k rows in a process that runs that loop once). Only for a file
// that still has the stat key it was written with (the caller knows its digests from its summary).
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { headerLine, rowLine, tempFor, type Row } from './cache-file.js';
import { unescapeField } from './cache-lookup.js';
import { byteOrder, sortBytewise } from './walk.js';

const NL = 10;
const TAB = 9;

/** The stat key a cache's summary keeps: [size, mtimeMs, ctimeMs, ino]. */
const keyOf = (s: { size: number; mtimeMs: number; ctimeMs: number; ino: number }): number[] => [s.size, s.mtimeMs, s.ctimeMs, s.ino];

/** The file's bytes, read through one descriptor only while it has `key`; undefined otherwise. */
function readIfKey(file: string, key: readonly number[]): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const now = keyOf(fstatSync(fd));
    if (!now.every((v, i) => v === key[i])) return undefined;
    const buf = Buffer.allocUnsafe(now[0] as number);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got <= 0) return undefined;
      n += got;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** The path of the line starting at `s` (its first field, unescaped); undefined for a line without a tab. */
function pathAt(buf: Buffer, s: number, e: number): string | undefined {
  const t = buf.indexOf(TAB, s);
  return t < 0 || t > e ? undefined : unescapeField(buf.toString('utf8', s, t));
}

/**
 * Where `path`'s line is or belongs among the lines starting in [lo, buf.length): the start of the first
 * line whose path is not before it, and whether that line is `path`'s own. undefined: a damaged line.
 */
function placeOf(buf: Buffer, lo: number, path: string): { at: number; same: boolean } | undefined {
  let hi = buf.length;
  // Invariant: every line starting before lo sorts before path; every line starting at or after hi does not.
  while (lo < hi) {
    const half = lo + Math.floor((hi - lo) / 2);
    let m = half === lo || buf[half - 1] === NL ? half : buf.indexOf(NL, half) + 1;
    if (m <= 0 || m >= hi) m = lo; // no line starts in [half, hi): the line at lo decides
    const e = buf.indexOf(NL, m);
    if (e < 0) return undefined;
    const p = pathAt(buf, m, e);
    if (p === undefined) return undefined;
    const c = byteOrder(p, path);
    if (c === 0) return { at: m, same: true };
    if (c < 0) lo = e + 1;
    else hi = m;
  }
  return { at: lo, same: false };
}

/**
 * `rows` put into `file` (the hash cache of `root`), each replacing its path's line or placed in path
 * order, through a temp file and a rename. Returns the new file's stat key; undefined (nothing written)
 * when the file no longer has `key`, is not this tree's cache, or a probed line is damaged.
 */
export async function spliceRows(file: string, root: string, key: readonly number[], rows: ReadonlyMap<string, Row>): Promise<number[] | undefined> {
  const buf = readIfKey(file, key);
  const header = Buffer.from(headerLine(root));
  if (!buf || buf.length < header.length || !buf.subarray(0, header.length).equals(header)) return undefined;
  const pieces: Buffer[] = [];
  // [copied, …) is still to be copied; each path is sought past the line before it (they come in order).
  let copied = 0;
  let from = header.length;
  for (const path of sortBytewise([...rows.keys()])) {
    const place = placeOf(buf, from, path);
    if (!place) return undefined;
    pieces.push(buf.subarray(copied, place.at), Buffer.from(rowLine(rows.get(path) as Row)));
    copied = from = place.same ? buf.indexOf(NL, place.at) + 1 : place.at;
  }
  pieces.push(buf.subarray(copied));
  const temp = await tempFor(file);
  try {
    for (const piece of pieces) {
      for (let at = 0; at < piece.length; ) at += (await temp.handle.write(piece, at, piece.length - at)).bytesWritten;
    }
  } catch (error) {
    await temp.discard();
    throw error;
  }
  await temp.commit();
  // After the rename, which gives the file a new ctime: the key its summary will keep.
  return keyOf(statSync(file));
}
