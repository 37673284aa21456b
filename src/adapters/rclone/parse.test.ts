import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Command, ToolOutput } from '../types.js';
import type { ResolvedPair } from '../../types.js';
import { answered } from '../../engine/attempt.js';
import { classify } from './classify.js';
import { rclone } from './index.js';
import { changesFromDryRun, conflicts, listedPaths, parseCombined, parseLsjson, parseProgress, parseStats, parseVersion, sizeCount } from './parse.js';
import { listArgv, listsMd5, lsjsonArgv, plannedArgv, plannedDeleteArgv } from './argv.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/tool-output/rclone-1.60.1/${name}`, import.meta.url), 'utf8');
const out = (exitCode: number, stderr: string, stdout = ''): ToolOutput => ({ exitCode, stdout, stderr, durationMs: 1, timedOut: false, aborted: false });
const cmd = (args: string[], label = 'x'): Command => ({ tool: 'rclone', args, cwd: '/', mutates: true, label, pair: 'raw' });

describe('rclone parse (recorded rclone 1.60.1 output)', () => {
  it('reads a sync dry run into transfers and deletions', () => {
    expect(changesFromDryRun(fixture('sync-dry-run.stderr'))).toEqual({
      transfer: expect.arrayContaining(['-dash', 'with space.txt', 'ünï.bin']),
      delete: ['old/gone'],
    });
    expect(changesFromDryRun(fixture('sync-dry-run.stderr')).transfer).toHaveLength(3);
  });
  it('reads stats, sizes, versions and progress', () => {
    expect(parseStats(fixture('sync.stderr'))).toEqual({ files: 3, bytes: 3 });
    expect(sizeCount(fixture('size.stdout'))).toBe(4);
    expect(listedPaths(fixture('lsjson.stdout'))).toEqual(['a', 'new␊line', 'sub/with space']);
    expect(listedPaths('')).toEqual([]);
    expect(parseVersion('rclone v1.60.1-DEV\n- os/version: debian 12')).toBe('1.60.1-DEV');
    expect(parseProgress('{"level":"warning","msg":"x","stats":{"bytes":512,"totalBytes":1024,"speed":2048,"eta":75,"transfers":1}}'))
      .toEqual({ bytes: 512, percent: 50, rate: '2.0KiB/s', eta: '0:01:15', files: 1 });
    expect(parseProgress('{"level":"info","msg":"Copied (new)"}')).toBeUndefined();
  });
  it('reads check --combined with the local side as source', () => {
    expect(parseCombined(fixture('check-combined.stdout'))).toEqual({ checked: 4, missing: ['ünï.bin'], extra: ['extra'], changed: ['sub/same'] });
  });
  it('finds bisync conflicts', () => {
    expect(conflicts(fixture('bisync-conflict.stderr'))).toEqual(['c']);
  });
});

describe('rclone lsjson (recorded rclone 1.60.1 output)', () => {
  it('reads an S3 listing with MD5s and no mtime: the server\'s time is the upload time, kept as that', () => {
    const entries = parseLsjson(fixture('lsjson-hash.json'), true);
    expect(entries.map((e) => e.path)).toEqual(['-dash', 'with space.txt', 'ünï.bin', 'sub/c']);
    expect(entries[3]).toEqual({ path: 'sub/c', size: 1, uploadedMs: Date.parse('2026-11-30T06:54:50Z'), md5: '4a8a08f09d37b73795649038408b5f33' });
  });
  it('reads a listing without hashes with its nanosecond mtimes to the millisecond', () => {
    const entries = parseLsjson(fixture('lsjson-local.json'), false);
    expect(entries.find((e) => e.path === 'sub/c')).toEqual({ path: 'sub/c', size: 1, mtimeMs: Date.parse('2026-11-25T01:02:03.123Z') });
    expect(parseLsjson('[\n]\n', false)).toEqual([]);
    expect(parseLsjson('[{"Path":"d","Size":-1,"IsDir":true},{"Path":"m","Size":3,"Hashes":{"md5":""}}]', false)).toEqual([{ path: 'm', size: 3 }]);
  });
  it('refuses output that is not lsjson', () => {
    expect(() => parseLsjson('{"Path":"a"}', false)).toThrow();
    expect(() => parseLsjson('[{"Path":"a"}]', false)).toThrow();
  });
});

describe('rclone argv for listings and plans', () => {
  const pair = (remote: ResolvedPair['remote']): ResolvedPair => ({ name: 'raw', root: '/m', local: '/m/raw', remote, exclude: ['*.tmp'], backup: true, delete: true } as unknown as ResolvedPair);
  const s3 = pair({ type: 's3', bucket: 'b', prefix: 'lab/raw' } as ResolvedPair['remote']);
  it('asks for hashes only where the backend lists them, never the mime type', () => {
    expect(listsMd5(s3.remote)).toBe(true);
    expect(listsMd5({ type: 'rclone', remote: 'r', path: 'p', config: { type: 'sftp' } } as ResolvedPair['remote'])).toBe(false);
    expect(lsjsonArgv(s3, '/dev/null')).toEqual(expect.arrayContaining(['--no-mimetype', '--hash', '--use-server-modtime', '--exclude', '*.tmp']));
    const sftp = lsjsonArgv(pair({ type: 'rclone', remote: 'r', path: 'p', config: { type: 'sftp' } } as ResolvedPair['remote']), '/dev/null');
    expect(sftp).toContain('--no-mimetype');
    expect(sftp).not.toContain('--hash');
  });
  it('lists within bounds against a dead endpoint: connect and idle timeouts, few low-level retries (a review found rclone\'s 1 m / 5 m × 10 defaults)', () => {
    const bounded = { ...s3, stallTimeoutMs: 30_000 } as ResolvedPair;
    for (const argv of [lsjsonArgv(bounded, '/dev/null'), listArgv(bounded, 'labsyncs3:b/lab/raw', '/dev/null')]) {
      expect(argv).toEqual(expect.arrayContaining(['--contimeout', '30s', '--timeout', '30s', '--low-level-retries', '3']));
      expect(argv.indexOf('--timeout')).toBeLessThan(argv.indexOf('--'));
    }
  });
  it('moves exactly the named files with a copy, then deletes with a sync over the deleted paths alone, backups kept', () => {
    const ctx = { stamp: 'S', tty: false, verbose: false, resync: false, full: false };
    const copy = plannedArgv(s3, 'push', ctx, '/dev/null', false);
    expect(copy[0]).toBe('copy');
    expect(copy).toEqual(expect.arrayContaining(['--files-from-raw', '-', '--no-traverse', '--ignore-times', '--backup-dir', 'labsyncs3:b/lab/raw/.labsync-backup/S']));
    expect(copy).not.toContain('--exclude');
    expect(copy).not.toContain('--suffix');
    expect(plannedArgv(s3, 'push', ctx, '/dev/null', false, 'attempt2')).toEqual(expect.arrayContaining(['--suffix', '.attempt2']));
    const del = plannedDeleteArgv(s3, 'pull', ctx, '/dev/null');
    expect([del[0], ...del.slice(-2)]).toEqual(['sync', 'labsyncs3:b/lab/raw', '/m/raw']);
    // A path back at the source meanwhile is neither sent nor deleted.
    expect(del).toEqual(expect.arrayContaining(['--files-from-raw', '-', '--ignore-existing', '--backup-dir', '/m/raw/.labsync-backup/S']));
    expect(del).not.toContain('--ignore-times');
  });
});

describe('rclone classify', () => {
  it('says which files check could compare by size only: not provable, not drift', () => {
    const noCommon = '2026/11/25 00:00:00 NOTICE: S3 bucket b: No common hash found - not using a hash for checks';
    expect(classify(out(0, noCommon), cmd(['check']))).toEqual({ kind: 'ok' });
    expect(parseCombined('= a\n= b\n', noCommon)).toMatchObject({ checked: 2, changed: [], unproven: ['a', 'b'], unprovenReason: expect.stringMatching(/no hash in common/) });
    // versitygw's checksum ETags are no MD5s: rclone 1.60 compares sizes and says so only in a count.
    expect(parseCombined(fixture('versitygw-check-unhashed.stdout'), fixture('versitygw-check-unhashed.stderr')))
      .toMatchObject({ checked: 3, changed: [], unproven: ['plain.csv', 'sub/big.bin', 'with space.csv'], unprovenReason: expect.stringMatching(/could not check the hashes of 3 of 3/) });
    expect(parseCombined(fixture('check-combined.stdout'), fixture('check-combined.stderr')).unproven).toBeUndefined();
  });
  it('takes check differences and an absent destination count as answers, not failures', () => {
    expect(classify(out(1, fixture('check-combined.stderr')), cmd(['check']))).toEqual({ kind: 'ok' });
    // The destination count says a missing folder is an answer (nothing there yet); the source count does not.
    const pair = { name: 'raw', root: '/lab', local: '/lab/raw', remote: { type: 'local', path: '/nas/raw' }, exclude: [], delete: false, backup: false } as unknown as ResolvedPair;
    const ctx = { stamp: 's', tty: false, verbose: false, resync: false, full: false };
    const [source, destination] = rclone.preview(pair, 'push', ctx).commands as Command[];
    expect(answered(out(3, fixture('size-missing.stderr')), destination as Command)).toBe(true);
    expect(answered(out(3, fixture('size-missing.stderr')), source as Command)).toBe(false);
    expect(classify(out(3, fixture('size-missing.stderr')), source as Command)).toMatchObject({ kind: 'fatal', safety: true });
  });
  it('stops safely for a missing source and a bisync that needs --resync, naming the command', () => {
    expect(classify(out(3, fixture('sync-missing-source.stderr')), cmd(['sync']))).toMatchObject({ kind: 'fatal', safety: true, reason: expect.stringMatching(/^the source does not exist: .*directory not found/) });
    expect(classify(out(2, fixture('bisync-needs-resync.stderr')), cmd(['bisync']))).toMatchObject({ kind: 'fatal', safety: true, hint: expect.stringContaining('labsync sync raw --resync') });
  });
  it('reports bisync conflicts as a warning', () => {
    expect(classify(out(0, fixture('bisync-conflict.stderr')), cmd(['bisync']))).toMatchObject({ kind: 'ok', warning: expect.stringContaining(': c') });
  });
  it('retries network trouble and refuses credentials and missing buckets', () => {
    expect(classify(out(1, '{"level":"error","msg":"dial tcp 127.0.0.1:1: connect: connection refused"}'), cmd(['copy'])).kind).toBe('retry');
    expect(classify(out(5, '{"level":"error","msg":"temporary"}'), cmd(['copy'])).kind).toBe('retry');
    expect(classify(out(1, '{"level":"error","msg":"InvalidAccessKeyId: The AWS Access Key Id you provided does not exist"}'), cmd(['copy']))).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/^credentials refused/) });
    expect(classify(out(1, '{"level":"error","msg":"NoSuchBucket: The specified bucket does not exist"}'), cmd(['copy']))).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/^the bucket does not exist/) });
  });
  it('refuses a wrong secret and an unknown access key on a real S3 server (versitygw 1.8.0), without retrying', () => {
    for (const name of ['versitygw-wrong-secret.stderr', 'versitygw-unknown-access-key.stderr']) {
      expect(classify(out(1, fixture(name)), cmd(['copy'])), name).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/^credentials refused: .*(SignatureDoesNotMatch|XAdminUserNotFound)/) });
    }
    expect(classify(out(1, fixture('versitygw-wrong-secret-size.stderr')), cmd(['size']))).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/^credentials refused/) });
  });
});
