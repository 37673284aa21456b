// The verifier's S3 side: the listing proves what its ETags can; the stored checksums of the rest are
// read one object at a time (a HEAD each, so only those), and what neither proves is said, not guessed.
import { join } from 'node:path';
import type { Lister, VerifyReport } from '../adapters/types.js';
import type { ResolvedPair } from '../types.js';
import type { Entry } from '../verify/compare.js';
import { AWS_PART_SIZE } from '../verify/etag.js';
import { localChecksums, type LocalChecksums } from '../verify/s3-checksum.js';
import { checksumsNeeded, judgeS3, type StoreChecksum } from '../verify/s3-judge.js';
import type { AttemptContext } from './attempt.js';
import { probe, type Body } from './outcome.js';

/** `hashed`: counts the local bytes read here (the files whose checksums the store's are compared with). */
export async function compareS3(stored: NonNullable<Lister['checksums']>, pair: ResolvedPair, local: readonly Entry[], remote: readonly Entry[], ctx: AttemptContext, hashed?: { bytes: number }): Promise<{ value: VerifyReport } | { stop: Body }> {
  if (pair.remote.type !== 's3') throw new Error(`compareS3 needs an s3 remote (pair ${pair.name})`);
  const { partSize = AWS_PART_SIZE, partThreshold, etag = 'auto' } = pair.remote;
  const { listed, toRead } = checksumsNeeded(local, remote);
  const store = new Map<string, StoreChecksum>(listed);
  if (toRead.length) {
    const read = await probe(stored(toRead), ctx);
    if ('stop' in read) return read;
    for (const [path, sum] of read.value) store.set(path, sum);
  }
  const mine = new Map<string, LocalChecksums>();
  const sizes = hashed ? new Map(local.map((e) => [e.path, e.size])) : undefined;
  for (const path of store.keys()) {
    mine.set(path, await localChecksums(join(pair.local, path), partSize, partThreshold ?? partSize));
    if (hashed) hashed.bytes += sizes?.get(path) ?? 0;
  }
  const { etags, byEtagOnly, ...report } = judgeS3(local, remote, { store, mine, trust: etag });
  if (byEtagOnly.length && etag === 'auto') {
    const n = byEtagOnly.length;
    ctx.emit({ kind: 'warning', pair: pair.name, message: `${n} file${n === 1 ? '' : 's'} judged changed by ETag alone (no checksum on the object${n === 1 ? '' : 's'}): ${byEtagOnly.slice(0, 3).join(', ')}${n > 3 ? ', …' : ''}; other ETags here are MD5s, so these are taken as MD5s too — if this store's ETags are not always MD5s (SSE-KMS, SSE-C, files written behind a gateway), set \`etag: opaque\` on the remote` });
  }
  if (!report.unproven.length) return { value: report };
  const why = etag === 'opaque' || etags === 'not md5'
    ? 'the store\'s ETags are not MD5s of the content'
    : 'no ETag in this listing could be shown to be an MD5 (set `etag: md5` on the remote if they are)';
  return { value: { ...report, unprovenReason: `${why}, and these objects carry no SHA-256 or CRC32 checksum` } };
}
