// Pure: the record a remote lock holds, its lease arithmetic, and how a holder is named to a user.
import { hostname, userInfo } from 'node:os';
import { PID_NS } from '../state/pid-space.js';
import { randomBytes } from 'node:crypto';

/** The file name (S3: the object, local/ssh: the folder) beside a pair's data; excluded from every transfer and listing. */
export const REMOTE_LOCK_NAME = '.labsync-lock';

export interface Holder {
  readonly host: string;
  readonly user: string;
  readonly pid: number;
  /** The PID's namespace (state/pid-space.ts): a holder "on this host" in another container is judged by its lease only. */
  readonly pidNs?: string;
  readonly version: string;
  readonly command: string;
  readonly startedAt: string;
  readonly leaseUntil: string;
  /** Random per acquisition: what "still ours" is judged by (a pid and a host can repeat). */
  readonly token: string;
  /** The lease's length: judged against the store's own clock (Found.age), so no two machines' clocks are compared. */
  readonly leaseMs?: number;
}

/** Default lease: long enough to ride out a slow renewal, short enough that a dead holder frees the pair soon. */
export const DEFAULT_LEASE_MS = 120_000;

/** This machine's name in locks; LABSYNC_HOST_ID lets one box present itself as two (tests, containers sharing a hostname). */
export function hostId(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.LABSYNC_HOST_ID?.trim() || hostname();
}

/** The lease from LABSYNC_LOCK_LEASE (seconds), else the default; at least 1 s. */
export function leaseMs(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const text = env.LABSYNC_LOCK_LEASE;
  if (text === undefined || text === '') return DEFAULT_LEASE_MS;
  const s = Number(text);
  if (!Number.isFinite(s) || s < 1) throw new Error(`LABSYNC_LOCK_LEASE must be a number of seconds, at least 1, got '${text}'`);
  return Math.round(s * 1000);
}

/** Renewed three times a lease: two renewals can fail (a slow server) before the lease runs out. */
export const renewEveryMs = (lease: number): number => Math.max(250, Math.floor(lease / 3));

export function makeHolder(o: { command: string; version: string; now: Date; lease: number; env?: Readonly<Record<string, string | undefined>> }): Holder {
  let user = o.env?.USER ?? process.env.USER ?? '';
  try {
    user ||= userInfo().username;
  } catch {
    // No passwd entry (a container's uid): the name stays empty.
  }
  return {
    host: hostId(o.env), user, pid: process.pid, ...(PID_NS ? { pidNs: PID_NS } : {}), version: o.version, command: o.command,
    startedAt: o.now.toISOString(), leaseUntil: new Date(o.now.getTime() + o.lease).toISOString(), token: randomBytes(12).toString('hex'), leaseMs: o.lease,
  };
}

/** The same holder with its lease pushed out from `now`. */
export const renewed = (h: Holder, now: Date, lease: number): Holder => ({ ...h, leaseUntil: new Date(now.getTime() + lease).toISOString() });

/** A lease is over once its end has passed; an unreadable end counts as over (nothing can renew it). */
export function expired(h: Pick<Holder, 'leaseUntil'>, now: Date): boolean {
  const until = Date.parse(h.leaseUntil);
  return Number.isNaN(until) || until <= now.getTime();
}

/**
 * Whether a lock found at the remote has outlived its lease: by leaseUntil (the holder's clock against
 * this machine's) and, where the store says how long ago the holder was written (`age`, whole seconds:
 * one second of margin) and the holder its lease's length, by that too. A reader whose clock runs
 * minutes ahead (no NTP) no longer takes over a live lock; a dead holder's is taken once both agree.
 */
export function leaseOver(found: { readonly holder: Pick<Holder, 'leaseUntil' | 'leaseMs'>; readonly age?: number }, now: Date): boolean {
  // Both must agree where both can tell: the age's clock may be a file server's that runs behind (an NFS
  // mount stamps mtimes by its own clock), leaseUntil's the holder's against this machine's.
  if (found.age !== undefined && found.holder.leaseMs !== undefined) return found.age > found.holder.leaseMs + 1000 && expired(found.holder, now);
  return expired(found.holder, now);
}

/** A holder read from the remote, or undefined for anything that is not one (a damaged or foreign file). */
export function parseHolder(text: string): Holder | undefined {
  try {
    const v = JSON.parse(text) as Partial<Holder>;
    if (typeof v.host !== 'string' || typeof v.pid !== 'number' || typeof v.startedAt !== 'string' || typeof v.leaseUntil !== 'string' || typeof v.token !== 'string') return undefined;
    return { host: v.host, user: String(v.user ?? ''), pid: v.pid, ...(typeof v.pidNs === 'string' ? { pidNs: v.pidNs } : {}), version: String(v.version ?? ''), command: String(v.command ?? ''), startedAt: v.startedAt, leaseUntil: v.leaseUntil, token: v.token, ...(typeof v.leaseMs === 'number' && v.leaseMs > 0 ? { leaseMs: v.leaseMs } : {}) };
  } catch {
    return undefined;
  }
}

/** "10:02" on the same day as `now`, else "2026-12-04 10:02" (local time, as the user reads a clock). */
export function clockTime(iso: string, now: Date): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number): string => String(n).padStart(2, '0');
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return sameDay ? hm : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
}

/** "locked by gpu-2 (pid 4711) since 10:02, lease until 10:06" — or "lease ran out at …" for a stale one. */
export function describeHolder(h: Holder, now: Date): string {
  const lease = expired(h, now) ? `lease ran out at ${clockTime(h.leaseUntil, now)}` : `lease until ${clockTime(h.leaseUntil, now)}`;
  const more = [h.user && `user ${h.user}`, h.command && `labsync ${h.command}`].filter(Boolean).join(', ');
  return `locked by ${h.host} (pid ${h.pid}) since ${clockTime(h.startedAt, now)}, ${lease}${more ? ` (${more})` : ''}`;
}
