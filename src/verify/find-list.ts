// A tree's files and stat keys from GNU find: one C process per tree lists and lstat-s ~2× faster
// here than lstat calls from node, needs no worker thread to boot, and the two sides of a pair run
// on two cores at once. The keys are computed exactly as node computes Stats.mtimeMs (sec × 1e3 +
// nsec / 1e6), so they match the keys a hash worker reads with fstat. Excludes that are plain names
// are pruned by find; every path is still judged by labsync's own matcher, the one rule for excludes.
import { compileExcludes } from './glob.js';
import { sortBytewise } from './walk.js';

/** One entry per regular file: size, mtime, ctime (seconds.fraction), inode, path; NUL-terminated. */
const FORMAT = '%s %T@ %C@ %i %P\\0';

const PLAIN = /^[^*?[\]\\/]+$/;

/** What find prints for a symlink when asked to (`links`): a marker only, no path. */
const LINK = 'l\\0';

/**
 * find's arguments for `cwd` = the tree's root; folders excluded by a plain name are not descended.
 * `links`: also print a marker per symlink, so a local tree is not walked a second time to learn whether
 * it holds any (parseFindListing counts them; a remote host's listing never asks).
 */
export function findArgv(excludes: readonly string[], o: { links?: boolean } = {}): [string, ...string[]] {
  // -ignore_readdir_race: a file removed between reading its folder and its stat (a job rotating its
  // checkpoints) is left out, not an error; a folder it may not read still is (exit 1).
  return ['find', '.', '-ignore_readdir_race', ...pruneArgs(excludes), '-type', 'f', '-printf', FORMAT, ...(o.links ? ['-o', '-type', 'l', '-printf', LINK] : [])];
}

/** find's expression that skips folders excluded by a plain name, ending in `-o` (none: empty). */
export function pruneArgs(excludes: readonly string[]): string[] {
  const prune: string[] = [];
  for (const p of excludes) {
    const name = p.replace(/^\//, '').replace(/\/$/, '');
    if (!PLAIN.test(name)) continue;
    prune.push(...(prune.length ? ['-o'] : []), ...(p.startsWith('/') ? ['-path', `./${name}`] : ['-name', name]));
  }
  return prune.length ? ['-type', 'd', '(', ...prune, ')', '-prune', '-o'] : [];
}

/**
 * findArgv for the subtrees of folders named on find's stdin (NUL-separated, relative to the tree's
 * root, as -files0-from reads them: any name, none taken for an option): each record's path is printed
 * from the folder's name on (%p), so a folder's records are byte for byte those the whole tree's
 * listing holds for it (listing-patch.ts). GNU find 4.9 or later; an older one fails (asked once a
 * process) and the tree is listed whole.
 */
export function findUnderArgv(excludes: readonly string[]): [string, ...string[]] {
  const [, , ...rest] = findArgv(excludes, { links: true });
  return ['find', '-files0-from', '-', ...rest.map((a) => (a === FORMAT ? FORMAT.replace('%P', '%p') : a))];
}

/**
 * The number in text[from, to): an integer, or seconds with a fraction ("1795568190.8141988130") read
 * as milliseconds exactly as node computes Stats.mtimeMs from (sec, nsec): sec * 1e3 + nsec / 1e6.
 * Digits are read in place (a substring per field cost more than the rest of the parse).
 */
export function numberAt(text: string, from: number, to: number): number {
  let whole = 0;
  let i = from;
  for (; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) break; // "."
    whole = whole * 10 + (c - 48);
  }
  // Past 2^53 digit-by-digit arithmetic rounds differently from node's conversion: use the same one.
  if (i - from > 15) whole = Number(text.slice(from, i));
  if (i === to) return whole;
  let nsec = 0;
  let digits = 0;
  for (i++; i < to && digits < 9; i++, digits++) nsec = nsec * 10 + (text.charCodeAt(i) - 48);
  for (; digits < 9; digits++) nsec *= 10;
  return whole * 1000 + nsec / 1e6;
}

/** How many symlink markers a listing made with `links` holds, without parsing it (an entry never starts with "l" otherwise). */
export function countLinks(out: Buffer): number {
  const c = new LinkCounter();
  c.push(out);
  return c.count;
}

/** countLinks over a listing that arrives in pieces (a marker may be cut between two), without joining them. */
export class LinkCounter {
  count = 0;
  /** The last bytes seen (at most 2); at the start, as if a NUL came before the first entry. */
  private tail: Buffer = Buffer.from([0]);

  push(piece: Buffer): void {
    // A marker begun in the tail and finished in this piece: 3 bytes, so it starts in the tail's last 2.
    const joined = Buffer.concat([this.tail, piece.subarray(0, 2)]);
    for (let p = 0; p < this.tail.length; p++) {
      if (p + 3 > this.tail.length && joined[p] === 0 && joined[p + 1] === 108 && joined[p + 2] === 0) this.count++;
    }
    for (let at = piece.indexOf(MARKER); at >= 0; at = piece.indexOf(MARKER, at + 2)) this.count++;
    this.tail = Buffer.from(piece.length >= 2 ? piece.subarray(piece.length - 2) : Buffer.concat([this.tail, piece]).subarray(-2));
  }
}

const MARKER = Buffer.from('\0l\0');

/** An anchored pattern of one segment ("/.labsync/", "/name"): it can match only a name at the top of the tree. */
const TOP_ONLY = /^\/(?!.*\*\*)[^/]+\/?$/;

/**
 * excludedPath when every pattern is TOP_ONLY (labsync's own excludes, the usual case): a path is out only
 * by its first segment, so one test per top-level name instead of one per file and per folder.
 */
function topOnly(matcher: ReturnType<typeof compileExcludes>): (path: string) => boolean {
  let top: string | undefined;
  let out = false;
  return (path) => {
    const slash = path.indexOf('/');
    if (slash < 0) return matcher.excludes(path, false);
    if (top === undefined || slash !== top.length || !path.startsWith(top)) {
      top = path.slice(0, slash);
      out = matcher.excludes(top, true);
    }
    return out;
  };
}

/** The excludes as one test of a listed file's path (its folders judged too), as find's listing is filtered; undefined: none. */
export function excludedPath(excludes: readonly string[]): ((path: string) => boolean) | undefined {
  if (!excludes.length) return undefined;
  const matcher = compileExcludes(excludes);
  if (excludes.every((p) => TOP_ONLY.test(p))) return topOnly(matcher);
  const folderOut = new Map<string, boolean>();
  const excludedFolder = (dir: string): boolean => {
    if (!dir) return false;
    let verdict = folderOut.get(dir);
    if (verdict === undefined) {
      const slash = dir.lastIndexOf('/');
      verdict = excludedFolder(slash < 0 ? '' : dir.slice(0, slash)) || matcher.excludes(dir, true);
      folderOut.set(dir, verdict);
    }
    return verdict;
  };
  return (path) => {
    const slash = path.lastIndexOf('/');
    return excludedFolder(slash < 0 ? '' : path.slice(0, slash)) || matcher.excludes(path, false);
  };
}

/**
 * find's listing → paths in byte order with their [size, mtimeMs, ctimeMs, ino] keys, excludes applied
 * (symlink markers skipped). `out` may come in parts, each starting at a record's start (listing-match.ts):
 * they are read one by one, so a listing held in parts is not joined into a second copy to be parsed.
 */
export function parseFindListing(out: Buffer | readonly Buffer[], excludes: readonly string[]): { paths: string[]; keys: Float64Array } {
  const excluded = excludedPath(excludes);
  const at = new Map<string, number>();
  const raw: number[] = [];
  for (const part of Buffer.isBuffer(out) ? [out] : out) {
    const text = part.toString('utf8');
    for (let from = 0, end = text.indexOf('\0'); end >= 0; from = end + 1, end = text.indexOf('\0', from)) {
      if (text.charCodeAt(from) === 108) continue; // a symlink's marker
      const s1 = text.indexOf(' ', from);
      const s2 = text.indexOf(' ', s1 + 1);
      const s3 = text.indexOf(' ', s2 + 1);
      const s4 = text.indexOf(' ', s3 + 1);
      const path = text.slice(s4 + 1, end);
      if (excluded?.(path)) continue;
      at.set(path, raw.length);
      raw.push(numberAt(text, from, s1), numberAt(text, s1 + 1, s2), numberAt(text, s2 + 1, s3), numberAt(text, s3 + 1, s4));
    }
  }
  // find lists in folder order; the keys follow their paths into byte order.
  const paths = sortBytewise([...at.keys()]);
  const keys = new Float64Array(paths.length * 4);
  paths.forEach((p, i) => {
    const k = at.get(p) as number;
    for (let j = 0; j < 4; j++) keys[i * 4 + j] = raw[k + j] as number;
  });
  return { paths, keys };
}
