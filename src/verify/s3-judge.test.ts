import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHead, parseListing } from '../adapters/aws/parse.js';
import type { Entry } from './compare.js';
import { localChecksums, type LocalChecksums } from './s3-checksum.js';
import { checksumsNeeded, etagChecksum, judgeS3, type StoreChecksum } from './s3-judge.js';
import { tempDirs } from '../temp-dirs.fixture.js';

const tempDir = tempDirs();

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/tool-output/aws-1.45.11/${name}`, import.meta.url), 'utf8');
const MiB = 1024 * 1024;
const md5 = (s: string | Buffer): string => createHash('md5').update(s).digest('hex');
// The recorded objects' content (written by the recording run): see fixtures/tool-output/aws-1.45.11/versitygw-*.
const big = Buffer.alloc(9 * MiB + 5, 'labsync');
const none = { store: new Map<string, StoreChecksum>(), mine: new Map<string, LocalChecksums>() };

describe('S3 listings (recorded from versitygw 1.8.0 and moto 5)', () => {
  it('keep each object\'s checksum algorithms; an ETag built from a checksum gives it without a request', () => {
    const listed = parseListing(fixture('versitygw-list-objects-v2.json'), 'lab/raw');
    expect(listed.find((e) => e.path === 'plain.csv')).toMatchObject({ path: 'plain.csv', size: 6, etag: 'CRC32-BGfdnA==', checksums: ['CRC32'] });
    expect(etagChecksum('SHA256-1onT6HuoKPKiV+eDOtcFeafIxhE/8RTTBcCEJx5jO0g=-2')).toEqual({ algorithm: 'SHA256', value: '1onT6HuoKPKiV+eDOtcFeafIxhE/8RTTBcCEJx5jO0g=' });
    expect(etagChecksum('dabb7e946dc634084a0ae518e0ecf268')).toBeUndefined();
    expect(parseListing(fixture('list-objects-v2.json'), 'lab/raw').find((e) => e.path === 'sub/c')?.checksums).toEqual(['CRC32']);
  });
  it('read a HEAD\'s checksum, composite suffix removed, SHA-256 first', () => {
    expect(parseHead(fixture('versitygw-head-object-sha256-composite.json'))).toEqual({ algorithm: 'SHA256', value: '1onT6HuoKPKiV+eDOtcFeafIxhE/8RTTBcCEJx5jO0g=' });
    expect(parseHead(fixture('versitygw-head-object-crc32.json'))).toEqual({ algorithm: 'CRC32', value: 'BGfdnA==' });
    expect(parseHead('{"ETag": "\\"x\\""}')).toBeUndefined();
  });
});

describe('localChecksums: what S3 stores, computed here', () => {
  const dir = tempDir('labsync-s3sum-');
  it('matches the whole-object and the composite (multipart) values versitygw recorded', async () => {
    writeFileSync(join(dir, 'big.bin'), big);
    writeFileSync(join(dir, 'plain.csv'), 'row 1\n');
    const sums = await localChecksums(join(dir, 'big.bin'), 8 * MiB);
    expect(sums.SHA256).toContain('1onT6HuoKPKiV+eDOtcFeafIxhE/8RTTBcCEJx5jO0g=');
    expect(sums.CRC32).toContain('DKEwFg==');
    expect((await localChecksums(join(dir, 'plain.csv'), 8 * MiB)).CRC32).toEqual(['BGfdnA==']);
  });
});

describe('judgeS3: drift only where the store proves it', () => {
  const versity = parseListing(fixture('versitygw-list-objects-v2.json'), 'lab/raw');
  const localOf = (content: Record<string, string | Buffer>): Entry[] =>
    Object.entries(content).map(([path, data]) => ({ path, size: Buffer.byteLength(data), etag: md5(data) }));
  const files = { 'plain.csv': 'row 1\n', 'with space.csv': 'with sha\n', 'sub/big.bin': big, 'sub/big-crc.bin': big };

  it('checksum ETags (versitygw --data-integrity-etag): all proven from the listing alone, none read', async () => {
    const dir = tempDir('labsync-judge-');
    const local = localOf(files);
    const { listed, toRead } = checksumsNeeded(local, versity);
    expect(toRead).toEqual([]);
    expect([...listed.keys()].sort()).toEqual(['plain.csv', 'sub/big-crc.bin', 'sub/big.bin', 'with space.csv']);
    const mine = new Map<string, LocalChecksums>();
    for (const [path, data] of Object.entries(files)) {
      writeFileSync(join(dir, path.replace('/', '_')), data);
      mine.set(path, await localChecksums(join(dir, path.replace('/', '_')), 8 * MiB));
    }
    const same = judgeS3(local, versity, { store: listed, mine, trust: 'auto' });
    expect(same).toMatchObject({ checked: 4, missing: [], extra: [], changed: [], unproven: [], etags: 'not md5' });
    // A same-size change: the checksum proves the difference.
    writeFileSync(join(dir, 'plain.csv'), 'row 2\n');
    mine.set('plain.csv', await localChecksums(join(dir, 'plain.csv'), 8 * MiB));
    expect(judgeS3(localOf({ ...files, 'plain.csv': 'row 2\n' }), versity, { store: listed, mine, trust: 'auto' }).changed).toEqual(['plain.csv']);
  });

  it('an MD5-shaped ETag that is not the MD5 and no checksum (a file placed behind the gateway): unproven unless the store is known to give MD5s', () => {
    const listing = parseListing(fixture('versitygw-default-etag-list-objects-v2.json'), 'lab/raw');
    expect(listing.find((e) => e.path === 'placed.csv')).toMatchObject({ path: 'placed.csv', size: 7, etag: '0123456789abcdef0123456789abcdef' });
    const placed = localOf({ 'placed.csv': 'placed\n' });
    expect(checksumsNeeded(placed, listing).toRead).toEqual([]);
    // Alone, nothing shows the ETags are MD5s: sizes only, said so.
    expect(judgeS3(placed, listing, { ...none, trust: 'auto' })).toMatchObject({ changed: [], unproven: ['placed.csv'], etags: 'unknown' });
    expect(judgeS3(placed, listing, { ...none, trust: 'opaque' })).toMatchObject({ changed: [], unproven: ['placed.csv'] });
    // Declared MD5s, or another object's ETag equal to its MD5 in the same listing: the mismatch is drift.
    expect(judgeS3(placed, listing, { ...none, trust: 'md5' })).toMatchObject({ changed: ['placed.csv'], unproven: [] });
    const both = localOf({ 'placed.csv': 'placed\n', 'plain.csv': 'row 1\n' });
    expect(judgeS3(both, listing, { ...none, trust: 'auto' })).toMatchObject({ changed: ['placed.csv'], unproven: [], etags: 'md5', byEtagOnly: ['placed.csv'] });
    expect(judgeS3(both, listing, { ...none, trust: 'opaque' })).toMatchObject({ changed: [], unproven: ['placed.csv'] });
  });

  it('a plain ETag equal to the file\'s MD5 proves it, whatever part size this side cut it into (aws-cli\'s multipart_threshold above its part size)', () => {
    const local: Entry[] = [{ path: 'a', size: 9, md5: '1'.repeat(32), etag: `${'2'.repeat(32)}-2` }];
    expect(judgeS3(local, [{ path: 'a', size: 9, etag: '1'.repeat(32) }], { ...none, trust: 'auto' })).toMatchObject({ changed: [], unproven: [], etags: 'md5' });
    expect(checksumsNeeded(local, [{ path: 'a', size: 9, etag: '1'.repeat(32), checksums: ['SHA256'] }]).toRead).toEqual([]);
    expect(judgeS3(local, [{ path: 'a', size: 9, etag: '3'.repeat(32) }], { ...none, trust: 'md5' })).toMatchObject({ changed: ['a'], unproven: [] });
    // Cut into another number of parts there: nothing to compare.
    expect(judgeS3(local, [{ path: 'a', size: 9, etag: `${'3'.repeat(32)}-3` }], { ...none, trust: 'md5' })).toMatchObject({ changed: [], unproven: ['a'] });
  });

  it('a file pulled from an object cut into as many parts of another size (its mtime is the upload time): unproven, never drift', () => {
    const md5Like = (c: string): string => c.repeat(32);
    const other = { path: 'plain', size: 1, etag: md5Like('9') };
    const local: Entry[] = [{ path: 'b.bin', size: 9, md5: md5Like('1'), etag: `${md5Like('2')}-2`, mtimeMs: 1_700_000_000_000 }, { path: 'plain', size: 1, md5: md5Like('9'), etag: md5Like('9') }];
    const pulled = [{ path: 'b.bin', size: 9, etag: `${md5Like('3')}-2`, uploadedMs: 1_700_000_000_000 }, other];
    expect(judgeS3(local, pulled, { ...none, trust: 'auto' })).toMatchObject({ changed: [], unproven: ['b.bin'], etags: 'md5' });
    // Not pulled from it (another mtime): with MD5 ETags in the listing, a mismatch is drift as before.
    const since = [{ ...pulled[0], uploadedMs: 1_700_000_500_000 }, other] as Entry[];
    expect(judgeS3(local, since, { ...none, trust: 'auto' })).toMatchObject({ changed: ['b.bin'] });
  });

  it('a checksum proving an object equal despite its MD5-shaped ETag marks the store\'s ETags as not MD5s (SSE-KMS)', () => {
    const kms: Entry[] = [
      { path: 'a', size: 1, etag: '11111111111111111111111111111111', checksums: ['SHA256'] },
      { path: 'b', size: 1, etag: '22222222222222222222222222222222' },
      { path: 'c', size: 1, etag: md5('c') },
    ];
    const local = localOf({ a: 'a', b: 'b', c: 'c' });
    expect(checksumsNeeded(local, kms).toRead).toEqual(['a']);
    const sha = createHash('sha256').update('a').digest('base64');
    const evidence = { store: new Map([['a', { algorithm: 'SHA256' as const, value: sha }]]), mine: new Map([['a', { SHA256: [sha], CRC32: [] }]]) };
    expect(judgeS3(local, kms, { ...evidence, trust: 'auto' })).toMatchObject({ changed: [], unproven: ['b'], etags: 'not md5' });
    // The checksum also proves a difference, whatever the ETags.
    const other = { ...evidence, mine: new Map([['a', { SHA256: ['x'], CRC32: [] }]]) };
    expect(judgeS3(local, kms, { ...other, trust: 'opaque' }).changed).toEqual(['a']);
  });

  it('a multipart ETag of another part count cannot be compared: unproven, not changed', () => {
    const local: Entry[] = [{ path: 'm', size: 20 * MiB, etag: `${md5('x')}-3` }, { path: 's', size: 1, etag: md5('s') }];
    const remote: Entry[] = [{ path: 'm', size: 20 * MiB, etag: `${md5('y')}-4` }, { path: 's', size: 1, etag: md5('s') }];
    expect(judgeS3(local, remote, { ...none, trust: 'auto' })).toMatchObject({ changed: [], unproven: ['m'] });
  });

  it('sizes, missing and extra objects are proof enough on any store', () => {
    const local = localOf({ a: 'aa', b: 'b' });
    const remote: Entry[] = [{ path: 'a', size: 1, etag: 'CRC32-AAAAAA==' }, { path: 'z', size: 1 }];
    expect(judgeS3(local, remote, { ...none, trust: 'opaque' })).toMatchObject({ checked: 2, changed: ['a'], missing: ['b'], extra: ['z'], unproven: [] });
  });
});
