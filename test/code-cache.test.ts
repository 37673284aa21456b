// bin/labsync.js starts the CLI from one script with V8's code cache kept in the user's cache folder.
import { chmodSync, existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Lab } from './harness/lab.js';

const caches = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.v8cache')) : []);

describe('code cache', () => {
  it('is made by the first start of a command, used by the next, and replaced when damaged', async () => {
    const lab = new Lab();
    const env = { XDG_CACHE_HOME: lab.outside('xdg'), LABSYNC_CODE_CACHE: 'report' };
    const dir = lab.outside('xdg', 'labsync');
    const first = await lab.cli(['validate'], { env });
    expect(first.stderr).toContain('code cache: none');
    expect(caches(dir)).toHaveLength(1);
    const second = await lab.cli(['validate'], { env });
    expect(second.stderr).toContain('code cache: used');
    expect(second.exitCode).toBe(first.exitCode);
    // Another command keeps a cache of its own (the functions its run compiled).
    expect((await lab.cli(['--version'], { env })).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(caches(dir)).toHaveLength(2);
    for (const name of caches(dir)) writeFileSync(join(dir, name), 'not a code cache');
    const damaged = await lab.cli(['validate'], { env });
    expect(damaged.stderr).toContain('code cache: rejected');
    expect(damaged.exitCode).toBe(first.exitCode);
    expect((await lab.cli(['validate'], { env })).stderr).toContain('code cache: used');
  });

  it('runs without one: switched off, or with a cache folder that cannot be made', async () => {
    const lab = new Lab();
    const off = await lab.cli(['--version'], { env: { XDG_CACHE_HOME: lab.outside('xdg'), LABSYNC_CODE_CACHE: '0' } });
    expect(off.exitCode).toBe(0);
    expect(caches(lab.outside('xdg', 'labsync'))).toEqual([]);
    writeFileSync(lab.outside('a-file'), '');
    const blocked = await lab.cli(['--version'], { env: { XDG_CACHE_HOME: lab.outside('a-file'), LABSYNC_CODE_CACHE: 'report' } });
    expect(blocked.exitCode).toBe(0);
    expect(blocked.stderr).toContain('code cache: none');
    expect(blocked.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  // A cache is code this process runs: one another user could have planted (sudo -E with a user's
  // XDG_CACHE_HOME, a folder under theirs, one others may write in) is never read, and none is written there.
  it('is neither read nor written in a cache folder another user could write in or swap', async () => {
    const lab = new Lab();
    const open = lab.outside('open');
    mkdirSync(join(open, 'labsync'), { recursive: true });
    chmodSync(open, 0o777);
    const env = { XDG_CACHE_HOME: open, LABSYNC_CODE_CACHE: 'report' };
    for (let i = 0; i < 2; i++) {
      const r = await lab.cli(['--version'], { env });
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toContain('code cache: none');
    }
    expect(caches(join(open, 'labsync'))).toEqual([]);
    // doctor says so, and why.
    const doctor = await lab.cli(['doctor', '--json'], { env });
    expect(JSON.parse(doctor.stdout).cacheFolder).toEqual({ path: join(open, 'labsync'), used: false, why: expect.stringMatching(/lies in .*open, which is writable by group or others/) });
    expect((await lab.cli(['doctor'], { env })).stdout).toMatch(/cache folder not used .*writable by group or others/);
    // The same folder made safe: used from the second run on.
    chmodSync(open, 0o755);
    expect((await lab.cli(['--version'], { env })).stderr).toContain('code cache: none');
    expect((await lab.cli(['--version'], { env })).stderr).toContain('code cache: used');
  });

  it('a temporary file a killed start left is removed after a day; a fresh one is left to its writer', async () => {
    const lab = new Lab();
    const dir = lab.outside('xdg', 'labsync');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stale = join(dir, 'cli-old-build-validate.v8cache.7.0123456789ab.tmp');
    const fresh = join(dir, 'cli-old-build-validate.v8cache.7.ba9876543210.tmp');
    writeFileSync(stale, 'half a cache');
    writeFileSync(fresh, 'being written');
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    utimesSync(stale, twoDaysAgo, twoDaysAgo);
    expect((await lab.cli(['--version'], { env: { XDG_CACHE_HOME: lab.outside('xdg') } })).exitCode).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    expect(caches(dir)).toHaveLength(1);
  });
});
