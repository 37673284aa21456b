import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { Command, ToolOutput } from '../types.js';
import type { ResolvedPair } from '../../types.js';
import { answered } from '../../engine/attempt.js';
import { lfsRemote } from './argv.js';
import { gitAdapter } from './index.js';
import { classify } from './classify.js';
import { aheadBehind, changesFor, dirtyPaths, verifyReport } from './parse.js';

const out = (exitCode: number, stderr: string): ToolOutput => ({ exitCode, stdout: '', stderr, durationMs: 1, timedOut: false, aborted: false });
const cmd = (label: string): Command => ({ tool: 'git', args: ['push'], cwd: '/', mutates: true, label, pair: 'repo' });

describe('git parse', () => {
  it('reads porcelain status and left-right logs', () => {
    expect(dirtyPaths(' M train.py\n?? "new file.txt"\nA  staged.py\n')).toEqual(['train.py', 'new file.txt', 'staged.py']);
    expect(aheadBehind('< abc1234 mine\n> def5678 theirs\n< 0123456 mine 2\n')).toEqual({ ahead: ['abc1234 mine', '0123456 mine 2'], behind: ['def5678 theirs'] });
  });
  it('turns ahead/behind into what a direction moves', () => {
    const look = { dirty: [], ahead: ['a'], behind: ['b'], remoteExists: true };
    expect(changesFor('push', look).transfer).toEqual(['a']);
    expect(changesFor('pull', look).transfer).toEqual(['b']);
    expect(changesFor('bisync', look).transfer).toEqual(['b', 'a']);
    expect(changesFor('push', { ...look, remoteExists: false }).transfer).toEqual(['(a new branch on the remote)', 'a']);
  });
  it('compares heads, and counts uncommitted files as missing on the remote', () => {
    const sha = 'a'.repeat(40);
    expect(verifyReport(`${sha}\trefs/heads/main\n`, `${sha}\n`, '', 'main')).toEqual({ checked: 1, missing: [], extra: [], changed: [] });
    expect(verifyReport('', `${sha}\n`, ' M x\n', 'main')).toEqual({ checked: 1, missing: ['x'], extra: [], changed: ['main: local aaaaaaaa, remote (none)'] });
  });
  it('gives git-lfs a file:// URL for a path remote', () => {
    expect(lfsRemote('/srv/origin.git')).toBe('file:///srv/origin.git');
    expect(lfsRemote('origin')).toBe('origin');
  });
});

describe('git classify', () => {
  it('stops safely on rejected pushes and diverged pulls, and never retries auth', () => {
    expect(classify(out(1, ' ! [rejected]        main -> main (fetch first)\nerror: failed to push some refs'), cmd('push repo'))).toMatchObject({ kind: 'fatal', safety: true, hint: expect.stringContaining('labsync code pull repo') });
    expect(classify(out(1, ' ! [remote rejected] main -> main (pre-receive hook declined)'), cmd('push repo'))).toMatchObject({ kind: 'fatal', safety: true });
    expect(classify(out(128, 'fatal: Not possible to fast-forward, aborting.'), cmd('fast-forward repo'))).toMatchObject({ kind: 'fatal', safety: true });
    expect(classify(out(128, 'git@h: Permission denied (publickey).\nfatal: Could not read from remote repository.'), cmd('push repo'))).toMatchObject({ kind: 'fatal', reason: expect.stringMatching(/^the remote refused access/) });
  });
  it('retries network failures, reporting the cause rather than git\'s boilerplate', () => {
    const r = classify(out(128, 'ssh: connect to host 127.0.0.1 port 9: Connection refused\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.'), cmd('push repo'));
    expect(r).toEqual({ kind: 'retry', reason: 'ssh: connect to host 127.0.0.1 port 9: Connection refused | fatal: Could not read from remote repository.' });
    expect(classify(out(128, 'fatal: the remote end hung up unexpectedly\nfatal: early EOF'), cmd('fetch for repo')).kind).toBe('retry');
  });
  it('lets the preview take a branch missing on the remote as "first push", not a failure', () => {
    // A folder that exists: the adapter refuses a missing clone before it builds any command.
    const pair = { name: 'repo', root: tmpdir(), local: tmpdir(), remote: { type: 'git', url: '/srv/origin.git' }, remoteLabel: 'origin', branch: 'main', lfs: false } as unknown as ResolvedPair;
    const ctx = { stamp: 's', tty: false, verbose: false, resync: false, full: false };
    const [, , fetch, compare] = gitAdapter.preview(pair, 'push', ctx).commands as Command[];
    expect(answered(out(128, "fatal: couldn't find remote ref refs/heads/main"), fetch as Command)).toBe(true);
    expect(answered(out(128, "fatal: ambiguous argument 'HEAD...refs/labsync/repo': unknown revision"), compare as Command)).toBe(true);
    // Only the preview: a real fetch failure elsewhere is still classified as one.
    expect(answered(out(128, 'fatal: Could not read from remote repository.'), fetch as Command)).toBe(false);
    expect(classify(out(128, "fatal: couldn't find remote ref refs/heads/main"), cmd('fetch for repo')).kind).toBe('fatal');
  });
});
