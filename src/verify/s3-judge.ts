// Pure: is an S3 object the same bytes as the local file? Only what the store can prove counts.
//
// An ETag is the object's MD5 (or md5 of part MD5s, "-N") only for plain uploads: AWS with SSE-KMS or
// SSE-C, and S3-compatible servers with CRC-based ETags, give ETags that look the same and are not
// MD5s at all. So, per object of the same size:
//   1. its ETag equals the local MD5 ETag: the same (an MD5 match is no accident);
//   2. else the store lists an additional checksum labsync can recompute (SHA256, CRC32), read one by
//      one: it decides, either way;
//   3. else the ETag's mismatch is drift only when the store is known to give MD5 ETags: the remote
//      says `etag: md5`, or (auto) this very listing has an ETag equal to its MD5 and none proven
//      otherwise. With `etag: opaque`, or no such evidence, the sizes matched and that is all that
//      can be said: the file is "unproven", reported as such, never as drift.
import type { VerifyReport } from '../adapters/types.js';
import type { Entry } from './compare.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, type LocalChecksums } from './s3-checksum.js';

/** The manifest's `etag:` on an s3 remote; absent is auto. */
export type EtagTrust = 'md5' | 'opaque' | 'auto';

/** One object's additional checksum, as the store returned it (base64, any "-N" suffix removed). */
export interface StoreChecksum { readonly algorithm: ChecksumAlgorithm; readonly value: string }

export interface S3Report extends VerifyReport {
  /** Files compared by size only: the store could prove neither equality nor difference. */
  readonly unproven: readonly string[];
  /** Whether this listing showed the store's ETags are MD5s, are not, or could not tell. */
  readonly etags: 'md5' | 'not md5' | 'unknown';
  /** Changed files that only an ETag said differ (no checksum): the first suspects if the ETags were not MD5s after all. */
  readonly byEtagOnly: readonly string[];
}

const MD5_SHAPED = /^[0-9a-f]{32}(-\d+)?$/;
/** An ETag's part count; 0 for a plain one (sent whole: a multipart upload of one part is "-1"). */
const parts = (etag: string): number => Number(/-(\d+)$/.exec(etag)?.[1] ?? 0);

/**
 * A file aws-cli wrote from this very object in parts (its mtime is the object's upload time): as many
 * parts of another machine's part size make another ETag of the same bytes, so a mismatch proves nothing.
 */
const pulledFrom = (l: Entry, r: Entry): boolean => Boolean(r.etag && parts(r.etag) > 0) && l.mtimeMs !== undefined && r.uploadedMs !== undefined && Math.abs(l.mtimeMs - r.uploadedMs) < 1000;

/**
 * What this side's file compares with the object's ETag: its MD5 where the object was sent whole (a
 * plain ETag: aws-cli's multipart_threshold may lie above its part size), else its multipart ETag.
 */
const localEtag = (l: Entry, r: Entry): string | undefined => (r.etag && l.md5 && !r.etag.includes('-') ? l.md5 : l.etag);

/** The algorithm to read back for an object, where the listing says it has one labsync can recompute. */
export function readableChecksum(r: Entry): ChecksumAlgorithm | undefined {
  return CHECKSUM_ALGORITHMS.find((a) => r.checksums?.includes(a));
}

/**
 * Some servers build the ETag from the checksum itself (versitygw --data-integrity-etag:
 * "SHA256-<base64>[-N]"): then the listing already holds it and no object needs reading.
 */
export function etagChecksum(etag: string | undefined): StoreChecksum | undefined {
  const m = /^(SHA256|CRC32)-([A-Za-z0-9+/]+={0,2})(?:-\d+)?$/.exec(etag ?? '');
  return m ? { algorithm: m[1] as ChecksumAlgorithm, value: m[2] as string } : undefined;
}

/**
 * For the objects of the same size whose ETag is not their local MD5 ETag: the checksums the listing
 * already shows, and the objects whose checksum must be read (one request each).
 */
export function checksumsNeeded(local: readonly Entry[], remote: readonly Entry[]): { listed: Map<string, StoreChecksum>; toRead: string[] } {
  const there = new Map(remote.map((e) => [e.path, e]));
  const listed = new Map<string, StoreChecksum>();
  const toRead: string[] = [];
  for (const l of local) {
    const r = there.get(l.path);
    if (!r || r.size !== l.size || (r.etag && r.etag === localEtag(l, r))) continue;
    const inEtag = etagChecksum(r.etag);
    if (inEtag) listed.set(l.path, inEtag);
    else if (readableChecksum(r)) toRead.push(l.path);
  }
  return { listed, toRead };
}

export interface Evidence {
  /** Checksums the store holds, by path: from the listing's ETags or read per object (checksumsNeeded). */
  readonly store: ReadonlyMap<string, StoreChecksum>;
  /** The same files' checksums computed here. */
  readonly mine: ReadonlyMap<string, LocalChecksums>;
  readonly trust: EtagTrust;
}

export function judgeS3(local: readonly Entry[], remote: readonly Entry[], e: Evidence): S3Report {
  const there = new Map(remote.map((r) => [r.path, r]));
  const here = new Set(local.map((l) => l.path));
  const missing: string[] = [];
  const changed: string[] = [];
  // Same size, ETag mismatch, no checksum: drift only if the ETags are MD5s.
  const open: string[] = [];
  // An ETag mismatch that cannot be an MD5 comparison at all (not MD5-shaped, another part size).
  const incomparable: string[] = [];
  let md5Seen = false;
  let otherSeen = false;
  for (const l of local) {
    const r = there.get(l.path);
    if (!r) missing.push(l.path);
    else if (r.size !== l.size) changed.push(l.path);
    else if (r.etag && r.etag === localEtag(l, r)) md5Seen = true;
    else {
      const read = e.store.get(l.path);
      const mine = e.mine.get(l.path);
      if (read && mine) {
        // Proven the same, yet the ETag is not its MD5 ETag (unless it was cut into other parts).
        const ours = localEtag(l, r);
        if (mine[read.algorithm].includes(read.value)) otherSeen ||= Boolean(r.etag && ours && (!MD5_SHAPED.test(r.etag) || parts(r.etag) === parts(ours)));
        else changed.push(l.path);
      } else if (!r.etag || !localEtag(l, r) || !MD5_SHAPED.test(r.etag) || parts(r.etag) !== parts(localEtag(l, r) as string) || pulledFrom(l, r)) {
        if (r.etag && !MD5_SHAPED.test(r.etag)) otherSeen = true;
        incomparable.push(l.path);
      } else open.push(l.path);
    }
  }
  const etagsAreMd5 = e.trust === 'md5' || (e.trust === 'auto' && md5Seen && !otherSeen);
  const differs = new Set([...changed, ...(etagsAreMd5 ? open : [])]);
  const doubtful = new Set([...incomparable, ...(etagsAreMd5 ? [] : open)]);
  const extra = remote.filter((r) => !here.has(r.path)).map((r) => r.path).sort();
  return {
    checked: local.length, missing, extra,
    // In the local listing's order, as compareEntries reports them.
    changed: local.filter((l) => differs.has(l.path)).map((l) => l.path),
    unproven: local.filter((l) => doubtful.has(l.path)).map((l) => l.path),
    byEtagOnly: etagsAreMd5 ? open : [],
    etags: otherSeen ? 'not md5' : md5Seen ? 'md5' : 'unknown',
  };
}
