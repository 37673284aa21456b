// rclone pairs on S3 (issue 12): labsync lists the bucket itself where it reads the remote's endpoint
// and keys as rclone would (adapters/rclone/s3-target.ts); everywhere else `rclone lsjson --hash` lists,
// as before. Which lister ran is read from --json's commands; the work from bytesHashed.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { directTarget } from '../src/exec/s3-direct.js';
import { readMd5Meta } from '../src/exec/s3-meta.js';
import { json, Lab } from './harness/lab.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { pastRacyWindow } from './harness/wait.js';

const s3 = inject('s3');
const vgw = inject('versitygw');
interface Pair { status: string; error: string | null; warnings: string[]; verify: { status: string; checked: number; bytesHashed?: { local: number; remote: number }; unproven?: string[] } | null; commands: string[] }
const pair = (r: { stdout: string }): Pair => json<{ pairs: Pair[] }>(r as never).pairs[0] as Pair;
const OWN = /^GET http:\/\/127\.0\.0\.1:\d+\/\S+ list-objects-v2 prefix=lab\/raw\/ \(labsync's own listing, 1 page\)$/;
const LSJSON = /rclone lsjson .*--hash --hash-type MD5/;
/** No keys in labsync's environment: only what the test gives it. */
const NO_KEYS = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' };

describe.skipIf(!s3)('rclone on S3: labsync\'s own listing, or rclone\'s (moto on 127.0.0.1)', () => {
  const server = s3 as S3Server;
  const pairs = (remote: string): string => `version: 1
defaults:
  retries: 0
remotes:
  store: ${remote}
data:
  - name: raw
    tool: rclone
    local: raw
    remote: store:raw
`;
  const s3Remote = (bucket: string): string => `{ type: s3, bucket: ${bucket}, prefix: lab, region: us-east-1, endpoint: "${server.endpoint}" }`;
  const rcloneRemote = (bucket: string, extra = ''): string =>
    `{ type: rclone, remote: mys3, path: ${bucket}/lab, config: { type: s3, provider: Other, endpoint: "${server.endpoint}", region: us-east-1, access_key_id: ${S3_KEYS.AWS_ACCESS_KEY_ID}, secret_access_key: ${S3_KEYS.AWS_SECRET_ACCESS_KEY}${extra} } }`;

  it('keys only rclone finds (a shared credentials file): rclone lsjson lists, check still reads no file', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(pairs(s3Remote(bucket)));
    lab.write(lab.outside('home/.aws/credentials'), `[default]\naws_access_key_id = ${S3_KEYS.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${S3_KEYS.AWS_SECRET_ACCESS_KEY}\n`);
    for (let i = 0; i < 5; i++) lab.write(lab.path('raw', `f${i}`), randomBytes(100 + i));
    await pastRacyWindow();
    const push = await lab.cli(['data', 'push', '--json'], { env: NO_KEYS });
    expect(push.exitCode, push.stdout + push.stderr).toBe(0);
    expect(pair(push)).toMatchObject({ status: 'ok', verify: { status: 'in_sync', checked: 5 } });
    expect(pair(push).commands[0]).toMatch(LSJSON);
    const check = await lab.cli(['check', '--json'], { env: NO_KEYS });
    expect(pair(check)).toMatchObject({ status: 'in_sync', verify: { checked: 5, bytesHashed: { local: 0, remote: 0 } } });
    expect(pair(check).commands).toHaveLength(1);
    expect(pair(check).commands[0]).toMatch(LSJSON);
  });

  it('a type: rclone remote with keys in its config is listed by labsync; a setting labsync does not read hands it back to rclone', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(pairs(rcloneRemote(bucket)));
    for (let i = 0; i < 5; i++) lab.write(lab.path('raw', `d${i % 2}`, `f${i}`), randomBytes(100 + i));
    await pastRacyWindow();
    const push = await lab.cli(['data', 'push', '--json'], { env: NO_KEYS });
    expect(push.exitCode, push.stdout + push.stderr).toBe(0);
    expect(pair(push)).toMatchObject({ status: 'ok', verify: { status: 'in_sync', checked: 5 } });
    expect(pair(push).commands[0]).toMatch(OWN);
    const check = await lab.cli(['check', '--json'], { env: NO_KEYS });
    expect(pair(check)).toMatchObject({ status: 'in_sync', verify: { checked: 5, bytesHashed: { local: 0, remote: 0 } } });
    expect(pair(check).commands).toEqual([expect.stringMatching(OWN)]);
    for (const text of [push.stdout, push.stderr, check.stdout]) expect(text).not.toContain(S3_KEYS.AWS_SECRET_ACCESS_KEY);

    // The same answer from rclone's listing, once the remote carries a setting labsync does not read.
    lab.manifest(pairs(rcloneRemote(bucket, ', list_chunk: "2"')));
    const again = await lab.cli(['check', '--json'], { env: NO_KEYS });
    expect(pair(again)).toMatchObject({ status: 'in_sync', verify: { checked: 5, bytesHashed: { local: 0, remote: 0 } } });
    expect(pair(again).commands).toEqual([expect.stringMatching(LSJSON)]);
  });

  it('an object with a multipart ETag: its MD5 comes from the metadata rclone writes, never from the ETag', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    // rclone uploads in 5 MiB parts above 5 MiB here, and keeps the whole file's MD5 in X-Amz-Meta-Md5chksum.
    lab.manifest(pairs(rcloneRemote(bucket, ', upload_cutoff: 5M, chunk_size: 5M')));
    lab.write(lab.path('raw/small'), 'small');
    lab.write(lab.path('raw/big'), randomBytes(6 * 1024 * 1024));
    await pastRacyWindow();
    const push = await lab.cli(['data', 'push', '--json'], { env: NO_KEYS });
    expect(push.exitCode, push.stdout + push.stderr).toBe(0);
    const check = await lab.cli(['check', '--json'], { env: NO_KEYS });
    expect(pair(check).commands).toEqual([expect.stringMatching(/\(labsync's own listing, 1 page, the MD5 of 1 object from its metadata\)$/)]);
    expect(pair(check)).toMatchObject({ status: 'in_sync', warnings: [], verify: { checked: 2, bytesHashed: { local: 0, remote: 0 } } });
    expect(pair(check).verify?.unproven).toBeUndefined();

    // Same size, other bytes, uploaded by aws-cli in parts: an ETag "…-2" and no MD5 beside it.
    const other = lab.outside('other');
    lab.write(other, randomBytes(6 * 1024 * 1024));
    lab.write(lab.outside('aws-config'), '[default]\ns3 =\n  multipart_threshold = 5MB\n  multipart_chunksize = 5MB\n');
    await awsCli(server, { ...lab.env, AWS_CONFIG_FILE: lab.outside('aws-config') }, ['s3', 'cp', other, `s3://${bucket}/lab/raw/big`]);
    const after = await lab.cli(['check', '--json'], { env: NO_KEYS });
    // Not provable (rclone knows no MD5 for it either), so compared by size and said so, never taken for drift by ETag.
    expect(pair(after)).toMatchObject({ status: 'in_sync', verify: { unproven: ['big'] } });
    expect(pair(after).commands[0]).toMatch(/the MD5 of 1 object from its metadata\)$/);
  });
});

describe.skipIf(!vgw)('the metadata read is signed as S3 wants it (versitygw checks the signature)', () => {
  it('reads md5chksum of a key with a space and non-ASCII letters; a wrong secret is refused with 403', async () => {
    const server = vgw as S3Server;
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.write(lab.outside('obj'), 'content');
    const md5 = createHash('md5').update('content').digest();
    await awsCli(server, lab.env, ['s3', 'cp', '--metadata', `md5chksum=${md5.toString('base64')}`, lab.outside('obj'), `s3://${bucket}/p/sub dir/ü+b`]);
    await awsCli(server, lab.env, ['s3', 'cp', lab.outside('obj'), `s3://${bucket}/p/plain`]);
    const at = (keys: Record<string, string>) => {
      const t = directTarget({ type: 's3', bucket, prefix: 'p', endpoint: server.endpoint, region: 'us-east-1' }, keys, '');
      if ('reason' in t) throw new Error(t.reason);
      return t;
    };
    const o = { signal: new AbortController().signal, requestTimeoutMs: 30_000 };
    expect(await readMd5Meta(at(S3_KEYS), 'sub dir/ü+b', o)).toBe(md5.toString('hex'));
    expect(await readMd5Meta(at(S3_KEYS), 'plain', o)).toBeUndefined();
    await expect(readMd5Meta(at({ ...S3_KEYS, AWS_SECRET_ACCESS_KEY: 'wrong' }), 'plain', o)).rejects.toThrow(/HTTP 403/);
  });
});
