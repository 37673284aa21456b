// The lock at a pair's remote (issue 16): taken after the local lock, renewed by a timer here (never in
// an adapter) at a third of its lease, released on every way out of runPair. Backends: remote-lock/.
import type { Redactor } from '../exec/redact.js';
import { backoffDelay, sleep } from '../exec/retry.js';
import { NothingToLockError } from '../remote-lock/types.js';
import { backendFor, FatalLockError, lockRequestMs } from '../remote-lock/backend-for.js';
import { describeHolder, hostId, leaseMs, leaseOver, makeHolder, renewed, renewEveryMs, type Holder } from '../remote-lock/holder.js';
import { pidAlive } from '../state/lock.js';
import { samePidSpace } from '../state/pid-space.js';
import type { LockBackend } from '../remote-lock/types.js';
import type { ResolvedPair } from '../types.js';
import { VERSION } from '../version.js';
import type { Emit } from './events.js';
import type { Body } from './outcome.js';

export interface HeldRemoteLock {
  readonly where: string;
  /** Stop renewing and remove the lock if it is still ours. Never throws: a lock left behind expires. */
  release(): Promise<void>;
}

export type RemoteLockResult =
  | { readonly held: HeldRemoteLock }
  | { readonly none: true }
  | { readonly locked: string }
  | { readonly failed: string; readonly attempts: number };

interface Options {
  readonly command: string;
  readonly waitMs: number;
  readonly emit: Emit;
  readonly redact: Redactor;
  readonly signal: AbortSignal;
  /** Lock requests made (one S3 request or one ssh/sh process each), for measurements. */
  readonly count?: { n: number };
  /** Called once when another run took the lock over while this one held it. */
  readonly onLost?: () => void;
  /** A pull: a missing remote folder is not made for the lock. */
  readonly pull?: boolean;
  /** A shard's run (`--shard K/N`): the shards of one run go at once, so none takes the pair's remote lock. */
  readonly shard?: boolean;
}

/**
 * Runs `fn` under the pair's remote lock and releases it after, whatever happens. A lock taken over
 * by another run meanwhile aborts `fn`'s signal and makes its result a failure: two writers must not mix.
 */
export async function underRemoteLock(pair: ResolvedPair, o: Options, fn: (signal: AbortSignal) => Promise<Body>): Promise<Body> {
  const lost = new AbortController();
  const got = await takeRemoteLock(pair, { ...o, onLost: () => lost.abort() });
  if ('locked' in got) return { status: 'locked', error: got.locked };
  if ('failed' in got) return { status: 'failed', error: got.failed, attempts: got.attempts };
  if ('none' in got) return fn(o.signal);
  try {
    const b = await fn(AbortSignal.any([o.signal, lost.signal]));
    if (!lost.signal.aborted || o.signal.aborted) return b;
    return { ...b, status: 'failed', error: `stopped: another run took over the lock at ${got.held.where}${b.error && b.error !== 'interrupted' ? ` (${b.error})` : ''}` };
  } finally {
    await got.held.release();
  }
}

export async function takeRemoteLock(pair: ResolvedPair, o: Options): Promise<RemoteLockResult> {
  if (!pair.remoteLock) return { none: true };
  if (o.shard) {
    if (pair.remoteLock === 'asked') o.emit({ kind: 'warning', pair: pair.name, message: 'remote_lock: a shard takes no lock at the remote (the shards of one run go at once); do not run the whole pair while its shards run' });
    return { none: true };
  }
  const b = backendFor(pair, { redact: o.redact, requestTimeoutMs: lockRequestMs(pair), pull: Boolean(o.pull), ...(o.count ? { count: o.count } : {}) });
  if ('fallback' in b) {
    // Said on every run only where the manifest asked for it; validate says it for the default too.
    if (pair.remoteLock === 'asked') o.emit({ kind: 'warning', pair: pair.name, message: `remote_lock: ${b.fallback}` });
    return { none: true };
  }
  let lease: number;
  try {
    lease = leaseMs();
  } catch (error) {
    return { failed: (error as Error).message, attempts: 0 };
  }
  const deadline = Date.now() + o.waitMs;
  // One holder (one token) for every attempt: a create that landed though its answer was lost is then
  // found as this run's own on the next attempt, not as another run's lock until its lease runs out.
  const me = makeHolder({ command: o.command, version: VERSION, now: new Date(), lease });
  // A remote that cannot be reached is a transient failure like any other: the pair's retries and backoff.
  for (let attempt = 1; ; attempt++) {
    try {
      return await acquire(b, pair, o, lease, deadline, me);
    } catch (error) {
      if (error instanceof NothingToLockError) {
        o.emit({ kind: 'warning', pair: pair.name, message: `no lock at ${b.where}: ${error.message}` });
        return { none: true };
      }
      if (error instanceof FatalLockError) return { failed: o.redact(error.message), attempts: attempt };
      const reason = o.redact((error as Error).message);
      if (attempt > pair.retries || o.signal.aborted) return { failed: `could not take the lock at ${b.where} (${reason}); nothing was run`, attempts: attempt };
      const delayMs = backoffDelay(attempt, pair.retryDelayMs);
      o.emit({ kind: 'pair_retry', pair: pair.name, attempt, delayMs, reason: `the lock at ${b.where}: ${reason}` });
      await sleep(delayMs, o.signal);
    }
  }
}

/** Exported for its test with an in-memory backend (remote-lock.test.ts). */
export async function acquire(b: LockBackend, pair: ResolvedPair, o: Options, lease: number, deadline: number, first = makeHolder({ command: o.command, version: VERSION, now: new Date(), lease })): Promise<RemoteLockResult> {
  let me = first;
  // A create that fails with no lock there, again and again, is not a race: the remote cannot be
  // written (a read-only mount, no permission). A pull reads it without a lock (no labsync run can
  // write there either); a push cannot go on. A review saw this loop spawn sh/ssh forever.
  let vanished = 0;
  for (;;) {
    me = renewed(me, new Date(), lease);
    // The lease runs from when it was sent, not from its answer (review 40: an answer 400 ms late had
    // the watch below give up 250 ms after the lease written had ended).
    const sentAt = performance.now();
    const got = await b.acquire(me);
    if (got !== 'exists') return { held: holding(b, me, got.ok, lease, pair, o, sentAt) };
    const found = await b.read();
    if (!found && ++vanished >= 3) {
      if (o.pull) throw new NothingToLockError('the lock could not be created there and none is held (a read-only remote?); this pull reads without it');
      throw new FatalLockError(`could not create the lock at ${b.where}, and none is held there: is the remote read-only, or not writable by this user? Nothing was run`);
    }
    if (found) vanished = 0;
    // This run's own holder: an earlier attempt's create landed, its answer lost (a slow endpoint).
    if (found?.holder?.token === me.token) return { held: holding(b, found.holder, found.tag, lease, pair, o, writtenAt(found.holder, lease)) };
    // A holder on this machine whose process is gone (killed, crashed) is stale now, as the local lock
    // judges it; another machine's holder only once its lease ran out.
    const deadHere = found?.holder ? found.holder.host === hostId() && samePidSpace(found.holder.pidNs) && !pidAlive(found.holder.pid) : false;
    if (found?.holder && (deadHere || leaseOver({ holder: found.holder, ...(found.age !== undefined ? { age: found.age } : {}) }, new Date()))) {
      me = renewed(me, new Date(), lease);
      const takenAt = performance.now();
      const taken = await b.takeOver(me, found);
      if (taken !== 'changed') {
        const why = deadHere ? `its process on this host is no longer running (${describeHolder(found.holder, new Date())})` : describeHolder(found.holder, new Date());
        o.emit({ kind: 'warning', pair: pair.name, message: `took over the lock at ${b.where}: ${why}` });
        return { held: holding(b, me, taken.ok, lease, pair, o, takenAt) };
      }
      continue;
    }
    if (found && (Date.now() >= deadline || o.signal.aborted)) {
      return { locked: found.holder ? `${describeHolder(found.holder, new Date())}, at ${b.where}` : `an unreadable lock at ${b.where}; \`labsync unlock ${pair.name}\` shows and removes it` };
    }
    // Gone since the create failed: try again at once; held: poll, never past the wait.
    if (found) await sleep(Math.max(10, Math.min(1000, deadline - Date.now())));
  }
}

/** When (performance.now()) a holder of this run found at the remote was written: its lease's end, less a lease, on this clock. */
function writtenAt(holder: Holder, lease: number): number {
  const ago = Date.now() - (Date.parse(holder.leaseUntil) - lease);
  return performance.now() - Math.max(0, Number.isFinite(ago) ? ago : lease);
}

function holding(b: LockBackend, first: Holder, firstTag: string, lease: number, pair: ResolvedPair, o: Options, leaseFrom: number): HeldRemoteLock {
  let me = first;
  let tag = firstTag;
  let lost = false;
  let inFlight: Promise<void> = Promise.resolve();
  // When the last lease that got through was sent (monotonic): it ends a lease after.
  let heldFrom = leaseFrom;
  // Set first thing by release(): no renewal starts after it (one racing the release had left a fresh
  // lease behind, or "lost" it after the pair ended, review 46).
  let closed = false;
  /** `again`: the one renewal a read-back makes from an older lease it adopted, in the same chain. */
  const renew = async (again = false): Promise<void> => {
    if (closed || lost) return;
    const sentAt = performance.now();
    try {
      const next = renewed(me, new Date(), lease);
      const r = await b.renew(next, tag);
      if (r === 'lost') {
        // Still this run's (a renewal that landed while its answer was lost left `tag` behind): go on from
        // the lease found, which may be an earlier renewal's (its end, not this send, says how long it holds).
        const now = await b.read().catch(() => undefined);
        if (now?.holder?.token !== me.token) return giveUp('another run took it over (this run\'s lease had run out, or `labsync unlock` removed it)');
        me = now.holder;
        tag = now.tag;
        heldFrom = Math.min(sentAt, writtenAt(now.holder, lease));
        // The lease found may be an earlier renewal's: renewed once more now from its tag (not an interval
        // later), within this chain so a release waits for it; never a second time from here.
        if (!again && performance.now() - heldFrom >= renewEveryMs(lease) / 2) return renew(true);
        return;
      }
      me = next;
      tag = r.ok;
      heldFrom = sentAt;
    } catch (error) {
      // Not fatal yet: the watch below gives the lock up before its lease could run out.
      if (!lost) o.emit({ kind: 'warning', pair: pair.name, message: `could not renew the lock at ${b.where} (${o.redact((error as Error).message)}); trying again` });
    }
  };
  const giveUp = (why: string): void => {
    if (lost) return;
    lost = true;
    clearInterval(timer);
    clearInterval(watch);
    o.emit({ kind: 'warning', pair: pair.name, message: `lost the lock at ${b.where}: ${why}; stopping` });
    o.onLost?.();
  };
  const renewNow = (): void => {
    inFlight = inFlight.then(() => renew());
  };
  const timer = setInterval(renewNow, renewEveryMs(lease));
  timer.unref();
  // A lease written a while ago (this run's own create found after its answer was lost, review 45):
  // renewed now, not a whole interval after it was found, by when the watch below may have given it up.
  if (performance.now() - heldFrom >= renewEveryMs(lease) / 2) renewNow();
  // Whatever a renewal in flight is doing (each may wait out its own bound): no renewal got through
  // for most of the lease, so this run stops before another machine may take the lock over.
  const margin = renewEveryMs(lease) / 2;
  const watch = setInterval(() => {
    if (performance.now() - heldFrom >= lease - margin) giveUp('no renewal got through for most of its lease; another run may hold it soon');
  }, Math.max(50, margin / 4));
  watch.unref();
  return {
    where: b.where,
    async release() {
      closed = true;
      clearInterval(timer);
      clearInterval(watch);
      await inFlight;
      try {
        // Also after giving it up: a renewal that landed late left a fresh lease, which would hold other
        // runs out for a lease more (review 40). Conditional on this run's tag: another's is left alone.
        let r = await b.release(tag);
        // A renewal that landed with its answer lost left a newer tag of this run's (review 47): found
        // by its token, released by that tag; another run's is left alone.
        if (r === 'changed') {
          const now = await b.read().catch(() => undefined);
          if (now?.holder?.token === me.token) r = await b.release(now.tag);
        }
        if (r === 'changed' && !lost) o.emit({ kind: 'warning', pair: pair.name, message: `left the lock at ${b.where} alone: it is no longer this run's` });
      } catch (error) {
        o.emit({ kind: 'warning', pair: pair.name, message: `could not remove the lock at ${b.where} (${o.redact((error as Error).message)}); it expires at ${me.leaseUntil}` });
      }
    },
  };
}
