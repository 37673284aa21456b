// rclone pairs on S3 (issue 12): labsync lists the bucket itself where it reads the remote's endpoint
// and keys as rclone would (adapters/rclone/s3-target.ts); everywhere else `rclone lsjson --hash` lists,
// as before. Which lister ran is read from --json's commands; the work from bytesHashed.
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { pastRacyWindow } from './harness/wait.js';

const s3 = inject('s3');
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

  it('an object with a multipart ETag (no MD5) hands the listing to rclone, which reads its metadata', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(pairs(s3Remote(bucket)));
    lab.write(lab.path('raw/small'), 'small');
    // aws-cli uploads anything over 8 MiB in parts: an ETag "…-2", and no MD5 beside it.
    lab.write(lab.path('raw/big'), randomBytes(9 * 1024 * 1024));
    await awsCli(server, lab.env, ['s3', 'cp', lab.path('raw/big'), `s3://${bucket}/lab/raw/big`]);
    const check = await lab.cli(['check', '--json'], { env: S3_KEYS });
    const commands = pair(check).commands;
    expect(commands[0]).toMatch(/\(labsync's own listing, 1 page: an ETag is no MD5, or a key no file name; rclone lists instead\)$/);
    expect(commands[1]).toMatch(LSJSON);
    // Never taken for an MD5: what rclone could not learn is compared by size only, and said so.
    expect(pair(check)).toMatchObject({ verify: { unproven: ['big'] } });
  });
});
