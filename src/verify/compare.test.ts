import { writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareEntries } from './compare.js';
import { hashFileSync } from './hash-file.js';
import { tempDirs } from '../temp-dirs.fixture.js';

const tempDir = tempDirs();

describe('compareEntries', () => {
  it('finds missing, extra and changed by checksum, or by size only', () => {
    const [x, y, z, q] = ['1', '2', '3', '4'].map((c) => c.repeat(32));
    const local = [{ path: 'a', size: 1, etag: x }, { path: 'b', size: 2, etag: y }, { path: 'c', size: 3, etag: z }];
    const remote = [{ path: 'b', size: 2, etag: q }, { path: 'c', size: 3, etag: z }, { path: 'd', size: 1, etag: q }];
    expect(compareEntries(local, remote, 'checksum')).toEqual({ checked: 3, missing: ['a'], extra: ['d'], changed: ['b'] });
    expect(compareEntries(local, remote, 'size')).toEqual({ checked: 3, missing: ['a'], extra: ['d'], changed: [] });
  });
  it('never reports drift it cannot prove: no checksum in common (or an ETag that is no MD5) is checked by size and said', () => {
    const local = [{ path: 'a', size: 1, md5: '1'.repeat(32), etag: '1'.repeat(32) }, { path: 'b', size: 2, md5: '2'.repeat(32) }];
    const remote = [{ path: 'a', size: 1, etag: 'SHA256-abc' }, { path: 'b', size: 2 }];
    expect(compareEntries(local, remote, 'checksum')).toMatchObject({ changed: [], unproven: ['a', 'b'], unprovenReason: expect.stringMatching(/no checksum/) });
  });
});

describe('hashFileSync: MD5 and S3 ETag in one pass', () => {
  const dir = tempDir('labsync-etag-');
  it('is the MD5 for a small file', async () => {
    const data = randomBytes(1000);
    writeFileSync(join(dir, 's'), data);
    const md5 = createHash('md5').update(data).digest('hex');
    expect(hashFileSync({ path: join(dir, 's'), sha256: false, md5: true, etagPartSize: 8 * 1024 * 1024 }, Buffer.alloc(64))).toEqual({ md5, etag: md5 });
  });
  it('is md5(part md5s)-N for a file at or over the part size', async () => {
    const data = randomBytes(2500);
    writeFileSync(join(dir, 'm'), data);
    const parts = [data.subarray(0, 1000), data.subarray(1000, 2000), data.subarray(2000)].map((p) => createHash('md5').update(p).digest());
    const expected = `${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-3`;
    expect(hashFileSync({ path: join(dir, 'm'), sha256: true, md5: false, etagPartSize: 1000 }, Buffer.alloc(300)).etag).toBe(expected);
  });
});
