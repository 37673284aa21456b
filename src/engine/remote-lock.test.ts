import { describe, expect, it } from 'vitest';
import type { ResolvedPair } from '../types.js';
import { FatalLockError } from '../remote-lock/backend-for.js';
import { NothingToLockError, type LockBackend } from '../remote-lock/types.js';
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
