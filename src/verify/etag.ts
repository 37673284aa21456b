// S3 ETags: a single-part ETag is the object's MD5; a multipart one is md5(concat(md5 of each part))-N,
// so it can only be recomputed with the uploader's part size (hash-file.ts computes both in one pass).

/** aws-cli's defaults: multipart_threshold = multipart_chunksize = 8 MiB. */
export const AWS_PART_SIZE = 8 * 1024 * 1024;

/** S3 takes at most this many parts per upload. */
const MAX_PARTS = 10_000;

/**
 * The part size aws-cli (s3transfer's ChunksizeAdjuster) uploads a file of `fileSize` bytes with:
 * `chunk`, doubled until the file fits in 10,000 parts. A 100 GiB file goes in 16 MiB parts, not 8:
 * an ETag recomputed with 8 MiB parts never matched, and the file was sent again on every run.
 */
export function partSizeFor(fileSize: number, chunk: number): number {
  let size = chunk;
  while (Math.ceil(fileSize / size) > MAX_PARTS) size *= 2;
  return size;
}

/**
 * What a hash cache row keeps beside a file's ETag (row[8]): the part size it was cut with, negative
 * where aws-cli's multipart_threshold sends the file the other way (whole, or in parts) than a
 * threshold equal to the part size would. A row made under another threshold is then not taken; with
 * the default (threshold = part size) the value is the part size, as rows written before it.
 */
export function etagKey(fileSize: number, chunk: number, threshold = chunk): number {
  const size = partSizeFor(fileSize, chunk);
  return fileSize >= threshold === fileSize >= chunk ? size : -size;
}
