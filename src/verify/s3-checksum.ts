// S3's additional checksums (x-amz-checksum-*), computed locally for the few files whose ETag cannot
// say whether they match. A store reports one of two forms: the checksum of the whole object
// (FULL_OBJECT), or for a multipart upload the checksum of the parts' checksums (COMPOSITE, shown as
// "…-N" by AWS). Which one depends on the uploader, so both are computed in one read.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { partSizeFor } from './etag.js';

/** The algorithms labsync can recompute; a store's other ones (CRC32C, CRC64NVME, …) cannot prove anything here. */
export const CHECKSUM_ALGORITHMS = ['SHA256', 'CRC32'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** Base64 values, as S3 prints them; `parts` only when the file is at least one part long. */
export interface LocalChecksums { readonly SHA256: readonly string[]; readonly CRC32: readonly string[] }

// zlib.crc32 exists from Node 20.15; the table is the fallback for the older 20.x that labsync allows.
// zlib is loaded on first use: loading it cost every run ~5 ms of CPU, and few runs compute a CRC.
type Crc = (data: Uint8Array, value?: number) => number;
let nativeCrc: Crc | null | undefined;
let table: Uint32Array | undefined;
function crc32(data: Uint8Array, value = 0): number {
  nativeCrc ??= (createRequire(import.meta.url)('node:zlib') as { crc32?: Crc }).crc32 ?? null;
  if (nativeCrc) return nativeCrc(data, value);
  table ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let c = ~value >>> 0;
  for (const byte of data) c = (table[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

const crcBytes = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/**
 * Both forms of both algorithms for one file. `chunk`: the uploader's multipart chunk size; `threshold`
 * (default: the chunk): a file shorter than that was sent whole and has only the whole-object form.
 */
export async function localChecksums(path: string, chunk: number, threshold = chunk): Promise<LocalChecksums> {
  // Parts as the uploader cut them (aws-cli doubles its chunk size for a file of over 10,000 parts).
  const partSize = partSizeFor((await stat(path)).size, chunk);
  const whole = createHash('sha256');
  let wholeCrc = 0;
  const partShas: Buffer[] = [];
  const partCrcs: Buffer[] = [];
  let part: Hash = createHash('sha256');
  let partCrc = 0;
  let inPart = 0;
  let total = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    whole.update(chunk);
    wholeCrc = crc32(chunk, wholeCrc);
    total += chunk.length;
    for (let at = 0; at < chunk.length; ) {
      const piece = chunk.subarray(at, at + Math.min(chunk.length - at, partSize - inPart));
      part.update(piece);
      partCrc = crc32(piece, partCrc);
      inPart += piece.length;
      at += piece.length;
      if (inPart === partSize) {
        partShas.push(part.digest());
        partCrcs.push(crcBytes(partCrc));
        part = createHash('sha256');
        partCrc = 0;
        inPart = 0;
      }
    }
  }
  const SHA256 = [whole.digest('base64')];
  const CRC32 = [crcBytes(wholeCrc).toString('base64')];
  if (total >= threshold) {
    if (inPart > 0) {
      partShas.push(part.digest());
      partCrcs.push(crcBytes(partCrc));
    }
    SHA256.push(createHash('sha256').update(Buffer.concat(partShas)).digest('base64'));
    CRC32.push(crcBytes(crc32(Buffer.concat(partCrcs))).toString('base64'));
  }
  return { SHA256, CRC32 };
}
