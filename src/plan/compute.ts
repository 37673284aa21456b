// Pure: two listings → the plan. The one place that decides what a run sends, replaces and deletes,
// for every backend alike (rclone's fs/march + fs/sync, in labsync's words).
import { createHash } from 'node:crypto';
import { MD5_ETAG, type Entry } from '../verify/compare.js';
import type { Listing, PairPlan, PlannedFile, PlanReason } from './types.js';

export interface PlanOptions {
  /** A mirror deletes at the destination what the source lacks. */
  readonly mirror: boolean;
  /**
   * The destination is a file system, where `x` and `x/f` cannot both be (a local folder, an ssh host):
   * a new file that would change a path's kind is found (kindClashes). An object store holds both keys.
   */
  readonly kinds?: boolean;
  /**
   * Modification times closer than this count as equal: S3 and many rclone backends keep seconds,
   * and a FAT disk two seconds (rsync's --modify-window). 0: exact to the millisecond.
   */
  readonly modifyWindowMs?: number;
  /** The store's ETags are not MD5s of the content (a remote's `etag: opaque`: SSE-KMS, SSE-C): never compared as checksums. */
  readonly opaqueEtags?: boolean;
}

/**
 * A listing's digest: any change to a path, size, mtime or a checksum the side itself tells (an ETag,
 * a listed or freshly computed MD5) changes it. Order-independent. A sha256 is left out: on rsync's
 * sides it is what labsync's hash cache happened to know, so a `check` between `plan --save` and
 * `apply` would otherwise make an unchanged side look changed.
 */
export function listingOf(entries: readonly Entry[]): Listing {
  // A side's listing comes in order already (find's, sorted once): checking costs a pass, sorting a comparator call per pair.
  const sorted = inOrder(entries) ? entries.slice() : [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  // One update per ~1 MB of lines, not one per file (10k calls into the hash cost more than the text).
  const h = createHash('sha256');
  let text = '';
  for (const e of sorted) {
    text += `${e.path}\0${e.size}\0${e.mtimeMs ?? ''}\0${e.md5 ?? ''}\0${e.etag ?? ''}${e.gitSha1 ? `\0${e.gitSha1}` : ''}${e.uploadedMs === undefined ? '' : `\0u${e.uploadedMs}`}\n`;
    if (text.length > 1 << 20) {
      h.update(text);
      text = '';
    }
  }
  return { entries: sorted, digest: h.update(text).digest('hex') };
}

function inOrder(entries: readonly Entry[]): boolean {
  for (let i = 1; i < entries.length; i++) if ((entries[i - 1] as Entry).path > (entries[i] as Entry).path) return false;
  return true;
}

/**
 * Same content, as far as both sides can tell: a checksum both know decides; without one, the
 * tools' own quick check (size, then modification time) does. undefined: the same.
 */
export function differs(source: Entry, dest: Entry, windowMs = 0, opaqueEtags = false): PlanReason | undefined {
  if (source.size !== dest.size) return 'size';
  // A pull of an object in parts whose ETag is not this side's: its part size may not be this side's
  // (another machine's multipart_chunksize cuts as many parts of another size). aws-cli gives a file it
  // downloads the object's LastModified as its mtime, so a file whose mtime is not that upload time was
  // not pulled from this very object (a re-upload, of the same size or not).
  if (source.uploadedMs !== undefined && source.mtimeMs === undefined && dest.mtimeMs !== undefined && partsDiffer(source, dest, opaqueEtags)) {
    return Math.abs(dest.mtimeMs - source.uploadedMs) < Math.max(windowMs, 1000) ? undefined : 'content';
  }
  const known = commonChecksum(source, dest, opaqueEtags);
  if (known) return known[0] === known[1] ? undefined : 'content';
  // A store lists when each object was uploaded, not the file's mtime. Where no checksum decides (an
  // ETag that is no MD5: SSE-KMS, `etag: opaque`, versitygw's; an MD5 rclone cannot tell, as for an
  // object aws-cli uploaded in parts), a file changed since is newer than its upload (aws s3 sync's rule
  // for an upload). Not the other way: a pulled file keeps its own older mtime.
  if (dest.uploadedMs !== undefined && dest.mtimeMs === undefined && source.mtimeMs !== undefined) return source.mtimeMs > dest.uploadedMs + windowMs ? 'mtime' : undefined;
  // A pull of an object whose ETag is no MD5: its size is all the plan can compare (verify then proves
  // content by stored checksum).
  if (opaque(source, opaqueEtags) || opaque(dest, opaqueEtags)) return undefined;
  if (source.mtimeMs !== undefined && dest.mtimeMs !== undefined && Math.abs(source.mtimeMs - dest.mtimeMs) > windowMs) return 'mtime';
  return undefined;
}

function commonChecksum(a: Entry, b: Entry, opaqueEtags: boolean): [string, string] | undefined {
  if (a.sha256 && b.sha256) return [a.sha256, b.sha256];
  if (a.gitSha1 && b.gitSha1) return [a.gitSha1, b.gitSha1];
  if (a.md5 && b.md5) return [a.md5, b.md5];
  if (opaqueEtags) return undefined;
  const ea = a.etag && MD5_ETAG.test(a.etag) ? a.etag : undefined;
  const eb = b.etag && MD5_ETAG.test(b.etag) ? b.etag : undefined;
  // ETags cut into as many parts (or none) compare; another count is another uploader's part size
  // (rclone's 5 MiB, a multipart_chunksize of its own), where no checksum decides and the tools' quick
  // check does. A plain ETag is the object's MD5, whatever the other side's part size.
  if (ea && eb && partsOf(ea) === partsOf(eb)) return [ea, eb];
  if (ea && !partsOf(ea) && b.md5) return [ea, b.md5];
  if (eb && !partsOf(eb) && a.md5) return [a.md5, eb];
  return undefined;
}

/** The object's ETag is of an upload in parts and not this side's (a plain one is the content's MD5, which decides). */
function partsDiffer(object: Entry, file: Entry, opaqueEtags: boolean): boolean {
  if (opaqueEtags || !object.etag || !file.etag || !MD5_ETAG.test(object.etag) || !MD5_ETAG.test(file.etag) || object.etag === file.etag) return false;
  return partsOf(object.etag) > 0;
}

/** The part count of an MD5-shaped ETag; 0 for a plain one (a single PUT). */
export const partsOf = (etag: string): number => {
  const at = etag.indexOf('-');
  return at < 0 ? 0 : Number(etag.slice(at + 1));
};

const opaque = (e: Entry, opaqueEtags: boolean): boolean => e.etag !== undefined && (opaqueEtags || !MD5_ETAG.test(e.etag));

/** A remote whose ETags its manifest says are no MD5s (`etag: opaque`). */
export const opaqueEtagsOf = (remote: { readonly type: string; readonly etag?: string }): boolean => remote.type === 's3' && remote.etag === 'opaque';

export function computePlan(source: Listing, dest: Listing, o: PlanOptions): PairPlan {
  const there = new Map(dest.entries.map((e) => [e.path, e]));
  const send: PlannedFile[] = [];
  const replace: PlannedFile[] = [];
  for (const s of source.entries) {
    const d = there.get(s.path);
    if (!d) {
      send.push({ path: s.path, size: s.size, reason: 'missing' });
      continue;
    }
    there.delete(s.path);
    const reason = differs(s, d, o.modifyWindowMs, o.opaqueEtags);
    if (reason) replace.push({ path: s.path, size: s.size, reason });
  }
  const remove: PlannedFile[] = o.mirror ? [...there.values()].map((d) => ({ path: d.path, size: d.size, reason: 'extra' as const })) : [];
  const clashes = o.kinds && !o.mirror && send.length && dest.entries.length ? kindClashes(send, dest.entries, there) : [];
  return {
    ...(clashes.length ? { kindClashes: clashes } : {}),
    send,
    replace,
    delete: remove,
    sourceFiles: source.entries.length,
    destFiles: dest.entries.length,
    sourceDigest: source.digest,
    destDigest: dest.digest,
  };
}

/**
 * A new file whose folder is a file at the destination (`x/f` sent, `x` there), or whose name is a folder
 * there (`x` sent, `x/f` there): only new files can clash, so a steady run's few sends cost little.
 */
/** `destOnly`: the destination's files the source lacks (a folder of a sent file that is a file there is one). */
function kindClashes(send: readonly PlannedFile[], dest: readonly Entry[], destOnly: ReadonlyMap<string, Entry>): string[] {
  // Whether some destination path lies under `p/`: a binary search where the listing is in byte order (a
  // find or S3 listing), else one set of every destination folder (a million-file tree: ~0.5 s, review 39).
  const sorted = dest.every((d, i) => i === 0 || (dest[i - 1] as Entry).path < d.path);
  let folders: Set<string> | undefined;
  const isFolder = (p: string): boolean => {
    if (sorted) {
      const prefix = `${p}/`;
      let lo = 0;
      let hi = dest.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((dest[mid] as Entry).path < prefix) lo = mid + 1;
        else hi = mid;
      }
      return lo < dest.length && (dest[lo] as Entry).path.startsWith(prefix);
    }
    if (!folders) {
      folders = new Set<string>();
      for (const d of dest) for (let i = d.path.indexOf('/'); i > 0; i = d.path.indexOf('/', i + 1)) folders.add(d.path.slice(0, i));
    }
    return folders.has(p);
  };
  const out: string[] = [];
  for (const s of send) {
    if (isFolder(s.path)) out.push(s.path);
    for (let i = s.path.indexOf('/'); i > 0; i = s.path.indexOf('/', i + 1)) if (destOnly.has(s.path.slice(0, i))) out.push(s.path.slice(0, i));
  }
  return [...new Set(out)].sort();
}

/** Nothing to send, replace or delete: the transfer step does not run. */
export const isEmptyPlan = (p: PairPlan): boolean => p.send.length + p.replace.length + p.delete.length === 0;

/** Bytes the transfer will move. */
export const planBytes = (p: PairPlan): number => [...p.send, ...p.replace].reduce((n, f) => n + f.size, 0);
