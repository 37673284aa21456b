// S3 ETags: a single-part ETag is the object's MD5; a multipart one is md5(concat(md5 of each part))-N,
// so it can only be recomputed with the uploader's part size (hash-file.ts computes both in one pass).

/** aws-cli's defaults: multipart_threshold = multipart_chunksize = 8 MiB. */
export const AWS_PART_SIZE = 8 * 1024 * 1024;
