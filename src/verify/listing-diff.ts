// Which records of a find listing differ from the listing a tree was last proved with (issue 12,
// "cost grows with the change"), found on the raw bytes: no listing parsed, no path string made for a
// record that is byte for byte as before. find lists in folder order, which stays put for folders
// nothing touched, so the two listings are long identical runs; each run is skipped by comparing
// bytes (memcmp in node), and only the records around a difference are read.
// The answer may name more records than truly changed (a folder listed in a new order), never fewer:
// a record not flagged was found, whole and byte for byte, in both listings, so its path was listed
// with the same size, mtime, ctime and inode.
import { numberAt } from './find-list.js';
import type { RawListing } from './listing-match.js';

export type Key = readonly [size: number, mtimeMs: number, ctimeMs: number, ino: number];

/** A flagged path: its key in the listing before and now (null: not listed then / now). */
export interface Change { readonly before: Key | null; readonly now: Key | null }

/** How far ahead a record is looked for when the listings part (an inserted or removed run of records). */
const WINDOW = 1 << 14;

/** The length of the common prefix of a[i…] and b[j…], by comparing ever longer slices natively. */
function common(a: Buffer, i: number, b: Buffer, j: number): number {
  const max = Math.min(a.length - i, b.length - j);
  const same = (from: number, to: number): boolean => a.compare(b, j + from, j + to, i + from, i + to) === 0;
  let lo = 0;
  for (let step = 256; lo < max; step *= 2) {
    const to = Math.min(max, lo + step);
    if (!same(lo, to)) {
      let hi = to;
      while (hi - lo > 32) {
        const mid = (lo + hi) >> 1;
        if (same(lo, mid)) lo = mid;
        else hi = mid;
      }
      while (lo < hi && a[i + lo] === b[j + lo]) lo++;
      return lo;
    }
    lo = to;
  }
  return max;
}

interface Record { readonly path: string; readonly key: Key }

/** The record in buf[from, end) (end: its NUL); undefined for a symlink's marker or anything unparsable. */
function recordAt(buf: Buffer, from: number, end: number): Record | undefined | null {
  if (buf[from] === 108) return undefined; // "l": a symlink's marker, not a file
  const text = buf.toString('utf8', from, end);
  const s1 = text.indexOf(' ');
  const s2 = text.indexOf(' ', s1 + 1);
  const s3 = text.indexOf(' ', s2 + 1);
  const s4 = text.indexOf(' ', s3 + 1);
  if (s1 <= 0 || s2 < 0 || s3 < 0 || s4 < 0 || s4 + 1 >= text.length) return null;
  return { path: text.slice(s4 + 1), key: [numberAt(text, 0, s1), numberAt(text, s1 + 1, s2), numberAt(text, s2 + 1, s3), numberAt(text, s3 + 1, s4)] };
}

/** Where the whole record `rec` (with its NUL) starts in buf[from, to), at a record's start; -1: not there. */
function findRecord(buf: Buffer, rec: Buffer, from: number, to: number, budget: { bytes: number }): number {
  const window = buf.subarray(0, Math.min(buf.length, to));
  budget.bytes -= Math.max(0, window.length - from);
  for (let q = window.indexOf(rec, from); q >= 0; q = window.indexOf(rec, q + 1)) {
    if (q === 0 || buf[q - 1] === 0) return q;
  }
  return -1;
}

/**
 * The paths whose records differ between `before` and `now` (find -printf listings, NUL-terminated
 * records "size mtime ctime ino path"), each with its key in both; paths `excluded` are left out.
 * undefined when more than `limit` records differ (the caller then lists and plans the whole tree), the
 * listings part in too many places to line up cheaply, or a listing is not of that form.
 */
export function diffListings(before: Buffer, now: Buffer, limit: number, excluded?: (path: string) => boolean): Map<string, Change> | undefined {
  const gone = new Map<string, Key>();
  const came = new Map<string, Key>();
  let flagged = 0;
  // Searches for an anchor may read this much in all (a listing in a new order would otherwise cost
  // a window per record): past it, the whole listings are cheaper.
  const budget = { bytes: Math.max(1 << 22, 4 * (before.length + now.length)) };
  // false: a listing not of find's form (the caller trusts neither then).
  const take = (into: Map<string, Key>, buf: Buffer, from: number, end: number): boolean => {
    const r = recordAt(buf, from, end);
    if (r === null) return false;
    if (r && !excluded?.(r.path)) {
      into.set(r.path, r.key);
      flagged++;
    }
    return true;
  };
  /** Every record of buf[from, to) into `into`; false for one not of find's form. */
  const takeAll = (into: Map<string, Key>, buf: Buffer, from: number, to: number): boolean => {
    for (let at = from; at < to; ) {
      const end = buf.indexOf(0, at);
      if (end < 0 || end >= to || !take(into, buf, at, end)) return false;
      at = end + 1;
      if (flagged > limit) return true;
    }
    return true;
  };
  let i = 0;
  let j = 0;
  for (;;) {
    const n = common(before, i, now, j);
    // Back to the start of the record the difference is in (the bytes before it are the same in both).
    const back = i + n === 0 ? 0 : i + n - (before.lastIndexOf(0, i + n - 1) + 1);
    i += n - back;
    j += n - back;
    if (i >= before.length && j >= now.length) break;
    if (i >= before.length) {
      if (!takeAll(came, now, j, now.length)) return undefined;
      break;
    }
    if (j >= now.length) {
      if (!takeAll(gone, before, i, before.length)) return undefined;
      break;
    }
    const ea = before.indexOf(0, i);
    const eb = now.indexOf(0, j);
    if (ea < 0 || eb < 0) return undefined; // a last record without its NUL: not find's listing
    const q = findRecord(now, before.subarray(i, ea + 1), eb + 1, j + WINDOW, budget);
    if (q >= 0) {
      // Records inserted before one still listed as it was.
      if (!takeAll(came, now, j, q)) return undefined;
      j = q;
    } else {
      const p = findRecord(before, now.subarray(j, eb + 1), ea + 1, i + WINDOW, budget);
      if (p >= 0) {
        if (!takeAll(gone, before, i, p)) return undefined;
        i = p;
      } else {
        // Changed in place (the usual case: same path, new key), or no anchor near: both flagged.
        if (!take(gone, before, i, ea) || !take(came, now, j, eb)) return undefined;
        i = ea + 1;
        j = eb + 1;
      }
    }
    if (flagged > limit || budget.bytes < 0) return undefined;
  }
  if (flagged > limit) return undefined;
  const out = new Map<string, Change>();
  for (const [path, key] of gone) out.set(path, { before: key, now: came.get(path) ?? null });
  for (const [path, key] of came) if (!gone.has(path)) out.set(path, { before: null, now: key });
  return out;
}

/**
 * diffListings for a listing kept over its reference (listing-match.ts): the records that differ are
 * already apart (the reference's gaps, the listing's own parts), so only they are read. The reference
 * must be the listing the tree was proved with. undefined past `limit` or for a record not of find's form.
 */
export function diffRaw(raw: RawListing, limit: number, excluded?: (path: string) => boolean): Map<string, Change> | undefined {
  const gone = new Map<string, Key>();
  const came = new Map<string, Key>();
  let flagged = 0;
  const takeAll = (into: Map<string, Key>, buf: Buffer): boolean => {
    for (let at = 0; at < buf.length; ) {
      const end = buf.indexOf(0, at);
      if (end < 0) return false;
      const r = recordAt(buf, at, end);
      if (r === null) return false;
      if (r && !excluded?.(r.path)) {
        into.set(r.path, r.key);
        if (++flagged > limit) return false;
      }
      at = end + 1;
    }
    return true;
  };
  const ref = raw.reference ?? Buffer.alloc(0);
  for (const [from, to] of raw.gaps) if (!takeAll(gone, ref.subarray(from, to))) return undefined;
  for (const part of raw.own) if (!takeAll(came, part)) return undefined;
  const out = new Map<string, Change>();
  for (const [path, key] of gone) out.set(path, { before: key, now: came.get(path) ?? null });
  for (const [path, key] of came) if (!gone.has(path)) out.set(path, { before: null, now: key });
  return out;
}

/** keysIn over a listing held in parts (each starting at a record's start). */
export function keysInParts(parts: readonly Buffer[], paths: Iterable<string>): Map<string, Key> {
  const left = new Set(paths);
  const out = new Map<string, Key>();
  for (const part of parts) {
    if (!left.size) break;
    for (const [p, k] of keysIn(part, left)) {
      out.set(p, k);
      left.delete(p);
    }
  }
  return out;
}

/** Past this many paths, one pass over the listing beats a search per path. */
const SEARCHES = 16;

/**
 * The keys of `paths` as `raw` lists them (paths not flagged by diffListings, so listed as before);
 * a path not found is left out. A few are looked up by their record's tail (" path\0"), natively;
 * more in one pass that makes a string only of a record whose path has the byte length of one sought.
 */
export function keysIn(raw: Buffer, paths: Iterable<string>): Map<string, Key> {
  const wanted = new Set(paths);
  const out = new Map<string, Key>();
  if (wanted.size > SEARCHES) {
    const lengths = new Set([...wanted].map((p) => Buffer.byteLength(p)));
    for (let at = 0; at < raw.length; ) {
      const end = raw.indexOf(0, at);
      if (end < 0) break;
      let sp = at;
      for (let f = 0; f < 4 && sp >= 0; f++) sp = raw.indexOf(32, sp + (f ? 1 : 0));
      if (sp >= 0 && sp < end && lengths.has(end - sp - 1)) {
        const r = recordAt(raw, at, end);
        if (r && wanted.has(r.path)) out.set(r.path, r.key);
      }
      at = end + 1;
    }
    return out;
  }
  for (const path of wanted) {
    const needle = Buffer.from(` ${path}\0`);
    for (let q = raw.indexOf(needle); q >= 0; q = raw.indexOf(needle, q + 1)) {
      const start = q === 0 ? 0 : raw.lastIndexOf(0, q - 1) + 1;
      const r = recordAt(raw, start, q + needle.length - 1);
      // The tail of a longer path holding spaces is not this path's record.
      if (r && r.path === path) {
        out.set(path, r.key);
        break;
      }
    }
  }
  return out;
}
