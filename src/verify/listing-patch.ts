// A tree's listing after a transfer, built from its listing before it (issue 12, "cost grows with the
// change"). A file that was listed and is a file still (one the transfer replaced) gets the record find
// would print for it now, from one lstat, in its place (listing-records.ts). A path new or gone lists
// its folder again, by find itself (findUnderArgv), as does a replaced file in a folder of more than
// 10,000 entries (find lists those by inode: a new inode moves): find lists a tree depth first in each
// folder's own order, so a folder's records are one run in its listing, and find run on the folder
// prints that very run; a file deleted only drops its record (the rest of its folder keeps its order).
// The result is byte for byte what find of the whole tree prints, as long as nothing else changed
// meanwhile and the file system keeps a replaced name's place (ext4, xfs). Where it does not (btrfs
// moves a renamed name to its folder's end), the next run's listing differs from the remembered one
// in that record: it costs a compare, never a change missed. A folder that is new, or no longer a
// folder, is taken from its parent up; where that reaches the tree's root, or too much of the tree, or
// a symlink's marker, the answer is undefined and the caller lists the whole tree, as before.
import { lstatSync, opendirSync, type Dir } from 'node:fs';
import { join } from 'node:path';
import { listUnder } from './folder-list.js';
import type { RawListing } from './listing-match.js';
import { isGone, isUnder, recordNow, recordsAt, recordWith, type Spot } from './listing-records.js';
import { RawSink, statsOfRaw, type Reference, type TreeStats } from './stat-tree.js';
import { mark } from '../util/trace.js';

/** A folder's run of records in a listing held as parts: [part, offset] to [part, offset]. */
export interface Region { readonly dir: string; readonly from: readonly [number, number]; readonly to: readonly [number, number]; readonly bytes: number }

/** Whether the record ending before buf[at] (or the previous part's last) is a symlink's marker ("l\0"). */
function markerBefore(parts: readonly Buffer[], k: number, at: number): boolean {
  const [buf, end] = at > 0 ? [parts[k] as Buffer, at] : k > 0 ? [parts[k - 1] as Buffer, (parts[k - 1] as Buffer).length] : [undefined, 0];
  return !!buf && end >= 2 && buf[end - 2] === 108 && buf[end - 1] === 0 && (end === 2 || buf[end - 3] === 0);
}

/**
 * The run of `dir`'s records in the listing (parts each starting at a record's start), found natively
 * by " dir/" at a path's start; undefined: none listed. 'whole': list the whole tree instead, for a run
 * past `maxBytes`, or one beside a symlink's marker (it names no path: whose it is is not known, and a
 * run cut at it would leave the folder's records after it stale).
 */
export function regionOf(parts: readonly Buffer[], dir: string, maxBytes = Infinity): Region | 'whole' | undefined {
  const prefix = Buffer.from(`${dir}/`);
  const first = recordWith(parts, Buffer.from(` ${dir}/`));
  if (!first) return undefined;
  if (markerBefore(parts, first.part, first.from)) return 'whole';
  let kk = first.part;
  let at = first.from;
  let bytes = 0;
  for (;;) {
    const p = parts[kk] as Buffer;
    if (at >= p.length) {
      if (kk + 1 >= parts.length) break;
      kk++;
      at = 0;
      continue;
    }
    const e = p.indexOf(0, at);
    if (e < 0) break;
    if (!isUnder(p, at, e, prefix)) {
      if (p[at] === 108 && e === at + 1) return 'whole';
      break;
    }
    bytes += e + 1 - at;
    if (bytes > maxBytes) return 'whole';
    at = e + 1;
  }
  return { dir, from: [first.part, first.from], to: [kk, at], bytes };
}

export const parentOf = (p: string): string => {
  const slash = p.lastIndexOf('/');
  return slash < 0 ? '' : p.slice(0, slash);
};

export type Kind = 'folder' | 'gone' | 'other';

function kindOf(root: string, dir: string): Kind {
  try {
    return lstatSync(join(root, dir)).isDirectory() ? 'folder' : 'other';
  } catch (error) {
    return isGone(error) ? 'gone' : 'other';
  }
}

/** A folder to list again (`gone`: no longer there, its records only dropped). */
export interface FolderPick { readonly region: Region; readonly gone: boolean }

/**
 * The folders whose runs are replaced for `touched` paths: each path's folder, else the nearest one
 * above it that the listing holds records of and that is a folder now (or is gone, its run dropped);
 * none nested in another; `folders`: folders to list again whatever they hold now (from the folder up
 * as for a path in it). undefined: that is the root (the whole tree), more than `maxDirs` folders
 * (or `maxDirs` + 8 looked up), or runs of more than `maxBytes` in all. `at`: the local tree's root
 * (its folders lstat'd), or what a folder is now (PatchSource.kindOf).
 */
export function picksFor(parts: readonly Buffer[], at: string | ((dir: string) => Kind), touched: Iterable<string>, maxDirs: number, maxBytes: number, folders: Iterable<string> = []): FolderPick[] | undefined {
  const kindAt = typeof at === 'string' ? (dir: string): Kind => kindOf(at, dir) : at;
  const known = new Map<string, Region | 'whole' | undefined>();
  const regionAt = (dir: string): Region | 'whole' | undefined => {
    if (!known.has(dir)) known.set(dir, regionOf(parts, dir, maxBytes));
    return known.get(dir);
  };
  const chosen = new Map<string, FolderPick>();
  const starts = new Set<string>(folders);
  for (const p of touched) starts.add(parentOf(p));
  for (let dir of starts) {
    for (;;) {
      if (dir === '' || (known.size >= maxDirs + 8 && !known.has(dir))) return undefined;
      if (chosen.has(dir)) break;
      const region = regionAt(dir);
      if (region === 'whole') return undefined;
      const kind = region ? kindAt(dir) : 'other';
      if (region && kind !== 'other') {
        chosen.set(dir, { region, gone: kind === 'gone' });
        break;
      }
      dir = parentOf(dir);
    }
  }
  // A folder inside another chosen one is listed with it.
  const picks = [...chosen.entries()].filter(([dir]) => {
    for (let up = parentOf(dir); up; up = parentOf(up)) if (chosen.has(up)) return false;
    return true;
  }).map(([, pick]) => pick);
  if (picks.length > maxDirs || picks.reduce((n, p) => n + p.region.bytes, 0) > maxBytes) return undefined;
  return picks.sort((a, b) => a.region.from[0] - b.region.from[0] || a.region.from[1] - b.region.from[1]);
}

/** The listing's bytes in [from, to), as slices of its parts. */
function slices(parts: readonly Buffer[], from: readonly [number, number], to: readonly [number, number]): Buffer[] {
  const out: Buffer[] = [];
  for (let k = from[0]; k <= to[0] && k < parts.length; k++) {
    const part = parts[k] as Buffer;
    const a = k === from[0] ? from[1] : 0;
    const b = k === to[0] ? to[1] : part.length;
    if (b > a) out.push(part.subarray(a, b));
  }
  return out;
}

type At = readonly [number, number];
const earlier = (a: At, b: At): boolean => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

/** Bytes of the listing in [from, to) to be replaced by `bytes`. */
export interface Replace { readonly from: At; readonly to: At; readonly bytes: Buffer }

/** Whether a replacement puts back exactly the bytes it replaces. */
function keeps(parts: readonly Buffer[], r: Replace): boolean {
  let at = 0;
  for (const s of slices(parts, r.from, r.to)) {
    if (at + s.length > r.bytes.length || s.compare(r.bytes, at, at + s.length) !== 0) return false;
    at += s.length;
  }
  return at === r.bytes.length;
}

/** The listing with the replacements (in order, none overlapping) made, as pieces in order. */
export function spliced(parts: readonly Buffer[], replaces: readonly Replace[]): Buffer[] {
  const out: Buffer[] = [];
  let at: At = [0, 0];
  for (const r of replaces) {
    out.push(...slices(parts, at, r.from));
    if (r.bytes.length) out.push(r.bytes);
    at = r.to;
  }
  if (parts.length) out.push(...slices(parts, at, [parts.length - 1, (parts[parts.length - 1] as Buffer).length]));
  return out;
}

/**
 * Folders listed again at most, and the bytes of records they may hold (a quarter of the listing, or
 * 1 MiB, ~13k records, where that is more), before the whole tree is listed instead: each folder's
 * run is looked up in the listing natively (up to ~20 ms at 1M files, 72 MB; find of the whole tree
 * costs ~2.4 s of CPU there), and a folder holding most of the tree is listed as fast whole. picksFor
 * looks up at most 8 folders more (new ones, taken from their parents).
 */
export const MAX_DIRS = 24;
export const maxBytesFor = (listing: number): number => Math.max(1 << 20, Math.floor(listing / 4));

/**
 * GNU find (gnulib fts) lists a folder of more than this many entries in inode order on most file
 * systems (all but tmpfs, NFS and CIFS), so a file replaced there (a new inode) moves in the listing.
 */
export const SORTED_PAST = 10_000;

/** Whether the folder holds more than `n` entries, reading no more than n + 1 of them; true where it cannot be read (it is then listed, or found gone). */
export function moreEntries(dir: string, n: number): boolean {
  let d: Dir | undefined;
  try {
    d = opendirSync(dir, { bufferSize: 1024 });
    for (let seen = 0; d.readSync(); ) if (++seen > n) return true;
    return false;
  } catch {
    return true;
  } finally {
    d?.closeSync();
  }
}

/** Paths looked up at most (one pass over the listing past a few), before the whole tree is listed instead. */
export const MAX_PATHS = 20_000;

/**
 * What the patch asks of the tree as it is now: a path's record (find's, from one lstat), whether a
 * folder holds more than SORTED_PAST entries, what a folder is, find's records under folders. Local:
 * asked of this machine; a host's: answered from what it printed after the transfer (engine/host-after.ts).
 */
export interface PatchSource {
  recordNow(path: string): Buffer | 'gone' | undefined;
  crowded(dir: string): boolean;
  kindOf(dir: string): Kind;
  listUnder(dirs: readonly string[]): Promise<Buffer[] | undefined>;
}

/** The source that asks this machine (a local tree at `root`). */
export const localSource = (root: string, excludes: readonly string[]): PatchSource => ({
  recordNow: (p) => recordNow(root, p),
  crowded: (dir) => moreEntries(join(root, dir), SORTED_PAST),
  kindOf: (dir) => kindOf(root, dir),
  listUnder: (dirs) => listUnder(root, excludes, dirs),
});

/**
 * The listing `before` (parts) after `touched` paths changed, and anything in `folders` (their entries
 * added, removed or renamed: a source's listing after, listing-after.ts), as pieces in order. 'same': every record looked at again
 * is byte for byte as it was. undefined: list the whole tree.
 */
export async function patchedParts(before: RawListing, touched: Iterable<string>, src: PatchSource, folders: readonly string[] = []): Promise<Buffer[] | 'same' | undefined> {
  const { parts } = before;
  const paths = [...new Set(touched)];
  if (paths.length > MAX_PATHS) return undefined;
  const spots = recordsAt(parts, paths);
  const records: [Spot, Buffer][] = [];
  const elsewhere: string[] = [];
  const crowded = new Map<string, boolean>();
  const inCrowd = (p: string): boolean => {
    const dir = parentOf(p);
    if (!crowded.has(dir)) crowded.set(dir, src.crowded(dir));
    return crowded.get(dir) as boolean;
  };
  for (const p of paths) {
    const spot = spots.get(p);
    const now = spot ? src.recordNow(p) : undefined;
    // A file replaced in a folder find lists by inode may have moved in its order: its folder is listed again.
    if (spot && now && (now === 'gone' || !inCrowd(p))) records.push([spot, now === 'gone' ? Buffer.alloc(0) : now]);
    else elsewhere.push(p);
  }
  const picks = elsewhere.length || folders.length ? picksFor(parts, (dir) => src.kindOf(dir), elsewhere, MAX_DIRS, maxBytesFor(before.bytes), folders) : [];
  if (!picks) return undefined;
  const live = picks.filter((p) => !p.gone);
  const got = live.length ? await src.listUnder(live.map((p) => p.region.dir)) : [];
  if (!got) return undefined;
  let j = 0;
  const replaces: Replace[] = picks.map((p) => ({ from: p.region.from, to: p.region.to, bytes: p.gone ? Buffer.alloc(0) : (got[j++] as Buffer) }));
  // A record inside a folder listed again is that folder's.
  const inPick = (at: At): boolean => picks.some((p) => !earlier(at, p.region.from) && earlier(at, p.region.to));
  for (const [spot, bytes] of records) if (!inPick([spot.part, spot.from])) replaces.push({ from: [spot.part, spot.from], to: [spot.part, spot.to], bytes });
  replaces.sort((a, b) => (earlier(a.from, b.from) ? -1 : earlier(b.from, a.from) ? 1 : 0));
  mark('listing patched');
  return replaces.every((r) => keeps(parts, r)) ? 'same' : spliced(parts, replaces);
}

/**
 * The tree's stats after `touched` paths changed, from its listing `before` (parts over `reference`,
 * the listing it was last proved with: the new one is kept over it the same way, listing-match.ts).
 * 'same': every record looked at again is byte for byte as it was. undefined: list the whole tree.
 */
export async function patchedStats(root: string, excludes: readonly string[], before: RawListing, touched: Iterable<string>, reference?: Reference, folders: readonly string[] = []): Promise<TreeStats | 'same' | undefined> {
  const pieces = await patchedParts(before, touched, localSource(root, excludes), folders);
  if (pieces === undefined || pieces === 'same') return pieces;
  const sink = new RawSink(excludes, reference);
  for (const piece of pieces) sink.push(piece);
  return statsOfRaw(root, excludes, await sink.finish());
}
