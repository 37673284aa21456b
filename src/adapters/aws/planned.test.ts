import { describe, expect, it } from 'vitest';
import type { ResolvedPair } from '../../types.js';
import { headArgv } from './argv.js';
import { classify } from './classify.js';
import { deleteObjectsArgvs, filteredPullArgvs, literalPattern, stagedPushArgv } from './planned.js';

const pair = { name: 'raw', root: '/m', local: '/m/raw', remote: { type: 's3', bucket: 'b', prefix: 'lab/raw', endpoint: 'http://127.0.0.1:9' } } as unknown as ResolvedPair;
const keysOf = (args: string[]): string[] => (JSON.parse(args[args.indexOf('--delete') + 1] as string) as { Objects: { Key: string }[] }).Objects.map((o) => o.Key);

describe('aws planned transfers (pure)', () => {
  it('deletes in batches of at most 1000 keys, under the prefix', () => {
    const keys = Array.from({ length: 2001 }, (_, i) => `k${i}`);
    const batches = deleteObjectsArgvs(pair, keys);
    expect(batches.map((b) => keysOf(b).length)).toEqual([1000, 1000, 1]);
    expect(keysOf(batches[0] as string[])[0]).toBe('lab/raw/k0');
    expect(batches[0]).toEqual(expect.arrayContaining(['s3api', 'delete-objects', '--bucket', 'b', '--endpoint-url', 'http://127.0.0.1:9']));
  });
  it('bounds delete-objects and head-object against a dead endpoint (connect and read timeouts; a review found none)', () => {
    const bounded = { ...pair, stallTimeoutMs: 30_000 } as ResolvedPair;
    for (const argv of [...deleteObjectsArgvs(bounded, ['k']), headArgv(bounded, 'k')]) expect(argv).toEqual(expect.arrayContaining(['--cli-connect-timeout', '30', '--cli-read-timeout', '30']));
  });
  it('keeps each batch\'s JSON (one argv word) under Linux\'s 128 KiB per word', () => {
    const long = Array.from({ length: 1000 }, (_, i) => `${'x'.repeat(900)}${i}`);
    const batches = deleteObjectsArgvs(pair, long);
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) expect((b[b.indexOf('--delete') + 1] as string).length).toBeLessThan(128 * 1024);
    expect(batches.flatMap(keysOf)).toHaveLength(1000);
  });
  it('matches a key\'s own glob characters literally in a filtered pull', () => {
    expect(literalPattern('a[1]*?.csv')).toBe('a[[]1][*][?].csv');
    const [args] = filteredPullArgvs(pair, ['x y', 'a*b']);
    expect(args?.slice(args.indexOf('--exclude'))).toEqual(['--exclude', '*', '--include=x y', '--include=a[*]b', '--', 's3://b/lab/raw/', '/m/raw']);
    expect(filteredPullArgvs(pair, Array.from({ length: 1001 }, (_, i) => `k${i}`))).toHaveLength(3);
  });
  it('pushes a staged folder to the prefix', () => {
    expect(stagedPushArgv(pair, '/m/.labsync/stage/raw/S').slice(-3)).toEqual(['--', '/m/.labsync/stage/raw/S', 's3://b/lab/raw/']);
  });
  it('fails a delete-objects that answered with errors though aws exited 0', () => {
    const out = (stdout: string) => ({ exitCode: 0, stdout, stderr: '', durationMs: 1, timedOut: false, aborted: false });
    expect(classify(out('{\n    "Errors": [\n        {\n            "Key": "lab/raw/a",\n            "Code": "AccessDenied"\n        }\n    ]\n}'))).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/not deleted/) });
    expect(classify(out('')).kind).toBe('ok');
  });
});
