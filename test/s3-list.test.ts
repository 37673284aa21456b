// labsync's own S3 listing (exec/s3-list.ts) against moto and, where built, versitygw (which checks
// signatures): pages counted, and every way it can fail hands the listing back to aws-cli.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { directTarget, type S3Target } from '../src/exec/s3-direct.js';
import { listS3 } from '../src/exec/s3-list.js';
import { json, Lab } from './harness/lab.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';

const s3 = inject('s3');
const vgw = inject('versitygw');
interface Pair { status: string; error: string | null; verify: { status: string; checked: number } | null; commands: string[] }
const pair = (r: { stdout: string }): Pair => json<{ pairs: Pair[] }>(r as never).pairs[0] as Pair;

function target(server: S3Server, bucket: string, prefix: string, keys: Record<string, string> = S3_KEYS): S3Target {
  const t = directTarget({ type: 's3', bucket, prefix, endpoint: server.endpoint, region: 'us-east-1' }, keys, '');
  if ('reason' in t) throw new Error(t.reason);
  return t;
}
const options = { signal: new AbortController().signal, requestTimeoutMs: 30_000 };

describe.skipIf(!s3)('labsync lists S3 itself (moto on 127.0.0.1)', () => {
  const server = s3 as S3Server;
  const manifest = (bucket: string, remoteExtra = ''): string => `version: 1
defaults:
  retries: 0
remotes:
  store: { type: s3, bucket: ${bucket}, prefix: lab, region: us-east-1, endpoint: "${server.endpoint}"${remoteExtra} }
data:
  - name: raw
    tool: aws
    local: raw
    remote: store:raw
`;

  it('follows continuation tokens page by page, and keeps to the prefix', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    for (let i = 0; i < 5; i++) lab.write(lab.path('up', `k${i}`), `v${i}`);
    lab.write(lab.path('up', 'sub dir', 'a&b'), 'x');
    await awsCli(server, lab.env, ['s3', 'cp', '--recursive', lab.path('up'), `s3://${bucket}/lab/raw/`]);
    await awsCli(server, lab.env, ['s3', 'cp', lab.path('up', 'k0'), `s3://${bucket}/lab/rawother/k0`]);
    const pages = { n: 0 };
    const got = await listS3(target(server, bucket, 'lab/raw'), { ...options, pageSize: 2 }, pages);
    expect(got.map((e) => e.path).sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'sub dir/a&b']);
    expect(got[0]).toMatchObject({ size: 2, etag: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(pages.n).toBe(3);
    // The whole bucket (no prefix) and an empty prefix.
    expect(await listS3(target(server, bucket, ''), options)).toHaveLength(7);
    expect(await listS3(target(server, bucket, 'none'), options)).toEqual([]);
  });

  it('a missing bucket and a dead server are errors, each request bounded', async () => {
    await expect(listS3(target(server, 'no-such-bucket-here', 'p'), options)).rejects.toThrow(/HTTP 404 NoSuchBucket/);
    const dead = { ...server, endpoint: 'http://127.0.0.1:1' };
    await expect(listS3(target(dead, 'b', 'p'), options)).rejects.toThrow();
  });

  it('a push whose own listing fails is listed by aws-cli instead, whose error the pair reports', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(bucket).replace(server.endpoint, 'http://127.0.0.1:1'));
    lab.write(lab.path('raw/a'), 'a');
    const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(r.exitCode).toBe(1);
    expect(pair(r).status).toBe('failed');
    expect(pair(r).commands[0]).toMatch(/^GET http:\/\/127\.0\.0\.1:1\/.* \(labsync's own listing failed: .*; aws-cli lists instead\)$/);
    expect(pair(r).commands[1]).toMatch(/aws s3api list-objects-v2 /);
    expect(pair(r).error).toMatch(/s3api list-objects-v2/);
  });

  it('credentials from a profile are left to aws-cli, which lists as before', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    mkdirSync(join(lab.home, '.aws'), { recursive: true });
    writeFileSync(join(lab.home, '.aws', 'credentials'), `[lab]\naws_access_key_id = ${S3_KEYS.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${S3_KEYS.AWS_SECRET_ACCESS_KEY}\n`);
    lab.manifest(manifest(bucket, ', profile: lab'));
    lab.write(lab.path('raw/a'), 'a');
    const first = await lab.cli(['data', 'push', '--json']);
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    const r = await lab.cli(['data', 'push', '--json']);
    expect(pair(r)).toMatchObject({ status: 'ok', verify: { status: 'in_sync', checked: 1 } });
    expect(pair(r).commands).toHaveLength(1);
    expect(pair(r).commands[0]).toMatch(/aws s3api list-objects-v2 .*--profile lab/);
  });
});

describe.skipIf(!vgw)('labsync lists S3 itself (versitygw checks the signature)', () => {
  it('lists with the right secret; a wrong one is refused with 403', async () => {
    const server = vgw as S3Server;
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.write(lab.path('up/a b'), 'x');
    await awsCli(server, lab.env, ['s3', 'cp', lab.path('up/a b'), `s3://${bucket}/p/a b`]);
    expect((await listS3(target(server, bucket, 'p'), options)).map((e) => e.path)).toEqual(['a b']);
    await expect(listS3(target(server, bucket, 'p', { ...S3_KEYS, AWS_SECRET_ACCESS_KEY: 'wrong' }), options)).rejects.toThrow(/HTTP 403 SignatureDoesNotMatch/);
  });
});
