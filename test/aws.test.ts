// aws-cli against moto_server on 127.0.0.1: sync both ways, guards, backups, ETag verification.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { s3PairManifest } from './harness/s3-manifest.js';

// null only off CI on a machine without moto_server (global-setup fails a CI run instead): these cases then skip.
const s3 = inject('s3');
interface Doc { pairs: { status: string; error: string | null; files: number; bytes: number; attempts: number; verify: { status: string; checked: number; changed: string[]; missing: string[] } | null; changes?: { transfer: string[]; delete: string[] }; commands: string[] }[] }

describe.skipIf(!s3)('aws s3 sync (moto on 127.0.0.1)', () => {
  const server = s3 as S3Server;
  const manifest = (bucket: string, extra = ''): string => s3PairManifest(server, bucket, undefined, extra);
  const objects = async (lab: Lab, bucket: string, prefix = 'lab/raw/'): Promise<string[]> =>
    (await awsCli(server, lab.env, ['s3', 'ls', '--recursive', `s3://${bucket}/${prefix}`])).trim().split('\n').filter(Boolean).map((l) => l.slice(31));

  it('pushes with the aws tool by default for s3, names intact, verified by ETag', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(bucket));
    lab.write(lab.path('raw/with space.csv'), 'a').write(lab.path('raw/-dash.csv'), 'b').write(lab.path('raw/sub/c.csv'), 'c').write(lab.path('raw/x.tmp'), 'no');
    lab.manifest(manifest(bucket, '    exclude: ["*.tmp"]\n'));
    const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'ok', files: 3, verify: { status: 'in_sync', checked: 3 } });
    // Exactly the planned files, PUT by labsync's own client (a small push: engine/s3-push.ts).
    expect(json<Doc>(r).pairs[0]?.commands[1]).toMatch(/^PUT 3 objects \(3 bytes\) under http:\/\/127\.0\.0\.1:\d+\/\S+\/lab\/raw\/ \(labsync's own S3 client, not aws-cli\)$/);
    expect((await objects(lab, bucket)).sort()).toEqual(['lab/raw/-dash.csv', 'lab/raw/sub/c.csv', 'lab/raw/with space.csv']);
    // aws-cli moving them: from a staged folder of links (planned.ts), no sync of its own deciding again.
    lab.write(lab.path('raw/with space.csv'), 'a2').write(lab.path('raw/-dash.csv'), 'b2').write(lab.path('raw/sub/c.csv'), 'c2');
    const byAws = await lab.cli(['data', 'push', '--json'], { env: { ...S3_KEYS, LABSYNC_S3_PUT: '0' } });
    expect(json<Doc>(byAws).pairs[0]).toMatchObject({ status: 'ok', files: 3, verify: { status: 'in_sync', checked: 3 } });
    expect(json<Doc>(byAws).pairs[0]?.commands.join('\n')).toMatch(/^AWS_EC2_METADATA_DISABLED=true aws s3 cp --recursive --endpoint-url http:\/\/127\.0\.0\.1.* -- \S+\/\.labsync\/stage\/raw\/\S+ s3:\/\//m);
    expect((await lab.cli(['data', 'status'], { env: S3_KEYS })).exitCode).toBe(0);
  });

  it('after a push the local cache holds each file\'s sha256 beside its MD5 and ETag, and the receipt its checksum list (the listing computes all three in its one read)', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(bucket));
    for (const f of ['a', 'b/c']) lab.write(lab.path('raw', f), `content of ${f}`);
    await new Promise((r) => setTimeout(r, 1100)); // past the racy window: the listing's hashes are remembered
    const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const cache = readdirSync(lab.path('.labsync', 'cache')).find((f) => f.endsWith('.hashes')) as string;
    const rows = readFileSync(lab.path('.labsync', 'cache', cache), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
    expect(rows.map((c) => c[0]).sort()).toEqual(['a', 'b/c']);
    for (const c of rows) expect([c[5], c[6], c[7]].map((h) => /^[0-9a-f]{32,64}$/.test(h ?? ''))).toEqual([true, true, true]);
    const receipt = JSON.parse(readFileSync(lab.path('.labsync', 'receipts', readdirSync(lab.path('.labsync', 'receipts')).sort().at(-1) as string), 'utf8')) as { sumsDigest: string; sumsFiles: number };
    expect(receipt).toMatchObject({ sumsDigest: expect.stringMatching(/^[0-9a-f]{64}$/), sumsFiles: 2 });
  });

  it('verifies a multipart (>8 MiB) upload by its recomputed ETag, and catches a same-size corruption', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(bucket));
    lab.write(lab.path('raw/big.bin'), randomBytes(9 * 1024 * 1024));
    const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'ok', verify: { status: 'in_sync', checked: 1 } });
    const listed = await awsCli(server, lab.env, ['s3api', 'list-objects-v2', '--bucket', bucket, '--prefix', 'lab/raw/big.bin', '--query', 'Contents[].ETag', '--output', 'text']);
    expect(listed).toMatch(/-2"/);
    const corrupt = lab.outside('corrupt.bin');
    writeFileSync(corrupt, randomBytes(9 * 1024 * 1024));
    await awsCli(server, lab.env, ['s3', 'cp', corrupt, `s3://${bucket}/lab/raw/big.bin`]);
    // aws s3 sync compares size and time only: it sees nothing to do. check says otherwise, and a push
    // sends exactly that object again.
    const check = await lab.cli(['check', '--json'], { env: S3_KEYS });
    expect(check.exitCode).toBe(4);
    expect(json<Doc>(check).pairs[0]).toMatchObject({ status: 'drift', verify: { changed: ['big.bin'] } });
    const again = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(again.exitCode).toBe(0);
    expect(json<Doc>(again).pairs[0]).toMatchObject({ status: 'ok', verify: { status: 'in_sync' } });
    expect(json<Doc>(again).pairs[0]?.commands.join('\n')).toMatch(/aws s3 cp --recursive .* -- \S+ s3:\/\/\S+\/lab\/raw\/$/m);
  });

  it('mirrors with --delete under the guard: over max_delete is refused, nothing deleted; backup keeps replaced objects', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(bucket, '    delete: true\n    backup: true\n'));
    for (let i = 0; i < 4; i++) lab.write(lab.path('raw', `f${i}`), `v1-${i}`);
    expect((await lab.cli(['data', 'push'], { env: S3_KEYS })).exitCode).toBe(0);
    for (let i = 0; i < 3; i++) unlinkSync(lab.path('raw', `f${i}`));
    const refused = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(refused.exitCode).toBe(3);
    expect(json<Doc>(refused).pairs[0]?.error).toContain('would delete 3 of 4 files at the destination (75%), over max_delete 50%');
    expect(await objects(lab, bucket)).toHaveLength(4);
    lab.write(lab.path('raw/f0'), 'v2-0').write(lab.path('raw/f1'), 'v1-1').write(lab.path('raw/f2'), 'v1-2');
    unlinkSync(lab.path('raw/f3'));
    const pushed = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(pushed.exitCode, pushed.stdout).toBe(0);
    const all = await objects(lab, bucket, 'lab/');
    expect(all.filter((k) => !k.includes('.labsync-backup')).sort()).toEqual(['lab/raw/f0', 'lab/raw/f1', 'lab/raw/f2']);
    // f1 and f2 came back with their old bytes (new mtimes): the plan compares content, so only the
    // replaced f0 and the deleted f3 are backed up; f1 and f2 were never overwritten.
    expect(json<Doc>(pushed).pairs[0]?.changes).toMatchObject({ transfer: ['f0'], delete: ['f3'] });
    const backups = all.filter((k) => k.includes('.labsync-backup/'));
    expect(backups.map((k) => k.replace(/^.*\.labsync-backup\/[^/]+\//, '')).sort()).toEqual(['f0', 'f3']);
    const f0 = backups.find((k) => k.endsWith('/f0')) as string;
    expect(await awsCli(server, lab.env, ['s3', 'cp', `s3://${bucket}/${f0}`, '-'])).toBe('v1-0');
  });

  it('pulls a mirror, keeping replaced local files in the dated backup folder', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(bucket, '    mode: pull\n    delete: true\n    backup: true\n    max_delete: 100%\n'));
    const src = lab.outside('src');
    lab.write(`${src}/a`, 'remote a').write(`${src}/b`, 'remote b');
    await awsCli(server, lab.env, ['s3', 'sync', src, `s3://${bucket}/lab/raw/`]);
    lab.write(lab.path('raw/a'), 'local a').write(lab.path('raw/only-local'), 'mine');
    const r = await lab.cli(['data', 'sync', '--json'], { env: S3_KEYS });
    expect(r.exitCode, r.stdout).toBe(0);
    expect(lab.tree(lab.path('raw'))).toMatchObject({ a: 'remote a', b: 'remote b' });
    const [stamp] = readdirSync(lab.path('raw/.labsync-backup'));
    expect(lab.tree(lab.path('raw/.labsync-backup', stamp as string))).toEqual({ a: 'local a', 'only-local': 'mine' });
    expect(Object.keys(lab.tree(lab.path('raw'))).filter((k) => !k.startsWith('.labsync-backup'))).toEqual(['a', 'b']);
  });

  it('fails clearly and without retries on a missing bucket and on refused credentials', async () => {
    const lab = new Lab();
    lab.manifest(manifest('no-such-bucket-anywhere').replace('retries: 0', 'retries: 3'));
    lab.write(lab.path('raw/a'), 'a');
    const missing = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(missing.exitCode).toBe(1);
    expect(json<Doc>(missing).pairs[0]).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringMatching(/^the bucket does not exist/) });
    const none = await lab.cli(['data', 'push', '--json'], { env: { AWS_DEFAULT_REGION: 'us-east-1' } });
    expect(none.exitCode).toBe(1);
    expect(json<Doc>(none).pairs[0]).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringMatching(/^credentials refused: .*Unable to locate credentials/) });
  });

  it('retries a refused connection with backoff, then fails (exit 1)', async () => {
    const lab = new Lab();
    lab.manifest(manifest('any-bucket').replace(server.endpoint, 'http://127.0.0.1:1').replace('retries: 0', 'retries: 1\n  retry_delay: 100ms'));
    lab.write(lab.path('raw/a'), 'a');
    // botocore retries each request on its own (kept for real runs); one attempt keeps this test quick.
    const r = await lab.cli(['data', 'push', '--json'], { env: { ...S3_KEYS, AWS_MAX_ATTEMPTS: '1' } });
    expect(r.exitCode).toBe(1);
    expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'failed', attempts: 2, error: expect.stringContaining('Could not connect to the endpoint URL') });
  });
});
