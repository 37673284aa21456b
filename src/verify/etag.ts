// S3 ETags from local bytes: a single-part ETag is the MD5; a multipart one is
// md5(concat(md5 of each part))-N, so it can only be recomputed with the uploader's part size.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** aws-cli's defaults: multipart_threshold = multipart_chunksize = 8 MiB. */
export const AWS_PART_SIZE = 8 * 1024 * 1024;

export interface FileDigest { readonly md5: string; readonly etag: string }

/** One read pass: the whole-file MD5 and the ETag aws-cli's upload would produce. */
export async function digestFile(path: string, partSize = AWS_PART_SIZE): Promise<FileDigest> {
  const whole = createHash('md5');
  const partDigests: Buffer[] = [];
  let part = createHash('md5');
  let inPart = 0;
  let total = 0;
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  const handle = await open(path, 'r');
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (!bytesRead) break;
      let offset = 0;
      while (offset < bytesRead) {
        const take = Math.min(bytesRead - offset, partSize - inPart);
        const slice = buffer.subarray(offset, offset + take);
        whole.update(slice);
        part.update(slice);
        inPart += take;
        offset += take;
        if (inPart === partSize) {
          partDigests.push(part.digest());
          part = createHash('md5');
          inPart = 0;
        }
      }
      total += bytesRead;
    }
  } finally {
    await handle.close();
  }
  if (inPart > 0) partDigests.push(part.digest());
  const md5 = whole.digest('hex');
  const etag = total >= partSize ? `${createHash('md5').update(Buffer.concat(partDigests)).digest('hex')}-${partDigests.length}` : md5;
  return { md5, etag };
}
