import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ToolOutput } from '../types.js';
import { filters } from './argv.js';
import { classify } from './classify.js';
import { parseActions, parseListing, parseProgress, parseStats, parseVersion } from './parse.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/tool-output/aws-1.45.11/${name}`, import.meta.url), 'utf8');
const out = (exitCode: number, stderr: string): ToolOutput => ({ exitCode, stdout: '', stderr, durationMs: 1, timedOut: false, aborted: false });
const URL_ = 's3://fixture-bucket/lab/raw/';

describe('aws parse (recorded aws-cli 1.45.11 output)', () => {
  it('reads a push dry run, keys with " to " in them included', () => {
    expect(parseActions(fixture('sync-push-dryrun.stdout'), URL_, 'raw')).toEqual({
      transfer: ['-dash', 'a to b.txt', 'sub/c', 'with space.txt'],
      delete: ['gone'],
    });
  });
  it('reads a pull dry run with local deletions', () => {
    expect(parseActions(fixture('sync-pull-dryrun.stdout'), URL_, 'pulled')).toEqual({
      transfer: ['-dash', 'a to b.txt', 'gone', 'sub/c', 'with space.txt'],
      delete: ['stale'],
    });
  });
  it('reads listings relative to the prefix, ETags unquoted, an empty prefix as nothing', () => {
    const entries = parseListing(fixture('list-objects-v2.json'), 'lab/raw');
    expect(entries.map((e) => e.path).sort()).toEqual(['-dash', 'a to b.txt', 'gone', 'sub/c', 'with space.txt']);
    expect(entries.find((e) => e.path === 'sub/c')).toEqual({ path: 'sub/c', size: 1, uploadedMs: Date.parse('2026-11-25T00:47:28.000Z'), etag: '4a8a08f09d37b73795649038408b5f33', checksums: ['CRC32'] });
    expect(parseListing(fixture('list-objects-v2-empty.json'), 'none')).toEqual([]);
  });
  it('reads a listing aws-cli fetched in pages as one, multipart ETags kept whole, backups left out', () => {
    const entries = parseListing(fixture('list-objects-v2-paged.json'), 'lab/raw');
    expect(entries.map((e) => e.path).sort()).toEqual(['-dash', 'big.bin', 'sub/c', 'with space.txt', 'ünï.bin']);
    expect(entries.find((e) => e.path === 'big.bin')).toMatchObject({ size: 9437184, etag: '476ba074686b61121dd386ee43384d0f-2' });
    expect(entries.every((e) => typeof e.uploadedMs === 'number' && e.uploadedMs % 1000 === 0)).toBe(true);
  });
  it('refuses a listing that is not what list-objects-v2 prints', () => {
    expect(() => parseListing('{"Contents":[{"Key":"a"}]}', '')).toThrow();
  });
  it('counts transferred files and reads progress', () => {
    // No bytes from aws: its progress rounds them; the engine sums the moved files' sizes.
    expect(parseStats(fixture('sync-push.stdout'))).toEqual({ files: 4 });
    expect(parseStats(fixture('cp-progress.stdout'))).toEqual({ files: 1 });
    // A sync with progress (what labsync runs, on a terminal or not): 1 file of 50 MB and 20 of 100 kB.
    expect(parseStats(fixture('sync-push-progress.stdout')).files).toBe(21);
    expect(parseProgress('Completed 512.0 KiB/8.0 MiB (34.0 MiB/s) with 1 file(s) remaining')).toEqual({ bytes: 524288, percent: 6, rate: '34.0 MiB/s' });
    expect(parseVersion('aws-cli/1.45.11 Python/3.11.7 Linux/6.1 botocore/1.43.117')).toBe('1.45.11');
  });
  it('turns excludes into aws filters that match at any depth, a name\'s folder with all in it, a leading **/ at the top too', () => {
    expect(filters(['*.tmp', '/top', 'build/', '/.labsync-backup/'])).toEqual([
      '--exclude', '*.tmp', '--exclude', '*/*.tmp', '--exclude', '*.tmp/*', '--exclude', '*/*.tmp/*', '--exclude', 'top', '--exclude', 'top/*',
      '--exclude', 'build/*', '--exclude', '*/build/*', '--exclude', '.labsync-backup/*',
    ]);
    expect(filters(['**/.env'])).toEqual(['--exclude', '.env', '--exclude', '*/.env', '--exclude', '.env/*', '--exclude', '*/.env/*']);
    // `**/` alone is every folder: its files, never the top-level ones (review 44: `/*` had matched every path).
    expect(filters(['**/'])).toEqual(['--exclude', '*/*', '--exclude', '*/*/*']);
    // An rsync escape as fnmatch reads it: a one-member class (fnmatch takes a backslash as itself).
    expect(filters(['/exp\\[1]/.labsync/'])).toEqual(['--exclude', 'exp[[]1]/.labsync/*']);
    // A plain pattern keeps its backslash (review 47: `dir\name` had become the class `dir[n]ame`), so does the state folder's.
    expect(filters(['/dir\\name'])).toEqual(['--exclude', 'dir\\name', '--exclude', 'dir\\name/*']);
    expect(filters(['/run\\1/.labsync/'])).toEqual(['--exclude', 'run\\1/.labsync/*']);
    // An escaped star then `*`: a literal star and a wildcard (the wildcard had been lost); a negated class is fnmatch's [!…]; an unclosed one excludes nothing.
    expect(filters(['/a\\**', '/[^x]y', '/x['])).toEqual(['--exclude', 'a[*]*', '--exclude', 'a[*]*/*', '--exclude', '[!x]y', '--exclude', '[!x]y/*']);
  });
});

describe('aws classify (recorded stderr)', () => {
  it('tells apart exits 1 and 255 by what aws said', () => {
    expect(classify(out(1, fixture('no-such-bucket.stderr')))).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/^the bucket does not exist/) });
    expect(classify(out(255, fixture('connection-refused.stderr'))).kind).toBe('retry');
    expect(classify(out(255, fixture('missing-source.stderr')))).toMatchObject({ kind: 'fatal', safety: true });
    expect(classify(out(255, fixture('no-credentials.stderr')))).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/^credentials refused/) });
    expect(classify(out(2, 'warning: Skipping file /x/y. File does not exist.'))).toMatchObject({ kind: 'ok', warning: expect.stringMatching(/skipped/) });
    // A copy with deletions after it that skipped one failed at what it was asked: they must not run.
    expect(classify(out(2, 'warning: Skipping file /x/y. File does not exist.'), { skipFails: true })).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/skipped a file it was to copy.*nothing was deleted/) });
    expect(classify(out(2, 'warning: Skipping file /x/y. File does not exist.'), {})).toMatchObject({ kind: 'ok' });
    expect(classify(out(2, 'usage: aws [options]\naws: error: argument --bogus'))).toMatchObject({ kind: 'fatal' });
    expect(classify(out(1, 'An error occurred (SlowDown) when calling the PutObject operation')).kind).toBe('retry');
  });
  it('refuses a wrong secret and an unknown access key on a real S3 server (versitygw 1.8.0); retries a bad digest', () => {
    for (const [code, name] of [[1, 'versitygw-wrong-secret.stderr'], [1, 'versitygw-unknown-access-key.stderr'], [255, 'versitygw-wrong-secret-list.stderr'], [255, 'versitygw-unknown-access-key-list.stderr']] as const) {
      expect(classify(out(code, fixture(name))), name).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/^credentials refused: .*(SignatureDoesNotMatch|XAdminUserNotFound)/) });
    }
    expect(classify(out(255, fixture('versitygw-bad-digest.stderr')))).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/checksum did not match .*BadDigest/) });
    expect(classify(out(252, 'Unknown options: --checksum-algorithm,SHA256'))).toMatchObject({ kind: 'fatal', hint: expect.stringContaining('upgrade aws-cli') });
  });
});
