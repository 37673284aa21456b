import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock, isStale, pidStartOf, removeIfStale } from './lock.js';
import { PID_NS } from './pid-space.js';
import { tempDirs } from '../temp-dirs.fixture.js';

const tempDir = tempDirs();

const dir = (): string => tempDir('labsync-lock-');
const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

describe('acquireLock', () => {
  it('holds, refuses a second taker with the holder, and releases', async () => {
    const d = dir();
    const first = await acquireLock(d, 'raw', { command: 'one' });
    expect('lock' in first).toBe(true);
    const second = await acquireLock(d, 'raw', { command: 'two' });
    expect(second).toEqual({ heldBy: expect.objectContaining({ pid: process.pid, host: hostname(), command: 'one' }) });
    if ('lock' in first) await first.lock.release();
    expect(existsSync(join(d, 'raw.lock'))).toBe(false);
    const third = await acquireLock(d, 'raw', { command: 'three' });
    expect('lock' in third).toBe(true);
  });

  it('waits for a holder that lets go', async () => {
    const d = dir();
    const first = await acquireLock(d, 'raw', { command: 'one' });
    if (!('lock' in first)) throw new Error('expected the lock');
    setTimeout(() => void first.lock.release(), 300);
    const second = await acquireLock(d, 'raw', { command: 'two', waitMs: 5000 });
    expect('lock' in second).toBe(true);
  });

  it('takes over the lock of a dead process on this host and says whose it was', async () => {
    const d = dir();
    const dead = { pid: 2 ** 22 + 17, host: hostname(), bootId, startedAt: '2026-01-01T00:00:00.000Z', command: 'old' };
    writeFileSync(join(d, 'raw.lock'), JSON.stringify(dead));
    const got = await acquireLock(d, 'raw', { command: 'new' });
    expect(got).toEqual({ lock: expect.objectContaining({ tookOverFrom: dead }) });
  });

  it('takes it over at once past a killed run\'s old takeover guard, even without --wait (review 47: exit 75 naming the dead process)', async () => {
    const d = dir();
    const dead = { pid: 2 ** 22 + 17, host: hostname(), bootId, startedAt: '2026-01-01T00:00:00.000Z', command: 'old' };
    writeFileSync(join(d, 'raw.lock'), JSON.stringify(dead));
    writeFileSync(join(d, 'raw.lock.takeover'), JSON.stringify(dead));
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(d, 'raw.lock.takeover'), old, old);
    const got = await acquireLock(d, 'raw', { command: 'new', waitMs: 0 });
    expect(got).toEqual({ lock: expect.objectContaining({ tookOverFrom: dead }) });
  });
});

describe('isStale', () => {
  it('takes over a lock whose PID another process now has (started at another time: a container\'s PID 1 after a kill -9)', async () => {
    const d = dir();
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const pid = other.pid as number;
      const real = pidStartOf(pid) as number;
      expect(real).toBeGreaterThan(0);
      const theirs = { pid, host: hostname(), bootId, startedAt: '2026-01-01T00:00:00.000Z', command: 'live', pidStart: real };
      writeFileSync(join(d, 'raw.lock'), JSON.stringify(theirs));
      expect(await acquireLock(d, 'raw', { command: 'new' })).toEqual({ heldBy: theirs });
      const reused = { ...theirs, pidStart: real - 1 };
      writeFileSync(join(d, 'raw.lock'), JSON.stringify(reused));
      const got = await acquireLock(d, 'raw', { command: 'new' });
      expect(got).toEqual({ lock: expect.objectContaining({ tookOverFrom: reused }) });
      expect(JSON.parse(readFileSync(join(d, 'raw.lock'), 'utf8'))).toMatchObject({ pid: process.pid, pidStart: pidStartOf(process.pid) });
    } finally {
      other.kill();
    }
  });

  it('never judges a PID of another PID namespace (another container on this kernel and hostname): its PID 1 is not ours, and an old lock file is no sign of death either', async () => {
    const d = dir();
    const theirs = { pid: 1, host: hostname(), bootId, startedAt: '2026-01-01T00:00:00.000Z', command: 'in a container', pidStart: 1, pidNs: 'pid:[1]' };
    expect(isStale(theirs)).toBe(false);
    expect(isStale({ ...theirs, pid: 2 ** 22 + 17 })).toBe(false);
    writeFileSync(join(d, 'raw.lock'), JSON.stringify(theirs));
    expect(await acquireLock(d, 'raw', { command: 'new' })).toEqual({ heldBy: theirs });
    expect(await removeIfStale(d, 'raw')).toEqual({ info: theirs, removed: false, elsewhere: true });
    // Untouched for minutes: its holder may be hashing, or suspended: still not ours to take (unlock asks).
    const old = new Date(Date.now() - 10 * 60_000);
    utimesSync(join(d, 'raw.lock'), old, old);
    expect(await acquireLock(d, 'raw', { command: 'new' })).toEqual({ heldBy: theirs });
    // The same lock taken in this namespace (or by a labsync that kept none): judged as before.
    expect(isStale({ ...theirs, pid: 2 ** 22 + 17, pidNs: PID_NS })).toBe(true);
    expect(isStale({ ...theirs, pid: 2 ** 22 + 17, pidNs: undefined })).toBe(true);
  });

  it('takes over another host\'s lock once its holder stopped touching it for the silence it named (review 42: a killed pod\'s lock had held every later run at exit 75)', async () => {
    const d = dir();
    const theirs = { pid: 7, host: 'pod-a', bootId: 'their-boot', startedAt: '2026-01-01T00:00:00.000Z', command: 'a killed pod', beatMs: 30_000, silentMs: 600_000 };
    writeFileSync(join(d, 'raw.lock'), JSON.stringify(theirs));
    // Touched recently: a live holder elsewhere.
    expect(await acquireLock(d, 'raw', { command: 'new' })).toEqual({ heldBy: theirs });
    const old = new Date(Date.now() - 11 * 60_000);
    utimesSync(join(d, 'raw.lock'), old, old);
    expect(await acquireLock(d, 'raw', { command: 'new' })).toEqual({ lock: expect.objectContaining({ tookOverFrom: theirs }) });
    // A holder beats: its file's mtime moves while it holds, and stops when released.
    const e = dir();
    const got = await acquireLock(e, 'raw', { command: 'mine', beat: { beatMs: 40, silentMs: 1000 } });
    if (!('lock' in got)) throw new Error('not taken');
    utimesSync(join(e, 'raw.lock'), old, old);
    await new Promise((r) => setTimeout(r, 200));
    expect(Date.now() - statSync(join(e, 'raw.lock')).mtimeMs).toBeLessThan(60_000);
    await got.lock.release();
  });

  it('never judges another host, and treats an earlier boot as stale', () => {
    expect(isStale({ pid: 1, host: 'elsewhere', bootId, startedAt: '', command: '' })).toBe(false);
    expect(isStale({ pid: process.pid, host: hostname(), bootId: 'another-boot', startedAt: '', command: '' })).toBe(true);
    expect(isStale({ pid: process.pid, host: hostname(), bootId, startedAt: '', command: '' })).toBe(false);
  });
});
