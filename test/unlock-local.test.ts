// `labsync unlock` and the local lock: one left on a folder shared between machines (an NFS home, a
// volume a pod moved with) by another host labsync cannot look at. It said "which is running" and could
// not remove it at all (a review); now it says whose it is and removes it when told to.
import { existsSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Lab } from './harness/lab.js';

describe('unlock: a local lock from another machine', () => {
  it('is named as another machine\'s, left without --force (no terminal to ask), removed with it; the pair runs again', async () => {
    const lab = new Lab();
    lab.manifest(`version: 1\ndefaults:\n  retries: 0\ndata:\n  - name: raw\n    local: raw\n    remote: "file://${lab.outside('nas')}"\n`);
    lab.write(lab.path('raw/a.csv'), 'a\n');
    expect((await lab.cli(['data', 'push', '-q'])).exitCode).toBe(0);
    const lock = lab.path('.labsync', 'locks', 'raw.lock');
    writeFileSync(lock, JSON.stringify({ pid: 4242, host: 'gpu-node-7', bootId: 'x', startedAt: '2026-11-30T10:00:00.000Z', command: 'labsync data push' }));
    const held = await lab.cli(['data', 'push']);
    expect(held.exitCode).toBe(75); // locked: try again later (EX_TEMPFAIL)
    expect(held.stdout + held.stderr).toContain('gpu-node-7');

    const asked = await lab.cli(['unlock', 'raw']);
    expect(asked.stderr).toContain('held by PID 4242 on gpu-node-7 (another machine: labsync cannot see whether it still runs)');
    expect(asked.stderr).toContain('`labsync unlock raw --force` removes it');
    expect(existsSync(lock)).toBe(true);

    // --dry-run changes nothing anywhere (review 41: unlock removed locks whatever it said).
    const dry = await lab.cli(['--dry-run', 'unlock', 'raw', '--force']);
    expect(dry.exitCode).toBe(0);
    expect(dry.stderr).toContain('held by PID 4242 on gpu-node-7');
    expect(dry.stderr).toContain('--dry-run: nothing was removed');
    expect(existsSync(lock)).toBe(true);

    const forced = await lab.cli(['unlock', 'raw', '--force']);
    expect(forced.stderr).toContain('removed the local lock');
    expect(existsSync(lock)).toBe(false);
    expect((await lab.cli(['data', 'push', '-q'])).exitCode).toBe(0);
  });
});
