// A file planned as a replacement whose source goes while rclone sends: a review found the one
// `rclone sync --files-from-raw` of sends and deletions deleting its old copy at the remote, a
// deletion no guard had counted. The sends are now a copy and the deletions a sync over the deleted
// paths alone: the old copy stays, and the next run plans its deletion through the guard. The real
// rclone against moto on 127.0.0.1; a wrapper on PATH removes the local file before rclone's copy.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { firstPair } from './harness/lab.js';
import { awsCli, S3_KEYS, type S3Server } from './harness/moto.js';
import { s3Lab } from './harness/s3-manifest.js';

const s3 = inject('s3');
interface Pair { status: string; error?: string; changes?: { transfer: string[]; delete: string[] } }
const pairOf = firstPair<Pair>;

describe.skipIf(!s3)('rclone mirror push: a planned replacement whose source goes during the transfer (moto)', () => {
  it('keeps its old copy at the remote; only the planned deletion happens; the next run plans the rest', async () => {
    const server = s3 as S3Server;
    const { lab, bucket } = await s3Lab(server, 'rclone', '    delete: true\n');
    for (const f of ['a', 'b', 'c', 'd', 'e']) lab.write(lab.path('raw', f), `old ${f}`);
    expect((await lab.cli(['data', 'push'], { env: S3_KEYS })).exitCode).toBe(0);
    lab.write(lab.path('raw/a'), 'new, longer a');
    execFileSync('rm', [lab.path('raw/d')]);

    const real = execFileSync('sh', ['-c', 'command -v rclone'], { encoding: 'utf8' }).trim();
    const dir = lab.outside('gone-rclone');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'rclone'), `#!/bin/sh\ncase " $* " in *' copy '*--files-from-raw*) rm -f '${lab.path('raw/a')}';; esac\nexec '${real}' "$@"\n`);
    chmodSync(join(dir, 'rclone'), 0o755);
    const r = await lab.cli(['data', 'push', '--json'], { env: { ...S3_KEYS, PATH: `${dir}:${lab.env.PATH ?? ''}` } });
    expect(pairOf(r).changes).toMatchObject({ transfer: ['a'], delete: ['d'] });
    // Said as what it is: the source changed during the run, and the remote has a file it no longer has.
    expect(r.exitCode).toBe(4);
    expect(pairOf(r)).toMatchObject({ status: 'drift', error: expect.stringContaining('1 only on the remote (a)') });
    const keys = async (): Promise<string[]> => (JSON.parse(await awsCli(server, lab.env, ['s3api', 'list-objects-v2', '--bucket', bucket, '--query', 'Contents[].Key', '--output', 'json'])) as string[]).sort();
    expect(await keys()).toEqual(['lab/raw/a', 'lab/raw/b', 'lab/raw/c', 'lab/raw/e']);
    expect(await awsCli(server, lab.env, ['s3', 'cp', `s3://${bucket}/lab/raw/a`, '-'])).toBe('old a');

    // The next run sees `a` gone at the source and deletes it as planned, through the guard.
    const next = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(next.exitCode, next.stdout + next.stderr).toBe(0);
    expect(pairOf(next).changes).toMatchObject({ transfer: [], delete: ['a'] });
    expect(await keys()).toEqual(['lab/raw/b', 'lab/raw/c', 'lab/raw/e']);
  });
});
