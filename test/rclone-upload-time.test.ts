// rclone over S3 lists each object's upload time, not the file's; for an object aws-cli uploaded in
// parts (no MD5 rclone can tell) that time is all the plan has beyond the size. A same-size file
// changed since its upload is sent (a review found it never sent and the run `ok`); one older than its
// upload is not sent again. Real rclone and aws-cli against moto on 127.0.0.1.
import { randomBytes } from 'node:crypto';
import { readFileSync, utimesSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { firstPair } from './harness/lab.js';
import { awsCli, S3_KEYS, type S3Server } from './harness/moto.js';
import { s3Lab } from './harness/s3-manifest.js';

const s3 = inject('s3');
interface Pair { status: string; changes?: { transfer: string[] } }
const pairOf = firstPair<Pair>;

describe.skipIf(!s3)('rclone push over an object uploaded in parts by aws-cli (moto)', () => {
  it('sends the file once it changed after the upload, at the same size; not before', async () => {
    const server = s3 as S3Server;
    const { lab, bucket } = await s3Lab(server, 'rclone');
    const big = lab.path('raw/big.bin');
    lab.write(big, randomBytes(9 * 1024 * 1024));
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(big, hourAgo, hourAgo);
    await awsCli(server, lab.env, ['s3', 'cp', big, `s3://${bucket}/lab/raw/big.bin`]);
    const etag = JSON.parse(await awsCli(server, lab.env, ['s3api', 'head-object', '--bucket', bucket, '--key', 'lab/raw/big.bin'])) as { ETag: string };
    expect(etag.ETag).toMatch(/-2"$/); // in parts: no MD5 for rclone to compare

    const same = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(same.exitCode, same.stdout + same.stderr).toBe(0);
    expect(pairOf(same).changes?.transfer).toEqual([]);

    const changed = randomBytes(9 * 1024 * 1024);
    lab.write(big, changed);
    const later = new Date(Date.now() + 60_000);
    utimesSync(big, later, later);
    const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(pairOf(r), r.stdout).toMatchObject({ status: 'ok', changes: { transfer: ['big.bin'] } });
    await awsCli(server, lab.env, ['s3', 'cp', `s3://${bucket}/lab/raw/big.bin`, lab.outside('got.bin')]);
    expect(readFileSync(lab.outside('got.bin')).equals(changed)).toBe(true);
  });
});
