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
});
