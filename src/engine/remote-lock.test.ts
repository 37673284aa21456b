import { describe, expect, it } from 'vitest';
import type { ResolvedPair } from '../types.js';
import { FatalLockError } from '../remote-lock/backend-for.js';
import { NothingToLockError, type Found, type LockBackend } from '../remote-lock/types.js';
import { makeHolder } from '../remote-lock/holder.js';
import { acquire } from './remote-lock.js';

/** A remote whose lock can never be created and where none is held: a read-only mount (mkdir fails, the folder is not there). */
function readOnly(): LockBackend & { calls: number } {
  const b = {
    where: '/nas/snaps/.labsync-lock',
    calls: 0,
    acquire: async () => {
      b.calls++;
      return 'exists' as const;
    },
    read: async () => undefined,
    takeOver: async () => 'changed' as const,
    renew: async () => 'lost' as const,
    release: async () => 'gone' as const,
  };
  return b;
}

const pair = { name: 'ckpt', retries: 0 } as ResolvedPair;
const options = (pull: boolean) => ({ command: 'labsync', waitMs: 60_000, emit: () => undefined, redact: (s: string) => s, signal: new AbortController().signal, pull });

describe('taking a remote lock where none can be created', () => {
  it('stops after a few tries instead of asking forever: a pull reads without it, a push fails saying why', async () => {
    const r = readOnly();
    await expect(acquire(r, pair, options(true), 60_000, Date.now() + 60_000)).rejects.toBeInstanceOf(NothingToLockError);
    expect(r.calls).toBe(3);
    const w = readOnly();
    await expect(acquire(w, pair, options(false), 60_000, Date.now() + 60_000)).rejects.toThrow(FatalLockError);
    await expect(acquire(readOnly(), pair, options(false), 60_000, Date.now() + 60_000)).rejects.toThrow(/could not create the lock at \/nas\/snaps\/\.labsync-lock, and none is held there: is the remote read-only/);
  });
});

/** An in-memory lock whose next create or renewal lands but whose answer is lost (a slow endpoint's timeout). */
function lossy(): LockBackend & { current?: Found; loseCreate: boolean; loseRenew: boolean } {
  let n = 0;
  const b: LockBackend & { current?: Found; loseCreate: boolean; loseRenew: boolean } = {
    where: 's3://b/p/.labsync-lock',
    loseCreate: true,
    loseRenew: false,
    acquire: async (h) => {
      if (b.current) return 'exists';
      b.current = { holder: h, tag: `t${++n}` };
      if (b.loseCreate) {
        b.loseCreate = false;
        throw new Error('the request timed out');
      }
      return { ok: b.current.tag };
    },
    read: async () => b.current,
    takeOver: async () => 'changed',
    renew: async (h, tag) => {
      if (b.current?.tag !== tag) return 'lost';
      b.current = { holder: h, tag: `t${++n}` };
      if (b.loseRenew) {
        b.loseRenew = false;
        throw new Error('the request timed out');
      }
      return { ok: b.current.tag };
    },
    release: async (tag) => {
      if (b.current?.tag !== tag) return 'changed';
      b.current = undefined;
      return 'ok';
    },
  };
  return b;
}

/** A lock held on `lossy()` with a 900 ms lease (renewals every 300 ms); `lost()`: whether the run was told to stop. */
async function heldBriefly(): Promise<{ b: ReturnType<typeof lossy>; got: Awaited<ReturnType<typeof acquire>>; lost: () => boolean }> {
  const b = lossy();
  b.loseCreate = false;
  let lost = false;
  const got = await acquire(b, pair, { ...options(false), onLost: () => void (lost = true) }, 900, Date.now());
  expect('held' in got).toBe(true);
  return { b, got, lost: () => lost };
}

describe('a lock request that landed though its answer was lost', () => {
  it('a create: the next attempt finds its own holder and holds it (not "locked by" itself until the lease ends)', async () => {
    const b = lossy();
    const me = makeHolder({ command: 'data push', version: 'x', now: new Date(), lease: 60_000 });
    await expect(acquire(b, pair, options(false), 60_000, Date.now(), me)).rejects.toThrow(/timed out/);
    const got = await acquire(b, pair, options(false), 60_000, Date.now(), me);
    expect('held' in got).toBe(true);
    if ('held' in got) await got.held.release();
    expect(b.current).toBeUndefined();
  });
  it('a renewal: the next one reads the lock back, finds it its own and goes on (not "lost the lock")', async () => {
    const { b, got, lost } = await heldBriefly();
    b.loseRenew = true;
    await new Promise((r) => setTimeout(r, 1000)); // renewals every 300 ms: one lands unanswered, the next finds it
    expect(lost()).toBe(false);
    if ('held' in got) await got.held.release();
    expect(b.current).toBeUndefined();
  });
});

describe('a lock whose renewals fail for the whole lease', () => {
  it('is given up (onLost: the run stops writing), never held past its lease while another machine may take it', async () => {
    const { b, got, lost } = await heldBriefly();
    b.renew = async () => {
      throw new Error('no answer in 30000 ms');
    };
    await new Promise((r) => setTimeout(r, 1500)); // renewals every 300 ms; the lease (900 ms) runs out
    expect(lost()).toBe(true);
    if ('held' in got) await got.held.release();
  });
});

describe('a lock whose renewal hangs (each may wait out its own bound)', () => {
  it('is given up before its lease could run out, whatever the renewal in flight is doing', async () => {
    const { b, lost } = await heldBriefly();
    b.renew = () => new Promise(() => undefined); // never answers
    await new Promise((r) => setTimeout(r, 1000)); // lease 900 ms: given up at ~750 ms (a sixth of it as margin)
    expect(lost()).toBe(true);
  });
});

describe('a lock whose create was answered late', () => {
  it('is given up a margin before the lease it wrote ends, counted from the send (review 40: from the answer, 250 ms after it)', async () => {
    const b = lossy();
    b.loseCreate = false;
    const real = b.acquire;
    let sentAt = 0;
    b.acquire = async (h) => {
      sentAt = performance.now();
      const got = await real(h);
      await new Promise((r) => setTimeout(r, 1500)); // the answer comes 1.5 s after the lock was written
      return got;
    };
    let lostAt = 0;
    // Every renewal fails (the one made at once for a lease already old, too).
    b.renew = async () => {
      throw new Error('no answer in 30000 ms');
    };
    // A 3 s lease, renewed every second: given up half a renewal (500 ms) before the lease written ends.
    const got = await acquire(b, pair, { ...options(false), onLost: () => void (lostAt = performance.now()) }, 3000, Date.now());
    await new Promise((r) => setTimeout(r, 3500));
    expect(lostAt).toBeGreaterThan(0);
    // The lease written at sentAt ends 3 s later: given up before that (at ~2.5 s), not 1 s after it.
    expect(lostAt - sentAt).toBeLessThan(3000);
    if ('held' in got) await got.held.release();
  }, 15_000);
  it('a lock given up while a renewal was in flight is still removed once that renewal lands (review 40: it held other runs out a lease more)', async () => {
    const { b, got, lost } = await heldBriefly();
    const real = b.renew;
    let landed = false;
    b.renew = async (h, tag) => {
      await new Promise((r) => setTimeout(r, 900)); // answered after the watch gave the lock up
      landed = true;
      return real(h, tag);
    };
    await new Promise((r) => setTimeout(r, 1300));
    expect(lost()).toBe(true);
    expect(landed).toBe(true);
    if ('held' in got) await got.held.release();
    expect(b.current).toBeUndefined();
  });
});

describe('a lock request that landed long before its retry found it', () => {
  it('is renewed at once, not given up before its first renewal (review 45: found at 0.6 of its lease, it was given up at 0.75)', async () => {
    const b = lossy(); // the first create lands, its answer lost
    const me = makeHolder({ command: 'data push', version: 'x', now: new Date(), lease: 3000 });
    await expect(acquire(b, pair, options(false), 3000, Date.now(), me)).rejects.toThrow(/timed out/);
    await new Promise((r) => setTimeout(r, 1800)); // the pair's retry loop: timeouts and a backoff
    let lost = false;
    const got = await acquire(b, pair, { ...options(false), onLost: () => void (lost = true) }, 3000, Date.now(), me);
    expect('held' in got).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    expect(lost).toBe(false);
    if ('held' in got) await got.held.release();
    expect(b.current).toBeUndefined();
  }, 15_000);
});

describe('a release while a renewal reads the lock back', () => {
  it('waits for that chain, starts no renewal after it, and removes the lock (review 46: a renewal racing it left a fresh lease, or was told "lost" after the pair ended)', async () => {
    const b = lossy();
    b.loseCreate = false;
    const slowRead = b.read;
    b.read = async () => {
      await new Promise((r) => setTimeout(r, 100));
      return slowRead();
    };
    const warnings: string[] = [];
    let lost = false;
    const got = await acquire(b, pair, { ...options(false), emit: (e: { kind: string; message?: string }) => void (e.kind === 'warning' && warnings.push(e.message ?? '')), onLost: () => void (lost = true) } as never, 900, Date.now());
    b.loseRenew = true;
    await new Promise((r) => setTimeout(r, 620)); // the renewal at 300 ms lands unanswered; the one at 600 ms reads back
    if (!('held' in got)) throw new Error('not held');
    await got.held.release();
    await new Promise((r) => setTimeout(r, 300));
    expect(b.current).toBeUndefined();
    expect(lost).toBe(false);
    expect(warnings.filter((w) => /left the lock|lost the lock/.test(w))).toEqual([]);
  });
});

describe('a release after a renewal that landed with its answer lost', () => {
  it('finds its own newer lease by its token and removes it (review 47: it warned "no longer this run\'s" and left a fresh lease)', async () => {
    const { b, got } = await heldBriefly();
    b.loseRenew = true;
    await new Promise((r) => setTimeout(r, 350)); // the renewal at 300 ms lands; its answer is lost
    if (!('held' in got)) throw new Error('not held');
    await got.held.release();
    expect(b.current).toBeUndefined();
  });
});
