// `rclone lsjson` as labsync runs it on S3 (adapters/rclone/argv.ts lsjsonArgv): one listing, no HEAD
// per object. Counted from rclone's own request log (its flags from the environment), never timed.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, inject, it } from 'vitest';
import { json, Lab } from './harness/lab.js';
import { makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { s3PairManifest } from './harness/s3-manifest.js';
import { pastRacyWindow } from './harness/wait.js';

const s3 = inject('s3');
interface Pair { status: string; files: number; verify: { status: string; checked: number; bytesHashed?: { local: number; remote: number } } | null; commands: string[] }
const pair = (r: { stdout: string }): Pair => json<{ pairs: Pair[] }>(r as never).pairs[0] as Pair;
const LSJSON = /rclone lsjson .*--no-mimetype .*--hash --hash-type MD5 --use-server-modtime/;
/** No keys in labsync's environment: only rclone finds them (a shared credentials file), so rclone lists. */
const NO_KEYS = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' };
const FILES = 10;

/** HEAD and listing requests in an rclone debug log ("HEAD /b/k HTTP/1.1", plain or under --use-json-log); none without a log. */
function requests(log: string): { head: number; list: number } {
  if (!existsSync(log)) return { head: 0, list: 0 };
  const text = readFileSync(log, 'utf8');
  const count = (re: RegExp): number => (text.match(re) ?? []).length;
  return { head: count(/(?:: |"msg":")HEAD \/\S+ HTTP\/1\.1/g), list: count(/(?:: |"msg":")GET \/[^/ ?]+\?\S*prefix=\S* HTTP\/1\.1/g) };
}

describe.skipIf(!s3)('rclone lsjson on S3 (moto on 127.0.0.1): one listing, no HEAD per object', () => {
  const server = s3 as S3Server;

  it('a no-op push and check list the bucket once each and HEAD no object; the same listing without the flags HEADs each', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(s3PairManifest(server, bucket, 'rclone'));
    lab.write(lab.outside('home/.aws/credentials'), `[default]\naws_access_key_id = ${S3_KEYS.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${S3_KEYS.AWS_SECRET_ACCESS_KEY}\n`);
    for (let i = 0; i < FILES; i++) lab.write(lab.path('raw', `d${i % 3}`, `f${i}`), randomBytes(100 + i));
    await pastRacyWindow(); // the push remembers every file's hash: the runs below read none
    expect((await lab.cli(['data', 'push'], { env: NO_KEYS })).exitCode).toBe(0);
    const logged = (name: string): Record<string, string> => ({ ...NO_KEYS, RCLONE_DUMP: 'headers', RCLONE_LOG_LEVEL: 'DEBUG', RCLONE_LOG_FILE: lab.outside(name) });

    const noop = await lab.cli(['data', 'push', '--json'], { env: logged('noop.log') });
    expect(noop.exitCode, noop.stdout + noop.stderr).toBe(0);
    expect(pair(noop)).toMatchObject({ status: 'ok', files: 0, verify: { status: 'in_sync', checked: FILES } });
    expect(pair(noop).commands).toHaveLength(1);
    expect(pair(noop).commands[0]).toMatch(LSJSON);
    expect(requests(lab.outside('noop.log'))).toEqual({ head: 0, list: 1 });

    const check = await lab.cli(['check', '--json'], { env: logged('check.log') });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(pair(check)).toMatchObject({ status: 'in_sync', verify: { checked: FILES, bytesHashed: { local: 0, remote: 0 } } });
    expect(pair(check).commands).toHaveLength(1);
    expect(pair(check).commands[0]).toMatch(LSJSON);
    expect(requests(lab.outside('check.log'))).toEqual({ head: 0, list: 1 });

    // The counter sees HEADs: the same rclone, remote and listing, without --no-mimetype and
    // --use-server-modtime, asks each object for its type and modtime.
    const remote = `:s3,provider=Other,env_auth=true,region=us-east-1,endpoint='${server.endpoint}',force_path_style=true:${bucket}/lab/raw/`;
    const plain = await execa('rclone', ['lsjson', '-R', '--files-only', '--fast-list', '--hash', '--hash-type', 'MD5', remote], {
      env: { ...lab.env, ...logged('plain.log') }, extendEnv: false, reject: false,
    });
    expect(plain.exitCode, String(plain.stderr)).toBe(0);
    expect(JSON.parse(String(plain.stdout))).toHaveLength(FILES);
    expect(requests(lab.outside('plain.log')).head).toBeGreaterThanOrEqual(FILES);
  });

  it('a remote defined in the rclone config file (not the manifest) is listed the same way: --hash, no HEAD per object', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    // list_chunk: a setting labsync's own listing does not read, so rclone lists (s3-target.ts).
    lab.write(lab.outside('rclone.conf'), `[mys3]\ntype = s3\nprovider = Other\nendpoint = ${server.endpoint}\nregion = us-east-1\nforce_path_style = true\naccess_key_id = ${S3_KEYS.AWS_ACCESS_KEY_ID}\nsecret_access_key = ${S3_KEYS.AWS_SECRET_ACCESS_KEY}\nlist_chunk = 1000\n`);
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\nremotes:\n  store: { type: rclone, remote: mys3, path: ${bucket}/lab }\ndata:\n  - name: raw\n    tool: rclone\n    local: raw\n    remote: store:raw\n`);
    for (let i = 0; i < FILES; i++) lab.write(lab.path('raw', `f${i}`), randomBytes(100 + i));
    await pastRacyWindow();
    const env = { ...NO_KEYS, RCLONE_CONFIG: lab.outside('rclone.conf') };
    const first = await lab.cli(['data', 'push', '--json'], { env });
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    expect(pair(first).commands.join('\n')).toMatch(/--s3-no-head/);
    const logged = { ...env, RCLONE_DUMP: 'headers', RCLONE_LOG_LEVEL: 'DEBUG', RCLONE_LOG_FILE: lab.outside('noop.log') };
    const noop = await lab.cli(['data', 'push', '--json'], { env: logged });
    expect(noop.exitCode, noop.stdout + noop.stderr).toBe(0);
    expect(pair(noop)).toMatchObject({ status: 'ok', files: 0, verify: { status: 'in_sync', checked: FILES } });
    expect(pair(noop).commands[0]).toMatch(LSJSON);
    expect(requests(lab.outside('noop.log'))).toEqual({ head: 0, list: 1 });
  });
});
