// Keys an object store keeps as written but a URL or a local path would resolve to something else
// (`tmp/../model.bin`, `x/../../escape`), against moto on 127.0.0.1 with the real aws-cli. A review
// found labsync's own S3 client deleting `model.bin` for the first (the URL parser resolves dot
// segments, and the request is signed as resolved), and a pull writing the second outside its folder.
import { writeFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { s3PairManifest } from './harness/s3-manifest.js';

const s3 = inject('s3');
interface Doc { pairs: { status: string; error: string | null; commands: string[]; changes?: { transfer: string[]; delete: string[] }; verify: { status: string } | null }[] }

describe.skipIf(!s3)('keys with "." or ".." segments (moto, aws-cli)', () => {
  const server = s3 as S3Server;
  const keys = async (lab: Lab, bucket: string): Promise<string[]> =>
    JSON.parse(await awsCli(server, lab.env, ['s3api', 'list-objects-v2', '--bucket', bucket, '--query', 'Contents[].Key', '--output', 'json'])) as string[];
  const put = async (lab: Lab, bucket: string, key: string, body: string): Promise<void> => {
    writeFileSync(lab.outside('body'), body);
    await awsCli(server, lab.env, ['s3api', 'put-object', '--bucket', bucket, '--key', key, '--body', lab.outside('body')]);
  };

  it('a mirror push deletes the stray key `tmp/../model.bin` itself, never the `model.bin` its URL would name', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(s3PairManifest(server, bucket, undefined, '    delete: true\n'));
    for (const f of ['model.bin', 'a', 'b', 'c']) lab.write(lab.path('raw', f), f);
    expect((await lab.cli(['data', 'push'], { env: S3_KEYS })).exitCode).toBe(0);
    await put(lab, bucket, 'lab/raw/tmp/../model.bin', 'stray');

    const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const pair = json<Doc>(r).pairs[0];
    expect(pair).toMatchObject({ status: 'ok', changes: { transfer: [], delete: ['tmp/../model.bin'] }, verify: { status: 'in_sync' } });
    // aws-cli sent the delete, by the key as written.
    expect(pair?.commands.join('\n')).toMatch(/aws s3api delete-objects/);
    expect((await keys(lab, bucket)).sort()).toEqual(['lab/raw/a', 'lab/raw/b', 'lab/raw/c', 'lab/raw/model.bin']);
  });

  it('a push of a file `x` where the bucket holds `x/f` is not a kind clash: a store holds both keys side by side', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(s3PairManifest(server, bucket, undefined));
    lab.write(lab.path('raw', 'keep'), 'k');
    expect((await lab.cli(['data', 'push'], { env: S3_KEYS })).exitCode).toBe(0);
    await put(lab, bucket, 'lab/raw/x/f', 'theirs');
    lab.write(lab.path('raw', 'x'), 'mine');
    const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect((await keys(lab, bucket)).sort()).toEqual(['lab/raw/keep', 'lab/raw/x', 'lab/raw/x/f']);
  });

  it('a pull of a key that climbs out of the folder is refused (exit 3), naming the key; nothing is written', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(s3PairManifest(server, bucket, undefined));
    await put(lab, bucket, 'lab/raw/ok.txt', 'ok');
    await put(lab, bucket, 'lab/raw/x/../../escape.txt', 'outside');

    const r = await lab.cli(['data', 'pull', '--json'], { env: S3_KEYS });
    expect(r.exitCode, r.stdout + r.stderr).toBe(3);
    expect(json<Doc>(r).pairs[0]).toMatchObject({ status: 'refused', error: expect.stringMatching(/holds the key "x\/\.\.\/\.\.\/escape\.txt", which names no file inside .*nothing was pulled/) });
    expect(lab.tree(lab.path('.'))).not.toHaveProperty('escape.txt');
    expect(lab.tree(lab.path('.'))).not.toHaveProperty('raw/ok.txt');
  });
});
