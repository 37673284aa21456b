// Single records of a find listing (listing-patch.ts): where a path's record is in a listing held as
// parts, and the record find would print for it now, from one lstat. A file a transfer replaced keeps
// its place in its folder's order (rename over an existing name reuses its entry on ext4 and xfs, and
// find lists in that order up to 10,000 entries a folder; past that, by inode: listing-patch.ts lists
// such a folder again), so its record is rewritten where it is, with no process spawned.
import { lstatSync } from 'node:fs';
import { join } from 'node:path';

/** Where a record is: its part, and [from, to) in it (its NUL included). */
export interface Spot { readonly part: number; readonly from: number; readonly to: number }

/** Where the path of the record buf[s, end) starts (after its four numbers); -1: not of find's form. */
export function pathStart(buf: Buffer, s: number, end: number): number {
  let sp = s - 1;
  for (let f = 0; f < 4; f++) {
    sp = buf.indexOf(32, sp + 1);
    if (sp < 0 || sp >= end) return -1;
  }
  return sp + 1;
}

/**
 * The first record whose path starts with `needle` less its leading space (" path\0": that path's record;
 * " dir/": the first of that folder's), by a native search; undefined: none.
 */
export function recordWith(parts: readonly Buffer[], needle: Buffer): Spot | undefined {
  for (let part = 0; part < parts.length; part++) {
    const buf = parts[part] as Buffer;
    for (let q = buf.indexOf(needle); q >= 0; q = buf.indexOf(needle, q + 1)) {
      const from = q === 0 ? 0 : buf.lastIndexOf(0, q - 1) + 1;
      const end = buf.indexOf(0, q);
      // The tail of a longer path holding spaces is not this path's record.
      if (end >= 0 && pathStart(buf, from, end) === q + 1) return { part, from, to: end + 1 };
    }
  }
  return undefined;
}

/** Whether a failed lstat says nothing is there (the path, or a folder above it, gone). */
export const isGone = (error: unknown): boolean => {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

/** Past this many paths, one pass over the listing (~0.22 s of CPU at 1M files, 72 MB) beats a native search per path (~14 ms each there). */
const SEARCHES = 15;

/**
 * Where each of `paths` has its record in the listing (parts each starting at a record's start); a path
 * not listed is left out. A few by a native search for " path\0" at a path's start; more in one pass
 * that makes a string only of a record whose path has the byte length of one sought.
 */
export function recordsAt(parts: readonly Buffer[], paths: Iterable<string>): Map<string, Spot> {
  const wanted = new Set(paths);
  const out = new Map<string, Spot>();
  if (wanted.size > SEARCHES) {
    const lengths = new Set([...wanted].map((p) => Buffer.byteLength(p)));
    parts.forEach((buf, part) => {
      for (let at = 0; at < buf.length; ) {
        const end = buf.indexOf(0, at);
        if (end < 0) break;
        const p = buf[at] === 108 ? -1 : pathStart(buf, at, end);
        if (p >= 0 && lengths.has(end - p)) {
          const path = buf.toString('utf8', p, end);
          if (wanted.has(path)) out.set(path, { part, from: at, to: end + 1 });
        }
        at = end + 1;
      }
    });
    return out;
  }
  for (const path of wanted) {
    const spot = recordWith(parts, Buffer.from(` ${path}\0`));
    if (spot) out.set(path, spot);
  }
  return out;
}

/** find's %T@ / %C@ of a time in nanoseconds: seconds, a dot and ten digits (the nanoseconds and a 0, as GNU find prints them). */
const seconds = (ns: bigint): string => `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}0`;

/**
 * The record find -printf '%s %T@ %C@ %i %P\0' prints for `path` now; 'gone' where nothing is there;
 * undefined for anything else (a folder, a symlink, a time before 1970, which find prints otherwise).
 */
export function recordNow(root: string, path: string): Buffer | 'gone' | undefined {
  let s;
  try {
    s = lstatSync(join(root, path), { bigint: true });
  } catch (error) {
    return isGone(error) ? 'gone' : undefined;
  }
  if (!s.isFile() || s.mtimeNs < 0n || s.ctimeNs < 0n) return undefined;
  return Buffer.from(`${s.size} ${seconds(s.mtimeNs)} ${seconds(s.ctimeNs)} ${s.ino} ${path}\0`);
}

/** Whether the record buf[s, end) is a file under `prefix` ("folder/"); a symlink's marker is not. */
export function isUnder(buf: Buffer, s: number, end: number, prefix: Buffer): boolean {
  if (buf[s] === 108) return false;
  const p = pathStart(buf, s, end);
  return p >= 0 && end - p > prefix.length && buf.compare(prefix, 0, prefix.length, p, p + prefix.length) === 0;
}
