// labsync's own S3 client against answers moto cannot be made to give: a small HTTP server on
// 127.0.0.1 that answers as S3 does in those cases (what it proves: how labsync reads the answer).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Lock } from '../remote-lock/s3.js';
import { makeHolder } from '../remote-lock/holder.js';
import { NothingToLockError } from '../remote-lock/types.js';
import type { S3Target } from './s3-direct.js';
import { readMd5Meta } from './s3-meta.js';

let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => void res.writeHead(500).end();
const server = createServer((req, res) => answer(req, res));
let target: S3Target;
beforeAll(async () => {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  target = { base: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), pathStyle: true, bucket: 'b', prefix: 'p', region: 'us-east-1', creds: { accessKeyId: 'k', secretAccessKey: 's' } };
});
afterAll(() => void server.close());

describe('labsync\'s own S3 client reads S3\'s answers', () => {
  it('an empty object\'s metadata: its byte 0 is out of range (416), so it is asked again whole', async () => {
    const seen: (string | undefined)[] = [];
    answer = (req, res) => {
      seen.push(req.headers.range);
      if (req.headers.range) return void res.writeHead(416).end();
      res.writeHead(200, { 'x-amz-meta-md5chksum': Buffer.from('d41d8cd98f00b204e9800998ecf8427e', 'hex').toString('base64'), 'content-length': '0' }).end();
    };
    expect(await readMd5Meta(target, 'empty.txt', { signal: new AbortController().signal, requestTimeoutMs: 2000 })).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(seen).toEqual(['bytes=0-0', undefined]);
  });

  it('a bucket in another region (301 PermanentRedirect): the lock is said not to be held there, never retried into a pair that cannot run', async () => {
    answer = (req, res) => {
      req.resume();
      res.writeHead(301, { 'content-type': 'application/xml', 'x-amz-bucket-region': 'eu-west-1' }).end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message></Error>');
    };
    const lock = s3Lock(target, { requestTimeoutMs: 2000 });
    await expect(lock.acquire(makeHolder({ command: 'data push', version: '0', now: new Date(), lease: 60_000 }))).rejects.toThrow(NothingToLockError);
    await expect(lock.acquire(makeHolder({ command: 'data push', version: '0', now: new Date(), lease: 60_000 }))).rejects.toThrow(/PermanentRedirect: the bucket answers from another region/);
  });

  /** A store that keeps objects in memory, honours or ignores conditions, and answers a scripted status for chosen requests. */
  function store(o: { honours: boolean; script?: (method: string, key: string, n: number) => number | undefined }): Map<string, string> {
    const objects = new Map<string, string>();
    let n = 0;
    answer = (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const key = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/b\//, ''));
        const scripted = o.script?.(req.method ?? '', key, ++n);
        if (scripted) return void res.writeHead(scripted, { 'content-type': 'application/xml' }).end(`<Error><Code>${scripted === 404 ? 'NoSuchBucket' : scripted === 403 ? 'AccessDenied' : 'SlowDown'}</Code></Error>`);
        const has = objects.has(key);
        if (req.method === 'GET') return void (has ? res.writeHead(200, { etag: '"e1"' }).end(objects.get(key)) : res.writeHead(404).end('<Error><Code>NoSuchKey</Code></Error>'));
        if (req.method === 'DELETE') return void (objects.delete(key), res.writeHead(204).end());
        if (o.honours && ((req.headers['if-none-match'] === '*' && has) || (req.headers['if-match'] !== undefined && !has))) return void res.writeHead(412).end('<Error><Code>PreconditionFailed</Code></Error>');
        objects.set(key, Buffer.concat(chunks).toString());
        res.writeHead(200, { etag: '"e1"' }).end();
      });
    };
    return objects;
  }
  const holder = () => makeHolder({ command: 'data push', version: '0', now: new Date(), lease: 60_000 });

  it('the conditional-write probe: a 503 on its second create is tried again as any lock request, never taken for "ignores conditions"', async () => {
    store({ honours: true, script: (m, key, n) => (m === 'PUT' && key.includes('probe') && n === 3 ? 503 : undefined) });
    const lock = s3Lock(target, { requestTimeoutMs: 2000 });
    const first = await lock.acquire(holder()).then(() => 'ok', (e: Error) => e);
    expect(first).toBeInstanceOf(Error);
    expect(first).not.toBeInstanceOf(NothingToLockError);
    expect(String(first)).toMatch(/HTTP 503/);
  });

  it('a read refused with 403 (a missing key without s3:ListBucket) is no answer: the conditional create goes on', async () => {
    const objects = store({ honours: true, script: (m, key, n) => (m === 'GET' && n === 1 ? 403 : undefined) });
    const lock = s3Lock(target, { requestTimeoutMs: 2000 });
    expect(await lock.acquire(holder())).toMatchObject({ ok: expect.any(String) });
    expect([...objects.keys()]).toEqual(['p/.labsync-lock']);
  });

  it('a store that ignores conditions: no create and no takeover of a stale lock there; no bucket: nothing to lock', async () => {
    store({ honours: false });
    const lock = s3Lock(target, { requestTimeoutMs: 2000 });
    await expect(lock.acquire(holder())).rejects.toThrow(/ignores If-None-Match/);
    await expect(lock.takeOver(holder(), { holder: undefined, tag: '"old"' })).rejects.toThrow(NothingToLockError);
    store({ honours: true, script: (m) => (m === 'PUT' ? 404 : undefined) });
    await expect(s3Lock(target, { requestTimeoutMs: 2000 }).acquire(holder())).rejects.toThrow(/bucket b does not exist/);
  });

  it('a store already known to honour conditions is not probed, but still read first: read, create, read-back', async () => {
    store({ honours: true });
    const count = { n: 0 };
    let remembered = 0;
    const fresh = s3Lock(target, { requestTimeoutMs: 2000, count, onHonours: () => void remembered++ });
    expect(await fresh.acquire(holder())).toMatchObject({ ok: expect.any(String) });
    expect([count.n, remembered]).toEqual([6, 1]); // read, probe (2 creates, 1 delete), create, read-back
    store({ honours: true });
    count.n = 0;
    expect(await s3Lock(target, { requestTimeoutMs: 2000, count, honours: true }).acquire(holder())).toMatchObject({ ok: expect.any(String) });
    expect(count.n).toBe(3);
  });

  it('remembered wrongly (the endpoint now names a store that ignores conditions): a live lock is read and never written over, and the answer is forgotten when a create is seen ignored', async () => {
    const objects = store({ honours: false });
    objects.set('p/.labsync-lock', JSON.stringify(holder()));
    expect(await s3Lock(target, { requestTimeoutMs: 2000, honours: true }).acquire(holder())).toBe('exists');
    expect(objects.get('p/.labsync-lock')).toContain('data push');
    // Another run's create lands between this one's and its read-back: the condition was ignored.
    let forgotten = 0;
    const racing = store({ honours: false });
    const inner = answer;
    answer = (req, res) => {
      inner(req, res);
      if (req.method === 'PUT') req.on('end', () => void racing.set('p/.labsync-lock', JSON.stringify(holder())));
    };
    await expect(s3Lock(target, { requestTimeoutMs: 2000, honours: true, onIgnored: () => void forgotten++ }).acquire(holder())).rejects.toThrow(/ignored If-None-Match/);
    expect(forgotten).toBe(1);
    // A takeover whose If-Match was ignored the same way forgets it too.
    expect(await s3Lock(target, { requestTimeoutMs: 2000, honours: true, onIgnored: () => void forgotten++ }).takeOver(holder(), { holder: undefined, tag: '"e1"' })).toBe('changed');
    expect(forgotten).toBe(2);
  });
});
