// Every tool's own waits are bounded by the pair's stall_timeout (issue 13.2).
import { describe, expect, it } from 'vitest';
import type { ResolvedPair } from '../types.js';
import { backupArgv, copyOneArgv, listArgv, syncArgv } from './aws/argv.js';
import { gitEnv } from './git/argv.js';
import { bisyncArgv, checkArgv, copyArgv, sizeArgv } from './rclone/argv.js';

const pair: ResolvedPair = {
  name: 'raw', category: 'data', tool: 'rclone', root: '/lab', local: '/lab/raw', remote: { type: 's3', bucket: 'b', prefix: 'p', endpoint: 'http://127.0.0.1:9' },
  remoteLabel: 'st:raw', mode: 'push', delete: false, maxDelete: { percent: 50 }, backup: false, exclude: [],
  retries: 3, retryDelayMs: 1000, timeoutMs: 7_200_000, stallTimeoutMs: 120_000, verify: 'checksum', tags: [], hooks: {}, notify: {}, lfs: false,
  source: { file: 'labsync.yaml', line: 1, col: 1 },
};
const ctx = { stamp: '2026-11-25T10-00-00Z', tty: false, verbose: false, resync: false, full: false };
const pairAt = (args: readonly string[], flag: string): string | undefined => args[args.indexOf(flag) + 1];

describe('rclone bounds', () => {
  it('low-level retries, connect and idle timeouts on every command that reaches the remote', () => {
    for (const args of [copyArgv(pair, 'push', ctx, '/dev/null', false), copyArgv(pair, 'push', ctx, '/dev/null', true), bisyncArgv(pair, ctx, '/dev/null', false), sizeArgv(pair, 'labsyncs3:b/p', '/dev/null'), checkArgv(pair, 'checksum', '/dev/null')]) {
      expect(args.slice(0, args.indexOf('--'))).toEqual(expect.arrayContaining(['--low-level-retries', '3']));
      expect([pairAt(args, '--contimeout'), pairAt(args, '--timeout')]).toEqual(['60s', '120s']);
    }
    const short = copyArgv({ ...pair, stallTimeoutMs: 3000 }, 'push', ctx, '/dev/null', false);
    expect([pairAt(short, '--contimeout'), pairAt(short, '--timeout')]).toEqual(['3s', '3s']);
  });
});

describe('aws bounds', () => {
  it('connect and read timeouts no longer than stall_timeout (and aws-cli\'s own 60 s) on every command', () => {
    for (const args of [syncArgv(pair, 'push', ctx, false), syncArgv(pair, 'pull', ctx, true), listArgv(pair), copyOneArgv(pair, 'push', 'k'), backupArgv(pair, 'k', ctx)]) {
      expect([pairAt(args, '--cli-connect-timeout'), pairAt(args, '--cli-read-timeout')]).toEqual(['60', '60']);
    }
    const short = syncArgv({ ...pair, stallTimeoutMs: 2500 }, 'push', ctx, false);
    expect([pairAt(short, '--cli-connect-timeout'), pairAt(short, '--cli-read-timeout')]).toEqual(['3', '3']);
  });

  it('a transfer prints progress even off a terminal (the watchdog reads it); a dry run does not', () => {
    expect(syncArgv(pair, 'push', ctx, false)).not.toContain('--no-progress');
    expect(syncArgv(pair, 'push', ctx, true)).toContain('--no-progress');
  });
});

describe('git bounds', () => {
  it('ssh keepalives after BatchMode, behind any GIT_SSH_COMMAND of the user (theirs come first and win)', () => {
    expect(gitEnv(undefined, 120_000).GIT_SSH_COMMAND).toBe('ssh -o BatchMode=yes -o ServerAliveInterval=60 -o ServerAliveCountMax=3');
    expect(gitEnv('ssh -i /k/id -o ServerAliveInterval=5', 3000).GIT_SSH_COMMAND).toBe('ssh -i /k/id -o ServerAliveInterval=5 -o BatchMode=yes -o ServerAliveInterval=2 -o ServerAliveCountMax=3');
  });
});
