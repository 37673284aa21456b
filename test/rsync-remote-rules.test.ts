// How many filter rules a push that may replace a folder gives the host (review 71, 72): rsync refuses a
// client whose remote command holds more than MAX_SERVER_ARGS words ("too many remote options
// specified"), counting ssh's words and every option. The real rsync checks that before it connects;
// the host here is a closed port, so each run ends at once, and what it says is read.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesArgv } from '../src/adapters/rsync/argv.js';
import type { ResolvedPair } from '../src/types.js';

const dir = mkdtempSync(join(tmpdir(), 'labsync-rules-'));
// A remote with every ssh word a manifest can add, a kept connection, a backup, a bandwidth limit and compression.
const pair = (excludes: number): ResolvedPair => ({
  name: 'raw', category: 'data', tool: 'rsync', root: dir, local: dir, remoteLabel: 'gpu:raw',
  remote: { type: 'ssh', host: '127.0.0.1', user: 'u', port: 1, identity: join(dir, 'id'), knownHosts: join(dir, 'known'), sshConfig: join(dir, 'cfg'), sshOptions: ['Ciphers=aes128-gcm@openssh.com,chacha20-poly1305@openssh.com', 'Compression=no', 'ServerAliveCountMax=5', 'LogLevel=ERROR'], keptIn: dir, path: '/srv/raw' },
  mode: 'push', delete: true, maxDelete: { percent: 50 }, backup: true, bwlimit: '10M', compress: true, compressChoice: 'zstd',
  exclude: Array.from({ length: excludes }, (_, i) => `*.skip${i}`),
  retries: 0, retryDelayMs: 1000, timeoutMs: 1000, stallTimeoutMs: 120_000, verify: 'checksum', tags: [], hooks: {}, notify: {}, lfs: false,
  source: { file: 'labsync.yaml', line: 1, col: 1 },
});
const ctx = { stamp: '2026-12-07T10-00-00Z', tty: false, verbose: false, resync: false, full: false };

/** What rsync says when run with that argv (stdin: no files), its own refusal included. */
function said(args: readonly string[]): string {
  try {
    return execFileSync('rsync', args, { input: '', encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000 });
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? '');
  }
}

describe('the rules a host is given with --force', () => {
  it('never number more than rsync takes: each count of excludes either gives them all with --force, or none and no --force', () => {
    let forced = 0;
    for (let n = 0; n <= 80; n += 2) {
      for (const rerun of [undefined, 'attempt2']) {
        const args = filesArgv(pair(n), 'push', ctx, true, { makeWay: true, ...(rerun ? { rerun } : {}) });
        expect(said(args), `${n} excludes`).not.toMatch(/too many remote options/);
        if (args.includes('--force')) forced++;
        else expect(args.some((a) => a.startsWith('--remote-option'))).toBe(false);
      }
    }
    // Both kinds of answer came up in the sweep.
    expect(forced).toBeGreaterThan(10);
    expect(forced).toBeLessThan(82);
  });
});

describe('the contents rules beside each exclude', () => {
  it('drop nothing the plan sends: a real rsync with the pair\'s rules, `**/` excluded (every folder), still copies the top-level files (review 74: `**/**` had matched them)', () => {
    const root = mkdtempSync(join(tmpdir(), 'labsync-contents-'));
    const src = join(root, 'src');
    for (const [path, text] of [['top', 'a'], ['sub/inner', 'b']] as const) {
      mkdirSync(dirname(join(src, path)), { recursive: true });
      writeFileSync(join(src, path), text);
    }
    const local: ResolvedPair = { ...pair(0), exclude: ['**/'], local: src, remote: { type: 'local', path: join(root, 'dst') }, backup: false, bwlimit: undefined };
    for (const tree of [true, false]) {
      rmSync(join(root, 'dst'), { recursive: true, force: true });
      const args = filesArgv(local, 'push', ctx, false, { tree, makeWay: true });
      expect(args).toContain('--exclude=*/**');
      execFileSync('rsync', args, { input: tree ? '' : 'top\0sub/inner\0', cwd: root });
      expect(readdirSync(join(root, 'dst')), tree ? 'tree' : 'files-from').toEqual(['top']);
    }
  });
});
