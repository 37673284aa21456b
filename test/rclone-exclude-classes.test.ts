// Exclude patterns with classes mean one thing to labsync and rsync ("[!a]" is "not a") and another to
// rclone ("! or a"; "{a,b}" a list of choices). A review found an rclone mirror push planning the
// deletion of a remote file the pair excludes, because rclone's listing kept it. rclone is now given
// its own dialect, and labsync's matcher applies to every listing. The real rclone against moto.
import { describe, expect, inject, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { s3PairManifest } from './harness/s3-manifest.js';

const s3 = inject('s3');

describe.skipIf(!s3)('rclone mirror push with a negated class and braces in its excludes (moto)', () => {
  // labsync's own listing of the bucket, and rclone's (an RCLONE_S3_* setting hands the listing to rclone).
  it.each([['labsync lists the bucket', {}], ['rclone lists it', { RCLONE_S3_UPLOAD_CONCURRENCY: '4' }]] as const)('never deletes a remote file the pair excludes, and sends what it does not (%s)', async (_how, listing) => {
    const server = s3 as S3Server;
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(s3PairManifest(server, bucket, 'rclone', '    delete: true\n    exclude: ["[!a]bc", "*.{tmp,log}"]\n'));
    for (const f of ['k1', 'k2', 'k3', 'abc', 'x.tmp']) lab.write(lab.path('raw', f), f);
    const seed = lab.outside('seed');
    lab.write(seed, 'excluded, only at the remote');
    for (const key of ['xbc', 'd/xbc', 'x.{tmp,log}']) await awsCli(server, lab.env, ['s3', 'cp', seed, `s3://${bucket}/lab/raw/${key}`]);
    const r = await lab.cli(['data', 'push', '--json'], { env: { ...S3_KEYS, ...listing } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    // Nothing excluded is deleted; braces are plain text to rsync and labsync, so x.tmp is no match and is
    // sent, and "x.{tmp,log}" is the pattern's own name, kept.
    expect(json<{ pairs: { changes: { delete: string[]; transfer: string[] } }[] }>(r).pairs[0]?.changes).toMatchObject({ delete: [], transfer: ['abc', 'k1', 'k2', 'k3', 'x.tmp'] });
    const keys = (JSON.parse(await awsCli(server, lab.env, ['s3api', 'list-objects-v2', '--bucket', bucket, '--query', 'Contents[].Key', '--output', 'json'])) as string[]).map((k) => k.replace('lab/raw/', '')).sort();
    expect(keys).toEqual(['abc', 'd/xbc', 'k1', 'k2', 'k3', 'x.tmp', 'x.{tmp,log}', 'xbc']);
  });
});
