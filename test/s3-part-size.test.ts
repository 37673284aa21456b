// aws-cli cuts files into the part size of its config file (`s3 = multipart_chunksize`), and sends a
// file below `multipart_threshold` whole. A review found labsync recomputing every multipart ETag with
// aws's default 8 MiB parts: with another part size in ~/.aws/config each large file was planned as
// changed and sent again on every run, and a file between the part size and the threshold (a plain
// ETag against a multipart one) too. Real aws-cli against moto on 127.0.0.1, the lab's own config file.
import { randomBytes } from 'node:crypto';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { s3PairManifest } from './harness/s3-manifest.js';

const s3 = inject('s3');
interface Pair { status: string; changes?: { transfer: string[] }; verify: { status: string; unproven?: string[] } | null }
const pairOf = (r: { stdout: string }): Pair => json<{ pairs: Pair[] }>(r as never).pairs[0] as Pair;
const MiB = 1024 * 1024;

/** An aws pair whose lab's own aws config holds `s3` settings, and random files of the given sizes, an hour old. */
async function awsLab(server: S3Server, settings: string, files: readonly (readonly [string, number])[]): Promise<{ lab: Lab; bucket: string }> {
  const lab = new Lab();
  const config = lab.env.AWS_CONFIG_FILE as string;
  mkdirSync(dirname(config), { recursive: true });
  writeFileSync(config, `[default]\nregion = us-east-1\ns3 =\n${settings}`);
  const bucket = await makeBucket(server, lab.env);
  lab.manifest(s3PairManifest(server, bucket, 'aws'));
  const hourAgo = new Date(Date.now() - 3600_000);
  for (const [name, size] of files) {
    lab.write(lab.path('raw', name), randomBytes(size));
    utimesSync(lab.path('raw', name), hourAgo, hourAgo);
  }
  return { lab, bucket };
}

describe.skipIf(!s3)('aws push with a part size of its own in the aws config file (moto)', () => {
  it('sends each file once and proves it by its ETag: parts of 5 MiB, a file sent whole below a 16 MiB threshold', async () => {
    const server = s3 as S3Server;
    const { lab, bucket } = await awsLab(server, '  multipart_chunksize = 5MB\n  multipart_threshold = 16MB\n', [['whole.bin', 12 * MiB], ['parts.bin', 21 * MiB], ['small.txt', 10]]);
    const first = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    const etag = async (key: string): Promise<string> => JSON.parse(await awsCli(server, lab.env, ['s3api', 'head-object', '--bucket', bucket, '--key', `lab/raw/${key}`])).ETag;
    // aws-cli read the lab's config: 21 MiB in 5 MiB parts, 12 MiB below the threshold in one PUT.
    expect(await etag('parts.bin')).toMatch(/-5"$/);
    expect(await etag('whole.bin')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(pairOf(first).verify).toMatchObject({ status: 'in_sync' });
    expect(pairOf(first).verify?.unproven ?? []).toEqual([]);

    const again = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    expect(pairOf(again).changes?.transfer).toEqual([]);
    const check = await lab.cli(['check', '--json'], { env: S3_KEYS });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(pairOf(check)).toMatchObject({ status: 'in_sync' });
    expect(pairOf(check).verify?.unproven ?? []).toEqual([]);
  });

  it('a part size above aws\'s default threshold alone: a 20 MiB file goes in one part ("-1"), proved, sent once', async () => {
    const server = s3 as S3Server;
    const { lab, bucket } = await awsLab(server, '  multipart_chunksize = 64MB\n', [['one-part.bin', 20 * MiB], ['small.txt', 10]]);
    const first = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    expect(JSON.parse(await awsCli(server, lab.env, ['s3api', 'head-object', '--bucket', bucket, '--key', 'lab/raw/one-part.bin'])).ETag).toMatch(/-1"$/);
    expect(pairOf(first).verify?.unproven ?? []).toEqual([]);
    const again = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    expect(pairOf(again).changes?.transfer).toEqual([]);
    const check = await lab.cli(['check', '--json'], { env: S3_KEYS });
    expect(pairOf(check)).toMatchObject({ status: 'in_sync' });
    expect(pairOf(check).verify?.unproven ?? []).toEqual([]);
  });
});
