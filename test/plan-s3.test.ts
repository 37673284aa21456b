// Issue 12 against moto on 127.0.0.1: each side listed once, labsync's plan, exactly the planned files
// moved, verify from listings. Work is counted (commands, listings, HTTP requests), never timed.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, unlinkSync, utimesSync, statSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { pastRacyWindow } from './harness/wait.js';
import { json, Lab } from './harness/lab.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { s3PairManifest } from './harness/s3-manifest.js';

const s3 = inject('s3');
interface Pair { status: string; error: string | null; files: number; verify: { status: string; checked: number; changed: string[] } | null; changes?: { transfer: string[]; replace?: string[]; delete: string[] }; commands: string[]; warnings: string[] }
interface Doc { pairs: Pair[] }
const pair = (r: { stdout: string }): Pair => json<Doc>(r as never).pairs[0] as Pair;

/** rclone's own request log (its flags from the environment): what a whole labsync run asked the server. */
function requests(log: string): { head: number; list: number; put: number; del: number } {
  const text = readFileSync(log, 'utf8');
  // A request opens a plain log line ("DEBUG : HEAD /b/k HTTP/1.1") or, under --use-json-log, a message.
  const count = (verb: string, path = '[^ ]+'): number => (text.match(new RegExp(`(?:: |"msg":")${verb} /${path} HTTP/1\\.1`, 'g')) ?? []).length;
  return { head: count('HEAD'), list: count('GET', '[^/ ?]+\\?[^ ]*prefix=[^ ]*'), put: count('PUT'), del: count('DELETE') };
}

/** The same counts, all 0 where no rclone ran at all (no log written). */
const asked = (log: string): ReturnType<typeof requests> => (existsSync(log) ? requests(log) : { head: 0, list: 0, put: 0, del: 0 });

describe.skipIf(!s3)('one listing per side, labsync plans (moto on 127.0.0.1)', () => {
  const server = s3 as S3Server;
  const manifest = (bucket: string, tool: string, extra = ''): string => s3PairManifest(server, bucket, tool, extra);

  it('aws: a no-op push runs one listing and nothing else; a change sends exactly the changed files', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(bucket, 'aws'));
    for (let i = 0; i < 10; i++) lab.write(lab.path('raw', `d${i % 3}`, `f${i}`), randomBytes(100 + i));
    expect((await lab.cli(['data', 'push'], { env: S3_KEYS })).exitCode).toBe(0);
    // Past the hash cache's racy second (labsync's own PUTs made the push quick enough to hash the files
    // within it), the no-op remembers what it reads, so the check after it reads none of them.
    await pastRacyWindow();
    const noop = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(noop.exitCode, noop.stderr).toBe(0);
    expect(pair(noop)).toMatchObject({ status: 'ok', files: 0, verify: { status: 'in_sync', checked: 10 } });
    expect(pair(noop).commands).toHaveLength(1);
    // The keys are in the environment: labsync lists the bucket itself, one page of ListObjectsV2.
    expect(pair(noop).commands[0]).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/\S+ list-objects-v2 prefix=lab\/raw\/ \(labsync's own listing, 1 page\)$/);
    const check = await lab.cli(['check', '--json'], { env: S3_KEYS });
    expect(pair(check)).toMatchObject({ status: 'in_sync', verify: { checked: 10, bytesHashed: { local: 0, remote: 0 }, proof: 'cached' } });

    lab.write(lab.path('raw/d0/f0'), 'changed').write(lab.path('raw/d1/f4'), 'changed too').write(lab.path('raw/new'), 'n');
    const some = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(some.exitCode, some.stderr).toBe(0);
    expect(pair(some)).toMatchObject({ status: 'ok', files: 3, changes: { transfer: ['new', 'd0/f0', 'd1/f4'], replace: ['d0/f0', 'd1/f4'], delete: [] }, verify: { status: 'in_sync', checked: 11 } });
    // list, three PUTs by labsync's own client (a small push: no aws-cli start, test/s3-put.test.ts), list again to verify.
    expect(pair(some).commands.map((c) => c.replace(/^.* aws (s3api \S+|s3 \S+).*$/, '$1').replace(/^GET .*list-objects-v2.*$/, 'GET list').replace(/^PUT (\d+) objects .*own S3 client.*$/, 'PUT $1'))).toEqual(['GET list', 'PUT 3', 'GET list']);
    // The same with aws-cli moving the files: one copy of the staged three.
    lab.write(lab.path('raw/d0/f0'), 'changed again').write(lab.path('raw/d1/f4'), 'changed too, again').write(lab.path('raw/new'), 'n2');
    const byAws = await lab.cli(['data', 'push', '--json'], { env: { ...S3_KEYS, LABSYNC_S3_PUT: '0' } });
    expect(pair(byAws)).toMatchObject({ status: 'ok', files: 3, verify: { status: 'in_sync', checked: 11 } });
    expect(pair(byAws).commands.map((c) => c.replace(/^.* aws (s3api \S+|s3 \S+).*$/, '$1').replace(/^GET .*list-objects-v2.*$/, 'GET list'))).toEqual(['GET list', 's3 cp', 'GET list']);
    expect(await awsCli(server, lab.env, ['s3', 'cp', `s3://${bucket}/lab/raw/d1/f4`, '-'])).toBe('changed too, again');
  });

  it('aws: after a push of a few files, verify looks up only the planned keys, and still sees what differs', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(bucket, 'aws', '    delete: true\n    max_delete: 100%\n'));
    for (let i = 0; i < 250; i++) lab.write(lab.path('raw', `d${i % 5}`, `f${i}`), `v${i}`);
    expect((await lab.cli(['data', 'push'], { env: S3_KEYS })).exitCode).toBe(0);
    lab.write(lab.path('raw/d0/f0'), 'changed');
    unlinkSync(lab.path('raw/d1/f1'));
    // aws-cli moving the files (LABSYNC_S3_PUT=0): its copy and delete-objects, then the planned keys.
    const r = await lab.cli(['data', 'push', '--json'], { env: { ...S3_KEYS, LABSYNC_S3_PUT: '0' } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(pair(r)).toMatchObject({ status: 'ok', files: 1, changes: { transfer: ['d0/f0'], delete: ['d1/f1'] }, verify: { status: 'in_sync', checked: 249 } });
    // One listing to plan; after the copy and the delete, the two planned keys, not the 250 objects again.
    expect(pair(r).commands.map((c) => c.replace(/^.* aws (s3api \S+|s3 \S+).*$/, '$1').replace(/^GET .*list-objects-v2 prefix=.*$/, 'GET list').replace(/^GET .*list-objects-v2 of (\d+) planned keys? .*$/, 'GET $1 keys')))
      .toEqual(['GET list', 's3 cp', 's3api delete-objects', 'GET 2 keys']);
    // check lists everything: an object replaced behind labsync's back is drift.
    const bad = lab.outside('bad');
    lab.write(bad, 'XXXXXXX');
    await awsCli(server, lab.env, ['s3', 'cp', bad, `s3://${bucket}/lab/raw/d0/f0`]);
    const check = await lab.cli(['check', '--json'], { env: S3_KEYS });
    expect(pair(check)).toMatchObject({ status: 'drift', verify: { changed: ['d0/f0'] } });
  });

  it('aws: excluded objects in the bucket are neither planned nor deleted by a mirror', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(bucket, 'aws', '    delete: true\n    max_delete: 100%\n    exclude: ["*.tmp", "cache/"]\n'));
    lab.write(lab.path('raw/a.csv'), 'a').write(lab.path('raw/local.tmp'), 'not sent');
    const other = lab.outside('o');
    lab.write(other, 'theirs');
    for (const key of ['x.tmp', 'sub/y.tmp', 'cache/z', 'sub/cache/w']) await awsCli(server, lab.env, ['s3', 'cp', other, `s3://${bucket}/lab/raw/${key}`]);
    const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(pair(r)).toMatchObject({ status: 'ok', files: 1, changes: { transfer: ['a.csv'], delete: [] }, verify: { status: 'in_sync', checked: 1 } });
    const keys = (await awsCli(server, lab.env, ['s3', 'ls', '--recursive', `s3://${bucket}/lab/raw/`])).trim().split('\n').map((l) => l.slice(31)).sort();
    expect(keys).toEqual(['lab/raw/a.csv', 'lab/raw/cache/z', 'lab/raw/sub/cache/w', 'lab/raw/sub/y.tmp', 'lab/raw/x.tmp']);
  });

  it('aws: a same-size, same-mtime corruption is planned as a replace up front, backed up, and no repair step runs', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(bucket, 'aws', '    backup: true\n'));
    lab.write(lab.path('raw/a'), 'aaaa').write(lab.path('raw/b'), 'bbbb');
    expect((await lab.cli(['data', 'push'], { env: S3_KEYS })).exitCode).toBe(0);
    const bad = lab.outside('bad');
    lab.write(bad, 'XXXX');
    await awsCli(server, lab.env, ['s3', 'cp', bad, `s3://${bucket}/lab/raw/b`]);
    const status = await lab.cli(['data', 'status', '--json'], { env: S3_KEYS });
    expect(pair(status)).toMatchObject({ status: 'drift', changes: { transfer: ['b'], replace: ['b'] } });
    const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(pair(r)).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync' }, warnings: [] });
    const keys = (await awsCli(server, lab.env, ['s3', 'ls', '--recursive', `s3://${bucket}/lab/raw/`])).trim().split('\n').map((l) => l.slice(31));
    expect(keys.filter((k) => k.includes('.labsync-backup/')).map((k) => k.replace(/^.*\//, ''))).toEqual(['b']);
    expect(await awsCli(server, lab.env, ['s3', 'cp', `s3://${bucket}/lab/raw/b`, '-'])).toBe('bbbb');
  });

  it('aws: a mirror deletes with delete-objects after the copies; a mirror pull deletes local files and keeps them in the backup', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(bucket, 'aws', '    delete: true\n    max_delete: 100%\n'));
    for (let i = 0; i < 5; i++) lab.write(lab.path('raw', `f${i}`), `v${i}`);
    expect((await lab.cli(['data', 'push'], { env: S3_KEYS })).exitCode).toBe(0);
    for (let i = 0; i < 3; i++) unlinkSync(lab.path('raw', `f${i}`));
    const r = await lab.cli(['data', 'push', '--json'], { env: { ...S3_KEYS, LABSYNC_S3_PUT: '0' } });
    expect(pair(r)).toMatchObject({ status: 'ok', changes: { delete: ['f0', 'f1', 'f2'] }, verify: { status: 'in_sync', checked: 2 } });
    expect(pair(r).commands.filter((c) => c.includes('delete-objects'))).toHaveLength(1);
    // The other way: the bucket gains one object; a mirror pull deletes the local extra, backed up first.
    lab.manifest(manifest(bucket, 'aws', '    mode: pull\n    delete: true\n    max_delete: 100%\n    backup: true\n'));
    lab.write(lab.path('raw/local-only'), 'mine');
    const extra = lab.outside('x');
    lab.write(extra, 'remote');
    await awsCli(server, lab.env, ['s3', 'cp', extra, `s3://${bucket}/lab/raw/sub/x`]);
    const p = await lab.cli(['data', 'pull', '--json'], { env: S3_KEYS });
    expect(pair(p)).toMatchObject({ status: 'ok', changes: { transfer: ['sub/x'], delete: ['local-only'] }, verify: { status: 'in_sync', checked: 3 } });
    expect(lab.tree(lab.path('raw'))).toMatchObject({ f3: 'v3', f4: 'v4', 'sub/x': 'remote' });
    expect(Object.keys(lab.tree(lab.path('raw'))).filter((k) => k.startsWith('.labsync-backup/')).map((k) => k.replace(/^.*\//, ''))).toEqual(['local-only']);
  });

  it('rclone: labsync lists the bucket itself; no-op push and check ask rclone nothing; a change moves exactly the planned files', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(bucket, 'rclone', '    delete: true\n    max_delete: 100%\n'));
    for (let i = 0; i < 12; i++) lab.write(lab.path('raw', `d${i % 4}`, `f${i}`), randomBytes(64 + i));
    await pastRacyWindow(); // the push remembers every file: the check below reads none of them
    // rclone takes every flag from the environment too: a debug log of its HTTP requests, in a file.
    const logged = (name: string): Record<string, string> => ({ ...S3_KEYS, RCLONE_DUMP: 'headers', RCLONE_LOG_LEVEL: 'DEBUG', RCLONE_LOG_FILE: lab.outside(name) });
    const shape = (p: Pair): string[] => p.commands.map((c) => c.replace(/^GET .*list-objects-v2 prefix=lab\/raw\/ \(labsync's own listing, 1 page\)$/, 'GET list').replace(/^.*rclone (\S+) .*$/, 'rclone $1'));
    // A first push lists the empty destination instead of looking up each of the 12 files (argv.ts traverses).
    const first = await lab.cli(['data', 'push', '--json'], { env: logged('first.log') });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(shape(pair(first))).toEqual(['GET list', 'rclone copy', 'GET list']);
    expect(pair(first).commands[1]).not.toMatch(/--no-traverse/);
    // No HEAD per object either, before (--no-traverse) or after (rclone's own check; --s3-no-head) its upload.
    expect(requests(lab.outside('first.log'))).toMatchObject({ put: 12, del: 0 });
    // Only the copy asks whether the remote's root is a file.
    expect(requests(lab.outside('first.log')).head).toBe(1);
    expect(pair(first)).toMatchObject({ status: 'ok', verify: { status: 'in_sync', checked: 12 } });

    // The keys are in the environment, as rclone's env_auth takes them: one page of labsync's own ListObjectsV2, no rclone process.
    const noop = await lab.cli(['data', 'push', '--json'], { env: logged('noop.log') });
    expect(noop.exitCode, noop.stderr).toBe(0);
    expect(pair(noop)).toMatchObject({ status: 'ok', files: 0, verify: { status: 'in_sync', checked: 12 } });
    expect(shape(pair(noop))).toEqual(['GET list']);
    // rclone runs for its version (the receipt) at most, and asks the server nothing.
    expect(asked(lab.outside('noop.log'))).toEqual({ head: 0, list: 0, put: 0, del: 0 });

    const check = await lab.cli(['check', '--json'], { env: logged('check.log') });
    expect(pair(check)).toMatchObject({ status: 'in_sync', verify: { checked: 12, bytesHashed: { local: 0, remote: 0 }, proof: 'cached' } });
    expect(shape(pair(check))).toEqual(['GET list']);
    expect(asked(lab.outside('check.log'))).toEqual({ head: 0, list: 0, put: 0, del: 0 });

    lab.write(lab.path('raw/d0/f0'), 'changed');
    unlinkSync(lab.path('raw/d1/f1'));
    const some = await lab.cli(['data', 'push', '--json'], { env: logged('some.log') });
    expect(pair(some)).toMatchObject({ status: 'ok', files: 1, changes: { transfer: ['d0/f0'], delete: ['d1/f1'] }, verify: { status: 'in_sync', checked: 11 } });
    // A copy of the changed file, then a sync over the deleted one alone (a replacement gone meanwhile is never deleted).
    expect(pair(some).commands[1]).toMatch(/rclone copy .*--files-from-raw - --no-traverse --ignore-times .*< \(1 paths\)$/);
    expect(pair(some).commands[2]).toMatch(/rclone sync .*--files-from-raw - --no-traverse --ignore-existing .*< \(1 paths\)$/);
    // rclone only moves: one upload, one delete, no listing; HEADs only for the two planned paths and the root.
    const seen = requests(lab.outside('some.log'));
    expect(seen).toMatchObject({ list: 0, put: 1, del: 1 });
    expect(seen.head).toBeLessThanOrEqual(2 + 2 * 2);
  });

  it('rclone: a same-size, same-mtime corruption in the bucket is planned as a replace and sent', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(bucket, 'rclone'));
    lab.write(lab.path('raw/a'), 'aaaa');
    expect((await lab.cli(['data', 'push'], { env: S3_KEYS })).exitCode).toBe(0);
    const bad = lab.outside('bad');
    lab.write(bad, 'XXXX');
    const { mtime } = statSync(lab.path('raw/a'));
    utimesSync(bad, mtime, mtime);
    await awsCli(server, lab.env, ['s3', 'cp', bad, `s3://${bucket}/lab/raw/a`]);
    const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(pair(r)).toMatchObject({ status: 'ok', files: 1, changes: { replace: ['a'] }, verify: { status: 'in_sync' }, warnings: [] });
    expect(await awsCli(server, lab.env, ['s3', 'cp', `s3://${bucket}/lab/raw/a`, '-'])).toBe('aaaa');
  });
});
