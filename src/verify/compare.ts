// Pure: two listings → what is missing on the remote, extra there, and changed.
import type { VerifyReport } from '../adapters/types.js';

export interface Entry {
  readonly path: string;
  readonly size: number;
  /** Modification time in ms since the epoch, where the side lists one (the quick check's other half). */
  readonly mtimeMs?: number;
  /** S3 ETag (quotes removed); "…-N" for a multipart upload. */
  readonly etag?: string;
  readonly md5?: string;
  readonly sha256?: string;
  /** git's blob id (sha1 of "blob <size>\0" + content): what the Hugging Face Hub lists for a file not in LFS. */
  readonly gitSha1?: string;
  /**
   * When the store received the object (S3's LastModified, rclone's server modtime), where that is all
   * the listing tells of its time: not the file's mtime, so never compared as one (plan/compute.ts differs).
   */
  readonly uploadedMs?: number;
  /** S3: the additional checksum algorithms the listing says the object carries (SHA256, CRC32, …). */
  readonly checksums?: readonly string[];
}

export function compareEntries(local: readonly Entry[], remote: readonly Entry[], mode: 'checksum' | 'size'): VerifyReport {
  const there = new Map(remote.map((e) => [e.path, e]));
  const here = new Set(local.map((e) => e.path));
  const missing: string[] = [];
  const changed: string[] = [];
  const unproven: string[] = [];
  for (const l of local) {
    const r = there.get(l.path);
    if (!r) missing.push(l.path);
    else if (l.size !== r.size) changed.push(l.path);
    else if (mode === 'checksum') {
      const same = sameContent(l, r);
      if (same === false) changed.push(l.path);
      else if (same === undefined) unproven.push(l.path);
    }
  }
  const extra = remote.filter((r) => !here.has(r.path)).map((r) => r.path);
  return {
    checked: local.length, missing, extra: extra.sort(), changed,
    ...(unproven.length ? { unproven, unprovenReason: 'the remote listed no checksum labsync can compute for them' } : {}),
  };
}

/**
 * undefined: nothing both sides know to compare (a remote listing no hash, an ETag that is no MD5).
 * Drift is only what can be proven, so such a file is reported as checked by size, never as changed.
 */
function sameContent(l: Entry, r: Entry): boolean | undefined {
  if (r.sha256 && l.sha256) return r.sha256 === l.sha256;
  if (r.gitSha1 && l.gitSha1) return r.gitSha1 === l.gitSha1;
  if (r.md5 && l.md5) return r.md5 === l.md5;
  if (r.etag && l.etag && MD5_ETAG.test(r.etag)) return r.etag === l.etag;
  return undefined;
}

/** An S3 ETag that is an MD5 of the content (or of its parts, "-N"); others (SSE-KMS, CRC-based) prove nothing here. */
export const MD5_ETAG = /^[0-9a-f]{32}(-\d+)?$/;
