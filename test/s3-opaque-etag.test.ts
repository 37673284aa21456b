// A bucket whose ETags are not MD5s (SSE-KMS, SSE-C: the remote says `etag: opaque`): the plan never
// compares ETags there, so an unchanged tree is not sent again on every run (a review found each file
// planned as a content change, every run), and a same-size edit is still sent: the file is newer than
// its object's upload. Real aws-cli against moto on 127.0.0.1. Moto's ETags are MD5s, so this proves
// the plan works from sizes and upload times alone under the setting; that an MD5-looking ETag which is
// not the content's is never compared is src/plan/compute.test.ts's (no store here makes one).
import { utimesSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { firstPair } from './harness/lab.js';
import { awsCli, S3_KEYS, type S3Server } from './harness/moto.js';
import { s3Lab } from './harness/s3-manifest.js';

const s3 = inject('s3');
interface Pair { status: string; changes?: { transfer: string[] } }
const pairOf = firstPair<Pair>;

describe.skipIf(!s3)('aws push to a remote with `etag: opaque` (moto)', () => {
  it('sends nothing when nothing changed, and a same-size edit made after the upload', async () => {
    const server = s3 as S3Server;
    const { lab, bucket } = await s3Lab(server, 'aws', '', (t) => t.replace('endpoint: ', 'etag: opaque, endpoint: '));
    const hourAgo = new Date(Date.now() - 3600_000);
    for (const f of ['a', 'b']) {
      lab.write(lab.path('raw', f), `old ${f}`);
      utimesSync(lab.path('raw', f), hourAgo, hourAgo);
    }
    expect((await lab.cli(['data', 'push'], { env: S3_KEYS })).exitCode).toBe(0);
    const noop = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(noop.exitCode, noop.stdout + noop.stderr).toBe(0);
    expect(pairOf(noop).changes?.transfer).toEqual([]);

    lab.write(lab.path('raw/a'), 'new a');
    const later = new Date(Date.now() + 60_000);
    utimesSync(lab.path('raw/a'), later, later);
    const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(pairOf(r)).toMatchObject({ status: 'ok', changes: { transfer: ['a'] } });
    expect(await awsCli(server, lab.env, ['s3', 'cp', `s3://${bucket}/lab/raw/a`, '-'])).toBe('new a');
  });
});
