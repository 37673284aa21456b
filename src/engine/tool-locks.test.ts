import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rclone } from '../adapters/rclone/index.js';
import type { PlanContext } from '../adapters/types.js';
import { programOf } from '../exec/program.js';
import type { ResolvedPair } from '../types.js';
import { clearStaleToolLocks } from './tool-locks.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

const ctx = (version: string): PlanContext => ({ stamp: 'S', tty: false, verbose: false, resync: false, full: false, toolVersions: { rclone: version } });

/** PIDs stay below pid_max: that one names no process. */
function deadPid(): number {
  return Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim());
}

describe('stale tool locks', () => {
  it('removes a bisync lock whose process is gone; keeps a live one, an unreadable one and other files', async () => {
    const root = mkdtempSync(join(tmpdir(), 'labsync-toollock-'));
    roots.push(root);
    const pair = { name: 'notes', root, local: join(root, 'notes'), remote: { type: 'local', path: '/nas' }, mode: 'bisync' } as unknown as ResolvedPair;
    const dir = join(root, '.labsync', 'bisync', 'notes');
    expect(await clearStaleToolLocks(rclone, pair, 'bisync', ctx('1.75.2'))).toEqual([]); // no folder yet
    mkdirSync(dir, { recursive: true });
    const dead = deadPid();
    writeFileSync(join(dir, 'dead.lck'), JSON.stringify({ Session: 's', PID: String(dead) }));
    writeFileSync(join(dir, 'live.lck'), JSON.stringify({ Session: 's', PID: String(process.ppid) }));
    writeFileSync(join(dir, 'old.lck'), '999999\n');
    writeFileSync(join(dir, 'x.path1.lst'), '');
    // 1.60 never expires its lock: nothing is touched there.
    expect(await clearStaleToolLocks(rclone, pair, 'bisync', ctx('1.60.1'))).toEqual([]);
    expect(await clearStaleToolLocks(rclone, pair, 'bisync', ctx('1.75.2'))).toEqual([{ file: join(dir, 'dead.lck'), pid: dead }]);
    expect(readdirSync(dir).sort()).toEqual(['live.lck', 'old.lck', 'x.path1.lst']);
    expect(existsSync(join(dir, 'dead.lck'))).toBe(false);
  });
});

describe('LABSYNC_RCLONE', () => {
  it('names the rclone binary; other tools and an empty value keep their names', () => {
    expect(programOf('rclone', {})).toBe('rclone');
    expect(programOf('rclone', { LABSYNC_RCLONE: ' ' })).toBe('rclone');
    expect(programOf('rclone', { LABSYNC_RCLONE: '/opt/rclone/rclone' })).toBe('/opt/rclone/rclone');
    expect(programOf('rclone', { LABSYNC_RCLONE: 'rclone-current' })).toBe('rclone-current');
    expect(programOf('rclone', { LABSYNC_RCLONE: 'bin/rclone' })).toBe(join(process.cwd(), 'bin/rclone'));
    expect(programOf('rsync', { LABSYNC_RCLONE: '/opt/rclone/rclone', LABSYNC_RSYNC: '/x' })).toBe('rsync');
  });
});
