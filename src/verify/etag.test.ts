import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AWS_PART_SIZE, etagKey, partSizeFor } from './etag.js';
import { hashFileSync } from './hash-file.js';
import { hashTree } from './hash-tree.js';
import { localChecksums } from './s3-checksum.js';

const GiB = 1024 ** 3;
const dir = mkdtempSync(join(tmpdir(), 'labsync-etag-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The multipart ETag with parts of `part` bytes, computed independently of hash-file.ts. */
function etagOf(data: Buffer, part: number): string {
  const md5s: Buffer[] = [];
  for (let at = 0; at < data.length; at += part) md5s.push(createHash('md5').update(data.subarray(at, at + part)).digest());
  return `${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${md5s.length}`;
}

describe('partSizeFor (aws-cli: at most 10,000 parts)', () => {
  it('keeps the chunk size while the file fits in 10,000 parts, and doubles it until it does', () => {
    expect(partSizeFor(1 * GiB, AWS_PART_SIZE)).toBe(AWS_PART_SIZE);
    expect(partSizeFor(10_000 * AWS_PART_SIZE, AWS_PART_SIZE)).toBe(AWS_PART_SIZE);
    expect(partSizeFor(10_000 * AWS_PART_SIZE + 1, AWS_PART_SIZE)).toBe(2 * AWS_PART_SIZE);
    expect(partSizeFor(100 * GiB, AWS_PART_SIZE)).toBe(16 * 1024 * 1024);
    expect(partSizeFor(500 * GiB, AWS_PART_SIZE)).toBe(64 * 1024 * 1024);
  });

  it('the ETag and the composite checksum of a file of over 10,000 parts are cut as the uploader cuts them', async () => {
    // 4-byte chunks configured: 20,001 bytes would be 5,001 parts of 4 (doubled twice from 1 byte).
    const data = randomBytes(20_001);
    const file = join(dir, 'many-parts');
    writeFileSync(file, data);
    expect(partSizeFor(data.length, 1)).toBe(4);
    expect(hashFileSync({ path: file, sha256: false, md5: false, etagPartSize: 1 }, Buffer.alloc(4096)).etag).toBe(etagOf(data, 4));
    const parts: Buffer[] = [];
    for (let at = 0; at < data.length; at += 4) parts.push(createHash('sha256').update(data.subarray(at, at + 4)).digest());
    expect((await localChecksums(file, 1)).SHA256).toEqual([createHash('sha256').update(data).digest('base64'), createHash('sha256').update(Buffer.concat(parts)).digest('base64')]);
  });

  it('remembers such an ETag under the part size it was cut with: the next run reads nothing', async () => {
    const root = join(dir, 'tree');
    const data = randomBytes(20_001);
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'f'), data);
    const old = new Date(Date.now() - 3600_000);
    utimesSync(join(root, 'f'), old, old);
    // Past the racy window (its ctime is now): a file changed within it is not remembered.
    await new Promise((r) => setTimeout(r, 1100));
    const cacheDir = join(dir, 'cache');
    const first = { bytes: 0 };
    expect((await hashTree(root, { etagPartSize: 1, cacheDir, hashed: first }))[0]?.etag).toBe(etagOf(data, 4));
    expect(first.bytes).toBe(20_001);
    const again = { bytes: 0 };
    expect((await hashTree(root, { etagPartSize: 1, cacheDir, hashed: again }))[0]?.etag).toBe(etagOf(data, 4));
    expect(again.bytes).toBe(0);
  });

  it('a threshold above or below the part size: a file below it is sent whole (its MD5), one at or above it in parts, even one', async () => {
    const data = randomBytes(3000);
    const file = join(dir, 'threshold');
    writeFileSync(file, data);
    const md5 = createHash('md5').update(data).digest('hex');
    const at = (etagPartSize: number, etagThreshold?: number): string | undefined => hashFileSync({ path: file, sha256: false, md5: false, etagPartSize, ...(etagThreshold ? { etagThreshold } : {}) }, Buffer.alloc(4096)).etag;
    expect(at(4000)).toBe(md5);
    // aws's default threshold (8 MiB) under a larger multipart_chunksize: one part, "-1".
    expect(at(4000, 1000)).toBe(etagOf(data, 4000));
    expect(at(4000, 1000)).toMatch(/-1$/);
    expect(at(1000, 4000)).toBe(md5);
    expect(at(1000)).toBe(etagOf(data, 1000));
    // The cache keeps which way: the default threshold as rows always had it, the other way negative.
    expect(etagKey(3000, 4000)).toBe(4000);
    expect(etagKey(3000, 4000, 1000)).toBe(-4000);
    expect(etagKey(30000, 4000, 1000)).toBe(4000);
    expect(etagKey(3000, 1000, 4000)).toBe(-1000);
    // The composite checksum a store keeps for a file sent in one part (SSE-KMS buckets prove by it).
    const oneSha = createHash('sha256').update(createHash('sha256').update(data).digest()).digest('base64');
    expect((await localChecksums(file, 4000, 1000)).SHA256).toContain(oneSha);
    expect((await localChecksums(file, 4000)).SHA256).not.toContain(oneSha);
  });
});
