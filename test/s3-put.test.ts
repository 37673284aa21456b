// A small aws push PUT by labsync's own S3 client (engine/s3-push.ts) against moto and versitygw on
// 127.0.0.1: no aws-cli process for it (counted through a logging `aws` first on PATH), objects equal
// to what `aws s3 cp` makes (HEAD both), a wrong Content-MD5 refused, a dead or silent server a bounded
// failure, and whatever labsync's PUT would not reproduce left to aws-cli.
import { chmodSync, existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { putObject } from '../src/exec/s3-put.js';
import { directTarget, type S3Target } from '../src/exec/s3-direct.js';
import { objectUrl } from '../src/exec/s3-meta.js';
import { signRequest } from '../src/exec/sigv4.js';
import { json, Lab } from './harness/lab.js';
import { awsCli, makeBucket, S3_KEYS, type S3Server } from './harness/moto.js';
import { which } from '../src/exec/which.js';

interface Pair { status: string; error: string | null; attempts: number; files: number; verify: { status: string; checked: number } | null; commands: string[] }
const pair = (r: { stdout: string }): Pair => json<{ pairs: Pair[] }>(r as never).pairs[0] as Pair;

const servers = [['moto', inject('s3')], ['versitygw', inject('versitygw')]] as const;

/** A folder with an `aws` that logs its argv and runs the real one: aws-cli processes counted, not guessed. */
async function countingAws(lab: Lab): Promise<{ env: Record<string, string>; calls: () => string[] }> {
  const real = await which('aws', lab.env.PATH);
  if (!real) throw new Error('aws is not on PATH');
  const dir = lab.outside('bin');
  const log = lab.outside('aws-calls.log');
  lab.write(join(dir, 'aws'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${real}' "$@"\n`);
  chmodSync(join(dir, 'aws'), 0o755);
  return {
    env: { ...S3_KEYS, PATH: `${dir}:${lab.env.PATH}` },
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []),
  };
}

const manifest = (endpoint: string, bucket: string, extra = ''): string =>
  `version: 1\ndefaults:\n  retries: 0\nremotes:\n  store: { type: s3, bucket: ${bucket}, prefix: lab, region: us-east-1, endpoint: "${endpoint}" }\ndata:\n  - name: raw\n    tool: aws\n    local: raw\n    remote: store:raw\n${extra}`;

async function newBucket(name: string, server: S3Server, lab: Lab): Promise<string> {
  if (name === 'moto') return makeBucket(server, lab.env);
  const bucket = `put-${process.pid}-${Date.now() % 1_000_000}`;
  await awsCli(server, lab.env, ['s3', 'mb', `s3://${bucket}`]);
  return bucket;
}

/**
 * What a HEAD answers of an object (checksum mode on), less what differs between any two uploads (time,
 * request ids). moto also echoes a PUT's Content-MD5 request header on HEAD (AWS and versitygw keep no
 * such header; aws-cli sends none): left out on moto only, the rest must be equal there too.
 */
async function head(server: S3Server, bucket: string, key: string, echoes = false): Promise<Record<string, string>> {
  const t = directTarget({ type: 's3', bucket, prefix: '', region: 'us-east-1', endpoint: server.endpoint }, S3_KEYS, '') as S3Target;
  const url = objectUrl(t, key);
  const res = await fetch(url, { method: 'HEAD', headers: signRequest('HEAD', url, t.region, t.creds, new Date(), undefined, { 'x-amz-checksum-mode': 'ENABLED' }) });
  expect(res.status, key).toBe(200);
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (!/^(date|last-modified|x-amz-request-id|x-amzn-requestid|x-amz-id-2|connection|keep-alive|server)$/.test(k) && !(echoes && k === 'content-md5')) out[k] = v;
  });
  return out;
}

for (const [name, found] of servers) {
  describe.skipIf(!found)(`labsync's own PUT for a small aws push (${name} on 127.0.0.1)`, () => {
    const server = found as S3Server;

    it('one changed file is PUT by labsync, no aws-cli process moves it; a mirror\'s deletion is a DELETE after it', async () => {
      const lab = new Lab();
      const bucket = await newBucket(name, server, lab);
      lab.manifest(manifest(server.endpoint, bucket, '    delete: true\n    max_delete: 100%\n'));
      for (let i = 0; i < 20; i++) lab.write(lab.path('raw', `d${i % 4}`, `f${i}.bin`), `v${i}`);
      const aws = await countingAws(lab);
      const log = lab.outside('push.log');
      expect((await lab.cli(['data', 'push', '-v', '--log-file', log], { env: aws.env })).exitCode).toBe(0);
      // Ten requests in flight, each lane starting its next as one ends; the push says how far it is.
      const progress = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('"pair_progress"')).map((l) => JSON.parse(l).progress);
      expect(progress.at(-1)).toEqual({ files: 20, bytes: 50, percent: 100 });
      const before = aws.calls().length;
      lab.write(lab.path('raw/d0/f0.bin'), 'changed, and longer');
      const r = await lab.cli(['data', 'push', '--json'], { env: aws.env });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(pair(r)).toMatchObject({ status: 'ok', files: 1, verify: { status: 'in_sync', checked: 20 } });
      expect(pair(r).commands[1]).toMatch(/^PUT 1 object \(19 bytes\) under http:\/\/127\.0\.0\.1:\d+\/\S+\/lab\/raw\/ \(labsync's own S3 client, not aws-cli\)$/);
      // aws-cli started for its version at most (the receipt's), never to move a file.
      expect(aws.calls().slice(before).filter((c) => c !== '--version')).toEqual([]);
      // --json and the receipt say who moved the file.
      expect(json<{ pairs: { movedBy?: string }[] }>(r as never).pairs[0]?.movedBy).toBe('labsync-s3');
      const receipts = readdirSync(lab.path('.labsync/receipts')).sort();
      const receipt = JSON.parse(readFileSync(lab.path('.labsync/receipts', receipts[receipts.length - 1] as string), 'utf8')) as { movedBy?: string; status: string };
      expect(receipt).toMatchObject({ status: 'ok', movedBy: 'labsync-s3' });
      expect(await awsCli(server, lab.env, ['s3', 'cp', `s3://${bucket}/lab/raw/d0/f0.bin`, '-'])).toBe('changed, and longer');

      lab.write(lab.path('raw/d1/f1.bin'), 'v1 again, new');
      unlinkSync(lab.path('raw/d2/f2.bin'));
      const mark = aws.calls().length;
      const m = await lab.cli(['data', 'push', '--json'], { env: aws.env });
      expect(m.exitCode, m.stdout).toBe(0);
      expect(pair(m)).toMatchObject({ status: 'ok', verify: { status: 'in_sync', checked: 19 } });
      expect(pair(m).commands[1]).toMatch(/^PUT 1 object \(\d+ bytes\), then DELETE 1 object under /);
      expect(aws.calls().slice(mark).filter((c) => c !== '--version')).toEqual([]);
      const keys = (await awsCli(server, lab.env, ['s3', 'ls', '--recursive', `s3://${bucket}/lab/raw/`])).trim().split('\n');
      expect(keys).toHaveLength(19);
      expect(keys.join('\n')).not.toContain('d2/f2.bin');
    });

    it('leaves objects as `aws s3 cp` does: Content-Type from the name, ETag, SHA-256 checksum, no metadata (HEAD both)', async () => {
      const lab = new Lab();
      const bucket = await newBucket(name, server, lab);
      lab.manifest(manifest(server.endpoint, bucket));
      const names = ['notes.txt', 'table.csv', 'conf.json', 'model.pt', 'shards.tar.gz', 'README', 'weights.safetensors', 'sub dir/Photo.JPG', '-dash.yaml'];
      names.forEach((n, i) => lab.write(lab.path('raw', n), `content ${i} `.repeat(100 + i)));
      const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(pair(r).commands[1]).toMatch(/^PUT 9 objects /);
      // aws-cli's own upload of the same files, one process: its recursive copy guesses types the same way.
      await awsCli(server, lab.env, ['s3', 'cp', '--recursive', '--checksum-algorithm', 'SHA256', '--no-progress', '--only-show-errors', lab.path('raw'), `s3://${bucket}/by-aws/`]);
      for (const n of names) expect(await head(server, bucket, `lab/raw/${n}`, name === 'moto'), n).toEqual(await head(server, bucket, `by-aws/${n}`));
      // The guessed types themselves (Python's table and the system's mime.types agree on these).
      expect((await head(server, bucket, 'lab/raw/notes.txt'))['content-type']).toBe('text/plain');
      expect((await head(server, bucket, 'lab/raw/shards.tar.gz'))['content-type']).toBe('application/x-tar');
      expect((await head(server, bucket, 'lab/raw/notes.txt'))['x-amz-checksum-sha256']).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    });

    // moto 5.2 checks no digest of a PUT (Content-MD5, x-amz-content-sha256, x-amz-checksum-sha256 all
    // taken as sent, tried on loopback): the refusal is the store's, so only a store that checks shows it.
    it.runIf(name === 'versitygw')('a body whose Content-MD5 does not match is refused, and nothing is stored under the name', async () => {
      const lab = new Lab();
      const bucket = await newBucket(name, server, lab);
      const t = directTarget({ type: 's3', bucket, prefix: 'lab', region: 'us-east-1', endpoint: server.endpoint }, S3_KEYS, '') as S3Target;
      const wrong = Buffer.from('0123456789abcdef');
      const got = await putObject(t, 'bad.bin', Buffer.from('the bytes sent'), undefined, { signal: new AbortController().signal, requestTimeoutMs: 10_000 }, wrong);
      expect(got).toMatchObject({ ok: false, status: 400, code: expect.stringMatching(/^(BadDigest|InvalidDigest)$/) });
      expect((await awsCli(server, lab.env, ['s3', 'ls', '--recursive', `s3://${bucket}/`])).trim()).toBe('');
      const ok = await putObject(t, 'good.bin', Buffer.from('the bytes sent'), undefined, { signal: new AbortController().signal, requestTimeoutMs: 10_000 });
      expect(ok).toEqual({ ok: true });
    });
  });
}

/**
 * A server in front of `target` that passes listings through and answers every PUT and DELETE by
 * `onWrite`; `refuse-md5`: a store that does not take Content-MD5 (501), passing aws-cli's PUTs, which carry none.
 */
function frontOf(target: S3Server, onWrite: 'reset' | 'silent' | 'refuse-md5'): Promise<{ server: Server; endpoint: string; writes: () => number }> {
  let writes = 0;
  const server = createServer((req, res) => {
    if (onWrite === 'refuse-md5' && req.headers['content-md5']) {
      writes += 1;
      res.writeHead(501, { 'content-type': 'application/xml' }).end('<Error><Code>NotImplemented</Code></Error>');
      return;
    }
    if ((req.method === 'PUT' || req.method === 'DELETE') && onWrite !== 'refuse-md5') {
      writes += 1;
      if (onWrite === 'reset') req.socket.destroy();
      return; // silent: the request is read and never answered
    }
    const up = request(`${target.endpoint}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    resolve({ server, endpoint: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, writes: () => writes });
  }));
}

const moto = inject('s3');
describe.skipIf(!moto)('labsync\'s own PUT meets a dead or silent server, and options it would not reproduce', () => {
  const server = moto as S3Server;

  it.each(['reset', 'silent'] as const)('a server that %s each PUT: retried as the pair says, then a bounded failure naming the object', async (how) => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    const front = await frontOf(server, how);
    try {
      lab.manifest(manifest(front.endpoint, bucket, '    retries: 1\n    retry_delay: 50ms\n    stall_timeout: 2s\n'));
      lab.write(lab.path('raw/a.csv'), 'a');
      const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
      expect(r.exitCode, r.stdout + r.stderr).toBe(1);
      expect(pair(r)).toMatchObject({ status: 'failed', attempts: 2 });
      const said = how === 'reset' ? /could not reach http:\/\/127\.0\.0\.1:\d+: \S+/ : /could not reach http:\/\/127\.0\.0\.1:\d+: no answer in 2 s/;
      expect(pair(r).error).toMatch(said);
      expect(pair(r).error).toMatch(/ — PUT http:\/\/127\.0\.0\.1:\d+\/\S+\/lab\/raw\/a\.csv \(labsync's own S3 client\)$/);
      expect(front.writes()).toBe(2);
      expect(r.stdout + r.stderr).not.toContain(S3_KEYS.AWS_SECRET_ACCESS_KEY);
    } finally {
      front.server.closeAllConnections();
      front.server.close();
    }
  }, 60_000);

  it('a store that refuses a header of labsync\'s PUT (501 NotImplemented): aws-cli moves the files instead, and the run says so', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    const front = await frontOf(server, 'refuse-md5');
    try {
      lab.manifest(manifest(front.endpoint, bucket));
      lab.write(lab.path('raw/a.csv'), 'a').write(lab.path('raw/b.csv'), 'b');
      const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(pair(r)).toMatchObject({ status: 'ok', files: 2, verify: { status: 'in_sync', checked: 2 } });
      expect(pair(r).commands[2]).toMatch(/^\(labsync's own PUT stopped: HTTP 501 NotImplemented; aws-cli moves the files instead\)$/);
      expect(pair(r).commands[3]).toMatch(/ aws s3 cp --recursive /);
      expect(front.writes()).toBeGreaterThanOrEqual(1);
      expect(json<{ pairs: { movedBy?: string }[] }>(r as never).pairs[0]?.movedBy).toBeUndefined();
    } finally {
      front.server.closeAllConnections();
      front.server.close();
    }
  }, 60_000);

  it('S3 settings in the aws config file (where aws-cli could take more than labsync reproduces) leave the push to aws-cli', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(server.endpoint, bucket));
    lab.write(lab.path('raw/a.csv'), 'a');
    lab.write(lab.env.AWS_CONFIG_FILE as string, '[default]\ns3 =\n  max_concurrent_requests = 2\n');
    const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(r.exitCode, r.stdout).toBe(0);
    expect(pair(r).commands.some((c) => / aws s3 cp --recursive .* s3:\/\//.test(c))).toBe(true);
    expect(pair(r).commands.join('\n')).not.toContain("labsync's own S3 client");
  });

  it('a backup of a replaced object, or LABSYNC_S3_PUT=0, leaves the push to aws-cli', async () => {
    const lab = new Lab();
    const bucket = await makeBucket(server, lab.env);
    lab.manifest(manifest(server.endpoint, bucket, '    backup: true\n'));
    lab.write(lab.path('raw/a.csv'), 'a1');
    const first = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(pair(first).commands[1]).toMatch(/labsync's own S3 client/); // nothing replaced: nothing to back up
    lab.write(lab.path('raw/a.csv'), 'a2, replaced');
    const r = await lab.cli(['data', 'push', '--json'], { env: S3_KEYS });
    expect(r.exitCode, r.stdout).toBe(0);
    expect(pair(r).commands.filter((c) => / aws s3 cp /.test(c))).toHaveLength(2); // the backup copy, then the upload
    const kept = (await awsCli(server, lab.env, ['s3', 'ls', '--recursive', `s3://${bucket}/lab/raw/`])).split('\n').filter((l) => l.includes('.labsync-backup/'));
    expect(kept).toHaveLength(1);
    lab.write(lab.path('raw/b.csv'), 'b');
    const off = await lab.cli(['data', 'push', '--json'], { env: { ...S3_KEYS, LABSYNC_S3_PUT: '0' } });
    expect(pair(off).commands[1]).toMatch(/ aws s3 cp --recursive .* s3:\/\//);
    expect(json<{ pairs: { movedBy?: string }[] }>(off as never).pairs[0]?.movedBy).toBeUndefined();
  });
});
