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
  /** S3: the additional checksum algorithms the listing says the object carries (SHA256, CRC32, …). */
  readonly checksums?: readonly string[];
}

export function compareEntries(local: readonly Entry[], remote: readonly Entry[], mode: 'checksum' | 'size'): VerifyReport {
  const there = new Map(remote.map((e) => [e.path, e]));
  const here = new Set(local.map((e) => e.path));
  const missing: string[] = [];
  const changed: string[] = [];
  for (const l of local) {
    const r = there.get(l.path);
    if (!r) missing.push(l.path);
    else if (l.size !== r.size) changed.push(l.path);
    else if (mode === 'checksum' && !sameContent(l, r)) changed.push(l.path);
  }
  const extra = remote.filter((r) => !here.has(r.path)).map((r) => r.path);
  return { checked: local.length, missing, extra: extra.sort(), changed };
}

function sameContent(l: Entry, r: Entry): boolean {
  if (r.sha256 && l.sha256) return r.sha256 === l.sha256;
  if (r.md5 && l.md5) return r.md5 === l.md5;
  if (r.etag && l.etag) return r.etag === l.etag;
  // Nothing comparable: say so by counting it as changed rather than pretending it matched.
  return false;
}
