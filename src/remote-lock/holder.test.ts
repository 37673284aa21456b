import { describe, expect, it } from 'vitest';
import { clockTime, DEFAULT_LEASE_MS, describeHolder, expired, hostId, leaseMs, makeHolder, parseHolder, renewed, renewEveryMs, type Holder, leaseOver } from './holder.js';

const at = (h: number, m: number, day = 4): Date => new Date(2026, 11, day, h, m, 0);
const holder = (o: Partial<Holder> = {}): Holder => ({
  host: 'gpu-2', user: '', pid: 4711, version: '0.1.0', command: '', startedAt: at(10, 2).toISOString(), leaseUntil: at(10, 6).toISOString(), token: 't', ...o,
});

describe('holder message', () => {
  it('names host, pid, start and lease end in local clock time', () => {
    expect(describeHolder(holder(), at(10, 3))).toBe('locked by gpu-2 (pid 4711) since 10:02, lease until 10:06');
  });
  it('adds user and command when known, and says when the lease ran out', () => {
    expect(describeHolder(holder({ user: 'ana', command: 'data push' }), at(10, 7))).toBe('locked by gpu-2 (pid 4711) since 10:02, lease ran out at 10:06 (user ana, labsync data push)');
  });
  it('shows the date for a time on another day', () => {
    expect(clockTime(at(23, 59, 3).toISOString(), at(0, 1))).toBe('2026-12-03 23:59');
    expect(clockTime('not a time', at(0, 1))).toBe('not a time');
  });
});

describe('lease arithmetic', () => {
  it('a lease is over at its end, not before', () => {
    const h = holder();
    expect(expired(h, new Date(at(10, 6).getTime() - 1))).toBe(false);
    expect(expired(h, at(10, 6))).toBe(true);
    expect(expired({ leaseUntil: 'garbage' }, at(10, 0))).toBe(true);
  });
  it('renews three times a lease, never more often than every 250 ms', () => {
    expect(renewEveryMs(DEFAULT_LEASE_MS)).toBe(40_000);
    expect(renewEveryMs(3000)).toBe(1000);
    expect(renewEveryMs(300)).toBe(250);
  });
  it('a renewal moves the lease end from now and keeps the token', () => {
    const h = makeHolder({ command: 'sync', version: '1', now: at(10, 0), lease: 120_000, env: { LABSYNC_HOST_ID: 'laptop', USER: 'ana' } });
    expect(h).toMatchObject({ host: 'laptop', user: 'ana', pid: process.pid, leaseUntil: at(10, 2).toISOString() });
    const r = renewed(h, at(10, 1), 120_000);
    expect(r.leaseUntil).toBe(at(10, 3).toISOString());
    expect(r.token).toBe(h.token);
    expect(makeHolder({ command: 'sync', version: '1', now: at(10, 0), lease: 1000 }).token).not.toBe(h.token);
  });
  it('LABSYNC_LOCK_LEASE in seconds; a bad value is an error naming it', () => {
    expect(leaseMs({})).toBe(DEFAULT_LEASE_MS);
    expect(leaseMs({ LABSYNC_LOCK_LEASE: '3' })).toBe(3000);
    expect(() => leaseMs({ LABSYNC_LOCK_LEASE: '0.5' })).toThrow(/LABSYNC_LOCK_LEASE/);
    expect(() => leaseMs({ LABSYNC_LOCK_LEASE: 'soon' })).toThrow(/LABSYNC_LOCK_LEASE/);
  });
  it('LABSYNC_HOST_ID overrides the host name; blank does not', () => {
    expect(hostId({ LABSYNC_HOST_ID: 'gpu-9' })).toBe('gpu-9');
    expect(hostId({ LABSYNC_HOST_ID: '  ' })).not.toBe('  ');
  });
});

describe('parseHolder', () => {
  it('reads what makeHolder wrote and refuses anything else', () => {
    const h = holder({ user: 'ana' });
    expect(parseHolder(JSON.stringify(h))).toEqual(h);
    expect(parseHolder('{"host":"x"}')).toBeUndefined();
    expect(parseHolder('not json')).toBeUndefined();
    expect(parseHolder('')).toBeUndefined();
  });
});

describe('leaseOver: a lease judged by the store\'s clock where it tells', () => {
  const holder = { leaseUntil: '2026-12-06T10:01:00Z', leaseMs: 60_000 };
  it('by the age the store gives as well as leaseUntil: neither clock alone takes over a live lock (one second of margin for whole-second stamps)', () => {
    expect(leaseOver({ holder, age: 30_000 }, new Date('2026-12-06T10:06:00Z'))).toBe(false);
    expect(leaseOver({ holder, age: 61_000 }, new Date('2026-12-06T10:06:00Z'))).toBe(false);
    expect(leaseOver({ holder, age: 61_001 }, new Date('2026-12-06T10:01:30Z'))).toBe(true);
    // A file server whose clock runs behind stamps an old mtime: the age alone does not take over a lease leaseUntil says runs.
    expect(leaseOver({ holder, age: 600_000 }, new Date('2026-12-06T10:00:30Z'))).toBe(false);
  });
  it('by leaseUntil where the store gives no age, or the holder no lease length (an earlier build\'s lock)', () => {
    expect(leaseOver({ holder }, new Date('2026-12-06T10:01:01Z'))).toBe(true);
    expect(leaseOver({ holder: { leaseUntil: holder.leaseUntil }, age: 1000 }, new Date('2026-12-06T10:01:01Z'))).toBe(true);
  });
});
