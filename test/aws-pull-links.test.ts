// An aws mirror pull into a folder that holds a symlink to a folder elsewhere (a shared dataset linked
// in, another pair's folder). aws-cli follows links by default, so a review (63) feared its deletions
// would reach through the link, outside the pair. They do not: the pull's plan is labsync's own (its walker
// never follows a link) and names only the pair's own files. This test keeps it so. Real aws-cli, moto.
import { existsSync, mkdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { awsCli, S3_KEYS, type S3Server } from './harness/moto.js';
import { s3Lab } from './harness/s3-manifest.js';

const s3 = inject('s3');

describe.skipIf(!s3)('aws mirror pull into a folder holding a symlink (moto)', () => {
  it('deletes nothing through the link: the linked folder keeps its files, the link stays, and the bucket\'s files arrive', async () => {
    const server = s3 as S3Server;
    const { lab, bucket } = await s3Lab(server, 'aws', '    mode: pull\n    delete: true\n    max_delete: 100%\n');
    lab.write(lab.outside('a.csv'), 'a\n');
    await awsCli(server, lab.env, ['s3', 'cp', lab.outside('a.csv'), `s3://${bucket}/lab/raw/a.csv`]);
    lab.write(lab.path('raw/old.csv'), 'old\n');
    mkdirSync(lab.outside('shared'), { recursive: true });
    lab.write(lab.outside('shared/keep.bin'), 'keep\n');
    symlinkSync(lab.outside('shared'), lab.path('raw/shared'));
    const r = await lab.cli(['data', 'pull', 'raw'], { env: S3_KEYS });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(existsSync(lab.outside('shared/keep.bin'))).toBe(true);
    expect(readlinkSync(lab.path('raw/shared'))).toBe(lab.outside('shared'));
    expect(existsSync(lab.path('raw/a.csv'))).toBe(true);
    // The mirror's own deletion still happens (old.csv is not in the bucket).
    expect(existsSync(lab.path('raw/old.csv'))).toBe(false);
  });
});
