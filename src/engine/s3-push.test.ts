import { describe, expect, it } from 'vitest';
import { copyOneArgv } from '../adapters/aws/argv.js';
import type { Lister } from '../adapters/types.js';
import type { PairPlan, PlannedFile } from '../plan/types.js';
import type { ResolvedPair } from '../types.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AWS_MULTIPART_THRESHOLD, directPush, foreignOption, pushDirect } from './s3-push.js';

const remote = { type: 's3' as const, bucket: 'b', prefix: 'lab', region: 'us-east-1', endpoint: 'http://127.0.0.1:9000' };
const pair = { name: 'raw', root: '/lab', local: '/lab/raw', remote, backup: false, stallTimeoutMs: 60_000 } as unknown as ResolvedPair;
const lister = { s3: remote } as unknown as Lister;
const env = { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', HOME: '/nonexistent' };
const files = (n: number, size = 10): PlannedFile[] => Array.from({ length: n }, (_, i) => ({ path: `f${i}`, size, reason: 'missing' as const }));
const plan = (p: Partial<PairPlan>): PairPlan => ({ send: [], replace: [], delete: [], sourceFiles: 0, destFiles: 0, sourceDigest: '', destDigest: '', ...p });
const reason = (d: ReturnType<typeof directPush>): string | undefined => ('reason' in d ? d.reason : undefined);

describe('when labsync PUTs a push itself, and when aws-cli moves it', () => {
  it('PUTs a small plan whose objects aws-cli would upload whole, deleting after', () => {
    const d = directPush(pair, lister, plan({ send: files(2), replace: files(1), delete: [{ path: 'old', size: 1, reason: 'extra' }] }), env);
    expect(d).toMatchObject({ send: ['f0', 'f1', 'f0'], gone: ['old'], bytes: 30 });
  });
  it('PUTs a plan of any count (10k objects: cheaper than aws-cli at every count measured)', () => {
    expect(directPush(pair, lister, plan({ send: files(10_000) }), env)).toHaveProperty('target');
  });
  it('leaves to aws-cli: a multipart file, a backup to keep, a foreign option, an unreachable store, LABSYNC_S3_PUT=0', () => {
    expect(reason(directPush(pair, lister, plan({ send: files(1, AWS_MULTIPART_THRESHOLD) }), env))).toMatch(/in parts/);
    expect(directPush(pair, lister, plan({ send: files(1, AWS_MULTIPART_THRESHOLD - 1) }), env)).toHaveProperty('target');
    const backup = { ...pair, backup: true } as ResolvedPair;
    expect(reason(directPush(backup, lister, plan({ replace: files(1) }), env))).toMatch(/backup/);
    expect(directPush(backup, lister, plan({ send: files(1) }), env)).toHaveProperty('target');
    expect(reason(directPush(pair, lister, plan({ send: files(1) }), { ...env, LABSYNC_S3_PUT: '0' }))).toBe('LABSYNC_S3_PUT=0');
    expect(reason(directPush(pair, lister, plan({ send: files(1) }), { HOME: '/nonexistent' }))).toMatch(/no keys/);
    expect(reason(directPush({ ...pair, remote: { ...remote, profile: 'lab' } } as ResolvedPair, { s3: { ...remote, profile: 'lab' } } as unknown as Lister, plan({ send: files(1) }), env))).toMatch(/profile|--profile/);
    expect(reason(directPush(pair, {} as Lister, plan({ send: files(1) }), env))).toMatch(/not an aws pair/);
  });
  it("reads the aws argv: only options that leave the object as labsync's PUT does", () => {
    expect(foreignOption(copyOneArgv(pair, 'push', 'k'))).toBeUndefined();
    const cp = ['s3', 'cp', '--endpoint-url', 'http://x', '--checksum-algorithm', 'SHA256'];
    expect(foreignOption([...cp, '--sse', 'AES256', '--', 'a', 'b'])).toBe('--sse');
    expect(foreignOption([...cp, '--storage-class=GLACIER', '--', 'a', 'b'])).toBe('--storage-class');
    expect(foreignOption([...cp, '--acl', 'public-read', '--', 'a', 'b'])).toBe('--acl');
    expect(foreignOption(['s3', 'cp', '--checksum-algorithm', 'CRC32', '--', 'a', 'b'])).toBe('--checksum-algorithm');
    expect(foreignOption(['s3', 'cp', '--profile', 'lab', '--', 'a', 'b'])).toBe('--profile');
    expect(foreignOption(['s3', 'cp', '--', '--sse', 'b'])).toBeUndefined();
  });
});

describe('labsync\'s own PUTs against a stand-in S3 endpoint on 127.0.0.1 (what its loop does with the answers, not S3 itself)', () => {
  async function standIn(answer: (n: number) => number | undefined): Promise<{ target: unknown; close: () => void }> {
    let n = 0;
    const srv = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const status = answer(++n);
        if (status === 200) res.writeHead(200).end();
        else if (status) res.writeHead(status, { 'content-type': 'application/xml' }).end('<Error><Code>NotImplemented</Code><Message>no</Message></Error>');
        // undefined: no answer (a server that stopped answering)
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    const target = { base: new URL(`http://127.0.0.1:${port}`), pathStyle: true, bucket: 'b', prefix: '', region: 'us-east-1', creds: { accessKeyId: 'a', secretAccessKey: 's' } };
    return { target, close: () => { srv.closeAllConnections(); srv.close(); } };
  }
  const files = (n: number): { dir: string; send: string[] } => {
    const dir = mkdtempSync(join(tmpdir(), 's3-push-'));
    const send = Array.from({ length: n }, (_, i) => `f${i}`);
    for (const f of send) writeFileSync(join(dir, f), 'x');
    return { dir, send };
  };

  it('the pair\'s timeout cutting PUTs in flight is a time-out, retried (review 44: it had ended the pair as "interrupted", no retry)', async () => {
    const s = await standIn((n) => (n <= 15 ? 200 : undefined));
    try {
      const { dir, send } = files(40);
      const events: { kind: string }[] = [];
      const p = { name: 'p', local: dir, timeoutMs: 1500, stallTimeoutMs: 60_000, retries: 2, retryDelayMs: 10 };
      const got = await pushDirect({ target: s.target, send, gone: [], bytes: 40 } as never, { pair: p, emit: (e: { kind: string }) => events.push(e), redact: (x: string) => x, signal: new AbortController().signal } as never);
      expect(got).toMatchObject({ kind: 'failed', outcome: { kind: 'retry', reason: expect.stringMatching(/^timed out after 2s/) } });
      expect(events.filter((e) => e.kind === 'pair_retry')).toHaveLength(2);
    } finally {
      s.close();
    }
  }, 20_000);

  it('a store refusing labsync\'s request part-way hands aws-cli only the objects not yet sent (review 44: the whole plan again)', async () => {
    const s = await standIn((n) => (n <= 12 ? 200 : 501));
    try {
      const { dir, send } = files(30);
      const p = { name: 'p', local: dir, timeoutMs: 0, stallTimeoutMs: 60_000, retries: 0, retryDelayMs: 10 };
      const got = await pushDirect({ target: s.target, send, gone: [], bytes: 30 } as never, { pair: p, emit: () => undefined, redact: (x: string) => x, signal: new AbortController().signal } as never);
      expect(got.kind).toBe('fallback');
      if (got.kind === 'fallback') {
        expect(got.sent.size).toBe(12);
        for (const f of got.sent) expect(send).toContain(f);
      }
    } finally {
      s.close();
    }
  });
});
