// One lock file per pair (SPEC §4). Created with link(2), which is atomic and never half-written.
// Its few small-file calls are synchronous (microseconds each): as promises, each was a round trip
// through the thread pool and the event loop, a few ms of every run's wall clock before its first
// listing and after its last, more under load.
import { randomBytes } from 'node:crypto';
import { linkSync, readdirSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeFolderSync } from './own-folder.js';
import { sleep } from '../exec/retry.js';
import { hostId } from '../remote-lock/holder.js';
import { PID_NS, samePidSpace } from './pid-space.js';

export interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly bootId: string;
  readonly startedAt: string;
  readonly command: string;
  /**
   * When the holding process started (/proc/PID/stat, clock ticks since boot): a PID alive with another
   * start is another process that got the number (a container's labsync, PID 1 again after a kill -9).
   */
  readonly pidStart?: number;
  /** The PID namespace the PID belongs to (pid-space.ts): another one's PID cannot be judged here. */
  readonly pidNs?: string;
  /** The holder touches the file every `beatMs` while it runs; untouched for `silentMs`, it is a dead holder's (judged from another host or container). */
  readonly beatMs?: number;
  readonly silentMs?: number;
}

/**
 * A pair's lock: touched every 30 s, a dead holder's after 10 minutes untouched (a killed Kubernetes pod
 * or Slurm node: its PID cannot be looked at from here, and every later run had exited 75 until someone
 * ran unlock, review 42). Generous: the holder's clock may differ from this one's, its event loop may be
 * busy for a while.
 */
export const PAIR_BEAT = { beatMs: 30_000, silentMs: 10 * 60_000 } as const;

export interface HeldLock {
  readonly path: string;
  /** Set when a dead owner's lock was taken over: say so. */
  readonly tookOverFrom?: LockInfo;
  release(): Promise<void>;
}

export type LockResult = { readonly lock: HeldLock } | { readonly heldBy: LockInfo };

function readBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}
const BOOT_ID = readBootId();

/** Alive and not a zombie (PID 1 here may not reap orphans). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return fields[0] !== 'Z';
  } catch {
    return true;
  }
}

/** A process's start time in clock ticks since boot (field 22 of /proc/PID/stat); undefined where there is no /proc. */
export function pidStartOf(pid: number): number | undefined {
  try {
    const n = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[19]);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Only a lock from this host and PID namespace can be judged: the same boot with a dead PID (or one
 * another process now has), or an earlier boot. A PID of another PID namespace on this kernel (a
 * neighbour container, or this one before a restart under the same hostname) means nothing here: such a
 * lock is taken over only when its holder promised a heartbeat (`beatMs`) and its file has gone untouched
 * for the `silentMs` it named (an age rule without a heartbeat had taken live holders that hashed for minutes).
 * `labsync unlock NAME` asks and removes it sooner.
 */
export function isStale(info: LockInfo, mtimeMs?: number): boolean {
  if (elsewhere(info)) return info.silentMs !== undefined && mtimeMs !== undefined && Date.now() - mtimeMs > info.silentMs;
  if (info.bootId && BOOT_ID && info.bootId !== BOOT_ID) return true;
  if (!pidAlive(info.pid)) return true;
  const now = info.pidStart === undefined ? undefined : pidStartOf(info.pid);
  return now !== undefined && now !== info.pidStart;
}

/** A lock taken on another host, or in another PID namespace here: its PID cannot be looked at from this process. */
export const elsewhere = (info: Pick<LockInfo, 'host' | 'pidNs'>): boolean => info.host !== hostId() || !samePidSpace(info.pidNs);

export const readLockInfo = (path: string): LockInfo | undefined => readInfo(path);

function readInfo(path: string): LockInfo | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

const unlinkQuietly = (path: string): void => {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
};

const mtimeOf = (path: string): number | undefined => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
};

function tryCreate(path: string, info: LockInfo): boolean {
  // The PID alone is not unique across PID namespaces sharing the folder (two containers' PID 1).
  const tmp = `${path}.${info.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify(info));
  try {
    linkSync(tmp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkQuietly(tmp);
  }
}

/**
 * Removes a stale lock under a second lock, so two runs cannot both take it over. `retry`: look again
 * now (a killed run's old guard was cleared, or the lock changed meanwhile); `busy`: another run is
 * taking it over right now.
 */
function removeStale(path: string, stale: LockInfo, me: LockInfo): 'taken' | 'retry' | 'busy' {
  const guard = `${path}.takeover`;
  if (!tryCreate(guard, me)) {
    const m = mtimeOf(guard);
    if (m !== undefined && Date.now() - m > 30_000) {
      unlinkQuietly(guard);
      return 'retry';
    }
    return 'busy';
  }
  try {
    const now = readInfo(path);
    if (!now || now.pid !== stale.pid || now.startedAt !== stale.startedAt) return 'retry';
    unlinkSync(path);
    return 'taken';
  } finally {
    unlinkQuietly(guard);
  }
}

/** The lock files this process holds, with what it wrote in them: removed at once on a second Ctrl-C. */
const heldHere = new Map<string, LockInfo>();

/** Removes every lock this process holds that is still its own (a second signal's exit: no release runs after it). */
export function releaseAllLocksSync(): void {
  for (const [path, me] of heldHere) {
    const current = readInfo(path);
    if (current?.pid === me.pid && current.startedAt === me.startedAt) unlinkQuietly(path);
  }
  heldHere.clear();
}

/** Touches `path` every `beatMs` while held (the file's mtime is the heartbeat); the timer never keeps the process alive. */
function beat(path: string, beatMs: number): NodeJS.Timeout {
  const t = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // Gone (released, or taken by unlock): nothing to keep alive.
    }
  }, beatMs);
  t.unref();
  return t;
}

export async function acquireLock(dir: string, name: string, options: { waitMs?: number; command: string; beat?: { readonly beatMs: number; readonly silentMs: number } }): Promise<LockResult> {
  makeFolderSync(dir);
  const path = join(dir, `${name}.lock`);
  const start = pidStartOf(process.pid);
  const { beatMs, silentMs } = options.beat ?? PAIR_BEAT;
  const me: LockInfo = { pid: process.pid, host: hostId(), bootId: BOOT_ID, startedAt: new Date().toISOString(), command: options.command, ...(start !== undefined ? { pidStart: start } : {}), ...(PID_NS ? { pidNs: PID_NS } : {}), beatMs, silentMs };
  const deadline = Date.now() + (options.waitMs ?? 0);
  let tookOverFrom: LockInfo | undefined;
  for (;;) {
    if (tryCreate(path, me)) {
      heldHere.set(path, me);
      const beating = beat(path, beatMs);
      return {
        lock: {
          path,
          ...(tookOverFrom ? { tookOverFrom } : {}),
          release: async () => {
            clearInterval(beating);
            heldHere.delete(path);
            const current = readInfo(path);
            if (current?.pid === me.pid && current.startedAt === me.startedAt) unlinkQuietly(path);
          },
        },
      };
    }
    const holder = readInfo(path);
    if (!holder) {
      // Unreadable: link(2) only ever publishes a complete file, so this is damage (a full disk, a hand
      // edit). Take it away once it is old enough that no writer can be mid-flight.
      const m = mtimeOf(path);
      if (m !== undefined && Date.now() - m > 10_000) unlinkQuietly(path);
    } else if (isStale(holder, mtimeOf(path))) {
      const took = removeStale(path, holder, me);
      if (took === 'taken') tookOverFrom = holder;
      // Looked at again at once: a killed run's old guard cleared is no holder (review 47: the run had
      // exited 75 naming the dead process).
      if (took !== 'busy') continue;
      // Another run is taking it over, or a killed one left its guard: wait (never spin, review 42), within
      // the caller's wait (review 46: a `--wait 0` run had waited out a killed run's guard, 30 s).
      if (Date.now() >= deadline) return { heldBy: holder };
      await sleep(250);
      continue;
    } else if (Date.now() >= deadline) {
      return { heldBy: holder };
    }
    await sleep(Math.min(250, Math.max(10, deadline - Date.now())));
  }
}

/**
 * `labsync unlock`: the pair's local lock, removed when its owner is gone; what it held, whether it was
 * removed, and whether its owner can be judged here (`elsewhere`: another host's, on a shared folder).
 */
export async function removeIfStale(dir: string, name: string): Promise<{ info: LockInfo; removed: boolean; elsewhere: boolean } | undefined> {
  const path = join(dir, `${name}.lock`);
  const info = readInfo(path);
  if (!info) return undefined;
  if (!isStale(info, mtimeOf(path))) return { info, removed: false, elsewhere: elsewhere(info) };
  unlinkQuietly(path);
  return { info, removed: true, elsewhere: elsewhere(info) };
}

/** Removes the pair's local lock if it is still `info`'s (unlock, asked to, for another host's lock). */
export function removeLockOf(dir: string, name: string, info: LockInfo): boolean {
  const path = join(dir, `${name}.lock`);
  const now = readInfo(path);
  if (!now || now.pid !== info.pid || now.startedAt !== info.startedAt || now.host !== info.host) return false;
  unlinkQuietly(path);
  return true;
}

/** The lock of a live run of pair `name` (its own, or one of its shards'; `only`: just these lock names), if one holds now. */
export function liveRunOf(dir: string, name: string, only?: readonly string[]): LockInfo | undefined {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return undefined;
  }
  const shard = /^shard-\d+-of-\d+\.lock$/;
  for (const f of files) {
    if (only ? !only.some((n) => f === `${n}.lock`) : f !== `${name}.lock` && !(f.startsWith(`${name}.`) && shard.test(f.slice(name.length + 1)))) continue;
    const info = readInfo(join(dir, f));
    if (info && !isStale(info, mtimeOf(join(dir, f)))) return info;
  }
  return undefined;
}

/** liveRunOf, waited for up to `waitMs` (`--wait`): undefined once no run of the pair holds a lock. */
export async function awaitNoRun(dir: string, name: string, waitMs: number, signal?: AbortSignal, only?: readonly string[]): Promise<LockInfo | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const holder = liveRunOf(dir, name, only);
    // Ctrl-C ends the wait: the holder is then what is said.
    if (!holder || Date.now() >= deadline || signal?.aborted) return holder;
    await sleep(Math.min(250, Math.max(10, deadline - Date.now())), signal).catch(() => undefined);
  }
}
