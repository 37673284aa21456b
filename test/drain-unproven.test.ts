// A drain says what a plain push says when sizes were all that could vouch for some files (a remote
// whose ETags are no MD5s, `etag: opaque`, and objects that carry no checksum): a review found the
// drain writing its marker without a word. The real rclone against moto on 127.0.0.1 (rclone stores
// no SHA-256 checksum on the objects, so under `etag: opaque` nothing but the size is left).
import { describe, expect, inject, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { s3PairManifest } from './harness/s3-manifest.js';

const s3 = inject('s3');

describe.skipIf(!s3)('drain to a remote whose ETags prove nothing (moto)', () => {
  it('warns that the content was compared by size only, as a push does, and still writes its marker', async () => {
    const server = s3 as S3Server;
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(s3PairManifest(server, bucket, 'rclone', '    tags: [drain]\n    drain_marker: COMPLETE\n').replace('endpoint: ', 'etag: opaque, endpoint: '));
    lab.write(lab.path('raw/a'), 'a').write(lab.path('raw/b'), 'bb');
    const push = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    const said = (r: { stdout: string }): string[] => json<{ pairs: { warnings: string[] }[] }>(r as never).pairs[0]?.warnings ?? [];
    const pushed = said(push).filter((w) => w.startsWith('content not provable by the store'));
    lab.write(lab.path('raw/c'), 'ccc');
    const r = await lab.cli(['drain', '--budget', '60s', '--json'], { env: S3_KEYS });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(said(r)).toEqual(expect.arrayContaining([expect.stringMatching(/^content not provable by the store: compared sizes for 3 files \(a, b, c\)/)]));
    // The push said it too (the same words).
    expect(pushed).toHaveLength(1);
  });
});
